"""The state every connection of either protocol keeps, and the hooks a protocol supplies.

``_CoreBase`` is the bottom layer of ``_ConnectionCore`` (see ``_connection_core``): the
connection's and the token's states with their transition tables, the session token's
lifecycle, and the hooks a protocol version implements. The layers above it add the pending
requests (``_connection_requests``), the timers (``_connection_timers``) and the inputs and
outputs (``_connection_core``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Generic, Protocol, TypeVar

from kraken_proto._event_base import Event, KrakenError
from kraken_proto._no_entries import NO_ENTRIES
from kraken_proto._request_base import Request

from ._connection_events import RequestFailed, RequestOutcomeUnknown, TokenRejected
from ._connection_state import (
    CONNECTION_TRANSITIONS,
    TOKEN_TRANSITIONS,
    ConnectionConfig,
    ConnectionState,
    ConnectionTrigger,
    SubscriptionState,
    TokenState,
    TokenTrigger,
)
from ._errors import LocalProtocolError

# A module-level alias: on CPython 3.11 loading an enum member costs ~75 ns, and
# ``_require_not_failed`` runs on every input.
_FAILED = ConnectionState.FAILED

_TOKEN_ERROR_TEXTS = ("esession:invalid session", "eapi:invalid token", "token(s) not found")


def _is_token_error(error: KrakenError) -> bool:
    """True for an error text saying the session token is bad."""
    text = error.text.lower()
    if any(known in text for known in _TOKEN_ERROR_TEXTS):
        return True
    return "token" in text and ("invalid" in text or "expired" in text)


class _Secret:
    """Holds the token so that no repr, not even of the connection's attributes, shows it."""

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


class _CoreBase(ABC, Generic[RequestT, RecordT]):
    """Attributes, hooks, queries, and the connection and token states (see the module)."""

    __slots__ = (
        "_config",
        "_dead_mans_switch_armed",
        "_dead_mans_switch_due",
        "_events",
        "_last_frame_at",
        "_liveness_ping_at",
        "_outgoing",
        "_pending",
        "_state",
        "_subscriptions",
        "_system_status",
        "_timed_out",
        "_token",
        "_token_expires_at",
        "_token_generation",
        "_token_state",
    )

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
        self._timed_out: dict[int, RequestT] = NO_ENTRIES
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

    # --- connection and token states ----------------------------------------------------------

    def _require_not_failed(self, call: str) -> None:
        if self._state is _FAILED:
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
