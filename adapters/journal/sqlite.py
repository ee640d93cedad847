"""``SqliteJournal``: the session journal in one SQLite file (standard library ``sqlite3``).

One file per session. The store holds an exclusive ``flock`` on ``PATH.lock`` for its
lifetime, so a second store on the same journal (another process, or this one) fails at once
with ``JournalLockedError``; the kernel releases it when the holder dies, however it dies.

Durability. The database runs in WAL mode. Appends with ``sync=True`` commit with
``synchronous=FULL``: the WAL is fsynced before ``append`` returns, which makes that
transaction and every earlier one durable. Other appends commit with ``synchronous=NORMAL``:
the transaction is in the WAL (the operating system holds it) when ``append`` returns, so a
crash of the process loses nothing; a power loss may lose the latest NORMAL transactions, but
WAL frames are replayed in order up to the first missing one, so only a suffix. That is the
``JournalStore`` contract, and what ``needs_sync`` relies on.

Layout. ``meta(key, value)`` holds ``format`` (the record codec's ``JOURNAL_FORMAT``) and
``schema`` (this table layout); a journal with other values is refused with
``JournalVersionError``. ``records(seq, kind, ref, at, body)``: ``body`` is the record as the
codec writes it, ``kind``/``ref``/``at`` (ref: the handle, trade id or channel) only serve
pruning. Nothing in the file is secret: records never hold a token or a key.

Size. ``prune(before)`` (or ``retention``: automatically, every ``prune_every`` records, with
``before`` = the latest record time less ``retention``) deletes what ``prune_records`` drops;
freed pages are reused and returned to the file system by an incremental vacuum, and the
WAL is truncated to ``journal_size_limit`` after checkpoints, so a long-running session's file
stays bounded by what its retention period holds.
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Final

from kraken_proto.session._journal import (
    JOURNAL_FORMAT,
    FillAcknowledged,
    FillDelivered,
    IntentRecorded,
    JournalCorruptError,
    JournalError,
    JournalMarks,
    JournalRecord,
    JournalState,
    JournalVersionError,
    OutcomeRecorded,
    SubscriptionRecorded,
    advance_marks,
    decode_record,
    encode_record,
    fold,
)

from ._lock import ExclusiveLock

__all__ = ["SCHEMA_VERSION", "SqliteJournal", "read_journal", "read_records"]

SCHEMA_VERSION: Final = 1
"""The table layout's version (``meta.schema``)."""

_WAL_LIMIT: Final = 4 * 1024 * 1024  # bytes the WAL file is truncated to after a checkpoint

_SCHEMA: Final = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE records ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind TEXT NOT NULL,"
    " ref TEXT,"
    " at REAL NOT NULL,"
    " body BLOB NOT NULL)",
    # Pruning finds settled handles and old acknowledgements by time, and rows by ref.
    "CREATE INDEX records_by_time ON records (kind, at)",
    "CREATE INDEX records_by_ref ON records (kind, ref)",
)

_PRUNE: Final = (
    # Intents and outcomes of every handle with an outcome recorded before the cut.
    "DELETE FROM records WHERE kind IN ('intent', 'outcome') AND ref IN"
    " (SELECT ref FROM records WHERE kind = 'outcome' AND at < :before)",
    # Fills whose latest acknowledgement is older than the cut, then those acknowledgements.
    "DELETE FROM records WHERE kind = 'fill' AND ref IN"
    " (SELECT ref FROM records WHERE kind = 'ack' GROUP BY ref HAVING MAX(at) < :before)",
    "DELETE FROM records WHERE kind = 'ack' AND at < :before",
    # Every subscription record but the last one of its channel.
    "DELETE FROM records WHERE kind = 'subscription' AND seq NOT IN"
    " (SELECT MAX(seq) FROM records WHERE kind = 'subscription' GROUP BY ref)",
    # Nonce and checkpoint records: the new checkpoint carries their marks.
    "DELETE FROM records WHERE kind IN ('nonce', 'checkpoint')",
)


def _seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name}: must be a finite number of seconds, got {value!r}")
    return float(value)


def _ref(record: JournalRecord) -> str | None:
    if isinstance(record, IntentRecorded | OutcomeRecorded):
        return str(record.handle)
    if isinstance(record, FillDelivered | FillAcknowledged):
        return record.trade_id
    if isinstance(record, SubscriptionRecorded):
        return record.name
    return None


class SqliteJournal:
    """A ``JournalStore`` in the SQLite file ``path`` (created ``0o600`` when missing).

    Raises ``JournalLockedError`` at once when another store has the journal open,
    ``JournalVersionError`` for a journal of another format, ``JournalCorruptError`` for a
    file that is not a journal. ``retention`` (seconds of record time, None: never
    automatically) and ``prune_every`` (records between automatic prunes) bound the file.

    Not thread-safe: use it from one thread at a time (any one: a runner may hand appends to
    a worker thread). Also a context manager that closes it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        retention: float | None = None,
        prune_every: int = 1000,
    ) -> None:
        if retention is not None and _seconds("retention", retention) < 0:
            raise ValueError(f"retention: must be >= 0, got {retention!r}")
        if isinstance(prune_every, bool) or not isinstance(prune_every, int) or prune_every < 1:
            raise ValueError(f"prune_every: must be an int >= 1, got {prune_every!r}")
        self.path = Path(path)
        self.retention = retention
        self.prune_every = prune_every
        self._marks: JournalMarks | None = None  # loaded on first need, then kept current
        self._latest_at: float | None = None
        self._since_prune = 0
        self._lock = ExclusiveLock.acquire(
            self.path.with_name(self.path.name + ".lock"), f"journal {self.path}"
        )
        try:
            # Created here, not by sqlite3, to control its mode.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
            self._db: sqlite3.Connection | None = _connect(self.path, read_only=False)
        except BaseException:
            self._lock.release()
            raise

    # --- JournalStore -----------------------------------------------------------------------

    def append(self, records: Sequence[JournalRecord], *, sync: bool) -> None:
        """Append ``records`` in one transaction; with ``sync``, durable on return.

        When an automatic prune is due (``retention``), it runs first, so that if it fails
        the append fails with nothing of it written. Raises ``LocalProtocolError`` (nothing
        written) for a record the codec cannot hold, ``JournalError`` once closed,
        ``sqlite3.Error``/``OSError`` when the disk fails (the transaction rolled back).
        """
        db = self._open_db()
        rows = [
            (record.kind, _ref(record), float(record.at), encode_record(record))
            for record in records
        ]
        if not rows:
            return
        if (
            self.retention is not None
            and self._latest_at is not None
            and self._since_prune >= self.prune_every
        ):
            self.prune(self._latest_at - self.retention)
        with self._durability(db, sync), self._transaction(db):
            db.executemany("INSERT INTO records (kind, ref, at, body) VALUES (?, ?, ?, ?)", rows)
        if self._marks is not None:
            for record in records:
                self._marks = advance_marks(self._marks, record)
        latest = max(at for _, _, at, _ in rows)
        self._latest_at = latest if self._latest_at is None else max(self._latest_at, latest)
        self._since_prune += len(rows)

    def load(self) -> JournalState:
        """The folded state of every record in the file."""
        state = fold(self.records())
        self._marks = state.marks
        return state

    def records(self) -> list[JournalRecord]:
        """Every record in the file, in the order appended."""
        return _read_all(self._open_db())

    def prune(self, before: float) -> None:
        """Delete what ``prune_records(records, before)`` drops, add its checkpoint, in one
        transaction; then hand freed pages back to the file system."""
        before = _seconds("before", before)
        db = self._open_db()
        marks = self._marks if self._marks is not None else self.load().marks
        checkpoint = marks.checkpoint(before)
        with self._transaction(db):
            for statement in _PRUNE:
                db.execute(statement, {"before": before})
            db.execute(
                "INSERT INTO records (kind, ref, at, body) VALUES (?, NULL, ?, ?)",
                (checkpoint.kind, checkpoint.at, encode_record(checkpoint)),
            )
        db.execute("PRAGMA incremental_vacuum")
        self._since_prune = 0

    def close(self) -> None:
        """Close the database and release the lock; idempotent."""
        db, self._db = self._db, None
        try:
            if db is not None:
                db.close()
        finally:
            self._lock.release()

    # --- the rest ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once ``close`` was called."""
        return self._db is None

    def __enter__(self) -> SqliteJournal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<SqliteJournal {str(self.path)!r} {state} retention={self.retention}>"

    def _open_db(self) -> sqlite3.Connection:
        if self._db is None:
            raise JournalError(f"journal {self.path}: the store is closed")
        return self._db

    @staticmethod
    @contextmanager
    def _durability(db: sqlite3.Connection, sync: bool) -> Iterator[None]:
        # synchronous may only change outside a transaction; FULL fsyncs the WAL at commit.
        if not sync:
            yield
            return
        db.execute("PRAGMA synchronous = FULL")
        try:
            yield
        finally:
            db.execute("PRAGMA synchronous = NORMAL")

    @staticmethod
    @contextmanager
    def _transaction(db: sqlite3.Connection) -> Iterator[None]:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def read_records(path: str | os.PathLike[str]) -> list[JournalRecord]:
    """Every record of the journal at ``path``, read-only and without taking its lock, so it
    works while a session has the journal open (WAL readers see the last commit).

    Raises ``JournalError`` when there is no journal at ``path``, ``JournalVersionError`` and
    ``JournalCorruptError`` as ``SqliteJournal`` does.
    """
    db = _connect(Path(path), read_only=True)
    try:
        return _read_all(db)
    finally:
        db.close()


def read_journal(path: str | os.PathLike[str]) -> JournalState:
    """``fold(read_records(path))``: the state of a journal, read-only."""
    return fold(read_records(path))


def _read_all(db: sqlite3.Connection) -> list[JournalRecord]:
    rows = db.execute("SELECT body FROM records ORDER BY seq").fetchall()
    return [decode_record(body) for (body,) in rows]


def _connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    """Open the journal at ``path`` and check (or, writable and empty, create) its layout."""
    if read_only:
        if not path.is_file():
            raise JournalError(f"no journal at {path}")
        uri = path.resolve().as_uri() + "?mode=ro"
        db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        if not read_only:
            # auto_vacuum takes effect only on a database without tables yet; harmless later.
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":  # pragma: no cover - only where WAL is unsupported
                raise JournalError(f"journal {path}: SQLite could not enable WAL ({mode})")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT}")
        _check_layout(db, path, create=not read_only)
    except sqlite3.DatabaseError as error:
        db.close()
        raise JournalCorruptError(f"{path} is not a kraken_proto journal ({error})") from None
    except BaseException:
        db.close()
        raise
    return db


def _check_layout(db: sqlite3.Connection, path: Path, *, create: bool) -> None:
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    tables.discard("sqlite_sequence")
    if not tables:
        if not create:
            raise JournalCorruptError(f"{path} is an empty database, not a journal")
        db.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA:
            db.execute(statement)
        db.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [("format", str(JOURNAL_FORMAT)), ("schema", str(SCHEMA_VERSION))],
        )
        db.execute("COMMIT")
        return
    if tables != {"meta", "records"}:
        found = ", ".join(sorted(tables))
        raise JournalCorruptError(f"{path} is not a kraken_proto journal (tables: {found})")
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    expected = {"format": str(JOURNAL_FORMAT), "schema": str(SCHEMA_VERSION)}
    for key, value in expected.items():
        version = meta.get(key)
        if version is None:
            raise JournalCorruptError(f"{path}: the journal has no {key} version")
        if version != value:
            raise JournalVersionError(
                f"{path}: journal {key} version {version}, but this kraken_proto reads version "
                f"{value}; open it with the kraken_proto that wrote it"
            )
