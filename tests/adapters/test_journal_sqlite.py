"""``SqliteJournal``: the store contract on a real file, the lock (in-process, another
process, a SIGKILLed holder), durability settings, versions, damage, and a bounded file."""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kraken_proto import LocalProtocolError
from kraken_proto.adapters.journal import (
    JournalCorruptError,
    JournalError,
    JournalLockedError,
    JournalVersionError,
    SqliteJournal,
    read_journal,
    read_records,
)
from kraken_proto.adapters.journal._lock import ExclusiveLock
from kraken_proto.session._journal import (
    Checkpoint,
    FillAcknowledged,
    FillDelivered,
    IntentRecorded,
    JournalRecord,
    JournalStore,
    NonceRecorded,
    OutcomeRecorded,
    SubscriptionRecorded,
    fold,
    prune_records,
)
from kraken_proto.v1 import AddOrder, Ping, Subscribe, Trade

from tests.session.test_journal_fold import journals
from tests.session.test_journal_records import exact, records

ROOT = Path(__file__).resolve().parents[2]
ORDER = AddOrder(
    ordertype="limit",
    type="buy",
    pair="XBT/USD",
    volume=Decimal("0.12345678"),
    price=Decimal("27000.1"),
    cl_ord_id="0f0e0d0c-0b0a-4908-8706-050403020100",
)


def intent(handle: int, at: float | None = None) -> IntentRecorded:
    return IntentRecorded(at=float(handle) if at is None else at, handle=handle, request=ORDER)


def settled(handle: int, at: float) -> list[JournalRecord]:
    return [intent(handle, at), OutcomeRecorded(at=at, handle=handle, result="accepted")]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "session.journal"


# --- the contract -----------------------------------------------------------------------------


def test_it_is_a_journal_store(path: Path) -> None:
    with SqliteJournal(path) as journal:
        store: JournalStore = journal  # mypy checks the protocol statically too
        assert isinstance(store, JournalStore)
        assert store.load() == fold([])


def test_records_come_back_exactly_across_reopening(path: Path) -> None:
    written: list[JournalRecord] = [
        intent(1),
        SubscriptionRecorded(at=1, name="ownTrades", request=Subscribe(name="ownTrades")),
        FillDelivered(
            at=2,
            trade_id="TXXXX1",
            trade=Trade(time=Decimal("1700000000.123456"), vol=Decimal("1E-8")),
            source="rest",
        ),
        NonceRecorded(at=3, nonce=2**64 - 1),
    ]
    with SqliteJournal(path) as journal:
        journal.append(written[:2], sync=True)
        journal.append(written[2:], sync=False)
        journal.append([], sync=True)  # nothing to do
    with SqliteJournal(path) as journal:
        assert exact(journal.records()) == exact(written)
        assert journal.load() == fold(written)


@settings(max_examples=25)
@given(st.lists(records, max_size=12))
def test_any_records_round_trip_through_the_file(written: list[JournalRecord]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        with SqliteJournal(Path(directory) / "j") as journal:
            journal.append(written, sync=False)
        assert exact(read_records(Path(directory) / "j")) == exact(written)


@settings(max_examples=25)
@given(journals(), st.integers(0, 40).map(float))
def test_pruning_the_file_matches_prune_records(
    written: list[JournalRecord], before: float
) -> None:
    with (
        tempfile.TemporaryDirectory() as directory,
        SqliteJournal(Path(directory) / "j") as journal,
    ):
        journal.append(written, sync=False)
        journal.prune(before)
        assert journal.load() == fold(prune_records(written, before))
        # The marks it carries over were computed from the file, not from memory: the same
        # after reopening.
        journal.append([intent(10_000)], sync=False)
        journal.prune(before)
        assert journal.load().open_view() == fold([*written, intent(10_000)]).open_view()


def test_marks_kept_in_memory_follow_the_appends(path: Path) -> None:
    with SqliteJournal(path) as journal:
        journal.load()  # the marks are known from here on, and kept current by append
        journal.append([intent(5), NonceRecorded(at=1, nonce=77)], sync=False)
        journal.prune(1000)
        assert journal.records() == [
            intent(5),  # open: stays
            Checkpoint(at=1000, next_handle=6, nonce_high_water=77),
        ]


def test_an_append_is_all_or_nothing(path: Path) -> None:
    with SqliteJournal(path) as journal:
        journal.append([intent(1)], sync=True)
        bad = intent(2)
        msgspec.structs.force_setattr(bad, "request", Ping())
        with pytest.raises(LocalProtocolError):
            journal.append([intent(3), bad], sync=True)
        # A failure inside the transaction (here a trigger standing in for a full disk)
        # rolls the whole append back, and the store goes on working.
        other = sqlite3.connect(path)
        other.execute(
            "CREATE TRIGGER no_acks BEFORE INSERT ON records WHEN NEW.kind = 'ack' "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
        other.commit()
        other.close()
        with pytest.raises(sqlite3.IntegrityError, match="disk full"):
            journal.append([intent(4), FillAcknowledged(at=5, trade_id="T")], sync=True)
        journal.append([intent(6)], sync=False)
        assert list(journal.load().intents) == [1, 6]


def test_sync_appends_commit_with_full_and_others_with_normal(path: Path) -> None:
    with SqliteJournal(path) as journal:
        db = journal._db
        assert db is not None
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        seen: list[int] = []
        db.set_trace_callback(lambda sql: seen.append(1) if "FULL" in sql else None)
        journal.append([intent(1)], sync=True)
        journal.append([intent(2)], sync=False)
        db.set_trace_callback(None)
        assert seen == [1]
        assert db.execute("PRAGMA synchronous").fetchone() == (1,)  # back to NORMAL


def test_a_closed_store_refuses_work_and_closing_twice_is_fine(path: Path) -> None:
    journal = SqliteJournal(path)
    assert "open" in repr(journal)
    journal.close()
    journal.close()
    assert journal.closed
    assert "closed" in repr(journal)
    for call in (
        lambda: journal.append([intent(1)], sync=True),
        journal.load,
        lambda: journal.prune(1),
    ):
        with pytest.raises(JournalError, match="closed"):
            call()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"retention": -1}, "retention"),
        ({"retention": float("inf")}, "retention"),
        ({"retention": True}, "retention"),
        ({"prune_every": 0}, "prune_every"),
        ({"prune_every": 1.5}, "prune_every"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_opened(
    path: Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SqliteJournal(path, **kwargs)  # type: ignore[arg-type]
    assert not path.exists()


def test_prune_wants_a_finite_time(path: Path) -> None:
    with SqliteJournal(path) as journal, pytest.raises(ValueError, match="before"):
        journal.prune(float("nan"))


def test_the_file_is_private(path: Path) -> None:
    with SqliteJournal(path):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(f"{path}.lock").stat().st_mode) == 0o600


# --- one store per journal --------------------------------------------------------------------


def test_a_second_store_in_the_same_process_is_refused_at_once(path: Path) -> None:
    with SqliteJournal(path) as first:
        first.append([intent(1)], sync=True)
        with pytest.raises(JournalLockedError, match=rf"in use by process {os.getpid()}"):
            SqliteJournal(path)
        first.append([intent(2)], sync=True)  # the refused opener changed nothing
    with SqliteJournal(path) as again:
        assert list(again.load().intents) == [1, 2]


def test_a_lock_that_cannot_be_taken_for_another_reason_leaks_nothing(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.raises(OSError, match="No locks available"):
        SqliteJournal(path)
    assert len(os.listdir("/proc/self/fd")) == before


def test_reading_works_while_a_store_has_the_journal_open(path: Path) -> None:
    with SqliteJournal(path) as journal:
        journal.append([intent(1)], sync=False)
        assert list(read_journal(path).intents) == [1]
        journal.append([intent(2)], sync=False)
        assert list(read_journal(path).intents) == [1, 2]


_HOLDER = """
import sys, time
from kraken_proto.adapters.journal import SqliteJournal
journal = SqliteJournal(sys.argv[1])
print("holding", flush=True)
time.sleep(60)
"""


@pytest.mark.timeout(60)
def test_another_process_gets_a_clear_error_and_a_killed_holder_releases_it(path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline() == "holding\n"
            started = time.monotonic()
            with pytest.raises(JournalLockedError) as refused:
                SqliteJournal(path)
            assert time.monotonic() - started < 1.0  # at once, not after a timeout
            assert f"in use by process {holder.pid}" in str(refused.value)
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=30)
        finally:
            holder.kill()
    with SqliteJournal(path) as journal:  # the kernel released the dead holder's lock
        assert journal.load().intents == {}


_WRITER = """
import sys
from kraken_proto.adapters.journal import SqliteJournal
from kraken_proto.session._journal import IntentRecorded
from kraken_proto.v1 import CancelAll
journal = SqliteJournal(sys.argv[1])
handle = 0
while True:
    handle += 1
    journal.append([IntentRecorded(at=handle, handle=handle, request=CancelAll())], sync=False)
    print(handle, flush=True)
"""


@pytest.mark.timeout(60)
def test_a_killed_writer_loses_no_committed_record(path: Path) -> None:
    # A crash of the process (not the machine): NORMAL commits are already in the WAL.
    with subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True
    ) as writer:
        try:
            assert writer.stdout is not None
            acknowledged = 0
            while acknowledged < 200:
                acknowledged = int(writer.stdout.readline())
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=30)
        finally:
            writer.kill()
    with SqliteJournal(path) as journal:
        handles = list(journal.load().intents)
    assert len(handles) >= acknowledged
    assert handles == list(range(1, len(handles) + 1))  # a prefix, nothing torn


# --- versions and damage ----------------------------------------------------------------------


def _meta(path: Path, statement: str) -> None:
    db = sqlite3.connect(path)
    db.execute(statement)
    db.commit()
    db.close()


def _lock_is_free(path: Path) -> bool:
    try:
        ExclusiveLock.acquire(Path(f"{path}.lock"), "test").release()
    except JournalLockedError:
        return False
    return True


def test_a_journal_of_another_version_is_refused_clearly(path: Path) -> None:
    with SqliteJournal(path) as journal:
        journal.append([intent(1)], sync=True)
    _meta(path, "UPDATE meta SET value = '2' WHERE key = 'format'")
    for opener in (SqliteJournal, read_journal):
        with pytest.raises(JournalVersionError, match="format version 2, but this kraken_proto"):
            opener(path)
    assert _lock_is_free(path)  # a refused store keeps nothing
    _meta(path, "UPDATE meta SET value = '1' WHERE key = 'format'")
    _meta(path, "UPDATE meta SET value = '0' WHERE key = 'schema'")
    with pytest.raises(JournalVersionError, match="schema version 0"):
        SqliteJournal(path)
    _meta(path, "DELETE FROM meta WHERE key = 'schema'")
    with pytest.raises(JournalCorruptError, match="no schema version"):
        SqliteJournal(path)
    assert _lock_is_free(path)


def test_files_that_are_not_journals_are_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"this is not a database, not at all" * 100)
    for opener in (SqliteJournal, read_journal):
        with pytest.raises(JournalCorruptError, match="not a kraken_proto journal"):
            opener(garbage)
    foreign = tmp_path / "foreign.db"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE accounts (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(JournalCorruptError, match="tables: accounts"):
        SqliteJournal(foreign)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(JournalCorruptError, match="empty database"):
        read_journal(empty)
    with pytest.raises(JournalError, match="no journal at"):
        read_journal(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()


def test_a_damaged_record_is_reported(path: Path) -> None:
    with SqliteJournal(path) as journal:
        journal.append([intent(1)], sync=True)
        db = journal._db
        assert db is not None
        db.execute("UPDATE records SET body = X'7B7D'")  # "{}"
        with pytest.raises(JournalCorruptError, match="unknown record kind"):
            journal.load()


# --- a bounded file ---------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_a_hundred_thousand_settled_intents_with_retention_keep_the_file_small(
    path: Path,
) -> None:
    retention = 50.0
    with SqliteJournal(path, retention=retention, prune_every=2_000) as journal:
        batch: list[JournalRecord] = []
        for handle in range(1, 100_001):
            batch += settled(handle, at=float(handle))
            if len(batch) >= 500:
                journal.append(batch, sync=False)
                batch = []
        journal.append(batch, sync=True)
        state = journal.load()
        assert state.open_intents == {}
        assert state.next_handle == 100_001
        assert len(state.intents) <= retention + 2_000  # what the retention period holds
        size = sum(p.stat().st_size for p in path.parent.iterdir() if p.name.startswith(path.name))
    assert size < 8 * 1024 * 1024, size  # the WAL limit plus a small database
    assert path.stat().st_size < 2 * 1024 * 1024


def test_without_retention_nothing_is_pruned_automatically(path: Path) -> None:
    with SqliteJournal(path, prune_every=1) as journal:
        journal.append(settled(1, at=0.0), sync=False)
        journal.append(settled(2, at=1e9), sync=False)
        assert set(journal.load().intents) == {1, 2}


def test_a_failing_automatic_prune_fails_the_append_before_it_writes(path: Path) -> None:
    with SqliteJournal(path, retention=10, prune_every=3) as journal:
        journal.append(settled(1, at=0.0), sync=False)
        journal.append([intent(2, at=100.0)], sync=False)  # the next append prunes first
        other = sqlite3.connect(path)
        other.execute(
            "CREATE TRIGGER keep BEFORE DELETE ON records "
            "BEGIN SELECT RAISE(ABORT, 'read-only medium'); END"
        )
        other.commit()
        other.close()
        with pytest.raises(sqlite3.IntegrityError, match="read-only medium"):
            journal.append([intent(3, at=101.0)], sync=True)
        assert set(journal.load().intents) == {1, 2}


def test_retention_prunes_by_record_time(path: Path) -> None:
    with SqliteJournal(path, retention=10, prune_every=1) as journal:
        journal.append(settled(1, at=0.0), sync=False)
        journal.append([intent(2, at=5.0)], sync=False)  # open: kept however old
        journal.append(settled(3, at=100.0), sync=False)
        journal.append([intent(4, at=101.0)], sync=False)  # prunes up to 90 first
        state = journal.load()
    assert set(state.intents) == {2, 3, 4}
    assert state.next_handle == 5


def test_the_root_package_exports_it() -> None:
    import kraken_proto.adapters.journal as journal

    assert journal.SqliteJournal is SqliteJournal
    assert set(journal.__all__) >= {"SqliteJournal", "JournalLockedError", "SharedNonceSource"}
    assert ROOT.joinpath("adapters", "journal", "sqlite.py").is_file()
