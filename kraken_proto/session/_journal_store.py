"""``JournalStore`` (what a journal's storage must do) and ``InMemoryJournal`` (for tests).

The SQLite store lives in the adapters (``kraken_proto.adapters.journal.SqliteJournal``);
this module defines the contract it meets and a pure store that models a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ._journal_codec import decode_record, encode_record
from ._journal_records import JournalError, JournalRecord
from ._journal_state import JournalState, fold, prune_records

__all__ = ["InMemoryJournal", "JournalStore"]


@runtime_checkable
class JournalStore(Protocol):
    """Durable, append-only storage of one session's records.

    Contract (every store, the tests check both):

    * ``append(records, sync=...)`` adds ``records`` after every record appended before,
      atomically: after a crash either all of them are there or none. Records come back from
      ``load`` exactly as appended (same values, Decimal digits included).
    * ``sync=True`` returns only once these records and every earlier one are durable
      (survive a power loss). ``sync=False`` records survive a crash of the process; a power
      loss may lose them, but only as a suffix: never a record while a later one stays.
    * ``load()`` folds everything appended (and not pruned) into a ``JournalState``.
    * ``prune(before)`` drops what ``prune_records`` drops; the open state
      (``JournalState.open_view()``) does not change.
    * ``close()`` releases the store (and its lock); a closed store accepts nothing more.

    A failed ``append`` raises (``OSError``, ``JournalError``); the caller must then not act
    as if the records were written.
    """

    def append(self, records: Sequence[JournalRecord], *, sync: bool) -> None:
        """Add ``records`` in order; durable before returning when ``sync``."""
        ...

    def load(self) -> JournalState:
        """The folded state of every record in the journal."""
        ...

    def prune(self, before: float) -> None:
        """Drop records settled before ``before`` (see ``prune_records``)."""
        ...

    def close(self) -> None:
        """Release the store; idempotent."""
        ...


class InMemoryJournal:
    """A ``JournalStore`` in memory that forgets what was not synced when it ``crash``es.

    Records go through the codec both ways, so a record that would not survive a real
    store does not survive this one either. ``append(..., sync=False)`` records are pending
    until a later ``sync=True`` append, ``sync()`` or ``prune``; ``crash(keep=n)`` keeps the
    first ``n`` pending records (a write that got that far) and drops the rest, then the
    store is usable again, like a file reopened after a restart. Crash-point tests append,
    crash at any point, build a new session from ``load()`` and check the guarantees.
    """

    __slots__ = ("_closed", "_durable", "_pending", "appends", "syncs")

    def __init__(self, records: Sequence[JournalRecord] = ()) -> None:
        """A journal that already holds ``records`` (durable)."""
        self._durable: list[bytes] = [encode_record(record) for record in records]
        self._pending: list[bytes] = []
        self._closed = False
        self.appends = 0
        """How many ``append`` calls were made (the number of write transactions)."""
        self.syncs = 0
        """How many appends asked for ``sync`` (the number of flushes to stable storage)."""

    def append(self, records: Sequence[JournalRecord], *, sync: bool) -> None:
        """See ``JournalStore.append``. Raises ``JournalError`` once closed."""
        self._check_open()
        encoded = [encode_record(record) for record in records]  # all or nothing
        self._pending.extend(encoded)
        self.appends += 1
        if sync:
            self.syncs += 1
            self.sync()

    def sync(self) -> None:
        """Make every pending record durable (what an fsync does)."""
        self._durable.extend(self._pending)
        self._pending.clear()

    def crash(self, keep: int = 0) -> None:
        """Model a power loss: keep the first ``keep`` pending records, drop the rest."""
        if keep < 0:
            raise ValueError("keep: must be >= 0")
        self._durable.extend(self._pending[:keep])
        self._pending.clear()
        self._closed = False

    def __len__(self) -> int:
        """How many records the journal holds, durable and pending."""
        return len(self._durable) + len(self._pending)

    @property
    def pending(self) -> int:
        """How many appended records are not durable yet."""
        return len(self._pending)

    def records(self) -> list[JournalRecord]:
        """Every record in the journal, durable first, in order (decoded afresh)."""
        return [decode_record(data) for data in (*self._durable, *self._pending)]

    def load(self) -> JournalState:
        """See ``JournalStore.load``: the state of durable and pending records."""
        return fold(self.records())

    def prune(self, before: float) -> None:
        """See ``JournalStore.prune``; the pruned journal is durable."""
        self._check_open()
        kept = prune_records(self.records(), before)
        self._durable = [encode_record(record) for record in kept]
        self._pending.clear()

    def close(self) -> None:
        """Stop accepting records (a crash reopens it); idempotent."""
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise JournalError("journal: the store is closed")

    def __repr__(self) -> str:
        return f"<InMemoryJournal durable={len(self._durable)} pending={len(self._pending)}>"
