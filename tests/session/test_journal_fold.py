"""The fold (records -> state) and pruning: unit cases, then properties over random journals.

Properties: folding a prefix and then the rest equals folding everything; pruning never
changes the open state (``open_view``), keeps what is recent, is idempotent, and a journal
that goes on after pruning ends in the same open state as one that was never pruned.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import FillLog
from kraken_proto.session._journal import (
    Checkpoint,
    FillAcknowledged,
    FillCursor,
    FillDelivered,
    IntentRecorded,
    JournalCorruptError,
    JournalMarks,
    JournalRecord,
    JournalState,
    NonceRecorded,
    OutcomeKind,
    OutcomeRecorded,
    SubscriptionRecorded,
    advance_marks,
    fold,
    prune_records,
)
from kraken_proto.v1 import AddOrder, CancelAll, CancelOrder, Subscribe, Trade

ORDER = AddOrder(
    ordertype="limit",
    type="buy",
    pair="XBT/USD",
    volume=Decimal("1.25"),
    price=Decimal("100"),
    cl_ord_id="11111111-2222-4333-8444-555555555555",
)
REQUESTS = (ORDER, CancelAll(), CancelOrder(txid=("OABCDE-FGHIJ-KLMNOP",)))
OWN_TRADES = Subscribe(name="ownTrades", snapshot=False)


def intent(handle: int, at: float = 0.0) -> IntentRecorded:
    return IntentRecorded(at=at, handle=handle, request=ORDER)


def outcome(handle: int, at: float = 0.0, result: Any = "accepted") -> OutcomeRecorded:
    return OutcomeRecorded(at=at, handle=handle, result=result)


def fill(trade_id: str, time: str | None = "100", at: float = 0.0) -> FillDelivered:
    trade = Trade(time=None if time is None else Decimal(time), vol=Decimal("0.10"))
    return FillDelivered(at=at, trade_id=trade_id, trade=trade, source="live")


def ack(trade_id: str, at: float = 0.0) -> FillAcknowledged:
    return FillAcknowledged(at=at, trade_id=trade_id)


# --- the fold, case by case -------------------------------------------------------------------


def test_an_empty_journal() -> None:
    state = fold([])
    assert state == JournalState()
    assert (state.next_handle, state.nonce_high_water, state.cursor) == (1, 0, None)
    assert state.open_intents == {}
    assert state.unacked == {}
    assert state.seen_trade_ids == ()


def test_intents_stay_open_until_their_outcome() -> None:
    state = fold([intent(1), intent(2), outcome(1), intent(3)])
    assert list(state.open_intents) == [2, 3]
    assert state.outcomes[1].result == "accepted"
    assert state.next_handle == 4


def test_the_first_outcome_counts_and_an_outcome_may_come_without_its_intent() -> None:
    state = fold([intent(1), outcome(1, result="refused"), outcome(1), outcome(7)])
    assert state.outcomes[1].result == "refused"
    assert 7 in state.outcomes
    assert state.next_handle == 8  # no handle is ever used twice, even one never sent


def test_a_handle_recorded_twice_is_refused() -> None:
    with pytest.raises(JournalCorruptError, match="handle 1 recorded twice"):
        fold([intent(1), outcome(1), intent(1)])


def test_fills_are_unacked_until_acknowledged_and_never_come_back_after() -> None:
    state = fold([fill("A"), fill("B"), ack("A", at=5), fill("A"), ack("C", at=6), fill("C")])
    assert list(state.unacked) == ["B"]
    assert list(state.fills) == ["A", "B"]
    assert state.acked == {"A": 5, "C": 6}
    assert state.seen_trade_ids == ("C", "A", "B")  # only acknowledged first
    again = fold([fill("B", time="1")], start=state)
    assert again.fills["B"].trade.time == Decimal(100)  # a repeat keeps the first delivery


def test_seen_trade_ids_come_oldest_trade_first_so_a_small_window_keeps_the_newest() -> None:
    # Delivered out of time order (a backfill pages newest first), one undated.
    state = fold(
        [
            fill("late", time="300"),
            fill("undated", time=None),
            fill("early", time="100"),
            fill("tie-1", time="200"),
            fill("tie-2", time="200"),
            ack("pruned-fill", at=1),
            ack("early", at=2),
        ]
    )
    seen = state.seen_trade_ids
    assert seen == ("pruned-fill", "early", "tie-1", "tie-2", "late", "undated")
    log = FillLog(window=50)
    log.remember(f"old-{i}" for i in range(100))
    log.remember(seen)
    assert all(log.seen(trade_id) for trade_id in seen)  # the last given are kept


def test_the_latest_acknowledgement_is_kept() -> None:
    assert fold([ack("A", at=9), ack("A", at=3)]).acked == {"A": 9}


def test_the_cursor_is_the_latest_fill_by_time_whatever_the_order() -> None:
    records = [fill("B", "200"), fill("A", "100"), fill("N", None), fill("Z", "NaN")]
    assert fold(records).cursor == FillCursor(trade_id="B", time=Decimal(200))
    assert fold(reversed(records)).cursor == FillCursor(trade_id="B", time=Decimal(200))
    # Equal times: the greater trade id, so any order of the same records agrees.
    tie = [fill("C", "200"), fill("B", "200.0")]
    assert fold(tie).cursor == fold(reversed(tie)).cursor
    assert fold(tie).cursor == FillCursor(trade_id="C", time=Decimal(200))


def test_subscriptions_are_replaced_and_dropped() -> None:
    other = Subscribe(name="ownTrades", snapshot=True)
    state = fold(
        [
            SubscriptionRecorded(at=0, name="ownTrades", request=OWN_TRADES),
            SubscriptionRecorded(at=0, name="openOrders", request=Subscribe(name="openOrders")),
            SubscriptionRecorded(at=0, name="ownTrades", request=other),
            SubscriptionRecorded(at=0, name="openOrders", request=None),
            SubscriptionRecorded(at=0, name="nothing", request=None),
        ]
    )
    assert state.subscriptions == {"ownTrades": other}


def test_marks_are_maxima() -> None:
    cursor = FillCursor(trade_id="X", time=Decimal(50))
    state = fold(
        [
            NonceRecorded(at=0, nonce=10),
            NonceRecorded(at=0, nonce=4),
            Checkpoint(at=0, next_handle=9, nonce_high_water=7, cursor=cursor),
            fill("A", "40"),
            intent(3),
        ]
    )
    assert state.marks == JournalMarks(next_handle=9, nonce_high_water=10, cursor=cursor)
    marks = JournalMarks()
    assert advance_marks(marks, ack("A")) is marks  # unchanged: the same object
    assert advance_marks(marks, Checkpoint(at=0)) is marks
    assert marks.checkpoint(4.0) == Checkpoint(at=4.0)


def test_folding_on_from_a_state_leaves_the_state_alone() -> None:
    first = fold([intent(1)])
    second = fold([outcome(1), fill("A")], start=first)
    assert first.open_intents == {1: intent(1)}
    assert first.fills == {}
    assert second.open_intents == {}


# --- pruning, case by case --------------------------------------------------------------------


def test_pruning_drops_what_settled_before_and_keeps_the_rest() -> None:
    own = SubscriptionRecorded(at=0, name="ownTrades", request=OWN_TRADES)
    records: list[JournalRecord] = [
        own,
        intent(1, at=1),
        outcome(1, at=2),  # settled before 10: goes
        intent(2, at=3),
        outcome(2, at=12),  # settled after: stays
        intent(3, at=4),  # open: stays
        fill("A", "100", at=1),
        ack("A", at=5),  # acknowledged before 10: goes, with its fill
        fill("B", "300", at=2),
        ack("B", at=11),  # stays, with its fill
        fill("C", "200", at=3),  # unacked: stays
        NonceRecorded(at=6, nonce=99),
        SubscriptionRecorded(at=7, name="ownTrades", request=None),
        SubscriptionRecorded(at=8, name="ownTrades", request=OWN_TRADES),
    ]
    kept = prune_records(records, 10)
    assert kept[0] == Checkpoint(
        at=10,
        next_handle=4,
        nonce_high_water=99,
        cursor=FillCursor(trade_id="B", time=Decimal(300)),
    )
    assert list(kept[1:]) == [
        intent(2, at=3),
        outcome(2, at=12),
        intent(3, at=4),
        fill("B", "300", at=2),
        ack("B", at=11),
        fill("C", "200", at=3),
        records[-1],
    ]
    before, after = fold(records), fold(kept)
    assert after.open_view() == before.open_view()
    assert set(after.intents) == {2, 3}
    assert after.acked == {"B": 11}


def test_pruning_an_empty_journal_leaves_a_checkpoint() -> None:
    assert prune_records([], 5) == (Checkpoint(at=5),)


def test_a_handle_with_an_old_outcome_goes_whole() -> None:
    # The outcome that counts is recent, a later duplicate is old: the intent is settled
    # either way, so it goes (and nothing open changes).
    records = [intent(1, at=0), outcome(1, at=20), outcome(1, at=1)]
    assert prune_records(records, 10) == (Checkpoint(at=10, next_handle=2),)


def test_a_fill_acknowledged_again_recently_stays() -> None:
    records = [fill("A"), ack("A", at=1), ack("A", at=20)]
    assert prune_records(records, 10)[1:] == (fill("A"), ack("A", at=20))


# --- properties over random journals ----------------------------------------------------------

TRADE_IDS = [f"T{n}" for n in range(8)]
RESULTS: list[OutcomeKind] = ["accepted", "refused", "unresolved"]
FILL_TIMES = [None, "0", "7", "7.0", "25", "50"]
SUBSCRIPTIONS: list[tuple[str, Subscribe | None]] = [
    ("ownTrades", None),
    ("ownTrades", Subscribe(name="ownTrades")),
    ("openOrders", None),
    ("openOrders", Subscribe(name="openOrders")),
]
moments = st.integers(0, 40).map(float)


_specs = st.one_of(
    st.tuples(st.just("intent"), moments, st.sampled_from(REQUESTS)),
    st.tuples(st.just("outcome"), moments, st.integers(0, 40), st.sampled_from(RESULTS)),
    st.tuples(st.just("fill"), moments, st.integers(0, 7), st.sampled_from(FILL_TIMES)),
    st.tuples(st.just("ack"), moments, st.integers(0, 7)),
    st.tuples(st.just("sub"), moments, st.sampled_from(SUBSCRIPTIONS)),
    st.tuples(st.just("nonce"), moments, st.integers(0, 2**64 - 1)),
    st.tuples(st.just("ckpt"), moments, st.integers(0, 40), st.integers(0, 1000)),
)


@st.composite
def journals(
    draw: st.DrawFn, first_handle: int = 1, trade_ids: Sequence[str] = TRADE_IDS
) -> list[JournalRecord]:
    """A plausible journal: fresh handles for intents, outcomes for any handle (mostly
    known ones), fills and acknowledgements over a small pool of trade ids, subscriptions,
    nonces and the odd checkpoint; times in any order."""
    records: list[JournalRecord] = []
    handle = first_handle
    for spec in draw(st.lists(_specs, max_size=40)):
        kind, at = spec[0], spec[1]
        if kind == "intent":
            records.append(IntentRecorded(at=at, handle=handle, request=spec[2]))
            handle += 1
        elif kind == "outcome":
            target = first_handle + spec[2] % (handle - first_handle + 2)
            records.append(OutcomeRecorded(at=at, handle=target, result=spec[3]))
        elif kind == "fill":
            records.append(fill(trade_ids[spec[2] % len(trade_ids)], spec[3], at=at))
        elif kind == "ack":
            records.append(ack(trade_ids[spec[2] % len(trade_ids)], at=at))
        elif kind == "sub":
            name, request = spec[2]
            records.append(SubscriptionRecorded(at=at, name=name, request=request))
        elif kind == "nonce":
            records.append(NonceRecorded(at=at, nonce=spec[2]))
        else:
            next_handle = 1 + spec[2] % handle
            records.append(Checkpoint(at=at, next_handle=next_handle, nonce_high_water=spec[3]))
    return records


@given(journals(), st.data())
def test_folding_a_prefix_then_the_rest_equals_folding_all(
    records: list[JournalRecord], data: st.DataObject
) -> None:
    split = data.draw(st.integers(0, len(records)))
    assert fold(records[split:], start=fold(records[:split])) == fold(records)


@given(journals(), moments)
def test_pruning_never_changes_the_open_state(records: list[JournalRecord], before: float) -> None:
    kept = prune_records(records, before)
    full, pruned = fold(records), fold(kept)
    assert pruned.open_view() == full.open_view()
    # What settled or was acknowledged from `before` on is still there.
    recent = {h for h, o in full.outcomes.items() if o.at >= before}
    for handle in recent - {
        r.handle for r in records if isinstance(r, OutcomeRecorded) and r.at < before
    }:
        assert pruned.outcomes[handle] == full.outcomes[handle]
        if handle in full.intents:
            assert pruned.intents[handle] == full.intents[handle]
    assert {t for t, at in full.acked.items() if at >= before} == set(pruned.acked)
    # Pruning only removes.
    assert len(kept) <= len(records) + 1


@given(journals(), moments)
def test_pruning_twice_is_pruning_once(records: list[JournalRecord], before: float) -> None:
    once = prune_records(records, before)
    assert fold(prune_records(once, before)) == fold(once)


@given(journals(), moments, st.data())
def test_a_journal_that_goes_on_after_pruning_ends_in_the_same_open_state(
    records: list[JournalRecord], before: float, data: st.DataObject
) -> None:
    # What comes later numbers from next_handle (as a session must) and delivers new fills.
    state = fold(records)
    more = data.draw(
        journals(first_handle=state.next_handle, trade_ids=["N1", "N2", *TRADE_IDS[:2]])
    )
    stale = {t for t, at in state.acked.items() if at < before}
    if any(isinstance(r, FillDelivered) and r.trade_id in stale for r in more):
        # A fill whose acknowledgement was pruned long ago is new again: that is the window.
        more = [r for r in more if not (isinstance(r, FillDelivered) and r.trade_id in stale)]
    assert (
        fold([*prune_records(records, before), *more]).open_view()
        == fold([*records, *more]).open_view()
    )
