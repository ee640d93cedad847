"""Unit tests of ``Connection``: one behaviour each, time passed explicitly (no sleeping)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import pytest
from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Event,
    LocalProtocolError,
    RemoteProtocolError,
    Request,
)
from kraken_proto._connection_state import (
    CONNECTION_TRANSITIONS,
    SUBSCRIPTION_TRANSITIONS,
    TOKEN_TRANSITIONS,
)
from kraken_proto.v1 import (
    AddOrderStatus,
    CancelOrderStatus,
    ChannelSnapshot,
    ChannelUpdate,
    Connection,
    ConnectionConfig,
    ConnectionStale,
    ConnectionState,
    ErrorEvent,
    Heartbeat,
    LateReply,
    OpenOrders,
    OwnTrades,
    Ping,
    Pong,
    RequestCompleted,
    RequestFailed,
    RequestLost,
    RequestOutcomeUnknown,
    RequestTimedOut,
    SequenceGap,
    Subscribe,
    SubscriptionState,
    SubscriptionStatus,
    SystemStatus,
    TokenExpired,
    TokenRejected,
    TokenState,
    Unsubscribe,
)

from tests.state import fields

TOKEN = "tok3nSECRETvalue0123456789"
OTHER_TOKEN = "anotherSECRETtoken987"


# --- frame builders (what a server would send) ------------------------------------------------


def frame(**fields: Any) -> str:
    return json.dumps(fields)


def ok(event: str, reqid: int | None, **extra: Any) -> str:
    fields: dict[str, Any] = {"event": event, "status": "ok", **extra}
    if reqid is not None:
        fields["reqid"] = reqid
    return frame(**fields)


def err(event: str, reqid: int | None, message: str | None, **extra: Any) -> str:
    fields: dict[str, Any] = {"event": event, "status": "error", **extra}
    if message is not None:
        fields["errorMessage"] = message
    if reqid is not None:
        fields["reqid"] = reqid
    return frame(**fields)


def sub_ack(reqid: int | None, channel: str, status: str = "subscribed") -> str:
    fields: dict[str, Any] = {
        "event": "subscriptionStatus",
        "status": status,
        "channelName": channel,
        "subscription": {"name": channel},
    }
    if reqid is not None:
        fields["reqid"] = reqid
    return frame(**fields)


def data(channel: str, sequence: int | None) -> str:
    parts: list[Any] = [[], channel]
    if sequence is not None:
        parts.append({"sequence": sequence})
    return json.dumps(parts)


def system_status(status: str) -> str:
    return frame(event="systemStatus", status=status, connectionID=1, version="1.9.1")


def limit_order(**extra: Any) -> AddOrder:
    return AddOrder(
        ordertype="limit",
        type="buy",
        pair="XBT/USD",
        volume=Decimal("0.5"),
        price=Decimal("100.5"),
        **extra,
    )


def market_order() -> AddOrder:
    return AddOrder(ordertype="market", type="sell", pair="XBT/USD", volume=Decimal("1"))


def opened(
    config: ConnectionConfig | None = None, *, token: str | None = TOKEN, now: float = 0.0
) -> Connection:
    conn = Connection(config)
    conn.connection_made(now)
    if token is not None:
        conn.provide_token(token, now)
    conn.data_to_send()
    return conn


def subscribed(
    conn: Connection, channel: str = "openOrders", now: float = 0.0, **options: Any
) -> int:
    reqid = conn.send(Subscribe(name=channel, **options), now)  # type: ignore[arg-type]
    conn.receive_message(sub_ack(reqid, channel), now)
    conn.data_to_send()
    received(conn)
    return reqid


def sent(conn: Connection) -> list[dict[str, Any]]:
    return [json.loads(text) for text in conn.data_to_send()]


def received(conn: Connection) -> list[Any]:
    """The events so far, loosely typed so tests can read subclass fields."""
    return list(conn.events_received())


def of_type(events: list[Event], cls: type[Event]) -> list[Any]:
    return [event for event in events if isinstance(event, cls)]


# --- configuration ----------------------------------------------------------------------------


def test_config_defaults() -> None:
    config = ConnectionConfig()
    assert config.request_timeout == 10.0
    assert config.token_ttl == 900.0
    assert config.liveness_timeout == 5.0
    assert config.first_reqid == 1
    assert config.dead_mans_switch_timeout is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"request_timeout": 0},
        {"request_timeout": -1.0},
        {"token_ttl": math.nan},
        {"liveness_timeout": math.inf},
        {"liveness_timeout": True},
        {"dead_mans_switch_interval": "5"},
        {"first_reqid": -1},
        {"first_reqid": 2**64},
        {"first_reqid": True},
        {"late_reply_memory": -1},
        {"late_reply_memory": 1.5},
        {"dead_mans_switch_timeout": 0},
        {"dead_mans_switch_timeout": 86400},
        {"dead_mans_switch_timeout": True},
        {"dead_mans_switch_timeout": 10, "dead_mans_switch_interval": 10},
    ],
)
def test_config_rejects_bad_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(LocalProtocolError, match=next(iter(kwargs))):
        ConnectionConfig(**kwargs)


def test_transition_tables_only_name_real_states() -> None:
    for table in (CONNECTION_TRANSITIONS, TOKEN_TRANSITIONS, SUBSCRIPTION_TRANSITIONS):
        for (state, _trigger), target in table.items():
            assert type(state) is type(target)


# --- connection states ------------------------------------------------------------------------


def test_calls_before_connection_made() -> None:
    conn = Connection()
    assert conn.state is ConnectionState.IDLE
    assert not conn.should_close
    assert conn.next_deadline() is None
    conn.handle_timeout(100.0)
    assert received(conn) == []
    with pytest.raises(LocalProtocolError, match="idle"):
        conn.send(Ping(), 0.0)
    with pytest.raises(LocalProtocolError, match="idle"):
        conn.receive_message(frame(event="heartbeat"), 0.0)
    conn.provide_token(TOKEN, 0.0)  # allowed early: the adapter may fetch it first
    assert conn.token_state is TokenState.FRESH


def test_connection_made_twice_raises() -> None:
    conn = opened()
    with pytest.raises(LocalProtocolError, match="connection_made"):
        conn.connection_made(1.0)
    assert conn.state is ConnectionState.OPEN


def test_close_before_open_then_connection_made_raises() -> None:
    conn = Connection()
    conn.close(0.0)
    assert conn.state is ConnectionState.CLOSING
    assert conn.should_close
    with pytest.raises(LocalProtocolError):
        conn.connection_made(0.0)


def test_close_is_idempotent_and_stops_sends_but_not_replies() -> None:
    conn = opened()
    reqid = conn.send(limit_order(), 0.0)
    conn.close(1.0)
    conn.close(2.0)
    assert conn.state is ConnectionState.CLOSING
    assert len(conn.data_to_send()) == 1  # the order, still sent before closing
    with pytest.raises(LocalProtocolError, match="closing"):
        conn.send(Ping(), 2.0)
    conn.receive_message(ok("addOrderStatus", reqid, txid="OAAAAA-BBBBB-CCCCCC"), 3.0)
    events = received(conn)
    assert isinstance(events[-1], RequestCompleted)
    assert conn.next_deadline() is None


def test_connection_lost_is_idempotent_and_ends_pending_requests() -> None:
    conn = opened()
    first = conn.send(limit_order(), 0.0)
    second = conn.send(Ping(), 0.0)
    conn.connection_lost(1.0)
    events = received(conn)
    assert [(type(e), e.reqid) for e in events] == [(RequestLost, first), (RequestLost, second)]
    assert all(isinstance(e, RequestOutcomeUnknown) for e in events)
    assert conn.data_to_send() == []
    assert conn.state is ConnectionState.CLOSED
    assert conn.token_state is TokenState.GONE
    conn.connection_lost(2.0)
    assert received(conn) == []
    assert conn.state is ConnectionState.CLOSED
    conn.close(3.0)
    assert conn.state is ConnectionState.CLOSED
    conn.handle_timeout(100.0)
    assert conn.next_deadline() is None
    with pytest.raises(LocalProtocolError, match="closed"):
        conn.send(Ping(), 3.0)
    with pytest.raises(LocalProtocolError, match="closed"):
        conn.receive_message(frame(event="heartbeat"), 3.0)
    with pytest.raises(LocalProtocolError, match="token is gone"):
        conn.provide_token(TOKEN, 3.0)


def test_connection_lost_before_open() -> None:
    conn = Connection()
    conn.connection_lost(0.0)
    assert conn.state is ConnectionState.CLOSED


def test_remote_protocol_error_fails_the_connection_for_good() -> None:
    conn = opened()
    reqid = conn.send(limit_order(), 0.0)
    with pytest.raises(RemoteProtocolError):
        conn.receive_message("{not json", 1.0)
    assert conn.state is ConnectionState.FAILED
    assert conn.should_close
    assert conn.next_deadline() is None
    for call in (
        lambda: conn.send(Ping(), 2.0),
        lambda: conn.receive_message(frame(event="heartbeat"), 2.0),
        lambda: conn.handle_timeout(2.0),
        lambda: conn.provide_token(TOKEN, 2.0),
        lambda: conn.connection_made(2.0),
    ):
        with pytest.raises(LocalProtocolError, match="failed"):
            call()
    conn.close(2.0)
    conn.connection_lost(3.0)
    assert conn.state is ConnectionState.FAILED
    assert [(type(e), e.reqid) for e in received(conn)] == [(RequestLost, reqid)]


def test_local_error_from_send_changes_nothing() -> None:
    conn = opened()
    conn.receive_message(system_status("maintenance"), 0.0)
    before = (conn.pending_requests(), repr(conn), conn.next_deadline())
    with pytest.raises(LocalProtocolError, match="maintenance"):
        conn.send(limit_order(), 1.0)
    with pytest.raises(LocalProtocolError, match="expected a kraken_proto request"):
        conn.send("addOrder", 1.0)  # type: ignore[arg-type]
    assert (conn.pending_requests(), repr(conn), conn.next_deadline()) == before
    assert conn.data_to_send() == []
    assert conn.send(Ping(), 1.0) == 1  # no reqid was burnt


def test_repr_and_vars_never_show_the_token() -> None:
    conn = opened()
    subscribed(conn)
    text = repr(conn) + repr(fields(conn))
    assert TOKEN not in text
    assert "openOrders=ACTIVE" in repr(conn)
    assert "token=BOUND" in repr(conn)


def test_non_reply_events_are_delivered_raw() -> None:
    conn = opened()
    conn.receive_message(frame(event="heartbeat"), 1.0)
    conn.receive_message(frame(event="somethingNew", x=1), 1.0)
    conn.receive_message(system_status("online"), 1.0)
    events = received(conn)
    assert isinstance(events[0], Heartbeat)
    assert isinstance(events[2], SystemStatus)
    assert conn.system_status == "online"


def test_receive_accepts_bytes() -> None:
    conn = opened()
    conn.receive_message(b'{"event":"heartbeat"}', 1.0)
    assert isinstance(received(conn)[0], Heartbeat)


# --- token lifecycle --------------------------------------------------------------------------


def test_private_request_without_token_raises_and_queues_nothing() -> None:
    conn = opened(token=None)
    for request in (Subscribe(name="ownTrades"), limit_order(), CancelAll()):
        with pytest.raises(LocalProtocolError, match="session token"):
            conn.send(request, 0.0)
    assert conn.data_to_send() == []
    assert conn.pending_requests() == {}
    assert conn.send(Ping(), 0.0) == 1
    assert sent(conn) == [{"event": "ping", "reqid": 1}]


def test_malformed_token_is_refused_without_echo() -> None:
    conn = opened(token=None)
    with pytest.raises(LocalProtocolError) as info:
        conn.provide_token("has space SECRET", 0.0)
    assert "SECRET" not in str(info.value)
    assert conn.token_state is TokenState.NONE


def test_token_is_injected_into_private_requests() -> None:
    conn = opened()
    conn.send(Subscribe(name="ownTrades", snapshot=False), 0.0)
    conn.send(limit_order(), 0.0)
    subscribe, add = sent(conn)
    assert subscribe["subscription"] == {"name": "ownTrades", "snapshot": False, "token": TOKEN}
    assert add["token"] == TOKEN
    assert add["reqid"] == 2


def test_fresh_token_expires_after_ttl_without_use() -> None:
    conn = opened(ConnectionConfig(token_ttl=900.0))
    assert conn.next_deadline() == 900.0
    conn.handle_timeout(899.0)
    assert received(conn) == []
    with pytest.raises(LocalProtocolError, match="session token"):
        conn.send(CancelAll(), 900.0)  # already past the TTL, even before handle_timeout
    conn.handle_timeout(900.0)
    assert received(conn) == [TokenExpired()]
    assert conn.token_state is TokenState.NONE
    assert conn.next_deadline() is None
    with pytest.raises(LocalProtocolError, match="session token"):
        conn.send(CancelAll(), 901.0)
    conn.provide_token(OTHER_TOKEN, 1000.0)
    conn.send(CancelAll(), 1000.0)
    assert sent(conn)[0]["token"] == OTHER_TOKEN


def test_using_a_fresh_token_restarts_its_clock() -> None:
    conn = opened()
    conn.send(CancelAll(), 800.0)
    assert conn.next_deadline() == 810.0  # the request timeout comes first
    conn.receive_message(ok("cancelAllStatus", 1, count=0), 801.0)
    assert conn.next_deadline() == 1700.0


def test_bound_token_never_expires() -> None:
    conn = opened()
    subscribed(conn, now=10.0)
    assert conn.token_state is TokenState.BOUND
    conn.receive_message(frame(event="heartbeat"), 5000.0)
    conn.handle_timeout(5000.0)
    assert of_type(received(conn), TokenExpired) == []
    conn.send(CancelAll(), 5000.0)
    assert sent(conn)[0]["token"] == TOKEN


def test_new_token_replaces_a_bound_one_as_fresh() -> None:
    conn = opened()
    subscribed(conn)
    conn.provide_token(OTHER_TOKEN, 1.0)
    assert conn.token_state is TokenState.FRESH


def test_ack_for_an_older_token_does_not_bind_the_new_one() -> None:
    conn = opened()
    reqid = conn.send(Subscribe(name="openOrders"), 0.0)
    conn.provide_token(OTHER_TOKEN, 1.0)
    conn.receive_message(sub_ack(reqid, "openOrders"), 2.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.ACTIVE
    assert conn.token_state is TokenState.FRESH


@pytest.mark.parametrize(
    "message",
    [
        "ESession:Invalid session",
        "EAPI:Invalid token",
        "Token(s) not found",
        "EGeneral:Token expired",
        "EAuth:token is invalid",
    ],
)
def test_token_errors_on_subscribe_reject_the_token(message: str) -> None:
    conn = opened()
    reqid = conn.send(Subscribe(name="openOrders"), 0.0)
    conn.receive_message(err("subscriptionStatus", reqid, message), 1.0)
    events = received(conn)
    assert [type(e) for e in events] == [SubscriptionStatus, TokenRejected, RequestFailed]
    assert events[1] == TokenRejected(reqid=reqid, error=events[2].error)
    assert events[2].error.text == message
    assert conn.token_state is TokenState.NONE
    assert conn.subscription_state("openOrders") is SubscriptionState.FAILED
    with pytest.raises(LocalProtocolError, match="session token"):
        conn.send(CancelAll(), 2.0)


def test_token_error_on_trading_reply_rejects_token_once() -> None:
    conn = opened()
    first = conn.send(limit_order(), 0.0)
    second = conn.send(CancelAll(), 0.0)
    conn.receive_message(err("addOrderStatus", first, "ESession:Invalid session"), 1.0)
    conn.receive_message(err("cancelAllStatus", second, "ESession:Invalid session"), 1.0)
    events = received(conn)
    assert len(of_type(events, TokenRejected)) == 1
    assert len(of_type(events, RequestFailed)) == 2


def test_rejection_of_an_older_token_keeps_the_new_one() -> None:
    conn = opened()
    reqid = conn.send(limit_order(), 0.0)
    conn.provide_token(OTHER_TOKEN, 1.0)
    conn.receive_message(err("addOrderStatus", reqid, "EAPI:Invalid token"), 2.0)
    events = received(conn)
    assert of_type(events, TokenRejected) == []
    assert of_type(events, RequestFailed)[0].reqid == reqid
    assert conn.token_state is TokenState.FRESH


def test_uncorrelated_token_error_rejects_the_token() -> None:
    conn = opened()
    conn.receive_message(err("subscriptionStatus", None, "ESession:Invalid session"), 1.0)
    events = received(conn)
    assert events[1] == TokenRejected(reqid=None, error=events[1].error)
    assert conn.token_state is TokenState.NONE


def test_other_errors_keep_the_token() -> None:
    conn = opened()
    reqid = conn.send(limit_order(), 0.0)
    conn.receive_message(err("addOrderStatus", reqid, "EGeneral:Permission denied"), 1.0)
    assert of_type(received(conn), TokenRejected) == []
    assert conn.token_state is TokenState.FRESH


# --- request correlation ----------------------------------------------------------------------


def test_reqids_count_up_from_the_configured_start() -> None:
    conn = opened(ConnectionConfig(first_reqid=100))
    assert [conn.send(Ping(), 0.0) for _ in range(3)] == [100, 101, 102]
    assert [message["reqid"] for message in sent(conn)] == [100, 101, 102]


def test_reply_then_completion() -> None:
    conn = opened()
    order = limit_order()
    reqid = conn.send(order, 0.0)
    assert conn.pending_requests() == {reqid: order}
    conn.receive_message(ok("addOrderStatus", reqid, txid="OAAAAA-BBBBB-CCCCCC"), 1.0)
    reply, completed = received(conn)
    assert isinstance(reply, AddOrderStatus)
    assert reply.txid == "OAAAAA-BBBBB-CCCCCC"
    assert completed == RequestCompleted(reqid=reqid, request=order, replies=(reply,))
    assert conn.pending_requests() == {}


def test_error_reply_fails_the_request() -> None:
    conn = opened()
    reqid = conn.send(limit_order(), 0.0)
    conn.receive_message(err("addOrderStatus", reqid, "EOrder:Insufficient funds"), 1.0)
    reply, failed = received(conn)
    assert isinstance(failed, RequestFailed)
    assert failed.replies == (reply,)
    assert failed.error.category == "Order"


def test_error_status_without_message() -> None:
    conn = opened()
    reqid = conn.send(CancelAll(), 0.0)
    conn.receive_message(err("cancelAllStatus", reqid, None), 1.0)
    failed = received(conn)[-1]
    assert isinstance(failed, RequestFailed)
    assert failed.error.text == "status error"


def test_cancel_order_waits_for_one_reply_per_id() -> None:
    conn = opened()
    cancel = CancelOrder(txid=("OAAAAA-BBBBB-CCCCC1", "OAAAAA-BBBBB-CCCCC2", "OAAAAA-BBBBB-CCCCC3"))
    reqid = conn.send(cancel, 0.0)
    conn.receive_message(ok("cancelOrderStatus", reqid), 1.0)
    conn.receive_message(err("cancelOrderStatus", reqid, "EOrder:Unknown order"), 1.0)
    assert [type(e) for e in received(conn)] == [CancelOrderStatus, CancelOrderStatus]
    conn.receive_message(ok("cancelOrderStatus", reqid), 1.0)
    events = received(conn)
    failed = events[-1]
    assert isinstance(failed, RequestFailed)
    assert len(failed.replies) == 3
    assert failed.error.text == "EOrder:Unknown order"


def test_cancel_order_all_ok_completes() -> None:
    conn = opened()
    reqid = conn.send(CancelOrder(txid=("OAAAAA-BBBBB-CCCCC1",), userref=(7,)), 0.0)
    conn.receive_message(ok("cancelOrderStatus", reqid), 1.0)
    conn.receive_message(ok("cancelOrderStatus", reqid), 1.0)
    assert isinstance(received(conn)[-1], RequestCompleted)


def test_generic_error_ends_a_multi_reply_request_at_once() -> None:
    conn = opened()
    reqid = conn.send(CancelOrder(txid=("OAAAAA-BBBBB-CCCCC1", "OAAAAA-BBBBB-CCCCC2")), 0.0)
    conn.receive_message(err("error", reqid, "Exceeded msg rate"), 1.0)
    raw, failed = received(conn)
    assert isinstance(raw, ErrorEvent)
    assert isinstance(failed, RequestFailed)
    assert failed.error.text == "Exceeded msg rate"
    assert conn.pending_requests() == {}


def test_error_event_without_message() -> None:
    conn = opened()
    reqid = conn.send(Ping(), 0.0)
    conn.receive_message(frame(event="error", reqid=reqid), 1.0)
    failed = received(conn)[-1]
    assert isinstance(failed, RequestFailed)
    assert failed.error.text == "error"


def test_ping_is_answered_by_pong() -> None:
    conn = opened()
    reqid = conn.send(Ping(), 0.0)
    conn.receive_message(frame(event="pong", reqid=reqid), 0.5)
    pong, completed = received(conn)
    assert isinstance(pong, Pong)
    assert isinstance(completed, RequestCompleted)


def test_reply_of_the_wrong_kind_is_delivered_raw_only() -> None:
    conn = opened()
    reqid = conn.send(limit_order(), 0.0)
    conn.receive_message(frame(event="pong", reqid=reqid), 1.0)
    assert [type(e) for e in received(conn)] == [Pong]
    assert reqid in conn.pending_requests()


def test_replies_without_or_with_unknown_reqid_are_raw_only() -> None:
    conn = opened()
    reqid = conn.send(limit_order(), 0.0)
    conn.receive_message(ok("addOrderStatus", None, txid="OAAAAA-BBBBB-CCCCCC"), 1.0)
    conn.receive_message(ok("addOrderStatus", 999), 1.0)
    conn.receive_message(
        frame(event="pingStatus", status="error", errorMessage="Reqid must be an int", reqid="a"),
        1.0,
    )
    assert [type(e).__name__ for e in received(conn)] == [
        "AddOrderStatus",
        "AddOrderStatus",
        "PingStatus",
    ]
    assert reqid in conn.pending_requests()


def test_request_timeout_then_late_reply() -> None:
    conn = opened()
    order = limit_order()
    reqid = conn.send(order, 0.0)
    assert conn.next_deadline() == 10.0
    conn.handle_timeout(9.9)
    assert received(conn) == []
    conn.handle_timeout(10.0)
    assert received(conn) == [RequestTimedOut(reqid=reqid, request=order)]
    assert conn.next_deadline() == 900.0  # only the fresh token's TTL is left
    conn.receive_message(ok("addOrderStatus", reqid, txid="OAAAAA-BBBBB-CCCCCC"), 11.0)
    reply, late = received(conn)
    assert late == LateReply(reqid=reqid, request=order, reply=reply)


def test_partial_answer_then_timeout_keeps_the_replies() -> None:
    conn = opened()
    reqid = conn.send(CancelOrder(txid=("OAAAAA-BBBBB-CCCCC1", "OAAAAA-BBBBB-CCCCC2")), 0.0)
    conn.receive_message(ok("cancelOrderStatus", reqid), 1.0)
    received(conn)
    conn.handle_timeout(10.0)
    (timed_out,) = received(conn)
    assert isinstance(timed_out, RequestTimedOut)
    assert len(timed_out.replies) == 1


def test_late_reply_memory_is_bounded() -> None:
    conn = opened(ConnectionConfig(late_reply_memory=1))
    first = conn.send(Ping(), 0.0)
    second = conn.send(Ping(), 0.0)
    conn.handle_timeout(10.0)
    received(conn)
    conn.receive_message(frame(event="pong", reqid=first), 11.0)
    conn.receive_message(frame(event="pong", reqid=second), 11.0)
    assert [type(e) for e in received(conn)] == [Pong, Pong, LateReply]


def test_late_reply_memory_can_be_off() -> None:
    conn = opened(ConnectionConfig(late_reply_memory=0))
    reqid = conn.send(Ping(), 0.0)
    conn.handle_timeout(10.0)
    received(conn)
    conn.receive_message(frame(event="pong", reqid=reqid), 11.0)
    assert [type(e) for e in received(conn)] == [Pong]


def test_core_never_resends_trading_requests() -> None:
    conn = opened()
    conn.send(limit_order(), 0.0)
    assert len(conn.data_to_send()) == 1
    conn.handle_timeout(10.0)
    conn.handle_timeout(20.0)
    assert conn.data_to_send() == []


# --- subscriptions ----------------------------------------------------------------------------


def test_subscribe_twice_raises() -> None:
    conn = opened()
    conn.send(Subscribe(name="openOrders"), 0.0)
    with pytest.raises(LocalProtocolError, match="pending"):
        conn.send(Subscribe(name="openOrders"), 0.0)
    conn.receive_message(sub_ack(1, "openOrders"), 0.0)
    with pytest.raises(LocalProtocolError, match="active"):
        conn.send(Subscribe(name="openOrders"), 0.0)


def test_unsubscribe_needs_an_active_subscription() -> None:
    conn = opened()
    with pytest.raises(LocalProtocolError, match="unsubscribed"):
        conn.send(Unsubscribe(name="ownTrades"), 0.0)


def test_unsubscribe_flow() -> None:
    conn = opened()
    subscribed(conn, "ownTrades")
    reqid = conn.send(Unsubscribe(name="ownTrades"), 1.0)
    assert sent(conn)[0]["subscription"] == {"name": "ownTrades", "token": TOKEN}
    assert conn.subscription_state("ownTrades") is SubscriptionState.UNSUBSCRIBING
    conn.receive_message(sub_ack(reqid, "ownTrades", "unsubscribed"), 1.0)
    assert conn.subscription_state("ownTrades") is SubscriptionState.UNSUBSCRIBED
    conn.send(Subscribe(name="ownTrades"), 2.0)
    assert conn.subscription_state("ownTrades") is SubscriptionState.PENDING


def test_refused_unsubscribe_stays_active() -> None:
    conn = opened()
    subscribed(conn)
    reqid = conn.send(Unsubscribe(name="openOrders"), 1.0)
    conn.receive_message(err("subscriptionStatus", reqid, "EGeneral:Internal error"), 1.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.ACTIVE


def test_unsubscribe_timeout_marks_failed() -> None:
    conn = opened()
    subscribed(conn)
    conn.send(Unsubscribe(name="openOrders"), 1.0)
    conn.receive_message(frame(event="heartbeat"), 10.0)
    conn.handle_timeout(11.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.FAILED


def test_refused_subscribe_fails_and_may_be_retried() -> None:
    conn = opened()
    reqid = conn.send(Subscribe(name="openOrders"), 0.0)
    conn.receive_message(err("subscriptionStatus", reqid, "EGeneral:Permission denied"), 1.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.FAILED
    conn.send(Subscribe(name="openOrders"), 2.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.PENDING


def test_subscribe_timeout_asks_again_then_fails() -> None:
    conn = opened()
    conn.send(Subscribe(name="openOrders"), 0.0)
    conn.data_to_send()
    conn.handle_timeout(10.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.PENDING
    (again,) = sent(conn)
    assert again["event"] == "subscribe"
    conn.handle_timeout(20.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.FAILED
    assert sent(conn) == []


def test_server_initiated_unsubscribe() -> None:
    conn = opened()
    subscribed(conn)
    conn.receive_message(frame(event="subscriptionStatus", status="unsubscribed"), 1.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.ACTIVE  # no channel: ignored
    conn.receive_message(sub_ack(None, "ownTrades", "unsubscribed"), 1.0)  # not tracked: ignored
    conn.receive_message(sub_ack(None, "openOrders", "unsubscribed"), 1.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.UNSUBSCRIBED


def test_uncorrelated_subscribed_status_changes_nothing() -> None:
    conn = opened()
    conn.send(Subscribe(name="openOrders"), 0.0)
    conn.receive_message(sub_ack(None, "openOrders"), 1.0)
    conn.receive_message(sub_ack(None, "openOrders", "unsubscribed"), 1.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.PENDING


def test_snapshot_then_updates() -> None:
    conn = opened()
    subscribed(conn)
    for sequence in (1, 2, 3):
        conn.receive_message(data("openOrders", sequence), 1.0)
    snapshot, *updates = received(conn)
    assert isinstance(snapshot, ChannelSnapshot)
    assert snapshot.channel == "openOrders"
    assert isinstance(snapshot.event, OpenOrders)
    assert [(type(u), u.event.sequence, u.after_gap) for u in updates] == [
        (ChannelUpdate, 2, False),
        (ChannelUpdate, 3, False),
    ]
    assert updates[0].channel == "openOrders"


def test_own_trades_without_snapshot_starts_with_an_update() -> None:
    conn = opened()
    subscribed(conn, "ownTrades", snapshot=False)
    conn.receive_message(data("ownTrades", 1), 1.0)
    conn.receive_message(data("ownTrades", 2), 1.0)
    events = received(conn)
    assert [type(e) for e in events] == [ChannelUpdate, ChannelUpdate]
    assert isinstance(events[0].event, OwnTrades)


def test_frames_without_sequence_are_accepted() -> None:
    conn = opened()
    subscribed(conn)
    for _ in range(3):
        conn.receive_message(data("openOrders", None), 1.0)
    events = received(conn)
    assert [type(e) for e in events] == [ChannelSnapshot, ChannelUpdate, ChannelUpdate]


def test_untracked_channels_get_plain_updates() -> None:
    conn = opened()
    conn.receive_message(data("ownTrades", 5), 0.0)
    conn.receive_message(data("ownTrades", 1), 0.0)
    events = received(conn)
    assert [type(e) for e in events] == [ChannelUpdate] * 2
    assert of_type(events, SequenceGap) == []


@pytest.mark.parametrize(("got", "name"), [(4, "gap"), (2, "repeat")])
def test_sequence_gap_resubscribes_for_a_fresh_snapshot(got: int, name: str) -> None:
    conn = opened()
    subscribed(conn, "ownTrades", consolidate_taker=False)
    conn.receive_message(data("ownTrades", 1), 1.0)
    conn.receive_message(data("ownTrades", 2), 1.0)
    received(conn)
    conn.receive_message(data("ownTrades", got), 2.0)
    gap, flagged = received(conn)
    assert gap == SequenceGap(channel="ownTrades", expected=3, got=got)
    assert flagged == ChannelUpdate(event=flagged.event, after_gap=True)
    unsubscribe, subscribe = sent(conn)
    assert unsubscribe["event"] == "unsubscribe"
    assert subscribe["subscription"] == {
        "name": "ownTrades",
        "consolidate_taker": False,
        "token": TOKEN,
    }
    assert conn.subscription_state("ownTrades") is SubscriptionState.RESYNCING
    with pytest.raises(LocalProtocolError, match="resyncing"):
        conn.send(Unsubscribe(name="ownTrades"), 2.0)
    # Frames of the old subscription keep coming, flagged, unchecked.
    conn.receive_message(data("ownTrades", 17), 2.0)
    conn.receive_message(sub_ack(unsubscribe["reqid"], "ownTrades", "unsubscribed"), 2.0)
    assert conn.subscription_state("ownTrades") is SubscriptionState.RESYNCING
    conn.receive_message(sub_ack(subscribe["reqid"], "ownTrades"), 2.0)
    assert conn.subscription_state("ownTrades") is SubscriptionState.ACTIVE
    conn.receive_message(data("ownTrades", 1), 3.0)
    conn.receive_message(data("ownTrades", 2), 3.0)
    events = [e for e in received(conn) if isinstance(e, ChannelSnapshot | ChannelUpdate)]
    assert [(type(e), getattr(e, "after_gap", None)) for e in events] == [
        (ChannelUpdate, True),
        (ChannelSnapshot, None),
        (ChannelUpdate, False),
    ]


def test_failed_resubscribe_marks_failed_and_keeps_flagging() -> None:
    conn = opened()
    subscribed(conn)
    conn.receive_message(data("openOrders", 1), 1.0)
    conn.receive_message(data("openOrders", 5), 1.0)
    unsubscribe, subscribe = sent(conn)
    conn.receive_message(
        err("subscriptionStatus", unsubscribe["reqid"], "Subscription Not Found"), 1.0
    )
    conn.receive_message(
        err("subscriptionStatus", subscribe["reqid"], "EGeneral:Internal error"), 1.0
    )
    assert conn.subscription_state("openOrders") is SubscriptionState.FAILED
    received(conn)
    conn.receive_message(data("openOrders", 6), 1.0)
    assert received(conn)[0] == ChannelUpdate(
        event=OpenOrders(orders=(), sequence=6), after_gap=True
    )


def test_gap_without_token_waits_for_one() -> None:
    conn = opened()
    subscribed(conn)
    conn.receive_message(data("openOrders", 1), 1.0)
    conn.receive_message(err("subscriptionStatus", None, "ESession:Invalid session"), 1.0)
    conn.receive_message(data("openOrders", 3), 1.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.RESYNCING
    assert conn.data_to_send() == []
    conn.provide_token(OTHER_TOKEN, 2.0)
    messages = sent(conn)
    assert [m["event"] for m in messages] == ["unsubscribe", "subscribe"]
    assert messages[1]["subscription"]["token"] == OTHER_TOKEN
    conn.provide_token(TOKEN, 3.0)  # already queued: nothing more
    assert conn.data_to_send() == []


def test_gap_while_closing_does_not_resubscribe() -> None:
    conn = opened()
    subscribed(conn)
    subscribed(conn, "ownTrades")
    conn.receive_message(data("openOrders", 1), 1.0)
    conn.close(1.0)
    conn.receive_message(data("openOrders", 3), 1.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.RESYNCING
    conn.provide_token(OTHER_TOKEN, 1.0)
    assert conn.data_to_send() == []


def test_gap_while_unsubscribing_only_flags() -> None:
    conn = opened()
    subscribed(conn)
    conn.receive_message(data("openOrders", 1), 1.0)
    conn.send(Unsubscribe(name="openOrders"), 1.0)
    conn.data_to_send()
    conn.receive_message(data("openOrders", 3), 1.0)
    events = received(conn)
    assert isinstance(events[1], SequenceGap)
    assert conn.data_to_send() == []
    assert conn.subscription_state("openOrders") is SubscriptionState.UNSUBSCRIBING


def test_connection_lost_forgets_subscriptions() -> None:
    conn = opened()
    subscribed(conn)
    conn.connection_lost(1.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.UNSUBSCRIBED


# --- liveness ---------------------------------------------------------------------------------


def test_no_liveness_pings_without_subscriptions() -> None:
    conn = opened()
    subscribed(conn)  # the ack sets the clock; then unsubscribe
    reqid = conn.send(Unsubscribe(name="openOrders"), 0.0)
    conn.receive_message(sub_ack(reqid, "openOrders", "unsubscribed"), 0.0)
    conn.data_to_send()
    conn.handle_timeout(100.0)
    assert conn.data_to_send() == []


def test_silence_pings_then_goes_stale() -> None:
    conn = opened()
    subscribed(conn, now=1.0)
    assert conn.next_deadline() == 6.0
    conn.handle_timeout(5.9)
    assert conn.data_to_send() == []
    conn.handle_timeout(6.0)
    (ping,) = sent(conn)
    assert ping["event"] == "ping"
    assert conn.next_deadline() == 11.0
    conn.handle_timeout(11.0)
    events = received(conn)
    assert events == [ConnectionStale(last_frame_at=1.0)]
    assert conn.should_close
    assert conn.state is ConnectionState.CLOSING


def test_any_frame_after_the_ping_keeps_the_connection() -> None:
    conn = opened()
    subscribed(conn, now=0.0)
    conn.handle_timeout(5.0)
    conn.data_to_send()
    conn.receive_message(frame(event="heartbeat"), 7.0)
    assert conn.next_deadline() == 12.0  # silence counted again from the heartbeat
    conn.handle_timeout(12.0)
    assert [m["event"] for m in sent(conn)] == ["ping"]
    assert of_type(received(conn), ConnectionStale) == []
    assert conn.state is ConnectionState.OPEN


def test_heartbeats_keep_liveness_quiet() -> None:
    conn = opened()
    subscribed(conn)
    for second in range(1, 30):
        conn.receive_message(frame(event="heartbeat"), float(second))
        conn.handle_timeout(float(second))
    assert conn.data_to_send() == []


# --- system status gating ---------------------------------------------------------------------


def _gated(status: str) -> Connection:
    conn = opened()
    conn.receive_message(system_status(status), 0.0)
    assert conn.system_status == status
    return conn


AMEND = AmendOrder(txid="OAAAAA-BBBBB-CCCCCC", volume=Decimal("1"))
AMEND_POST = AmendOrder(txid="OAAAAA-BBBBB-CCCCCC", limit_price=Decimal("5"), post_only=True)
EDIT = EditOrder(orderid="OAAAAA-BBBBB-CCCCCC", pair="XBT/USD", price=Decimal("5"))
EDIT_POST = EditOrder(
    orderid="OAAAAA-BBBBB-CCCCCC", pair="XBT/USD", price=Decimal("5"), oflags=frozenset({"post"})
)
CANCELS = (
    CancelOrder(txid=("OAAAAA-BBBBB-CCCCCC",)),
    CancelAll(),
    CancelAllOrdersAfter(timeout=60),
)


@pytest.mark.parametrize("status", ["maintenance", "cancel_only"])
def test_maintenance_and_cancel_only_allow_cancels_only(status: str) -> None:
    conn = _gated(status)
    request: Request
    for request in (limit_order(), EDIT, AMEND):
        with pytest.raises(LocalProtocolError, match=status):
            conn.send(request, 0.0)
    for request in (*CANCELS, Subscribe(name="openOrders"), Ping()):
        conn.send(request, 0.0)


def test_post_only_allows_post_only_orders() -> None:
    conn = _gated("post_only")
    request: Request
    for request in (limit_order(), market_order(), EDIT, AMEND):
        with pytest.raises(LocalProtocolError, match="post_only"):
            conn.send(request, 0.0)
    for request in (limit_order(oflags=frozenset({"post"})), EDIT_POST, AMEND_POST, *CANCELS):
        conn.send(request, 0.0)


def test_limit_only_allows_limit_orders() -> None:
    conn = _gated("limit_only")
    request: Request
    with pytest.raises(LocalProtocolError, match="limit_only"):
        conn.send(market_order(), 0.0)
    for request in (limit_order(), EDIT, AMEND, *CANCELS):
        conn.send(request, 0.0)


@pytest.mark.parametrize("status", ["online", "something_new"])
def test_other_statuses_allow_everything(status: str) -> None:
    conn = _gated(status)
    request: Request
    for request in (market_order(), EDIT, AMEND, *CANCELS):
        conn.send(request, 0.0)


def test_status_gate_lifts_when_status_changes() -> None:
    conn = _gated("maintenance")
    conn.receive_message(system_status("online"), 1.0)
    conn.send(market_order(), 1.0)


# --- dead man's switch ------------------------------------------------------------------------


DMS = ConnectionConfig(dead_mans_switch_timeout=60, dead_mans_switch_interval=20.0)


def test_dead_mans_switch_arms_rearms_and_disarms_on_close() -> None:
    conn = Connection(DMS)
    conn.connection_made(0.0)
    assert conn.data_to_send() == []  # no token yet
    conn.provide_token(TOKEN, 1.0)
    (arm,) = sent(conn)
    assert (arm["event"], arm["timeout"], arm["token"]) == ("cancelAllOrdersAfter", 60, TOKEN)
    conn.provide_token(TOKEN, 2.0)  # already armed: nothing new
    assert conn.data_to_send() == []
    conn.receive_message(ok("cancelAllOrdersAfterStatus", arm["reqid"], triggerTime="x"), 1.5)
    assert conn.next_deadline() == 21.0
    conn.handle_timeout(21.0)
    (rearm,) = sent(conn)
    assert rearm["timeout"] == 60
    assert conn.next_deadline() == 31.0  # the re-arm's request timeout
    conn.close(22.0)
    (disarm,) = sent(conn)
    assert disarm["timeout"] == 0
    assert conn.should_close


def test_dead_mans_switch_arms_on_connection_made_when_token_came_first() -> None:
    conn = Connection(DMS)
    conn.provide_token(TOKEN, 0.0)
    assert conn.data_to_send() == []
    conn.connection_made(1.0)
    assert [m["timeout"] for m in sent(conn)] == [60]


def test_dead_mans_switch_pauses_without_token() -> None:
    conn = opened(DMS)
    conn.receive_message(err("error", None, "EAPI:Invalid token"), 1.0)
    assert conn.token_state is TokenState.NONE
    assert conn.next_deadline() == 10.0  # the arm request's timeout; no re-arm scheduled
    conn.handle_timeout(30.0)
    assert conn.data_to_send() == []
    conn.close(31.0)  # armed, but no token: no disarm possible
    assert conn.data_to_send() == []


def test_dead_mans_switch_resumes_with_a_new_token() -> None:
    conn = opened(DMS)
    conn.receive_message(err("error", None, "EAPI:Invalid token"), 1.0)
    conn.provide_token(OTHER_TOKEN, 5.0)
    (arm,) = sent(conn)
    assert arm["token"] == OTHER_TOKEN


def test_dead_mans_switch_stops_when_the_due_time_finds_no_token() -> None:
    config = ConnectionConfig(
        dead_mans_switch_timeout=60, dead_mans_switch_interval=20.0, token_ttl=5.0
    )
    conn = opened(config)
    conn.data_to_send()
    conn.handle_timeout(20.0)  # the token expired at 5 and took the schedule with it
    assert TokenExpired() in received(conn)
    assert conn.data_to_send() == []
    assert conn.next_deadline() is None


def test_close_without_dead_mans_switch_queues_nothing() -> None:
    conn = opened()
    conn.close(0.0)
    assert conn.data_to_send() == []


def test_unsubscribe_answered_after_the_server_dropped_the_channel() -> None:
    conn = opened()
    subscribed(conn)
    reqid = conn.send(Unsubscribe(name="openOrders"), 1.0)
    conn.receive_message(sub_ack(None, "openOrders", "unsubscribed"), 1.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.UNSUBSCRIBED
    conn.receive_message(sub_ack(reqid, "openOrders", "unsubscribed"), 1.0)
    assert isinstance(received(conn)[-1], RequestCompleted)
    assert conn.subscription_state("openOrders") is SubscriptionState.UNSUBSCRIBED


def test_closing_connection_still_times_out_requests_but_does_not_ping() -> None:
    conn = opened()
    subscribed(conn)
    reqid = conn.send(CancelAll(), 0.0)
    conn.close(0.0)
    conn.data_to_send()
    conn.handle_timeout(10.0)
    assert received(conn) == [RequestTimedOut(reqid=reqid, request=CancelAll())]
    assert conn.data_to_send() == []
    assert conn.next_deadline() is None


def test_ping_outstanding_is_not_stale_before_its_limit() -> None:
    conn = opened()
    subscribed(conn)
    conn.handle_timeout(5.0)
    conn.data_to_send()
    conn.handle_timeout(9.0)
    assert conn.state is ConnectionState.OPEN
    assert conn.data_to_send() == []


def test_next_deadline_is_the_earliest_whatever_the_order_requests_were_sent_in() -> None:
    """A request sent with an earlier ``now`` after another (a caller's clock is theirs) times
    out first: the earliest pending deadline wins, not the first one sent."""
    from tests.deadline_reference import reference_next_deadline

    conn = opened(ConnectionConfig(request_timeout=10.0), now=0.0)
    conn.send(Ping(), 100.0)
    conn.send(Ping(), 50.0)
    assert conn.next_deadline() == reference_next_deadline(conn) == 60.0
