"""``Waiters``: which order call a session event completes, and how that call ends (pure).

Every session runner (blocking, trio, asyncio) lets its user call ``add_order`` and wait for
the request's final outcome while the session keeps running. What a call returns or raises,
and *when* it may return, is decided here, once, for all of them:

* ``submit`` hands a request to the ``Session`` and registers the call (or refuses at once
  when the session already failed for good);
* ``feed`` takes every batch of ``Session.events()``: it keeps the events for the user's
  ``events()`` and notes the outcome each registered call waits for;
* a call is **complete** once its outcome is known *and* the session's ``OrderTable`` shows
  it (the order placed is in the table, a cancelled order is no longer open, an amend's new
  values are there), so a user who reads ``session.orders`` right after the call returns sees
  its effect. The table cannot show it when openOrders is not subscribed, and it has caught
  up as far as it can after a (re)connect's snapshot or once the session stopped: then the
  call completes with its outcome alone. ``reflect_timeout`` seconds after the outcome the
  call completes anyway (a missing update must not hold a call forever);
* ``result`` turns the outcome into the call's return value or its typed exception.

No I/O and no clock: ``now`` (unix seconds, like every ``Session`` input) is an argument, and
``next_deadline``/``expire`` serve the ``reflect_timeout`` the way ``Session.next_deadline``/
``handle_timeout`` serve the session's own timers.

The exceptions a call raises, the same on every runner: ``_call_errors``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from kraken_proto._connection_state import SubscriptionState
from kraken_proto._errors import LocalProtocolError
from kraken_proto._no_entries import NO_ENTRIES, writable
from kraken_proto._orders import OrderTable
from kraken_proto._request_base import Request
from kraken_proto.v1._requests import AddOrder, AmendOrder, CancelAll, CancelOrder, EditOrder

from ._call_errors import (
    OutcomeUnknownError,
    RequestRefusedError,
    result_of,
)
from ._config import SessionState
from ._events import (
    Connected,
    Reconnected,
    RequestAccepted,
    RequestApplied,
    RequestNotApplied,
    RequestOutcome,
    SessionClosed,
    SessionEvent,
    SessionFailed,
)
from ._link import Link

__all__ = ["SessionView", "Waiters", "reflects"]

# openOrders states in which the table follows the account (or is about to, with a snapshot).
_FOLLOWING = frozenset(
    {SubscriptionState.PENDING, SubscriptionState.ACTIVE, SubscriptionState.RESYNCING}
)


def _not_open(orders: OrderTable, txid: str) -> bool:
    order = orders.get(txid)
    return order is None or not order.is_open


def _amend_shown(orders: OrderTable, request: AmendOrder) -> bool:
    txid = request.txid
    if txid is None:
        matches = [o for o in orders.open_orders().values() if o.cl_ord_id == request.cl_ord_id]
        txid = matches[0].txid if matches else None
    order = None if txid is None else orders.get(txid)
    if order is None or not order.is_open:
        return True  # nothing left that an update could change
    descr = order.descr
    price, price2 = (None, None) if descr is None else (descr.price, descr.price2)
    wanted_and_shown: list[tuple[object, tuple[Decimal | None, ...]]] = [
        (request.volume, (order.vol,)),
        (request.display_volume, (order.display_volume,)),
        (request.limit_price, (price, price2, order.limitprice)),
        (request.trigger_price, (price, order.stopprice)),
    ]
    for wanted, shown in wanted_and_shown:
        if wanted is None:
            continue
        if not isinstance(wanted, Decimal):
            return True  # a relative price: the value it resolved to is not known here
        if wanted not in shown:
            return False
    return True


def reflects(orders: OrderTable, outcome: RequestAccepted, open_before: Iterable[str]) -> bool:
    """True when ``orders`` shows what the accepted request did.

    AddOrder: the order placed (``outcome.txid``) is in the table. EditOrder: the replacement
    is in the table and the original is no longer open. CancelOrder: none of the orders it
    named (by txid, cl_ord_id or userref) is open. CancelAll: none of ``open_before`` (the
    orders open when it was submitted) is open. AmendOrder: the order shows every value asked
    for (or has ended). A ``validate`` request and ``CancelAllOrdersAfter`` change nothing.
    """
    request = outcome.request
    if getattr(request, "validate", False):
        return True
    if isinstance(request, AddOrder | EditOrder):
        placed = outcome.txid is None or orders.get(outcome.txid) is not None
        if isinstance(request, AddOrder) or not isinstance(request.orderid, str):
            return placed
        return placed and _not_open(orders, request.orderid)
    if isinstance(request, CancelOrder):
        named_open = [
            order
            for order in orders.open_orders().values()
            if order.cl_ord_id in request.cl_ord_id or order.userref in request.userref
        ]
        return not named_open and all(_not_open(orders, txid) for txid in request.txid)
    if isinstance(request, CancelAll):
        return all(_not_open(orders, txid) for txid in open_before)
    if isinstance(request, AmendOrder):
        return _amend_shown(orders, request)
    return True  # CancelAllOrdersAfter: nothing in the table changes


class SessionView(Protocol):
    """What ``Waiters`` reads of a ``Session`` (and calls: ``submit``)."""

    @property
    def state(self) -> SessionState: ...

    @property
    def orders(self) -> OrderTable: ...

    @property
    def connection(self) -> Link | None: ...

    def pending(self) -> dict[int, Request]: ...

    def submit(self, request: Request, now: float) -> int: ...


@dataclass(slots=True)
class _Call:
    request: Request  # as sent (with the generated cl_ord_id), once the session has it
    open_before: tuple[str, ...]  # a CancelAll's: the orders open at submit
    outcome: RequestOutcome | None = None
    failed: SessionFailed | None = None  # ended unsent because the session failed for good
    hold_until: float | None = None  # outcome known; the table has until then to show it
    complete: bool = False
    link: Link | None = None  # the session's link when the outcome arrived


class Waiters:
    """The order calls waiting on one ``Session``, and the events kept for its user.

    Feed it every batch of ``session.events()`` (``feed``), serve ``next_deadline`` with
    ``expire``, and wake a waiting call when ``done(handle)`` turns True (``feed`` and
    ``expire`` return the handles that just completed). ``reflect_timeout`` (seconds): how
    long a known outcome waits for the order table to show it.
    """

    __slots__ = (
        "_calls",
        "_end_taken",
        "_following",
        "_head",
        "_held",
        "_queue",
        "_reflect_timeout",
        "_session",
        "ended",
    )

    def __init__(self, session: SessionView, *, reflect_timeout: float = 5.0) -> None:
        self._session = session
        self._reflect_timeout = reflect_timeout
        # Kept events are ``_queue[_head:]``: a list read from an index, emptied once all
        # are taken, costs 56 bytes a session where a deque keeps a 624-byte block.
        self._queue: list[SessionEvent] = []
        self._head = 0
        self._calls: dict[int, _Call] = NO_ENTRIES
        self._held: dict[int, _Call] = NO_ENTRIES  # outcome known, not complete yet
        self._following = False  # openOrders was seen subscribed: the table follows Kraken
        self._end_taken = False
        self.ended: SessionClosed | SessionFailed | None = None
        """The terminal event, once the session has stopped."""

    def __repr__(self) -> str:
        return (
            f"<Waiters calls={len(self._calls)} held={len(self._held)} "
            f"queued={len(self._queue) - self._head} ended={type(self.ended).__name__}>"
        )

    # --- the user's events ----------------------------------------------------------------

    def __bool__(self) -> bool:
        """True while events are kept for the user."""
        return self._head < len(self._queue)

    @property
    def exhausted(self) -> bool:
        """True once the terminal event was handed out: no event will ever come again."""
        return self._end_taken

    def take_one(self) -> SessionEvent:
        """The oldest event kept (``IndexError`` when none is)."""
        queue, head = self._queue, self._head
        event = queue[head]  # IndexError when none is kept
        head += 1
        if head == len(queue):
            queue.clear()
            head = 0
        self._head = head
        if isinstance(event, SessionClosed | SessionFailed):
            self._end_taken = True
        return event

    def take(self) -> list[SessionEvent]:
        """Every event kept so far, oldest first."""
        return [self.take_one() for _ in range(len(self._queue) - self._head)]

    # --- order calls ----------------------------------------------------------------------

    def submit(self, request: Request, now: float) -> int:
        """``session.submit(request, now)`` and register the call; return its handle.

        Raises ``RequestRefusedError`` (nothing submitted, ``handle`` 0) when the session
        already failed for good, and whatever ``Session.submit`` raises (``LocalProtocolError``
        after ``close``, or for a request it does not take).
        """
        if isinstance(self.ended, SessionFailed):
            raise RequestRefusedError.session_failed(self.ended, request)
        handle = self._session.submit(request, now)
        self.track(handle, request)
        return handle

    def track(self, handle: int, request: Request) -> None:
        """Register a call for ``handle``, which the caller got from the session itself (the
        rows of ``Session.submit_batch``): it then completes, and ends with ``result``, as a
        call made with ``submit`` does. Call it before the session's next events are fed."""
        sent = self._session.pending().get(handle, request)
        open_before = (
            tuple(self._session.orders.open_orders()) if isinstance(request, CancelAll) else ()
        )
        self._calls = writable(self._calls)
        self._calls[handle] = _Call(sent, open_before)

    def feed(self, events: Iterable[SessionEvent], now: float) -> list[int]:
        """Keep ``events`` for the user and route the outcomes; return the handles whose
        calls just completed."""
        if not self._following:
            link = self._session.connection
            self._following = (
                link is not None and link.subscription_state("openOrders") in _FOLLOWING
            )
        caught_up = False
        arrived: list[_Call] = []
        for event in events:
            self._queue.append(event)
            if isinstance(event, RequestOutcome):
                call = self._calls.get(event.handle)
                if call is not None and call.outcome is None:
                    call.outcome = event
                    call.request = event.request
                    call.link = self._session.connection
                    self._held = writable(self._held)
                    self._held[event.handle] = call
                    arrived.append(call)
            elif isinstance(event, SessionClosed | SessionFailed):
                self.ended = event
            elif isinstance(event, Connected | Reconnected):
                caught_up = True  # the snapshot is in and every gap reconciled
        if isinstance(self.ended, SessionFailed):
            for call in arrived:
                if isinstance(call.outcome, RequestNotApplied):
                    call.failed = self.ended  # ended unsent by the failure itself
        return self._settle(now, caught_up, self.ended is not None)

    def expire(self, now: float) -> list[int]:
        """Complete the calls whose outcome has waited ``reflect_timeout`` for the table;
        return their handles."""
        due = [
            handle
            for handle, call in self._held.items()
            if call.hold_until is not None and call.hold_until <= now
        ]
        return self._complete(due)

    def next_deadline(self) -> float | None:
        """When ``expire`` should next be called, or None."""
        held = self._held
        if not held:  # the usual case, asked after every read: no list built for nothing
            return None
        holds = [call.hold_until for call in held.values() if call.hold_until is not None]
        return min(holds, default=None)

    def done(self, handle: int) -> bool:
        """True once the call for ``handle`` may return (its outcome, shown by the table)."""
        call = self._calls.get(handle)
        return call is not None and call.complete

    def forget(self, *handles: int) -> None:
        """Drop calls nobody waits for any more (their waiter was cancelled). Idempotent."""
        for handle in handles:
            self._calls.pop(handle, None)
            self._held.pop(handle, None)

    def result(self, handle: int, timeout: float | None) -> RequestAccepted | RequestApplied:
        """End the call for ``handle``: return its outcome or raise its typed exception.

        Before the outcome is known this raises ``OutcomeUnknownError`` with ``outcome=None``
        (the caller's ``timeout`` ended first). A known outcome the table does not show yet is
        returned all the same: the timeout ended the wait for the table, not the request.
        Raises ``LocalProtocolError`` for a handle not registered (or already ended).
        """
        call = self._calls.pop(handle, None)
        if call is None:
            raise LocalProtocolError(f"result: no order call is waiting for handle {handle!r}")
        self._held.pop(handle, None)
        outcome = call.outcome
        if outcome is None:
            within = "" if timeout is None else f" within {timeout:g} s"
            raise OutcomeUnknownError(
                f"{call.request.event}: no final outcome{within}; it may still happen "
                f"(handle {handle}: watch events() for its outcome)",
                handle=handle,
                request=call.request,
                outcome=None,
            )
        if call.failed is not None and isinstance(outcome, RequestNotApplied):
            raise RequestRefusedError.session_failed(
                call.failed, outcome.request, handle=handle, outcome=outcome
            )
        return result_of(outcome)

    # --- completion ---------------------------------------------------------------------------

    def _settle(self, now: float, caught_up: bool, ended: bool) -> list[int]:
        # Caught up after a (re)connect, the table shows all it ever will of the outcomes
        # that arrived on an earlier link (their updates went with it). An outcome answered
        # on the current link is different: its order's updates follow the snapshot on the
        # same link (subscriptions go out before requests), so it still waits for them.
        link = self._session.connection
        ready: list[int] = []
        for handle, call in self._held.items():
            if ended or (caught_up and call.link is not link) or self._shown(call):
                ready.append(handle)
            elif call.hold_until is None:
                call.hold_until = now + self._reflect_timeout
        return self._complete(ready)

    def _complete(self, handles: list[int]) -> list[int]:
        for handle in handles:
            self._held.pop(handle).complete = True
        return handles

    def _shown(self, call: _Call) -> bool:
        outcome = call.outcome
        if not self._following or not isinstance(outcome, RequestAccepted):
            # Nothing changed (refused, not applied, unknown), the table does not follow the
            # account, or the session reconciled against the table it has (applied).
            return True
        return reflects(self._session.orders, outcome, call.open_before)
