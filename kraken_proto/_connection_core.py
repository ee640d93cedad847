"""The protocol machinery ``Connection`` (v1) and ``V2Connection`` share, written once.

``_ConnectionCore`` holds what does not depend on the wire format: the connection and
token states and their transition tables, the session token's lifecycle, the table of
pending requests and how each one ends, timeouts and deadlines, server liveness, the dead
man's switch and the drain methods. A protocol version supplies the rest through a few
hooks: how a request is named, numbered and encoded, which ``Ping`` and
``CancelAllOrdersAfter`` classes it sends, and what an unanswered or answered request means
for its subscriptions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Generic, Protocol, TypeVar

from kraken_proto._event_base import Event, KrakenError
from kraken_proto._request_base import Request

from ._connection_events import (
    ChannelUpdate,
    ConnectionStale,
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
from ._request_checks import check_token

if TYPE_CHECKING:  # the channel payloads of both protocols; no import cycle at run time
    from kraken_proto.v1._events import OpenOrders, OwnTrades
    from kraken_proto.v2._events import Balances, Executions

_TOKEN_ERROR_TEXTS = ("esession:invalid session", "eapi:invalid token", "token(s) not found")


def _is_token_error(error: KrakenError) -> bool:
    """True for an error text saying the session token is bad."""
    text = error.text.lower()
    if any(known in text for known in _TOKEN_ERROR_TEXTS):
        return True
    return "token" in text and ("invalid" in text or "expired" in text)


class _Secret:
    """Holds the token so that no repr, not even of the connection's ``vars()``, shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<token redacted>"


RequestT = TypeVar("RequestT", bound=Request)


@dataclass(slots=True)
class _Pending(Generic[RequestT]):
    request: RequestT
    deadline: float
    token_generation: int | None
    replies: list[Event] = field(default_factory=list)


class _Record(Protocol):
    """What the core reads and writes of a subscription record."""

    state: SubscriptionState
    awaiting_first_frame: bool
    next_sequence: int | None
    after_gap: bool
    resync_queued: bool


RecordT = TypeVar("RecordT", bound=_Record)

# A status gate: (predicate the request must pass, what the status allows).
StatusGates = Mapping[str, tuple[Callable[[RequestT], bool], str]]

_LIVE_SUBSCRIPTION = (
    SubscriptionState.ACTIVE,
    SubscriptionState.UNSUBSCRIBING,
    SubscriptionState.RESYNCING,
)


class _ConnectionCore(ABC, Generic[RequestT, RecordT]):
    """The version-independent half of a private WebSocket connection (see the module)."""

    # The class name ``repr`` shows.
    _repr_name: ClassVar[str]

    def __init__(self, config: ConnectionConfig) -> None:
        self._config = config
        self._state = ConnectionState.IDLE
        self._token: _Secret | None = None
        self._token_state = TokenState.NONE
        self._token_generation = 0
        self._token_expires_at: float | None = None
        self._pending: dict[int, _Pending[RequestT]] = {}
        self._timed_out: dict[int, RequestT] = {}
        self._subscriptions: dict[str, RecordT] = {}
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
            f"<{self._repr_name} state={self._state.name} token={self._token_state.name} "
            f"pending={len(self._pending)} subscriptions={{{subscriptions}}}>"
        )

    # --- hooks a protocol version supplies ------------------------------------------------------

    @abstractmethod
    def _request_name(self, request: RequestT) -> str:
        """The request's name on the wire (v1 ``event``, v2 ``method``)."""
        ...

    @abstractmethod
    def _encode_new(self, request: RequestT, token: str | None) -> tuple[int, str]:
        """Take a new reqid and encode ``request`` with it: ``(reqid, text)``."""
        ...

    @abstractmethod
    def _ping(self) -> RequestT:
        """A ``Ping`` request of this protocol version."""
        ...

    @abstractmethod
    def _cancel_all_after(self, timeout: int) -> RequestT:
        """A ``CancelAllOrdersAfter(timeout)`` request of this protocol version."""
        ...

    @abstractmethod
    def _queue_resync(self, record: RecordT, now: float) -> None:
        """Unsubscribe and subscribe again with the same options, for a fresh snapshot."""
        ...

    @abstractmethod
    def _reply_error(self, event: Event) -> KrakenError | None:
        """The error a reply kept for a request carries, or None for a success."""
        ...

    @abstractmethod
    def _already_held(self, request: RequestT, error: KrakenError) -> bool:
        """True when ``request`` is a subscribe and ``error`` says the server already holds
        the subscription (which is what was asked)."""
        ...

    @abstractmethod
    def _subscription_answered(
        self, pending: _Pending[RequestT], *, error: KrakenError | None
    ) -> None:
        """A request was answered (``error`` None for success): update its subscription."""
        ...

    @abstractmethod
    def _subscription_unanswered(
        self, request: RequestT, outcome: type[RequestOutcomeUnknown], now: float
    ) -> None:
        """A request ended without an answer: update its subscription."""
        ...

    def _sent(self, now: float) -> None:
        """A frame was queued for the server at ``now``."""

    def _keep_alive(self, now: float) -> None:
        """Called by ``handle_timeout`` while OPEN, after the liveness check."""

    def _keepalive_deadline(self) -> float | None:
        """When ``_keep_alive`` next has something to do, or None."""
        return None

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

    # --- inputs -------------------------------------------------------------------------------

    def connection_made(self, now: float) -> None:
        """The WebSocket is open. Raises ``LocalProtocolError`` unless the connection is IDLE."""
        self._require_not_failed("connection_made")
        self._transition(ConnectionTrigger.MADE, "connection_made")
        self._last_frame_at = now
        self._sent(now)  # the keepalive counts from the opening
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

    def close(self, now: float) -> None:
        """Begin a graceful close: disarm the dead man's switch if this connection armed it
        (queues ``CancelAllOrdersAfter(timeout=0)``), then set ``should_close``.

        Drain ``data_to_send()`` before closing the socket. Does nothing once closing, closed
        or failed.
        """
        if self._state is not ConnectionState.OPEN and self._state is not ConnectionState.IDLE:
            return
        if self._dead_mans_switch_armed and self._usable_token(now) is not None:
            self._queue(self._cancel_all_after(0), now)
        self._dead_mans_switch_armed = False
        self._dead_mans_switch_due = None
        self._transition(ConnectionTrigger.CLOSE, "close")

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
                self._queue(self._ping(), now)
                self._liveness_ping_at = now
        self._keep_alive(now)
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
            keepalive = self._keepalive_deadline()
            if keepalive is not None:
                deadlines.append(keepalive)
            if self._dead_mans_switch_due is not None:
                deadlines.append(self._dead_mans_switch_due)
        return min(deadlines, default=None)

    # --- shared steps of the inputs -----------------------------------------------------------

    def _check_send(
        self, request: RequestT, kind: type[Request], label: str, gates: StatusGates[RequestT]
    ) -> None:
        """Raise ``LocalProtocolError`` unless ``send`` may queue ``request`` now: the
        connection is OPEN, ``request`` is a ``kind`` (named ``label`` in the error) and the
        system status's gate lets it pass."""
        self._require_not_failed("send")
        if self._state is not ConnectionState.OPEN:
            raise LocalProtocolError(f"send: the connection is {self._state.value}, not open")
        untyped: object = request  # callers without a type checker may pass anything
        if not isinstance(untyped, kind):
            raise LocalProtocolError(f"send: expected a {label}, got {type(untyped).__name__}")
        gate = gates.get(self._system_status or "")
        if gate is not None and not gate[0](request):
            raise LocalProtocolError(
                f"send: {self._request_name(request)} refused locally: system status is "
                f"{self._system_status!r}, which allows {gate[1]}"
            )

    def _decode_frame(
        self, text: str | bytes, now: float, decode: Callable[[str | bytes], Event]
    ) -> Event:
        """The checks and bookkeeping of ``receive_message`` around decoding one frame."""
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
        return event

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

    def _bind_token(self, generation: int | None) -> None:
        """A subscribe sent with token ``generation`` succeeded: the current token is bound."""
        if generation == self._token_generation:
            self._token_state = TOKEN_TRANSITIONS.get(
                (self._token_state, TokenTrigger.BIND), self._token_state
            )

    def _reject_token(self, reqid: int | None, error: KrakenError, generation: int | None) -> None:
        # A rejection of an older token must not drop the one provided since.
        stale_reply = generation is not None and generation != self._token_generation
        if stale_reply or self._token_state not in (TokenState.FRESH, TokenState.BOUND):
            return
        self._drop_token(TokenTrigger.REJECT)
        self._events.append(TokenRejected(reqid=reqid, error=error))
        self._refuse_sent_after(reqid, error, generation)

    def _refuse_sent_after(
        self, reqid: int | None, error: KrakenError, generation: int | None
    ) -> None:
        """End the requests sent after ``reqid`` with the same token as refused with ``error``.

        Kraken answers a connection's requests in the order they were sent, and a token it
        rejected stays invalid, so each of them is answered with the same refusal; the caller
        drops the connection on ``TokenRejected`` and would never read those answers.
        """
        order = list(self._pending)
        if reqid not in order:
            return
        for later in order[order.index(reqid) + 1 :]:
            pending = self._pending[later]
            if pending.token_generation != generation:
                continue
            del self._pending[later]
            self._events.append(
                RequestFailed(
                    reqid=later,
                    request=pending.request,
                    replies=tuple(pending.replies),
                    error=error,
                )
            )
            self._subscription_answered(pending, error=error)

    # --- requests -----------------------------------------------------------------------------

    def _queue(self, request: RequestT, now: float) -> int:
        """Encode ``request`` with a new reqid, queue it and track it. Changes nothing on error."""
        token: str | None = None
        if request.requires_token:
            token = self._usable_token(now)
            if token is None:
                raise LocalProtocolError(
                    f"send: {self._request_name(request)} needs a session token and none is "
                    f"usable (token state: {self._token_state.value}, or unused for too long); "
                    "call provide_token first"
                )
        reqid, text = self._encode_new(request, token)
        self._outgoing.append(text)
        self._sent(now)
        self._pending[reqid] = _Pending(
            request=request,
            deadline=now + self._config.request_timeout,
            token_generation=None if token is None else self._token_generation,
        )
        if token is not None and self._token_state is TokenState.FRESH:
            self._token_expires_at = now + self._config.token_ttl
        return reqid

    def _end_answered(self, reqid: int, pending: _Pending[RequestT]) -> None:
        del self._pending[reqid]
        replies = tuple(pending.replies)
        errors = [error for error in map(self._reply_error, replies) if error is not None]
        if errors and self._already_held(pending.request, errors[0]):
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
        self._subscription_answered(pending, error=errors[0] if errors else None)

    def _end_unknown(self, reqid: int, outcome: type[RequestOutcomeUnknown], now: float) -> None:
        pending = self._pending.pop(reqid)
        self._events.append(
            outcome(reqid=reqid, request=pending.request, replies=tuple(pending.replies))
        )
        if outcome is RequestTimedOut and self._config.late_reply_memory:
            if len(self._timed_out) >= self._config.late_reply_memory:
                del self._timed_out[next(iter(self._timed_out))]
            self._timed_out[reqid] = pending.request
        self._subscription_unanswered(pending.request, outcome, now)

    # --- subscriptions ------------------------------------------------------------------------

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

    def _on_gap(
        self,
        record: RecordT,
        event: OwnTrades | OpenOrders | Executions | Balances,
        channel: str,
        expected: int,
        got: int,
        now: float,
    ) -> None:
        """A channel frame ``event`` broke the sequence: report it, flag the frames and
        recover (unsubscribe, subscribe again) when the subscription's state allows."""
        self._events.append(SequenceGap(channel=channel, expected=expected, got=got))
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
        self._queue(self._cancel_all_after(timeout), now)
        self._dead_mans_switch_armed = True
        self._dead_mans_switch_due = now + self._config.dead_mans_switch_interval
