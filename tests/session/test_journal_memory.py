"""``InMemoryJournal``: the store contract, and crashes that lose exactly what was not synced."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import LocalProtocolError
from kraken_proto.session._journal import (
    FillAcknowledged,
    FillDelivered,
    InMemoryJournal,
    IntentRecorded,
    JournalError,
    JournalRecord,
    JournalStore,
    OutcomeRecorded,
    PersistRecords,
    fold,
    prune_records,
)
from kraken_proto.v1 import CancelAll, Ping, Trade

from tests.session.test_journal_fold import journals


def intent(handle: int) -> IntentRecorded:
    return IntentRecorded(at=float(handle), handle=handle, request=CancelAll())


def test_it_is_a_journal_store() -> None:
    store: JournalStore = InMemoryJournal()  # mypy checks the protocol statically too
    assert isinstance(store, JournalStore)


def test_synced_records_survive_a_crash_and_the_rest_do_not() -> None:
    journal = InMemoryJournal()
    journal.append([intent(1)], sync=True)
    journal.append([OutcomeRecorded(at=2, handle=1, result="accepted")], sync=False)
    journal.append([intent(2)], sync=False)
    assert journal.pending == 2
    assert len(journal) == 3
    assert set(journal.load().intents) == {1, 2}
    journal.crash()
    assert journal.pending == 0
    assert len(journal) == 1
    state = journal.load()
    assert list(state.open_intents) == [1]  # the outcome was lost: reconcile it again
    assert (journal.appends, journal.syncs) == (3, 1)


def test_a_sync_makes_every_earlier_record_durable() -> None:
    journal = InMemoryJournal()
    journal.append([intent(1)], sync=False)
    journal.append([intent(2)], sync=True)
    journal.crash()
    assert set(journal.load().intents) == {1, 2}
    journal.append([intent(3)], sync=False)
    journal.sync()
    journal.crash()
    assert set(journal.load().intents) == {1, 2, 3}


def test_a_crash_can_keep_a_prefix_of_what_was_pending() -> None:
    journal = InMemoryJournal([intent(1)])
    journal.append([intent(2), intent(3)], sync=False)
    journal.append([intent(4)], sync=False)
    journal.crash(keep=2)
    assert [r.handle for r in journal.records() if isinstance(r, IntentRecorded)] == [1, 2, 3]
    with pytest.raises(ValueError, match="keep"):
        journal.crash(keep=-1)


def test_an_append_is_all_or_nothing() -> None:
    journal = InMemoryJournal()
    unencodable = intent(2)
    msgspec.structs.force_setattr(unencodable, "request", Ping())
    with pytest.raises(LocalProtocolError, match="cannot record a Ping"):
        journal.append([intent(1), unencodable], sync=True)
    assert journal.records() == []


def test_pruning_is_prune_records_and_durable() -> None:
    journal = InMemoryJournal()
    records: list[JournalRecord] = [
        intent(1),
        OutcomeRecorded(at=1, handle=1, result="accepted"),
        intent(2),
    ]
    journal.append(records, sync=False)
    journal.prune(5)
    assert journal.records() == list(prune_records(records, 5))
    journal.crash()
    assert list(journal.load().open_intents) == [2]


def test_a_closed_store_accepts_nothing_until_it_is_reopened_by_a_crash() -> None:
    journal = InMemoryJournal()
    journal.close()
    journal.close()
    with pytest.raises(JournalError, match="closed"):
        journal.append([intent(1)], sync=True)
    with pytest.raises(JournalError, match="closed"):
        journal.prune(0)
    assert journal.load().intents == {}  # reading stays possible
    journal.crash()
    journal.append([intent(1)], sync=True)
    assert repr(journal) == "<InMemoryJournal durable=1 pending=0>"


def test_a_runner_loop_carrying_out_persist_records() -> None:
    # What a runner does with the action: append in order, durable when asked.
    journal = InMemoryJournal()
    fill = FillDelivered(
        at=1, trade_id="T1", trade=Trade(time=Decimal("1700000000.1")), source="live"
    )
    actions = [
        PersistRecords.of([intent(1)]),
        PersistRecords.of([fill]),
        PersistRecords.of([FillAcknowledged(at=2, trade_id="T1")]),
    ]
    for action in actions:
        journal.append(action.records, sync=action.sync)
    journal.crash()
    state = journal.load()
    assert state.unacked == {}
    assert state.cursor is not None
    assert state.cursor.trade_id == "T1"


@given(journals(), st.data())
def test_a_crash_anywhere_loses_a_suffix_of_the_unsynced_records_only(
    records: list[JournalRecord], data: st.DataObject
) -> None:
    journal = InMemoryJournal()
    syncs = data.draw(st.lists(st.booleans(), min_size=len(records), max_size=len(records)))
    last_synced = 0
    for index, (record, sync) in enumerate(zip(records, syncs, strict=True)):
        journal.append([record], sync=sync)
        if sync:
            last_synced = index + 1
    keep = data.draw(st.integers(0, len(records) - last_synced))
    journal.crash(keep=keep)
    assert journal.load() == fold(records[: last_synced + keep])
