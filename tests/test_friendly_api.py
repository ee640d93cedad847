"""Readable reprs (exact Decimal digits), listing finished orders, and trades kept by FillLog."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import kraken_proto
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import FillLog, Order, OrderTable, Trade
from kraken_proto._repr import value_repr
from kraken_proto.v1 import OpenOrders, OrderDescr, OrderRecord, OwnTrades

from tests.exponents import has_exponent
from tests.test_fills import frame as trades_frame
from tests.test_fills import trade_id
from tests.test_orders import Model, decoded, frames, full_record, model_is_open, record_from

TXID = "OGTT3Y-C6I3P-XRI6HX"


# --- reprs ------------------------------------------------------------------------------------


def test_reprs_never_show_exponent_notation() -> None:
    event = kraken_proto.decode(
        b'[[{"OGTT3Y-C6I3P-XRI6HX":{"status":"open","vol_exec":"0.00000000",'
        b'"descr":{"price":"0.0"}}}],"openOrders",{"sequence":7}]'
    )
    text = repr(event)
    assert not has_exponent(text)
    assert "vol_exec=Decimal('0.00000000')" in text
    assert "price=Decimal('0.0')" in text
    trade = Trade(vol=Decimal("0E-8"), fee=Decimal("0.000"))
    assert repr(trade) == "Trade(fee=Decimal('0.000'), vol=Decimal('0.00000000'))"
    # The repr is valid Python for the same value.
    assert eval(repr(trade), {"Trade": Trade, "Decimal": Decimal}) == trade


def test_value_repr_walks_containers() -> None:
    assert value_repr((Decimal("0E-8"),)) == "(Decimal('0.00000000'),)"
    assert value_repr((1, 2)) == "(1, 2)"
    assert value_repr([Decimal("1E-2")]) == "[Decimal('0.01')]"
    assert value_repr({"a": Decimal("0E-3")}) == "{'a': Decimal('0.000')}"
    assert value_repr("x") == "'x'"
    unknown = kraken_proto.decode(b'{"event":"brandNew","value":[1,2]}')
    assert repr(unknown) == "UnknownMessage(data={'event': 'brandNew', 'value': [1, 2]})"


def open_table() -> OrderTable:
    table = OrderTable(max_finished=2)
    table.apply(
        decoded(
            [
                (TXID, full_record("open", vol_exec="0.00000000")),
                ("OB", full_record("open", vol_exec="1.50000000")),
            ],
            1,
        )
    )
    return table


def test_order_repr_and_describe() -> None:
    table = open_table()
    order = table.get(TXID)
    assert order is not None
    assert repr(order).startswith(f"Order(txid={TXID!r}, ")
    assert "Decimal('0.00000000')" in repr(order)
    assert not has_exponent(repr(order))
    assert order.describe() == f"{TXID} open buy limit 5.00000000 ATOM/USD @ 9.250000"
    partly = table.get("OB")
    assert partly is not None
    assert partly.describe().endswith("@ 9.250000 (executed 1.50000000)")
    stub = Order(txid="OS", is_stub=True)
    assert stub.describe() == "OS ? ? ? ? ?"
    market = Order(
        txid="OM",
        status="closed",
        vol=Decimal("0.25"),
        descr=OrderDescr(type="sell", ordertype="market", pair="XBT/USD", price=Decimal(0)),
    )
    assert market.describe() == "OM closed sell market 0.25 XBT/USD"
    gone = Order(txid="OV", status="open", vanished=True)
    assert "vanished: final state unknown" in gone.describe()


def test_order_table_repr_lists_open_orders() -> None:
    assert repr(OrderTable()) == "OrderTable(0 open, 0 finished, max_finished=10000)"
    table = open_table()
    text = repr(table)
    assert text.startswith("OrderTable(2 open, 0 finished, max_finished=2; open: ")
    assert f"{TXID} open buy limit 5.00000000 ATOM/USD @ 9.250000" in text
    many = OrderTable()
    many.apply(decoded([(f"O{n}", full_record("open")) for n in range(8)], 1))
    assert repr(many).endswith(", ... 3 more)")


# --- finished orders --------------------------------------------------------------------------


def test_finished_orders_are_listed_and_bounded() -> None:
    table = open_table()
    table.apply(decoded([(TXID, {"status": "canceled"})], 2))
    table.apply(decoded([("OB", {"status": "closed"})], 3))
    assert list(table.finished_orders()) == [TXID, "OB"]
    assert repr(table).endswith(
        f"latest finished: {TXID} canceled buy limit 5.00000000 ATOM/USD @ 9.250000, "
        "OB closed buy limit 5.00000000 ATOM/USD @ 9.250000 (executed 1.50000000))"
    )
    assert table.finished_count == 2
    assert table.open_orders() == {}
    assert list(table.all_orders()) == [TXID, "OB"]
    table.apply(decoded([("OC", full_record("open"))], 4))
    table.apply(decoded([("OC", {"status": "expired"})], 5))
    assert list(table.finished_orders()) == ["OB", "OC"]  # the oldest was forgotten
    table.apply(decoded([("OD", full_record("open"))], 6))
    assert list(table.all_orders()) == ["OB", "OC", "OD"]
    status = {txid: order.status for txid, order in table.all_orders().items()}
    assert status == {"OB": "closed", "OC": "expired", "OD": "open"}


@given(st.lists(frames, max_size=8))
def test_listings_match_the_dict_model(frame_list: list[tuple[bool, list[Any]]]) -> None:
    table = OrderTable()
    model = Model()
    for snapshot, entries in frame_list:
        event = OpenOrders(orders=tuple((txid, record_from(sent)) for txid, sent in entries))
        table.apply(event, snapshot=snapshot)
        model.apply(entries, snapshot=snapshot)
        finished = {txid for txid, order in model.orders.items() if not model_is_open(order)}
        assert set(table.finished_orders()) == finished
        assert table.finished_count == len(finished)
        assert set(table.all_orders()) == set(model.orders)
        for txid, order in table.all_orders().items():
            assert table.get(txid) == order
        assert not has_exponent(repr(table))


# --- trades kept by FillLog -------------------------------------------------------------------


def test_fill_log_keeps_the_latest_trades() -> None:
    log = FillLog(max_trades=3)
    assert log.max_trades == 3
    assert repr(log) == "FillLog(0 trades kept (max_trades=3), 0 ids remembered (window=100000))"
    log.apply(trades_frame([1, 2], 1))
    first = log.get(trade_id(1))
    assert first is not None
    assert first.price == Decimal("26000.10000")
    log.apply(trades_frame([1, 2, 3, 4], 1))  # a re-snapshot: 1 and 2 are not new
    assert list(log.trades()) == [trade_id(n) for n in (2, 3, 4)]
    assert log.get(trade_id(1)) is None  # forgotten (only the ids window remembers it)
    assert log.seen(trade_id(1))
    assert list(log.trades_for("OQCLML-BW3P3-BUCMWZ")) == [trade_id(n) for n in (2, 3, 4)]
    assert log.trades_for("OTHER") == {}
    text = repr(log)
    assert text.startswith("FillLog(3 trades kept (max_trades=3), 4 ids remembered")
    assert f"latest: {trade_id(2)} buy 0.00390000 XBT/EUR @ 26000.10000" in text


def test_fill_log_with_max_trades_zero_keeps_ids_only() -> None:
    log = FillLog(max_trades=0)
    assert len(log.apply(trades_frame([1], 1))) == 1
    assert log.trades() == {}
    assert log.seen(trade_id(1))


def test_fill_log_repr_of_a_bare_trade() -> None:
    log = FillLog()
    log.apply(OwnTrades(trades=(("T1", Trade()),)))
    assert repr(log).endswith("latest: T1 ? ? ? @ ?)")


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_fill_log_refuses_a_bad_max_trades(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_trades must be a non-negative int"):
        FillLog(max_trades=bad)


def test_order_record_repr_is_exact() -> None:
    record = OrderRecord(vol=Decimal("0E-8"))
    assert repr(record) == "OrderRecord(vol=Decimal('0.00000000'))"


def test_has_exponent() -> None:
    assert has_exponent("vol=Decimal('0E-8')")
    assert has_exponent('"vol":"1.5E+3"')
    assert not has_exponent("OABC1E-23456-7890E1 0.00000000")
    assert not has_exponent("TE12AB-CD3E4-5FGH6E")


@given(
    st.lists(st.lists(st.integers(0, 60), max_size=6), max_size=12),
    st.integers(0, 8),
)
def test_fill_log_keeps_exactly_the_latest_reported_trades(
    frames_of_ids: list[list[int]], max_trades: int
) -> None:
    log = FillLog(max_trades=max_trades)
    reported: list[str] = []
    for numbers in frames_of_ids:
        event = OwnTrades(trades=tuple((trade_id(n), Trade(vol=Decimal(n))) for n in numbers))
        reported += [tid for tid, _ in log.apply(event)]
    expected = reported[-max_trades:] if max_trades else []
    assert list(log.trades()) == expected
    for tid in expected:
        kept = log.get(tid)
        assert kept is not None
        assert kept.vol == Decimal(int(tid.replace("-", "")[1:], 16))


def test_error_messages_show_exact_digits_too() -> None:
    from kraken_proto import AddOrder, LocalProtocolError

    with pytest.raises(LocalProtocolError, match=r"got 0\.00000000$"):
        AddOrder(
            ordertype="limit",
            type="buy",
            pair="XBT/USD",
            volume=Decimal("0.00000000"),
            price=Decimal("1"),
        )
