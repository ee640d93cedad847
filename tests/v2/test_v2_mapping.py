"""``own_trades`` / ``open_orders``: v2 executions in the v1 shapes ``FillLog`` and
``OrderTable`` keep, with exact times; status from ``exec_type`` alone."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import FillLog, OrderTable
from kraken_proto.v1 import OrderRecord, Trade
from kraken_proto.v2 import (
    Execution,
    Executions,
    Fee,
    decode,
    open_orders,
    own_trades,
    rfc3339_to_unix,
)
from kraken_proto.v2._translation import _compile

from tests.v2.fixtures_v2 import INBOUND

D = Decimal
DOC_UPDATES = [e for e in (decode(frame) for frame, _, _ in INBOUND) if isinstance(e, Executions)]


def test_the_doc_sequence_through_fill_log_and_order_table() -> None:
    pending, new, trade, _canceled = DOC_UPDATES
    assert isinstance(trade, Executions)
    ((exec_id, fill),) = own_trades(trade).trades
    assert exec_id == "TGBB7L-HT5LX-J3BZ4A"
    assert fill.time == D("1695378785.709993")  # 2023-09-22T10:33:05.709993Z
    assert fill.vol == D("0.005")
    assert fill.price == D("26599.9")
    assert fill.fee == D("0.3458")
    assert fill.ordertxid == "OK4GJX-KSTLS-7DZZO5"
    assert own_trades(trade).sequence == 10
    log = FillLog()
    assert len(log.apply(own_trades(trade))) == 1
    assert log.apply(own_trades(trade)) == ()
    table = OrderTable()
    table.apply(open_orders(Executions(type="snapshot", sequence=1)), snapshot=True)
    for event in (pending, new, trade):
        assert isinstance(event, Executions)
        table.apply(open_orders(event), snapshot=False)
    order = table.get("OK4GJX-KSTLS-7DZZO5")
    assert order is not None
    # the trade said partially_filled, but only exec_type moves the status: still open
    assert order.status == "open"
    assert order.vol == D("0.005")
    assert order.vol_exec == D("0.005")
    assert order.descr is not None
    assert order.descr.price == D("26500.0")
    assert order.descr.pair == "BTC/USD"
    filled = Executions(
        type="update",
        sequence=11,
        data=(
            Execution(exec_type="filled", order_id="OK4GJX-KSTLS-7DZZO5", order_status="filled"),
        ),
    )
    changes = table.apply(open_orders(filled), snapshot=False)
    assert [o.txid for o in changes.finished] == ["OK4GJX-KSTLS-7DZZO5"]


def test_snapshots_statuses_reasons_and_fees() -> None:
    snapshot = Executions(
        type="snapshot",
        sequence=1,
        data=(
            Execution(exec_type="new", order_id="O1", order_status="partially_filled"),
            Execution(exec_type="pending_new", order_id="O2", order_status="pending_new"),
            Execution(exec_type="new", order_id="O3"),
            Execution(exec_type="trade", order_id="O9", exec_id="T9"),
            Execution(exec_type="new"),  # no order id: skipped
        ),
    )
    mapped = open_orders(snapshot)
    assert [(i, r.status) for i, r in mapped.orders] == [
        ("O1", "open"),
        ("O2", "pending"),
        ("O3", "open"),
    ]
    assert mapped.orders[0][1].descr is None
    assert [i for i, _ in own_trades(snapshot).trades] == ["T9"]
    update = Executions(
        type="update",
        data=(
            Execution(exec_type="canceled", order_id="O1", cancel_reason="User requested"),
            Execution(exec_type="canceled", order_id="O2", reason="Post only", cancel_reason="x"),
            Execution(exec_type="amended", order_id="O3", order_qty=D(2), amended=True),
            Execution(exec_type="brand_new", order_id="O4"),
            Execution(exec_type="expired", order_id="O5", effective_time="bad"),
        ),
    )
    records = dict(open_orders(update).orders)
    assert records["O1"].cancel_reason == "User requested"
    assert records["O2"].cancel_reason == "Post only"
    assert records["O3"].status is None
    assert records["O3"].vol == D(2)
    assert records["O4"].status is None
    assert records["O5"].status == "expired"
    assert records["O5"].starttm is None
    fees = [
        ((Fee(asset="USD", qty=D("0.1")), Fee(asset="USD", qty=D("0.2"))), D("0.3")),
        ((Fee(asset="USD", qty=D("0.1")), Fee(asset="BTC", qty=D("0.2"))), None),
        ((Fee(asset="USD"),), None),
        ((), None),
        (None, None),
    ]
    for given_fees, expected in fees:
        trade = Execution(exec_type="trade", exec_id="T", fees=given_fees)
        ((_, fill),) = own_trades(Executions(type="update", data=(trade,))).trades
        assert fill.fee == expected
    no_id = Execution(exec_type="trade")
    assert own_trades(Executions(type="update", data=(no_id,))).trades == ()


@given(
    st.datetimes(
        min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31, 23, 59)
    ),
    st.from_regex(r"[0-9]{0,9}", fullmatch=True),
    st.integers(-23 * 60 - 59, 23 * 60 + 59),
)
def test_rfc3339_to_unix_is_exact(moment: datetime.datetime, digits: str, offset: int) -> None:
    base = moment.replace(microsecond=0)
    zone = datetime.timezone(datetime.timedelta(minutes=offset))
    aware = base.replace(tzinfo=zone)
    text = (
        f"{base.year:04d}-{base.month:02d}-{base.day:02d}"
        f"T{base.hour:02d}:{base.minute:02d}:{base.second:02d}"
    )
    fraction = f".{digits}" if digits else ""
    sign = "+" if offset >= 0 else "-"
    zone_text = "Z" if offset == 0 else f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    expected = Decimal(int(aware.timestamp()))
    if digits:
        expected += Decimal(fraction)
    result = rfc3339_to_unix(text + fraction + zone_text)
    assert result == expected
    if digits:
        assert result is not None
        assert result.as_tuple().exponent == -len(digits)


def test_rfc3339_to_unix_refuses_what_is_not_a_date_time() -> None:
    for text in (
        None,
        "",
        "2023-09-22",
        "2023-13-01T00:00:00Z",
        "2023-00-01T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2023-04-31T00:00:00Z",
        "2023-01-01T24:00:00Z",
        "2023-01-01T00:60:00Z",
        "2023-01-01T00:00:60Z",
        "2023-01-01T00:00:00",
        "2023-01-00T00:00:00Z",
    ):
        assert rfc3339_to_unix(text) is None, text
    assert rfc3339_to_unix("2024-02-29T00:00:00Z") == D(1709164800)
    assert rfc3339_to_unix("2000-02-29T00:00:00Z") == D(951782400)
    assert rfc3339_to_unix("1900-02-28T00:00:00Z") == D(-2203977600)
    assert rfc3339_to_unix("1900-02-29T00:00:00Z") is None


def test_a_field_table_naming_a_missing_field_fails_when_compiled() -> None:
    with pytest.raises(ValueError, match="no field 'no_such' -> 'pair'"):
        _compile("_bad", Trade, (("no_such", "pair", None),))
    with pytest.raises(ValueError, match="no field 'symbol' -> 'no_such'"):
        _compile("_bad", Trade, (("symbol", "no_such", None),))
    with pytest.raises(ValueError, match="Trade lacks one of"):
        _compile("_bad", Trade, (("symbol", "pair", None),), ("no_such",))


def test_a_compiled_table_reads_renames_converts_and_takes_computed_fields() -> None:
    rows = (("symbol", "pair", None), ("timestamp", "time", rfc3339_to_unix))
    build = _compile("_build", Trade, rows, ("vol",), optional=True)
    record = Execution(symbol="BTC/USD", timestamp="1970-01-01T00:00:01.5Z")
    assert build(record, D(2)) == Trade(pair="BTC/USD", time=D("1.5"), vol=D(2))
    assert build(record, vol=D(2)) == Trade(pair="BTC/USD", time=D("1.5"), vol=D(2))
    assert build(Execution(), D(2)) is None  # optional: no field of the table set
    # A converter never sees an absent field: it stays None.
    assert build(Execution(symbol="X"), None) == Trade(pair="X")


def test_a_compiled_table_builds_a_positional_target_by_position() -> None:
    rows = (("order_qty", "vol", None), ("timestamp", "lastupdated", rfc3339_to_unix))
    build = _compile("_build", OrderRecord, rows, ("status", "refid"))
    record = Execution(order_qty=D("1.5"), timestamp="1970-01-01T00:00:02Z")
    assert build(record, "open", "R") == OrderRecord(
        refid="R", status="open", vol=D("1.5"), lastupdated=D(2)
    )
    assert build(Execution(), None, None) == OrderRecord()
    assert _compile("_nothing", OrderRecord, ())(Execution()) == OrderRecord()
