"""Issue 18: a subscription's first snapshot is reported even when empty (``SubscriptionReady``).

A watcher on a fresh account (no orders, no trades) otherwise gets no event saying its channels
are live. Checked over v1 and v2, against the simulator's exchange model in memory.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from kraken_proto import (
    AddOrder,
    Connected,
    OrdersChanged,
    Reconnected,
    RequestAccepted,
    SessionConfig,
    SessionState,
    SubscriptionReady,
)
from kraken_proto.v1 import Subscribe

from tests.session.session_wire import Wire

PROTOCOLS = ("v1", "v2")


def _wire(protocol: str) -> Wire:
    wire = Wire(config=SessionConfig(protocol=protocol))
    wire.session.start(wire.now)
    return wire


def _ready(wire: Wire) -> list[SubscriptionReady]:
    return [event for event in wire.events if isinstance(event, SubscriptionReady)]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_fresh_account_reports_each_channel_ready_once_with_no_rows(protocol: str) -> None:
    wire = _wire(protocol)
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    assert wire.session.state is SessionState.LIVE
    ready = _ready(wire)
    assert sorted((event.channel, event.rows) for event in ready) == [
        ("openOrders", 0),
        ("ownTrades", 0),
    ]
    # both come before the session calls itself live, and nothing else said so
    connected = wire.events.index(Connected())
    assert all(wire.events.index(event) < connected for event in ready)
    assert not [e for e in wire.events if isinstance(e, OrdersChanged)]

    # a reconnect brings new (empty) snapshots but no second SubscriptionReady
    wire.drop()
    wire.settle()
    assert any(isinstance(event, Reconnected) for event in wire.events)
    assert _ready(wire) == ready


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_channel_subscribed_later_reports_its_snapshot_rows(protocol: str) -> None:
    wire = _wire(protocol)
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.pump()
    assert wire.session.state is SessionState.LIVE
    assert _ready(wire) == [SubscriptionReady(channel="ownTrades", rows=0)]
    order = AddOrder(
        ordertype="limit",
        type="buy",
        pair="XBT/USD",
        volume=Decimal("0.01"),
        price=Decimal("29000.0"),  # rests below the reference price
    )
    handle = wire.session.submit(order, wire.now)
    wire.pump()
    (accepted,) = [e for e in wire.events if isinstance(e, RequestAccepted) and e.handle == handle]
    wire.events.clear()

    # v1 subscribes on the live connection; v2 reconnects to subscribe both together
    wire.session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    wire.settle()
    (ready,) = _ready(wire)
    assert ready == SubscriptionReady(channel="openOrders", rows=1)
    # the snapshot's row was reported before the channel was called ready
    (changed,) = [e for e in wire.events if isinstance(e, OrdersChanged)]
    assert wire.events.index(changed) < wire.events.index(ready)
    assert [o.txid for o in changed.changes.added] == [accepted.txid]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_own_trades_without_snapshot_is_ready_when_confirmed(protocol: str) -> None:
    wire = _wire(protocol)
    wire.session.subscribe(Subscribe(name="ownTrades", snapshot=False), wire.now)
    wire.pump()
    assert wire.session.state is SessionState.LIVE
    assert _ready(wire) == [SubscriptionReady(channel="ownTrades", rows=0)]
