"""A pacing session reads Kraken's own trading counter (issue 19: "resynchronises from
``ratecount``/``maxratecount`` when the server sends them").

Regressions: (a) the ``maxratecount`` of the subscribe ack was never adopted as the pacer's
threshold; (b) over v2 the executions subscribe took its options from whichever channel came
first, so a session that subscribed ownTrades first never got ``ratecount`` (and a bot that
asked for it on openOrders later needed a reconnect to get it). A pacing session now asks for
the counter from its first subscribe, over v1 (``ratecounter`` on openOrders) and v2
(``ratecounter`` on executions)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from kraken_proto import (
    LocalProtocolError,
    OrderPaced,
    RequestAccepted,
    RequestOutcome,
    SessionConfig,
    SessionState,
)
from kraken_proto.adapters.simulator.model.exchange import SimulatorConfig
from kraken_proto.session import V1Link, V2Link
from kraken_proto.session._pacer import maxratecount_of
from kraken_proto.session._pacing import TradingCounter
from kraken_proto.v1 import (
    ConnectionConfig,
    RequestCompleted,
    Subscribe,
    SubscriptionInfo,
    SubscriptionStatus,
)
from kraken_proto.v2 import SubscribeReply, SubscribeResult

from tests.session.session_wire import Wire
from tests.session.test_session import limit

NOW = 1_700_000_000.0
TOKEN = "G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY"


def connected(
    *,
    protocol: str,
    pace: bool,
    first: str = "ownTrades",
    ratecounter: bool | None = None,
    **sim: Any,
) -> Wire:
    """A session LIVE on the in-memory exchange, ``first`` subscribed before the other."""
    config = SessionConfig(pace_orders=pace, protocol=protocol, rest_tier="starter")
    wire = Wire(config=config, sim=SimulatorConfig(**sim))
    requests = {
        "ownTrades": Subscribe(name="ownTrades"),
        "openOrders": Subscribe(name="openOrders", ratecounter=ratecounter),
    }
    wire.session.start(wire.now)
    wire.session.subscribe(requests.pop(first), wire.now)
    (other,) = requests.values()
    wire.session.subscribe(other, wire.now)
    wire.pump()
    assert wire.session.state is SessionState.LIVE
    return wire


def server_ratecounter(wire: Wire) -> bool:
    """Whether the exchange streams the counter to the session's connection."""
    sid = wire.current_sid()
    assert sid is not None
    channel = "executions" if wire.protocol == "v2" else "openOrders"
    subscription: Any = wire.exchange._sessions[sid].subscriptions[channel]
    return bool(subscription.ratecounter)


# --- (b) asking for the counter from the first subscribe -------------------------------------


@pytest.mark.parametrize("protocol", ["v1", "v2"])
@pytest.mark.parametrize("first", ["ownTrades", "openOrders"])
def test_a_pacing_session_asks_for_the_counter_whichever_channel_comes_first(
    protocol: str, first: str
) -> None:
    wire = connected(protocol=protocol, pace=True, first=first)
    assert server_ratecounter(wire)
    assert wire.opens == 1  # no reconnect was needed to get it


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_an_unpaced_session_sends_the_option_only_when_asked(protocol: str) -> None:
    assert not server_ratecounter(connected(protocol=protocol, pace=False))
    asked = connected(protocol=protocol, pace=False, first="openOrders", ratecounter=True)
    assert server_ratecounter(asked)


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_an_explicit_ratecounter_false_is_kept(protocol: str) -> None:
    wire = connected(protocol=protocol, pace=True, first="openOrders", ratecounter=False)
    assert not server_ratecounter(wire)


def test_a_v1_link_adds_the_option_to_openorders_only() -> None:
    link = V1Link(ConnectionConfig(), ratecounter=True)
    link.connection_made(NOW)
    link.provide_token(TOKEN, NOW)
    link.send(Subscribe(name="ownTrades"), NOW)
    link.send(Subscribe(name="openOrders"), NOW)
    trades, orders = (json.loads(text)["subscription"] for text in link.data_to_send())
    assert "ratecounter" not in trades
    assert orders["ratecounter"] is True


def test_a_v2_openorders_subscribe_after_the_ack_still_gets_the_ack() -> None:
    link = V2Link(ratecounter=True)
    link.connection_made(NOW)
    link.provide_token(TOKEN, NOW)
    link.send(Subscribe(name="ownTrades"), NOW)
    (subscribe,) = (json.loads(text) for text in link.data_to_send())
    assert subscribe["params"]["ratecounter"] is True
    result = {"channel": "executions", "maxratecount": 180}
    reply = {"method": "subscribe", "req_id": subscribe["req_id"], "success": True}
    link.receive_message(json.dumps({**reply, "result": result}), NOW)
    link.events_received()
    link.send(Subscribe(name="openOrders"), NOW)  # after the ack, before the snapshot
    (ended,) = link.events_received()
    assert isinstance(ended, RequestCompleted)
    assert maxratecount_of(ended) == 180


# --- (a) the threshold follows maxratecount --------------------------------------------------


@pytest.mark.parametrize("protocol", ["v1", "v2"])
@pytest.mark.parametrize(
    ("tier", "maxratecount", "decay"),
    [("starter", 125, 1.0), ("pro", 60, 1.0), ("intermediate", 180, 2.34)],
)
def test_the_pacers_threshold_follows_the_servers_maxratecount(
    protocol: str, tier: str, maxratecount: int, decay: float
) -> None:
    config = SessionConfig(pace_orders=True, protocol=protocol, rest_tier=tier)
    wire = Wire(config=config, sim=SimulatorConfig(maxratecount=maxratecount))
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    pacer = wire.session._pacer
    assert pacer is not None
    assert (pacer.counter.threshold, pacer.counter.decay_per_second) == (maxratecount, decay)


def test_a_paced_session_on_a_lower_tier_than_configured_is_never_refused() -> None:
    """The regression: configured Pro (180) on a Starter account (60), the pacer used to
    send 180 units' worth at once and was refused for the rate."""
    config = SessionConfig(pace_orders=True, rest_tier="pro")
    sim = SimulatorConfig(maxratecount=60, rate_decay_per_second=Decimal("1.00"))
    wire = Wire(config=config, sim=sim)
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    handles = [wire.session.submit(limit(price=Decimal(20000 + n)), wire.now) for n in range(90)]
    wire.pump()
    while wire.session.pending():
        wire.advance(max(0.0, (wire.session.next_deadline() or wire.now) - wire.now))
    ended = {e.handle: e for e in wire.events if isinstance(e, RequestOutcome)}
    assert all(isinstance(ended[handle], RequestAccepted) for handle in handles)
    assert any(isinstance(e, OrderPaced) for e in wire.events)


def test_a_v2_session_without_openorders_still_learns_the_threshold() -> None:
    config = SessionConfig(pace_orders=True, protocol="v2", rest_tier="pro")
    wire = Wire(config=config, sim=SimulatorConfig(maxratecount=60))
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.pump()
    pacer = wire.session._pacer
    assert pacer is not None
    assert pacer.counter.threshold == 60


def test_maxratecount_of_reads_both_acks() -> None:
    orders = Subscribe(name="openOrders")
    v1_ack = SubscriptionStatus(
        status="subscribed", subscription=SubscriptionInfo(name="openOrders", maxratecount=125)
    )
    assert maxratecount_of(RequestCompleted(reqid=1, request=orders, replies=(v1_ack,))) == 125
    v2_ack = SubscribeReply(success=True, result=SubscribeResult(maxratecount=60))
    assert maxratecount_of(RequestCompleted(reqid=1, request=orders, replies=(v2_ack,))) == 60
    silent = (
        SubscriptionStatus(status="subscribed"),
        SubscriptionStatus(status="subscribed", subscription=SubscriptionInfo(name="x")),
        SubscribeReply(success=True),
        SubscribeReply(success=True, result=SubscribeResult()),
    )
    assert maxratecount_of(RequestCompleted(reqid=1, request=orders, replies=silent)) is None
    # over v2 the ownTrades subscribe ends with the executions ack too: it counts
    trades = RequestCompleted(reqid=1, request=Subscribe(name="ownTrades"), replies=(v2_ack,))
    assert maxratecount_of(trades) == 60


def test_set_threshold_slows_the_decay_to_the_tier_it_names() -> None:
    counter = TradingCounter("pro")
    counter.set_threshold(60)  # the server says Starter: its decay, not Pro's
    assert (counter.threshold, counter.decay_per_second) == (60, 1.0)
    counter = TradingCounter("starter")
    counter.set_threshold(180)  # Pro's threshold; the decay never speeds up
    assert (counter.threshold, counter.decay_per_second) == (180, 1.0)
    counter.set_threshold(100)  # no tier's: the threshold only
    assert (counter.threshold, counter.decay_per_second) == (100, 1.0)
    given = TradingCounter("pro", decay_per_second=37.5)  # given explicitly: kept
    given.set_threshold(60)
    assert (given.threshold, given.decay_per_second) == (60, 37.5)


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), True, "2"])
def test_a_bad_decay_is_refused(value: Any) -> None:
    with pytest.raises(LocalProtocolError, match="decay_per_second: must be a finite number > 0"):
        TradingCounter(decay_per_second=value)
    with pytest.raises(LocalProtocolError, match="pace_decay_per_second: must be"):
        SessionConfig(pace_decay_per_second=value)


def test_the_session_config_decay_reaches_the_pacer() -> None:
    wire = Wire(config=SessionConfig(pace_orders=True, pace_decay_per_second=23.4))
    pacer = wire.session._pacer
    assert pacer is not None
    assert pacer.counter.decay_per_second == 23.4
    assert Decimal(str(pacer.counter.threshold)) == 60  # the tier's, until Kraken says
