"""The session's life across connections: its states as a transition table, and the work
of each step (fetch a token or reuse a young one, open a connection, lose it, wait out the
backoff, stop).

``SESSION_TRANSITIONS`` is ``{(state, trigger): next_state}``, like the connection's tables in
``kraken_proto._connection_state``; a pair missing from it is a bug in the session, and
``Lifecycle.fire`` raises ``LocalProtocolError`` for it rather than move anywhere unplanned.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from kraken_proto._connection_state import SubscriptionState, TokenState
from kraken_proto._errors import LocalProtocolError
from kraken_proto._no_entries import NO_ENTRIES, writable
from kraken_proto._redacted import RedactedText
from kraken_proto.rest._errors import RestError
from kraken_proto.rest._request import RestRequest
from kraken_proto.rest._token import WebSocketToken, build_token_request, parse_token_response

from ._actions import CloseConnection, OpenConnection, SendMessages
from ._backoff import ReconnectPolicy
from ._balances import BALANCES, SessionSubscribe
from ._config import SessionState
from ._context import SessionContext
from ._events import (
    Connected,
    Reconnected,
    Reconnecting,
    SessionClosed,
    SessionFailed,
)
from ._link import Link, open_link
from ._rest import RestJob
from ._seed import SeededStream

__all__ = ["LOGGER_NAME", "SESSION_TRANSITIONS", "Lifecycle", "SessionTrigger"]

LOGGER_NAME = "kraken_proto.session"
_WARNING = 30  # logging.WARNING
_ERROR = 40  # logging.ERROR
# Channels that may be subscribed without a snapshot: synced once active.
_SNAPSHOT_OPTIONAL = frozenset({"ownTrades", BALANCES})
_WAITING = SessionState.WAITING  # loaded once: ``next_deadline`` runs after every read


def _log(level: int, message: str, *args: object) -> None:
    """Log through ``logging`` (which does no I/O unless the application set up handlers).

    ``logging`` is imported here, not at module level: it loads ``threading``, and
    ``import kraken_proto`` stays free of it (tests/test_purity.py). No token or secret is
    ever part of ``message`` or ``args``.
    """
    import logging

    logging.getLogger(LOGGER_NAME).log(level, message, *args)


class SessionTrigger(enum.Enum):
    """What moves a session between states."""

    START = "start"
    CONNECTED = "connection_made"
    SYNCED = "subscribed_and_reconciled"
    LOST = "attempt_failed_or_connection_lost"
    RETRY = "backoff_over"
    CLOSE = "close"
    SOCKETS_CLOSED = "every_socket_closed"
    FAIL = "permanent_rest_error"


_S, _T = SessionState, SessionTrigger
SESSION_TRANSITIONS: Mapping[tuple[SessionState, SessionTrigger], SessionState] = MappingProxyType(
    {
        (_S.IDLE, _T.START): _S.CONNECTING,
        (_S.IDLE, _T.CLOSE): _S.CLOSING,
        (_S.CONNECTING, _T.CONNECTED): _S.SYNCING,
        (_S.CONNECTING, _T.LOST): _S.WAITING,
        (_S.CONNECTING, _T.CLOSE): _S.CLOSING,
        (_S.CONNECTING, _T.FAIL): _S.FAILED,
        (_S.SYNCING, _T.SYNCED): _S.LIVE,
        (_S.SYNCING, _T.LOST): _S.WAITING,
        (_S.SYNCING, _T.CLOSE): _S.CLOSING,
        (_S.SYNCING, _T.FAIL): _S.FAILED,
        (_S.LIVE, _T.LOST): _S.WAITING,
        (_S.LIVE, _T.CLOSE): _S.CLOSING,
        (_S.LIVE, _T.FAIL): _S.FAILED,
        (_S.WAITING, _T.RETRY): _S.CONNECTING,
        (_S.WAITING, _T.CLOSE): _S.CLOSING,
        (_S.WAITING, _T.FAIL): _S.FAILED,
        # A close waits for the sockets still open (CloseConnection -> connection_lost).
        (_S.CLOSING, _T.SOCKETS_CLOSED): _S.CLOSED,
    }
)
_STOPPED = frozenset({_S.CLOSING, _S.CLOSED, _S.FAILED})


class Lifecycle:
    """The session's state, its current link and everything about getting one.

    Owns the connection numbers (the adapter's ``conn``), the token between fetching and
    handing it over (and kept for the next connection while it is young:
    ``SessionConfig.token_reuse_for``), the sockets still closing, the reconnect policy and
    the timing of reconnects. ``random`` draws the backoff jitter.
    """

    __slots__ = (
        "_actions",
        "_attempt_pending",
        "_closing",
        "_config",
        "_credentials",
        "_events",
        "_ever_live",
        "_held",
        "_held_reused",
        "_held_since",
        "_live_since",
        "_lost_at",
        "_next_conn",
        "_no_reuse",
        "_policy",
        "_rest",
        "_reuse_for",
        "_token",
        "_token_reused",
        "_token_since",
        "attempts",
        "conn_num",
        "link",
        "retry_at",
        "state",
        "stopped",
        "synced",
    )

    def __init__(self, context: SessionContext, random: SeededStream) -> None:
        self._config = context.config
        self._credentials = context.credentials
        self._rest = context.rest
        self._actions = context.actions
        self._events = context.events
        self._policy = ReconnectPolicy(context.config, random)
        self.state = SessionState.IDLE
        self.stopped = False  # CLOSING, CLOSED or FAILED; read per frame, so a plain bool
        self.link: Link | None = None
        self.conn_num: int | None = None
        self.synced: dict[str, None] = {}  # channels whose first data arrived on this link
        self.attempts = 0
        self._next_conn = 1
        # Dicts as sets, here and for ``synced``: an empty set takes 216 bytes, a dict 64.
        self._closing: dict[int, None] = NO_ENTRIES
        # The token for the connection being opened, and when it was fetched; reused: it
        # came from an earlier connection. ``_held*``: the same for the current link's token.
        self._token: WebSocketToken | None = None
        self._token_since = 0.0
        self._token_reused = False
        self._held: WebSocketToken | None = None
        self._held_since = 0.0
        self._held_reused = False
        config = context.config
        self._reuse_for = min(config.token_reuse_for, config.connection.token_ttl)
        self._no_reuse = self._reuse_for <= 0  # 0, or after an auth or permission failure
        self._attempt_pending = False  # an attempt waits for the closing sockets to go
        self.retry_at: float | None = None
        self._lost_at: float | None = None
        self._live_since: float | None = None
        self._ever_live = False

    def fire(self, trigger: SessionTrigger) -> None:
        """Move along ``SESSION_TRANSITIONS``; raises ``LocalProtocolError`` for a pair it
        does not hold (the state is then unchanged)."""
        state = SESSION_TRANSITIONS.get((self.state, trigger))
        if state is None:
            raise LocalProtocolError(
                f"session: {trigger.value} is not allowed when the session is {self.state.value}"
            )
        self.state = state
        self.stopped = state in _STOPPED

    def require_running(self, call: str) -> None:
        """Raise ``LocalProtocolError`` naming ``call`` once the session is stopping or stopped."""
        if self.stopped:
            raise LocalProtocolError(f"{call}: the session is {self.state.value}")

    def next_deadline(self) -> float | None:
        """When the backoff ends (while waiting) or the link next needs ``handle_timeout``."""
        if self.state is _WAITING:
            return self.retry_at
        link = self.link
        return None if link is None else link.next_deadline()

    # --- connecting -----------------------------------------------------------------------

    def retry_if_due(self, now: float) -> None:
        """Start the next attempt once the backoff is over at ``now``."""
        if (
            self.state is SessionState.WAITING
            and self.retry_at is not None
            and now >= self.retry_at
        ):
            self.begin_attempt(SessionTrigger.RETRY, now)

    def begin_attempt(self, trigger: SessionTrigger, now: float) -> None:
        """Start a connection attempt (``START`` from IDLE, ``RETRY`` after the backoff):
        open a connection with the kept token if it is young, else fetch one, unless a
        closing socket must be gone first."""
        self.fire(trigger)
        self.retry_at = None
        if self._closing:
            self._attempt_pending = True
            return
        self._get_token(now)

    def _get_token(self, now: float) -> None:
        token = self._token
        if token is not None and now - self._token_since < self._reuse_for:
            self._open_connection(now)
            return
        self._token = None
        self._fetch_token()

    def _fetch_token(self) -> None:
        def build(nonce: int) -> RestRequest:
            return build_token_request(self._credentials, nonce=nonce)

        def on_answer(status: int, body: bytes, now: float) -> None:
            self._token_ready(parse_token_response(status, body), now)

        def on_error(error: RestError | None, reason: str, now: float) -> None:
            self.wait_to_retry(f"token request failed: {reason}", now)

        self._rest.add(
            RestJob(
                purpose="GetWebSocketsToken",
                cost=1,
                build=build,
                on_answer=on_answer,
                on_error=on_error,
            ),
            first=True,
        )

    def _token_ready(self, token: WebSocketToken, now: float) -> None:
        self._token = token
        self._token_since = now
        self._token_reused = False
        self._open_connection(now)

    def _open_connection(self, now: float) -> None:
        conn = self._next_conn
        self._next_conn += 1
        self.conn_num = conn
        self.attempts += 1
        self._policy.attempt_started(now)
        self._actions.append(OpenConnection(conn=conn))

    def connection_made(
        self, conn: int, now: float, subscriptions: Iterable[SessionSubscribe]
    ) -> Link | None:
        """The socket ``conn`` opened: return the new link, connected, holding the token and
        subscribing to ``subscriptions`` (None, changing nothing, when ``conn`` is not the one
        being opened)."""
        if conn != self.conn_num or self.link is not None or self._token is None:
            return None
        config = self._config
        link = open_link(config.protocol, config.connection, ratecounter=config.pace_orders)
        link.connection_made(now)
        link.provide_token(self._token.token, now)
        self._held, self._held_since = self._token, self._token_since
        self._held_reused = self._token_reused
        self._token = None
        self.link = link
        self.fire(SessionTrigger.CONNECTED)
        self.synced = {}
        for request in subscriptions:
            link.send(request, now)
        return link

    def connection_failed(self, conn: int, reason: str, now: float) -> None:
        """Opening ``conn`` failed: wait, then try again (ignored for any other ``conn``)."""
        if conn != self.conn_num or self.link is not None:
            return
        self.conn_num = None
        # The token was never presented: it stays for the next attempt while young.
        if self._no_reuse:
            self._token = None
        self.wait_to_retry(f"connection failed: {reason}", now)

    def socket_closed(self, conn: int, now: float) -> bool:
        """``conn`` is gone; True when it was a socket the session had asked to close (then a
        close may be complete, or a waiting attempt may go on)."""
        if conn not in self._closing:
            return False
        self._closing.pop(conn, None)
        if self.state is SessionState.CLOSING and not self._closing:
            self.fire(SessionTrigger.SOCKETS_CLOSED)
            self._events.append(SessionClosed())
        elif self._attempt_pending and not self._closing:
            self._attempt_pending = False
            self._get_token(now)
        return True

    def all_synced(self, subscriptions: Mapping[str, SessionSubscribe]) -> bool:
        """True once every subscribed channel has its first data; an ownTrades (or balances)
        subscribed without a snapshot counts once it is active."""
        link = self.link
        for name, request in subscriptions.items():
            if name in self.synced:
                continue
            if not (
                name in _SNAPSHOT_OPTIONAL
                and request.snapshot is False
                and link is not None
                and link.subscription_state(name) is SubscriptionState.ACTIVE
            ):
                return False
            self.synced[name] = None
        return True

    def went_live(self, now: float) -> None:
        """Subscribed and reconciled: LIVE, reported as ``Connected`` the first time and as
        ``Reconnected`` (with the downtime) after that."""
        self.fire(SessionTrigger.SYNCED)
        self._live_since = now
        if self._ever_live:
            downtime = 0.0 if self._lost_at is None else now - self._lost_at
            self._events.append(Reconnected(downtime=downtime))
            _log(_WARNING, "Kraken session: reconnected after %.2f s", downtime)
        else:
            self._events.append(Connected())
        self._ever_live = True
        self._lost_at = None

    def flush(self, link: Link) -> None:
        """Ask for ``link``'s outgoing messages to be sent on the current socket."""
        messages = link.data_to_send()
        if messages:
            self.send(messages)

    def send(self, messages: list[str]) -> None:
        """Ask for ``messages`` (drained from the link) to be sent on the current socket."""
        conn = self.conn_num
        # Only the current link is drained, and a link is set and dropped with its socket.
        assert conn is not None
        # Redacted: the messages carry the token through the runner's frames.
        texts = tuple(map(RedactedText, messages))
        self._actions.append(SendMessages(conn=conn, messages=texts))

    # --- losing and stopping ----------------------------------------------------------------

    def drop_link(self, now: float, *, close: bool) -> Link | None:
        """The current link is unusable: forget it and its socket (asking for the socket to be
        closed with ``close``), note when and how long it worked; return the link, for its last
        events. ``wait_to_retry`` follows."""
        if (
            self.state is SessionState.LIVE
            and self._live_since is not None
            and now - self._live_since >= self._config.healthy_after
        ):
            self._policy.connection_worked()
        if self._lost_at is None:
            self._lost_at = now
        self._live_since = None
        self.synced = {}
        self._keep_token()
        return self._forget_link(close=close)

    def _keep_token(self) -> None:
        """Keep the current link's token for the next connection (it ages from its fetch): one
        a private subscription bound, or one fetched for this link and not bound yet; a reused
        token its link never bound, and one the link dropped (rejected, expired), are not
        kept."""
        link, held = self.link, self._held
        if link is None or held is None or self._no_reuse:
            return
        state = link.token_state
        # Age from the fetch whatever the link did: Kraken documents a token as usable for
        # 15 minutes from its creation; after its connection ends, being bound says nothing.
        if state is TokenState.BOUND or (state is TokenState.FRESH and not self._held_reused):
            self._token, self._token_since = held, self._held_since
            self._token_reused = True

    def no_token_reuse(self) -> None:
        """An auth or permission failure: never reuse a token again."""
        self._no_reuse = True
        self._token = self._held = None

    def _forget_link(self, *, close: bool) -> Link | None:
        link, conn_num = self.link, self.conn_num
        self.link = None
        self.conn_num = None
        self._held = None
        if close and conn_num is not None:
            self._closing = writable(self._closing)
            self._closing[conn_num] = None
            self._actions.append(CloseConnection(conn=conn_num))
        return link

    def wait_to_retry(self, reason: str, now: float) -> None:
        """The attempt failed or the link was lost: wait as the reconnect policy says."""
        delay = self._policy.next_delay(now)
        attempt = self._policy.failures
        self.fire(SessionTrigger.LOST)
        self.retry_at = now + delay
        self._events.append(Reconnecting(reason=reason, attempt=attempt, delay=delay))
        _log(_WARNING, "Kraken session: %s; reconnect attempt %d in %.2f s", reason, attempt, delay)

    def stop(self, now: float, *, failed: RestError | None) -> None:
        """End for good: close the link (which disarms the dead man's switch if it armed it)
        unless ``failed``, close the socket, then CLOSING/CLOSED or FAILED."""
        link = self.link
        if link is not None and failed is None:
            link.close(now)
            self.flush(link)
        self._forget_link(close=True)
        self._token = None
        self.retry_at = None
        self._attempt_pending = False  # nothing may start once stopped
        if failed is not None:
            self.fire(SessionTrigger.FAIL)
            self._events.append(
                SessionFailed(
                    reason=f"{type(failed).__name__}: {failed}",
                    error=(None if failed.error is None else failed.error.text),
                )
            )
            _log(_ERROR, "Kraken session failed for good: %s", type(failed).__name__)
            return
        self.fire(SessionTrigger.CLOSE)
        if not self._closing:
            self.fire(SessionTrigger.SOCKETS_CLOSED)
            self._events.append(SessionClosed())
