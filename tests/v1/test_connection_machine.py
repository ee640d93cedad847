"""A Hypothesis state machine driving ``Connection`` against a scripted fake server.

The fake server reads what the connection queued and answers, delays, drops or refuses each
request, sends heartbeats, channel data with correct or broken sequences, token errors,
status changes and (rarely) garbage. After every step the machine drains both queues and
checks the invariants against its own model; see ``_check_outgoing`` and ``_check_events``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
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
from kraken_proto.v1 import (
    Connection,
    ConnectionConfig,
    ConnectionState,
    LateReply,
    Ping,
    RequestCompleted,
    RequestFailed,
    RequestLost,
    RequestTimedOut,
    SequenceGap,
    Subscribe,
    TokenExpired,
    TokenRejected,
    TokenState,
    Unsubscribe,
)

from tests.deadline_reference import reference_next_deadline
from tests.sequence_invariant import assert_counted_sequence_is_clean

TTL = 25.0
TRADING_EVENTS = frozenset({"addOrder", "editOrder", "amendOrder", "cancelOrder", "cancelAll"})
REQUESTS: list[Request] = [
    AddOrder(ordertype="limit", type="buy", pair="XBT/USD", volume=Decimal("1"), price=Decimal(5)),
    AddOrder(
        ordertype="limit",
        type="sell",
        pair="XBT/USD",
        volume=Decimal("1"),
        price=Decimal(7),
        oflags=frozenset({"post"}),
    ),
    AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal("0.1")),
    EditOrder(orderid="OAAAAA-BBBBB-CCCCCC", pair="XBT/USD", price=Decimal("6")),
    AmendOrder(txid="OAAAAA-BBBBB-CCCCCC", volume=Decimal("2")),
    CancelOrder(txid=("OAAAAA-BBBBB-CCCCC1",)),
    CancelOrder(txid=("OAAAAA-BBBBB-CCCCC1", "OAAAAA-BBBBB-CCCCC2"), userref=(3,)),
    CancelAll(),
    CancelAllOrdersAfter(timeout=30),
    Ping(),
    Subscribe(name="openOrders"),
    Subscribe(name="ownTrades", consolidate_taker=False),
    Subscribe(name="ownTrades", snapshot=False),
    Unsubscribe(name="openOrders"),
    Unsubscribe(name="ownTrades"),
]
REPLY_EVENT = {
    "subscribe": "subscriptionStatus",
    "unsubscribe": "subscriptionStatus",
    "ping": "pong",
    "addOrder": "addOrderStatus",
    "editOrder": "editOrderStatus",
    "amendOrder": "amendOrderStatus",
    "cancelOrder": "cancelOrderStatus",
    "cancelAll": "cancelAllStatus",
    "cancelAllOrdersAfter": "cancelAllOrdersAfterStatus",
}
ANSWERS = st.sampled_from(["ok"] * 6 + ["error", "token_error", "drop", "generic_error", "later"])
ENDINGS = (RequestCompleted, RequestFailed, RequestTimedOut, RequestLost)


class ConnectionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.tokens_ever: list[str] = []
        self.config = ConnectionConfig()
        self._fresh_connection()

    def _fresh_connection(self) -> None:
        self.conn = Connection(self.config)
        self.inbox: list[dict[str, Any]] = []  # requests the server has not answered yet
        self.server_channels: dict[str, int] = {}  # channel -> last sequence sent
        self.reqids_seen: set[int] = set()
        self.open_reqids: set[int] = set()
        self.timed_out: set[int] = set()
        self.sent_requests: dict[int, Request] = {}
        self.sent_with_token: dict[int, str | None] = {}
        self.user_trading_sends = 0
        self.trading_frames = 0
        self.token: str | None = None
        self.token_last_use = 0.0
        self.token_bound = False
        self.broken_sequence_sent = False

    @initialize(dead_mans_switch=st.booleans(), open_first=st.booleans())
    def configure(self, dead_mans_switch: bool, open_first: bool) -> None:
        self.config = ConnectionConfig(
            token_ttl=TTL,
            dead_mans_switch_timeout=60 if dead_mans_switch else None,
            dead_mans_switch_interval=20.0,
        )
        self._fresh_connection()
        if open_first:  # most runs start where the interesting behaviour is
            self.connection_made()
            self.provide_token()
            self.send(Subscribe(name="openOrders"), "ok")

    # --- draining and checking ------------------------------------------------------------

    def _drain(self) -> None:
        self._check_outgoing(self.conn.data_to_send())
        self._check_events(self.conn.events_received())
        assert all(token not in repr(self.conn) for token in self.tokens_ever)

    def _check_outgoing(self, texts: list[str]) -> None:
        for text in texts:
            message = json.loads(text)
            reqid = message["reqid"]
            assert reqid not in self.reqids_seen, "reqid reused"
            self.reqids_seen.add(reqid)
            self.open_reqids.add(reqid)
            token = message.get("token") or message.get("subscription", {}).get("token")
            if message["event"] == "ping":
                assert token is None
            else:
                # No private frame without a valid token.
                assert token is not None
                assert token == self.token
                assert self.token_bound or self.now < self.token_last_use + TTL
                self.token_last_use = self.now
            if message["event"] in TRADING_EVENTS:
                self.trading_frames += 1
            self.sent_with_token[reqid] = token
            self.inbox.append(message)
        # The core never sends a trading request the user did not send.
        assert self.trading_frames == self.user_trading_sends

    def _check_events(self, events: list[Event]) -> None:
        for event in events:
            text = repr(event)
            assert all(token not in text for token in self.tokens_ever)
            if isinstance(event, ENDINGS):
                assert event.reqid in self.open_reqids, "request ended twice or never started"
                self.open_reqids.discard(event.reqid)
                if event.reqid in self.sent_requests:
                    assert event.request == self.sent_requests[event.reqid]
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
    def send(self, request: Request, answer: str = "later") -> None:
        before = (self.conn.pending_requests(), self.conn.state, self.conn.token_state)
        refusal = None
        try:
            reqid = self.conn.send(request, self.now)
        except LocalProtocolError as exc:
            refusal = str(exc)
        if refusal is not None:
            assert all(token not in refusal for token in self.tokens_ever)
            assert self.conn.data_to_send() == []
            assert (self.conn.pending_requests(), self.conn.state, self.conn.token_state) == before
            return
        self.sent_requests[reqid] = request
        if request.event in TRADING_EVENTS:
            self.user_trading_sends += 1
        self._drain()
        if answer != "later":  # the server answers at once (its newest inbox entry is ours)
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

    @rule()
    def sleep_until_deadline(self) -> None:
        deadline = self.conn.next_deadline()
        if deadline is not None and deadline > self.now:
            self.now = deadline
        self.handle_timeout()

    @rule(chance=st.integers(0, 7))
    def close(self, chance: int) -> None:
        if chance:  # rare: it ends the interesting part of a run
            return
        self.conn.close(self.now)
        self._drain()
        assert self.conn.should_close

    @rule(chance=st.integers(0, 7))
    def connection_lost(self, chance: int) -> None:
        if chance:  # rare: it ends the interesting part of a run
            return
        self.conn.connection_lost(self.now)
        self._drain()
        assert self.open_reqids == set(), "a pending request did not end on connection_lost"
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
    @rule(
        index=st.integers(0, 20),
        mode=ANSWERS,
    )
    def server_answers(self, index: int, mode: str) -> None:
        message = self.inbox.pop(index % len(self.inbox))
        if mode == "later":
            self.inbox.insert(0, message)
            return
        if mode == "drop" or not self._serving():
            return
        event, reqid = message["event"], message["reqid"]
        reply_event = REPLY_EVENT[event]
        if mode == "generic_error":
            self._receive({"event": "error", "errorMessage": "Exceeded msg rate", "reqid": reqid})
            return
        if mode == "token_error" and event != "ping":
            reply = {"event": reply_event, "status": "error", "reqid": reqid}
            self._receive({**reply, "errorMessage": "ESession:Invalid session"})
            return
        if event in ("subscribe", "unsubscribe"):
            self._answer_subscription(message, ok=mode != "error")
            return
        if event == "ping":
            self._receive({"event": "pong", "reqid": reqid})
            return
        count = max(1, len(message.get("txid", [])) + len(message.get("cl_ord_id", [])))
        for _ in range(count):
            reply = {"event": reply_event, "status": "ok", "reqid": reqid}
            if mode == "error":
                reply = {**reply, "status": "error", "errorMessage": "EOrder:Unknown order"}
            self._receive(reply)

    def _answer_subscription(self, message: dict[str, Any], *, ok: bool) -> None:
        channel = message["subscription"]["name"]
        reply: dict[str, Any] = {
            "event": "subscriptionStatus",
            "reqid": message["reqid"],
            "channelName": channel,
            "subscription": {"name": channel},
        }
        subscribing = message["event"] == "subscribe"
        if subscribing and channel in self.server_channels:
            ok, error = False, "Already subscribed"
        elif not subscribing and channel not in self.server_channels:
            ok, error = False, "Subscription Not Found"
        else:
            error = "EGeneral:Invalid arguments"
        if not ok:
            self._receive({**reply, "status": "error", "errorMessage": error})
        elif subscribing:
            self.server_channels[channel] = 0
            self._receive({**reply, "status": "subscribed"})
        else:
            del self.server_channels[channel]
            self._receive({**reply, "status": "unsubscribed"})

    @precondition(lambda self: self._serving() and bool(self.server_channels))
    @rule(
        channel=st.sampled_from(["openOrders", "ownTrades"]),
        shape=st.sampled_from(["next", "next", "next", "skip", "repeat"]),
    )
    def server_sends_data(self, channel: str, shape: str) -> None:
        if channel not in self.server_channels:
            return
        last = self.server_channels[channel]
        sequence = {"next": last + 1, "skip": last + 2, "repeat": max(last, 1)}[shape]
        if shape != "next":
            self.broken_sequence_sent = True
        self.server_channels[channel] = max(last, sequence)
        self._receive([[], channel, {"sequence": sequence}])

    @precondition(lambda self: self._serving())
    @rule(
        kind=st.sampled_from(
            ["heartbeat"] * 4
            + ["online", "online", "maintenance", "cancel_only", "post_only", "token_error"]
        )
    )
    def server_noise(self, kind: str) -> None:
        if kind == "heartbeat":
            self._receive({"event": "heartbeat"})
        elif kind == "token_error":  # an error no request can be matched to
            self._receive(
                {
                    "event": "subscriptionStatus",
                    "status": "error",
                    "errorMessage": "EAPI:Invalid token",
                }
            )
        else:
            self._receive({"event": "systemStatus", "status": kind, "version": "1.9.1"})

    @precondition(lambda self: self._serving())
    @rule(chance=st.integers(0, 15))
    def server_sends_garbage(self, chance: int) -> None:
        if chance:  # rare: it ends the interesting part of a run
            return
        with pytest.raises(RemoteProtocolError):
            self.conn.receive_message('{"event": "heartbeat"', self.now)
        assert self.conn.state is ConnectionState.FAILED
        self._drain()

    def teardown(self) -> None:
        self.conn.connection_lost(self.now)
        self._drain()
        assert self.open_reqids == set()


# max_examples comes from the active profile (tests/conftest.py); runs are longer than default.
ConnectionMachine.TestCase.settings = settings(stateful_step_count=50, deadline=None)
TestConnectionMachine = ConnectionMachine.TestCase
