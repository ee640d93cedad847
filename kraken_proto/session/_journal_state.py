"""The journal's folded state, the fold (records -> state) and pruning, all pure.

``fold(records)`` replays records in order into a ``JournalState``: what a restarted session
needs (open intents, fills to deliver again, trade ids already seen, the fill cursor,
subscriptions, the nonce high-water mark, the next free handle) and what a person wants to see
(settled intents with their outcomes, recent fills). ``fold(more, start=state)`` goes on from a
state, so folding a prefix and then the rest equals folding everything.

``prune_records(records, before)`` is what pruning keeps: everything but intents settled
before ``before`` (their outcome recorded earlier), acknowledgements made before ``before``
(with the fills they acknowledged), subscriptions replaced since, and nonce and checkpoint
records, whose marks move into one new ``Checkpoint``. It never changes ``open_view()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kraken_proto.v1._requests import Subscribe

from ._journal_records import (
    Checkpoint,
    FillAcknowledged,
    FillCursor,
    FillDelivered,
    IntentRecorded,
    JournalCorruptError,
    JournalRecord,
    NonceRecorded,
    OutcomeRecorded,
    SubscriptionRecorded,
)

__all__ = ["JournalMarks", "JournalState", "advance_marks", "fold", "prune_records"]


@dataclass(frozen=True, slots=True)
class JournalMarks:
    """The values that only move forward, and survive pruning in a ``Checkpoint``.

    ``next_handle``: above every handle recorded (a restarted session numbers its requests
    from here, so handles never repeat within a journal). ``nonce_high_water``: the greatest
    nonce recorded (seed ``NonceSource(last=...)`` with it). ``cursor``: the latest fill
    delivered, by trade time (REST backfill resumes from it), or None.
    """

    next_handle: int = 1
    nonce_high_water: int = 0
    cursor: FillCursor | None = None

    def checkpoint(self, at: float) -> Checkpoint:
        """These marks as a record."""
        return Checkpoint(
            at=at,
            next_handle=self.next_handle,
            nonce_high_water=self.nonce_high_water,
            cursor=self.cursor,
        )


def _later(cursor: FillCursor | None, candidate: FillCursor | None) -> FillCursor | None:
    if candidate is None or (cursor is not None and candidate.key() <= cursor.key()):
        return cursor
    return candidate


def advance_marks(marks: JournalMarks, record: JournalRecord) -> JournalMarks:
    """``marks`` after ``record`` (the same object when it changes nothing). Order does not
    matter: every mark is a maximum."""
    next_handle, nonce, cursor = marks.next_handle, marks.nonce_high_water, marks.cursor
    if isinstance(record, IntentRecorded | OutcomeRecorded):
        next_handle = max(next_handle, record.handle + 1)
    elif isinstance(record, FillDelivered):
        cursor = _later(cursor, record.cursor())
    elif isinstance(record, NonceRecorded):
        nonce = max(nonce, record.nonce)
    elif isinstance(record, Checkpoint):
        next_handle = max(next_handle, record.next_handle)
        nonce = max(nonce, record.nonce_high_water)
        cursor = _later(cursor, record.cursor)
    if (next_handle, nonce, cursor) == (marks.next_handle, marks.nonce_high_water, marks.cursor):
        return marks
    return JournalMarks(next_handle=next_handle, nonce_high_water=nonce, cursor=cursor)


@dataclass(frozen=True, slots=True)
class JournalState:
    """What the journal's records say, folded. Read it; do not change its mappings.

    ``intents``: every intent still in the journal, by handle, in the order recorded.
    ``outcomes``: the first outcome recorded for each handle. ``fills``: the fills delivered
    and still in the journal, by trade id, in delivery order. ``acked``: trade ids the user
    acknowledged, with the time of the (latest) acknowledgement. ``subscriptions``: the
    channels subscribed, by name. ``marks``: see ``JournalMarks``.
    """

    intents: Mapping[int, IntentRecorded] = field(default_factory=dict)
    outcomes: Mapping[int, OutcomeRecorded] = field(default_factory=dict)
    fills: Mapping[str, FillDelivered] = field(default_factory=dict)
    acked: Mapping[str, float] = field(default_factory=dict)
    subscriptions: Mapping[str, Subscribe] = field(default_factory=dict)
    marks: JournalMarks = field(default_factory=JournalMarks)

    @property
    def open_intents(self) -> dict[int, IntentRecorded]:
        """Intents without an outcome: requests that may have reached Kraken and whose
        outcome nobody was told. A restarted session reconciles them (never re-sends)."""
        outcomes = self.outcomes
        return {handle: i for handle, i in self.intents.items() if handle not in outcomes}

    @property
    def unacked(self) -> dict[str, FillDelivered]:
        """Fills delivered but not acknowledged, in delivery order: a restarted session
        delivers them again, marked as redelivered."""
        acked = self.acked
        return {tid: fill for tid, fill in self.fills.items() if tid not in acked}

    @property
    def seen_trade_ids(self) -> tuple[str, ...]:
        """Every trade id delivered or acknowledged that is still in the journal, each once,
        oldest first: a restarted session must not report these as new fills (seed its
        ``FillLog`` with them, in this order).

        The order matters when the ``FillLog`` window is smaller than this: it keeps the last
        ids given, which must be the newest trades, the ones an ownTrades snapshot repeats.
        So: ids only acknowledged (their delivery pruned) first, then the delivered ones by
        trade time (undated ones as the newest), delivery order breaking ties.
        """
        fills = self.fills
        older = [trade_id for trade_id in self.acked if trade_id not in fills]
        return (*older, *sorted(fills, key=lambda trade_id: _trade_time(fills[trade_id])))

    @property
    def next_handle(self) -> int:
        """``marks.next_handle``."""
        return self.marks.next_handle

    @property
    def nonce_high_water(self) -> int:
        """``marks.nonce_high_water``."""
        return self.marks.nonce_high_water

    @property
    def cursor(self) -> FillCursor | None:
        """``marks.cursor``."""
        return self.marks.cursor

    def open_view(self) -> tuple[Any, ...]:
        """What a restart depends on (pruning never changes it): open intents, unacknowledged
        fills, subscriptions and marks."""
        return (self.open_intents, self.unacked, dict(self.subscriptions), self.marks)


def _trade_time(fill: FillDelivered) -> Decimal:
    time = fill.trade.time
    return time if time is not None and time.is_finite() else _NEWEST


_NEWEST = Decimal("Infinity")


def fold(records: Iterable[JournalRecord], start: JournalState | None = None) -> JournalState:
    """The state after ``records``, from ``start`` (an empty journal by default).

    Raises ``JournalCorruptError`` when an intent's handle was recorded before (a session
    must number from ``next_handle``; two intents under one handle cannot be told apart).
    Everything else is accepted: a second outcome for a handle is ignored (the first is
    final), an outcome without an intent is kept (its intent was pruned or never sent), a
    fill delivered again after its acknowledgement stays acknowledged.
    """
    base = start if start is not None else JournalState()
    intents = dict(base.intents)
    outcomes = dict(base.outcomes)
    fills = dict(base.fills)
    acked = dict(base.acked)
    subscriptions = dict(base.subscriptions)
    marks = base.marks
    for record in records:
        if isinstance(record, IntentRecorded):
            if record.handle in intents:
                raise JournalCorruptError(f"journal: handle {record.handle} recorded twice")
            intents[record.handle] = record
        elif isinstance(record, OutcomeRecorded):
            outcomes.setdefault(record.handle, record)
        elif isinstance(record, FillDelivered):
            if record.trade_id not in fills and record.trade_id not in acked:
                fills[record.trade_id] = record
        elif isinstance(record, FillAcknowledged):
            acked[record.trade_id] = max(record.at, acked.get(record.trade_id, record.at))
        elif isinstance(record, SubscriptionRecorded):
            if record.request is None:
                subscriptions.pop(record.name, None)
            else:
                subscriptions[record.name] = record.request
        marks = advance_marks(marks, record)
    return JournalState(
        intents=intents,
        outcomes=outcomes,
        fills=fills,
        acked=acked,
        subscriptions=subscriptions,
        marks=marks,
    )


def prune_records(records: Iterable[JournalRecord], before: float) -> tuple[JournalRecord, ...]:
    """The records pruning keeps, led by a ``Checkpoint`` of the marks (``at=before``).

    Dropped: intents and outcomes of every handle with an outcome recorded before ``before``;
    acknowledgements recorded before ``before``, and the fills of trade ids whose latest
    acknowledgement is that old; every subscription record but the last for its channel;
    nonce and checkpoint records. ``fold`` of the result has the same ``open_view()`` and
    the same intents, outcomes and acknowledgements from ``before`` on.
    """
    kept = list(records)
    state = fold(kept)
    settled = {r.handle for r in kept if isinstance(r, OutcomeRecorded) and r.at < before}
    stale_acks = {trade_id for trade_id, at in state.acked.items() if at < before}
    last_subscription: dict[str, int] = {}
    for index, record in enumerate(kept):
        if isinstance(record, SubscriptionRecorded):
            last_subscription[record.name] = index

    def keep(index: int, record: JournalRecord) -> bool:
        if isinstance(record, IntentRecorded | OutcomeRecorded):
            return record.handle not in settled
        if isinstance(record, FillDelivered):
            return record.trade_id not in stale_acks
        if isinstance(record, FillAcknowledged):
            return record.at >= before
        if isinstance(record, SubscriptionRecorded):
            return last_subscription[record.name] == index
        return False  # nonce and checkpoint records: their marks go into the new checkpoint

    checkpoint = state.marks.checkpoint(before)
    return (checkpoint, *(record for index, record in enumerate(kept) if keep(index, record)))
