"""Pending-request bookkeeping shared by ``Connection`` (v1) and ``V2Connection``.

``_RequestBook`` checks that a request may be sent, encodes and queues it with a new reqid,
keeps it pending until its replies or its end, and ends it with exactly one event:
``RequestCompleted``, ``RequestFailed``, or an outcome-unknown ``RequestTimedOut`` /
``RequestLost``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kraken_proto._no_entries import writable
from kraken_proto._request_base import Request

from ._connection_base import RecordT, RequestT, _CoreBase, _Pending
from ._connection_events import (
    RequestCompleted,
    RequestFailed,
    RequestOutcomeUnknown,
    RequestTimedOut,
)
from ._connection_state import ConnectionState, TokenState
from ._errors import LocalProtocolError

# A status gate: (predicate the request must pass, what the status allows).
StatusGates = Mapping[str, tuple[Callable[[RequestT], bool], str]]


class _RequestBook(_CoreBase[RequestT, RecordT]):
    """Sending, tracking and ending requests (see the module)."""

    __slots__ = ()

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
            self._timed_out = writable(self._timed_out)
            self._timed_out[reqid] = pending.request
        self._subscription_unanswered(pending.request, outcome, now)
