"""Issue 19 item 3 through the session: ``balances`` on a v2 session (and a clear refusal on
v1), a resting v2 order's ``vol_exec`` of 0 whether or not ``pending_new`` carries
``cum_qty``, and the error reply to a request the session sent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from kraken_proto import (
    AddOrder,
    BalancesReceived,
    LocalProtocolError,
    RequestAccepted,
    SessionConfig,
    SessionState,
    v2,
)
from kraken_proto.adapters.simulator.model.exchange import SimulatorConfig
from kraken_proto.session import V2Link
from kraken_proto.v1 import SequenceGap, Subscribe, SubscriptionState

from tests.session.session_wire import Wire


def v2_wire(*, balances: v2.Subscribe | None = None, sim: SimulatorConfig | None = None) -> Wire:
    wire = Wire(config=SessionConfig(protocol="v2"), sim=sim)
    session = wire.session
    session.start(wire.now)
    session.subscribe(Subscribe(name="ownTrades"), wire.now)
    session.subscribe(Subscribe(name="openOrders"), wire.now)
    if balances is not None:
        session.subscribe(balances, wire.now)
    wire.pump()
    wire.settle(60)
    assert session.state is SessionState.LIVE
    return wire


def balance_events(wire: Wire) -> list[BalancesReceived]:
    return [e for e in wire.events if isinstance(e, BalancesReceived)]


def test_a_v2_session_delivers_the_balances_snapshot_and_ledger_updates() -> None:
    wire = v2_wire(balances=v2.Subscribe(channel="balances"))
    session = wire.session
    (snapshot,) = balance_events(wire)
    assert snapshot.snapshot
    assert snapshot.records
    assert all(isinstance(r.balance, Decimal) for r in snapshot.records)
    assert {r.asset for r in snapshot.records} >= {"USD"}
    session.submit(
        AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal("0.25")), wire.now
    )
    wire.pump()
    wire.advance(1.0)
    assert any(isinstance(e, RequestAccepted) for e in wire.events)
    updates = [e for e in balance_events(wire) if not e.snapshot]
    assert updates
    ledger = [r for e in updates for r in e.records]
    assert {r.asset for r in ledger} >= {"USD"}
    assert all(r.amount is None or isinstance(r.amount, Decimal) for r in ledger)
    assert len({r.ref_id for r in ledger}) < len(ledger)  # a fill's two records share ref_id


def test_balances_are_subscribed_again_after_a_reconnect() -> None:
    wire = v2_wire(balances=v2.Subscribe(channel="balances"))
    wire.events.clear()
    wire.drop()
    wire.settle(120)
    assert wire.session.state is SessionState.LIVE
    (snapshot,) = balance_events(wire)
    assert snapshot.snapshot


def test_balances_without_a_snapshot_count_as_synced_once_active() -> None:
    wire = v2_wire(balances=v2.Subscribe(channel="balances", snapshot=False))
    assert balance_events(wire) == []
    link = wire.session.connection
    assert link is not None
    assert link.subscription_state("balances") is SubscriptionState.ACTIVE


def test_balances_asked_for_on_a_live_session_go_out_at_once() -> None:
    wire = v2_wire()
    wire.session.subscribe(v2.Subscribe(channel="balances"), wire.now)
    wire.pump()
    wire.advance(1.0)
    (snapshot,) = balance_events(wire)
    assert snapshot.snapshot
    assert wire.session.state is SessionState.LIVE


def test_a_balances_gap_is_passed_on_as_its_own() -> None:
    v2link = V2Link()
    v2link._wanted["ownTrades"] = Subscribe(name="ownTrades")  # as if subscribed
    gap = SequenceGap(channel="balances", expected=3, got=5)
    assert v2link._translate(gap) == [gap]


def test_balances_are_refused_on_v1_and_executions_by_its_v2_name() -> None:
    wire = Wire()
    wire.session.start(wire.now)
    with pytest.raises(LocalProtocolError, match="balances is a WebSocket v2 channel"):
        wire.session.subscribe(v2.Subscribe(channel="balances"), wire.now)
    with pytest.raises(LocalProtocolError, match="name"):
        wire.session.subscribe(Subscribe(name="balances"), wire.now)  # type: ignore[arg-type]
    v2wire = Wire(config=SessionConfig(protocol="v2"))
    with pytest.raises(LocalProtocolError, match="v1 names"):
        v2wire.session.subscribe(v2.Subscribe(channel="executions"), v2wire.now)
    with pytest.raises(LocalProtocolError, match=r"expected a kraken_proto\.v1\.Subscribe"):
        v2wire.session.subscribe("balances", v2wire.now)  # type: ignore[arg-type]


@pytest.mark.parametrize("pending_cum_qty", [False, True])
def test_a_resting_v2_order_has_executed_nothing(pending_cum_qty: bool) -> None:
    wire = v2_wire(sim=SimulatorConfig(v2_pending_cum_qty=pending_cum_qty))
    handle = wire.session.submit(
        AddOrder(
            ordertype="limit",
            type="buy",
            pair="XBT/USD",
            volume=Decimal("0.25"),
            price=Decimal("1000"),
        ),
        wire.now,
    )
    wire.pump()
    wire.advance(1.0)
    (accepted,) = [e for e in wire.events if isinstance(e, RequestAccepted)]
    assert accepted.handle == handle
    assert accepted.txid is not None
    order = wire.session.orders.get(accepted.txid)
    assert order is not None
    assert order.status == "open"
    assert order.vol_exec == Decimal(0)
