"""The batch calls every session runner offers (``BatchCalls``, mixed into ``SessionRunner``).

``batch_add_orders`` hands 2 to 15 orders to ``Session.submit_batch`` and registers one waiting
call per row with the ``Waiters``; the runner subclass waits for all of them
(``_call_batch``) and ``_batch_results`` ends each: its outcome, or its typed error, per row.
``batch_cancel_orders`` is one ``CancelOrder`` listing every id. No policy lives here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from kraken_proto import (
    AddOrder,
    CancelOrder,
    Request,
    RequestAccepted,
    RequestApplied,
    Session,
    SessionFailed,
)
from kraken_proto.session._call_errors import RequestRefusedError, TradingRequestError
from kraken_proto.session._waiters import Waiters

__all__ = ["BatchCalls", "BatchResult", "Outcome", "SyncCalls"]

Outcome = RequestAccepted | RequestApplied
BatchResult = list[Outcome | TradingRequestError]
"""Per order of a batch, in order: its outcome, or the error it ended with."""
OutcomeT = TypeVar("OutcomeT")
BatchT = TypeVar("BatchT")  # what a batch call returns: BatchResult, or Awaitable[BatchResult]


class BatchCalls(Generic[OutcomeT, BatchT]):
    """``batch_add_orders`` and ``batch_cancel_orders``, sync or async like the runner."""

    session: Session
    _waiters: Waiters
    _clock: Callable[[], float]
    _result: Callable[[int, float | None], Outcome]  # SessionRunner's: acknowledges it

    def _route(self) -> None:
        raise NotImplementedError

    def _call(self, request: Request, timeout: float | None) -> OutcomeT:
        raise NotImplementedError

    def batch_add_orders(
        self, orders: Sequence[AddOrder | Mapping[str, Any]], *, timeout: float | None = 60.0
    ) -> BatchT:
        """Place 2 to 15 orders on one pair together (``AddOrder`` objects or their fields):
        over v2 one ``batch_add``, over v1 one ``addOrder`` each at once. Each order gets a
        ``cl_ord_id`` (when it has none) and its own exactly-once outcome, a lost batch being
        reconciled order by order. Returns one entry per order, in order: its outcome, or the
        ``TradingRequestError`` it ended with (returned, not raised, so that one refused order
        does not hide what became of the others). Raises ``LocalProtocolError``, placing
        nothing, for a batch ``Session.submit_batch`` refuses."""
        rows = [row if isinstance(row, AddOrder) else AddOrder(**row) for row in orders]
        return self._call_batch(rows, timeout)

    def batch_cancel_orders(
        self,
        txids: Sequence[str] = (),
        *,
        cl_ord_ids: Sequence[str] = (),
        timeout: float | None = 60.0,
    ) -> OutcomeT:
        """Cancel several orders in one request: one ``cancel_order`` (v2) or ``cancelOrder``
        (v1) listing every id, with one outcome, as ``cancel_order``. Over v2 give either
        ``txids`` or ``cl_ord_ids``, not both (Kraken refuses the mix)."""
        return self._call(CancelOrder(txid=tuple(txids), cl_ord_id=tuple(cl_ord_ids)), timeout)

    def _call_batch(self, orders: list[AddOrder], timeout: float | None) -> BatchT:
        raise NotImplementedError

    def _submit_batch(self, orders: list[AddOrder]) -> tuple[int, ...]:
        ended = self._waiters.ended
        if isinstance(ended, SessionFailed) and orders:
            raise RequestRefusedError.session_failed(ended, orders[0])
        handles = self.session.submit_batch(orders, self._clock())
        for handle, order in zip(handles, orders, strict=True):
            self._waiters.track(handle, order)
        self._route()
        return handles

    def _batch_results(self, handles: tuple[int, ...], timeout: float | None) -> BatchResult:
        results: BatchResult = []
        for handle in handles:
            try:
                results.append(self._result(handle, timeout))
            except TradingRequestError as error:
                results.append(error)
        return results


class SyncCalls(BatchCalls[Outcome, BatchResult]):
    """The blocking order calls: submit, then ``_wait_for`` (the runner's loop) the calls."""

    # Declared, not defined: SessionRunner has _submit, the blocking runner _wait_for (this
    # class comes first in the runner's bases, so a definition here would hide theirs).
    _submit: Callable[[Request], int]
    _wait_for: Callable[[tuple[int, ...], float | None], None]

    def _call(self, request: Request, timeout: float | None) -> Outcome:
        handle = self._submit(request)
        self._wait_for((handle,), timeout)
        return self._result(handle, timeout)

    def _call_batch(self, orders: list[AddOrder], timeout: float | None) -> BatchResult:
        handles = self._submit_batch(orders)
        self._wait_for(handles, timeout)
        return self._batch_results(handles, timeout)
