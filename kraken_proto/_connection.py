"""``Connection``: the stateful, sans-IO core of one Kraken v1 private WebSocket connection.

It correlates replies with requests, injects and tracks the session token, tracks private
subscriptions and their sequence numbers, watches liveness, gates orders on the system
status and keeps the dead man's switch armed. It does no I/O: text comes in through
``receive_message``, goes out through ``data_to_send``, and time is the ``now`` argument.

Where exceptions come from:

* ``LocalProtocolError``: any call the current state forbids, a private request without a
  usable token, a request the system status forbids, a subscribe to a channel already
  pending or active. Raised before anything is queued; state is unchanged.
* ``RemoteProtocolError``: only from ``receive_message``, for a frame that is not Kraken v1.
  The connection moves to ``FAILED`` and every later call but ``connection_lost``, ``close``,
  ``data_to_send`` and ``events_received`` raises ``LocalProtocolError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
from ._decode import decode
from ._errors import LocalProtocolError, RemoteProtocolError
from ._events import (
    AddOrderStatus,
    AmendOrderStatus,
    CancelAllOrdersAfterStatus,
    CancelAllStatus,
    CancelOrderStatus,
    EditOrderStatus,
    ErrorEvent,
    Event,
    KrakenError,
    OpenOrders,
    OwnTrades,
    Pong,
    StatusEvent,
    SubscriptionStatus,
    SystemStatus,
)
from ._requests import (
    AddOrder,
    AmendOrder,
    CancelAllOrdersAfter,
    EditOrder,
    Ping,
    Request,
    Subscribe,
    Unsubscribe,
    check_token,
    encode,
)

__all__ = ["Connection"]

# The reply class each request's ``response_event`` names.
_REPLY_CLASS: dict[str, type[Event]] = {
    "subscriptionStatus": SubscriptionStatus,
    "pong": Pong,
    "addOrderStatus": AddOrderStatus,
    "editOrderStatus": EditOrderStatus,
    "amendOrderStatus": AmendOrderStatus,
    "cancelOrderStatus": CancelOrderStatus,
    "cancelAllStatus": CancelAllStatus,
    "cancelAllOrdersAfterStatus": CancelAllOrdersAfterStatus,
}

_ORDER_ENTRY = (AddOrder, EditOrder, AmendOrder)
_REPLY_EVENTS = (StatusEvent, ErrorEvent, Pong)


def _no_order_entry(request: Request) -> bool:
    return not isinstance(request, _ORDER_ENTRY)


def _post_only_entry(request: Request) -> bool:
    if isinstance(request, AddOrder):
        return request.ordertype == "limit" and "post" in request.oflags
    if isinstance(request, EditOrder):
        return request.oflags is not None and "post" in request.oflags
    if isinstance(request, AmendOrder):
        return request.post_only is True
    return True


def _limit_only_entry(request: Request) -> bool:
    return not isinstance(request, AddOrder) or request.ordertype == "limit"


# What each system status allows, as (predicate, what is allowed). Statuses not listed (online,
# and any new one) allow everything: the server has the last word.
_STATUS_GATES = {
    "maintenance": (_no_order_entry, "no AddOrder, EditOrder or AmendOrder"),
    "cancel_only": (_no_order_entry, "only cancels (CancelOrder, CancelAll, CancelAllOrdersAfter)"),
    "post_only": (
        _post_only_entry,
        "only post-only orders: limit AddOrder and EditOrder with the 'post' flag, "
        "AmendOrder with post_only=True, and cancels",
    ),
    "limit_only": (_limit_only_entry, "only limit AddOrders, edits, amends and cancels"),
}

_TOKEN_ERROR_TEXTS = ("esession:invalid session", "eapi:invalid token", "token(s) not found")


def _is_token_error(error: KrakenError) -> bool:
    """True for an error text saying the session token is bad."""
    text = error.text.lower()
    if any(known in text for known in _TOKEN_ERROR_TEXTS):
        return True
    return "token" in text and ("invalid" in text or "expired" in text)


def _already(error: KrakenError) -> bool:
    """True for Kraken's "Already subscribed": the server holds the subscription."""
    return "already subscribed" in error.text.lower()


def _error_of(event: Event) -> KrakenError | None:
    """The error a reply carries, or None for a success."""
    if isinstance(event, StatusEvent):
        if event.ok:
            return None
        return event.error or KrakenError.parse(f"status {event.status}")
    if isinstance(event, ErrorEvent):
        return event.error or KrakenError.parse("error")
    return None


class _Secret:
    """Holds the token so that no repr, not even of the connection's ``vars()``, shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<token redacted>"


@dataclass(slots=True)
class _Pending:
    request: Request
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
    # The subscribe in flight (PENDING, or RESYNCING after its resubscribe was queued) and
    # whether it is already the second try after a timeout.
    subscribe_sent: bool = False
    confirming: bool = False

    @property
    def expects_snapshot(self) -> bool:
        return self.request.snapshot is not False


class Connection:
    """One Kraken v1 private WebSocket connection, without the socket.

    Feed it ``connection_made``, ``provide_token``, ``receive_message``, ``handle_timeout``
    and ``connection_lost``; give it requests through ``send``; drain ``data_to_send()`` to
    the socket and ``events_received()`` to the application; sleep until ``next_deadline()``.
    Every reply event is delivered as it arrives, and each request also ends exactly once as
    ``RequestCompleted``, ``RequestFailed``, ``RequestTimedOut`` or ``RequestLost``. This
    includes requests the connection sends on its own (liveness ``Ping``, re-subscription
    after a sequence gap, dead man's switch); their reqids were never returned by ``send``.
    The connection never re-sends a trading request.
    """

    def __init__(self, config: ConnectionConfig | None = None) -> None:
        self._config = config if config is not None else ConnectionConfig()
        self._state = ConnectionState.IDLE
        self._token: _Secret | None = None
        self._token_state = TokenState.NONE
        self._token_generation = 0
        self._token_expires_at: float | None = None
        self._next_reqid = self._config.first_reqid
        self._pending: dict[int, _Pending] = {}
        self._timed_out: dict[int, Request] = {}
        self._subscriptions: dict[str, _Subscription] = {}
        self._outgoing: list[str] = []
        self._events: list[Event] = []
        self._system_status: str | None = None
        self._last_frame_at = 0.0
        self._liveness_ping_at: float | None = None
        self._dead_mans_switch_due: float | None = None
        self._dead_mans_switch_armed = False

    def __repr__(self) -> str:
        subscriptions = ", ".join(
            f"{name}={record.state.name}" for name, record in sorted(self._subscriptions.items())
        )
        return (
            f"<Connection state={self._state.name} token={self._token_state.name} "
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
        """The last ``systemStatus`` status (``online``, ``maintenance``, ...), or None."""
        return self._system_status

    def subscription_state(self, channel: str) -> SubscriptionState:
        """The state of the subscription to ``channel`` (``ownTrades`` or ``openOrders``)."""
        record = self._subscriptions.get(channel)
        return SubscriptionState.UNSUBSCRIBED if record is None else record.state

    def pending_requests(self) -> dict[int, Request]:
        """A copy of the requests awaiting replies, by reqid."""
        return {reqid: pending.request for reqid, pending in self._pending.items()}

    # --- inputs -------------------------------------------------------------------------------

    def connection_made(self, now: float) -> None:
        """The WebSocket is open. Raises ``LocalProtocolError`` unless the connection is IDLE."""
        self._require_not_failed("connection_made")
        self._transition(ConnectionTrigger.MADE, "connection_made")
        self._last_frame_at = now
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

    def send(self, request: Request, now: float) -> int:
        """Queue ``request`` (with the token injected when it needs one); return its reqid.

        Raises ``LocalProtocolError``, queueing nothing and changing nothing, when the
        connection is not OPEN, the request needs a token and none is usable, the system
        status forbids it, or it subscribes to a channel already subscribed (pending, active,
        unsubscribing or resyncing) or unsubscribes from one that is neither active nor failed.
        """
        self._require_not_failed("send")
        if self._state is not ConnectionState.OPEN:
            raise LocalProtocolError(f"send: the connection is {self._state.value}, not open")
        untyped: object = request  # callers without a type checker may pass anything
        if not isinstance(untyped, Request):
            raise LocalProtocolError(
                f"send: expected a kraken_proto request, got {type(untyped).__name__}"
            )
        gate = _STATUS_GATES.get(self._system_status or "")
        if gate is not None and not gate[0](request):
            raise LocalProtocolError(
                f"send: {request.event} refused locally: system status is "
                f"{self._system_status!r}, which allows {gate[1]}"
            )
        subscription_change = self._subscription_change(request)
        reqid = self._queue(request, now)
        if subscription_change is not None:
            channel, new_state = subscription_change
            if isinstance(request, Subscribe):
                self._subscriptions[channel] = _Subscription(
                    request=request, state=new_state, subscribe_sent=True
                )
            else:
                self._subscriptions[channel].state = new_state
        return reqid

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

        Raises ``RemoteProtocolError`` for a frame that is not Kraken v1 (the connection
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
        # decode returns these exact classes; ``type() is`` is the cheapest test per frame (an
        # ``A | B`` in isinstance builds a union object on every call).
        if type(event) is OpenOrders or type(event) is OwnTrades:
            self._on_channel_data(event, now)
            return
        self._events.append(event)
        if isinstance(event, SystemStatus):
            self._system_status = event.status
        elif isinstance(event, _REPLY_EVENTS):
            self._on_reply(event, now)

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline at or before ``now``: expire a fresh token, time out requests,
        ping or give up on a silent server, re-arm the dead man's switch.

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
        for reqid, pending in list(self._pending.items()):
            if pending.deadline <= now:
                self._end_unknown(reqid, RequestTimedOut, now)
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
        due = self._dead_mans_switch_due
        if due is not None and now >= due:
            self._dead_mans_switch_due = None
            self._arm_dead_mans_switch(now)

    def connection_lost(self, now: float) -> None:
        """The socket is gone. Idempotent; allowed in every state.

        Every pending request ends as ``RequestLost`` (outcome unknown), the token is
        forgotten (GONE), subscriptions are cleared and unsent data is discarded.
        """
        for reqid in list(self._pending):
            self._end_unknown(reqid, RequestLost, now)
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

    def _queue(self, request: Request, now: float) -> int:
        """Encode ``request`` with a new reqid, queue it and track it. Changes nothing on error."""
        token: str | None = None
        if request.requires_token:
            token = self._usable_token(now)
            if token is None:
                raise LocalProtocolError(
                    f"send: {request.event} needs a session token and none is usable "
                    f"(token state: {self._token_state.value}, or unused for too long); "
                    "call provide_token first"
                )
        reqid = self._next_reqid
        text = encode(request, token=token, reqid=reqid)
        self._next_reqid += 1
        self._outgoing.append(text)
        self._pending[reqid] = _Pending(
            request=request,
            deadline=now + self._config.request_timeout,
            token_generation=None if token is None else self._token_generation,
        )
        if token is not None and self._token_state is TokenState.FRESH:
            self._token_expires_at = now + self._config.token_ttl
        return reqid

    def _on_reply(self, event: StatusEvent | ErrorEvent | Pong, now: float) -> None:
        reqid = event.reqid if isinstance(event.reqid, int) else None
        pending = None if reqid is None else self._pending.get(reqid)
        error = _error_of(event)
        token_error = error is not None and _is_token_error(error)
        if error is not None and token_error:
            generation = None if pending is None else pending.token_generation
            self._reject_token(reqid, error, generation)
        if reqid is None or pending is None:
            request = None if reqid is None else self._timed_out.get(reqid)
            if reqid is not None and request is not None:
                self._events.append(LateReply(reqid=reqid, request=request, reply=event))
                if isinstance(request, Subscribe) and (error is None or _already(error)):
                    # A late "subscribed": the server holds the subscription after all.
                    self._subscription_trigger(request.name, SubscriptionTrigger.SUBSCRIBED)
            elif isinstance(event, SubscriptionStatus) and event.status == "unsubscribed":
                self._on_server_unsubscribed(event)
            return
        expected_class = _REPLY_CLASS[pending.request.response_event]
        if error is None and type(event) is not expected_class:
            return  # not a reply this request can get; delivered raw only
        pending.replies.append(event)
        # A generic or token error ends the request at once; a per-id cancel error (an
        # ``EOrder:`` one, such as Unknown order) does not: the other ids get their own replies.
        ends_at_once = error is not None and (
            token_error or type(event) is not expected_class or error.category != "Order"
        )
        if ends_at_once or len(pending.replies) >= pending.request.expected_replies:
            self._end_answered(reqid, pending, now)

    def _end_answered(self, reqid: int, pending: _Pending, now: float) -> None:
        del self._pending[reqid]
        replies = tuple(pending.replies)
        errors = [error for error in map(_error_of, replies) if error is not None]
        if isinstance(pending.request, Subscribe) and errors and _already(errors[0]):
            errors = []  # "Already subscribed": the server holds it, which is what was asked
        if errors:
            self._events.append(
                RequestFailed(
                    reqid=reqid, request=pending.request, replies=replies, error=errors[0]
                )
            )
        else:
            self._events.append(
                RequestCompleted(reqid=reqid, request=pending.request, replies=replies)
            )
        self._subscription_answered(
            pending, succeeded=not errors, error=errors[0] if errors else None
        )

    def _end_unknown(self, reqid: int, outcome: type[RequestOutcomeUnknown], now: float) -> None:
        pending = self._pending.pop(reqid)
        self._events.append(
            outcome(reqid=reqid, request=pending.request, replies=tuple(pending.replies))
        )
        if outcome is RequestTimedOut and self._config.late_reply_memory:
            if len(self._timed_out) >= self._config.late_reply_memory:
                del self._timed_out[next(iter(self._timed_out))]
            self._timed_out[reqid] = pending.request
        request = pending.request
        if isinstance(request, Subscribe):
            self._subscribe_unanswered(request, outcome, now)
        elif isinstance(request, Unsubscribe):
            self._subscription_trigger(request.name, SubscriptionTrigger.UNSUBSCRIBE_UNKNOWN)

    def _subscribe_unanswered(
        self, request: Subscribe, outcome: type[RequestOutcomeUnknown], now: float
    ) -> None:
        """A subscribe ended without an answer: ask once more, then give up (FAILED)."""
        record = self._subscriptions.get(request.name)
        if record is None or record.state not in (
            SubscriptionState.PENDING,
            SubscriptionState.RESYNCING,
        ):
            return  # already settled (a data frame counted as the acknowledgement)
        can_ask = (
            outcome is RequestTimedOut
            and not record.confirming
            and self._state is ConnectionState.OPEN
        )
        if can_ask:
            try:
                self._queue(record.request, now)
            except LocalProtocolError:
                can_ask = False
        if can_ask:
            record.confirming = True
            self._subscription_trigger(request.name, SubscriptionTrigger.CONFIRM)
            return
        record.subscribe_sent = False
        self._subscription_trigger(request.name, SubscriptionTrigger.SUBSCRIBE_FAILED)

    def _reject_token(self, reqid: int | None, error: KrakenError, generation: int | None) -> None:
        # A rejection of an older token must not drop the one provided since.
        stale_reply = generation is not None and generation != self._token_generation
        if stale_reply or self._token_state not in (TokenState.FRESH, TokenState.BOUND):
            return
        self._drop_token(TokenTrigger.REJECT)
        self._events.append(TokenRejected(reqid=reqid, error=error))

    # --- subscriptions ------------------------------------------------------------------------

    def _subscription_change(self, request: Request) -> tuple[str, SubscriptionState] | None:
        """The (channel, new state) sending ``request`` leads to; raises if it is not allowed."""
        if isinstance(request, Subscribe):
            trigger = SubscriptionTrigger.SEND_SUBSCRIBE
        elif isinstance(request, Unsubscribe):
            trigger = SubscriptionTrigger.SEND_UNSUBSCRIBE
        else:
            return None
        current = self.subscription_state(request.name)
        new_state = SUBSCRIPTION_TRANSITIONS.get((current, trigger))
        if new_state is None:
            raise LocalProtocolError(
                f"send: cannot {request.event} {request.name}: its subscription is {current.value}"
            )
        return request.name, new_state

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
            # Data from the new subscription starts with its snapshot.
            record.awaiting_first_frame = True
            record.next_sequence = None
        record.state = new_state

    def _subscription_answered(
        self, pending: _Pending, *, succeeded: bool, error: KrakenError | None
    ) -> None:
        request = pending.request
        if isinstance(request, Subscribe):
            record = self._subscriptions.get(request.name)
            if record is not None:
                record.subscribe_sent = False
            if succeeded:
                self._subscription_trigger(request.name, SubscriptionTrigger.SUBSCRIBED)
                if pending.token_generation == self._token_generation:
                    self._token_state = TOKEN_TRANSITIONS.get(
                        (self._token_state, TokenTrigger.BIND), self._token_state
                    )
            else:
                self._subscription_trigger(request.name, SubscriptionTrigger.SUBSCRIBE_FAILED)
        elif isinstance(request, Unsubscribe):
            # "Subscription Not Found": the server does not hold it, which is what was asked.
            not_found = error is not None and "not found" in error.text.lower()
            trigger = (
                SubscriptionTrigger.UNSUBSCRIBED
                if succeeded or not_found
                else SubscriptionTrigger.UNSUBSCRIBE_FAILED
            )
            self._subscription_trigger(request.name, trigger)

    def _on_server_unsubscribed(self, event: SubscriptionStatus) -> None:
        if event.channel_name is not None:
            self._subscription_trigger(event.channel_name, SubscriptionTrigger.SERVER_UNSUBSCRIBED)

    def _on_channel_data(self, event: OwnTrades | OpenOrders, now: float) -> None:
        record = self._subscriptions.get(event.channel_name)
        if record is None:
            self._events.append(ChannelUpdate(event=event))
            return
        sequence = event.sequence
        if record.state is SubscriptionState.PENDING or (
            record.state is SubscriptionState.RESYNCING and record.subscribe_sent and sequence == 1
        ):
            # The new subscription's first frame came before its ack (late or lost): the
            # server subscribed, and this frame starts it (Kraken numbers a subscription's
            # frames from 1).
            self._acknowledged_by_data(record)
        expected = record.next_sequence
        if record.awaiting_first_frame:
            record.awaiting_first_frame = False
            record.after_gap = False
            if sequence is None or sequence == 1 or not record.expects_snapshot:
                record.next_sequence = None if sequence is None else sequence + 1
                if record.expects_snapshot:
                    self._events.append(ChannelSnapshot(event=event))
                else:
                    self._events.append(ChannelUpdate(event=event))
                return
            # Kraken numbers the snapshot 1: a later number means it was missed, and calling this
            # delta a snapshot would make the caller's order table drop every other open order.
            expected = 1
        elif sequence is None or expected is None or record.after_gap or sequence == expected:
            if expected is not None and sequence == expected:
                record.next_sequence = expected + 1
            self._events.append(ChannelUpdate(event=event, after_gap=record.after_gap))
            return
        self._events.append(
            SequenceGap(channel=event.channel_name, expected=expected, got=sequence)
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

    def _queue_resync(self, record: _Subscription, now: float) -> None:
        """Unsubscribe and subscribe again with the same options, for a fresh snapshot."""
        self._queue(Unsubscribe(name=record.request.name), now)
        self._queue(record.request, now)
        record.resync_queued = True
        record.subscribe_sent = True
        record.confirming = False

    def _acknowledged_by_data(self, record: _Subscription) -> None:
        generation = next(
            (
                pending.token_generation
                for pending in self._pending.values()
                if pending.request is record.request
            ),
            None,
        )
        self._subscription_trigger(record.request.name, SubscriptionTrigger.SUBSCRIBED)
        if generation == self._token_generation:
            self._token_state = TOKEN_TRANSITIONS.get(
                (self._token_state, TokenTrigger.BIND), self._token_state
            )

    def _liveness_armed(self) -> bool:
        return any(
            record.state
            in (
                SubscriptionState.ACTIVE,
                SubscriptionState.UNSUBSCRIBING,
                SubscriptionState.RESYNCING,
            )
            for record in self._subscriptions.values()
        )

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
