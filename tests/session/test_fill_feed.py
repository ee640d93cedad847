"""FillFeed's backfill range: where a wanted backfill starts and ends, and what a snapshot
does to it (``kraken_proto/session/_fill_feed.py``). Pure: the REST queue is pumped and
answered by hand, with no clock."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kraken_proto.v1 import OwnTrades, Trade

from tests.session.test_session_defects import _feed


def _snapshot(*times: str | None) -> OwnTrades:
    return OwnTrades(
        trades=tuple(
            (f"TS{n}", Trade(time=None if t is None else Decimal(t))) for n, t in enumerate(times)
        )
    )


def _wanted(cursor: str = "1000.5") -> Any:
    """A feed whose last fill was at ``cursor`` and that lost its link: a backfill from
    ``cursor`` less the margin (2 s) is wanted, with no end."""
    feed, _ = _feed()
    feed.cursor = Decimal(cursor)
    feed.want_backfill()
    return feed


def _sent(feed: Any) -> tuple[int, dict[str, list[str]]]:
    """The next call the feed's REST queue sends, and its parameters."""
    ready = feed._rest.pump(0.0)
    assert ready is not None
    call, request, purpose = ready
    assert purpose == "TradesHistory"
    return call, parse_qs(request.body.decode())


def _answer(feed: Any, call: int, trades: dict[str, str], count: int) -> None:
    """Answer ``call`` with ``trades`` (id -> time) of ``count`` matching in all."""
    record = {"ordertxid": "O1", "pair": "XXBTZUSD", "type": "buy", "ordertype": "limit"}
    body = {
        "error": [],
        "result": {
            "trades": {
                tid: {**record, "time": float(t), "price": "1", "vol": "1", "cost": "1", "fee": "0"}
                for tid, t in trades.items()
            },
            "count": count,
        },
    }
    assert feed._rest.answer(call, 200, json.dumps(body).encode(), 0.0) is None
    assert not any(job.retries for job in feed._rest.jobs)  # taken, not to be retried


@pytest.mark.parametrize("unconsolidated", [False, True])
def test_a_snapshot_bounds_the_backfill_at_its_oldest_trade(unconsolidated: bool) -> None:
    """Every trade newer than the snapshot's oldest is in it or comes live after it: the
    backfill stops there (inclusive), on every page, whichever way the call is built."""
    feed = _wanted()
    feed.deliver(_snapshot("1003", "1001.25"), "snapshot")
    assert (feed.backfill_from, feed.backfill_until) == (Decimal("998.5"), Decimal("1001.25"))
    feed.backfill(unconsolidated=unconsolidated)
    assert feed.backfill_until is None
    call, params = _sent(feed)
    assert params["start"] == ["998.5"]
    assert params["end"] == ["1001.251"]  # a millisecond over: the times' last digits differ
    assert "ofs" not in params
    assert ("consolidate_taker" in params) is unconsolidated
    _answer(feed, call, {"TA": "1001", "TB": "1000"}, count=4)  # and TS1
    call, params = _sent(feed)
    assert (params["end"], params["ofs"]) == (["1001.251"], ["2"])
    _answer(feed, call, {"TC": "999"}, count=4)
    assert not feed.backfilling


def test_without_a_snapshot_the_backfill_has_no_end() -> None:
    feed = _wanted()
    feed.backfill(unconsolidated=False)
    _, params = _sent(feed)
    assert params["start"] == ["998.5"]
    assert "end" not in params


@pytest.mark.parametrize(
    ("times", "until"),
    [
        ((), None),  # empty: where it reaches back is not known
        (("1005", None), None),  # an undated trade: not known either
        (("1005", "NaN"), None),
        (("1005", "1001"), Decimal("1001")),
    ],
)
def test_only_a_dated_snapshot_bounds_the_backfill(
    times: tuple[str | None, ...], until: Decimal | None
) -> None:
    feed = _wanted()
    feed.deliver(_snapshot(*times), "snapshot")
    assert feed.backfill_from == Decimal("998.5")
    assert feed.backfill_until == until


def test_a_snapshot_not_reaching_past_the_start_drops_the_backfill() -> None:
    """Its oldest trade at the start: the range left, (start, oldest], is empty."""
    feed = _wanted()
    feed.deliver(_snapshot("1005", "998.5"), "snapshot")
    assert feed.backfill_from is None
    assert feed.backfill_until is None
    assert not feed.held


def test_a_later_snapshot_only_narrows_the_bound() -> None:
    """Two snapshots on one link: each covers what is newer than its oldest trade, so the
    earlier (smaller) end stands and a smaller one replaces it."""
    feed = _wanted()
    feed.deliver(_snapshot("1003", "1001"), "snapshot")
    feed.deliver(_snapshot("1004", "1002"), "snapshot")
    assert feed.backfill_until == Decimal("1001")
    feed.deliver(_snapshot("1004", "1000"), "snapshot")
    assert feed.backfill_until == Decimal("1000")


def test_a_new_loss_clears_the_bound_and_keeps_the_earliest_start() -> None:
    """Wants merged before the backfill starts: the earliest start and the latest end
    (none: the link that bounded it is gone) until the next snapshot bounds them again."""
    feed = _wanted()
    feed.deliver(_snapshot("1003", "1001"), "snapshot")
    feed.cursor = Decimal("1010")
    feed.want_backfill()
    assert (feed.backfill_from, feed.backfill_until) == (Decimal("998.5"), None)
    feed.deliver(_snapshot("1012", "1009"), "snapshot")
    assert (feed.backfill_from, feed.backfill_until) == (Decimal("998.5"), Decimal("1009"))


def test_a_live_update_does_not_bound_or_drop_the_backfill() -> None:
    feed = _wanted()
    feed.deliver(_snapshot("900"), "live")
    assert (feed.backfill_from, feed.backfill_until) == (Decimal("998.5"), None)


def test_a_snapshot_while_a_backfill_runs_bounds_or_drops_the_next_one() -> None:
    """The running backfill took every earlier want: the one wanted since is about fills
    missed after it started, which the snapshot covers as it would with nothing running.
    The running one keeps its own range."""
    feed = _wanted()
    feed.deliver(_snapshot("1003", "1001"), "snapshot")
    feed.backfill(unconsolidated=False)
    call, params = _sent(feed)
    assert params["end"] == ["1001.001"]
    feed.cursor = Decimal("1010")
    feed.want_backfill()  # the link is lost again while the first backfill runs
    feed.deliver(_snapshot("1012", "1009"), "snapshot")
    assert (feed.backfill_from, feed.backfill_until) == (Decimal("1008"), Decimal("1009"))
    assert feed.backfilling
    feed.deliver(_snapshot("1012", "1007"), "snapshot")  # reaches back past 1008
    assert feed.backfill_from is None
    assert feed.held  # the running one still holds the journal's cursor
    _answer(feed, call, {"TA": "1000"}, count=1)
    assert not feed.backfilling
    assert not feed.held


def _live(feed: Any, trades: dict[str, str]) -> None:
    feed.deliver(
        OwnTrades(trades=tuple((tid, Trade(time=Decimal(t))) for tid, t in trades.items())),
        "live",
    )


def _bounded() -> Any:
    """A feed that saw fills live at 999-1000.5, lost its link, and whose reconnect snapshot
    reaches back to 1001: a backfill of (998.5, 1001.001] is sent."""
    feed, _ = _feed()
    _live(feed, {"T1": "999", "T2": "1000", "T3": "1000.5"})
    feed.want_backfill()
    feed.deliver(_snapshot("1003", "1001"), "snapshot")
    feed.backfill(unconsolidated=False)
    return feed


def test_a_bounded_backfill_stops_once_it_holds_as_many_trades_as_the_range_has() -> None:
    """The first page and the fills seen live make up ``count``: every trade of the range
    is held, and the pages of trades seen live are not asked for."""
    feed = _bounded()
    call, params = _sent(feed)
    assert params["start"] == ["998.5"]
    # The newest two of five: T4 was missed while the link was down.
    _answer(feed, call, {"TS1": "1001", "T4": "1000.8"}, count=5)
    assert not feed.backfilling
    assert feed._rest.pump(0.0) is None
    assert [e.trade_id for e in feed._events] == ["T1", "T2", "T3", "TS0", "TS1", "T4"]


def test_a_bounded_backfill_pages_on_while_a_trade_of_the_range_may_be_missing() -> None:
    feed = _bounded()
    call, _ = _sent(feed)
    _answer(feed, call, {"TS1": "1001", "T4": "1000.8"}, count=6)  # one more than held
    assert feed.backfilling
    call, params = _sent(feed)
    assert params["ofs"] == ["2"]
    _answer(feed, call, {"T3": "1000.5", "T2": "1000", "T1": "999", "T0": "998.7"}, count=6)
    assert not feed.backfilling
    assert feed._events[-1].trade_id == "T0"


def test_a_fill_close_to_a_bound_counts_only_when_rest_returns_it() -> None:
    """Its time as the WebSocket showed it may put it in the range where Kraken's does not:
    counted, it could stand in for a trade still missing."""
    feed, _ = _feed()
    _live(feed, {"T1": "998.5005", "T2": "1000", "T3": "1000.5"})
    feed.want_backfill()
    feed.deliver(_snapshot("1003", "1001"), "snapshot")
    feed.backfill(unconsolidated=False)
    call, _ = _sent(feed)
    _answer(feed, call, {"TS1": "1001", "T4": "1000.8"}, count=5)
    assert feed.backfilling  # T1 is not counted: T2, T3 and the page make four


def test_fills_made_in_the_instant_of_the_snapshots_oldest_count_as_held() -> None:
    """A burst of fills at one time, more than a page: the snapshot lists some, the rest
    were seen live; REST returns 50 of them, and all of them count."""
    feed, _ = _feed()
    burst = {f"TB{n}": "1001" for n in range(60)}
    _live(feed, {"T1": "999", **burst})
    feed.want_backfill()  # from 999 (the cursor, 1001, less the margin)
    feed.deliver(_snapshot("1001"), "snapshot")
    feed.backfill(unconsolidated=False)
    call, params = _sent(feed)
    assert (params["start"], params["end"]) == (["999.0"], ["1001.001"])
    _answer(feed, call, {f"TB{n}": "1001" for n in range(50)}, count=62)
    assert feed.backfilling  # T1 is not in the range: the burst and TS0 are 61
    feed, _ = _feed()
    _live(feed, {"T1": "999.5", **burst})
    feed.want_backfill()
    feed.deliver(_snapshot("1001"), "snapshot")
    feed.backfill(unconsolidated=False)
    call, _ = _sent(feed)
    _answer(feed, call, {f"TB{n}": "1001" for n in range(50)}, count=62)
    assert not feed.backfilling


def test_an_undated_fill_is_not_counted_as_held() -> None:
    """An undated fill is remembered at a stand-in time, not its own."""
    feed = _bounded()
    feed.deliver(OwnTrades(trades=(("TU", Trade()),)), "live")  # kept at the cursor, 1003
    feed.backfill_from = None
    call, _ = _sent(feed)
    feed._recent.note("TU", Decimal("1000.9"), dated=False)  # as if remembered in range
    _answer(feed, call, {"TS1": "1001", "T4": "1000.8"}, count=6)
    assert feed.backfilling


def test_a_fill_delivered_after_a_page_was_asked_for_counts_from_the_next() -> None:
    """Kraken counted the trades made before its answer; a fill delivered after the call
    went out may have been made after it (out of time order), and not be in ``count``."""
    feed = _bounded()
    call, _ = _sent(feed)
    _live(feed, {"T5": "1000.9"})
    _answer(feed, call, {"TS1": "1001", "T4": "1000.8"}, count=6)
    assert feed.backfilling
    call, _ = _sent(feed)  # asked for with T5 held: six, of six
    _answer(feed, call, {"T3": "1000.5"}, count=6)
    assert not feed.backfilling


def test_a_backfill_without_an_end_reads_every_page() -> None:
    """Without an end, trades made while it pages join the range: a count can be met by
    a fill made after the call while an older one is still missing."""
    feed, _ = _feed()
    _live(feed, {"T1": "999", "T2": "1000", "T3": "1000.5"})
    feed.want_backfill()
    feed.backfill(unconsolidated=False)
    call, params = _sent(feed)
    assert "end" not in params
    _answer(feed, call, {"T3": "1000.5", "T2": "1000"}, count=3)
    assert feed.backfilling
    call, params = _sent(feed)
    assert params["ofs"] == ["2"]
    _answer(feed, call, {"T1": "999"}, count=3)
    assert not feed.backfilling


def test_recent_fills_forget_undated_ones_with_their_stand_in_time() -> None:
    from kraken_proto.session._recent_fills import SNAPSHOT_SIZE, RecentFills

    recent = RecentFills()
    recent.note("TU-old", Decimal(1), dated=False)
    recent.note("TU-new", Decimal(500), dated=False)
    for n in range(SNAPSHOT_SIZE):
        recent.note(f"T{n}", Decimal(100 + n))
    recent.prune(Decimal(120))  # the newest 50 are TU-new and T1-T49: the floor is T1's
    assert "TU-old" not in recent
    assert recent.dated_between(Decimal(0), Decimal(1000)) == {
        f"T{n}" for n in range(1, SNAPSHOT_SIZE)
    }
    assert recent.dated_between(Decimal(100), Decimal(102)) == {"T1", "T2"}
    assert recent._undated.keys() == {"TU-new"}


@given(
    st.lists(
        st.tuples(
            st.lists(st.integers(0, 150), max_size=3),
            st.sampled_from(["live", "snapshot", "rest"]),
        ),
        max_size=60,
    )
)
@settings(max_examples=60)
def test_one_trade_frames_deliver_as_longer_frames_do(
    frames: list[tuple[list[int], str]],
) -> None:
    """The one-trade fast path of ``deliver`` (the repeat test without a generator) reports
    what the general path reports for the same trade: a one-trade frame fed to one feed, and
    the same trade twice in one frame (which takes the general path) to another."""
    fast, fast_events = _feed()
    general, general_events = _feed()
    for numbers, source in frames:
        pairs = tuple(
            (f"T{n}", Trade(time=None if n % 7 == 0 else Decimal(n), ordertxid="O1"))
            for n in numbers
        )
        fast.deliver(OwnTrades(trades=pairs, sequence=5), source)
        general.deliver(OwnTrades(trades=pairs * 2 if len(pairs) == 1 else pairs), source)
        assert fast_events == general_events
        assert (fast.cursor, fast.cursor_id) == (general.cursor, general.cursor_id)
        assert len(fast._recent) == len(general._recent)


def test_recent_fills_find_the_snapshot_s_oldest_in_order_out_of_order_and_with_ties() -> None:
    """The ``SNAPSHOT_SIZE``-th newest time, whether the newest were noted last (the usual
    stream, answered by counting), earlier (the heap), or tied with older ones."""
    from kraken_proto.session._recent_fills import SNAPSHOT_SIZE, RecentFills

    def oldest_of_snapshot(times: list[int]) -> Decimal:
        recent = RecentFills()
        for n, time in enumerate(times):
            recent.note(f"T{n}", Decimal(time))
        return recent._snapshot_oldest()

    in_order = list(range(200))
    assert oldest_of_snapshot(in_order) == 200 - SNAPSHOT_SIZE
    newest_first = in_order[::-1]
    assert oldest_of_snapshot(newest_first) == 200 - SNAPSHOT_SIZE
    # Ties: the last 50 noted include time 5, shared with 100 older fills; 5 is the answer.
    tied = [5] * 100 + [5] + list(range(6, 55))
    assert oldest_of_snapshot(tied) == 5
    # The last noted run back in time: one older fill among them, newer ones before.
    one_late = [*range(100, 160), 1, *range(160, 209)]
    assert oldest_of_snapshot(one_late) == sorted(one_late)[-SNAPSHOT_SIZE]


@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("note"), st.integers(0, 120), st.integers(0, 300), st.booleans()),
            st.tuples(st.just("prune"), st.integers(0, 300)),
        ),
        max_size=200,
    )
)
@settings(max_examples=60)
def test_recent_fills_prune_keeps_the_newest_snapshot_and_everything_from_the_floor(
    steps: list[tuple[Any, ...]],
) -> None:
    """A model of ``RecentFills``: id -> time; a prune keeps every fill at or after the floor
    and the ``SNAPSHOT_SIZE`` newest (by time), and keeps all while fewer are held."""
    from kraken_proto.session._recent_fills import SNAPSHOT_SIZE, RecentFills

    recent = RecentFills()
    model: dict[str, Decimal] = {}
    undated: set[str] = set()
    for step in steps:
        if step[0] == "note":
            _, number, time, dated = step
            recent.note(f"T{number}", Decimal(time), dated=dated)
            model[f"T{number}"] = Decimal(time)
            if not dated:
                undated.add(f"T{number}")
        else:
            floor = Decimal(step[1])
            recent.prune(floor)
            if len(model) >= SNAPSHOT_SIZE:
                floor = min(floor, sorted(model.values())[-SNAPSHOT_SIZE])
                model = {tid: time for tid, time in model.items() if time >= floor}
                undated &= model.keys()
        assert dict(recent) == model
        assert recent._undated.keys() == undated
        assert recent.due() == (len(model) > recent.due_above)
