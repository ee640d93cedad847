"""What the blocking and trio session runners share, without I/O.

* the typed exceptions an order call raises, and the one function that turns a request's
  final outcome into a return value or one of them;
* :class:`EventRouter`, which keeps the session's events for the user and sets aside the
  outcomes that order calls are waiting for;
* :func:`build_request`, so that each call accepts a request object or its fields;
* :func:`feed_websocket`, which carries received bytes from a ``WebSocketSession`` into the
  ``Session`` (messages, then the close with its code).

No policy lives here: every decision (reconnect, reconcile, time out) is the Session's.
"""

from __future__ import annotations

from collections import deque
from typing import Any, TypeVar

from kraken_proto import (
    KrakenError,
    Request,
    RequestAccepted,
    RequestApplied,
    RequestNotApplied,
    RequestOutcome,
    RequestRefused,
    RequestUnresolved,
    Session,
    SessionClosed,
    SessionEvent,
    SessionFailed,
)
from kraken_proto.adapters.transport._ws import WebSocketSession

__all__ = [
    "EventRouter",
    "OutcomeUnknownError",
    "RequestNotAppliedError",
    "RequestRefusedError",
    "TradingRequestError",
    "build_request",
    "feed_websocket",
    "result_of",
]

R = TypeVar("R", bound=Request)


class TradingRequestError(Exception):
    """Base of what an order call raises. ``handle`` and ``request`` name the request (as
    sent, with its ``cl_ord_id``); ``outcome`` is the session's final outcome event, or
    ``None`` when the caller's timeout ended first."""

    def __init__(
        self, message: str, *, handle: int, request: Request, outcome: RequestOutcome | None
    ) -> None:
        super().__init__(message)
        self.handle = handle
        self.request = request
        self.outcome = outcome


class RequestRefusedError(TradingRequestError):
    """Kraken answered and refused the request; ``error`` is Kraken's error."""

    def __init__(self, outcome: RequestRefused) -> None:
        super().__init__(
            f"{outcome.request.event} refused by Kraken: {outcome.error.text}",
            handle=outcome.handle,
            request=outcome.request,
            outcome=outcome,
        )
        self.error: KrakenError = outcome.error


class RequestNotAppliedError(TradingRequestError):
    """The answer was lost and reconciliation found the request did not take effect (an
    order "not placed"), or it was withdrawn unsent. Safe to send again. ``via`` names the
    evidence."""

    def __init__(self, outcome: RequestNotApplied) -> None:
        super().__init__(
            f"{outcome.request.event} did not take effect (established via {outcome.via})",
            handle=outcome.handle,
            request=outcome.request,
            outcome=outcome,
        )
        self.via = outcome.via


class OutcomeUnknownError(TradingRequestError):
    """The outcome is not known: the caller's timeout ended first (``outcome is None``; the
    final outcome still arrives later as an event), or the session could not establish it
    (``outcome`` is ``RequestUnresolved``). It may or may not have happened: never assume
    either, never re-send blindly."""


def result_of(outcome: RequestOutcome) -> RequestAccepted | RequestApplied:
    """The value an order call returns for ``outcome``, or the typed exception it raises.

    Accepted (Kraken's status replies in ``replies``) and applied after reconciliation
    (``txid`` of the order placed) are returned; refused, not applied and unresolved raise.
    """
    if isinstance(outcome, RequestAccepted | RequestApplied):
        return outcome
    if isinstance(outcome, RequestRefused):
        raise RequestRefusedError(outcome)
    if isinstance(outcome, RequestNotApplied):
        raise RequestNotAppliedError(outcome)
    reason = outcome.reason if isinstance(outcome, RequestUnresolved) else type(outcome).__name__
    raise OutcomeUnknownError(
        f"{outcome.request.event}: outcome unknown ({reason})",
        handle=outcome.handle,
        request=outcome.request,
        outcome=outcome,
    )


def timed_out(handle: int, request: Request, timeout: float | None) -> OutcomeUnknownError:
    return OutcomeUnknownError(
        f"{request.event}: no final outcome within {timeout:g} s; it may still happen "
        f"(handle {handle}: watch events() for its outcome)",
        handle=handle,
        request=request,
        outcome=None,
    )


def build_request(kind: type[R], request: R | None, fields: dict[str, Any]) -> R:
    """``request`` itself, or a ``kind`` built from keyword ``fields`` (not both)."""
    if request is None:
        return kind(**fields)
    if fields:
        raise TypeError(f"pass a {kind.__name__} or its fields, not both")
    if not isinstance(request, kind):
        raise TypeError(f"expected a {kind.__name__}, got {type(request).__name__}")
    return request


class EventRouter:
    """The session's events, kept for the user in order; the outcomes order calls wait for
    are also set aside by handle (so a call returns its outcome even if the user reads
    ``events()`` meanwhile)."""

    def __init__(self) -> None:
        self._queue: deque[SessionEvent] = deque()
        self._watched: set[int] = set()
        self._outcomes: dict[int, RequestOutcome] = {}
        self.ended: SessionEvent | None = None
        """``SessionClosed`` or ``SessionFailed`` once the session has stopped."""

    def route(self, events: list[SessionEvent]) -> list[int]:
        """Keep ``events``; return the watched handles that just got their outcome."""
        resolved: list[int] = []
        for event in events:
            self._queue.append(event)
            if isinstance(event, RequestOutcome) and event.handle in self._watched:
                self._outcomes[event.handle] = event
                resolved.append(event.handle)
            elif isinstance(event, SessionClosed | SessionFailed):
                self.ended = event
        return resolved

    def watch(self, handle: int) -> None:
        self._watched.add(handle)

    def outcome(self, handle: int) -> RequestOutcome | None:
        return self._outcomes.get(handle)

    def forget(self, handle: int) -> RequestOutcome | None:
        """Stop watching ``handle``; return its outcome if it had one."""
        self._watched.discard(handle)
        return self._outcomes.pop(handle, None)

    def __bool__(self) -> bool:
        return bool(self._queue)

    def take(self) -> list[SessionEvent]:
        """Every event kept so far, oldest first."""
        events = list(self._queue)
        self._queue.clear()
        return events

    def take_one(self) -> SessionEvent:
        return self._queue.popleft()


def feed_websocket(
    session: Session, conn: int, websocket: WebSocketSession, data: bytes | None, now: float
) -> bool:
    """Give received bytes (``None`` at EOF) to ``websocket`` and its messages to the session.

    Returns False once the WebSocket is closed; the session has then been told
    (``connection_lost`` with the close code). Write ``websocket.bytes_to_send()`` after it.
    """
    try:
        messages = websocket.receive_data(data)
    except ConnectionError:
        messages = []
    for text in messages:
        session.receive_message(conn, text, now)
    if websocket.is_open:
        return True
    closed = websocket.closed
    session.connection_lost(conn, now, code=None if closed is None else closed.code)
    return False


def reason_of(exc: BaseException) -> str:
    """A short reason for the session's logs (adapter exceptions carry no secrets)."""
    return f"{type(exc).__name__}: {exc}"[:300]
