"""The session journal's I/O side (issue 16): the SQLite store and per-key shared state.

* ``SqliteJournal(path, retention=...)``: the ``JournalStore`` a runner uses, one SQLite file
  per session, exclusively locked while open (``JournalLockedError`` for a second opener);
  ``read_journal``/``read_records`` read one without the lock (``kraken-proto journal``).
* ``SharedNonceSource(directory, api_key)`` and ``SharedRestCallCounter(directory, api_key)``:
  one API key's nonces and REST call budget shared by every process on the machine.
* ``SqliteFillLedger(directory, api_key)``: the key's ``FillLedger``, the fills its sessions
  received live, so that one session's backfill need not ask REST for what another saw.

The records, the fold, the store protocol and ``InMemoryJournal`` are pure and live in
``kraken_proto.session._journal``; its errors are re-exported here for convenience.
"""

from __future__ import annotations

from kraken_proto.session._journal import (
    JournalCorruptError,
    JournalError,
    JournalLockedError,
    JournalVersionError,
)

from .ledger import SqliteFillLedger, fill_ledger_path
from .shared import SharedNonceSource, SharedRestCallCounter, SharedStateError, key_state_path
from .sqlite import SCHEMA_VERSION, SqliteJournal, read_journal, read_records

__all__ = [
    "SCHEMA_VERSION",
    "JournalCorruptError",
    "JournalError",
    "JournalLockedError",
    "JournalVersionError",
    "SharedNonceSource",
    "SharedRestCallCounter",
    "SharedStateError",
    "SqliteFillLedger",
    "SqliteJournal",
    "fill_ledger_path",
    "key_state_path",
    "read_journal",
    "read_records",
]
