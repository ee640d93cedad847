"""``V2Connection`` unit tests: req_id correlation (several replies per request), the token in
params, sequence checks and resubscription, status gating, keepalive and liveness, the dead
man's switch, and every refusal, each against hand-written v2 frames."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from typing import Any

import kraken_proto
import kraken_proto.v1
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from kraken_proto import LocalProtocolError, RemoteProtocolError
from kraken_proto.v1 import (
    ChannelSnapshot,
    ChannelUpdate,
    ConnectionConfig,
    ConnectionStale,
    ConnectionState,
    LateReply,
    RequestCompleted,
    RequestFailed,
    RequestLost,
    RequestTimedOut,
    SequenceGap,
    SubscriptionState,
    TokenExpired,
    TokenRejected,
    TokenState,
)
from kraken_proto.v2 import (
    AddOrder,
    AmendOrder,
    BatchAdd,
    BatchCancel,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Event,
    Executions,
    Ping,
    Pong,
    Status,
    Subscribe,
    Unsubscribe,
    V2Connection,
    V2ConnectionConfig,
)

from tests.state import fields

D = Decimal
TOKEN = "SeCrEtToKeN/abc=="
LIMIT = AddOrder(order_type="limit", side="buy", symbol="BTC/USD", order_qty=D(1), limit_price=D(5))
POST = AddOrder(
    order_type="limit",
    side="buy",
    symbol="BTC/USD",
    order_qty=D(1),
    limit_price=D(5),
    post_only=True,
)
MARKET = AddOrder(order_type="market", side="buy", symbol="BTC/USD", order_qty=D(1))


def opened(config: ConnectionConfig | None = None, *, token: bool = True) -> V2Connection:
    conn = V2Connection(config)
    conn.connection_made(0.0)
    if token:
        conn.provide_token(TOKEN, 0.0)
    return conn


def token_of(conn: V2Connection) -> TokenState:
    """The token state, read through a call so mypy does not narrow it across calls."""
    return conn.token_state


def status_of(conn: V2Connection) -> str | None:
    return conn.system_status


def sent(conn: V2Connection) -> list[dict[str, Any]]:
    return [json.loads(text) for text in conn.data_to_send()]


def reply(
    conn: V2Connection, method: str, req_id: int | None, now: float = 0.0, **fields: Any
) -> None:
    message: dict[str, Any] = {"method": method, "success": True, **fields}
    if req_id is not None:
        message["req_id"] = req_id
    conn.receive_message(json.dumps(message), now)


def push(
    conn: V2Connection, channel: str, kind: str, sequence: int | None, now: float = 0.0
) -> None:
    message: dict[str, Any] = {"channel": channel, "type": kind, "data": []}
    if sequence is not None:
        message["sequence"] = sequence
    conn.receive_message(json.dumps(message), now)


def subscribed(conn: V2Connection, request: Subscribe | None = None) -> int:
    request = request or Subscribe(channel="executions")
    req_id = conn.send(request, 0.0)
    reply(conn, "subscribe", req_id, result={"channel": request.channel})
    conn.data_to_send()
    conn.events_received()
    return req_id


def endings(events: list[Event]) -> list[Event]:
    return [
        e
        for e in events
        if isinstance(e, RequestCompleted | RequestFailed | RequestTimedOut | RequestLost)
    ]


# --- configuration and queries -------------------------------------------------------------------


def test_config_validation() -> None:
    with pytest.raises(LocalProtocolError, match="first_reqid"):
        V2ConnectionConfig(first_reqid=0)
    with pytest.raises(LocalProtocolError, match="first_reqid"):
        V2Connection(ConnectionConfig(first_reqid=2**31))
    for bad in (0, -1.0, float("inf"), True, "5"):
        with pytest.raises(LocalProtocolError, match="keepalive_interval"):
            V2ConnectionConfig(keepalive_interval=bad)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="request_timeout"):
        V2ConnectionConfig(request_timeout=0)
    # a plain ConnectionConfig works too, with the default keepalive
    conn = V2Connection(ConnectionConfig(liveness_timeout=3.0))
    conn.connection_made(0.0)
    assert conn.next_deadline() == 20.0


def test_queries_and_repr_never_show_the_token() -> None:
    conn = opened()
    assert conn.state is ConnectionState.OPEN
    assert not conn.should_close
    assert conn.token_state is TokenState.FRESH
    assert conn.system_status is None
    req_id = conn.send(Subscribe(channel="balances"), 0.0)
    assert conn.pending_requests() == {req_id: Subscribe(channel="balances")}
    assert conn.subscription_state("balances") is SubscriptionState.PENDING
    assert conn.subscription_state("executions") is SubscriptionState.UNSUBSCRIBED
    assert sent(conn)[0]["params"]["token"] == TOKEN
    assert TOKEN not in repr(conn)
    assert TOKEN not in repr(fields(conn))  # once drained, only the redacted holder has it
    assert "balances=PENDING" in repr(conn)
    conn.receive_message('{"channel":"status","type":"update","data":[{"system":"online"}]}', 0.0)
    assert status_of(conn) == "online"
    assert isinstance(conn.events_received()[-1], Status)


def test_send_refusals_change_nothing() -> None:
    conn = V2Connection()
    with pytest.raises(LocalProtocolError, match="idle"):
        conn.send(Ping(), 0.0)
    conn.connection_made(0.0)
    with pytest.raises(LocalProtocolError, match=r"kraken_proto\.v2 request"):
        conn.send(kraken_proto.v1.Ping(), 0.0)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="needs a session token"):
        conn.send(CancelAll(), 0.0)
    assert conn.send(Ping(), 0.0) == 1  # a ping needs no token
    conn.provide_token(TOKEN, 0.0)
    subscribed(conn)
    with pytest.raises(LocalProtocolError, match="subscription is active"):
        conn.send(Subscribe(channel="executions"), 0.0)
    with pytest.raises(LocalProtocolError, match="subscription is unsubscribed"):
        conn.send(Unsubscribe(channel="balances"), 0.0)
    with pytest.raises(LocalProtocolError, match="connection_made"):
        conn.connection_made(0.0)


# --- replies -------------------------------------------------------------------------------------


def test_cancel_order_with_n_ids_ends_after_n_replies() -> None:
    conn = opened()
    req_id = conn.send(CancelOrder(order_id=("O1", "O2"), cl_ord_id=("c",)), 0.0)
    for order_id in ("O1", "O2"):
        reply(conn, "cancel_order", req_id, result={"order_id": order_id})
        assert endings(conn.events_received()) == []
    reply(conn, "cancel_order", req_id, result={"cl_ord_id": "c"})
    (done,) = endings(conn.events_received())
    assert isinstance(done, RequestCompleted)
    assert len(done.replies) == 3
    assert conn.pending_requests() == {}


def test_a_per_order_cancel_error_waits_for_the_other_replies() -> None:
    conn = opened()
    req_id = conn.send(CancelOrder(order_id=("O1", "O2")), 0.0)
    conn.receive_message(
        json.dumps(
            {
                "method": "cancel_order",
                "req_id": req_id,
                "success": False,
                "error": "EOrder:Invalid order",
            }
        ),
        0.0,
    )
    assert endings(conn.events_received()) == []
    reply(conn, "cancel_order", req_id, result={"order_id": "O2"})
    (failed,) = endings(conn.events_received())
    assert isinstance(failed, RequestFailed)
    assert failed.error.text == "EOrder:Invalid order"
    assert len(failed.replies) == 2
    # any other error ends it at once
    req_id = conn.send(CancelOrder(order_id=("O1", "O2")), 0.0)
    conn.receive_message(
        json.dumps(
            {
                "method": "cancel_order",
                "req_id": req_id,
                "success": False,
                "error": "EGeneral:Invalid arguments",
            }
        ),
        0.0,
    )
    (failed,) = endings(conn.events_received())
    assert isinstance(failed, RequestFailed)
    assert len(failed.replies) == 1


def test_batch_add_outcomes_keep_every_row() -> None:
    conn = opened()
    batch = BatchAdd(orders=(LIMIT, LIMIT))
    req_id = conn.send(batch, 0.0)
    conn.receive_message(
        json.dumps(
            {
                "method": "batch_add",
                "req_id": req_id,
                "success": False,
                "result": [{"order_id": "O1"}, {"error": "EOrder:Insufficient funds"}],
            }
        ),
        0.0,
    )
    (failed,) = endings(conn.events_received())
    assert isinstance(failed, RequestFailed)
    assert failed.error.text == "EOrder:Insufficient funds"
    req_id = conn.send(batch, 0.0)
    conn.receive_message(
        json.dumps({"method": "batch_add", "req_id": req_id, "success": False}), 0.0
    )
    (failed,) = endings(conn.events_received())
    assert isinstance(failed, RequestFailed)
    assert failed.error.text == "success false"
    req_id = conn.send(batch, 0.0)
    reply(conn, "batch_add", req_id, result={"orders": [{"order_id": "O1"}, {"order_id": "O2"}]})
    (done,) = endings(conn.events_received())
    assert isinstance(done, RequestCompleted)


def test_replies_that_do_not_fit_are_delivered_raw() -> None:
    conn = opened()
    req_id = conn.send(CancelAll(), 0.0)
    reply(conn, "add_order", req_id)  # wrong method for this req_id
    reply(conn, "cancel_all", None)  # no req_id
    reply(conn, "cancel_all", 999)  # nobody's req_id
    conn.receive_message('{"Error":"Exceeded msg rate"}', 0.0)
    conn.receive_message('["odd"]', 0.0)
    events = conn.events_received()
    assert endings(events) == []
    assert len(events) == 5
    assert req_id in conn.pending_requests()


def test_an_error_reply_to_an_unknown_method_fails_the_request() -> None:
    conn = opened()
    req_id = conn.send(LIMIT, 0.0)
    conn.receive_message(
        json.dumps({"method": "new_thing", "req_id": req_id, "error": "EGeneral:x"}), 0.0
    )
    events = conn.events_received()
    assert isinstance(events[0], kraken_proto.v2.ErrorReply)
    assert events[0].for_method == "new_thing"
    assert isinstance(events[1], RequestFailed)
    assert events[1].error.text == "EGeneral:x"


def test_timeouts_late_replies_and_their_memory() -> None:
    conn = opened(V2ConnectionConfig(request_timeout=1.0, late_reply_memory=1))
    first = conn.send(LIMIT, 0.0)
    second = conn.send(MARKET, 0.5)
    conn.handle_timeout(1.0)
    conn.handle_timeout(1.5)
    assert [type(e) for e in endings(conn.events_received())] == [RequestTimedOut, RequestTimedOut]
    reply(conn, "add_order", first, 2.0, result={"order_id": "O1"})  # forgotten (memory 1)
    assert [type(e) for e in conn.events_received()] == [kraken_proto.v2.AddOrderReply]
    reply(conn, "add_order", second, 2.0, result={"order_id": "O2"})
    late = conn.events_received()[-1]
    assert isinstance(late, LateReply)
    assert late.request == MARKET
    no_memory = opened(V2ConnectionConfig(request_timeout=1.0, late_reply_memory=0))
    no_memory.send(LIMIT, 0.0)
    no_memory.handle_timeout(1.0)
    assert isinstance(no_memory.events_received()[-1], RequestTimedOut)


def test_req_ids_wrap_within_int32_and_skip_ids_in_use() -> None:
    conn = opened(V2ConnectionConfig(first_reqid=2**31 - 2))
    ids = [conn.send(Ping(), 0.0) for _ in range(3)]
    assert ids == [2**31 - 2, 2**31 - 1, 1]
    for req_id in ids[:2]:
        conn.receive_message(json.dumps({"method": "pong", "req_id": req_id}), 0.0)
    conn2 = opened(V2ConnectionConfig(first_reqid=2**31 - 1))
    assert conn2.send(Ping(), 0.0) == 2**31 - 1
    assert conn2.send(Ping(), 0.0) == 1
    conn2._next_req_id = 2**31 - 1
    assert conn2.send(Ping(), 0.0) == 2


# --- the token -----------------------------------------------------------------------------------


def test_token_binding_rejection_and_expiry() -> None:
    conn = opened(V2ConnectionConfig(token_ttl=10.0))
    subscribed(conn)
    assert conn.token_state is TokenState.BOUND
    conn.handle_timeout(100.0)
    assert conn.token_state is TokenState.BOUND
    req_id = conn.send(LIMIT, 100.0)
    conn.receive_message(
        json.dumps(
            {
                "method": "add_order",
                "req_id": req_id,
                "success": False,
                "error": "EAPI:Invalid token",
            }
        ),
        100.0,
    )
    events = conn.events_received()
    assert any(isinstance(e, TokenRejected) and e.reqid == req_id for e in events)
    assert token_of(conn) is TokenState.NONE
    # a second rejection (no token any more) changes nothing
    conn.receive_message(
        '{"method":"add_order","success":false,"error":"EAPI:Invalid token"}', 100.0
    )
    assert not any(isinstance(e, TokenRejected) for e in conn.events_received())
    conn.provide_token(TOKEN, 100.0)
    conn.handle_timeout(110.0)
    assert any(isinstance(e, TokenExpired) for e in conn.events_received())
    assert token_of(conn) is TokenState.NONE


def test_a_rejection_of_an_older_token_keeps_the_new_one() -> None:
    conn = opened()
    req_id = conn.send(LIMIT, 0.0)
    conn.provide_token(TOKEN + "2", 0.0)
    conn.receive_message(
        json.dumps(
            {
                "method": "add_order",
                "req_id": req_id,
                "success": False,
                "error": "ESession:Invalid session",
            }
        ),
        0.0,
    )
    assert conn.token_state is TokenState.FRESH
    # an ack for a subscribe sent with the older token does not bind the new one
    conn2 = opened()
    req_id = conn2.send(Subscribe(channel="balances"), 0.0)
    conn2.provide_token(TOKEN + "2", 0.0)
    reply(conn2, "subscribe", req_id, result={"channel": "balances"})
    assert conn2.token_state is TokenState.FRESH
    assert conn2.subscription_state("balances") is SubscriptionState.ACTIVE


# --- status gating -------------------------------------------------------------------------------


def _status(conn: V2Connection, system: str) -> None:
    conn.receive_message(
        json.dumps({"channel": "status", "type": "update", "data": [{"system": system}]}), 0.0
    )


@pytest.mark.parametrize(
    ("system", "allowed", "refused"),
    [
        (
            "maintenance",
            [CancelAllOrdersAfter(timeout=5), Ping()],
            [LIMIT, CancelAll(), CancelOrder(order_id=("O",))],
        ),
        (
            "cancel_only",
            [CancelAll(), CancelOrder(order_id=("O",)), BatchCancel(orders=("A", "B"))],
            [LIMIT, POST, AmendOrder(order_id="O", order_qty=D(1))],
        ),
        (
            "post_only",
            [
                POST,
                BatchAdd(orders=(POST, POST)),
                AmendOrder(order_id="O", limit_price=D(1), post_only=True),
                EditOrder(order_id="O", symbol="BTC/USD", post_only=True),
                CancelAll(),
            ],
            [
                LIMIT,
                MARKET,
                BatchAdd(orders=(POST, LIMIT)),
                AmendOrder(order_id="O", order_qty=D(1)),
            ],
        ),
        ("online", [LIMIT, MARKET, CancelAll()], []),
    ],
)
def test_engine_status_gates_requests(system: str, allowed: list[Any], refused: list[Any]) -> None:
    conn = opened()
    _status(conn, system)
    for request in refused:
        with pytest.raises(LocalProtocolError, match=f"system status is '{system}'"):
            conn.send(request, 0.0)
    assert conn.data_to_send() == []
    for request in allowed:
        conn.send(request, 0.0)
    assert len(conn.data_to_send()) == len(allowed)


# --- subscriptions and sequences -----------------------------------------------------------------


def test_snapshot_then_updates_then_a_gap_resubscribes() -> None:
    conn = opened()
    subscribed(conn)
    push(conn, "executions", "snapshot", 1)
    push(conn, "executions", "update", 2)
    push(conn, "executions", "update", None)  # unnumbered: delivered, no check
    push(conn, "executions", "update", 3)
    events = conn.events_received()
    assert isinstance(events[0], ChannelSnapshot)
    assert events[0].channel == "executions"
    assert all(isinstance(e, ChannelUpdate) and not e.after_gap for e in events[1:])
    push(conn, "executions", "update", 3)  # a repeat
    gap, flagged = conn.events_received()
    assert gap == SequenceGap(channel="executions", expected=4, got=3)
    assert isinstance(flagged, ChannelUpdate)
    assert flagged.after_gap
    resync = sent(conn)
    assert [m["method"] for m in resync] == ["unsubscribe", "subscribe"]
    assert conn.subscription_state("executions") is SubscriptionState.RESYNCING
    push(conn, "executions", "update", 9)
    assert conn.events_received()[0] == ChannelUpdate(
        event=Executions(type="update", sequence=9), after_gap=True
    )
    reply(conn, "unsubscribe", resync[0]["req_id"], result={"channel": "executions"})
    reply(conn, "subscribe", resync[1]["req_id"], result={"channel": "executions"})
    assert conn.subscription_state("executions") is SubscriptionState.ACTIVE
    push(conn, "executions", "snapshot", 1)
    push(conn, "executions", "update", 2)
    events = [e for e in conn.events_received() if isinstance(e, ChannelSnapshot | ChannelUpdate)]
    assert isinstance(events[0], ChannelSnapshot)
    assert isinstance(events[1], ChannelUpdate)
    assert not events[1].after_gap


def test_a_snapshot_before_the_ack_counts_as_the_ack() -> None:
    conn = opened()
    req_id = conn.send(Subscribe(channel="balances"), 0.0)
    push(conn, "balances", "snapshot", 1)
    assert conn.subscription_state("balances") is SubscriptionState.ACTIVE
    assert conn.token_state is TokenState.BOUND
    assert isinstance(conn.events_received()[0], ChannelSnapshot)
    reply(conn, "subscribe", req_id, result={"channel": "balances"})  # changes nothing
    push(conn, "balances", "update", 2)
    assert not any(isinstance(e, SequenceGap) for e in conn.events_received())
    # during a resync too
    push(conn, "balances", "update", 5)
    resync = sent(conn)
    conn.events_received()
    push(conn, "balances", "snapshot", 1)
    assert conn.subscription_state("balances") is SubscriptionState.ACTIVE
    reply(conn, "unsubscribe", resync[0]["req_id"])
    reply(conn, "subscribe", resync[1]["req_id"])
    push(conn, "balances", "update", 2)
    assert not any(isinstance(e, SequenceGap) for e in conn.events_received())


def test_an_update_where_the_snapshot_should_be_is_a_gap() -> None:
    conn = opened()
    subscribed(conn, Subscribe(channel="balances"))
    push(conn, "balances", "update", 7)
    gap = conn.events_received()[0]
    assert gap == SequenceGap(channel="balances", expected=1, got=7)
    push(conn, "balances", "update", None)  # after the gap: flagged
    assert conn.events_received()[0] == ChannelUpdate(
        event=kraken_proto.v2.Balances(type="update"), after_gap=True
    )


@pytest.mark.parametrize(
    "request_",
    [
        Subscribe(channel="executions", users="all"),
        Subscribe(channel="executions", snap_orders=False),
    ],
)
def test_without_a_snapshot_the_first_update_sets_the_baseline(request_: Subscribe) -> None:
    conn = opened()
    subscribed(conn, request_)
    push(conn, "executions", "update", 40)
    push(conn, "executions", "update", 41)
    assert [type(e) for e in conn.events_received()] == [ChannelUpdate, ChannelUpdate]
    push(conn, "executions", "update", 43)
    assert isinstance(conn.events_received()[0], SequenceGap)
    conn2 = opened()
    subscribed(conn2, request_)
    push(conn2, "executions", "update", None)
    push(conn2, "executions", "update", 3)
    assert [type(e) for e in conn2.events_received()] == [ChannelUpdate, ChannelUpdate]


def test_untracked_data_is_delivered_as_updates() -> None:
    conn = opened()
    push(conn, "executions", "snapshot", 1)  # no subscription at all
    conn.send(Subscribe(channel="balances"), 0.0)
    push(conn, "balances", "update", 3)  # pending, not a snapshot
    assert [type(e) for e in conn.events_received()] == [ChannelUpdate, ChannelUpdate]


def test_a_gap_while_unsubscribing_does_not_resubscribe() -> None:
    conn = opened()
    subscribed(conn)
    push(conn, "executions", "snapshot", 1)
    conn.send(Unsubscribe(channel="executions"), 0.0)
    conn.data_to_send()
    push(conn, "executions", "update", 5)
    assert isinstance(conn.events_received()[1], SequenceGap)
    assert conn.data_to_send() == []
    assert conn.subscription_state("executions") is SubscriptionState.UNSUBSCRIBING


def test_a_gap_without_a_token_resubscribes_once_one_is_provided() -> None:
    conn = opened(V2ConnectionConfig(token_ttl=5.0))
    subscribed(conn)
    push(conn, "executions", "snapshot", 1)
    req_id = conn.send(LIMIT, 0.0)
    conn.receive_message(
        json.dumps(
            {
                "method": "add_order",
                "req_id": req_id,
                "success": False,
                "error": "EAPI:Invalid token",
            }
        ),
        0.0,
    )
    conn.data_to_send()
    push(conn, "executions", "update", 3)
    assert conn.data_to_send() == []
    conn.provide_token(TOKEN, 1.0)
    assert [m["method"] for m in sent(conn)] == ["unsubscribe", "subscribe"]
    conn.provide_token(TOKEN, 1.0)  # already queued: not again
    assert conn.data_to_send() == []


def test_unsubscribe_outcomes() -> None:
    conn = opened()
    subscribed(conn)
    req_id = conn.send(Unsubscribe(channel="executions"), 0.0)
    conn.receive_message(
        json.dumps(
            {"method": "unsubscribe", "req_id": req_id, "success": False, "error": "EGeneral:x"}
        ),
        0.0,
    )
    assert conn.subscription_state("executions") is SubscriptionState.ACTIVE
    req_id = conn.send(Unsubscribe(channel="executions"), 0.0)
    reply(conn, "unsubscribe", req_id, result={"channel": "executions"})
    assert conn.subscription_state("executions") is SubscriptionState.UNSUBSCRIBED
    # a refused or timed-out subscribe fails the subscription
    failed = opened(V2ConnectionConfig(request_timeout=1.0))
    req_id = failed.send(Subscribe(channel="balances"), 0.0)
    failed.receive_message(
        json.dumps(
            {"method": "subscribe", "req_id": req_id, "success": False, "error": "EGeneral:x"}
        ),
        0.0,
    )
    assert failed.subscription_state("balances") is SubscriptionState.FAILED
    failed.send(Subscribe(channel="balances"), 0.0)
    failed.handle_timeout(1.0)
    assert failed.subscription_state("balances") is SubscriptionState.FAILED
    subscribed(failed, Subscribe(channel="executions"))
    failed.send(Unsubscribe(channel="executions"), 1.0)
    failed.handle_timeout(2.0)
    assert failed.subscription_state("executions") is SubscriptionState.FAILED


# --- liveness and keepalive ----------------------------------------------------------------------


def test_keepalive_pings_a_connection_that_sends_nothing() -> None:
    conn = opened(V2ConnectionConfig(keepalive_interval=20.0, request_timeout=100.0))
    assert conn.next_deadline() == 20.0
    conn.handle_timeout(19.9)
    assert conn.data_to_send() == []
    conn.handle_timeout(20.0)
    (ping,) = sent(conn)
    assert ping == {"method": "ping", "req_id": 1}
    assert conn.next_deadline() == 40.0
    conn.receive_message('{"method":"pong","req_id":1}', 20.1)
    assert isinstance(conn.events_received()[0], Pong)


def test_a_silent_server_is_pinged_then_given_up_on() -> None:
    conn = opened(V2ConnectionConfig(liveness_timeout=5.0, request_timeout=100.0))
    subscribed(conn)
    assert conn.next_deadline() == 5.0
    conn.handle_timeout(5.0)
    assert [m["method"] for m in sent(conn)] == ["ping"]
    assert conn.next_deadline() == 10.0
    conn.handle_timeout(9.0)
    assert conn.state is ConnectionState.OPEN
    conn.handle_timeout(10.0)
    stale = conn.events_received()[-1]
    assert stale == ConnectionStale(last_frame_at=0.0)
    assert conn.should_close
    assert conn.next_deadline() == 105.0  # the ping's own timeout
    conn.handle_timeout(105.0)
    assert conn.next_deadline() is None


# --- dead man's switch, close, loss, failure -----------------------------------------------------


def test_dead_mans_switch_is_armed_rearmed_and_disarmed_on_close() -> None:
    config = V2ConnectionConfig(dead_mans_switch_timeout=60, dead_mans_switch_interval=20.0)
    conn = opened(config)
    (arm,) = sent(conn)
    assert arm["method"] == "cancel_all_orders_after"
    assert arm["params"]["timeout"] == 60
    reply(conn, "cancel_all_orders_after", arm["req_id"])
    conn.handle_timeout(20.0)
    rearm = [m for m in sent(conn) if m["method"] == "cancel_all_orders_after"]
    assert [m["params"]["timeout"] for m in rearm] == [60]
    conn.close(21.0)
    assert [m["params"]["timeout"] for m in sent(conn)] == [0]
    assert conn.state is ConnectionState.CLOSING
    conn.close(21.0)  # does nothing more
    assert conn.data_to_send() == []
    conn.handle_timeout(22.0)  # closing: nothing new goes out
    assert conn.data_to_send() == []
    idle = V2Connection(config)
    idle.close(0.0)
    assert idle.state is ConnectionState.CLOSING


def test_connection_lost_ends_everything_as_lost() -> None:
    conn = opened()
    req_id = conn.send(LIMIT, 0.0)
    conn.connection_lost(1.0)
    events = conn.events_received()
    assert events == [RequestLost(reqid=req_id, request=LIMIT)]
    assert conn.token_state is TokenState.GONE
    assert conn.state is ConnectionState.CLOSED
    assert conn.next_deadline() is None
    conn.handle_timeout(5.0)  # nothing to do when closed
    conn.connection_lost(2.0)  # idempotent
    with pytest.raises(LocalProtocolError, match="open a new one"):
        conn.provide_token(TOKEN, 2.0)
    with pytest.raises(LocalProtocolError, match="closed"):
        conn.receive_message('{"channel":"heartbeat"}', 2.0)


def test_an_invalid_frame_fails_the_connection() -> None:
    conn = opened()
    with pytest.raises(RemoteProtocolError):
        conn.receive_message('{"channel":"executions","data":[{"order_qty":true}]}', 0.0)
    assert conn.state is ConnectionState.FAILED
    assert conn.should_close
    for call in (
        lambda: conn.send(Ping(), 0.0),
        lambda: conn.handle_timeout(0.0),
        lambda: conn.receive_message("{}", 0.0),
        lambda: conn.provide_token(TOKEN, 0.0),
        lambda: conn.connection_made(0.0),
    ):
        with pytest.raises(LocalProtocolError, match="failed"):
            call()
    conn.close(0.0)
    conn.connection_lost(0.0)
    assert conn.state is ConnectionState.FAILED


def test_smaller_paths() -> None:
    # a token provided before the socket opens; heartbeats are delivered as they are
    conn = V2Connection(V2ConnectionConfig(dead_mans_switch_timeout=60, token_ttl=5.0))
    conn.provide_token(TOKEN, 0.0)
    conn.connection_made(0.0)
    assert conn.next_deadline() == 5.0  # the fresh token's expiry comes first
    conn.receive_message('{"channel":"heartbeat"}', 0.0)
    assert isinstance(conn.events_received()[-1], kraken_proto.v2.Heartbeat)
    # a fresh token past its ttl is not usable even before handle_timeout drops it
    with pytest.raises(LocalProtocolError, match="none is usable"):
        conn.send(CancelAll(), 6.0)
    # liveness armed but not yet due: nothing goes out
    live = opened()
    subscribed(live)
    live.handle_timeout(1.0)
    assert live.data_to_send() == []


def test_acks_for_a_subscription_given_up_meanwhile_change_nothing() -> None:
    conn = opened()
    subscribed(conn)
    push(conn, "executions", "snapshot", 1)
    push(conn, "executions", "update", 5)  # gap: resync queued
    resync = sent(conn)
    push(conn, "executions", "snapshot", 1)  # the new snapshot before the acks: active again
    unsubscribe = conn.send(Unsubscribe(channel="executions"), 0.0)
    reply(conn, "unsubscribe", unsubscribe)
    assert conn.subscription_state("executions") is SubscriptionState.UNSUBSCRIBED
    reply(conn, "unsubscribe", resync[0]["req_id"])
    reply(conn, "subscribe", resync[1]["req_id"])
    assert conn.subscription_state("executions") is SubscriptionState.UNSUBSCRIBED


def test_already_subscribed_is_subscribed_and_not_found_is_unsubscribed() -> None:
    conn = opened()
    req_id = conn.send(Subscribe(channel="balances"), 0.0)
    conn.receive_message(
        json.dumps(
            {
                "method": "subscribe",
                "req_id": req_id,
                "success": False,
                "error": "Already subscribed",
            }
        ),
        0.0,
    )
    assert isinstance(endings(conn.events_received())[0], RequestCompleted)
    assert conn.subscription_state("balances") is SubscriptionState.ACTIVE
    assert conn.token_state is TokenState.BOUND
    req_id = conn.send(Unsubscribe(channel="balances"), 0.0)
    conn.receive_message(
        json.dumps(
            {
                "method": "unsubscribe",
                "req_id": req_id,
                "success": False,
                "error": "Subscription Not Found",
            }
        ),
        0.0,
    )
    assert isinstance(endings(conn.events_received())[0], RequestFailed)
    assert conn.subscription_state("balances") is SubscriptionState.UNSUBSCRIBED


_STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["executions", "balances"]),
            st.sampled_from(["snapshot", "update"]),
            st.one_of(st.none(), st.integers(min_value=1, max_value=3)),
        ),
        st.just("heartbeat"),
        st.just("subscribe"),
    ),
    max_size=14,
)


@example(
    steps=[("executions", "snapshot", 1), ("executions", "update", 2), ("executions", "update", 2)],
    subscribe_first=True,
)
@given(steps=_STEPS, subscribe_first=st.booleans())
def test_receive_update_is_receive_message_with_the_usual_update_handed_back(
    steps: list[Any], subscribe_first: bool
) -> None:
    """Whatever arrives (snapshots, updates in and out of sequence, unnumbered ones, other
    channels, a subscribe in flight), ``receive_update`` leaves the connection as
    ``receive_message`` does, and what it returns is exactly the ``ChannelUpdate`` the other
    reports (never one after a gap)."""
    plain, fast = opened(), opened()
    if subscribe_first:
        subscribed(plain)
        subscribed(fast)
    for step in steps:
        if step == "subscribe":
            for conn in (plain, fast):
                with contextlib.suppress(LocalProtocolError):  # already subscribed or pending
                    conn.send(Subscribe(channel="executions"), 0.0)
            continue
        if step == "heartbeat":
            text = json.dumps({"channel": "heartbeat"})
        else:
            channel, kind, sequence = step
            message: dict[str, Any] = {"channel": channel, "type": kind, "data": []}
            if sequence is not None:
                message["sequence"] = sequence
            text = json.dumps(message)
        plain.receive_message(text, 1.0)
        returned = fast.receive_update(text, 1.0)
        expected = plain.events_received()
        got = fast.events_received()
        if returned is not None:
            assert got == []
            got = [ChannelUpdate(event=returned)]
        assert got == expected
        assert plain.data_to_send() == fast.data_to_send()
        for channel in ("executions", "balances"):
            assert plain.subscription_state(channel) == fast.subscription_state(channel)
    assert plain.next_deadline() == fast.next_deadline()
