"""``SqliteFillLedger``: one API key's ``FillLedger`` in a SQLite file beside the journals,
shared by every session (in any process) on that key.

What a ledger holds and how sessions use it: ``kraken_proto.session._fill_ledger``. The file
is ``key-<hash>.fills`` next to the key's state file (``key_state_path``), named by a hash of
the key, and holds no secret (trades and time spans).

Writes. Each ``publish`` is one transaction (trades, then the span), in WAL mode with
``synchronous=OFF``: a crash of the process loses nothing, and a power loss can only lose
whole transactions at the end, so a span is never kept without its trades. Readers never
block writers. Nothing here is needed for correctness: a ledger that fails (disk full, a
damaged file) logs one warning and reads nothing from then on, which only sends backfills to
REST, as without a ledger.

Size. Every ``prune_every`` publishes, trades older than ``retention`` seconds before the
newest one are deleted and spans cut to what is left, and the order ids beyond the newest
``max_orders``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Final

from kraken_proto.session._fill_ledger import LedgerSpan
from kraken_proto.session._journal import JournalCorruptError
from kraken_proto.session._journal_codec import decode_trade, encode_trade
from kraken_proto.v1._events import Trade

from .shared import key_state_path

__all__ = ["SqliteFillLedger", "fill_ledger_path"]

_log = logging.getLogger(__name__)

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS trades ("
    " per_fill INTEGER NOT NULL, trade_id TEXT NOT NULL, t REAL NOT NULL, body BLOB NOT NULL,"
    " PRIMARY KEY (per_fill, trade_id)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS trades_by_time ON trades (per_fill, t)",
    "CREATE TABLE IF NOT EXISTS spans ("
    " key TEXT PRIMARY KEY, per_fill INTEGER NOT NULL,"
    " after TEXT NOT NULL, through TEXT NOT NULL, a REAL NOT NULL, b REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS spans_by_end ON spans (per_fill, b)",
    "CREATE TABLE IF NOT EXISTS orders ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, cl_ord_id TEXT NOT NULL UNIQUE, txid TEXT NOT NULL)",
)

# Rows are found by a REAL copy of their exact time, widened by this (far more than a
# double's rounding at unix times), then compared exactly.
_WIDEN: Final = 1.0


def fill_ledger_path(directory: str | os.PathLike[str], api_key: str) -> Path:
    """The ledger file of ``api_key`` in ``directory`` (beside its shared state file)."""
    state = key_state_path(directory, api_key)
    return state.with_name(f"{state.stem}.fills")


class SqliteFillLedger:
    """The ``FillLedger`` of ``api_key``, kept in ``directory`` (created if missing).

    Never raises from ``publish``/``read`` (see the module); the constructor raises
    ``OSError``/``sqlite3.Error`` when the file cannot be opened at all. Not thread-safe;
    ``close()`` (or ``with``) releases the file."""

    __slots__ = ("_broken", "_db", "_publishes", "max_orders", "path", "prune_every", "retention")

    def __init__(
        self,
        directory: str | os.PathLike[str],
        api_key: str,
        *,
        retention: float = 3600.0,
        prune_every: int = 512,
        max_orders: int = 100_000,
    ) -> None:
        self.path = fill_ledger_path(directory, api_key)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.retention = Decimal(repr(retention))
        self.prune_every = prune_every
        self.max_orders = max_orders
        self._publishes = 0
        self._broken = False
        # Autocommit mode: each transaction is begun and committed explicitly.
        self._db: sqlite3.Connection | None = sqlite3.connect(
            self.path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=OFF")
            with self._transaction() as db:
                for statement in _SCHEMA:
                    db.execute(statement)
        except BaseException:
            self.close()
            raise

    def _transaction(self) -> _Transaction:
        assert self._db is not None
        return _Transaction(self._db)

    def publish(
        self, trades: Sequence[tuple[str, Trade]], span: LedgerSpan | None, *, per_fill: bool
    ) -> None:
        """Store the dated ``trades``, then ``span``, in one transaction."""
        if self._broken or self._db is None:
            return
        rows = [
            (per_fill, trade_id, float(trade.time), encode_trade(trade))
            for trade_id, trade in trades
            if trade.time is not None and trade.time.is_finite()
        ]
        if not rows and span is None:
            return
        try:
            with self._transaction() as db:
                db.executemany(
                    "INSERT OR IGNORE INTO trades (per_fill, trade_id, t, body) VALUES (?,?,?,?)",
                    rows,
                )
                if span is not None:
                    db.execute(
                        "INSERT OR REPLACE INTO spans (key, per_fill, after, through, a, b)"
                        " VALUES (?,?,?,?,?,?)",
                        (
                            span.key,
                            per_fill,
                            str(span.after),
                            str(span.through),
                            float(span.after),
                            float(span.through),
                        ),
                    )
                self._publishes += 1
                if self._publishes % self.prune_every == 0:
                    self._prune(db)
        except (sqlite3.Error, OSError, ArithmeticError) as error:
            self._fail(error)

    def spans(self, after: Decimal, *, per_fill: bool) -> list[LedgerSpan]:
        """See ``FillLedger.spans``."""
        if self._broken or self._db is None:
            return []
        try:
            rows = self._db.execute(
                "SELECT key, after, through FROM spans WHERE per_fill = ? AND b > ?",
                (per_fill, float(after) - _WIDEN),
            ).fetchall()
            spans = [LedgerSpan(key, Decimal(low), Decimal(high)) for key, low, high in rows]
        except (sqlite3.Error, ArithmeticError) as error:
            self._fail(error)
            return []
        return [span for span in spans if span.through > after]

    def trades(self, low: Decimal, high: Decimal, *, per_fill: bool) -> list[tuple[str, Trade]]:
        """See ``FillLedger.trades``."""
        if self._broken or self._db is None:
            return []
        found: list[tuple[Decimal, str, Trade]] = []
        try:
            rows = self._db.execute(
                "SELECT trade_id, body FROM trades WHERE per_fill = ? AND t > ? AND t <= ?",
                (per_fill, float(low) - _WIDEN, float(high) + _WIDEN),
            ).fetchall()
            for trade_id, body in rows:
                trade = decode_trade(body)
                time = trade.time
                if time is not None and low < time <= high:
                    found.append((time, trade_id, trade))
        except (sqlite3.Error, JournalCorruptError) as error:
            self._fail(error)
            return []
        found.sort(key=lambda item: item[0])
        return [(trade_id, trade) for _, trade_id, trade in found]

    def publish_order(self, cl_ord_id: str, txid: str) -> None:
        """See ``FillLedger.publish_order``."""
        if self._broken or self._db is None:
            return
        try:
            with self._transaction() as db:
                db.execute(
                    "INSERT OR IGNORE INTO orders (cl_ord_id, txid) VALUES (?, ?)",
                    (cl_ord_id, txid),
                )
                self._publishes += 1
                if self._publishes % self.prune_every == 0:
                    self._prune(db)
        except sqlite3.Error as error:
            self._fail(error)

    def order_of(self, cl_ord_id: str) -> str | None:
        """See ``FillLedger.order_of``."""
        if self._broken or self._db is None:
            return None
        try:
            row = self._db.execute(
                "SELECT txid FROM orders WHERE cl_ord_id = ?", (cl_ord_id,)
            ).fetchone()
        except sqlite3.Error as error:
            self._fail(error)
            return None
        return None if row is None else str(row[0])

    def _prune(self, db: sqlite3.Connection) -> None:
        db.execute(
            "DELETE FROM orders WHERE seq <= (SELECT max(seq) FROM orders) - ?", (self.max_orders,)
        )
        (newest,) = db.execute("SELECT max(t) FROM trades").fetchone()
        if newest is None:
            return
        before = Decimal(repr(newest)) - self.retention
        # Keep every trade at or after ``before`` (the widening keeps a little more), and
        # cut each span to start there: it then claims only what is kept.
        db.execute("DELETE FROM trades WHERE t < ?", (float(before) - _WIDEN,))
        for key, low, high in db.execute(
            "SELECT key, after, through FROM spans WHERE a < ?", (float(before) + _WIDEN,)
        ).fetchall():
            if Decimal(high) <= before:
                db.execute("DELETE FROM spans WHERE key = ?", (key,))
            elif Decimal(low) < before:
                db.execute(
                    "UPDATE spans SET after = ?, a = ? WHERE key = ?",
                    (str(before), float(before), key),
                )

    def _fail(self, error: BaseException) -> None:
        self._broken = True
        _log.warning(
            "fill ledger %s failed (%s: %s); backfills go to REST from now on",
            self.path,
            type(error).__name__,
            error,
        )

    def close(self) -> None:
        """Release the file; idempotent. Afterwards ``publish`` does nothing and ``read``
        finds nothing."""
        db, self._db = self._db, None
        if db is not None:
            db.close()

    def __enter__(self) -> SqliteFillLedger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteFillLedger({str(self.path)!r})"


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` when the block raises)."""

    __slots__ = ("_db",)

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
