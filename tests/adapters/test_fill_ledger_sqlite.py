"""``SqliteFillLedger`` (``adapters/journal/ledger.py``): the file each API key's sessions
share, across connections; what happens when it fails; the runners open one beside a journal
and close it. The ``FillLedger`` contract itself is checked for both ledgers in
``tests/session/test_fill_ledger.py``."""

from __future__ import annotations

import logging
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from kraken_proto import Credentials, FillReceived, SessionConfig
from kraken_proto.adapters.journal import (
    SharedNonceSource,
    SharedRestCallCounter,
    SqliteFillLedger,
    SqliteJournal,
    fill_ledger_path,
    key_state_path,
)
from kraken_proto.adapters.runners._journal import JournalPlumbing, build_session
from kraken_proto.adapters.simulator.model.exchange import SimulatorConfig
from kraken_proto.session import FillLedger, LedgerSpan
from kraken_proto.session._journal import InMemoryJournal
from kraken_proto.v1 import Trade

from tests.adapters.test_session_runners import MARKET, OPEN, RUNNERS, Calls, drive, exchange

pytestmark = pytest.mark.timeout(60)

KEY = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/AbCdEfGhIjKlMnOpQrSt"
D = Decimal
LOGGER = "kraken_proto.adapters.journal.ledger"


def _trades(*entries: tuple[str, str]) -> list[tuple[str, Trade]]:
    return [(tid, Trade(time=D(time), pair="XXBTZUSD")) for tid, time in entries]


def test_two_connections_on_one_key_see_each_others_writes(tmp_path: Path) -> None:
    with SqliteFillLedger(tmp_path, KEY) as first, SqliteFillLedger(tmp_path, KEY) as second:
        assert first.path == second.path
        first.publish(_trades(("T1", "1001")), LedgerSpan("a-1", D(1000), D(1001)), per_fill=False)
        assert second.spans(D(0), per_fill=False) == [LedgerSpan("a-1", D(1000), D(1001))]
        assert [t for t, _ in second.trades(D(0), D(2000), per_fill=False)] == ["T1"]
        second.publish(_trades(("T2", "1002")), LedgerSpan("b-1", D(1001), D(1002)), per_fill=False)
        assert len(first.spans(D(0), per_fill=False)) == 2
        assert [t for t, _ in first.trades(D(0), D(2000), per_fill=False)] == ["T1", "T2"]
    # And a later process on the key finds them.
    with SqliteFillLedger(tmp_path, KEY) as later:
        assert [t for t, _ in later.trades(D(0), D(2000), per_fill=False)] == ["T1", "T2"]
    with SqliteFillLedger(tmp_path, "another key") as other:
        assert other.trades(D(0), D(2000), per_fill=False) == []


def test_the_file_lies_beside_the_key_state_and_names_no_key(tmp_path: Path) -> None:
    path = fill_ledger_path(tmp_path, KEY)
    state = key_state_path(tmp_path, KEY)
    assert path.parent == state.parent == tmp_path
    assert path.name == f"{state.stem}.fills"
    assert KEY not in str(path)
    assert KEY[:12] not in str(path)
    directory = tmp_path / "new" / "dir"
    with SqliteFillLedger(directory, KEY) as ledger:  # the directory is created
        assert ledger.path == fill_ledger_path(directory, KEY)
        assert ledger.path.exists()
        assert KEY not in repr(ledger)
        assert repr(ledger) == f"SqliteFillLedger({str(ledger.path)!r})"
        assert isinstance(ledger, FillLedger)


def test_close_is_idempotent_and_then_nothing_is_read_or_written(tmp_path: Path) -> None:
    ledger = SqliteFillLedger(tmp_path, KEY)
    ledger.publish(_trades(("T1", "1001")), LedgerSpan("a-1", D(1000), D(1001)), per_fill=False)
    ledger.close()
    ledger.close()
    ledger.publish(_trades(("T2", "1002")), None, per_fill=False)  # nothing, no raise
    assert ledger.spans(D(0), per_fill=False) == []
    assert ledger.trades(D(0), D(2000), per_fill=False) == []
    with SqliteFillLedger(tmp_path, KEY) as again:
        assert [t for t, _ in again.trades(D(0), D(2000), per_fill=False)] == ["T1"]


def test_the_context_manager_closes_it(tmp_path: Path) -> None:
    with SqliteFillLedger(tmp_path, KEY) as ledger:
        ledger.publish(_trades(("T1", "1001")), None, per_fill=True)
    assert ledger.trades(D(0), D(2000), per_fill=True) == []
    with pytest.raises(RuntimeError), SqliteFillLedger(tmp_path, KEY) as ledger:
        raise RuntimeError("the block fails")
    assert ledger.spans(D(0), per_fill=True) == []  # closed all the same


def test_publishing_nothing_writes_nothing(tmp_path: Path) -> None:
    with SqliteFillLedger(tmp_path, KEY, prune_every=1) as ledger:
        ledger.publish([("TU", Trade())], None, per_fill=False)
        ledger.publish([], None, per_fill=False)
        assert ledger._publishes == 0
        ledger.publish([], LedgerSpan("a-1", D(1), D(2)), per_fill=False)  # prunes: no trades
        assert ledger.spans(D(0), per_fill=False) == [LedgerSpan("a-1", D(1), D(2))]


def test_rows_near_the_bounds_are_compared_by_their_exact_time(tmp_path: Path) -> None:
    """Rows are found by a REAL copy of their time, widened by a second: those within it but
    outside the range asked for are left out, as are spans ending at ``after``."""
    with SqliteFillLedger(tmp_path, KEY) as ledger:
        ledger.publish(
            _trades(("T1", "1001"), ("T2", "1001.5"), ("T3", "1002.0000001")),
            LedgerSpan("a-1", D(1000), D("1001.5")),
            per_fill=False,
        )
        assert [t for t, _ in ledger.trades(D(1001), D(1002), per_fill=False)] == ["T2"]
        assert ledger.spans(D("1001.5"), per_fill=False) == []
        assert len(ledger.spans(D("1001.4999999"), per_fill=False)) == 1


def test_pruning_deletes_old_trades_and_cuts_spans(tmp_path: Path) -> None:
    with SqliteFillLedger(tmp_path, KEY, retention=10.0, prune_every=1) as ledger:
        ledger.publish(_trades(("T100", "100")), LedgerSpan("s1", D(90), D(100)), per_fill=False)
        ledger.publish(_trades(("T120", "120")), LedgerSpan("s2", D(105), D(115)), per_fill=False)
        ledger.publish([], LedgerSpan("s3", D(111), D(119)), per_fill=False)
        assert sorted(ledger.spans(D(0), per_fill=False), key=lambda s: s.key) == [
            LedgerSpan("s2", D(110), D(115)),
            LedgerSpan("s3", D(111), D(119)),
        ]
        assert [t for t, _ in ledger.trades(D(0), D(200), per_fill=False)] == ["T120"]


class _Closing:
    """A connection that fails every statement after the first ``good`` ones."""

    def __init__(self, db: sqlite3.Connection, good: int) -> None:
        self._db = db
        self._good = good

    def execute(self, *args: Any) -> Any:
        if self._good <= 0:
            raise sqlite3.OperationalError("disk I/O error")
        self._good -= 1
        return self._db.execute(*args)

    def executemany(self, *args: Any) -> Any:
        return self._db.executemany(*args)

    def close(self) -> None:
        self._db.close()


def _broken_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


@pytest.mark.parametrize("failing", ["publish", "spans", "trades"])
def test_a_failure_logs_once_and_then_reads_nothing(
    failing: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    ledger = SqliteFillLedger(tmp_path, KEY)
    ledger.publish(_trades(("T1", "1001")), LedgerSpan("a-1", D(1000), D(1001)), per_fill=False)
    db = ledger._db
    assert db is not None
    # BEGIN passes, the INSERT fails: the transaction is rolled back.
    ledger._db = _Closing(db, good=1 if failing == "publish" else 0)  # type: ignore[assignment]
    if failing == "publish":
        ledger.publish(_trades(("T2", "1002")), None, per_fill=False)
    elif failing == "spans":
        assert ledger.spans(D(0), per_fill=False) == []
    else:
        assert ledger.trades(D(0), D(2000), per_fill=False) == []
    warnings = _broken_warnings(caplog)
    assert len(warnings) == 1
    assert "disk I/O error" in warnings[0].getMessage()
    assert KEY not in warnings[0].getMessage()
    ledger._db = db  # the connection works again: the ledger stays broken
    ledger.publish(_trades(("T3", "1003")), None, per_fill=False)
    assert ledger.spans(D(0), per_fill=False) == []
    assert ledger.trades(D(0), D(2000), per_fill=False) == []
    assert len(_broken_warnings(caplog)) == 1
    ledger.close()
    with SqliteFillLedger(tmp_path, KEY) as again:  # what it had stored is intact
        assert [t for t, _ in again.trades(D(0), D(2000), per_fill=False)] == ["T1"]


def test_a_closed_connection_underneath_is_a_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    ledger = SqliteFillLedger(tmp_path, KEY)
    assert ledger._db is not None
    ledger._db.close()  # not through the ledger
    ledger.publish(_trades(("T1", "1001")), None, per_fill=False)  # no raise
    assert ledger.spans(D(0), per_fill=False) == []
    assert len(_broken_warnings(caplog)) == 1
    ledger.close()


def test_a_damaged_trade_body_is_a_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    ledger = SqliteFillLedger(tmp_path, KEY)
    ledger.publish(_trades(("T1", "1001")), LedgerSpan("a-1", D(1000), D(1001)), per_fill=False)
    with sqlite3.connect(ledger.path) as db:
        db.execute("UPDATE trades SET body = ?", (b"not a trade",))
    db.close()
    assert ledger.trades(D(0), D(2000), per_fill=False) == []
    warnings = _broken_warnings(caplog)
    assert len(warnings) == 1
    assert "JournalCorruptError" in warnings[0].getMessage()
    assert ledger.spans(D(0), per_fill=False) == []  # broken: reads nothing any more
    ledger.close()


def test_a_damaged_span_is_a_failure(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    ledger = SqliteFillLedger(tmp_path, KEY)
    ledger.publish([], LedgerSpan("a-1", D(1000), D(1001)), per_fill=False)
    with sqlite3.connect(ledger.path) as db:
        db.execute("UPDATE spans SET after = 'not a number'")
    db.close()
    assert ledger.spans(D(0), per_fill=False) == []
    assert len(_broken_warnings(caplog)) == 1
    ledger.close()


def test_a_file_that_is_no_database_cannot_be_opened(tmp_path: Path) -> None:
    path = fill_ledger_path(tmp_path, KEY)
    path.write_bytes(b"this is not a SQLite database file, not at all" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        SqliteFillLedger(tmp_path, KEY)


def _insert_twice(ledger: SqliteFillLedger) -> None:
    """One transaction: a good row, then one the schema refuses."""
    with ledger._transaction() as inside:
        inside.execute("INSERT INTO trades (per_fill, trade_id, t, body) VALUES (0, 'TX', 1, 1)")
        inside.execute("INSERT INTO trades (per_fill, trade_id, t, body) VALUES (0, NULL, 1, 1)")


def test_a_rolled_back_publish_keeps_nothing_of_it(tmp_path: Path) -> None:
    with SqliteFillLedger(tmp_path, KEY) as ledger:
        db = ledger._db
        assert db is not None
        with pytest.raises(sqlite3.IntegrityError):
            _insert_twice(ledger)
        assert db.execute("SELECT count(*) FROM trades").fetchone() == (0,)


# --- the runners ----------------------------------------------------------------------------------


class _Plumbing(JournalPlumbing):
    """A runner's journal duties, without the runner."""

    def __init__(self, options: dict[str, Any], session: Any) -> None:
        self.session = session
        self._journal_init(
            options["journal_store"],
            options["journal_nonces"],
            options["journal_counter"],
            options["journal_ledger"],
        )


def _credentials() -> Credentials:
    sim = SimulatorConfig()
    return Credentials(api_key=sim.api_key, api_secret=sim.api_secret)


def test_a_journal_path_gives_the_session_the_keys_ledger_closed_at_the_end(
    tmp_path: Path,
) -> None:
    credentials = _credentials()
    options: dict[str, Any] = {"journal": tmp_path / "bot.journal"}
    session = build_session(credentials, SessionConfig(), options)
    ledger = options["journal_ledger"]
    assert isinstance(ledger, SqliteFillLedger)
    assert ledger.path == fill_ledger_path(tmp_path, credentials.api_key)
    assert session._fills._ledger is ledger
    assert session._fills._owner
    plumbing = _Plumbing(options, session)
    plumbing._close_journal()
    assert ledger._db is None  # closed
    # Everything it held was released: the journal opens again.
    with SqliteJournal(tmp_path / "bot.journal"):
        pass


def test_a_journal_store_or_none_gives_no_ledger(tmp_path: Path) -> None:
    credentials = _credentials()
    options: dict[str, Any] = {"journal": InMemoryJournal()}
    session = build_session(credentials, SessionConfig(), options)
    assert options["journal_ledger"] is None
    assert session._fills._ledger is None
    _Plumbing(options, session)._close_journal()
    plain: dict[str, Any] = {}
    assert build_session(credentials, SessionConfig(), plain)._fills._ledger is None
    assert "journal_ledger" not in plain


def test_a_ledger_that_cannot_be_opened_releases_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = _credentials()
    closed: list[str] = []
    for kind in (SharedNonceSource, SharedRestCallCounter):
        original = kind.close

        def close(self: Any, original: Any = original, name: str = kind.__name__) -> None:
            closed.append(name)
            original(self)

        monkeypatch.setattr(kind, "close", close)
    fill_ledger_path(tmp_path, credentials.api_key).write_bytes(b"not a database" * 100)
    options: dict[str, Any] = {"journal": tmp_path / "bot.journal"}
    with pytest.raises(sqlite3.DatabaseError):
        build_session(credentials, SessionConfig(), options)
    assert sorted(closed) == ["SharedNonceSource", "SharedRestCallCounter"]
    with SqliteJournal(tmp_path / "bot.journal"):  # released
        pass


@pytest.mark.timeout(90)
@pytest.mark.parametrize("kind", RUNNERS)
def test_each_runner_with_a_journal_path_shares_fills_and_closes_the_ledger(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[SqliteFillLedger] = []
    original = SqliteFillLedger.close

    def close(self: SqliteFillLedger) -> None:
        closed.append(self)
        original(self)

    monkeypatch.setattr(SqliteFillLedger, "close", close)
    path = tmp_path / "bot.journal"
    seen: list[Any] = []
    with exchange(seed=63) as (_sim, urls, credentials):

        async def trade(session: Calls) -> None:
            ledger = session.runner.session._fills._ledger
            assert isinstance(ledger, SqliteFillLedger)
            seen.append(ledger)
            await session.subscribe("ownTrades")
            await session.add_order(MARKET, timeout=20)
            fills: list[FillReceived] = []
            while not fills:
                fills += [e for e in await session.next_events(0.2) if isinstance(e, FillReceived)]
            assert not closed

        drive(kind, OPEN[kind], trade, credentials, **urls, journal=str(path))
    assert closed == seen  # closed once the session ended
    assert seen[0]._db is None
    with SqliteFillLedger(tmp_path, credentials.api_key) as ledger:  # the live fills are there
        assert ledger.trades(D(0), D(10**10), per_fill=False)
