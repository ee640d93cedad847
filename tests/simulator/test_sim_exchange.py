"""The simulator's pure exchange model, on its own: virtual time, seeded randomness, no I/O."""

from __future__ import annotations

import json
import random
import re
from decimal import Decimal
from typing import Any

import pytest
from kraken_proto import Event, decode
from kraken_proto.adapters.simulator import Exchange, PairConfig, SimulatorConfig
from kraken_proto.adapters.simulator.model._format import kraken_id
from kraken_proto.adapters.simulator.model._params import Reject, rfc3339_seconds, userref_arg
from kraken_proto.adapters.simulator.model._rest import TOKEN_PATH
from kraken_proto.rest._signing import sign
from kraken_proto.v1 import (
    AddOrderStatus,
    AmendOrderStatus,
    CancelAllOrdersAfterStatus,
    CancelAllStatus,
    CancelOrderStatus,
    EditOrderStatus,
    ErrorEvent,
    Heartbeat,
    OpenOrders,
    OwnTrades,
    PingStatus,
    Pong,
    SubscriptionInfo,
    SubscriptionStatus,
    SystemStatus,
    UnknownMessage,
)

T0 = 1_700_000_000.0
FLOAT_PRICE: Any = 1.5  # a float where money belongs: must be refused


def decoded(frames: list[str]) -> list[Event]:
    """Every frame the model emits must decode to a known event."""
    events = [decode(frame) for frame in frames]
    for event in events:
        assert not isinstance(event, UnknownMessage), event
    return events


class Harness:
    """An exchange plus helpers to fetch tokens and talk to sessions at explicit times."""

    def __init__(self, config: SimulatorConfig | None = None, *, seed: int = 7) -> None:
        self.config = config or SimulatorConfig()
        self.now = T0
        self.ex = Exchange(self.config, rng=random.Random(seed), now=self.now)
        self.nonce = 1

    def rest(self, body: bytes | None = None, **overrides: Any) -> tuple[int, Any]:
        self.nonce += 1
        body = f"nonce={self.nonce}".encode() if body is None else body
        nonce = overrides.pop("nonce", self.nonce)
        headers = {
            "API-Key": self.config.api_key,
            "API-Sign": sign(
                secret=self.config.api_secret, urlpath=TOKEN_PATH, nonce=nonce, postdata=body
            ),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        headers.update(overrides.pop("headers", {}))
        reply = self.ex.handle_rest(
            method=overrides.pop("method", "POST"),
            path=overrides.pop("path", TOKEN_PATH),
            headers=headers,
            body=body,
            now=self.now,
        )
        try:
            return reply.status, json.loads(reply.body)
        except ValueError:
            return reply.status, reply.body

    def token(self) -> str:
        status, payload = self.rest()
        assert status == 200
        assert payload["error"] == []
        token: str = payload["result"]["token"]
        return token

    def session(self, *channels: str, token: str | None = None, **options: Any) -> int:
        session = self.ex.open_session(self.now)
        self.drain(session)
        self.tok = token or self.token()
        for name in channels:
            events = self.send(
                session, {"event": "subscribe", "subscription": {"name": name, "token": self.tok}}
            )
            assert isinstance(events[0], SubscriptionStatus), events
            assert events[0].ok, events
        return session

    def at(self, now: float) -> None:
        self.now = now

    def send(self, session: int, message: dict[str, Any] | str) -> list[Event]:
        text = message if isinstance(message, str) else json.dumps(message)
        self.ex.receive(session, text, self.now)
        return self.drain(session)

    def trade(self, session: int, event: str, **fields: Any) -> list[Event]:
        return self.send(session, {"event": event, "token": self.tok, **fields})

    def drain(self, session: int) -> list[Event]:
        return decoded(self.ex.take_outgoing(session, self.now))

    def send_raw(self, session: int, message: dict[str, Any]) -> list[Any]:
        """The frames a message is answered with, as parsed JSON (to pin exact shapes)."""
        self.ex.receive(session, json.dumps(message), self.now)
        frames = self.ex.take_outgoing(session, self.now)
        decoded(frames)
        return [json.loads(frame) for frame in frames]

    def move(self, pair: str, price: str) -> None:
        self.ex.set_reference_price(pair, Decimal(price), self.now)


def of(events: list[Event], kind: type[Event]) -> list[Any]:
    return [event for event in events if isinstance(event, kind)]


def order_entries(events: list[Event]) -> list[tuple[str, Any]]:
    return [item for event in of(events, OpenOrders) for item in event.orders]


def error_of(events: list[Event]) -> str | None:
    replies = [e for e in events if hasattr(e, "error_message") and e.error_message]
    assert len(replies) == 1, events
    message: str = replies[0].error_message
    return message


def limit(**fields: Any) -> dict[str, Any]:
    base = {"pair": "XBT/USD", "type": "buy", "ordertype": "limit", "price": "29000.0"}
    base["volume"] = "0.5"
    base.update(fields)
    return base


@pytest.fixture
def h() -> Harness:
    return Harness()


# --- REST --------------------------------------------------------------------------------------


def test_rest_token_success_shape(h: Harness) -> None:
    status, payload = h.rest()
    assert status == 200
    assert payload["error"] == []
    assert payload["result"]["expires"] == 900
    token = payload["result"]["token"]
    assert len(token) == 43
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def test_rest_headers_are_case_insensitive_and_json_bodies_work(h: Harness) -> None:
    h.nonce += 1
    body = json.dumps({"nonce": str(h.nonce)}).encode()
    headers = {
        "api-key": h.config.api_key,
        "API-SIGN": sign(
            secret=h.config.api_secret, urlpath=TOKEN_PATH, nonce=h.nonce, postdata=body
        ),
        "content-type": "application/json",
    }
    reply = h.ex.handle_rest(method="post", path=TOKEN_PATH, headers=headers, body=body, now=T0)
    assert reply.status == 200
    assert json.loads(reply.body)["result"]["token"]


@pytest.mark.parametrize(
    ("overrides", "body", "error"),
    [
        ({"headers": {"API-Key": "nope"}}, None, "EAPI:Invalid key"),
        ({"headers": {"API-Sign": "AAAA"}}, None, "EAPI:Invalid signature"),
        ({}, b"otp=1", "EGeneral:Invalid arguments"),
        ({}, b"nonce=", "EGeneral:Invalid arguments"),
        ({}, b"nonce=x", "EAPI:Invalid nonce"),
        ({}, "nonce=\u00b2".encode(), "EAPI:Invalid nonce"),
        ({}, b"nonce=18446744073709551616", "EAPI:Invalid nonce"),
        ({}, b"\xff\xfe", "EGeneral:Invalid arguments"),
    ],
)
def test_rest_errors(h: Harness, overrides: dict[str, Any], body: bytes | None, error: str) -> None:
    if body is not None:
        overrides["nonce"] = 1  # signed over a nonce the body lacks: the body check comes first
    status, payload = h.rest(body, **overrides)
    assert status == 200
    assert payload == {"error": [error]}


def test_rest_missing_key_header(h: Harness) -> None:
    reply = h.ex.handle_rest(method="POST", path=TOKEN_PATH, headers={}, body=b"nonce=1", now=T0)
    assert json.loads(reply.body) == {"error": ["EAPI:Invalid key"]}


def test_rest_json_body_without_nonce(h: Harness) -> None:
    for body in (b"{}", b"[1]", b"{not json", b'{"nonce": true}'):
        _status, payload = h.rest(
            body, nonce=1, headers={"Content-Type": "application/json; charset=utf-8"}
        )
        assert payload == {"error": ["EGeneral:Invalid arguments"]}


def test_rest_nonce_must_strictly_increase(h: Harness) -> None:
    _, payload = h.rest(b"nonce=100", nonce=100)
    assert payload["error"] == []
    for nonce in (100, 99):
        _, payload = h.rest(f"nonce={nonce}".encode(), nonce=nonce)
        assert payload == {"error": ["EAPI:Invalid nonce"]}
    _, payload = h.rest(b"nonce=101", nonce=101)
    assert payload["error"] == []


def test_rest_permission_denied() -> None:
    h = Harness(SimulatorConfig(websocket_permission=False))
    assert h.rest() == (200, {"error": ["EGeneral:Permission denied"]})


def test_rest_routing_and_faults(h: Harness) -> None:
    assert h.rest(path="/0/private/Balance")[0] == 404
    assert h.rest(method="GET")[0] == 405
    h.ex.rest_fault = "http_500"
    status, body = h.rest()
    assert status == 500
    assert isinstance(body, bytes)
    h.ex.rest_fault = "non_json"
    reply = h.ex.handle_rest(method="POST", path=TOKEN_PATH, headers={}, body=b"", now=T0)
    assert reply.status == 200
    assert reply.content_type.startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.body)
    h.ex.rest_fault = None
    assert h.rest()[1]["error"] == []


def test_unused_token_expires_after_ttl(h: Harness) -> None:
    token = h.token()
    session = h.ex.open_session(T0)
    h.drain(session)
    h.at(T0 + 901)
    frames = h.send_raw(
        session, {"event": "subscribe", "subscription": {"name": "ownTrades", "token": token}}
    )
    # Real refusals carry no channelName and echo the subscription (the token left out).
    assert frames == [
        {
            "errorMessage": "ESession:Invalid session",
            "event": "subscriptionStatus",
            "status": "error",
            "subscription": {"name": "ownTrades"},
        }
    ]


def test_token_held_by_subscription_stays_valid_while_session_lives(h: Harness) -> None:
    session = h.session("openOrders")
    h.at(T0 + 5000)
    events = h.trade(session, "addOrder", **limit())
    assert of(events, AddOrderStatus)[0].ok
    other = h.ex.open_session(h.now)
    h.drain(other)
    sub = {"event": "subscribe", "subscription": {"name": "ownTrades", "token": h.tok}}
    assert of(h.send(other, sub), SubscriptionStatus)[0].ok
    h.ex.close_session(session, h.now)
    h.ex.close_session(other, h.now)
    h.ex.close_session(other, h.now)  # idempotent
    assert h.ex.take_outgoing(session, h.now) == []
    third = h.ex.open_session(h.now + 100)
    h.at(h.now + 100)
    h.drain(third)
    assert of(h.send(third, sub), SubscriptionStatus)[0].ok  # within ttl of its last use
    h.ex.close_session(third, h.now)
    h.at(h.now + 901)
    fourth = h.ex.open_session(h.now)
    h.drain(fourth)
    assert error_of(h.send(fourth, sub)) == "ESession:Invalid session"


def test_invalidate_tokens(h: Harness) -> None:
    session = h.session("openOrders")
    h.ex.invalidate_tokens()
    assert error_of(h.trade(session, "addOrder", **limit())) == "ESession:Invalid session"
    fresh = h.token()
    h.tok = fresh
    assert of(h.trade(session, "addOrder", **limit()), AddOrderStatus)[0].ok


# --- session basics ---------------------------------------------------------------------------


class BigRandom(random.Random):
    def randrange(self, n: int, *args: Any, **kwargs: Any) -> int:  # type: ignore[override]
        return n - 1


def test_system_status_on_open_with_unsigned_64_bit_connection_id() -> None:
    ex = Exchange(SimulatorConfig(), rng=BigRandom(), now=T0)
    session = ex.open_session(T0)
    (status,) = decoded(ex.take_outgoing(session, T0))
    assert status == SystemStatus(status="online", connection_id=2**64 - 1, version="1.9.1")
    assert ex.take_outgoing(session, T0) == []
    assert ex.take_outgoing(999, T0) == []


def test_bad_config_and_controls_are_refused() -> None:
    with pytest.raises(ValueError, match="system_status"):
        Exchange(SimulatorConfig(system_status="closed"), rng=random.Random(), now=T0)
    ex = Exchange(SimulatorConfig(), rng=random.Random(), now=T0)
    with pytest.raises(ValueError, match="status must be one of"):
        ex.set_system_status("closed", T0)
    with pytest.raises(KeyError):
        ex.set_reference_price("DOGE/USD", Decimal(1), T0)
    with pytest.raises(ValueError, match="Decimal"):
        ex.set_reference_price("XBT/USD", FLOAT_PRICE, T0)
    with pytest.raises(ValueError, match="XBT/USD price can only be specified up to 1 decimals"):
        ex.set_reference_price("XBT/USD", Decimal("30000.123"), T0)
    ex.set_reference_price("XBT/USD", Decimal("30000.10"), T0)  # trailing zeros are fine
    with pytest.raises(KeyError):
        ex.faults(42)
    ex.receive(42, "{}", T0)  # a closed session's messages are ignored
    assert "kQH5" not in repr(SimulatorConfig())


def test_ping_pong(h: Harness) -> None:
    session = h.session()
    assert h.send(session, {"event": "ping", "reqid": 42}) == [Pong(reqid=42)]
    assert h.send(session, {"event": "ping"}) == [Pong()]
    assert h.send(session, {"event": "ping", "reqid": 2**64 - 1}) == [Pong(reqid=2**64 - 1)]
    (error,) = h.send(session, {"event": "ping", "reqid": "a"})
    assert isinstance(error, PingStatus)
    assert error.reqid == "a"
    assert error.error_message is not None
    assert error.error_message.startswith("Reqid field")
    (error,) = h.send(session, {"event": "ping", "reqid": -1})
    assert isinstance(error, PingStatus)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{nope", ErrorEvent(error_message="Malformed request")),
        ("[1, 2]", ErrorEvent(error_message="Malformed request")),
        ('{"event": "ping", "reqid": NaN}', ErrorEvent(error_message="Malformed request")),
        ("[" * 100_000, ErrorEvent(error_message="Malformed request")),
        (
            '{"reqid": 1}',
            SubscriptionStatus(status="error", reqid=1, error_message="Event(s) not found"),
        ),
        (
            '{"event": "fly", "reqid": 2}',
            SubscriptionStatus(status="error", reqid=2, error_message="Unsupported event"),
        ),
        ('{"event": 5}', SubscriptionStatus(status="error", error_message="Unsupported event")),
    ],
)
def test_request_level_errors(h: Harness, text: str, expected: Event) -> None:
    session = h.session()
    assert h.send(session, text) == [expected]


def test_bad_reqid_on_a_trading_request_is_answered_with_null_and_the_pair(h: Harness) -> None:
    session = h.session()
    frames = h.send_raw(session, {"event": "addOrder", "pair": "USDT/USD", "reqid": "x"})
    # the capture: {"errorMessage":"Reqid field must be ...","event":"addOrderStatus",
    #               "pair":"USDC/USD","reqid":null,"status":"error"}
    assert frames == [
        {
            "errorMessage": "Reqid field must be a positive integer less than 18446744073709551616",
            "event": "addOrderStatus",
            "pair": "USDT/USD",
            "reqid": None,
            "status": "error",
        }
    ]
    (ping,) = h.send_raw(session, {"event": "ping", "reqid": "a"})
    assert ping["event"] == "pingStatus"
    assert ping["reqid"] == "a"


def test_trading_errors_echo_the_pair(h: Harness) -> None:
    session = h.session()
    (reply,) = h.send_raw(
        session,
        {"event": "addOrder", "token": h.tok, "reqid": 4, **limit(volume="0.00001")},
    )
    assert reply == {
        "errorMessage": "EOrder:Order minimum not met",
        "event": "addOrderStatus",
        "pair": "XBT/USD",
        "reqid": 4,
        "status": "error",
    }
    (ok,) = [
        f
        for f in h.send_raw(session, {"event": "addOrder", "token": h.tok, **limit()})
        if isinstance(f, dict)
    ]
    assert "pair" not in ok  # successes do not repeat it


# --- subscriptions ----------------------------------------------------------------------------


def test_subscribe_acks_and_empty_snapshots(h: Harness) -> None:
    session = h.session()
    sub = {"name": "openOrders", "token": h.tok}
    events = h.send(session, {"event": "subscribe", "reqid": 1, "subscription": sub})
    ack, snapshot = events
    assert ack == SubscriptionStatus(  # no maxratecount unless ratecounter asked for it
        status="subscribed",
        reqid=1,
        channel_name="openOrders",
        subscription=SubscriptionInfo(name="openOrders"),
    )
    assert snapshot == OpenOrders(orders=(), sequence=1)
    events = h.send(
        session, {"event": "subscribe", "subscription": {"name": "ownTrades", "token": h.tok}}
    )
    assert events[1] == OwnTrades(trades=(), sequence=1)
    assert events[0].subscription.maxratecount is None  # type: ignore[attr-defined]


def test_subscription_errors(h: Harness) -> None:
    session = h.session("ownTrades")
    own, orders = {"name": "ownTrades"}, {"name": "openOrders"}
    cases: list[tuple[dict[str, Any], str, dict[str, Any] | None]] = [
        ({"subscription": "x"}, "Subscription field must be an object", None),
        (
            {"subscription": {"name": "book", "token": h.tok}},
            "Subscription name invalid",
            {"name": "book"},
        ),
        (
            {"pair": ["XBT/USD"], "subscription": {"name": "ownTrades", "token": h.tok}},
            "Pair field unsupported for this subscription type",
            own,
        ),
        ({"subscription": {"name": "openOrders"}}, "ESession:Invalid session", orders),
        (
            {"subscription": {"name": "openOrders", "token": "nope", "snapshot": False}},
            "ESession:Invalid session",
            orders,
        ),
        ({"subscription": {"name": "ownTrades", "token": h.tok}}, "Already subscribed", own),
        (
            {"subscription": {"name": "openOrders", "token": h.tok, "ratecounter": 3}},
            "EGeneral:Invalid arguments:ratecounter",
            orders,
        ),
    ]
    for fields, message, echo in cases:
        (reply,) = h.send_raw(session, {"event": "subscribe", "reqid": 9, **fields})
        expected: dict[str, Any] = {
            "errorMessage": message,
            "event": "subscriptionStatus",
            "reqid": 9,
            "status": "error",
        }
        if echo is not None:
            expected["subscription"] = echo
        assert reply == expected  # never a channelName; the token never echoed


def test_unsubscribe(h: Harness) -> None:
    session = h.session("ownTrades", "openOrders")
    sub = {"name": "ownTrades", "token": h.tok}
    (ack,) = h.send(session, {"event": "unsubscribe", "reqid": 3, "subscription": sub})
    assert isinstance(ack, SubscriptionStatus)
    assert ack.status == "unsubscribed"
    assert ack.reqid == 3
    assert ack.channel_name == "ownTrades"
    (again,) = h.send_raw(session, {"event": "unsubscribe", "subscription": sub})
    assert again == {
        "errorMessage": "Subscription Not Found",
        "event": "subscriptionStatus",
        "status": "error",
        "subscription": {"name": "ownTrades"},
    }
    (ack,) = h.send(
        session, {"event": "unsubscribe", "subscription": {"name": "openOrders", "token": h.tok}}
    )
    assert ack.ok  # type: ignore[attr-defined]
    # resubscribing starts a fresh sequence with a new snapshot
    events = h.send(session, {"event": "subscribe", "subscription": sub})
    assert events[1] == OwnTrades(trades=(), sequence=1)


def test_heartbeats_only_while_subscribed_and_idle(h: Harness) -> None:
    session = h.session()
    assert h.ex.next_deadline() is None
    h.ex.advance(T0 + 10)
    assert h.ex.take_outgoing(session, T0 + 10) == []
    h.send(session, {"event": "subscribe", "subscription": {"name": "ownTrades", "token": h.tok}})
    assert h.ex.next_deadline() == h.now + 1.0
    h.ex.advance(h.now + 0.5)
    assert h.ex.take_outgoing(session, h.now + 0.5) == []
    h.at(h.now + 1.0)
    h.ex.advance(h.now)
    assert h.drain(session) == [Heartbeat()]
    assert h.ex.next_deadline() == h.now + 1.0
    h.ex.faults(session).heartbeats = False
    assert h.ex.next_deadline() is None


# --- trading: lifecycles -----------------------------------------------------------------------


def test_limit_order_rests_then_fills_as_maker_when_the_price_moves(h: Harness) -> None:
    session = h.session("openOrders", "ownTrades")
    events = h.trade(session, "addOrder", reqid=5, userref="17", **limit())
    reply = of(events, AddOrderStatus)[0]
    assert reply.ok
    assert reply.reqid == 5
    assert reply.descr == "buy 0.50000000 XBTUSD @ limit 29000.0"  # the pair's 1 decimal
    assert reply.txid is not None
    assert re.fullmatch(r"O[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}", reply.txid)
    (new, live) = order_entries(events)
    assert new[1].status == "pending"
    assert new[1].descr.price == Decimal("29000.00000")
    assert new[1].userref == 17
    assert new[1].opentm == Decimal(f"{T0:.6f}")
    assert live[1].status == "open"
    assert live[1].userref == 17
    assert h.ex.open_orders()[reply.txid].status == "open"
    h.at(T0 + 1)
    h.move("XBT/USD", "29500")
    assert h.drain(session) == []
    h.move("XBT/USD", "28900")
    events = h.drain(session)
    entries = order_entries(events)
    final = entries[-1][1]
    assert final.status == "closed"
    assert final.vol_exec == Decimal("0.5")
    assert final.cost == Decimal("14500.00000")
    assert final.fee == Decimal("36.25000")  # maker 0.25 % (tier 0)
    assert final.avg_price == Decimal("29000.00000")
    assert final.lastupdated is not None
    fills = entries[:-1]
    for _, partial in fills:
        assert partial.status is None
        assert partial.userref == 17
    # the last fill is a delta of its own, and the closed delta repeats its totals
    last_fill = fills[-1][1]
    assert last_fill.vol_exec == Decimal("0.5")
    assert (last_fill.cost, last_fill.fee, last_fill.avg_price) == (
        final.cost,
        final.fee,
        final.avg_price,
    )
    assert all(p.vol_exec < 0.5 for _, p in fills[:-1])
    trades = [trade for event in of(events, OwnTrades) for _, trade in event.trades]
    assert sum(t.vol for t in trades) == Decimal("0.5")
    assert all(t.price == Decimal("29000") and t.postxid == "TKH2SE-M7IF5-CFI7LT" for t in trades)
    assert all(t.userref is None for t in trades)  # as captured: no userref on updates
    for event in of(events, OwnTrades):
        for trade_id, trade in event.trades:
            assert re.fullmatch(r"T[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}", trade_id)
            assert trade.time == Decimal(f"{T0 + 1:.6f}")
    assert reply.txid not in h.ex.open_orders()
    assert set(h.ex.trades()) == {tid for e in of(events, OwnTrades) for tid, _ in e.trades}
    balances = h.ex.balances()
    assert balances["XBT"] == Decimal("1000.5")
    assert balances["USD"] == Decimal("10000000") - Decimal("14500") - Decimal("36.25")


def test_market_order_fills_in_partials_and_consolidates(h: Harness) -> None:
    seen_parts = set()
    for seed in range(12):
        h = Harness(seed=seed)
        session = h.session("openOrders", "ownTrades")
        other = h.ex.open_session(h.now)
        h.drain(other)
        h.send(
            other,
            {
                "event": "subscribe",
                "subscription": {"name": "ownTrades", "token": h.tok, "consolidate_taker": False},
            },
        )
        events = h.trade(
            session, "addOrder", pair="XBT/USD", type="sell", ordertype="market", volume="1.0"
        )
        entries = order_entries(events)
        statuses = [record.status for _, record in entries]
        assert statuses[:2] == ["pending", "open"]
        assert statuses[-1] == "closed"
        fills = entries[2:-1]  # one delta per fill, the last one included
        execs = [record.vol_exec for _, record in fills]
        assert execs == sorted(execs)
        assert execs[-1] == 1
        assert all(v < 1 for v in execs[:-1])
        assert entries[-1][1].vol_exec == 1  # the closed delta repeats the totals
        seen_parts.add(len(fills))
        consolidated = [t for e in of(events, OwnTrades) for t in e.trades]
        assert len(consolidated) == 1
        assert consolidated[0][1].vol == Decimal("1")
        assert consolidated[0][1].price == Decimal("30000")
        assert consolidated[0][1].fee == Decimal("120.00000")  # taker 0.40 %
        individual = [t for e in of(h.drain(other), OwnTrades) for t in e.trades]
        assert len(individual) == len(fills)
        assert sum(t.vol for _, t in individual) == Decimal("1")
        assert set(h.ex.trades()) == {consolidated[0][0]}
        assert {tid for tid, _ in individual} == set(h.ex.fills())
    assert seen_parts == {1, 2, 3}


def test_crossing_limit_fills_as_taker_at_the_reference(h: Harness) -> None:
    session = h.session("openOrders", "ownTrades")
    events = h.trade(session, "addOrder", **limit(price="31000.0", volume="0.0001"))
    closed = order_entries(events)[-1][1]
    assert closed.status == "closed"
    assert closed.avg_price == Decimal("30000")
    assert closed.fee == Decimal("0.01200")  # 0.40 % of 3.00000 (taker, tier 0)


def test_post_only_rejected_when_it_would_take(h: Harness) -> None:
    session = h.session("openOrders")
    events = h.trade(session, "addOrder", oflags="post", **limit(price="31000.0"))
    assert error_of(events) == "EOrder:Post only order"
    assert order_entries(events) == []
    events = h.trade(session, "addOrder", oflags="post", **limit())
    assert of(events, AddOrderStatus)[0].ok


def test_validate_only(h: Harness) -> None:
    session = h.session("openOrders")
    (reply,) = h.trade(session, "addOrder", validate="true", **limit())
    assert reply == AddOrderStatus(status="ok", descr="buy 0.50000000 XBTUSD @ limit 29000.0")
    (reply,) = h.trade(session, "addOrder", validate=True, cl_ord_id="abc", **limit())
    assert reply == AddOrderStatus(status="ok", descr="buy 0.50000000 XBTUSD @ limit 29000.0")
    assert h.ex.open_orders() == {}


def test_cl_ord_id_echoed_and_used_for_cancel(h: Harness) -> None:
    session = h.session("openOrders")
    events = h.trade(session, "addOrder", cl_ord_id="client-1", **limit())
    reply = of(events, AddOrderStatus)[0]
    assert reply.cl_ord_id == "client-1"
    assert order_entries(events)[0][1].cl_ord_id == "client-1"
    events = h.trade(session, "cancelOrder", reqid=8, cl_ord_id=["client-1"])
    assert of(events, CancelOrderStatus) == [CancelOrderStatus(status="ok", reqid=8)]
    ((_, canceled),) = order_entries(events)
    assert canceled.status == "canceled"
    assert canceled.cancel_reason == "User requested"
    assert canceled.vol_exec == 0
    assert canceled.userref == 0
    assert canceled.lastupdated


def test_cancel_by_txid_and_userref_one_reply_per_order(h: Harness) -> None:
    session = h.session("openOrders")
    first = of(h.trade(session, "addOrder", userref="5", **limit()), AddOrderStatus)[0].txid
    h.trade(session, "addOrder", userref="5", **limit(price="28000.0"))
    third = of(h.trade(session, "addOrder", **limit(price="27000.0")), AddOrderStatus)[0].txid
    h.at(T0 + 400)  # old enough to cost nothing on the rate counter
    events = h.trade(session, "cancelOrder", reqid=4, txid=["5", third, "OAAAAA-BBBBB-CCCCCC", "9"])
    replies = of(events, CancelOrderStatus)
    # userref 5 names two orders: one reply for each, then the third, then the unknowns
    assert [r.status for r in replies] == ["ok", "ok", "ok", "error", "error"]
    assert replies[3].error_message == "EOrder:Unknown order"
    assert all(r.reqid == 4 for r in replies)
    assert {txid for txid, _ in order_entries(events)} >= {first, third}
    assert h.ex.open_orders() == {}
    events = h.trade(session, "cancelOrder", txid=[third])
    assert error_of(events) == "EOrder:Unknown order"


@pytest.mark.parametrize(
    "fields",
    [{}, {"txid": "OABC"}, {"txid": []}, {"txid": [1]}, {"cl_ord_id": "x"}],
)
def test_cancel_bad_arguments(h: Harness, fields: dict[str, Any]) -> None:
    session = h.session()
    name = "cl_ord_id" if "cl_ord_id" in fields else "txid"
    assert (
        error_of(h.trade(session, "cancelOrder", **fields)) == f"EGeneral:Invalid arguments:{name}"
    )


def test_cancel_all_counts_as_integer(h: Harness) -> None:
    session = h.session("openOrders")
    for price in ("29000.0", "28000.0"):
        h.trade(session, "addOrder", **limit(price=price))
    h.ex.receive(session, json.dumps({"event": "cancelAll", "token": h.tok, "reqid": 2}), h.now)
    frames = h.ex.take_outgoing(session, h.now)
    assert json.loads(frames[0]) == {
        "count": 2,
        "event": "cancelAllStatus",
        "reqid": 2,
        "status": "ok",
    }
    events = decoded(frames)
    assert [r.status for _, r in order_entries(events)] == ["canceled", "canceled"]
    assert of(h.trade(session, "cancelAll"), CancelAllStatus)[0].count == 0


def test_edit_order_replaces_with_a_new_txid(h: Harness) -> None:
    session = h.session("openOrders")
    original = of(h.trade(session, "addOrder", userref="3", **limit()), AddOrderStatus)[0].txid
    events = h.trade(
        session,
        "editOrder",
        reqid=3,
        orderid=original,
        pair="XBT/USD",
        price="29100.0",
        volume="0.7",
        newuserref="4",
    )
    reply = of(events, EditOrderStatus)[0]
    assert reply.ok
    assert reply.originaltxid == original
    assert reply.reqid == 3
    assert reply.txid != original
    # 2023 traffic repeats the order description, the price as sent
    assert reply.descr == "buy 0.70000000 XBTUSD @ limit 29100.0"
    entries = order_entries(events)
    assert entries[0] == (original, entries[0][1])
    assert entries[0][1].status == "canceled"
    assert entries[1][0] == reply.txid
    assert entries[1][1].vol == Decimal("0.7")
    assert entries[1][1].userref == 4
    assert entries[1][1].descr.price == Decimal("29100")
    assert set(h.ex.open_orders()) == {reply.txid}
    # by userref, validate only
    (valid,) = h.trade(session, "editOrder", orderid="4", pair="XBT/USD", validate=True, price="1")
    assert valid == EditOrderStatus(status="ok", descr="buy 0.70000000 XBTUSD @ limit 1")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"orderid": 5}, "EGeneral:Invalid arguments:orderid"),
        ({"orderid": "OAAAAA-BBBBB-CCCCCC"}, "EOrder:Unknown order"),
        ({"cl_ord_id": "x"}, "EGeneral:Invalid arguments:cl_ord_id"),
        ({"pair": "ETH/USD"}, "EGeneral:Invalid arguments:pair"),
        ({"pair": "FOO/BAR"}, "EQuery:Unknown asset pair"),
        ({"volume": "0.00001"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": "0.123456789"}, "EGeneral:Invalid arguments:volume"),
        ({"oflags": "bogus"}, "EGeneral:Invalid arguments:oflags"),
        ({"price2": "x"}, "EGeneral:Invalid arguments:price2"),
        ({"newuserref": "abc"}, "EGeneral:Invalid arguments:newuserref"),
        ({"price": "31000.0", "oflags": "post"}, "EOrder:Post only order"),
        ({"volume": "10000"}, "EOrder:Insufficient funds"),
        ({"deadline": "2000-01-01T00:00:00Z"}, "EService:Deadline elapsed"),
    ],
)
def test_edit_errors(h: Harness, fields: dict[str, Any], error: str) -> None:
    session = h.session()
    txid = of(h.trade(session, "addOrder", **limit()), AddOrderStatus)[0].txid
    request = {"orderid": txid, "pair": "XBT/USD", **fields}
    assert error_of(h.trade(session, "editOrder", **request)) == error


def test_edit_refuses_triggered_orders_and_post_only_mode(h: Harness) -> None:
    session = h.session()
    stop = of(
        h.trade(
            session,
            "addOrder",
            **limit(ordertype="stop-loss-limit", type="sell", price="31000.0", price2="31100.0"),
        ),
        AddOrderStatus,
    )[0].txid
    assert (
        error_of(h.trade(session, "editOrder", orderid=stop, pair="XBT/USD"))
        == "EOrder:Invalid order"
    )
    plain = of(
        h.trade(session, "addOrder", **limit(ordertype="stop-loss", type="sell", price="25000.0")),
        AddOrderStatus,
    )[0].txid
    assert error_of(
        h.trade(session, "editOrder", orderid=plain, pair="XBT/USD", oflags="post")
    ) == ("EGeneral:Invalid arguments:oflags")
    h.ex.set_system_status("post_only", h.now)
    assert error_of(h.trade(session, "editOrder", orderid=plain, pair="XBT/USD")) == (
        "EService:Market in post_only mode"
    )


def test_amend_keeps_the_txid(h: Harness) -> None:
    session = h.session("openOrders")
    h.send(session, {"event": "subscribe", "subscription": {"name": "ownTrades", "token": h.tok}})
    txid = of(h.trade(session, "addOrder", cl_ord_id="c1", **limit()), AddOrderStatus)[0].txid
    events = h.trade(session, "amendOrder", reqid=6, txid=txid, volume="0.8", limit_price="29500.0")
    reply = of(events, AmendOrderStatus)[0]
    assert reply.ok
    assert reply.txid == txid
    assert reply.reqid == 6
    assert reply.cl_ord_id is None
    assert reply.amend_id is not None
    assert reply.amend_id.startswith("T")
    ((oid, delta),) = order_entries(events)
    assert oid == txid
    assert delta.amended is True
    assert delta.vol == Decimal("0.8")
    assert delta.descr.price == Decimal("29500")
    assert delta.status is None
    view = h.ex.open_orders()[txid]
    assert view.vol == Decimal("0.8")
    assert view.price == Decimal("29500")
    assert view.amended
    events = h.trade(session, "amendOrder", cl_ord_id="c1", limit_price="30500.0")
    reply = of(events, AmendOrderStatus)[0]
    assert reply.cl_ord_id == "c1"
    assert reply.txid is None
    assert order_entries(events)[-1][1].status == "closed"  # now crossing: filled as taker
    assert h.ex.open_orders() == {}


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, "EGeneral:Invalid arguments:txid"),
        ({"txid": "T", "cl_ord_id": "c"}, "EGeneral:Invalid arguments:txid"),
        ({"cl_ord_id": 5}, "EGeneral:Invalid arguments:cl_ord_id"),
        ({"txid": "OAAAAA-BBBBB-CCCCCC"}, "EOrder:Unknown order"),
        ({"display_volume": "0.1"}, "EGeneral:Invalid arguments:display_volume"),
        ({"pair": "ETH/USD"}, "EGeneral:Invalid arguments:pair"),
        ({"volume": "1.123456789"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": "0.00001"}, "EOrder:Order minimum not met"),
        ({"trigger_price": "1.0"}, "EGeneral:Invalid arguments:trigger_price"),
        ({"post_only": True}, "EGeneral:Invalid arguments:volume"),
        ({"limit_price": "31000.0", "post_only": True}, "EOrder:Post only order"),
        ({"volume": "1000"}, "EOrder:Insufficient funds"),
        ({"limit_price": "1.0", "deadline": "garbage"}, "EGeneral:Invalid arguments:deadline"),
    ],
)
def test_amend_errors(h: Harness, fields: dict[str, Any], error: str) -> None:
    session = h.session()
    txid = of(h.trade(session, "addOrder", **limit()), AddOrderStatus)[0].txid
    request = (
        {"txid": txid, **fields} if "txid" not in fields and "cl_ord_id" not in fields else fields
    )
    if fields == {}:
        request = {}
    assert error_of(h.trade(session, "amendOrder", **request)) == error
    assert h.ex.open_orders()[txid].vol == Decimal("0.5")


def test_amend_triggers_and_limits_of_stop_orders(h: Harness) -> None:
    session = h.session("openOrders")
    stop = of(
        h.trade(session, "addOrder", **limit(ordertype="stop-loss", type="sell", price="25000.0")),
        AddOrderStatus,
    )[0].txid
    assert error_of(h.trade(session, "amendOrder", txid=stop, limit_price="1.0")) == (
        "EGeneral:Invalid arguments:limit_price"
    )
    events = h.trade(session, "amendOrder", txid=stop, trigger_price="26000.0")
    assert order_entries(events)[0][1].descr.price == Decimal("26000")
    trail = of(
        h.trade(
            session, "addOrder", **limit(ordertype="trailing-stop", type="sell", price="+100.0")
        ),
        AddOrderStatus,
    )[0].txid
    assert error_of(h.trade(session, "amendOrder", txid=trail, trigger_price="-5")) == (
        "EGeneral:Invalid arguments:trigger_price"
    )
    assert of(h.trade(session, "amendOrder", txid=trail, trigger_price="+200"), AmendOrderStatus)[
        0
    ].ok
    sll = of(
        h.trade(
            session,
            "addOrder",
            **limit(ordertype="stop-loss-limit", type="sell", price="29000.0", price2="29100.0"),
        ),
        AddOrderStatus,
    )[0].txid
    assert of(h.trade(session, "amendOrder", txid=sll, limit_price="29150.0"), AmendOrderStatus)[
        0
    ].ok
    assert h.ex.open_orders()[sll].price2 == Decimal("29150")
    h.move("XBT/USD", "29000")  # triggers the stop-loss-limit, which then rests at 29150
    assert h.ex.open_orders()[sll].status == "open"
    events = h.trade(session, "amendOrder", txid=sll, limit_price="29200.0")
    assert order_entries(events)[-1][1].limitprice == Decimal("29200")
    sal = of(
        h.trade(
            session,
            "addOrder",
            **limit(
                ordertype="stop-loss-and-limit", type="sell", price="20000.0", price2="35000.0"
            ),
        ),
        AddOrderStatus,
    )[0].txid
    assert of(h.trade(session, "amendOrder", txid=sal, limit_price="34000.0"), AmendOrderStatus)[
        0
    ].ok


def test_order_expires_on_the_model_clock(h: Harness) -> None:
    session = h.session("openOrders")
    events = h.trade(session, "addOrder", expiretm="+30", **limit())
    txid = of(events, AddOrderStatus)[0].txid
    h.ex.faults(session).heartbeats = False
    assert order_entries(events)[0][1].expiretm == Decimal(int(T0) + 30)
    assert order_entries(events)[0][1].timeinforce == "GTD"
    assert h.ex.next_deadline() == T0 + 30
    h.ex.advance(T0 + 29)
    h.at(T0 + 29)
    assert h.drain(session) == []
    h.at(T0 + 31)
    h.ex.advance(h.now)
    entries = order_entries(h.drain(session))
    assert entries[0][0] == txid
    assert entries[0][1].status == "expired"
    assert entries[0][1].lastupdated == Decimal(f"{T0 + 30:.6f}")
    assert entries[0][1].cancel_reason is None
    assert h.ex.open_orders() == {}


def test_scheduled_order_rests_hidden_until_start(h: Harness) -> None:
    session = h.session("openOrders")
    start = int(T0) + 60
    events = h.trade(
        session, "addOrder", starttm=str(start), expiretm=str(start + 60), **limit(price="31000.0")
    )
    txid = of(events, AddOrderStatus)[0].txid
    (entry,) = order_entries(events)
    h.ex.faults(session).heartbeats = False
    assert entry[1].status == "pending"
    assert entry[1].starttm == Decimal(start)
    h.move("XBT/USD", "30000")  # crossing, but the order is hidden
    h.ex.set_system_status("online", h.now)  # resuming leaves it hidden too
    assert of(h.drain(session), SystemStatus)[0].status == "online"
    assert h.ex.open_orders()[txid].status == "pending"
    assert h.ex.next_deadline() == start
    h.at(start + 0.5)
    h.ex.advance(h.now)
    statuses = [r.status for _, r in order_entries(h.drain(session)) if r.status]
    assert statuses == ["open", "closed"]


def test_dead_mans_switch_fires_and_cancels_everything(h: Harness) -> None:
    session = h.session("openOrders")
    h.trade(session, "addOrder", **limit())
    h.trade(session, "addOrder", **limit(price="28000.0"))
    h.ex.faults(session).heartbeats = False
    (reply,) = h.trade(session, "cancelAllOrdersAfter", reqid=1, timeout=60)
    assert reply == CancelAllOrdersAfterStatus(
        status="ok",
        reqid=1,
        current_time="2023-11-14T22:13:20Z",
        trigger_time="2023-11-14T22:14:20Z",
    )
    assert h.ex.next_deadline() == T0 + 60
    h.at(T0 + 61)
    h.ex.advance(h.now)
    entries = order_entries(h.drain(session))
    assert [r.status for _, r in entries] == ["canceled", "canceled"]
    assert h.ex.open_orders() == {}
    assert h.ex.next_deadline() is None
    (off,) = h.trade(session, "cancelAllOrdersAfter", timeout=0)
    assert off.trigger_time == "0"  # type: ignore[attr-defined]
    for bad in (-1, 86400, "60", True):
        assert error_of(h.trade(session, "cancelAllOrdersAfter", timeout=bad)) == (
            "EGeneral:Invalid arguments:timeout"
        )


def test_dead_mans_switch_waits_out_maintenance(h: Harness) -> None:
    session = h.session()
    h.trade(session, "addOrder", **limit())
    h.trade(session, "cancelAllOrdersAfter", timeout=10)
    h.ex.set_system_status("maintenance", h.now)
    h.drain(session)
    assert h.ex.next_deadline() is None
    h.ex.advance(T0 + 20)
    assert len(h.ex.open_orders()) == 1
    h.ex.set_system_status("online", T0 + 30)
    assert h.ex.open_orders() == {}


@pytest.mark.parametrize(
    ("fields", "moves", "statuses"),
    [
        (
            {"ordertype": "stop-loss", "type": "sell", "price": "29000.0"},
            ["29500", "28990"],
            "closed",
        ),
        ({"ordertype": "stop-loss", "type": "buy", "price": "31000.0"}, ["31000"], "closed"),
        ({"ordertype": "take-profit", "type": "sell", "price": "31000.0"}, ["31200"], "closed"),
        ({"ordertype": "take-profit", "type": "buy", "price": "29000.0"}, ["28000"], "closed"),
        (
            {
                "ordertype": "stop-loss-limit",
                "type": "sell",
                "price": "29000.0",
                "price2": "29500.0",
            },
            ["29000"],
            "open",
        ),
        (
            {
                "ordertype": "take-profit-limit",
                "type": "sell",
                "price": "31000.0",
                "price2": "30900.0",
            },
            ["31000"],
            "closed",
        ),
        (
            {"ordertype": "trailing-stop", "type": "sell", "price": "+1%"},
            ["31000", "30680"],
            "closed",
        ),
        (
            {"ordertype": "trailing-stop", "type": "buy", "price": "+100"},
            ["29000", "29100"],
            "closed",
        ),
        (
            {"ordertype": "trailing-stop-limit", "type": "sell", "price": "+100", "price2": "+50"},
            ["31000", "30900"],
            "open",
        ),
        (
            {
                "ordertype": "stop-loss-profit",
                "type": "sell",
                "price": "29000.0",
                "price2": "31000.0",
            },
            ["31000"],
            "closed",
        ),
        (
            {
                "ordertype": "stop-loss-profit",
                "type": "sell",
                "price": "29000.0",
                "price2": "31000.0",
            },
            ["28000"],
            "closed",
        ),
        (
            {
                "ordertype": "stop-loss-profit-limit",
                "type": "buy",
                "price": "31000.0",
                "price2": "29000.0",
            },
            ["29500", "31000"],
            "closed",
        ),
        (
            {
                "ordertype": "stop-loss-and-limit",
                "type": "sell",
                "price": "29000.0",
                "price2": "31000.0",
            },
            ["31000"],
            "closed",
        ),
        (
            {
                "ordertype": "stop-loss-and-limit",
                "type": "sell",
                "price": "29000.0",
                "price2": "31000.0",
            },
            ["28000"],
            "closed",
        ),
    ],
)
def test_triggered_orders(
    h: Harness, fields: dict[str, Any], moves: list[str], statuses: str
) -> None:
    session = h.session("openOrders")
    events = h.trade(session, "addOrder", **{**limit(), **fields})
    reply = of(events, AddOrderStatus)[0]
    assert reply.ok, reply
    assert [r.status for _, r in order_entries(events)] == ["pending", "open"]
    for index, price in enumerate(moves):
        h.at(T0 + index + 1)
        h.move("XBT/USD", price)
    entries = order_entries(h.drain(session))
    assert entries, "the trigger never fired"
    limit_fill = fields["ordertype"] == "stop-loss-and-limit" and moves == ["31000"]
    assert any(r.misc in ("stopped", "touched") for _, r in entries) != limit_fill
    final = h.ex.open_orders().get(reply.txid)
    assert (final.status if final else "closed") == statuses


def test_triggered_limit_rests_then_fills_as_maker(h: Harness) -> None:
    session = h.session("openOrders")
    fields = {
        "ordertype": "stop-loss-limit",
        "type": "sell",
        "price": "29000.0",
        "price2": "29100.0",
    }
    txid = of(h.trade(session, "addOrder", **{**limit(), **fields}), AddOrderStatus)[0].txid
    h.move("XBT/USD", "28900")  # triggers; the limit 29100 is not marketable below it
    assert h.ex.open_orders()[txid].status == "open"
    h.move("XBT/USD", "29200")
    closed = order_entries(h.drain(session))[-1][1]
    assert closed.status == "closed"
    assert closed.avg_price == Decimal("29100")


def test_immediate_or_cancel(h: Harness) -> None:
    session = h.session("openOrders")
    events = h.trade(session, "addOrder", timeinforce="IOC", **limit())
    final = order_entries(events)[-1][1]
    assert final.status == "canceled"
    assert final.cancel_reason == "Immediate or cancel"


def test_relative_prices(h: Harness) -> None:
    session = h.session()
    for price in ("+100", "-1%", "#50"):
        (reply,) = of(
            h.trade(session, "addOrder", **limit(price=price, oflags="fcib")), AddOrderStatus
        )
        assert reply.ok, price
    prices = sorted(view.price for view in h.ex.open_orders().values())
    assert prices == [Decimal("29700"), Decimal("29950")]  # +100 (30100) crossed and filled
    (view,) = [v for v in h.ex.open_orders().values() if v.price == Decimal("29700")]
    assert view.oflags == "fcib"


def test_conditional_close_is_placed_when_the_primary_fills(h: Harness) -> None:
    session = h.session("openOrders")
    events = h.trade(
        session,
        "addOrder",
        **limit(price="29000.0"),
        **{
            "close[ordertype]": "stop-loss-limit",
            "close[price]": "28000.0",
            "close[price2]": "27900.0",
        },
    )
    (record,) = [r for _, r in order_entries(events) if r.descr is not None]
    assert record.contingent.ordertype == "stop-loss-limit"
    assert record.descr.close
    h.move("XBT/USD", "29000")
    (close,) = h.ex.open_orders().values()
    assert close.side == "sell"
    assert close.ordertype == "stop-loss-limit"
    assert close.price == Decimal("28000")
    assert close.price2 == Decimal("27900")
    assert (
        error_of(h.trade(session, "addOrder", **limit(), **{"close[ordertype]": "market"}))
        == "EGeneral:Invalid arguments:close[ordertype]"
    )


def test_snapshot_of_open_orders_and_last_50_trades_newest_first(h: Harness) -> None:
    session = h.session()
    for index in range(52):
        h.at(T0 + index)
        h.trade(session, "addOrder", pair="ETH/USD", type="buy", ordertype="market", volume="0.01")
    resting = of(h.trade(session, "addOrder", **limit()), AddOrderStatus)[0].txid
    events = h.send(
        session, {"event": "subscribe", "subscription": {"name": "ownTrades", "token": h.tok}}
    )
    (snapshot,) = of(events, OwnTrades)
    assert snapshot.sequence == 1
    assert len(snapshot.trades) == 50
    times = [trade.time for _, trade in snapshot.trades]
    assert times == sorted(times, reverse=True)
    assert times[0] == Decimal(f"{T0 + 51:.6f}")
    assert all(trade.userref is None for _, trade in snapshot.trades)  # updates only
    events = h.send(
        session, {"event": "subscribe", "subscription": {"name": "openOrders", "token": h.tok}}
    )
    (orders,) = of(events, OpenOrders)
    assert orders.sequence == 1
    assert [oid for oid, _ in orders.orders] == [resting]
    assert orders.orders[0][1].status == "open"
    assert orders.orders[0][1].descr is not None


def test_own_trades_without_snapshot_and_ratecounter(h: Harness) -> None:
    session = h.session()
    h.trade(session, "addOrder", pair="XBT/USD", type="buy", ordertype="market", volume="0.01")
    events = h.send(
        session,
        {
            "event": "subscribe",
            "subscription": {"name": "ownTrades", "token": h.tok, "snapshot": False},
        },
    )
    assert of(events, OwnTrades) == []
    events = h.send(
        session,
        {
            "event": "subscribe",
            "subscription": {"name": "openOrders", "token": h.tok, "ratecounter": "true"},
        },
    )
    assert of(events, OpenOrders)[0].orders == ()
    events = h.trade(session, "addOrder", **limit())
    assert of(events, OwnTrades) == []  # the limit order rests
    entries = order_entries(events)
    assert all(r.ratecount is not None for _, r in entries)
    assert entries[-1][1].ratecount == Decimal("2")
    market = {"pair": "XBT/USD", "type": "buy", "ordertype": "market", "volume": "0.01"}
    frames = of(h.trade(session, "addOrder", **market), OwnTrades)
    assert frames
    assert frames[0].sequence == 1


# --- trading errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"pair": None}, "EGeneral:Invalid arguments:pair"),
        ({"pair": "DOGE/USD"}, "EQuery:Unknown asset pair"),
        ({"type": "hold"}, "EGeneral:Invalid arguments:type"),
        ({"ordertype": "iceberg"}, "EGeneral:Invalid arguments:ordertype"),
        ({"volume": 0.5}, "EGeneral:Invalid arguments:volume"),
        ({"volume": "0"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": "1e3"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": "0.123456789"}, "EGeneral:Invalid arguments:volume"),
        # Decimal() reads Arabic-Indic and fullwidth digits; Kraken does not
        ({"volume": "\u0661.\u0665"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": "\uff11"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": "NaN"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": " 1"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": "1_0"}, "EGeneral:Invalid arguments:volume"),
        ({"price": "\u0662\u0669\u0660\u0660\u0660"}, "EGeneral:Invalid arguments:price"),
        ({"price": "+\u0661\u0660\u0660"}, "EGeneral:Invalid arguments:price"),
        ({"userref": "\u0661"}, "EGeneral:Invalid arguments:userref"),
        ({"expiretm": "+\u0665\u0660"}, "EGeneral:Invalid arguments:expiretm"),
        ({"leverage": "\u0662:1"}, "EGeneral:Invalid arguments:leverage"),
        # a point only between digits (issue 19 item 2; see _params._DECIMAL_TEXT)
        ({"volume": ".5"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": "5."}, "EGeneral:Invalid arguments:volume"),
        ({"price": "29000."}, "EGeneral:Invalid arguments:price"),
        ({"price": ".5"}, "EGeneral:Invalid arguments:price"),
        ({"price": "+.5"}, "EGeneral:Invalid arguments:price"),
        ({"price": "-5.%"}, "EGeneral:Invalid arguments:price"),
        ({"volume": "0.00001"}, "EOrder:Order minimum not met"),
        ({"volume": "100000"}, "EOrder:Insufficient funds"),
        ({"type": "sell", "volume": "5000"}, "EOrder:Insufficient funds"),
        ({"price": None}, "EGeneral:Invalid arguments:price"),
        ({"price": 29000}, "EGeneral:Invalid arguments:price"),
        (
            {"price": "29000.05"},
            "EOrder:Invalid price:XBT/USD price can only be specified up to 1 decimals.",
        ),
        ({"price": "-100%"}, "EGeneral:Invalid arguments:price"),
        ({"ordertype": "stop-loss-limit", "price": "31000.0"}, "EGeneral:Invalid arguments:price2"),
        ({"ordertype": "trailing-stop", "price": "100"}, "EGeneral:Invalid arguments:price"),
        ({"ordertype": "trailing-stop", "price": "-100"}, "EGeneral:Invalid arguments:price"),
        (
            {"ordertype": "trailing-stop-limit", "price": "+100", "price2": "#5"},
            "EGeneral:Invalid arguments:price2",
        ),
        ({"ordertype": "settle-position"}, "EOrder:Unknown position"),
        ({"price": "+999999999%"}, "EGeneral:Invalid arguments:price"),
        ({"price": "1000000000"}, "EGeneral:Invalid arguments:price"),
        ({"price": "-29999.99"}, "EGeneral:Invalid arguments:price"),
        (
            {"ordertype": "trailing-stop", "price": "+999999999%"},
            "EGeneral:Invalid arguments:price",
        ),
        ({"expiretm": "+1234567890123"}, "EGeneral:Invalid arguments:expiretm"),
        ({"oflags": "post,viqc"}, "EGeneral:Invalid arguments:oflags"),
        ({"oflags": "fcib,fciq"}, "EGeneral:Invalid arguments:oflags"),
        ({"oflags": 3}, "EGeneral:Invalid arguments:oflags"),
        ({"ordertype": "market", "oflags": "post"}, "EGeneral:Invalid arguments:oflags"),
        ({"timeinforce": "FOK"}, "EGeneral:Invalid arguments:timeinforce"),
        ({"timeinforce": "GTD"}, "EGeneral:Invalid arguments:expiretm"),
        ({"expiretm": "soon"}, "EGeneral:Invalid arguments:expiretm"),
        ({"expiretm": "1000"}, "EGeneral:Invalid arguments:expiretm"),
        ({"starttm": "+100", "expiretm": "+50"}, "EGeneral:Invalid arguments:expiretm"),
        ({"userref": "12x"}, "EGeneral:Invalid arguments:userref"),
        ({"userref": str(2**31)}, "EGeneral:Invalid arguments:userref"),
        ({"userref": 12}, "EGeneral:Invalid arguments:userref"),  # a string on the doc page
        ({"userref": "1", "cl_ord_id": "a"}, "EGeneral:Invalid arguments:cl_ord_id"),
        ({"cl_ord_id": "x" * 37}, "EGeneral:Invalid arguments:cl_ord_id"),
        ({"deadline": "2000-01-01T00:00:00.000Z"}, "EService:Deadline elapsed"),
        ({"deadline": "2030-01-01T00:00:00"}, "EGeneral:Invalid arguments:deadline"),
        ({"deadline": 5}, "EGeneral:Invalid arguments:deadline"),
        ({"validate": "maybe"}, "EGeneral:Invalid arguments:validate"),
        ({"token": "stale"}, "ESession:Invalid session"),
    ],
)
def test_add_order_errors(h: Harness, fields: dict[str, Any], error: str) -> None:
    session = h.session("openOrders")
    request = {k: v for k, v in {**limit(), **fields}.items() if v is not None}
    events = h.send(session, {"event": "addOrder", "reqid": 11, "token": h.tok, **request})
    assert events == [AddOrderStatus(status="error", reqid=11, error_message=error)]
    assert h.ex.open_orders() == {}


def test_accepted_optional_fields(h: Harness) -> None:
    session = h.session()
    fields = {
        "deadline": "2030-01-01T00:00:00.000Z",
        "starttm": "0",
        "expiretm": "0",
        "userref": "12",
    }
    assert of(h.trade(session, "addOrder", **limit(**fields)), AddOrderStatus)[0].ok
    (view,) = h.ex.open_orders().values()
    assert view.starttm is None
    assert view.expiretm is None
    assert view.userref == 12
    assert of(h.trade(session, "addOrder", **limit(starttm="1")), AddOrderStatus)[0].ok  # past


def test_system_status_effects(h: Harness) -> None:
    session = h.session("openOrders")
    watcher = h.ex.open_session(h.now)
    h.drain(watcher)
    txid = of(h.trade(session, "addOrder", **limit()), AddOrderStatus)[0].txid
    h.ex.set_system_status("maintenance", h.now)
    (notice,) = h.drain(watcher)
    assert isinstance(notice, SystemStatus)
    assert notice.status == "maintenance"
    (status,) = of(h.drain(session), SystemStatus)
    assert status.status == "maintenance"
    for event, fields in (
        ("addOrder", limit()),
        ("cancelAll", {}),
        ("cancelOrder", {"txid": [txid]}),
        ("cancelAllOrdersAfter", {"timeout": 5}),
        ("editOrder", {"orderid": txid, "pair": "XBT/USD"}),
        ("amendOrder", {"txid": txid, "volume": "1"}),
    ):
        assert error_of(h.trade(session, event, **fields)) == "EService:Unavailable"
    h.ex.set_system_status("cancel_only", h.now)
    assert (
        error_of(h.trade(session, "addOrder", **limit())) == "EService:Market in cancel_only mode"
    )
    assert error_of(h.trade(session, "amendOrder", txid=txid, volume="1")) == (
        "EService:Market in cancel_only mode"
    )
    h.move("XBT/USD", "28000")  # no matching while not online
    assert h.ex.open_orders()[txid].vol_exec == 0
    h.ex.set_system_status("post_only", h.now)
    assert error_of(h.trade(session, "addOrder", **limit(ordertype="market"))) == (
        "EService:Market in post_only mode"
    )
    assert error_of(h.trade(session, "addOrder", **limit())) == "EService:Market in post_only mode"
    post = of(h.trade(session, "addOrder", oflags="post", **limit(price="27000.0")), AddOrderStatus)
    assert of(h.trade(session, "cancelOrder", txid=[txid]), CancelOrderStatus)[0].ok
    crossing = of(
        h.trade(session, "addOrder", oflags="post", **limit(price="27500.0")), AddOrderStatus
    )
    h.move("XBT/USD", "27200")  # no matching in post_only mode
    assert len(h.ex.open_orders()) == 2
    h.ex.set_system_status("online", h.now)  # matching resumes: 27500 fills, 27000 rests
    assert set(h.ex.open_orders()) == {post[0].txid}
    assert crossing[0].txid in {txid for txid, _ in order_entries(h.drain(session))}


def test_rate_counter_limits_adds_and_cancels() -> None:
    h = Harness(SimulatorConfig(maxratecount=3, rate_decay_per_second=Decimal("1")))
    session = h.session("openOrders")
    txids = [of(h.trade(session, "addOrder", **limit()), AddOrderStatus)[0].txid for _ in range(3)]
    assert error_of(h.trade(session, "addOrder", **limit())) == "EOrder:Rate limit exceeded"
    assert of(h.trade(session, "addOrder", validate=True, **limit()), AddOrderStatus)[0].ok
    assert (
        error_of(h.trade(session, "cancelOrder", txid=[txids[0]])) == "EOrder:Rate limit exceeded"
    )
    assert error_of(h.trade(session, "editOrder", orderid=txids[0], pair="XBT/USD")) == (
        "EOrder:Rate limit exceeded"
    )
    assert error_of(h.trade(session, "amendOrder", txid=txids[0], volume="1")) == (
        "EOrder:Rate limit exceeded"
    )
    h.at(T0 + 1.5)  # decays by 1.5 per second
    assert of(h.trade(session, "addOrder", **limit()), AddOrderStatus)[0].ok
    h.at(T0 + 400)  # old orders cost nothing to cancel
    assert all(r.ok for r in of(h.trade(session, "cancelOrder", txid=txids), CancelOrderStatus))
    # the ETH/USD counter is separate
    h2 = Harness(SimulatorConfig(maxratecount=1))
    s2 = h2.session()
    assert of(h2.trade(s2, "addOrder", **limit()), AddOrderStatus)[0].ok
    assert of(h2.trade(s2, "addOrder", **limit(pair="ETH/USD", price="1900.00")), AddOrderStatus)[
        0
    ].ok


def test_edit_and_amend_rate_costs_depend_on_order_age() -> None:
    h = Harness(SimulatorConfig(maxratecount=10, rate_decay_per_second=Decimal("0")))
    session = h.session()
    txid = of(h.trade(session, "addOrder", **limit()), AddOrderStatus)[0].txid
    assert of(h.trade(session, "amendOrder", txid=txid, volume="0.6"), AmendOrderStatus)[0].ok  # +4
    assert error_of(h.trade(session, "editOrder", orderid=txid, pair="XBT/USD")) == (
        "EOrder:Rate limit exceeded"  # 5 + 7 > 10
    )
    h.at(T0 + 100)
    edited = of(h.trade(session, "editOrder", orderid=txid, pair="XBT/USD"), EditOrderStatus)[0]
    assert edited.ok
    assert h.ex.open_orders()[edited.txid].vol == Decimal("0.6")


# --- faults ------------------------------------------------------------------------------------


def test_fault_skip_and_repeat_sequence(h: Harness) -> None:
    session = h.session("openOrders")
    faults = h.ex.faults(session)
    faults.skip_sequence = 1
    events = h.trade(session, "addOrder", **limit())
    assert [e.sequence for e in of(events, OpenOrders)] == [3, 4]
    faults.repeat_sequence = 1
    events = h.trade(session, "addOrder", **limit())
    assert [e.sequence for e in of(events, OpenOrders)] == [4, 5]
    assert faults.skip_sequence == faults.repeat_sequence == 0


def test_fault_drop_and_delay_replies(h: Harness) -> None:
    session = h.session("openOrders")
    faults = h.ex.faults(session)
    faults.drop_replies = 1
    assert h.send(session, {"event": "ping", "reqid": 1}) == []
    assert h.send(session, {"event": "ping", "reqid": 2}) == [Pong(reqid=2)]
    faults.reply_delay = 2.5
    events = h.trade(session, "addOrder", **limit())
    assert of(events, AddOrderStatus) == []
    assert len(of(events, OpenOrders)) == 2
    assert h.ex.next_deadline() == T0 + 2.5
    h.at(T0 + 2.5)
    (reply,) = h.drain(session)
    assert isinstance(reply, AddOrderStatus)
    assert reply.ok


def test_fault_malformed_frames_and_default_faults(h: Harness) -> None:
    h.ex.default_faults.malformed_frames = 1
    session = h.ex.open_session(h.now)
    (frame,) = h.ex.take_outgoing(session, h.now)
    with pytest.raises(json.JSONDecodeError):
        json.loads(frame)
    assert h.ex.faults(session).malformed_frames == 0
    assert h.ex.default_faults.malformed_frames == 1
    h.ex.default_faults.malformed_frames = 0
    h.tok = h.token()
    assert h.send(session, {"event": "ping"}) == [Pong()]


def test_fills_reach_every_subscribed_session(h: Harness) -> None:
    one = h.session("openOrders")
    two = h.session("openOrders", token=h.tok)
    h.trade(one, "addOrder", **limit())
    h.move("XBT/USD", "28000")
    assert order_entries(h.drain(two))[-1][1].status == "closed"


# --- small pure helpers ------------------------------------------------------------------------


def test_helpers() -> None:
    assert kraken_id(random.Random(1), "T")[0] == "T"
    assert userref_arg(-5, "userref") == -5
    with pytest.raises(Reject):
        rfc3339_seconds("nope", "deadline")
    pair = PairConfig(reference_price=Decimal("1.2345"), price_decimals=4, base="ADA")
    h = Harness(SimulatorConfig(pairs={"ADA/USD": pair}, balances={"USD": Decimal(100)}))
    session = h.session("openOrders")
    events = h.trade(
        session, "addOrder", pair="ADA/USD", type="buy", ordertype="limit", price="1.2", volume="10"
    )
    assert order_entries(events)[0][1].descr.price == Decimal("1.20000")
    assert error_of(
        h.trade(
            session,
            "addOrder",
            pair="ADA/USD",
            type="buy",
            ordertype="limit",
            price="1.2",
            volume="100",
        )
    ) == ("EOrder:Insufficient funds")


def test_amend_outside_online_does_not_match_and_snapshots_show_amended(h: Harness) -> None:
    session = h.session()
    txid = of(h.trade(session, "addOrder", **limit()), AddOrderStatus)[0].txid
    h.trade(session, "addOrder", **limit(pair="ETH/USD", price="1900.00"))
    h.ex.set_system_status("post_only", h.now)
    reply = of(h.trade(session, "amendOrder", txid=txid, limit_price="31000.0"), AmendOrderStatus)
    assert reply[0].ok
    assert h.ex.open_orders()[txid].vol_exec == 0  # no matching while not online
    events = h.send(
        session, {"event": "subscribe", "subscription": {"name": "openOrders", "token": h.tok}}
    )
    records = dict(of(events, OpenOrders)[0].orders)
    assert records[txid].amended is True
    h.ex.set_system_status("online", h.now)
    h.move("ETH/USD", "1950.00")  # another pair: the XBT order has already filled on resume
    h.move("XBT/USD", "29999.0")  # leaves the ETH order alone
    assert len(h.ex.open_orders()) == 1
    assert txid not in h.ex.open_orders()
    assert h.ex.orders()[txid].status == "closed"


def test_conditional_close_without_a_second_price(h: Harness) -> None:
    session = h.session()
    fields = {"close[ordertype]": "take-profit", "close[price]": "35000.0"}
    events = h.trade(session, "addOrder", **limit(price="31000.0"), **fields)
    assert of(events, AddOrderStatus)[0].ok
    (close,) = h.ex.open_orders().values()
    assert close.ordertype == "take-profit"
    assert close.price == Decimal("35000")
    assert close.side == "sell"


def test_closing_a_session_with_two_subscriptions_on_one_token(h: Harness) -> None:
    session = h.session("openOrders", "ownTrades")
    h.ex.close_session(session, h.now)
    h.at(h.now + 901)
    other = h.session(token=h.tok)
    assert error_of(h.trade(other, "cancelAll")) == "ESession:Invalid session"
