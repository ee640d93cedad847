"""The fill ledger's order ids (``FillLedger.publish_order``/``order_of``): an AddOrder left in
doubt is decided from what another session on the key saw on openOrders, without REST
``ClosedOrders``; against the exchange model in memory."""

from __future__ import annotations

from decimal import Decimal

import pytest
from kraken_proto import (
    CancelOrder,
    FillReceived,
    RequestApplied,
    RequestNotApplied,
    Session,
    SessionState,
)
from kraken_proto.rest import NonceSource
from kraken_proto.session import InMemoryFillLedger

from tests.session.session_wire import Wire
from tests.session.test_session import _in_flight, limit, live, of, outcome


class PeerLedger(InMemoryFillLedger):
    """A ledger whose other session sees the exchange's orders (on openOrders) only once
    ``watching`` is set: ``order_of`` then finds any order placed with the cl_ord_id."""

    def __init__(self, wire: Wire) -> None:
        super().__init__()
        self.wire = wire
        self.watching = False
        self.asked: list[str] = []

    def order_of(self, cl_ord_id: str) -> str | None:
        self.asked.append(cl_ord_id)
        if self.watching:
            for txid, order in self.wire.exchange._book.orders.items():
                if order.cl_ord_id == cl_ord_id:
                    self.publish_order(cl_ord_id, txid)
        return super().order_of(cl_ord_id)


def _with_ledger(*, watching: bool) -> tuple[Wire, PeerLedger]:
    wire = Wire()
    ledger = PeerLedger(wire)
    ledger.watching = watching
    wire.session = Session(
        wire.session._fills._credentials,
        seed=b"ledger-orders-seed",
        nonces=NonceSource(last=int(wire.now * 1e6)),
        fill_ledger=ledger,
    )
    return wire, ledger


def _live(wire: Wire) -> Wire:
    from kraken_proto.v1 import Subscribe

    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    assert wire.session.state is SessionState.LIVE
    return wire


def test_a_doubt_another_session_saw_placed_is_applied_without_closed_orders() -> None:
    wire, _ = _with_ledger(watching=True)
    _live(wire)
    request = limit(price=Decimal("31000.0"), cl_ord_id="peer-saw-it")  # fills at once
    handle = _in_flight(wire, request)
    applied = outcome(wire, handle)
    assert isinstance(applied, RequestApplied)
    assert applied.via == "ledger"
    (txid,) = [t for t, o in wire.exchange._book.orders.items() if o.cl_ord_id == "peer-saw-it"]
    assert applied.txid == txid
    assert "ClosedOrders" not in wire.rest_calls
    # The order's record came with a QueryOrders of vanished orders, and its fill arrived.
    assert "QueryOrders" in wire.rest_calls
    order = wire.session.orders.get(txid)
    assert order is not None
    assert order.status == "closed"
    assert [f.trade.ordertxid for f in of(wire, FillReceived)] == [txid]
    assert wire.session.state is SessionState.LIVE


def test_a_doubt_nobody_saw_still_asks_closed_orders() -> None:
    wire, ledger = _with_ledger(watching=False)
    _live(wire)
    handle = _in_flight(wire, limit(price=Decimal("31000.0"), cl_ord_id="nobody-saw"))
    applied = outcome(wire, handle)
    assert isinstance(applied, RequestApplied)
    assert applied.via == "ClosedOrders"
    assert wire.rest_calls.count("ClosedOrders") == 1
    # Asked when reconciling, and again when ClosedOrders was about to go out.
    assert ledger.asked.count("nobody-saw") == 2


def test_a_peer_seeing_the_order_while_closed_orders_waits_drops_the_call() -> None:
    wire, ledger = _with_ledger(watching=False)
    _live(wire)
    original = ledger.order_of

    def sees_it_later(cl_ord_id: str) -> str | None:
        if ledger.asked.count(cl_ord_id) >= 1:
            ledger.watching = True  # the second look: the other session has seen it by now
        return original(cl_ord_id)

    ledger.order_of = sees_it_later  # type: ignore[method-assign]
    handle = _in_flight(wire, limit(price=Decimal("31000.0"), cl_ord_id="seen-meanwhile"))
    applied = outcome(wire, handle)
    assert isinstance(applied, RequestApplied)
    assert applied.via == "ledger"
    assert "ClosedOrders" not in wire.rest_calls


def test_an_order_the_table_already_holds_is_not_looked_up_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wire, ledger = _with_ledger(watching=False)
    _live(wire)
    # An order this session saw (so the table holds it) that the ledger also names: the
    # doubt of an AddOrder with its cl_ord_id is decided without a vanished lookup.
    handle = wire.session.submit(limit(cl_ord_id="held-one"), wire.now)
    wire.pump()
    txid = outcome(wire, handle).txid
    assert ledger.order_of("held-one") == txid  # published as seen on openOrders
    reconciler = wire.session._reconciler
    tracked = type("T", (), {"request": limit(cl_ord_id="held-one"), "handle": 99})()
    wire.session._orders.cl_ord_ids.clear()  # as if forgotten: only the ledger knows
    decided: list[tuple[object, str | None, str]] = []
    monkeypatch.setattr(
        type(reconciler._requests), "applied", lambda self, t, x, via: decided.append((t, x, via))
    )
    assert reconciler._from_ledger(tracked, "held-one")
    assert decided == [(tracked, txid, "ledger")]
    assert txid not in wire.session._orders.vanished


def test_remember_publishes_each_cl_ord_id_once() -> None:
    wire, ledger = _with_ledger(watching=False)
    orders = wire.session._orders
    orders.remember("a", "T1")
    del ledger._orders["a"]  # forgotten by the ledger: only a second publish brings it back
    orders.remember("a", "T1")
    orders.remember("b", "T2")
    assert ledger.order_of("a") is None  # not published again: the session remembered it
    assert ledger.order_of("b") == "T2"


def test_a_cancel_by_cl_ord_id_in_doubt_is_not_decided_from_the_ledger() -> None:
    # The ledger knows orders, not whether a cancel took effect: ClosedOrders still goes.
    wire, ledger = _with_ledger(watching=True)
    _live(wire)
    handle = _in_flight(wire, CancelOrder(cl_ord_id=("never-placed",)))
    not_applied = outcome(wire, handle)
    assert isinstance(not_applied, RequestNotApplied)
    assert not_applied.via == "ClosedOrders"
    assert ledger.asked == []


def test_without_a_ledger_a_doubt_asks_closed_orders() -> None:
    wire = live()
    handle = _in_flight(wire, limit(price=Decimal("31000.0")))
    assert outcome(wire, handle).via == "ClosedOrders"


@pytest.mark.parametrize("max_orders", [1, 2])
def test_the_in_memory_ledger_keeps_the_first_txid_and_a_bounded_number(max_orders: int) -> None:
    ledger = InMemoryFillLedger(max_orders=max_orders)
    ledger.publish_order("a", "T1")
    ledger.publish_order("a", "T9")  # the first txid stored for an id is kept
    assert ledger.order_of("a") == "T1"
    ledger.publish_order("b", "T2")
    assert ledger.order_of("b") == "T2"
    assert (ledger.order_of("a") is None) is (max_orders == 1)  # the oldest forgotten
    assert ledger.order_of("zzz") is None
