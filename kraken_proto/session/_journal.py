"""The session journal (issue 16): the session's promises carried across crashes and restarts.

Within one process a ``Session`` reports every fill once, never places an order twice, and
reports an unknown outcome as unknown, then resolves it. The journal carries that across a
crash: the session *writes ahead* (the intent of a trading request is durable before the
request is written to the socket) and records outcomes, fills, acknowledgements,
subscriptions and nonces as they happen. A restarted session folds the records into a
``JournalState`` and starts from it.

The parts, all pure (the SQLite store and the shared nonce file are in
``kraken_proto.adapters.journal``):

* records (``_journal_records``): ``IntentRecorded``, ``OutcomeRecorded``, ``FillDelivered``,
  ``FillAcknowledged``, ``SubscriptionRecorded``, ``NonceRecorded``, ``Checkpoint``; the
  ``PersistRecords`` action; ``needs_sync`` (which records must be durable at once);
  ``outcome_record`` and ``fill_record`` (records from the session's events);
* the codec (``_journal_codec``): ``encode_record``/``decode_record``, exact Decimals;
* the state (``_journal_state``): ``fold``, ``JournalState``, ``JournalMarks``,
  ``prune_records``;
* stores (``_journal_store``): the ``JournalStore`` protocol and ``InMemoryJournal``, which
  loses unsynced records on ``crash()``.

Wiring it into the session (for the integrator)
-----------------------------------------------

1. **Construction.** ``Session(..., journal: JournalState | None = None)``; ``None`` keeps
   today's behaviour (no ``PersistRecords`` at all). From a state:

   * number handles from ``state.next_handle`` (handles never repeat in one journal; ``fold``
     refuses an intent handle recorded twice);
   * nonces: without an explicit source, ``NonceSource(last=state.nonce_high_water)``;
   * subscriptions: ``state.subscriptions`` (resubscribed on the first connection);
   * fills: mark every ``state.seen_trade_ids`` as seen in the ``FillLog``; set the fill
     cursor to ``state.cursor.time`` and ask for a backfill (``_want_backfill``) so REST
     ``TradesHistory`` covers the downtime; queue ``FillReceived(..., redelivered=True)``
     for each of ``state.unacked`` (in order) before anything else;
   * intents: each of ``state.open_intents`` becomes a tracked request in doubt (phase
     DOUBT, ``wait_for_connection=True``, ``sent_at=intent.at``,
     ``open_at_send=intent.open_at_send``) with a ``RequestInDoubt`` event ("the process
     stopped before the outcome was known"); the first connection's openOrders snapshot
     releases them to reconciliation as today. Never re-send them.

2. **Write ahead.** In ``_send_queued``, before ``connection.send``/``send_batch`` of a
   group, append ``PersistRecords.of(IntentRecorded(at=now, handle=..., request=...,
   open_at_send=...) for each)`` to the actions. It lands before the ``SendMessages`` that
   ``_flush`` adds afterwards, and is ``sync`` (intents are durable records).

3. **Outcomes.** Where ``_finish`` appends a ``RequestOutcome`` event, also append
   ``PersistRecords.of([outcome_record(outcome, now)])`` (``_finish`` needs ``now``).
   Suggested exception: ``_stop``'s "stopped before the outcome was known" unresolved
   outcomes are *not* recorded, so the next run reconciles those requests instead of
   leaving them unknown for good.

4. **Fills.** In ``_deliver_fills``, ``PersistRecords.of(fill_record(event, now) ...)``
   for the new fills (not durable: a fill lost with the power is backfilled again, as it
   was never acknowledged). A new ``Session.acknowledge(trade_ids, now)`` appends
   ``PersistRecords.of(FillAcknowledged(...) ...)`` (durable). Runners acknowledge a fill
   once the user's code has taken it (the next iteration of the event loop, or an explicit
   call).

5. **Subscriptions and nonces.** ``subscribe`` records ``SubscriptionRecorded``; each REST
   nonce drawn (``RestQueue.pump``) is recorded with ``NonceRecorded`` (durable) before
   its ``HttpCall``.

6. **Runners.** Carry out ``PersistRecords`` with ``store.append(action.records,
   sync=action.sync)`` in order with the other actions, and route the events of a call
   only after its actions ran. If ``append`` raises, stop: close the socket without
   writing anything more and re-raise. Open the store before the session
   (``SqliteJournal(path, retention=...)``: one file per session), build the session from
   ``store.load()``, close the store after the session closed. Several processes on one
   API key share ``SharedNonceSource``/``SharedRestCallCounter`` (adapters).
"""

from __future__ import annotations

from ._journal_codec import JOURNAL_FORMAT, decode_record, encode_record
from ._journal_records import (
    DURABLE_RECORDS,
    TRADING_REQUESTS,
    Checkpoint,
    FillAcknowledged,
    FillCursor,
    FillDelivered,
    IntentRecorded,
    JournalCorruptError,
    JournalError,
    JournalLockedError,
    JournalRecord,
    JournalVersionError,
    NonceRecorded,
    OutcomeKind,
    OutcomeRecorded,
    PersistRecords,
    SubscriptionRecorded,
    fill_record,
    needs_sync,
    outcome_record,
)
from ._journal_state import JournalMarks, JournalState, advance_marks, fold, prune_records
from ._journal_store import InMemoryJournal, JournalStore

__all__ = [
    "DURABLE_RECORDS",
    "JOURNAL_FORMAT",
    "TRADING_REQUESTS",
    "Checkpoint",
    "FillAcknowledged",
    "FillCursor",
    "FillDelivered",
    "InMemoryJournal",
    "IntentRecorded",
    "JournalCorruptError",
    "JournalError",
    "JournalLockedError",
    "JournalMarks",
    "JournalRecord",
    "JournalState",
    "JournalStore",
    "JournalVersionError",
    "NonceRecorded",
    "OutcomeKind",
    "OutcomeRecorded",
    "PersistRecords",
    "SubscriptionRecorded",
    "advance_marks",
    "decode_record",
    "encode_record",
    "fill_record",
    "fold",
    "needs_sync",
    "outcome_record",
    "prune_records",
]
