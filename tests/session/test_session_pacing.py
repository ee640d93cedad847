"""``SessionConfig(pace_orders=True)``: the session holds what Kraken's trading counter would
refuse, against the simulator's exchange model in memory (virtual time, no sockets)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    OrderPaced,
    RequestAccepted,
    RequestRefused,
    SessionConfig,
    SessionState,
)
from kraken_proto.v1 import OpenOrders, OrderRecord, Subscribe

from tests.session.session_wire import Wire
from tests.session.test_session import limit


def paced_wire(*, pace: bool, protocol: str = "v1", ratecounter: bool = False) -> Wire:
    config = SessionConfig(pace_orders=pace, rest_tier="intermediate", protocol=protocol)
    wire = Wire(config=config)
    wire.session.start(wire.now)
    # openOrders first: over v2 the one executions subscribe takes the first one's options.
    wire.session.subscribe(
        Subscribe(name="openOrders", ratecounter=True if ratecounter else None), wire.now
    )
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.pump()
    assert wire.session.state is SessionState.LIVE
    return wire


def outcomes(wire: Wire) -> dict[int, Any]:
    return {e.handle: e for e in wire.events if isinstance(e, RequestAccepted | RequestRefused)}


def add_cancel_pairs(wire: Wire, count: int) -> tuple[int, float]:
    """Add then cancel ``count`` orders as fast as the session allows; (refused, seconds)."""
    start = wire.now
    session = wire.session
    for n in range(count):
        add = session.submit(limit(price=Decimal("20000.0") + n), wire.now)
        wire.pump()
        while add not in outcomes(wire):
            wire.advance(max(0.0, (session.next_deadline() or wire.now) - wire.now))
        accepted = outcomes(wire)[add]
        if isinstance(accepted, RequestAccepted) and accepted.txid is not None:
            cancel = session.submit(CancelOrder(txid=(accepted.txid,)), wire.now)
            wire.pump()
            while cancel not in outcomes(wire):
                wire.advance(max(0.0, (session.next_deadline() or wire.now) - wire.now))
    refused = sum(isinstance(e, RequestRefused) for e in outcomes(wire).values())
    return refused, wire.now - start


def test_pacing_off_gets_refusals_and_on_gets_none() -> None:
    refused_off, _ = add_cancel_pairs(paced_wire(pace=False), 120)
    wire = paced_wire(pace=True)
    refused_on, took = add_cancel_pairs(wire, 120)
    assert refused_off > 0
    assert refused_on == 0
    paced = [e for e in wire.events if isinstance(e, OrderPaced)]
    assert paced
    assert {e.pair for e in paced} <= {"XBT/USD", "BTC/USD"}
    assert all(e.wait_seconds >= 0 for e in paced)
    assert took > 10


def _pacer(wire: Wire) -> Any:
    pacer = wire.session._pacer
    assert pacer is not None
    return pacer


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_the_counter_follows_the_ratecount_frames_carry(protocol: str) -> None:
    wire = paced_wire(pace=True, protocol=protocol, ratecounter=True)
    pacer = _pacer(wire)
    pacer.counter.charge("BTC/USD", 40.0, wire.now)  # the model overestimates by 40
    handle = wire.session.submit(limit(), wire.now)
    wire.pump()
    assert isinstance(outcomes(wire)[handle], RequestAccepted)
    real = float(wire.exchange._book.rates.value("XBT/USD", wire.now))
    assert real == 1.0
    assert pacer.counter.level("BTC/USD", wire.now) == pytest.approx(real)


def test_a_ratecount_while_a_request_is_in_flight_keeps_room_for_it() -> None:
    wire = paced_wire(pace=True, ratecounter=True)
    pacer = _pacer(wire)
    txid = outcomes_txid(wire, wire.session.submit(limit(), wire.now))
    # A cancel in flight (not answered yet) when a frame reports the count before it.
    wire.session.submit(CancelOrder(txid=(txid,)), wire.now)
    charged = pacer.counter.level("BTC/USD", wire.now)
    pacer._inflight[999] = {"BTC/USD": 2.0}
    pacer.observe(OpenOrders(orders=((txid, OrderRecord(ratecount=Decimal("0.5"))),)))
    pacer.settle(wire.now)
    # At most Kraken's 0.5 plus the in-flight cancel (8) and the other request (2).
    assert pacer.counter.level("BTC/USD", wire.now) == min(charged, 10.5)
    pacer.observe(OpenOrders(orders=((txid, OrderRecord(ratecount=Decimal(100))),)))
    pacer.settle(wire.now)
    assert pacer.counter.level("BTC/USD", wire.now) == 100.0


def outcomes_txid(wire: Wire, handle: int) -> str:
    wire.pump()
    accepted = outcomes(wire)[handle]
    assert isinstance(accepted, RequestAccepted)
    assert accepted.txid is not None
    return accepted.txid


# --- property: a paced schedule is never refused for the rate ---------------------------------

_KINDS = ["add", "add", "batch", "cancel", "cancel_cl", "edit", "amend", "cancel_all", "dms"]
_DELAY = st.sampled_from([0.0, 0.0, 0.0, 0.1, 0.5, 2.0, 6.0])
_STEPS = st.lists(
    st.tuples(st.sampled_from(_KINDS), st.integers(1, 12), _DELAY), min_size=10, max_size=40
)


def _run_schedule(steps: list[tuple[str, int, float]], protocol: str, *, pace: bool) -> Wire:
    """Each step: ``n`` requests of one kind at once (a batch of ``n``; cancels, edits and
    amends of the ``n`` oldest orders placed), then ``delay`` seconds."""
    wire = paced_wire(pace=pace, protocol=protocol, ratecounter=True)
    session = wire.session
    placed: list[str] = []  # cl_ord_ids of our adds, in order
    for kind, n, delay in steps:
        known = {
            e.request.cl_ord_id: e.txid
            for e in wire.events
            if isinstance(e, RequestAccepted) and isinstance(e.request, AddOrder)
        }
        if kind in ("add", "batch"):
            rows = []
            for _ in range(max(2, n) if kind == "batch" else n):
                placed.append(f"p-{len(placed)}")
                price = Decimal("20000.0") + len(placed)
                rows.append(limit(price=price, cl_ord_id=placed[-1]))
            if kind == "batch":
                session.submit_batch(rows, wire.now)
            else:
                for row in rows:
                    session.submit(row, wire.now)
        elif kind == "cancel_all":
            session.submit(CancelAll(), wire.now)
        elif kind == "dms":
            session.submit(CancelAllOrdersAfter(timeout=60), wire.now)
        for cl_ord_id in placed[:n] if kind in ("cancel", "cancel_cl", "edit", "amend") else ():
            txid = known.get(cl_ord_id)
            if kind == "cancel_cl":
                session.submit(CancelOrder(cl_ord_id=(cl_ord_id,)), wire.now)
            elif txid is None:
                continue
            elif kind == "cancel":
                session.submit(CancelOrder(txid=(txid,)), wire.now)
            elif kind == "edit":
                edit = EditOrder(orderid=txid, pair="XBT/USD", volume=Decimal("0.02"))
                session.submit(edit, wire.now)
            else:
                session.submit(AmendOrder(txid=txid, volume=Decimal("0.03")), wire.now)
        wire.pump()
        wire.advance(delay)
    while session.pending():
        wire.advance(5.0)
    return wire


def _rate_refusals(wire: Wire) -> list[RequestRefused]:
    refused = [e for e in wire.events if isinstance(e, RequestRefused)]
    return [e for e in refused if "Rate limit" in e.error.text]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=_STEPS, protocol=st.sampled_from(["v1", "v2"]))
def test_a_paced_random_schedule_is_never_refused_for_the_rate(
    steps: list[tuple[str, int, float]], protocol: str
) -> None:
    wire = _run_schedule(steps, protocol, pace=True)
    assert _rate_refusals(wire) == []


def test_the_same_kind_of_schedule_unpaced_is_refused() -> None:
    steps = [("add", 12, 0.0), ("cancel", 12, 0.0)] * 6 + [("edit", 5, 0.0), ("amend", 5, 0.0)]
    assert _rate_refusals(_run_schedule(steps, "v1", pace=False))
    paced = _run_schedule(steps, "v1", pace=True)
    assert _rate_refusals(paced) == []
    assert any(isinstance(e, OrderPaced) for e in paced.events)
