"""Regression tests of the session-side defects of issue 19.4, against the exchange model."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
from kraken_proto import (
    CancelOrder,
    FillReceived,
    RequestApplied,
    RequestNotApplied,
    SessionConfig,
    SessionState,
)
from kraken_proto.v1 import Subscribe

from tests.session.session_wire import Wire
from tests.session.test_session import PRICE, _in_flight, _placed, limit, outcome


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
    # No order carries it, open or closed since just before the cancel went out: the cancel
    # closed nothing (it was RequestUnresolved before the million-second simulation).
    unknown = outcome(wire, never)
    assert isinstance(unknown, RequestNotApplied)
    assert unknown.via == "ClosedOrders"
    assert "ClosedOrders" in wire.rest_calls


def test_lost_cancel_naming_known_and_unseen_cl_ord_ids() -> None:
    wire = _live_without_open_orders()
    first = _placed(wire, limit(cl_ord_id="both-1"))
    _placed(wire, limit(cl_ord_id="both-2", price=Decimal("28000.0")))
    wire.session._orders.remember("both-1", first)  # one known, one looked up
    handle = _in_flight(wire, CancelOrder(cl_ord_id=("both-1", "both-2")))
    assert isinstance(outcome(wire, handle), RequestApplied)


def _fills_while_away(window: int, count: int) -> Wire:
    wire = Wire(config=SessionConfig(fill_window=window))
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    for offset in range(count):
        wire.session.submit(limit(price=PRICE - Decimal("0.1") * (offset + 1)), wire.now)
    wire.pump()
    wire.fail_opens = 1
    wire.drop()
    wire.exchange.set_reference_price("XBT/USD", PRICE - 100, wire.now)
    wire.advance(30)
    return wire


@pytest.mark.parametrize(("window", "count"), [(50, 120), (60, 75), (100, 160)])
def test_backfill_larger_than_the_fill_window_reports_each_fill_once(
    window: int, count: int
) -> None:
    wire = _fills_while_away(window, count)
    ids = [e.trade_id for e in wire.events if isinstance(e, FillReceived)]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(wire.exchange.trades())
    # A later reconnect's snapshot repeats the newest 50: still nothing twice.
    wire.drop()
    wire.advance(30)
    ids = [e.trade_id for e in wire.events if isinstance(e, FillReceived)]
    assert len(ids) == len(set(ids))


def test_fills_at_distinct_times_across_two_backfills_are_reported_once() -> None:
    # Fills spread over seconds: the backfill's pages come newest first, and the next
    # snapshot repeats the newest 50, long after the window of 50 last saw them.
    wire = Wire(config=SessionConfig(fill_window=50))
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.pump()
    for offset in range(120):
        wire.session.submit(limit(price=PRICE - Decimal("0.1") * (offset + 1)), wire.now)
    wire.pump()
    wire.fail_opens = 3
    wire.drop()
    for step in range(130):
        wire.exchange.set_reference_price("XBT/USD", PRICE - Decimal("0.1") * (step + 1), wire.now)
        wire.advance(0.05)
    wire.advance(30)
    wire.drop()
    wire.advance(30)
    ids = [e.trade_id for e in wire.events if isinstance(e, FillReceived)]
    assert len(set(ids)) == len(wire.exchange.trades()) > 100
    assert len(ids) == len(set(ids))


def test_recent_fills_prune_keeps_the_newest_snapshot_and_the_floor() -> None:
    from kraken_proto.session._recent_fills import SNAPSHOT_SIZE, RecentFills

    recent = RecentFills()
    for n in range(10):
        recent.note(f"T{n}", Decimal(n))
    recent.prune(Decimal(1000))  # fewer than a snapshot: all kept
    assert len(recent) == 10
    for n in range(10, 200):
        recent.note(f"T{n}", Decimal(n))
    assert recent.due()
    recent.prune(Decimal(180))  # the newest 50 reach back further than the floor
    assert len(recent) == SNAPSHOT_SIZE
    assert "T150" in recent
    assert "T149" not in recent
    recent.note("T7", Decimal(7))  # older than the newest 50: does not displace them
    recent.prune(Decimal(100))
    assert "T7" not in recent
    assert "T150" in recent
    assert not recent.due()


def _feed() -> Any:
    from kraken_proto import Credentials
    from kraken_proto.rest._counter import RestCallCounter
    from kraken_proto.rest._signing import NonceSource
    from kraken_proto.session._context import SessionContext
    from kraken_proto.session._fill_feed import FillFeed
    from kraken_proto.session._rest import RestQueue

    rest = RestQueue(
        counter=RestCallCounter("starter"), nonces=NonceSource(), retry_delay=1, retry_max=5
    )
    context = SessionContext(
        config=SessionConfig(fill_window=50),
        credentials=Credentials(api_key="k", api_secret=base64.b64encode(bytes(64)).decode()),
        rest=rest,
        actions=[],
        events=[],
    )
    return FillFeed(context), context.events


def test_undated_fills_and_a_wanted_backfill_stay_remembered() -> None:
    from kraken_proto.v1 import OwnTrades, Trade

    feed, events = _feed()
    undated = OwnTrades(trades=(("TUNDATED", Trade(ordertxid="O1")),))
    feed.deliver(undated, "live")
    feed.want_backfill()  # from started_at - margin: the floor of every later prune
    dated = tuple((f"T{n}", Trade(time=Decimal(1000 + n))) for n in range(300))
    feed.deliver(OwnTrades(trades=dated), "live")
    feed.deliver(undated, "rest")
    feed.deliver(OwnTrades(trades=dated[:60]), "rest")
    assert [e.trade_id for e in events].count("TUNDATED") == 1
    assert len(events) == 301


def test_a_late_reply_during_the_cl_ord_id_lookup_wins() -> None:
    wire = _live_without_open_orders()
    handle = wire.session.submit(CancelOrder(cl_ord_id=("late-1",)), wire.now)
    wire.session.actions()  # written nowhere: no answer comes
    wire.hold_rest = True
    wire.advance(25)  # timed out, then the grace for a late reply is over: reconciling
    assert wire.held
    assert wire.held[-1].purpose == "OpenOrders"
    requests = wire.session._requests
    # A late reply ends it while OpenOrders is under way (as RequestTracker.late_reply would).
    requests.not_applied(requests.doubts[handle], "late reply")
    wire.hold_rest = False
    calls = len(wire.rest_calls)
    for call in wire.held:
        wire.answer(call)
    wire.pump()
    assert "ClosedOrders" not in wire.rest_calls[calls:]
    assert outcome(wire, handle).via == "late reply"
