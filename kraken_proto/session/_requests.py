"""The trading requests a session was given, from ``submit`` to their one final outcome.

Each request moves through phases: QUEUED (not sent), SENT (on a link, awaiting its answer),
DOUBT (the answer was lost or late), RECONCILING (REST lookups decide it). An answer ends it
as accepted or refused; a lost answer makes it in doubt until the reconciler (``_reconciler``)
decides; a late reply still wins while that is undecided. Every request ends exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from kraken_proto._connection_events import (
    LateReply,
    RequestCompleted,
    RequestFailed,
    RequestLost,
    RequestOutcomeUnknown,
)
from kraken_proto._connection_state import TokenState
from kraken_proto._errors import LocalProtocolError
from kraken_proto._event_base import KrakenError
from kraken_proto._no_entries import NO_ENTRIES, writable
from kraken_proto._orders import OrderTable
from kraken_proto._request_base import Request
from kraken_proto.v1._requests import (
    CancelAll,
)

from ._context import SessionContext
from ._events import (
    RequestAccepted,
    RequestApplied,
    RequestInDoubt,
    RequestNotApplied,
    RequestOutcome,
    RequestRefused,
    RequestUnresolved,
)
from ._link import Link
from ._tracked import Gate, Phase, Tracked, reply_error, txid_of

__all__ = ["RequestTracker"]

_USABLE_TOKEN = (TokenState.FRESH, TokenState.BOUND)


class RequestTracker:
    """Every request without an outcome, by handle, and the links' ids for them.

    ``tracked`` holds them all; ``queued`` those not sent (in submit order); ``doubts`` those
    whose answer was lost.
    """

    __slots__ = (
        "_by_reqid",
        "_events",
        "_late",
        "_next_batch",
        "_next_handle",
        "_orders",
        "_request_timeout",
        "_wall",
        "doubts",
        "gate",
        "queued",
        "tracked",
    )

    def __init__(self, context: SessionContext, orders: OrderTable) -> None:
        self._events = context.events
        self._orders = orders  # read: what a CancelAll may cancel
        self._request_timeout = context.config.connection.request_timeout
        self._wall = context.wall
        self.tracked: dict[int, Tracked] = NO_ENTRIES  # no order yet
        self.queued: dict[int, Tracked] = NO_ENTRIES
        self.doubts: dict[int, Tracked] = NO_ENTRIES  # usually empty all along
        self._next_handle = 1
        self._next_batch = 1
        self._by_reqid: dict[int, int] = NO_ENTRIES  # the current link's reqid -> handle
        self._late: dict[int, int] = NO_ENTRIES  # timed out on the current link: reqid -> handle
        self.gate: Gate | None = None  # set by the session when it paces orders

    # --- submitting -------------------------------------------------------------------------

    def queue(self, requests: Sequence[Request], *, batch: bool) -> tuple[int, ...]:
        """Queue ``requests`` (as one batch with ``batch``); return their new handles."""
        group = None
        if batch:
            group = self._next_batch
            self._next_batch += 1
        handles: list[int] = []
        for request in requests:
            handle = self._next_handle
            self._next_handle += 1
            tracked = Tracked(handle=handle, request=request, batch=group)
            self.tracked = writable(self.tracked)
            self.tracked[handle] = tracked
            self.queued = writable(self.queued)
            self.queued[handle] = tracked
            handles.append(handle)
        return tuple(handles)

    def number_from(self, handle: int) -> None:
        """Give out handles from ``handle`` on (a journal's ``next_handle``)."""
        self._next_handle = max(self._next_handle, handle)

    def adopt(
        self, handle: int, request: Request, *, sent_at: float, open_at_send: tuple[str, ...]
    ) -> None:
        """Track a request an earlier process sent without learning its outcome: in doubt,
        reconciled on the next link (never sent again); its outcome says ``recovered``."""
        tracked = Tracked(
            handle=handle,
            request=request,
            phase=Phase.DOUBT,
            sent_at=sent_at,
            open_at_send=open_at_send,
            wait_for_connection=True,
            recovered=True,
        )
        self.tracked = writable(self.tracked)
        self.tracked[handle] = tracked
        self.doubts = writable(self.doubts)
        self.doubts[handle] = tracked
        self.number_from(handle + 1)
        self._events.append(
            RequestInDoubt(
                handle=handle,
                request=request,
                reason="the process stopped before the outcome was known",
            )
        )

    def recovering(self) -> bool:
        """True while a request adopted from a journal is undecided (new ones wait)."""
        return any(tracked.recovered for tracked in self.doubts.values())

    def withdraw(self, handle: int) -> bool:
        """End a request not sent yet as ``RequestNotApplied(via="withdrawn")``; False when it
        was sent or has ended. Raises ``LocalProtocolError`` for a handle never given out."""
        if (
            isinstance(handle, bool)
            or not isinstance(handle, int)
            or not (0 < handle < self._next_handle)
        ):
            raise LocalProtocolError(f"withdraw: unknown handle {handle!r}")
        tracked = self.tracked.get(handle)
        if tracked is None or tracked.phase is not Phase.QUEUED:
            return False
        self.finish(
            tracked, RequestNotApplied(handle=handle, request=tracked.request, via="withdrawn")
        )
        return True

    def send_queued(
        self,
        link: Link,
        now: float,
        before_send: Callable[[list[Tracked], tuple[str, ...]], None] | None = None,
    ) -> bool:
        """Send what is queued on ``link``, in submit order, the rows of a batch together; a
        request the link refuses to send ends as ``RequestRefused``. Returns False (sending
        nothing) while the link has no usable token. ``before_send(group, open_at_send)``
        runs just before each group goes to the link (the journal's write-ahead)."""
        if link.token_state not in _USABLE_TOKEN:
            return False
        gate = self.gate
        if gate is not None:
            gate.begin()
        for first in list(self.queued.values()):
            if first.handle not in self.queued:
                continue  # went out with its batch
            group = [first]
            if first.batch is not None:
                group = [t for t in self.queued.values() if t.batch == first.batch]
            if gate is not None and not gate.admit(group, now):
                continue  # held: it and what must follow it stay queued
            open_now = (
                tuple(self._orders.open_orders()) if isinstance(first.request, CancelAll) else ()
            )
            sent: Sequence[int | LocalProtocolError]
            if before_send is not None:
                before_send(group, open_now)
            try:
                if len(group) > 1:
                    rows = [t.request for t in group]
                    sent = link.send_batch(rows, now)  # type: ignore[arg-type]
                else:
                    sent = (link.send(first.request, now),)
            except LocalProtocolError as error:
                sent = (error,) * len(group)
            for tracked, reqid in zip(group, sent, strict=True):
                if isinstance(reqid, LocalProtocolError):
                    error_text = f"refused before sending: {reqid}"
                    self.finish(
                        tracked,
                        RequestRefused(
                            handle=tracked.handle,
                            request=tracked.request,
                            replies=(),
                            error=KrakenError.parse(error_text),
                        ),
                    )
                    continue
                del self.queued[tracked.handle]
                tracked.phase = Phase.SENT
                tracked.reqid = reqid
                tracked.sent_at = self._wall.wall(now)
                tracked.open_at_send = open_now
                self._by_reqid = writable(self._by_reqid)
                self._by_reqid[reqid] = tracked.handle
        return True

    # --- outcomes ---------------------------------------------------------------------------

    def finish(self, tracked: Tracked, outcome: RequestOutcome) -> None:
        """End ``tracked`` with ``outcome`` (its one final event)."""
        if tracked.recovered:
            outcome = msgspec.structs.replace(outcome, recovered=True)
        self.tracked.pop(tracked.handle, None)
        self.queued.pop(tracked.handle, None)
        self.doubts.pop(tracked.handle, None)
        self._events.append(outcome)
        if self.gate is not None:
            self.gate.finished(outcome)

    def applied(self, tracked: Tracked, txid: str | None, via: str) -> None:
        """End ``tracked`` as ``RequestApplied``: Kraken's records (``via``) show it took effect."""
        self.finish(
            tracked,
            RequestApplied(handle=tracked.handle, request=tracked.request, txid=txid, via=via),
        )

    def not_applied(self, tracked: Tracked, via: str) -> None:
        """End ``tracked`` as ``RequestNotApplied``: Kraken's records show it did not."""
        self.finish(
            tracked, RequestNotApplied(handle=tracked.handle, request=tracked.request, via=via)
        )

    def unresolved(self, tracked: Tracked, reason: str) -> None:
        """End ``tracked`` as ``RequestUnresolved``: its outcome cannot be known."""
        self.finish(
            tracked,
            RequestUnresolved(handle=tracked.handle, request=tracked.request, reason=reason),
        )

    def in_doubt(self, tracked: Tracked) -> bool:
        """True while ``tracked`` is still an undecided doubt (no late reply ended it)."""
        return self.doubts.get(tracked.handle) is tracked

    def stop_all(self) -> None:
        """The session stops: what was never sent is not applied, the rest unresolved."""
        for tracked in list(self.tracked.values()):
            if tracked.phase is Phase.QUEUED:
                outcome: RequestOutcome = RequestNotApplied(
                    handle=tracked.handle, request=tracked.request, via="never sent"
                )
            else:
                outcome = RequestUnresolved(
                    handle=tracked.handle,
                    request=tracked.request,
                    reason="the session stopped before the outcome was known",
                )
            self.finish(tracked, outcome)

    # --- what the link reported -------------------------------------------------------------

    def _sent(self, reqid: int) -> Tracked | None:
        handle = self._by_reqid.pop(reqid, None)
        tracked = None if handle is None else self.tracked.get(handle)
        if tracked is None or tracked.phase is not Phase.SENT:
            return None
        return tracked

    def answered(self, event: RequestCompleted | RequestFailed) -> None:
        """The link has the answer to a request: accepted or refused."""
        tracked = self._sent(event.reqid)
        if tracked is None:
            return
        if isinstance(event, RequestCompleted):
            outcome: RequestOutcome = RequestAccepted(
                handle=tracked.handle,
                request=tracked.request,
                replies=event.replies,
                txid=txid_of(event.replies),
            )
        else:
            outcome = RequestRefused(
                handle=tracked.handle,
                request=tracked.request,
                replies=event.replies,
                error=event.error,
            )
        self.finish(tracked, outcome)

    def unknown(self, event: RequestOutcomeUnknown, now: float) -> None:
        """A request's answer was lost (with the link) or is late: it is in doubt."""
        tracked = self._sent(event.reqid)
        if tracked is None:
            return
        tracked.phase = Phase.DOUBT
        self.doubts = writable(self.doubts)
        self.doubts[tracked.handle] = tracked
        if isinstance(event, RequestLost):
            tracked.wait_for_connection = True
            reason = "the connection was lost before the answer came"
        else:
            # A late answer may still come; reconcile if it does not.
            self._late = writable(self._late)
            self._late[event.reqid] = tracked.handle
            tracked.reconcile_at = now + self._request_timeout
            reason = "no answer within the request timeout"
        self._events.append(
            RequestInDoubt(handle=tracked.handle, request=tracked.request, reason=reason)
        )

    def late_reply(self, event: LateReply) -> None:
        """A timed-out request's reply came after all: it wins over any reconciling."""
        handle = self._late.pop(event.reqid, None)
        tracked = None if handle is None else self.doubts.get(handle)
        if tracked is None:
            return
        error = reply_error(event.reply)
        if error is None:
            outcome: RequestOutcome = RequestAccepted(
                handle=tracked.handle,
                request=tracked.request,
                replies=(event.reply,),
                txid=txid_of((event.reply,)),
            )
        else:
            outcome = RequestRefused(
                handle=tracked.handle, request=tracked.request, replies=(event.reply,), error=error
            )
        self.finish(tracked, outcome)

    # --- across links -----------------------------------------------------------------------

    def forget_link(self) -> None:
        """A link ended or a new one began: its request ids mean nothing any more."""
        self._by_reqid = NO_ENTRIES
        self._late = NO_ENTRIES

    def link_lost(self) -> None:
        """The link is gone: no late reply can come, so timed-out requests wait for the next
        link to be reconciled."""
        for tracked in self.doubts.values():
            if tracked.reconcile_at is not None:
                tracked.reconcile_at = None
                tracked.wait_for_connection = True
        self.forget_link()

    def due(self, now: float) -> list[Tracked]:
        """The timed-out requests whose grace for a late reply is over at ``now``."""
        due = []
        for tracked in self.doubts.values():
            if tracked.reconcile_at is not None and now >= tracked.reconcile_at:
                tracked.reconcile_at = None
                due.append(tracked)
        return due

    def waiting_for_link(self) -> list[Tracked]:
        """The doubts left by a lost link, now to be reconciled (each returned once)."""
        ready = []
        for tracked in self.doubts.values():
            if tracked.wait_for_connection and tracked.phase is Phase.DOUBT:
                tracked.wait_for_connection = False
                ready.append(tracked)
        return ready

    def unsettled(self) -> bool:
        """True while a doubt waits for a link or is being reconciled (not LIVE yet)."""
        return any(
            tracked.wait_for_connection or tracked.phase is Phase.RECONCILING
            for tracked in self.doubts.values()
        )
