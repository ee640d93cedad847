"""Regression tests of the session-side defects of issue 19.4, against the exchange model."""

from __future__ import annotations

from decimal import Decimal

from kraken_proto import (
    CancelOrder,
    RequestApplied,
    RequestNotApplied,
    RequestUnresolved,
    SessionState,
)
from kraken_proto.v1 import Subscribe

from tests.session.session_wire import Wire
from tests.session.test_session import _in_flight, _placed, limit, outcome


def _live_without_open_orders() -> Wire:
    # No openOrders subscription: the session never learns a cl_ord_id from the channel.
    wire = Wire()
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.pump()
    assert wire.session.state is SessionState.LIVE
    return wire


def test_lost_cancel_by_unseen_cl_ord_id_is_resolved_through_rest() -> None:
    wire = _live_without_open_orders()
    _placed(wire, limit(cl_ord_id="gone-1"))
    _placed(wire, limit(cl_ord_id="stays-1", price=Decimal("28000.0")))
    assert "gone-1" not in wire.session._orders.cl_ord_ids
    cancelled = _in_flight(wire, CancelOrder(cl_ord_id=("gone-1",)))
    kept = _in_flight(wire, CancelOrder(cl_ord_id=("stays-1",)), reached=False)
    never = _in_flight(wire, CancelOrder(cl_ord_id=("never-seen",)), reached=False)
    applied = outcome(wire, cancelled)
    assert isinstance(applied, RequestApplied), applied
    assert applied.via == "QueryOrders"
    assert isinstance(outcome(wire, kept), RequestNotApplied)
    unknown = outcome(wire, never)
    assert isinstance(unknown, RequestUnresolved)
    assert "never-seen" in unknown.reason
    assert "ClosedOrders" in wire.rest_calls


def test_lost_cancel_naming_known_and_unseen_cl_ord_ids() -> None:
    wire = _live_without_open_orders()
    first = _placed(wire, limit(cl_ord_id="both-1"))
    _placed(wire, limit(cl_ord_id="both-2", price=Decimal("28000.0")))
    wire.session._orders.remember("both-1", first)  # one known, one looked up
    handle = _in_flight(wire, CancelOrder(cl_ord_id=("both-1", "both-2")))
    assert isinstance(outcome(wire, handle), RequestApplied)
