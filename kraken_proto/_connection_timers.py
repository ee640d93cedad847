"""The timed half of a connection: deadlines, liveness and the dead man's switch.

``_Timers`` acts on time passing (``handle_timeout``) and says when it next must
(``next_deadline``): a fresh token expires, a pending request times out, a silent server is
pinged and then given up on, the dead man's switch is re-armed.
"""

from __future__ import annotations

from ._connection_base import RecordT, RequestT
from ._connection_events import ConnectionStale, RequestTimedOut, TokenExpired
from ._connection_requests import _RequestBook
from ._connection_state import (
    ConnectionState,
    ConnectionTrigger,
    SubscriptionState,
    TokenState,
    TokenTrigger,
)

_LIVE_SUBSCRIPTION = (
    SubscriptionState.ACTIVE,
    SubscriptionState.UNSUBSCRIBING,
    SubscriptionState.RESYNCING,
)
# Loaded once: ``next_deadline`` runs after every read in every runner, and each load of an
# enum member costs about as much as a comparison there.
_OPEN, _CLOSING = ConnectionState.OPEN, ConnectionState.CLOSING
_FRESH = TokenState.FRESH


class _Timers(_RequestBook[RequestT, RecordT]):
    """Deadlines and what happens at them (see the module)."""

    __slots__ = ()

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

    def next_deadline(self) -> float | None:
        """When ``handle_timeout`` should next be called, or None when nothing is timed."""
        # The earliest of the deadlines below, compared as they come: a runner asks after
        # every read, and a list, ``min`` and a generator cost ~2 us there (now ~0.6 us).
        state = self._state
        if state is not _OPEN and state is not _CLOSING:
            return None
        best: float | None = None
        for pending in self._pending.values():
            deadline = pending.deadline
            if best is None or deadline < best:
                best = deadline
        if state is not _OPEN:
            return best
        expires = self._token_expires_at
        if self._token_state is _FRESH and expires is not None and (best is None or expires < best):
            best = expires
        if self._liveness_armed():
            since = self._liveness_ping_at
            if since is None:
                since = self._last_frame_at
            stale = since + self._config.liveness_timeout
            if best is None or stale < best:
                best = stale
        keepalive = self._keepalive_deadline()
        if keepalive is not None and (best is None or keepalive < best):
            best = keepalive
        switch = self._dead_mans_switch_due
        if switch is not None and (best is None or switch < best):
            best = switch
        return best

    def _liveness_armed(self) -> bool:
        # A loop, not ``any()`` over a generator: building the generator costs more than the
        # two or three subscriptions it would look at, after every read.
        for record in self._subscriptions.values():  # noqa: SIM110
            if record.state in _LIVE_SUBSCRIPTION:
                return True
        return False

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
