"""``V2Connection``: the sans-IO rules of one Kraken WebSocket v2 private connection.

The v2 counterpart of ``Connection``, with the same driving interface and the same ending
events, so one caller can drive either: feed it ``connection_made``, ``provide_token``,
``receive_message``, ``handle_timeout`` and ``connection_lost``; give it requests through
``send``; drain ``data_to_send()`` and ``events_received()``; sleep until ``next_deadline()``.
It reuses v1's transition tables (``_connection_state``) and events (``_connection_events``).

What differs from v1, as the v2 protocol does:

* Replies are matched by ``req_id`` (a positive int32) and a request may get several:
  ``cancel_order`` with N ids is answered N times with one ``req_id``.
* The token goes in ``params.token`` of every private request (the codec does it).
* ``sequence`` on ``executions`` and ``balances`` is checked for gaps and repeats; a gap is
  recovered as in v1 (unsubscribe, subscribe again, the fresh snapshot is authoritative).
  The snapshot is recognised by ``type: "snapshot"``, not by its number.
* Orders are gated on the ``status`` channel's ``system`` (``maintenance`` allows no order
  entry and no cancels; ``cancel_only`` only cancels; ``post_only`` only post-only orders).
* Liveness both ways: Kraken drops a connection that sends nothing for about a minute, so a
  ``Ping`` goes out after ``keepalive_interval`` seconds without sending; and while subscribed
  (heartbeats flow), ``liveness_timeout`` seconds of silence from the server queue a ``Ping``,
  and as much again ends the connection (``ConnectionStale``).

Exceptions are as in ``Connection``: ``LocalProtocolError`` for a call the state forbids
(raised before anything is queued), ``RemoteProtocolError`` only from ``receive_message``
(the connection moves to ``FAILED``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ._connection import _is_token_error
from ._connection_events import (
    ChannelSnapshot,
    ChannelUpdate,
    ConnectionStale,
    LateReply,
    RequestCompleted,
    RequestFailed,
    RequestLost,
    RequestOutcomeUnknown,
    RequestTimedOut,
    SequenceGap,
    TokenExpired,
    TokenRejected,
)
from ._connection_state import (
    CONNECTION_TRANSITIONS,
    SUBSCRIPTION_TRANSITIONS,
    TOKEN_TRANSITIONS,
    ConnectionConfig,
    ConnectionState,
    ConnectionTrigger,
    SubscriptionState,
    SubscriptionTrigger,
    TokenState,
    TokenTrigger,
)
from ._errors import LocalProtocolError, RemoteProtocolError
from ._events import Event, KrakenError, UnknownMessage
from ._requests import check_token
from ._v2_decode import decode
from ._v2_events import (
    Balances,
    BatchAddReply,
    Executions,
    MethodReply,
    Status,
)
from ._v2_requests import (
    MAX_REQ_ID,
    AddOrder,
    AmendOrder,
    BatchAdd,
    BatchCancel,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Ping,
    Subscribe,
    Unsubscribe,
    V2Request,
    encode,
)

__all__ = ["V2Connection", "V2ConnectionConfig"]


_DEFAULT_KEEPALIVE = 20.0


@dataclass(frozen=True, slots=True, kw_only=True)
class V2ConnectionConfig(ConnectionConfig):
    """``ConnectionConfig`` plus v2's ``keepalive_interval``: send a ``Ping`` after this many
    seconds without sending anything (Kraken closes a connection silent for about a minute).

    ``first_reqid`` must be a positive int32 here (v2 ``req_id``). Raises
    ``LocalProtocolError`` naming the bad field.
    """

    keepalive_interval: float = 20.0  # = _DEFAULT_KEEPALIVE

    def __post_init__(self) -> None:
        ConnectionConfig.__post_init__(self)
        _check_v2_fields(self.first_reqid, self.keepalive_interval)


def _check_v2_fields(first_reqid: int, keepalive_interval: object) -> None:
    if not 1 <= first_reqid <= MAX_REQ_ID:
        raise LocalProtocolError("first_reqid: a v2 req_id must be from 1 to 2**31-1")
    if (
        isinstance(keepalive_interval, bool)
        or not isinstance(keepalive_interval, int | float)
        or not math.isfinite(keepalive_interval)
        or keepalive_interval <= 0
    ):
        raise LocalProtocolError("keepalive_interval: must be a finite number of seconds > 0")


_ORDER_ENTRY = (AddOrder, AmendOrder, EditOrder, BatchAdd)
_CANCELS = (CancelOrder, CancelAll, BatchCancel, CancelAllOrdersAfter)


def _no_trading(request: V2Request) -> bool:
    return not isinstance(request, _ORDER_ENTRY + _CANCELS[:3])


def _no_order_entry(request: V2Request) -> bool:
    return not isinstance(request, _ORDER_ENTRY)


def _is_post_only(order: AddOrder) -> bool:
    return order.post_only is True and order.order_type in ("limit", "iceberg")


def _post_only_entry(request: V2Request) -> bool:
    if isinstance(request, AddOrder):
        return _is_post_only(request)
    if isinstance(request, BatchAdd):
        return all(_is_post_only(order) for order in request.orders)
    if isinstance(request, AmendOrder | EditOrder):
        return request.post_only is True
    return True


# What each engine status allows, as (predicate, what is allowed). ``online`` and any status
# not listed allow everything: the server has the last word.
_STATUS_GATES = {
    "maintenance": (_no_trading, "no order entry and no cancels (only the dead man's switch)"),
    "cancel_only": (
        _no_order_entry,
        "only cancels (CancelOrder, CancelAll, BatchCancel, CancelAllOrdersAfter)",
    ),
    "post_only": (
        _post_only_entry,
        "only post-only limit orders (post_only=True), post-only amends and edits, and cancels",
    ),
}


def _error_of(event: MethodReply) -> KrakenError | None:
    """The error a reply carries, or None for a success. A failed batch without a top-level
    error is named by its first refused row."""
    if event.ok:
        return None
    if isinstance(event, BatchAddReply) and event.error_message is None:
        for row in event.rows:
            if row.error is not None:
                return KrakenError.parse(row.error)
    return event.error


def _says(error: KrakenError, words: str) -> bool:
    """True when the error text contains ``words`` (any case): ``Already subscribed``,
    ``Subscription Not Found``."""
    return words in error.text.lower()


def _unknown_error(event: UnknownMessage) -> tuple[int, KrakenError] | None:
    """``(req_id, error)`` for an error reply to a method this library does not know."""
    data = event.data
    if type(data) is not dict:
        return None
    req_id, error = data.get("req_id"), data.get("error")
    if type(req_id) is int and type(error) is str:
        return req_id, KrakenError.parse(error)
    return None


def _reply_error(event: Event) -> KrakenError | None:
    """The error of a reply kept for a request: a ``MethodReply`` or an unknown error reply."""
    if isinstance(event, MethodReply):
        return _error_of(event)
    unknown = _unknown_error(event) if isinstance(event, UnknownMessage) else None
    return None if unknown is None else unknown[1]


class _Secret:
    """Holds the token so that no repr, not even of the connection's ``vars()``, shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<token redacted>"


@dataclass(slots=True)
class _Pending:
    request: V2Request
    deadline: float
    token_generation: int | None
    replies: list[Event] = field(default_factory=list)


@dataclass(slots=True)
class _Subscription:
    request: Subscribe
    state: SubscriptionState
    awaiting_first_frame: bool = False
    next_sequence: int | None = None
    after_gap: bool = False
    resync_queued: bool = False


_CHANNEL_DATA = (Executions, Balances)
_LIVE_SUBSCRIPTION = (
    SubscriptionState.ACTIVE,
    SubscriptionState.UNSUBSCRIBING,
    SubscriptionState.RESYNCING,
)


class V2Connection:
    """One Kraken WebSocket v2 private connection, without the socket.

    Every reply event is delivered as it arrives, and each request also ends exactly once as
    ``RequestCompleted``, ``RequestFailed``, ``RequestTimedOut`` or ``RequestLost`` (their
    ``reqid`` is the v2 ``req_id``). This includes requests the connection sends on its own
    (keepalive and liveness ``Ping``, re-subscription after a sequence gap, dead man's
    switch). Channel data comes as ``ChannelSnapshot``/``ChannelUpdate`` wrapping
    ``Executions`` or ``Balances``. The connection never re-sends a trading request.
    """

    def __init__(self, config: ConnectionConfig | None = None) -> None:
        self._config = config if config is not None else V2ConnectionConfig()
        self._keepalive_interval = (
            self._config.keepalive_interval
            if isinstance(self._config, V2ConnectionConfig)
            else _DEFAULT_KEEPALIVE
        )
        _check_v2_fields(self._config.first_reqid, self._keepalive_interval)
        self._state = ConnectionState.IDLE
        self._token: _Secret | None = None
        self._token_state = TokenState.NONE
        self._token_generation = 0
        self._token_expires_at: float | None = None
        self._next_req_id = self._config.first_reqid
        self._pending: dict[int, _Pending] = {}
        self._timed_out: dict[int, V2Request] = {}
        self._subscriptions: dict[str, _Subscription] = {}
        self._outgoing: list[str] = []
        self._events: list[Event] = []
        self._system_status: str | None = None
        self._last_frame_at = 0.0
        self._last_sent_at = 0.0
        self._liveness_ping_at: float | None = None
        self._dead_mans_switch_due: float | None = None
        self._dead_mans_switch_armed = False

    def __repr__(self) -> str:
        subscriptions = ", ".join(
            f"{name}={record.state.name}" for name, record in sorted(self._subscriptions.items())
        )
        return (
            f"<V2Connection state={self._state.name} token={self._token_state.name} "
            f"pending={len(self._pending)} subscriptions={{{subscriptions}}}>"
        )

    # --- queries ------------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """The connection's state."""
        return self._state

    @property
    def should_close(self) -> bool:
        """True once the adapter should close the socket (after ``close``, staleness or failure)."""
        return self._state in (
            ConnectionState.CLOSING,
            ConnectionState.CLOSED,
            ConnectionState.FAILED,
        )

    @property
    def token_state(self) -> TokenState:
        """The session token's state (never the token itself)."""
        return self._token_state

    @property
    def system_status(self) -> str | None:
        """The last ``status`` channel ``system`` (``online``, ``cancel_only``, ...), or None."""
        return self._system_status

    def subscription_state(self, channel: str) -> SubscriptionState:
        """The state of the subscription to ``channel`` (``executions`` or ``balances``)."""
        record = self._subscriptions.get(channel)
        return SubscriptionState.UNSUBSCRIBED if record is None else record.state

    def pending_requests(self) -> dict[int, V2Request]:
        """A copy of the requests awaiting replies, by req_id."""
        return {req_id: pending.request for req_id, pending in self._pending.items()}

    # --- inputs -------------------------------------------------------------------------------

    def connection_made(self, now: float) -> None:
        """The WebSocket is open. Raises ``LocalProtocolError`` unless the connection is IDLE."""
        self._require_not_failed("connection_made")
        self._transition(ConnectionTrigger.MADE, "connection_made")
        self._last_frame_at = now
        self._last_sent_at = now
        self._arm_dead_mans_switch(now)

    def provide_token(self, token: str, now: float) -> None:
        """Hand over a session token (from ``GetWebSocketsToken``); it replaces any previous one.

        The token must be used within ``token_ttl`` seconds of ``now``. Raises
        ``LocalProtocolError`` (never showing the token) for a malformed token or once the
        connection is lost or failed. Re-subscriptions waiting for a token are queued now.
        """
        self._require_not_failed("provide_token")
        check_token(token)
        self._token_state = self._token_transition(TokenTrigger.PROVIDE, "provide_token")
        self._token = _Secret(token)
        self._token_generation += 1
        self._token_expires_at = now + self._config.token_ttl
        if self._state is ConnectionState.OPEN:
            for record in self._subscriptions.values():
                if record.state is SubscriptionState.RESYNCING and not record.resync_queued:
                    self._queue_resync(record, now)
        self._arm_dead_mans_switch(now)

    def send(self, request: V2Request, now: float) -> int:
        """Queue ``request`` (the token injected when it needs one); return its req_id.

        Raises ``LocalProtocolError``, queueing nothing and changing nothing, when the
        connection is not OPEN, the request is not a v2 request, it needs a token and none is
        usable, the engine status forbids it, or it subscribes to a channel already subscribed
        (pending, active, unsubscribing or resyncing) or unsubscribes from one that is not
        active.
        """
        self._require_not_failed("send")
        if self._state is not ConnectionState.OPEN:
            raise LocalProtocolError(f"send: the connection is {self._state.value}, not open")
        untyped: object = request  # callers without a type checker may pass anything
        if not isinstance(untyped, V2Request):
            raise LocalProtocolError(
                f"send: expected a kraken_proto.v2 request, got {type(untyped).__name__}"
            )
        gate = _STATUS_GATES.get(self._system_status or "")
        if gate is not None and not gate[0](request):
            raise LocalProtocolError(
                f"send: {request.method} refused locally: system status is "
                f"{self._system_status!r}, which allows {gate[1]}"
            )
        subscription_change = self._subscription_change(request)
        req_id = self._queue(request, now)
        if subscription_change is not None:
            channel, new_state = subscription_change
            if isinstance(request, Subscribe):
                self._subscriptions[channel] = _Subscription(request=request, state=new_state)
            else:
                self._subscriptions[channel].state = new_state
        return req_id

    def close(self, now: float) -> None:
        """Begin a graceful close: disarm the dead man's switch if this connection armed it
        (queues ``CancelAllOrdersAfter(timeout=0)``), then set ``should_close``.

        Drain ``data_to_send()`` before closing the socket. Does nothing once closing, closed
        or failed.
        """
        if self._state is not ConnectionState.OPEN and self._state is not ConnectionState.IDLE:
            return
        if self._dead_mans_switch_armed and self._usable_token(now) is not None:
            self._queue(CancelAllOrdersAfter(timeout=0), now)
        self._dead_mans_switch_armed = False
        self._dead_mans_switch_due = None
        self._transition(ConnectionTrigger.CLOSE, "close")

    def receive_message(self, text: str | bytes, now: float) -> None:
        """Process one complete WebSocket text message from the server.

        Raises ``RemoteProtocolError`` for a frame that is not Kraken v2 (the connection
        moves to FAILED); ``LocalProtocolError`` unless the connection is OPEN or CLOSING.
        """
        self._require_not_failed("receive_message")
        if self._state not in (ConnectionState.OPEN, ConnectionState.CLOSING):
            raise LocalProtocolError(
                f"receive_message: the connection is {self._state.value}, not open"
            )
        try:
            event = decode(text)
        except RemoteProtocolError:
            self._transition(ConnectionTrigger.REMOTE_ERROR, "receive_message")
            raise
        self._last_frame_at = now
        self._liveness_ping_at = None
        if type(event) is Executions or type(event) is Balances:
            self._on_channel_data(event, now)
            return
        self._events.append(event)
        if isinstance(event, Status):
            self._system_status = event.system
        elif isinstance(event, MethodReply):
            self._on_reply(event, event.req_id, _error_of(event), now)
        elif isinstance(event, UnknownMessage):
            unknown = _unknown_error(event)
            if unknown is not None:
                self._on_reply(event, unknown[0], unknown[1], now)

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline at or before ``now``: expire a fresh token, time out requests,
        ping or give up on a silent server, keep the connection alive, re-arm the dead man's
        switch.

        Afterwards ``next_deadline()`` is None or later than ``now``. Raises
        ``LocalProtocolError`` once the connection failed; does nothing when IDLE or CLOSED.
        """
        self._require_not_failed("handle_timeout")
        if self._state not in (ConnectionState.OPEN, ConnectionState.CLOSING):
            return
        if (
            self._token_state is TokenState.FRESH
            and self._token_expires_at is not None
            and now >= self._token_expires_at
        ):
            self._drop_token(TokenTrigger.EXPIRE)
            self._events.append(TokenExpired())
        for req_id, pending in list(self._pending.items()):
            if pending.deadline <= now:
                self._end_unknown(req_id, RequestTimedOut)
        if self._state is not ConnectionState.OPEN:
            return
        if self._liveness_armed():
            if self._liveness_ping_at is not None:
                if now >= self._liveness_ping_at + self._config.liveness_timeout:
                    self._transition(ConnectionTrigger.STALE, "handle_timeout")
                    self._events.append(ConnectionStale(last_frame_at=self._last_frame_at))
                    return
            elif now >= self._last_frame_at + self._config.liveness_timeout:
                self._queue(Ping(), now)
                self._liveness_ping_at = now
        if now >= self._last_sent_at + self._keepalive_interval:
            self._queue(Ping(), now)
        due = self._dead_mans_switch_due
        if due is not None and now >= due:
            self._dead_mans_switch_due = None
            self._arm_dead_mans_switch(now)

    def connection_lost(self, now: float) -> None:
        """The socket is gone. Idempotent; allowed in every state.

        Every pending request ends as ``RequestLost`` (outcome unknown), the token is
        forgotten (GONE), subscriptions are cleared and unsent data is discarded.
        """
        for req_id in list(self._pending):
            self._end_unknown(req_id, RequestLost)
        self._timed_out.clear()
        self._subscriptions.clear()
        self._outgoing.clear()
        self._token = None
        self._token_state = TOKEN_TRANSITIONS[(self._token_state, TokenTrigger.LOSE)]
        self._token_expires_at = None
        self._liveness_ping_at = None
        self._dead_mans_switch_due = None
        self._dead_mans_switch_armed = False
        self._transition(ConnectionTrigger.LOST, "connection_lost")

    # --- outputs ------------------------------------------------------------------------------

    def data_to_send(self) -> list[str]:
        """Return and forget the JSON text messages queued for the server, in order."""
        outgoing, self._outgoing = self._outgoing, []
        return outgoing

    def events_received(self) -> list[Event]:
        """Return and forget the events produced so far, in order."""
        events, self._events = self._events, []
        return events

    def next_deadline(self) -> float | None:
        """When ``handle_timeout`` should next be called, or None when nothing is timed."""
        if self._state not in (ConnectionState.OPEN, ConnectionState.CLOSING):
            return None
        deadlines = [pending.deadline for pending in self._pending.values()]
        if self._state is ConnectionState.OPEN:
            if self._token_state is TokenState.FRESH and self._token_expires_at is not None:
                deadlines.append(self._token_expires_at)
            if self._liveness_armed():
                since = self._last_frame_at
                if self._liveness_ping_at is not None:
                    since = self._liveness_ping_at
                deadlines.append(since + self._config.liveness_timeout)
            deadlines.append(self._last_sent_at + self._keepalive_interval)
            if self._dead_mans_switch_due is not None:
                deadlines.append(self._dead_mans_switch_due)
        return min(deadlines, default=None)

    # --- connection and token states ----------------------------------------------------------

    def _require_not_failed(self, call: str) -> None:
        if self._state is ConnectionState.FAILED:
            raise LocalProtocolError(
                f"{call}: the connection failed (the server sent an invalid frame); "
                "close it and open a new one"
            )

    def _transition(self, trigger: ConnectionTrigger, call: str) -> None:
        new_state = CONNECTION_TRANSITIONS.get((self._state, trigger))
        if new_state is None:
            raise LocalProtocolError(
                f"{call}: not allowed when the connection is {self._state.value}"
            )
        self._state = new_state

    def _token_transition(self, trigger: TokenTrigger, call: str) -> TokenState:
        new_state = TOKEN_TRANSITIONS.get((self._token_state, trigger))
        if new_state is None:
            raise LocalProtocolError(
                f"{call}: not allowed when the token is {self._token_state.value} "
                "(the connection was lost; open a new one)"
            )
        return new_state

    def _usable_token(self, now: float) -> str | None:
        if self._token is None:
            return None
        expires_at = self._token_expires_at
        if self._token_state is TokenState.FRESH and expires_at is not None and now >= expires_at:
            return None
        return self._token.value

    def _drop_token(self, trigger: TokenTrigger) -> None:
        self._token_state = TOKEN_TRANSITIONS[(self._token_state, trigger)]
        self._token = None
        self._token_expires_at = None
        self._dead_mans_switch_due = None

    # --- requests -----------------------------------------------------------------------------

    def _allocate_req_id(self) -> int:
        """The next req_id not in use, wrapping from 2**31-1 back to 1 (v2 ids are int32)."""
        while True:
            req_id = self._next_req_id
            self._next_req_id = 1 if req_id >= MAX_REQ_ID else req_id + 1
            if req_id not in self._pending and req_id not in self._timed_out:
                return req_id

    def _queue(self, request: V2Request, now: float) -> int:
        """Encode ``request`` with a new req_id, queue it and track it. Changes nothing on error."""
        token: str | None = None
        if request.requires_token:
            token = self._usable_token(now)
            if token is None:
                raise LocalProtocolError(
                    f"send: {request.method} needs a session token and none is usable "
                    f"(token state: {self._token_state.value}, or unused for too long); "
                    "call provide_token first"
                )
        req_id = self._allocate_req_id()
        self._outgoing.append(encode(request, token=token, req_id=req_id))
        self._last_sent_at = now
        self._pending[req_id] = _Pending(
            request=request,
            deadline=now + self._config.request_timeout,
            token_generation=None if token is None else self._token_generation,
        )
        if token is not None and self._token_state is TokenState.FRESH:
            self._token_expires_at = now + self._config.token_ttl
        return req_id

    def _on_reply(
        self, event: Event, req_id: int | None, error: KrakenError | None, now: float
    ) -> None:
        pending = None if req_id is None else self._pending.get(req_id)
        token_error = error is not None and _is_token_error(error)
        if error is not None and token_error:
            generation = None if pending is None else pending.token_generation
            self._reject_token(req_id, error, generation)
        if req_id is None or pending is None:
            request = None if req_id is None else self._timed_out.get(req_id)
            if req_id is not None and request is not None:
                self._events.append(LateReply(reqid=req_id, request=request, reply=event))
            return
        expected = pending.request.reply_method
        if isinstance(event, MethodReply) and event.method_name != expected:
            return  # not a reply this request can get; delivered raw only
        pending.replies.append(event)
        # A per-order cancel error (``EOrder:``, such as Invalid order) is one of the N
        # replies; any other error (token, arguments, rate limit) ends the request at once.
        ends_at_once = error is not None and (
            token_error or not isinstance(pending.request, CancelOrder) or error.category != "Order"
        )
        if ends_at_once or len(pending.replies) >= pending.request.expected_replies:
            self._end_answered(req_id, pending, now)

    def _end_answered(self, req_id: int, pending: _Pending, now: float) -> None:
        del self._pending[req_id]
        replies = tuple(pending.replies)
        errors = [error for error in map(_reply_error, replies) if error is not None]
        if isinstance(pending.request, Subscribe) and errors and _says(errors[0], "already"):
            errors = []  # "Already subscribed": the server holds it, which is what was asked
        if errors:
            self._events.append(
                RequestFailed(
                    reqid=req_id, request=pending.request, replies=replies, error=errors[0]
                )
            )
        else:
            self._events.append(
                RequestCompleted(reqid=req_id, request=pending.request, replies=replies)
            )
        self._subscription_answered(pending, error=errors[0] if errors else None)

    def _end_unknown(self, req_id: int, outcome: type[RequestOutcomeUnknown]) -> None:
        pending = self._pending.pop(req_id)
        self._events.append(
            outcome(reqid=req_id, request=pending.request, replies=tuple(pending.replies))
        )
        if outcome is RequestTimedOut and self._config.late_reply_memory:
            if len(self._timed_out) >= self._config.late_reply_memory:
                del self._timed_out[next(iter(self._timed_out))]
            self._timed_out[req_id] = pending.request
        request = pending.request
        if isinstance(request, Subscribe):
            self._subscription_trigger(request.channel, SubscriptionTrigger.SUBSCRIBE_FAILED)
        elif isinstance(request, Unsubscribe):
            self._subscription_trigger(request.channel, SubscriptionTrigger.UNSUBSCRIBE_UNKNOWN)

    def _reject_token(self, req_id: int | None, error: KrakenError, generation: int | None) -> None:
        # A rejection of an older token must not drop the one provided since.
        stale_reply = generation is not None and generation != self._token_generation
        if stale_reply or self._token_state not in (TokenState.FRESH, TokenState.BOUND):
            return
        self._drop_token(TokenTrigger.REJECT)
        self._events.append(TokenRejected(reqid=req_id, error=error))

    # --- subscriptions ------------------------------------------------------------------------

    def _subscription_change(self, request: V2Request) -> tuple[str, SubscriptionState] | None:
        """The (channel, new state) sending ``request`` leads to; raises if it is not allowed."""
        if isinstance(request, Subscribe):
            trigger = SubscriptionTrigger.SEND_SUBSCRIBE
        elif isinstance(request, Unsubscribe):
            trigger = SubscriptionTrigger.SEND_UNSUBSCRIBE
        else:
            return None
        current = self.subscription_state(request.channel)
        new_state = SUBSCRIPTION_TRANSITIONS.get((current, trigger))
        if new_state is None:
            raise LocalProtocolError(
                f"send: cannot {request.method} {request.channel}: its subscription is "
                f"{current.value}"
            )
        return request.channel, new_state

    def _subscription_trigger(self, channel: str, trigger: SubscriptionTrigger) -> None:
        record = self._subscriptions.get(channel)
        if record is None:
            return
        new_state = SUBSCRIPTION_TRANSITIONS.get((record.state, trigger))
        if new_state is None:
            return
        if new_state is SubscriptionState.UNSUBSCRIBED:
            del self._subscriptions[channel]
            return
        if trigger is SubscriptionTrigger.SUBSCRIBED:
            # Data from the new subscription starts with its snapshot (if it has one).
            record.awaiting_first_frame = True
            record.next_sequence = None
        record.state = new_state

    def _subscription_answered(self, pending: _Pending, *, error: KrakenError | None) -> None:
        request = pending.request
        if isinstance(request, Subscribe):
            if error is None:
                self._subscription_trigger(request.channel, SubscriptionTrigger.SUBSCRIBED)
                self._bind_token(pending.token_generation)
            else:
                self._subscription_trigger(request.channel, SubscriptionTrigger.SUBSCRIBE_FAILED)
        elif isinstance(request, Unsubscribe):
            # "Subscription Not Found": the server does not hold it, which is what was asked.
            gone = error is None or _says(error, "not found")
            trigger = (
                SubscriptionTrigger.UNSUBSCRIBED if gone else SubscriptionTrigger.UNSUBSCRIBE_FAILED
            )
            self._subscription_trigger(request.channel, trigger)

    def _bind_token(self, generation: int | None) -> None:
        if generation == self._token_generation:
            self._token_state = TOKEN_TRANSITIONS.get(
                (self._token_state, TokenTrigger.BIND), self._token_state
            )

    def _on_channel_data(self, event: Executions | Balances, now: float) -> None:
        record = self._subscriptions.get(event.channel_name)
        if record is not None and event.is_snapshot and self._subscribing(record):
            # The new subscription's snapshot came before its ack (late or lost): the server
            # subscribed. The ack, when it comes, changes nothing.
            self._subscription_trigger(record.request.channel, SubscriptionTrigger.SUBSCRIBED)
            self._bind_token(self._generation_of(record.request))
        if record is None or record.state in (
            SubscriptionState.PENDING,
            SubscriptionState.FAILED,
        ):
            # Not (yet) tracked: delivered as is, never dropped.
            self._events.append(ChannelUpdate(event=event))
            return
        sequence = event.sequence
        if event.is_snapshot:
            # A snapshot is the channel's whole state: authoritative whenever it comes.
            record.awaiting_first_frame = False
            record.after_gap = False
            record.next_sequence = None if sequence is None else sequence + 1
            self._events.append(ChannelSnapshot(event=event))
            return
        expected = record.next_sequence
        if record.awaiting_first_frame:
            record.awaiting_first_frame = False
            if not record.request.expects_snapshot:
                record.next_sequence = None if sequence is None else sequence + 1
                self._events.append(ChannelUpdate(event=event))
                return
            # An update where the snapshot should be: the snapshot was missed, and this frame
            # is not the whole state. Recover as from a gap (``expected=1``: the snapshot).
            expected = 1
        elif sequence is None or expected is None or record.after_gap or sequence == expected:
            if sequence is not None and not record.after_gap:
                record.next_sequence = sequence + 1
            self._events.append(ChannelUpdate(event=event, after_gap=record.after_gap))
            return
        self._events.append(
            SequenceGap(channel=event.channel_name, expected=expected, got=sequence or 0)
        )
        record.after_gap = True
        record.next_sequence = None
        self._events.append(ChannelUpdate(event=event, after_gap=True))
        new_state = SUBSCRIPTION_TRANSITIONS.get((record.state, SubscriptionTrigger.GAP))
        if new_state is None:
            return  # e.g. unsubscribing anyway: flag the frames, do not resubscribe
        record.state = new_state
        record.resync_queued = False
        if self._state is ConnectionState.OPEN and self._usable_token(now) is not None:
            self._queue_resync(record, now)

    @staticmethod
    def _subscribing(record: _Subscription) -> bool:
        """True while a subscribe for ``record`` is in flight and unanswered."""
        return record.state is SubscriptionState.PENDING or (
            record.state is SubscriptionState.RESYNCING and record.resync_queued
        )

    def _generation_of(self, request: V2Request) -> int | None:
        """The token generation the pending ``request`` was sent with."""
        return next(
            (p.token_generation for p in self._pending.values() if p.request is request), None
        )

    def _queue_resync(self, record: _Subscription, now: float) -> None:
        """Unsubscribe and subscribe again with the same options, for a fresh snapshot."""
        self._queue(Unsubscribe(channel=record.request.channel), now)
        self._queue(record.request, now)
        record.resync_queued = True

    def _liveness_armed(self) -> bool:
        return any(record.state in _LIVE_SUBSCRIPTION for record in self._subscriptions.values())

    # --- dead man's switch --------------------------------------------------------------------

    def _arm_dead_mans_switch(self, now: float) -> None:
        """(Re-)arm the switch now if configured, open, not yet scheduled and a token is usable."""
        timeout = self._config.dead_mans_switch_timeout
        if (
            timeout is None
            or self._state is not ConnectionState.OPEN
            or self._dead_mans_switch_due is not None
            or self._usable_token(now) is None
        ):
            return
        self._queue(CancelAllOrdersAfter(timeout=timeout), now)
        self._dead_mans_switch_armed = True
        self._dead_mans_switch_due = now + self._config.dead_mans_switch_interval
