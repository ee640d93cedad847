"""What an order call on a session runner returns or raises, for each final outcome (pure).

Exceptions, for the same failure on every runner:

==================================================  ==================================
the session says                                    the call
==================================================  ==================================
``RequestAccepted``, ``RequestApplied``             returns it
``RequestRefused`` (Kraken's answer)                ``RequestRefusedError``
failed for good (bad key, signature, permission)    ``RequestRefusedError`` (Kraken's
before the request went out, or before the call     error from ``SessionFailed``)
``RequestNotApplied`` (reconciled, or withdrawn)    ``RequestNotAppliedError``
``RequestUnresolved``, or the caller's timeout      ``OutcomeUnknownError``
the session was closed before the call              ``LocalProtocolError`` (misuse)
==================================================  ==================================
"""

from __future__ import annotations

from kraken_proto._event_base import KrakenError
from kraken_proto._request_base import Request

from ._events import (
    RequestAccepted,
    RequestApplied,
    RequestNotApplied,
    RequestOutcome,
    RequestRefused,
    RequestUnresolved,
    SessionFailed,
)

__all__ = [
    "OutcomeUnknownError",
    "RequestNotAppliedError",
    "RequestRefusedError",
    "TradingRequestError",
    "result_of",
]


class TradingRequestError(Exception):
    """Base of what an order call raises. ``handle`` and ``request`` name the request (as
    sent, with its ``cl_ord_id``; ``handle`` is 0 when nothing was submitted because the
    session had already failed); ``outcome`` is the session's final outcome event, or
    ``None`` when the caller's timeout ended first or nothing was submitted."""

    def __init__(
        self, message: str, *, handle: int, request: Request, outcome: RequestOutcome | None
    ) -> None:
        super().__init__(message)
        self.handle = handle
        self.request = request
        self.outcome = outcome


class RequestRefusedError(TradingRequestError):
    """Kraken answered and refused: the request itself (``outcome`` is ``RequestRefused``),
    or the session's credentials before the request could go out (the session failed for
    good: bad key, signature or permission; ``outcome`` is the ``RequestNotApplied`` the
    session ended it with, or ``None`` when the call came after the failure). ``error`` is
    Kraken's error either way."""

    def __init__(self, outcome: RequestRefused) -> None:
        super().__init__(
            f"{outcome.request.event} refused by Kraken: {outcome.error.text}",
            handle=outcome.handle,
            request=outcome.request,
            outcome=outcome,
        )
        self.error: KrakenError = outcome.error

    @classmethod
    def session_failed(
        cls,
        failed: SessionFailed,
        request: Request,
        *,
        handle: int = 0,
        outcome: RequestNotApplied | None = None,
    ) -> RequestRefusedError:
        """The error for ``request`` when the session failed for good (``failed``) first."""
        error = KrakenError.parse(failed.error or failed.reason)
        refused = cls.__new__(cls)
        TradingRequestError.__init__(
            refused,
            f"{request.event} refused by Kraken: the session failed for good ({error.text})",
            handle=handle,
            request=request,
            outcome=outcome,
        )
        refused.error = error
        return refused


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
