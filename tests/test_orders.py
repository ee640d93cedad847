"""OrderTable: snapshot/delta merging against a dict model, real lifecycles, vanished orders."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import kraken_proto
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import Order, OrderChanges, OrderTable
from kraken_proto._order_merge import (
    _differs,
    _fresh,
    _restates,
    _sent_fields_by_repr,
    _sent_fields_by_scan,
    _sent_items,
    _sent_items_by_scan,
    _uses_fast_path,
)
from kraken_proto._orders import TERMINAL_STATUSES
from kraken_proto.v1 import Contingent, OpenOrders, OrderDescr, OrderRecord

# --- helpers ---------------------------------------------------------------------------------

OID = "OGTT3Y-C6I3P-XRI6HX"


def frame(entries: list[tuple[str, dict[str, Any]]], sequence: int | None) -> str:
    """A real openOrders frame as Kraken would send it."""
    payload: list[Any] = [[{txid: record} for txid, record in entries], "openOrders"]
    if sequence is not None:
        payload.append({"sequence": sequence})
    return json.dumps(payload)


def decoded(entries: list[tuple[str, dict[str, Any]]], sequence: int | None) -> OpenOrders:
    event = kraken_proto.decode(frame(entries, sequence))
    assert isinstance(event, OpenOrders)
    return event


def full_record(status: str = "pending", **overrides: Any) -> dict[str, Any]:
    """A full order record shaped like section 4.2 of the protocol doc (a 2023 capture)."""
    record: dict[str, Any] = {
        "avg_price": "0.000000",
        "cost": "0.000000",
        "descr": {
            "close": None,
            "leverage": None,
            "order": "buy 5.00000000 ATOM/USD @ limit 9.250000",
            "ordertype": "limit",
            "pair": "ATOM/USD",
            "price": "9.250000",
            "price2": "0.000000",
            "type": "buy",
        },
        "expiretm": None,
        "fee": "0.000000",
        "limitprice": "0.000000",
        "misc": "",
        "oflags": "fciq",
        "opentm": "1700220661.985020",
        "refid": None,
        "starttm": None,
        "status": status,
        "stopprice": "0.000000",
        "timeinforce": "GTC",
        "userref": 0,
        "vol": "5.00000000",
        "vol_exec": "0.00000000",
    }
    record.update(overrides)
    return record


def ids(orders: tuple[Order, ...]) -> list[str]:
    return [order.txid for order in orders]


# --- the dict model --------------------------------------------------------------------------

ModelOrder = dict[str, Any]
NESTED = ("descr", "contingent")
MODEL_TERMINAL = {"closed", "canceled", "expired"}  # protocol doc 4.4, independent of the code


def model_is_open(order: ModelOrder) -> bool:
    return not order["vanished"] and order.get("status") not in MODEL_TERMINAL


def model_fresh(sent: dict[str, Any]) -> ModelOrder:
    order = {key: (dict(value) if key in NESTED else value) for key, value in sent.items()}
    order["is_stub"] = "descr" not in sent
    order["vanished"] = False
    return order


def model_merge(old: ModelOrder, sent: dict[str, Any]) -> ModelOrder:
    order = dict(old)
    for key, value in sent.items():
        order[key] = {**old.get(key, {}), **value} if key in NESTED else value
    if "descr" in sent:
        order["is_stub"] = False
    if "status" in sent:
        order["vanished"] = False
    return order


class Model:
    """The order table as plain dicts: every order ever seen (no eviction) plus the changes."""

    def __init__(self) -> None:
        self.orders: dict[str, ModelOrder] = {}

    def apply(self, entries: list[tuple[str, dict[str, Any]]], *, snapshot: bool) -> dict[str, Any]:
        changes: dict[str, list[tuple[str, ModelOrder]]] = {
            "added": [],
            "stubs": [],
            "updated": [],
            "finished": [],
        }
        previously_open = {txid for txid, order in self.orders.items() if model_is_open(order)}
        listed: set[str] = set()
        for txid, sent in entries:
            old = self.orders.get(txid)
            if snapshot and txid not in listed:
                new = model_fresh(sent)
            else:
                new = model_fresh(sent) if old is None else model_merge(old, sent)
            listed.add(txid)
            self.orders[txid] = new
            if old is None:
                changes["stubs" if new["is_stub"] else "added"].append((txid, new))
            elif new != old:
                changes["updated"].append((txid, new))
            old_terminal = old is not None and old.get("status") in MODEL_TERMINAL
            if new.get("status") in MODEL_TERMINAL and not old_terminal:
                changes["finished"].append((txid, new))
        vanished: set[str] = set()
        if snapshot:
            for txid in previously_open - listed:
                self.orders[txid] = {**self.orders[txid], "vanished": True}
                vanished.add(txid)
        return {**changes, "vanished": vanished}


def as_model(order: Order) -> ModelOrder:
    """An Order as the model stores it: only the fields Kraken sent, nested structs as dicts."""
    result: ModelOrder = {}
    for key, value in msgspec.structs.asdict(order).items():
        if key == "txid" or value is None:
            continue
        if key in NESTED:
            value = {k: v for k, v in msgspec.structs.asdict(value).items() if v is not None}
        result[key] = value
    return result


def record_from(sent: dict[str, Any]) -> OrderRecord:
    fields = dict(sent)
    if "descr" in fields:
        fields["descr"] = OrderDescr(**fields["descr"])
    if "contingent" in fields:
        fields["contingent"] = Contingent(**fields["contingent"])
    return OrderRecord(**fields)


# --- strategies ------------------------------------------------------------------------------

TXIDS = [f"O{n}AAAA-BBBBB-CCCCCC" for n in range(6)]
amounts = st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False)
descrs = st.fixed_dictionaries(
    {},
    optional={
        "pair": st.sampled_from(["XBT/USD", "ETH/USD"]),
        "type": st.sampled_from(["buy", "sell"]),
        "ordertype": st.sampled_from(["limit", "market"]),
        "price": amounts,
        "leverage": st.just("5:1"),
    },
)
contingents = st.fixed_dictionaries(
    {}, optional={"ordertype": st.just("limit"), "price": amounts, "oflags": st.just("post")}
)
sent_records = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["pending", "open", "closed", "canceled", "expired"]),
        "userref": st.integers(0, 3),
        "vol": amounts,
        "vol_exec": amounts,
        "cost": amounts,
        "fee": amounts,
        "avg_price": amounts,
        "lastupdated": amounts,
        "cancel_reason": st.sampled_from(["User requested", "Insignificant volume remaining"]),
        "opentm": amounts,
        "descr": descrs,
        "contingent": contingents,
        "amended": st.booleans(),
    },
)
frames = st.tuples(
    st.booleans(), st.lists(st.tuples(st.sampled_from(TXIDS), sent_records), max_size=6)
)


# --- property: the table equals the dict model -----------------------------------------------


@given(st.lists(frames, max_size=8))
def test_table_matches_dict_model(frame_list: list[tuple[bool, list[Any]]]) -> None:
    table = OrderTable()
    model = Model()
    for snapshot, entries in frame_list:
        event = OpenOrders(orders=tuple((txid, record_from(sent)) for txid, sent in entries))
        changes = table.apply(event, snapshot=snapshot)
        expected = model.apply(entries, snapshot=snapshot)
        assert changes.snapshot is snapshot
        for name in ("added", "stubs", "updated", "finished"):
            got = [(order.txid, as_model(order)) for order in getattr(changes, name)]
            assert got == expected[name], name
        assert set(ids(changes.vanished)) == expected["vanished"]
        assert all(order.vanished for order in changes.vanished)
        assert bool(changes) is any(expected.values())
        for txid, order in model.orders.items():
            got_order = table.get(txid)
            assert got_order is not None
            assert got_order.txid == txid
            assert as_model(got_order) == order
        open_ids = {txid for txid, order in model.orders.items() if model_is_open(order)}
        assert set(table.open_orders()) == open_ids
        assert len(table) == len(open_ids)
        assert all(order.is_open for order in table.open_orders().values())
    assert table.get("OUNKNO-WNXXX-XXXXXX") is None


@given(sent_records)
def test_both_sent_field_readers_agree(sent: dict[str, Any]) -> None:
    record = record_from(sent)
    assert (
        _sent_fields_by_repr(record)
        == _sent_fields_by_scan(record)
        == {key: getattr(record, key) for key in sent}
    )


@given(sent_records)
def test_both_sent_item_readers_agree(sent: dict[str, Any]) -> None:
    record = record_from(sent)
    expected = [(key, getattr(record, key)) for key in record.__struct_fields__ if key in sent]
    assert list(_sent_items(record)) == list(_sent_items_by_scan(record)) == expected


def nested_fields(order: Order) -> list[dict[str, Any] | None]:
    return [
        None if value is None else msgspec.structs.asdict(value)
        for value in (order.descr, order.contingent)
    ]


def test_apply_never_changes_an_order_it_handed_out() -> None:
    # The table builds each new state on a private copy of the old one: the copy must never be
    # the old object, nor share a nested record that is then changed.
    table = OrderTable()
    stub_id = "OSTUB1-XXXXX-XXXXXX"
    first = table.apply(decoded([(OID, full_record("open"))], 1))
    stub = table.apply(decoded([(stub_id, {"vol_exec": "1.00000000"})], 2)).stubs
    handed_out = [*first.added, *stub]
    later: list[dict[str, Any]] = [
        {"vol_exec": "1.00000000", "cost": "9.250000"},
        {"descr": {"price": "9.500000"}, "contingent": {"ordertype": "limit"}},
        {"contingent": {"price": "1.5"}},
        {"status": "canceled"},
    ]
    for sequence, delta in enumerate(later, start=3):
        handed_out += table.apply(decoded([(OID, delta), (stub_id, delta)], sequence)).updated
    handed_out += table.apply(decoded([(OID, full_record("open"))], 1)).updated
    snapshots = [msgspec.structs.asdict(order) for order in handed_out]
    nested = [nested_fields(order) for order in handed_out]
    table.apply(decoded([(OID, {"descr": {"price": "9.750000"}, "status": "open"})], 2))
    table.apply(decoded([(OID, {"contingent": {"price": "2.5"}})], 3))
    table.apply(decoded([], 1))
    assert len({id(order) for order in handed_out}) == len(handed_out)
    assert [msgspec.structs.asdict(order) for order in handed_out] == snapshots
    assert [nested_fields(order) for order in handed_out] == nested
    assert handed_out[-1].descr is not None
    assert handed_out[-1].descr.price == Decimal("9.250000")


def test_terminal_statuses_are_the_documented_ones() -> None:
    assert TERMINAL_STATUSES == MODEL_TERMINAL


def test_fast_path_needs_repr_omit_defaults_with_none_defaults() -> None:
    class Plain(msgspec.Struct):
        a: int | None = None

    class ZeroDefault(msgspec.Struct, repr_omit_defaults=True):
        a: int = 0

    assert _uses_fast_path(OrderRecord)
    assert not _uses_fast_path(Plain)
    assert not _uses_fast_path(ZeroDefault)


# --- real lifecycles (protocol doc section 4.3), decoded from JSON frames ---------------------


def test_pending_open_partial_fill_closed() -> None:
    table = OrderTable()
    assert table.apply(decoded([], 1)) == OrderChanges(snapshot=True)
    changes = table.apply(decoded([(OID, full_record("pending"))], 2))
    assert ids(changes.added) == [OID]
    assert changes.added[0].status == "pending"
    assert not changes.added[0].is_stub
    changes = table.apply(decoded([(OID, {"status": "open", "userref": 0})], 3))
    assert ids(changes.updated) == [OID]
    assert changes.finished == ()
    partial = {
        "vol_exec": "1.20000000",
        "cost": "11.100000",
        "fee": "0.028860",
        "avg_price": "9.250000",
        "userref": 0,
    }
    changes = table.apply(decoded([(OID, partial)], 4))
    order = table.get(OID)
    assert order is not None
    assert order.status == "open"
    assert order.vol_exec == Decimal("1.20000000")
    assert OID in table.open_orders()
    filled = {
        "status": "closed",
        "vol_exec": "5.00000000",
        "cost": "46.250000",
        "fee": "0.120250",
        "avg_price": "9.250000",
        "lastupdated": "1700220700.114325",
        "userref": 0,
    }
    changes = table.apply(decoded([(OID, filled)], 5))
    assert ids(changes.finished) == ids(changes.updated) == [OID]
    order = table.get(OID)
    assert order is not None
    assert order == changes.finished[0]
    assert order.status == "closed"
    assert not order.is_open
    # Totals replace, never add.
    assert (order.vol_exec, order.cost, order.fee) == (
        Decimal("5.00000000"),
        Decimal("46.250000"),
        Decimal("0.120250"),
    )
    assert str(order.avg_price) == "9.250000"
    # Fields from the full record survive every delta.
    assert order.vol == Decimal("5.00000000")
    assert order.opentm == Decimal("1700220661.985020")
    assert order.lastupdated == Decimal("1700220700.114325")
    assert order.descr is not None
    assert order.descr.price == Decimal("9.250000")
    assert order.descr.order == "buy 5.00000000 ATOM/USD @ limit 9.250000"
    assert order.timeinforce == "GTC"
    assert order.cancel_reason is None
    assert table.open_orders() == {}
    assert len(table) == 0
    assert OID not in table


@pytest.mark.parametrize(
    ("terminal", "expected_reason"),
    [
        (
            {"status": "canceled", "cancel_reason": "User requested"},
            "User requested",
        ),
        ({"status": "expired"}, None),
        (
            {"status": "closed", "cancel_reason": "Insignificant volume remaining"},
            "Insignificant volume remaining",
        ),
    ],
)
def test_cancel_expire_and_insignificant_remainder(
    terminal: dict[str, Any], expected_reason: str | None
) -> None:
    table = OrderTable()
    snapshot_record = full_record(
        "open", vol_exec="2.00000000", cost="18.500000", fee="0.048100", avg_price="9.250000"
    )
    table.apply(decoded([(OID, snapshot_record)], 1))
    delta = {
        "lastupdated": "1700300000.000001",
        "vol_exec": "4.99999999",
        "cost": "46.249999",
        "fee": "0.120249",
        "avg_price": "9.250000",
        "userref": 0,
        **terminal,
    }
    changes = table.apply(decoded([(OID, delta)], 2))
    assert ids(changes.finished) == [OID]
    order = table.get(OID)
    assert order is not None
    assert order.status == terminal["status"]
    assert order.cancel_reason == expected_reason
    assert order.vol_exec == Decimal("4.99999999")
    assert order.fee == Decimal("0.120249")
    assert order.vol == Decimal("5.00000000")
    assert table.open_orders() == {}


def test_old_service_frames_without_sequence_and_duplicate_ids() -> None:
    """The seed document's frame (no sequence) then the docs' duplicate-id example."""
    seed = (
        '[[{"OGTT3Y-C6I3P-XRI6HX":{"cost":"0.00000","descr":{"close":"","leverage":"0:1",'
        '"order":"sell 0.00001000 XBT/EUR @ limit 9.00000 with 0:1 leverage","ordertype":"limit",'
        '"pair":"XBT/EUR","price":"9.00000","price2":"0.00000","type":"sell"},'
        '"expiretm":"0.000000","fee":"0.00000","limitprice":"9.00000","misc":"","oflags":"fcib",'
        '"opentm":"0.000000","refid":"OKIVMP-5GVZN-Z2D2UA","starttm":"0.000000","status":"open",'
        '"stopprice":"0.000000","userref":0,"vol":"0.00001000","vol_exec":"0.00000000"}}],'
        '"openOrders"]'
    )
    table = OrderTable()
    event = kraken_proto.decode(seed)
    assert isinstance(event, OpenOrders)
    changes = table.apply(event)
    assert changes.snapshot
    assert ids(changes.added) == [OID]
    duplicate = (
        '[[{"OGTT3Y-C6I3P-XRI6HX":{"status":"closed"}},'
        '{"OGTT3Y-C6I3P-XRI6HX":{"status":"closed"}}],"openOrders",{"sequence":59342}]'
    )
    event = kraken_proto.decode(duplicate)
    assert isinstance(event, OpenOrders)
    changes = table.apply(event)
    assert not changes.snapshot
    # Applied twice in order: the first closes it, the second changes nothing.
    assert ids(changes.updated) == ids(changes.finished) == [OID]
    order = table.get(OID)
    assert order is not None
    assert order.status == "closed"
    assert order.refid == "OKIVMP-5GVZN-Z2D2UA"
    assert order.vol == Decimal("0.00001000")


def test_status_only_deltas_without_sequence_after_the_first_frame() -> None:
    table = OrderTable()
    table.apply(decoded([(OID, full_record("pending"))], None))
    changes = table.apply(decoded([(OID, {"status": "open"})], None))
    assert not changes.snapshot
    assert ids(changes.updated) == [OID]
    assert OID in table


# --- snapshot detection ----------------------------------------------------------------------


def test_snapshot_detection() -> None:
    table = OrderTable()
    assert not table.apply(decoded([], 7)).snapshot  # subscribed with snapshot:false
    assert not table.apply(decoded([], None)).snapshot  # not the first frame
    assert table.apply(decoded([], 1)).snapshot
    assert table.apply(decoded([], 9), snapshot=True).snapshot
    assert not table.apply(decoded([], 1), snapshot=False).snapshot
    assert OrderTable().apply(decoded([], None)).snapshot


# --- snapshot replacement --------------------------------------------------------------------


def test_resnapshot_reports_vanished_orders() -> None:
    a, b, c = "OAAAAA-AAAAA-AAAAAA", "OBBBBB-BBBBB-BBBBBB", "OCCCCC-CCCCC-CCCCCC"
    table = OrderTable()
    table.apply(decoded([(a, full_record("open")), (b, full_record("open"))], 1))
    # Reconnected: the new snapshot lists b (partly filled meanwhile) and a new order c.
    b_now = full_record("open", vol_exec="1.00000000")
    changes = table.apply(decoded([(b, b_now), (c, full_record("open"))], 1))
    assert changes.snapshot
    assert ids(changes.vanished) == [a]
    assert ids(changes.updated) == [b]
    assert ids(changes.added) == [c]
    assert changes.finished == ()
    assert list(table.open_orders()) == [b, c]
    gone = table.get(a)
    assert gone is not None
    assert gone.vanished
    assert not gone.is_open
    assert gone.status == "open"  # the last status seen: the final one is unknown
    # A late delta without a status keeps it out of the open set.
    changes = table.apply(decoded([(a, {"lastupdated": "1700300000.5"})], 2))
    assert ids(changes.updated) == [a]
    assert a not in table
    # A delta with a terminal status settles it.
    changes = table.apply(decoded([(a, {"status": "canceled"})], 3))
    assert ids(changes.finished) == [a]
    settled = table.get(a)
    assert settled is not None
    assert not settled.vanished
    assert settled.status == "canceled"


def test_unchanged_resnapshot_reports_nothing_and_keeps_orders_open() -> None:
    table = OrderTable()
    table.apply(decoded([(OID, full_record("open"))], 1))
    kept = table.get(OID)
    changes = table.apply(decoded([(OID, full_record("open"))], 1))
    assert not changes
    assert OID in table
    assert table.get(OID) is kept  # the same Order: nothing new was built for it


# A signalling NaN (Kraken text "sNaN" is refused, but a caller may build one) raises on ``==``:
# both readings of "the entry restates the order" must count it as a change.
numbers_or_snan = st.one_of(amounts, st.just(Decimal("sNaN")), st.just(Decimal("NaN")))
restated_records = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["open", "closed"]),
        "vol": numbers_or_snan,
        "cost": numbers_or_snan,
        "descr": st.fixed_dictionaries({}, optional={"price": numbers_or_snan}),
        "misc": st.sampled_from(["", "stopped"]),
    },
)


@given(
    restated_records,
    restated_records,
    st.booleans(),
    st.sampled_from([None, False, True]),
    st.sampled_from([None, False, True]),
    st.sampled_from([OID, "OTHER1-TXIDXX-XXXXXX"]),
)
def test_restates_is_fresh_then_compare(
    sent: dict[str, Any],
    other: dict[str, Any],
    same_record: bool,
    is_stub: bool | None,
    vanished: bool | None,
    old_txid: str,
) -> None:
    """``_restates`` (the snapshot's shortcut) answers exactly as building the fresh Order and
    comparing it with the old one, for any old order: the same record or another one, a stub
    or not, vanished or not, another txid, NaN and signalling NaN fields."""
    record = record_from(sent)
    old = _fresh(old_txid, record if same_record else record_from(other))
    if is_stub is not None:
        old = msgspec.structs.replace(old, is_stub=is_stub)
    if vanished is not None:
        old = msgspec.structs.replace(old, vanished=vanished)
    assert _restates(OID, record, old) is (not _differs(_fresh(OID, record), old))


def test_restates_an_equal_record_of_other_objects() -> None:
    """Equal values in distinct objects (a re-snapshot decoded anew) restate the order."""
    first = decoded([(OID, full_record("open"))], 1).orders[0][1]
    again = decoded([(OID, full_record("open"))], 1).orders[0][1]
    assert first is not again
    assert _restates(OID, again, _fresh(OID, first))
    assert not _restates(OID, again, _fresh(OID, record_from({"status": "open"})))


def test_snapshot_entry_replaces_instead_of_merging() -> None:
    table = OrderTable()
    table.apply(decoded([(OID, full_record("open", cl_ord_id="mine"))], 1))
    table.apply(decoded([(OID, full_record("open"))], 1))
    order = table.get(OID)
    assert order is not None
    assert order.cl_ord_id is None


def test_snapshot_reopens_an_order_the_table_had_finished() -> None:
    table = OrderTable()
    table.apply(decoded([(OID, full_record("open"))], 1))
    table.apply(decoded([(OID, {"status": "canceled"})], 2))
    changes = table.apply(decoded([(OID, full_record("open"))], 1))
    assert ids(changes.updated) == [OID]
    assert OID in table


def test_same_id_twice_in_a_snapshot_merges_the_second() -> None:
    table = OrderTable()
    changes = table.apply(decoded([(OID, full_record("open")), (OID, {"vol_exec": "1.5"})], 1))
    assert ids(changes.added) == ids(changes.updated) == [OID]
    order = table.get(OID)
    assert order is not None
    assert order.vol_exec == Decimal("1.5")
    assert order.vol == Decimal("5.00000000")


# --- stubs -----------------------------------------------------------------------------------


def test_delta_for_unknown_id_becomes_a_stub_until_a_descr_arrives() -> None:
    table = OrderTable()
    table.apply(decoded([], 1))
    changes = table.apply(decoded([(OID, {"vol_exec": "0.5", "cost": "4.6"})], 2))
    assert ids(changes.stubs) == [OID]
    assert changes.added == ()
    stub = table.get(OID)
    assert stub is not None
    assert stub.is_stub
    assert stub.status is None
    assert stub.is_open  # a fill for an order we never saw: treat it as open
    changes = table.apply(decoded([(OID, {"descr": {"pair": "XBT/USD", "price": "9.5"}})], 3))
    order = table.get(OID)
    assert order is not None
    assert not order.is_stub
    assert order.descr == OrderDescr(pair="XBT/USD", price=Decimal("9.5"))
    assert order.vol_exec == Decimal("0.5")


def test_terminal_stub_is_reported_as_stub_and_finished() -> None:
    table = OrderTable()
    changes = table.apply(decoded([(OID, {"status": "closed"})], 5))
    assert ids(changes.stubs) == ids(changes.finished) == [OID]
    assert OID not in table
    order = table.get(OID)
    assert order is not None
    assert order.is_stub


def test_descr_and_contingent_merge_field_by_field() -> None:
    table = OrderTable()
    record = full_record("open", contingent={"ordertype": "limit", "price": "8.1"})
    table.apply(decoded([(OID, record)], 1))
    amend = {
        "amended": True,
        "descr": {"price": "9.300000"},
        "contingent": {"price": "8.2"},
        "vol": "4.00000000",
    }
    table.apply(decoded([(OID, amend)], 2))
    order = table.get(OID)
    assert order is not None
    assert order.descr is not None
    assert order.descr.price == Decimal("9.300000")
    assert order.descr.pair == "ATOM/USD"
    assert order.contingent == Contingent(ordertype="limit", price=Decimal("8.2"))
    assert order.amended is True
    assert order.vol == Decimal("4.00000000")


# --- the finished cache ----------------------------------------------------------------------


def test_finished_cache_evicts_the_oldest_first() -> None:
    table = OrderTable(max_finished=3)
    assert table.max_finished == 3
    txids = [f"O{n}XXXX-XXXXX-XXXXXX" for n in range(5)]
    table.apply(decoded([(txid, full_record("open")) for txid in txids], 1))
    for sequence, txid in enumerate(txids, start=2):
        table.apply(decoded([(txid, {"status": "closed"})], sequence))
    assert [table.get(txid) is not None for txid in txids] == [False, False, True, True, True]
    # A late delta for a cached order updates it in place without renewing it.
    table.apply(decoded([(txids[2], {"fee": "0.1"})], 7))
    table.apply(decoded([(OID, {"status": "canceled"})], 8))
    assert table.get(txids[2]) is None
    assert table.get(txids[3]) is not None
    assert table.get(OID) is not None


def test_zero_sized_cache_forgets_finished_orders_at_once() -> None:
    table = OrderTable(max_finished=0)
    table.apply(decoded([(OID, full_record("open"))], 1))
    changes = table.apply(decoded([(OID, {"status": "expired"})], 2))
    assert ids(changes.finished) == [OID]
    assert table.get(OID) is None


@given(st.lists(frames, max_size=6), st.integers(0, 3))
def test_cache_bound_holds(frame_list: list[tuple[bool, list[Any]]], bound: int) -> None:
    table = OrderTable(max_finished=bound)
    for snapshot, entries in frame_list:
        event = OpenOrders(orders=tuple((txid, record_from(sent)) for txid, sent in entries))
        changes = table.apply(event, snapshot=snapshot)
        known = [table.get(txid) for txid in TXIDS]
        closed = [order for order in known if order is not None and not order.is_open]
        assert len(closed) <= bound
        if bound and changes.finished and not snapshot:
            # Only vanished orders (snapshots) can push a just-finished order out in one frame.
            assert table.get(changes.finished[-1].txid) is not None


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True])
def test_bad_cache_size_is_rejected(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_finished"):
        OrderTable(max_finished=bad)


def test_order_changes_is_frozen() -> None:
    changes = OrderChanges(snapshot=False)
    assert not changes
    with pytest.raises(AttributeError):
        changes.snapshot = True  # type: ignore[misc]


def test_a_repeated_delta_changes_nothing() -> None:
    fill = {"vol_exec": "1.00000000", "cost": "9.250000", "userref": 0}
    table = OrderTable()
    table.apply(decoded([(OID, full_record("open"))], 1))
    changes = table.apply(decoded([(OID, fill), (OID, fill)], 2))
    assert ids(changes.updated) == [OID]
    assert not table.apply(decoded([(OID, fill)], 3))
    assert OID in table


def test_terminal_entry_in_a_snapshot_is_added_and_finished() -> None:
    table = OrderTable()
    changes = table.apply(decoded([(OID, full_record("closed"))], 1))
    assert ids(changes.added) == ids(changes.finished) == [OID]
    assert table.open_orders() == {}
    assert table.get(OID) == changes.added[0]
