"""A Hypothesis state machine driving ``V2Connection`` against a scripted fake v2 server.

The fake server reads what the connection queued and answers (``cancel_order`` once per id),
delays, drops or refuses each request, sends heartbeats, channel data with correct or broken
sequences, token errors, status changes and (rarely) garbage. After every step the machine
drains both queues and checks the invariants against its own model: every request ends exactly
once, req_ids are never reused while open, no private frame goes out without the current
token, the core sends no trading request the user did not, the engine status gates what goes
out, a gap is reported only for a broken sequence, and an open connection never stays silent
longer than ``keepalive_interval``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from kraken_proto import LocalProtocolError, RemoteProtocolError
from kraken_proto.v1 import (
    ConnectionState,
    LateReply,
    RequestCompleted,
    RequestFailed,
    RequestLost,
    RequestTimedOut,
    SequenceGap,
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
    Ping,
    Subscribe,
    Unsubscribe,
    V2Connection,
    V2ConnectionConfig,
    V2Request,
)

from tests.deadline_reference import reference_next_deadline
from tests.sequence_invariant import assert_counted_sequence_is_clean

D = Decimal
TTL = 25.0
KEEPALIVE = 20.0
ORDER_ENTRY = frozenset({"add_order", "amend_order", "edit_order", "batch_add"})
CANCELS = frozenset({"cancel_order", "cancel_all", "batch_cancel"})
TRADING = ORDER_ENTRY | CANCELS
_LIMIT: dict[str, Any] = {
    "order_type": "limit",
    "side": "buy",
    "symbol": "BTC/USD",
    "order_qty": D(1),
}
REQUESTS: list[V2Request] = [
    AddOrder(**_LIMIT, limit_price=D(5)),
    AddOrder(**_LIMIT, limit_price=D(7), post_only=True),
    AddOrder(order_type="market", side="buy", symbol="BTC/USD", order_qty=D("0.1")),
    AmendOrder(order_id="OAAAAA-BBBBB-CCCCCC", order_qty=D(2)),
    AmendOrder(order_id="OAAAAA-BBBBB-CCCCCC", limit_price=D(2), post_only=True),
    EditOrder(order_id="OAAAAA-BBBBB-CCCCCC", symbol="BTC/USD", limit_price=D(6)),
    BatchAdd(orders=(AddOrder(**_LIMIT, limit_price=D(5)), AddOrder(**_LIMIT, limit_price=D(4)))),
    CancelOrder(order_id=("OAAAAA-BBBBB-CCCCC1",)),
    CancelOrder(order_id=("OAAAAA-BBBBB-CCCCC1", "OAAAAA-BBBBB-CCCCC2"), order_userref=(3,)),
    BatchCancel(orders=("OAAAAA-BBBBB-CCCCC1", "OAAAAA-BBBBB-CCCCC2")),
    CancelAll(),
    CancelAllOrdersAfter(timeout=30),
    Ping(),
    Subscribe(channel="executions", snap_trades=True),
    Subscribe(channel="executions", snap_orders=False),
    Subscribe(channel="balances"),
    Unsubscribe(channel="executions"),
    Unsubscribe(channel="balances"),
]
ANSWERS = st.sampled_from(
    ["ok"] * 6 + ["error", "token_error", "drop", "generic_error", "unknown_method", "later"]
)
ENDINGS = (RequestCompleted, RequestFailed, RequestTimedOut, RequestLost)


def _allowed(method: str, params: dict[str, Any], status: str | None) -> bool:
    """What each engine status lets out, written from the doc independently of the core."""
    if status == "maintenance":
        return method not in TRADING
    if status == "cancel_only":
        return method not in ORDER_ENTRY
    if status == "post_only" and method in ORDER_ENTRY:
        rows = params.get("orders", [params])
        return all(row.get("post_only") is True for row in rows)
    return True


class V2ConnectionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.tokens_ever: list[str] = []
        self.config = V2ConnectionConfig()
        self._fresh_connection()

    def _fresh_connection(self) -> None:
        self.conn = V2Connection(self.config)
        self.inbox: list[dict[str, Any]] = []
        # channel -> [last sequence sent, expects a snapshot, snapshot sent]
        self.server_channels: dict[str, list[Any]] = {}
        self.open_req_ids: set[int] = set()
        self.timed_out: set[int] = set()
        self.sent_requests: dict[int, V2Request] = {}
        self.sent_with_token: dict[int, str | None] = {}
        self.user_trading_sends = 0
        self.trading_frames = 0
        self.token: str | None = None
        self.token_last_use = 0.0
        self.token_bound = False
        self.broken_sequence_sent = False
        self.status: str | None = None
        self.last_sent_at = 0.0

    @initialize(dead_mans_switch=st.booleans(), open_first=st.booleans())
    def configure(self, dead_mans_switch: bool, open_first: bool) -> None:
        self.config = V2ConnectionConfig(
            token_ttl=TTL,
            keepalive_interval=KEEPALIVE,
            dead_mans_switch_timeout=60 if dead_mans_switch else None,
            dead_mans_switch_interval=20.0,
            first_reqid=2**31 - 3,  # wraps to 1 within a run
        )
        self._fresh_connection()
        if open_first:
            self.connection_made()
            self.provide_token()
            self.send(Subscribe(channel="executions"), "ok")

    # --- draining and checking ------------------------------------------------------------

    def _drain(self) -> None:
        self._check_outgoing(self.conn.data_to_send())
        self._check_events(self.conn.events_received())
        assert all(token not in repr(self.conn) for token in self.tokens_ever)

    def _check_outgoing(self, texts: list[str]) -> None:
        for text in texts:
            message = json.loads(text, parse_float=Decimal)
            req_id = message["req_id"]
            assert 1 <= req_id < 2**31
            assert req_id not in self.open_req_ids, "req_id reused while its request is open"
            self.open_req_ids.add(req_id)
            self.last_sent_at = self.now
            params = message.get("params", {})
            token = params.get("token")
            method = message["method"]
            if method == "ping":
                assert token is None
            else:
                assert token is not None
                assert token == self.token
                assert self.token_bound or self.now < self.token_last_use + TTL
                self.token_last_use = self.now
            if method in TRADING:
                self.trading_frames += 1
            assert _allowed(method, params, self.status), f"{method} sent in {self.status}"
            self.sent_with_token[req_id] = token
            self.inbox.append(message)
        assert self.trading_frames == self.user_trading_sends

    def _check_events(self, events: list[Event]) -> None:
        for event in events:
            text = repr(event)
            assert all(token not in text for token in self.tokens_ever)
            if isinstance(event, ENDINGS):
                assert event.reqid in self.open_req_ids, "request ended twice or never started"
                self.open_req_ids.discard(event.reqid)
                if event.reqid in self.sent_requests:
                    assert event.request == self.sent_requests.pop(event.reqid)
                if isinstance(event, RequestTimedOut):
                    self.timed_out.add(event.reqid)
                if (
                    isinstance(event, RequestCompleted)
                    and isinstance(event.request, Subscribe)
                    and self.token is not None
                    and self.sent_with_token[event.reqid] == self.token
                ):
                    self.token_bound = True
            elif isinstance(event, LateReply):
                assert event.reqid in self.timed_out
            elif isinstance(event, TokenExpired):
                assert not self.token_bound, "a bound token expired"
                self.token = None
            elif isinstance(event, TokenRejected):
                self.token = None
            elif isinstance(event, SequenceGap):
                assert self.broken_sequence_sent, "gap reported for an unbroken sequence"

    @invariant()
    def a_counted_sequence_means_no_first_frame_awaited_and_no_gap(self) -> None:
        assert_counted_sequence_is_clean(self.conn)

    @invariant()
    def next_deadline_is_the_earliest_deadline(self) -> None:
        assert self.conn.next_deadline() == reference_next_deadline(self.conn)

    @invariant()
    def token_state_matches_model(self) -> None:
        if self.conn.state in (ConnectionState.CLOSED, ConnectionState.FAILED):
            return
        usable = self.conn.token_state in (TokenState.FRESH, TokenState.BOUND)
        assert usable == (self.token is not None)

    def _receive(self, message: Any) -> None:
        self.conn.receive_message(json.dumps(message), self.now)
        self._drain()

    def _serving(self) -> bool:
        return self.conn.state in (ConnectionState.OPEN, ConnectionState.CLOSING)

    # --- the client side ------------------------------------------------------------------

    @precondition(lambda self: self.conn.state is ConnectionState.IDLE)
    @rule()
    def connection_made(self) -> None:
        self.conn.connection_made(self.now)
        self.last_sent_at = self.now
        self._drain()

    @rule()
    def provide_token(self) -> None:
        token = f"SECRETtoken{len(self.tokens_ever)}x"
        self.tokens_ever.append(token)
        refusal = None
        try:
            self.conn.provide_token(token, self.now)
        except LocalProtocolError as exc:
            refusal = str(exc)
        if refusal is not None:
            assert token not in refusal
            assert self.conn.state in (ConnectionState.CLOSED, ConnectionState.FAILED)
            return
        self.token, self.token_last_use, self.token_bound = token, self.now, False
        self._drain()

    @rule(request=st.sampled_from(REQUESTS), answer=ANSWERS)
    def send(self, request: V2Request, answer: str = "later") -> None:
        before = (self.conn.pending_requests(), self.conn.state, self.conn.token_state)
        refusal = None
        try:
            req_id = self.conn.send(request, self.now)
        except LocalProtocolError as exc:
            refusal = str(exc)
        if refusal is not None:
            assert all(token not in refusal for token in self.tokens_ever)
            assert self.conn.data_to_send() == []
            assert (self.conn.pending_requests(), self.conn.state, self.conn.token_state) == before
            return
        self.sent_requests[req_id] = request
        if request.method in TRADING:
            self.user_trading_sends += 1
        self._drain()
        if answer != "later":
            self.server_answers(len(self.inbox) - 1, answer)

    @rule(seconds=st.sampled_from([0.0, 0.5, 1.0, 1.0, 4.9, 5.0, 10.0, 30.0, 1000.0]))
    def advance_time(self, seconds: float) -> None:
        self.now += seconds

    @rule()
    def handle_timeout(self) -> None:
        if self.conn.state is ConnectionState.FAILED:
            with pytest.raises(LocalProtocolError, match="failed"):
                self.conn.handle_timeout(self.now)
            return
        self.conn.handle_timeout(self.now)
        self._drain()
        deadline = self.conn.next_deadline()
        assert deadline is None or deadline > self.now
        if self.conn.state is ConnectionState.OPEN:
            # Kraken drops a connection that sends nothing for about a minute.
            assert self.now < self.last_sent_at + KEEPALIVE

    @rule()
    def sleep_until_deadline(self) -> None:
        deadline = self.conn.next_deadline()
        if deadline is not None and deadline > self.now:
            self.now = deadline
        self.handle_timeout()

    @rule(chance=st.integers(0, 7))
    def close(self, chance: int) -> None:
        if chance:
            return
        self.conn.close(self.now)
        self._drain()
        assert self.conn.should_close

    @rule(chance=st.integers(0, 7))
    def connection_lost(self, chance: int) -> None:
        if chance:
            return
        self.conn.connection_lost(self.now)
        self._drain()
        assert self.open_req_ids == set(), "a pending request did not end on connection_lost"
        self.token = None
        self.inbox.clear()
        self.server_channels.clear()

    @precondition(lambda self: self.conn.state in (ConnectionState.CLOSED, ConnectionState.FAILED))
    @rule()
    def reconnect(self) -> None:
        self.conn.connection_lost(self.now)
        self._drain()
        self._fresh_connection()

    # --- the fake server ------------------------------------------------------------------

    @precondition(lambda self: bool(self.inbox))
    @rule(index=st.integers(0, 20), mode=ANSWERS)
    def server_answers(self, index: int, mode: str) -> None:
        message = self.inbox.pop(index % len(self.inbox))
        if mode == "later":
            self.inbox.insert(0, message)
            return
        if mode == "drop" or not self._serving():
            return
        method, req_id = message["method"], message["req_id"]
        params = message.get("params", {})
        head = {"method": method, "req_id": req_id, "time_in": "t", "time_out": "t"}
        if mode == "generic_error":
            self._receive({**head, "success": False, "error": "EGeneral:Too many requests"})
            return
        if mode == "unknown_method":
            self._receive({"method": "brand_new", "req_id": req_id, "error": "EGeneral:x"})
            return
        if mode == "token_error" and method != "ping":
            self._receive({**head, "success": False, "error": "EAPI:Invalid token"})
            return
        if method in ("subscribe", "unsubscribe"):
            self._answer_subscription(head, params, ok=mode != "error")
            return
        if method == "ping":
            self._receive({"method": "pong", "req_id": req_id, "time_in": "t", "time_out": "t"})
            return
        count = sum(len(params.get(key, [])) for key in ("order_id", "cl_ord_id", "order_userref"))
        for _ in range(max(1, count) if method == "cancel_order" else 1):
            if mode == "error":
                self._receive({**head, "success": False, "error": "EOrder:Unknown order"})
            else:
                self._receive({**head, "success": True, "result": {}})

    def _answer_subscription(
        self, head: dict[str, Any], params: dict[str, Any], *, ok: bool
    ) -> None:
        channel = params["channel"]
        subscribing = head["method"] == "subscribe"
        if subscribing and channel in self.server_channels:
            ok, error = False, "Already subscribed"
        elif not subscribing and channel not in self.server_channels:
            ok, error = False, "Subscription Not Found"
        else:
            error = "EGeneral:Invalid arguments"
        if not ok:
            if error == "Already subscribed":
                # The connection takes it as subscribed and waits for a snapshot that will not
                # come: the next update is a (correctly reported) missed snapshot.
                self.broken_sequence_sent = True
            self._receive({**head, "success": False, "error": error})
            return
        if subscribing:
            expects = (
                params.get("snapshot") is not False
                if channel == "balances"
                else params.get("snap_orders") is not False or params.get("snap_trades") is True
            )
            self.server_channels[channel] = [0, expects, False]
        else:
            del self.server_channels[channel]
        self._receive({**head, "success": True, "result": {"channel": channel}})

    @precondition(lambda self: self._serving() and bool(self.server_channels))
    @rule(
        channel=st.sampled_from(["executions", "balances"]),
        shape=st.sampled_from(["next", "next", "next", "skip", "repeat"]),
    )
    def server_sends_data(self, channel: str, shape: str) -> None:
        if channel not in self.server_channels:
            return
        state = self.server_channels[channel]
        last, expects, snapshot_sent = state
        sequence = {"next": last + 1, "skip": last + 2, "repeat": max(last, 1)}[shape]
        if shape != "next" or (expects and not snapshot_sent and last):
            self.broken_sequence_sent = True
        kind = "snapshot" if expects and not snapshot_sent and shape == "next" else "update"
        # Kraken sends the snapshot only as a subscription's first push: once any frame went out
        # on it, its snapshot is past (sent or skipped). A snapshot after that would be a new
        # subscription's, which the core rightly takes as the resubscribe's answer.
        state[0], state[2] = max(last, sequence), True
        if expects and not snapshot_sent and kind == "update":
            self.broken_sequence_sent = True  # the snapshot was skipped
        record = {"order_id": "O1", "exec_type": "new"} if channel == "executions" else {}
        self._receive({"channel": channel, "type": kind, "data": [record], "sequence": sequence})

    @precondition(lambda self: self._serving())
    @rule(
        kind=st.sampled_from(
            ["heartbeat"] * 4
            + ["online", "online", "maintenance", "cancel_only", "post_only", "token_error"]
        )
    )
    def server_noise(self, kind: str) -> None:
        if kind == "heartbeat":
            self._receive({"channel": "heartbeat"})
        elif kind == "token_error":  # an error no request can be matched to
            self._receive({"method": "add_order", "success": False, "error": "EAPI:Invalid token"})
        else:
            self.status = kind
            self._receive({"channel": "status", "type": "update", "data": [{"system": kind}]})

    @precondition(lambda self: self._serving())
    @rule(chance=st.integers(0, 15))
    def server_sends_garbage(self, chance: int) -> None:
        if chance:
            return
        with pytest.raises(RemoteProtocolError):
            self.conn.receive_message('{"channel": "heartbeat"', self.now)
        assert self.conn.state is ConnectionState.FAILED
        self._drain()

    def teardown(self) -> None:
        self.conn.connection_lost(self.now)
        self._drain()
        assert self.open_req_ids == set()


V2ConnectionMachine.TestCase.settings = settings(stateful_step_count=50, deadline=None)
TestV2ConnectionMachine = V2ConnectionMachine.TestCase
