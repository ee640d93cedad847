"""The session's side of the journal (issue 16): what it records, and how it starts from one.

``JournalWire`` turns what the session does into ``PersistRecords`` actions, in order with
the other actions: an ``IntentRecorded`` just before a trading request goes to the link (so
it lands before the ``SendMessages`` that carries it: write-ahead), and after each input the
outcomes and fills the input produced, the subscriptions asked for, the REST nonces drawn and
the fills the user acknowledged. ``restore`` seeds the session's parts from a folded
``JournalState``: handles, seen trade ids, the fill cursor, the subscriptions, the intents
to reconcile and the fills to deliver again.

Without a journal (``state is None``) nothing is recorded and nothing changes, except that
``ack`` is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from kraken_proto.v1._requests import Subscribe
from kraken_proto.v2._requests import Subscribe as V2Subscribe

from ._context import SessionContext
from ._events import FillReceived, RequestOutcome, RequestUnresolved, SessionEvent
from ._fill_feed import FillFeed
from ._journal_records import (
    Checkpoint,
    FillAcknowledged,
    FillCursor,
    IntentRecorded,
    JournalRecord,
    NonceRecorded,
    OutcomeRecorded,
    PersistRecords,
    SubscriptionRecorded,
    fill_record,
    outcome_record,
)
from ._journal_state import JournalState
from ._requests import RequestTracker
from ._tracked import Tracked

__all__ = ["STOPPED_UNKNOWN", "JournalWire"]

STOPPED_UNKNOWN = "the session stopped before the outcome was known"
"""The reason of the outcomes ``close`` gives to requests in flight: not recorded, so that the
next process reconciles them instead of leaving them unknown for good."""


class JournalWire:
    """Records the session's progress as ``PersistRecords`` (when it has a journal).

    ``unacked``: the fills handed out and not acknowledged yet, in delivery order (with a
    journal only).
    ``auto_ack``: acknowledge the fills one ``events()`` call returned at the next one.
    """

    __slots__ = (
        "_actions",
        "_events",
        "_fills",
        "_handed",
        "_handed_outcomes",
        "_now",
        "_scanned",
        "_skipped",
        "auto_ack",
        "backfill_pending",
        "enabled",
        "outcomes",
        "unacked",
    )

    def __init__(self, context: SessionContext, state: JournalState | None) -> None:
        self.enabled = state is not None
        self.auto_ack = True
        self._actions = context.actions
        self._events = context.events
        self._scanned = 0  # the events already looked at (an index into the events list)
        self._now = 0.0  # the latest input's time (records made outside an input use it)
        if state is not None:  # without a journal these are never read: not allocated
            self.unacked: dict[str, None] = {}
            self.outcomes: dict[int, OutcomeRecorded] = {}  # produced, not taken by the user
            self._handed: list[str] = []  # fills the last events() returned
            self._handed_outcomes: list[int] = []  # outcomes the last events() returned
        self.backfill_pending = False  # a journal cursor waits for ownTrades to backfill
        self._fills: FillFeed | None = None  # set by restore (with a journal)
        self._skipped = False  # fills recorded since that did not advance the cursor

    def restore(
        self,
        state: JournalState,
        *,
        requests: RequestTracker,
        fills: FillFeed,
        subscriptions: dict[str, Subscribe | V2Subscribe],
    ) -> None:
        """Start from ``state``: number handles after it, reconcile its open intents, skip its
        trade ids, deliver its unacknowledged fills again, resubscribe, backfill from its
        cursor."""
        self._fills = fills
        requests.number_from(state.next_handle)
        unacked = state.unacked
        for trade_id, fill in unacked.items():
            self._events.append(
                FillReceived(
                    trade_id=trade_id, trade=fill.trade, source=fill.source, redelivered=True
                )
            )
            self.unacked[trade_id] = None
        for handle, intent in state.open_intents.items():
            requests.adopt(
                handle, intent.request, sent_at=intent.at, open_at_send=intent.open_at_send
            )
        self._scanned = len(self._events)  # already in the journal: not recorded again
        fills.log.remember(state.seen_trade_ids)
        fills.recall((trade_id, fill.trade) for trade_id, fill in state.fills.items())
        # Fills since the latest one delivered (or, with none, since the first request the
        # journal holds) are new: backfilled, and not "history" in the first snapshot.
        since = None if state.cursor is None else state.cursor.time
        if since is None and state.intents:
            since = Decimal(repr(min(intent.at for intent in state.intents.values())))
        if since is not None:
            fills.cursor = since
            fills.cursor_id = None if state.cursor is None else state.cursor.trade_id
            fills.history_until = since
            self.backfill_pending = True
        subscriptions.update(state.subscriptions)

    # --- records ------------------------------------------------------------------------

    def _persist(self, records: Sequence[JournalRecord]) -> None:
        if records:
            self._actions.append(PersistRecords.of(records))

    def intents(self, group: list[Tracked], open_at_send: tuple[str, ...], now: float) -> None:
        """``group`` goes to the link next: its intents first (``before_send``)."""
        self._persist(
            [
                IntentRecorded(
                    at=now,
                    handle=tracked.handle,
                    request=tracked.request,
                    open_at_send=open_at_send,
                )
                for tracked in group
            ]
        )

    def subscribed(self, request: Subscribe | V2Subscribe, now: float) -> None:
        """The session subscribes to ``request`` (now and after every reconnect). v2's
        ``balances`` is not journalled: it carries no fills or orders, so nothing the promise
        covers depends on it (a restarted bot subscribes again)."""
        if self.enabled and isinstance(request, Subscribe):
            self._persist([SubscriptionRecorded(at=now, name=request.name, request=request)])

    def nonce(self, nonce: int, now: float) -> None:
        """A REST call signed with ``nonce`` goes out next."""
        if self.enabled:
            self._persist([NonceRecorded(at=now, nonce=nonce)])

    def scan(self, now: float | None = None) -> None:
        """Record the outcomes and fills produced since the last scan (after an input;
        ``None``: at the latest input's time)."""
        if now is None:
            now = self._now
        self._now = now
        fills = self._fills
        if fills is None:  # no journal
            return
        # Fills delivered while a backfill is wanted or running do not move the journal's
        # cursor (older ones may still be missing: a restart must backfill from before
        # them). Once it is done, every fill up to the session's cursor has been delivered:
        # that cursor is recorded if such fills skipped it.
        held = fills.held
        records: list[JournalRecord] = []
        events = self._events
        if self._scanned < len(events):
            for event in events[self._scanned :]:
                if isinstance(event, FillReceived):
                    records.append(fill_record(event, now, advances=not held))
                    self.unacked[event.trade_id] = None
                    self._skipped |= held
                elif isinstance(event, RequestOutcome) and not (
                    isinstance(event, RequestUnresolved) and event.reason == STOPPED_UNKNOWN
                ):
                    # Recorded once the user has taken it (``ack``): a crash before that
                    # leaves the intent open, and the next process reports the outcome again.
                    self.outcomes[event.handle] = outcome_record(event, now)
            self._scanned = len(events)
        if self._skipped and not held:
            self._skipped = False
            if fills.cursor_id is not None:  # else no delivered fill had a time
                assert fills.cursor is not None  # set together with cursor_id
                cursor = FillCursor(trade_id=fills.cursor_id, time=fills.cursor)
                records.append(Checkpoint(at=now, cursor=cursor))
        if records:
            # Durable before the user sees them: a fill the journal lost would come back
            # from the backfill unflagged.
            self._actions.append(PersistRecords(records=tuple(records), sync=True))

    # --- acknowledging --------------------------------------------------------------------

    def drained(self, events: list[SessionEvent]) -> None:
        """``events()`` returned ``events``: with ``auto_ack``, the fills the previous call
        returned are acknowledged now (the caller came back for more). Call ``scan`` before
        the events list is emptied."""
        self._scanned = 0
        if not self.enabled or not self.auto_ack:
            return
        self.ack(self._handed, self._now, handles=self._handed_outcomes)
        self._handed = [e.trade_id for e in events if isinstance(e, FillReceived)]
        self._handed_outcomes = [e.handle for e in events if isinstance(e, RequestOutcome)]

    def ack(
        self, trade_ids: Iterable[str] | None, now: float, handles: Iterable[int] | None = None
    ) -> None:
        """Acknowledge fills ``trade_ids`` and outcomes ``handles`` (both None: everything
        produced so far): neither is delivered again after a restart. Unknown ids are
        skipped."""
        if not self.enabled:
            return
        unacked, pending = self.unacked, self.outcomes
        if trade_ids is None and handles is None:
            trade_ids, handles = list(unacked), list(pending)
        ids = [t for t in trade_ids or () if t in unacked]
        for trade_id in ids:
            del unacked[trade_id]
        records: list[JournalRecord] = [
            pending.pop(handle) for handle in handles or () if handle in pending
        ]
        records.extend(FillAcknowledged(at=now, trade_id=trade_id) for trade_id in ids)
        self._persist(records)
