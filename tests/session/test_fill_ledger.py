"""The fill ledger (``kraken_proto/session/_fill_ledger.py``) and what ``FillFeed`` does with
one (``_fill_feed.py``): the ``FillLedger`` contract, checked against both ledgers
(``InMemoryFillLedger`` and the adapters' ``SqliteFillLedger``); ``reach`` against a
brute-force model; the spans a feed publishes; backfills served from the ledger; two
``Session`` objects on one key sharing one ledger. Pure apart from the SQLite ledger's files
(``tmp_path``): the REST queue is pumped and answered by hand, with no clock."""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kraken_proto import (
    AddOrder,
    Credentials,
    FillReceived,
    LocalProtocolError,
    Session,
    SessionConfig,
    SessionState,
)
from kraken_proto.adapters.journal import SqliteFillLedger
from kraken_proto.adapters.simulator.model.exchange import SimulatorConfig
from kraken_proto.rest import NonceSource
from kraken_proto.rest._counter import RestCallCounter
from kraken_proto.rest._request import RestRequest
from kraken_proto.session import FillLedger, InMemoryFillLedger, LedgerSpan
from kraken_proto.session._context import SessionContext
from kraken_proto.session._fill_feed import FillFeed
from kraken_proto.session._fill_ledger import reach
from kraken_proto.session._journal import JournalCorruptError
from kraken_proto.session._journal_codec import decode_trade, encode_trade
from kraken_proto.session._rest import RestJob, RestQueue
from kraken_proto.v1 import OwnTrades, Subscribe, Trade

from tests.session.session_wire import Wire
from tests.session.test_fill_feed import _answer, _sent

pytestmark = pytest.mark.timeout(60)

D = Decimal


def _trade(time: str | None, **fields: Any) -> Trade:
    return Trade(time=None if time is None else D(time), **fields)


def _full_trade(time: str) -> Trade:
    """A trade with every field set, numbers with digits a float would lose."""
    return Trade(
        ordertxid="OABCDE-FGHIJ-KLMNOP",
        postxid="TKH2SE-M7IF5-CFI7LT",
        pair="XXBTZUSD",
        time=D(time),
        type="buy",
        ordertype="limit",
        price=D("30000.123456789012345678"),
        cost=D("300.00123456789012345678"),
        fee=D("0.000000000000000001"),
        vol=D("0.01000000000000000001"),
        margin=D("-0E-8"),
        margin_borrow=True,
        userref=-7,
        cl_ord_id="mine-1",
        ext_exec_id="exec-1",
    )


# --- the contract, for both ledgers -------------------------------------------------------------


def _ledger(kind: str, directory: Path, **options: Any) -> FillLedger:
    if kind == "memory":
        return InMemoryFillLedger(**options)
    return SqliteFillLedger(directory, "contract-key", **options)


@pytest.fixture(params=["memory", "sqlite"])
def make_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A factory of ledgers of one kind (the SQLite ones closed at the end)."""
    opened: list[FillLedger] = []

    def make(**options: Any) -> FillLedger:
        ledger = _ledger(request.param, tmp_path, **options)
        opened.append(ledger)
        return ledger

    yield make
    for ledger in opened:
        if isinstance(ledger, SqliteFillLedger):
            ledger.close()


def test_both_ledgers_are_fill_ledgers(make_ledger: Any) -> None:
    assert isinstance(make_ledger(), FillLedger)


def test_publish_stores_trades_then_the_span(make_ledger: Any) -> None:
    ledger = make_ledger()
    assert ledger.spans(D(0), per_fill=False) == []
    assert ledger.trades(D(0), D(10**10), per_fill=False) == []
    trades = [("T2", _trade("1002")), ("T1", _trade("1001")), ("T3", _trade("1003.5"))]
    span = LedgerSpan("a-1", D("1000.5"), D("1003"))
    ledger.publish(trades, span, per_fill=False)
    assert ledger.spans(D(0), per_fill=False) == [span]
    assert ledger.spans(D("1002.999"), per_fill=False) == [span]
    assert ledger.spans(D("1003"), per_fill=False) == []  # ends at 1003: not after it
    # Oldest first; low exclusive, high inclusive.
    assert [t for t, _ in ledger.trades(D(0), D(2000), per_fill=False)] == ["T1", "T2", "T3"]
    assert [t for t, _ in ledger.trades(D("1001"), D("1003.5"), per_fill=False)] == ["T2", "T3"]
    assert [t for t, _ in ledger.trades(D("1000"), D("1002"), per_fill=False)] == ["T1", "T2"]
    assert ledger.trades(D("1003.5"), D("2000"), per_fill=False) == []


def test_a_stored_trade_id_is_kept_as_it_was(make_ledger: Any) -> None:
    ledger = make_ledger()
    ledger.publish([("T1", _trade("1001", pair="first"))], None, per_fill=False)
    ledger.publish([("T1", _trade("1005", pair="second"))], None, per_fill=False)
    assert ledger.trades(D(0), D(2000), per_fill=False) == [("T1", _trade("1001", pair="first"))]


def test_a_span_with_a_stored_key_replaces_it(make_ledger: Any) -> None:
    ledger = make_ledger()
    ledger.publish([], LedgerSpan("a-1", D(1000), D(1001)), per_fill=False)
    ledger.publish([], LedgerSpan("b-1", D(900), D(950)), per_fill=False)
    ledger.publish([], LedgerSpan("a-1", D(1000), D(1010)), per_fill=False)
    spans = sorted(ledger.spans(D(0), per_fill=False), key=lambda span: span.key)
    assert spans == [LedgerSpan("a-1", D(1000), D(1010)), LedgerSpan("b-1", D(900), D(950))]
    assert ledger.spans(D(960), per_fill=False) == [LedgerSpan("a-1", D(1000), D(1010))]


def test_per_fill_keeps_two_ledgers_apart(make_ledger: Any) -> None:
    ledger = make_ledger()
    ledger.publish([("T1", _trade("1001"))], LedgerSpan("a-1", D(1000), D(1001)), per_fill=False)
    ledger.publish([("T1", _trade("1002"))], LedgerSpan("b-1", D(1000), D(1002)), per_fill=True)
    assert ledger.trades(D(0), D(2000), per_fill=False) == [("T1", _trade("1001"))]
    assert ledger.trades(D(0), D(2000), per_fill=True) == [("T1", _trade("1002"))]
    assert ledger.spans(D(0), per_fill=False) == [LedgerSpan("a-1", D(1000), D(1001))]
    assert ledger.spans(D(0), per_fill=True) == [LedgerSpan("b-1", D(1000), D(1002))]


def test_trades_round_trip_exactly(make_ledger: Any) -> None:
    ledger = make_ledger()
    full = _full_trade("1700000000.123456789")
    bare = _trade("1700000001")
    ledger.publish([("TF", full), ("TB", bare)], None, per_fill=False)
    assert ledger.trades(D(0), D(10**10), per_fill=False) == [("TF", full), ("TB", bare)]
    (_, back), _ = ledger.trades(D(0), D(10**10), per_fill=False)
    assert back.price is not None
    assert str(back.price) == "30000.123456789012345678"
    assert str(back.margin) == "-0E-8"
    # The exact time decides, not a float's: 1700000000.123456789 is after .1234567885.
    assert [t for t, _ in ledger.trades(D("1700000000.1234567885"), D(10**10), per_fill=False)] == [
        "TF",
        "TB",
    ]
    assert [t for t, _ in ledger.trades(D("1700000000.12345679"), D(10**10), per_fill=False)] == [
        "TB"
    ]


def test_undated_trades_are_skipped(make_ledger: Any) -> None:
    ledger = make_ledger()
    ledger.publish(
        [("TU", _trade(None)), ("TN", _trade("NaN")), ("TI", _trade("Infinity"))],
        None,
        per_fill=False,
    )
    ledger.publish([("TD", _trade("1001")), ("TU2", _trade(None))], None, per_fill=False)
    assert ledger.trades(D(-(10**10)), D(10**10), per_fill=False) == [("TD", _trade("1001"))]
    assert ledger.spans(D(0), per_fill=False) == []


def test_pruning_keeps_the_retention_and_cuts_the_spans(make_ledger: Any) -> None:
    ledger = make_ledger(retention=10.0, prune_every=1)
    ledger.publish([("T100", _trade("100"))], LedgerSpan("s1", D(90), D(100)), per_fill=False)
    ledger.publish([("T105", _trade("105"))], LedgerSpan("s2", D(100), D(115)), per_fill=True)
    # The newest trade (of either flag) sets the cut: 120 - 10.
    ledger.publish([("T120", _trade("120"))], LedgerSpan("s3", D(112), D(118)), per_fill=False)
    assert ledger.spans(D(0), per_fill=False) == [LedgerSpan("s3", D(112), D(118))]  # s1 gone
    assert ledger.spans(D(0), per_fill=True) == [LedgerSpan("s2", D(110), D(115))]  # cut
    assert ledger.trades(D(0), D(1000), per_fill=False) == [("T120", _trade("120"))]
    assert ledger.trades(D(0), D(1000), per_fill=True) == []
    # What is kept stays claimed: a trade inside a kept span is still there.
    ledger.publish([("T119", _trade("119"))], None, per_fill=True)
    assert ledger.trades(D(110), D(115), per_fill=True) == []
    assert [t for t, _ in ledger.trades(D(110), D(120), per_fill=True)] == ["T119"]


def test_pruning_waits_for_prune_every_publishes(make_ledger: Any) -> None:
    ledger = make_ledger(retention=10.0, prune_every=3)
    ledger.publish([("T1", _trade("100"))], None, per_fill=False)
    ledger.publish([("T2", _trade("200"))], None, per_fill=False)
    assert len(ledger.trades(D(0), D(1000), per_fill=False)) == 2  # not yet
    ledger.publish([("T3", _trade("201"))], None, per_fill=False)
    assert [t for t, _ in ledger.trades(D(0), D(1000), per_fill=False)] == ["T2", "T3"]


def test_in_memory_ledger_counts_its_trades_and_prunes_nothing_empty() -> None:
    ledger = InMemoryFillLedger(prune_every=1)
    ledger.publish([("TU", _trade(None))], LedgerSpan("a", D(1), D(2)), per_fill=False)
    assert len(ledger) == 0
    assert ledger.spans(D(0), per_fill=False) == [LedgerSpan("a", D(1), D(2))]  # not pruned
    ledger.publish([("T1", _trade("1")), ("T2", _trade("2"))], None, per_fill=True)
    ledger.publish([("T3", _trade("1.5"))], None, per_fill=True)  # older than the newest
    assert len(ledger) == 3


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"time": {"no": 1}}', "\u00ff"])
def test_decode_trade_reads_only_what_encode_trade_wrote(body: bytes | str) -> None:
    full = _full_trade("1700000000.123456789")
    assert decode_trade(encode_trade(full)) == full
    assert decode_trade(encode_trade(full).decode()) == full
    with pytest.raises(JournalCorruptError, match="undecodable trade"):
        decode_trade(body)


# --- reach ----------------------------------------------------------------------------------------

_halves = st.integers(min_value=0, max_value=40).map(lambda n: D(n) / 2)


@st.composite
def _spans(draw: st.DrawFn) -> list[LedgerSpan]:
    spans = []
    for n, (low, length) in enumerate(
        draw(st.lists(st.tuples(_halves, st.integers(1, 12)), max_size=8))
    ):
        spans.append(LedgerSpan(f"s{n}", low, low + D(length) / 2))
    return spans


def _brute_reach(spans: list[LedgerSpan], after: Decimal) -> Decimal:
    """The greatest end (or ``after``) up to which every quarter point past ``after`` lies in a
    span: endpoints are on halves, so quarters sample every piece of the union."""

    def inside(point: Decimal) -> bool:
        return any(span.after < point <= span.through for span in spans)

    best = after
    for end in sorted({span.through for span in spans if span.through > after}):
        points = (after + D(k) / 4 for k in range(1, int((end - after) * 4) + 1))
        if all(inside(point) for point in points):
            best = end
    return best


@settings(max_examples=400)
@given(spans=_spans(), after=_halves)
def test_reach_matches_a_brute_force_model(spans: list[LedgerSpan], after: Decimal) -> None:
    assert reach(spans, after) == _brute_reach(spans, after)
    assert reach(reversed(spans), after) == reach(spans, after)  # order does not matter


def test_reach_examples() -> None:
    spans = [LedgerSpan("a", D(0), D(5)), LedgerSpan("b", D(5), D(8)), LedgerSpan("c", D(9), D(12))]
    assert reach(spans, D(0)) == D(8)  # touching spans join
    assert reach(spans, D(3)) == D(8)
    assert reach(spans, D(8)) == D(8)  # (8, 9] is not covered
    assert reach(spans, D(9)) == D(12)
    assert reach([], D(3)) == D(3)


_times = st.integers(min_value=0, max_value=60).map(lambda n: D(n) / 2)


@st.composite
def _history(draw: st.DrawFn) -> tuple[dict[str, Decimal], list[tuple[list[str], Any]]]:
    """The account's trades (id -> time) and publishes: each some trades, and maybe an honest
    span (every account trade in it is published by then: this publish adds them)."""
    times = draw(st.lists(_times, min_size=1, max_size=25))
    account = {f"T{n}": time for n, time in enumerate(times)}
    ids = sorted(account)
    publishes = []
    for _ in range(draw(st.integers(1, 12))):
        chosen = draw(st.lists(st.sampled_from(ids), max_size=6))
        span = None
        if draw(st.booleans()):
            low = draw(_times)
            span = (low, low + D(draw(st.integers(1, 20))) / 2)
        publishes.append((chosen, span))
    return account, publishes


def _check_claims(
    ledger: FillLedger,
    account: dict[str, Decimal],
    publishes: list[tuple[list[str], Any]],
    points: list[Decimal],
) -> None:
    for n, (chosen, bounds) in enumerate(publishes):
        span = None
        ids = set(chosen)
        if bounds is not None:
            low, high = bounds
            span = LedgerSpan(f"k{n % 4}", low, high)  # some keys repeat: replaced
            ids |= {tid for tid, time in account.items() if low < time <= high}
        trades = [(tid, Trade(time=account[tid])) for tid in sorted(ids)]
        ledger.publish(trades, span, per_fill=False)
    for point in points:
        covered = reach(ledger.spans(point, per_fill=False), point)
        found = {tid for tid, _ in ledger.trades(point, covered, per_fill=False)}
        claimed = {tid for tid, time in account.items() if point < time <= covered}
        assert claimed <= found


@settings(max_examples=300)
@given(
    history=_history(),
    points=st.lists(_times, min_size=1, max_size=6),
    retention=st.integers(1, 40),
    prune_every=st.integers(1, 4),
)
def test_every_trade_reach_claims_is_in_the_memory_ledger(
    history: tuple[dict[str, Decimal], list[tuple[list[str], Any]]],
    points: list[Decimal],
    retention: int,
    prune_every: int,
) -> None:
    account, publishes = history
    ledger = InMemoryFillLedger(retention=float(retention), prune_every=prune_every)
    _check_claims(ledger, account, publishes, points)


@settings(max_examples=40)
@given(
    history=_history(),
    points=st.lists(_times, min_size=1, max_size=6),
    retention=st.integers(1, 40),
)
def test_every_trade_reach_claims_is_in_the_sqlite_ledger(
    history: tuple[dict[str, Decimal], list[tuple[list[str], Any]]],
    points: list[Decimal],
    retention: int,
) -> None:
    account, publishes = history
    with (
        tempfile.TemporaryDirectory() as directory,
        SqliteFillLedger(directory, "key", retention=float(retention), prune_every=2) as ledger,
    ):
        _check_claims(ledger, account, publishes, points)


# --- FillFeed's spans -----------------------------------------------------------------------------


def _feed(ledger: FillLedger | None, owner: str = "A") -> Any:
    """A feed on ``ledger`` (margin 2 s), its REST queue pumped by hand."""
    rest = RestQueue(
        counter=RestCallCounter("starter"), nonces=NonceSource(), retry_delay=1, retry_max=5
    )
    context = SessionContext(
        config=SessionConfig(fill_window=50),
        credentials=Credentials(api_key="k", api_secret=base64.b64encode(bytes(64)).decode()),
        rest=rest,
        actions=[],
        events=[],
    )
    return FillFeed(context, ledger=ledger, owner=owner)


def _own(*entries: tuple[str, str | None]) -> OwnTrades:
    return OwnTrades(trades=tuple((tid, _trade(time)) for tid, time in entries))


def _fills(feed: Any) -> list[tuple[str, str]]:
    """The fills reported so far, as (trade id, source)."""
    return [(e.trade_id, e.source) for e in feed._events if isinstance(e, FillReceived)]


def test_a_snapshot_opens_a_span_that_live_updates_stretch() -> None:
    ledger = InMemoryFillLedger()
    feed = _feed(ledger)
    feed.deliver(_own(("T3", "1005"), ("T1", "1000"), ("T2", "1003")), "snapshot")
    # From the oldest trade to the newest, less the margin (2 s).
    assert ledger.spans(D(0), per_fill=False) == [LedgerSpan("A-1", D(1000), D(1003))]
    assert len(ledger) == 3
    feed.deliver(_own(("T4", "1010")), "live")
    assert ledger.spans(D(0), per_fill=False) == [LedgerSpan("A-1", D(1000), D(1008))]
    feed.deliver(_own(("T5", "1009")), "live")  # out of time order: the newest stands
    assert ledger.spans(D(0), per_fill=False) == [LedgerSpan("A-1", D(1000), D(1008))]
    assert [t for t, _ in ledger.trades(D(0), D(2000), per_fill=False)] == [
        "T1",
        "T2",
        "T3",
        "T5",
        "T4",
    ]


def test_a_short_snapshot_shares_its_span_once_it_reaches_past_the_margin() -> None:
    ledger = InMemoryFillLedger()
    feed = _feed(ledger)
    feed.deliver(_own(("T1", "1000"), ("T2", "1001")), "snapshot")
    assert ledger.spans(D(0), per_fill=False) == []  # (1000, 999]: nothing yet
    feed.deliver(_own(("T3", "1002")), "live")
    assert ledger.spans(D(0), per_fill=False) == []  # (1000, 1000]: still nothing
    feed.deliver(_own(("T4", "1002.5")), "live")
    assert ledger.spans(D(0), per_fill=False) == [LedgerSpan("A-1", D(1000), D("1000.5"))]


def test_want_backfill_ends_the_span() -> None:
    ledger = InMemoryFillLedger()
    feed = _feed(ledger)
    feed.deliver(_own(("T1", "1000"), ("T2", "1005")), "snapshot")
    feed.want_backfill()  # the link is lost, or has a gap
    feed.deliver(_own(("T3", "1020")), "live")
    assert ledger.spans(D(0), per_fill=False) == [LedgerSpan("A-1", D(1000), D(1003))]
    assert len(ledger) == 3  # the trade is shared all the same
    # The next snapshot opens a new span.
    feed.deliver(_own(("T3", "1020"), ("T4", "1030")), "snapshot")
    assert sorted(ledger.spans(D(0), per_fill=False), key=lambda s: s.key) == [
        LedgerSpan("A-1", D(1000), D(1003)),
        LedgerSpan("A-2", D(1020), D(1028)),
    ]


@pytest.mark.parametrize("undated", [None, "NaN"])
def test_an_undated_update_ends_the_span(undated: str | None) -> None:
    ledger = InMemoryFillLedger()
    feed = _feed(ledger)
    feed.deliver(_own(("T1", "1000"), ("T2", "1005")), "snapshot")
    feed.deliver(_own(("T3", "1008"), ("TU", undated)), "live")
    feed.deliver(_own(("T4", "1020")), "live")
    assert ledger.spans(D(0), per_fill=False) == [LedgerSpan("A-1", D(1000), D(1003))]
    assert len(ledger) == 4


@pytest.mark.parametrize(
    "snapshot",
    [
        _own(),  # says nothing of where it reaches back
        _own(("T1", "1000"), ("TU", None), ("T2", "1010")),
        _own(("T1", "1000"), ("TI", "Infinity"), ("T2", "1010")),
    ],
)
def test_a_snapshot_with_no_dated_oldest_trade_opens_no_span(snapshot: OwnTrades) -> None:
    ledger = InMemoryFillLedger()
    feed = _feed(ledger)
    feed.deliver(_own(("T0", "990"), ("T9", "999")), "snapshot")  # an earlier span: ended
    feed.deliver(snapshot, "snapshot")
    feed.deliver(_own(("T5", "1050")), "live")
    assert ledger.spans(D(0), per_fill=False) == [LedgerSpan("A-1", D(990), D(997))]


def test_the_link_per_fill_flag_picks_the_ledger() -> None:
    ledger = InMemoryFillLedger()
    feed = _feed(ledger)
    feed.per_fill = True  # set by the router at each snapshot from the link
    feed.deliver(_own(("T1", "1000"), ("T2", "1005")), "snapshot")
    assert ledger.spans(D(0), per_fill=False) == []
    assert ledger.trades(D(0), D(2000), per_fill=False) == []
    assert ledger.spans(D(0), per_fill=True) == [LedgerSpan("A-1", D(1000), D(1003))]
    assert len(ledger.trades(D(0), D(2000), per_fill=True)) == 2


def test_rest_and_peer_fills_are_not_published_again() -> None:
    ledger = InMemoryFillLedger()
    feed = _feed(ledger)
    feed.deliver(_own(("T1", "1000")), "rest")
    feed.deliver(_own(("T2", "1001")), "peer")
    feed.deliver(_own(("T3", "1002")), "history")
    assert len(ledger) == 0


# --- backfills from the ledger --------------------------------------------------------------------


def _peer(ledger: FillLedger, *entries: tuple[str, str], after: str, through: str) -> None:
    """Another session on the key published ``entries`` and a span."""
    trades = [(tid, _trade(time)) for tid, time in entries]
    ledger.publish(trades, LedgerSpan(f"B-{after}", D(after), D(through)), per_fill=False)


def _wanting(ledger: FillLedger, *, snapshot: OwnTrades | None) -> Any:
    """A feed that saw T0 live at 1000.5, lost its link (a backfill from 998.5 is wanted)
    and got ``snapshot`` on the next one."""
    feed = _feed(ledger)
    feed.deliver(_own(("T0", "1000.5")), "live")
    feed.want_backfill()
    if snapshot is not None:
        feed.deliver(snapshot, "snapshot")
    return feed


def test_a_backfill_the_ledger_covers_sends_no_rest_call() -> None:
    ledger = InMemoryFillLedger()
    _peer(
        ledger,
        ("TP1", "999"),
        ("T0", "1000.5"),
        ("TP2", "1003"),
        ("TS", "1004"),
        ("TL", "1004.5"),  # past the range: comes with the next link
        after="990",
        through="1010",
    )
    feed = _wanting(ledger, snapshot=_own(("TS", "1004"), ("T9", "1009")))
    assert (feed.backfill_from, feed.backfill_until) == (D("998.5"), D(1004))
    feed._events.clear()
    feed.backfill(unconsolidated=False)
    assert not feed._rest.jobs
    assert not feed.backfilling
    assert not feed.held
    # Only the fills not held before, as "peer".
    assert _fills(feed) == [("TP1", "peer"), ("TP2", "peer")]


def test_a_partly_covered_backfill_asks_rest_from_where_the_ledger_ends() -> None:
    ledger = InMemoryFillLedger()
    _peer(ledger, ("TP1", "999"), ("TP2", "1001"), ("TP3", "1002"), after="990", through="1001")
    feed = _wanting(ledger, snapshot=_own(("TS", "1004"), ("T9", "1009")))
    feed._events.clear()
    feed.backfill(unconsolidated=False)
    # Taken a millisecond past the span's end: REST shows fewer digits.
    assert _fills(feed) == [("TP1", "peer"), ("TP2", "peer")]
    call, params = _sent(feed)
    assert params["start"] == ["1000.999"]
    assert params["end"] == ["1004.001"]
    assert feed.backfilling
    # TP3, in the range but claimed by no span, was taken too before the page was asked for.
    assert _fills(feed)[2:] == [("TP3", "peer")]
    _answer(feed, call, {"TP2": "1001", "TP3": "1002"}, count=3)  # and TS
    assert not feed.backfilling
    assert len(_fills(feed)) == 3  # what REST repeats is not reported again


def test_an_unbounded_backfill_takes_the_covered_part_first() -> None:
    ledger = InMemoryFillLedger()
    _peer(ledger, ("TP1", "999"), ("TP2", "1005"), after="990", through="1006")
    feed = _wanting(ledger, snapshot=None)
    feed._events.clear()
    feed.backfill(unconsolidated=False)
    assert _fills(feed) == [("TP1", "peer"), ("TP2", "peer")]
    _, params = _sent(feed)
    assert params["start"] == ["1005.999"]
    assert "end" not in params


def test_a_span_not_reaching_the_start_is_not_used() -> None:
    ledger = InMemoryFillLedger()
    _peer(ledger, ("TP1", "999.5"), after="999", through="1010")  # starts after 998.5
    feed = _wanting(ledger, snapshot=_own(("TS", "1004"), ("T9", "1009")))
    feed._events.clear()
    feed.backfill(unconsolidated=False)
    assert _fills(feed) == []
    _, params = _sent(feed)
    assert params["start"] == ["998.5"]


def test_a_covered_range_without_trades_reports_nothing() -> None:
    ledger = InMemoryFillLedger()
    ledger.publish([], LedgerSpan("B-1", D(990), D(1010)), per_fill=False)
    feed = _wanting(ledger, snapshot=_own(("TS", "1004"), ("T9", "1009")))
    feed._events.clear()
    feed.backfill(unconsolidated=False)
    assert _fills(feed) == []
    assert not feed._rest.jobs
    assert not feed.backfilling


def _unsigned(nonce: int) -> RestRequest:
    return RestRequest(method="POST", path="/0/private/Later", headers=(), body=b"")


def _ignored(status: int, body: bytes, now: float) -> None:
    del status, body, now


def test_the_queued_call_is_dropped_when_a_peer_covers_the_range_meanwhile() -> None:
    ledger = InMemoryFillLedger()
    feed = _wanting(ledger, snapshot=_own(("TS", "1004"), ("T9", "1009")))
    feed.backfill(unconsolidated=False)
    assert len(feed._rest.jobs) == 1  # waiting for its turn
    later = RestJob(purpose="Later", cost=1, build=_unsigned, on_answer=_ignored)
    feed._rest.add(later)
    _peer(ledger, ("TP1", "999"), ("TP2", "1003"), after="995", through="1005")
    feed._events.clear()
    ready = feed._rest.pump(0.0)
    # The backfill's call went unsent; the queue moved on to the next job.
    assert ready is not None
    assert ready[2] == "Later"
    assert not feed.backfilling
    assert _fills(feed) == [("TP1", "peer"), ("TP2", "peer")]


def test_the_queued_call_is_dropped_and_the_queue_is_left_empty() -> None:
    ledger = InMemoryFillLedger()
    feed = _wanting(ledger, snapshot=_own(("TS", "1004"), ("T9", "1009")))
    feed.backfill(unconsolidated=False)
    _peer(ledger, ("TP1", "999"), after="995", through="1005")
    assert feed._rest.pump(0.0) is None
    assert feed._rest.jobs == []
    assert feed._rest.wake_at is None
    assert not feed.held


def test_the_queued_call_asks_only_for_what_no_peer_covers_when_sent() -> None:
    ledger = InMemoryFillLedger()
    feed = _wanting(ledger, snapshot=_own(("TS", "1004"), ("T9", "1009")))
    feed.backfill(unconsolidated=False)
    _peer(ledger, ("TP1", "999"), after="995", through="1002")
    feed._events.clear()
    call, params = _sent(feed)
    assert params["start"] == ["1001.999"]
    assert _fills(feed) == [("TP1", "peer")]
    # Later pages are not looked at again: the range stays as it was.
    _peer(ledger, ("TP3", "1003"), after="1001", through="1010")
    _answer(feed, call, {"TP2": "1002.5"}, count=3)  # TP2 of 3, with TS and one more
    assert feed._rest.jobs[0].still_wanted is None
    call, params = _sent(feed)
    assert (params["start"], params["ofs"]) == (["1001.999"], ["1"])


def test_a_completed_bounded_backfill_publishes_its_pages_and_range() -> None:
    ledger = InMemoryFillLedger()
    feed = _wanting(ledger, snapshot=_own(("TS", "1004"), ("T9", "1009")))
    feed.backfill(unconsolidated=False)
    call, _ = _sent(feed)
    _answer(feed, call, {"TA": "1001", "TB": "1002"}, count=4)  # and T0, TS
    assert not feed.backfilling
    spans = {span.key: span for span in ledger.spans(D(0), per_fill=False)}
    assert spans["A-2"] == LedgerSpan("A-2", D("998.5"), D("1004.001"))
    assert {t for t, _ in ledger.trades(D("998.5"), D("1004.001"), per_fill=False)} == {
        "T0",
        "TA",
        "TB",
        "TS",
    }
    # Another session on the key now takes the whole range from the ledger.
    other = _wanting(ledger, snapshot=_own(("TS", "1004"), ("T9", "1009")))
    other._events.clear()
    other.backfill(unconsolidated=False)
    assert not other._rest.jobs
    assert _fills(other) == [("TA", "peer"), ("TB", "peer")]


def test_a_backfill_still_paging_publishes_its_pages_but_no_span() -> None:
    ledger = InMemoryFillLedger()
    feed = _wanting(ledger, snapshot=_own(("TS", "1004"), ("T9", "1009")))
    feed.backfill(unconsolidated=False)
    call, _ = _sent(feed)
    _answer(feed, call, {"TA": "1001"}, count=4)  # T0, TS and TA: one is missing
    assert feed.backfilling
    assert "A-2" not in {span.key for span in ledger.spans(D(0), per_fill=False)}
    assert "TA" in {t for t, _ in ledger.trades(D(0), D(2000), per_fill=False)}


def test_no_span_when_the_range_holds_fills_an_earlier_process_delivered() -> None:
    """A journal-recalled fill was never published by this session: the ledger may lack it."""
    ledger = InMemoryFillLedger()
    feed = _feed(ledger)
    feed.recall([("TR", _trade("1000")), ("TU", _trade(None))])
    feed.cursor = D("1000.5")
    feed.want_backfill()
    feed.deliver(_own(("TS", "1004"), ("T9", "1009")), "snapshot")
    feed.backfill(unconsolidated=False)
    call, _ = _sent(feed)
    _answer(feed, call, {"TA": "1001"}, count=3)  # TA, TR (held) and TS
    assert not feed.backfilling
    assert "A-2" not in {span.key for span in ledger.spans(D(0), per_fill=False)}
    assert "TA" in {t for t, _ in ledger.trades(D(0), D(2000), per_fill=False)}


def test_an_unbounded_backfill_publishes_its_trades_but_no_span() -> None:
    ledger = InMemoryFillLedger()
    feed = _wanting(ledger, snapshot=None)
    feed.backfill(unconsolidated=False)
    call, _ = _sent(feed)
    _answer(feed, call, {"TA": "1001", "TB": "1012"}, count=2)
    assert not feed.backfilling
    assert ledger.spans(D(0), per_fill=False) == []
    assert [t for t, _ in ledger.trades(D(0), D(2000), per_fill=False)] == ["T0", "TA", "TB"]


def test_an_unconsolidated_backfill_reads_and_writes_the_per_fill_ledger() -> None:
    ledger = InMemoryFillLedger()
    ledger.publish(
        [("TP1", _trade("999"))], LedgerSpan("B-x", D(990), D(1010)), per_fill=False
    )  # another session's trade ids of the other kind
    feed = _wanting(ledger, snapshot=_own(("TS", "1004"), ("T9", "1009")))
    feed.backfill(unconsolidated=True)
    call, params = _sent(feed)
    assert params["consolidate_taker"] == ["false"]
    _answer(feed, call, {"TA": "1001"}, count=3)  # and T0, TS
    assert ledger.spans(D(0), per_fill=True) == [LedgerSpan("A-2", D("998.5"), D("1004.001"))]
    assert [t for t, _ in ledger.trades(D(0), D(2000), per_fill=True)] == ["TA"]


def test_a_rest_span_outlives_the_next_live_update() -> None:
    """The span a completed backfill publishes is its own: the link's span, stretched by the
    next live update, keeps the key it was opened with (regression: it took the backfill's
    key, and replaced the backfill's span)."""
    ledger = InMemoryFillLedger()
    feed = _wanting(ledger, snapshot=_own(("TS", "1004"), ("T9", "1009")))
    feed.backfill(unconsolidated=False)
    call, _ = _sent(feed)
    _answer(feed, call, {"TA": "1001"}, count=3)  # and T0, TS
    assert not feed.backfilling
    feed.deliver(_own(("T10", "1020")), "live")
    spans = sorted(ledger.spans(D(0), per_fill=False), key=lambda span: span.key)
    assert spans == [
        LedgerSpan("A-1", D(1004), D(1018)),  # the link's, opened by the snapshot
        LedgerSpan("A-2", D("998.5"), D("1004.001")),  # the backfill's
    ]
    assert reach(spans, D("998.5")) == D(1018)


# --- sessions ------------------------------------------------------------------------------------


def test_the_fill_ledger_must_be_a_fill_ledger() -> None:
    credentials = Credentials(api_key="k", api_secret=base64.b64encode(bytes(64)).decode())
    with pytest.raises(LocalProtocolError, match="fill_ledger"):
        Session(credentials, seed=b"some-seed", fill_ledger=object())  # type: ignore[arg-type]


def test_sessions_on_one_key_name_their_spans_apart() -> None:
    credentials = Credentials(api_key="k", api_secret=base64.b64encode(bytes(64)).decode())
    ledger = InMemoryFillLedger()
    first = Session(credentials, seed=b"first-session", fill_ledger=ledger)
    second = Session(credentials, seed=b"second-session", fill_ledger=ledger)
    owners = {first._fills._owner, second._fills._owner}
    assert len(owners) == 2
    assert all(len(owner) == 32 for owner in owners)
    assert Session(credentials, seed=b"plain-session")._fills._owner == ""


PRICE = D("30000.0")
SIM = SimulatorConfig()


def _buy(price: Decimal) -> AddOrder:
    return AddOrder(ordertype="limit", type="buy", pair="XBT/USD", volume=D("0.01"), price=price)


class _Pair:
    """Two sessions on one key (one exchange, one nonce source, one ledger), in lockstep."""

    def __init__(self, ledger: FillLedger) -> None:
        self.a = Wire(seed=b"session-a-seed-00")
        self.b = Wire(seed=b"session-b-seed-00")
        self.b.exchange = self.a.exchange
        self.exchange = self.a.exchange
        nonces = NonceSource(last=int(self.a.now * 1e6))
        for wire, seed in ((self.a, b"session-a-seed-00"), (self.b, b"session-b-seed-00")):
            credentials = Credentials(api_key=SIM.api_key, api_secret=SIM.api_secret)
            wire.session = Session(credentials, seed=seed, nonces=nonces, fill_ledger=ledger)
            wire.session.start(wire.now)
            wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
            wire.pump()

    def advance(self, seconds: float) -> None:
        wires = (self.a, self.b)
        target = self.a.now + seconds
        for _ in range(100_000):
            deadlines = [
                d
                for d in (self.a.session.next_deadline(), self.b.session.next_deadline())
                if d is not None
            ]
            step = min(deadlines, default=None)
            if step is None or step > target:
                break
            for wire in wires:
                wire._tick(max(wire.now, step))
        for wire in wires:
            wire._tick(target)


def _state(session: Session) -> SessionState:
    return session.state  # read anew: mypy keeps what an earlier assert narrowed


def _fill_ids(wire: Wire) -> list[str]:
    return [e.trade_id for e in wire.events if isinstance(e, FillReceived)]


def test_a_session_backfills_from_what_another_on_the_key_published() -> None:
    ledger = InMemoryFillLedger()
    pair = _Pair(ledger)
    a, b, exchange = pair.a, pair.b, pair.exchange
    pair.advance(1)
    assert a.session.state is SessionState.LIVE
    assert b.session.state is SessionState.LIVE
    # A first fill, seen live by both; A then reconnects, and its snapshot opens its span.
    a.session.submit(_buy(PRICE - 1), a.now)
    pair.advance(1)
    exchange.set_reference_price("XBT/USD", PRICE - 2, a.now)
    pair.advance(1)
    assert _fill_ids(a)
    assert sorted(_fill_ids(a)) == sorted(_fill_ids(b)) == sorted(exchange.trades())
    a.drop()
    pair.advance(10)
    assert a.session.state is SessionState.LIVE
    # B is away while A trades more than a snapshot lists (50), then once more, later.
    b.fail_opens = 10**6
    b.drop()
    for offset in range(60):
        a.session.submit(_buy(PRICE - 3 - D("0.1") * offset), a.now)
    pair.advance(1)
    exchange.set_reference_price("XBT/USD", PRICE - 20, a.now)
    pair.advance(5)
    a.session.submit(_buy(PRICE - 10), a.now)
    pair.advance(1)
    exchange.set_reference_price("XBT/USD", PRICE - 30, a.now)
    pair.advance(5)
    assert sorted(_fill_ids(a)) == sorted(exchange.trades())
    assert len(exchange.trades()) > 60
    b.fail_opens = 0
    b.rest_calls.clear()
    pair.advance(120)
    assert b.session.state is SessionState.LIVE
    fills = _fill_ids(b)
    assert sorted(fills) == sorted(exchange.trades())  # none lost, none twice
    assert "TradesHistory" not in b.rest_calls  # all from the ledger
    sources = {e.source for e in b.events if isinstance(e, FillReceived)}
    assert "peer" in sources


def test_a_session_goes_live_when_its_queued_backfill_is_served_by_a_peer() -> None:
    wire = Wire()
    ledger = InMemoryFillLedger()
    wire.session = Session(
        Credentials(api_key=SIM.api_key, api_secret=SIM.api_secret),
        seed=b"session-seed-0000",
        nonces=NonceSource(last=int(wire.now * 1e6)),
        fill_ledger=ledger,
    )
    session = wire.session
    session.start(wire.now)
    session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.pump()
    for offset in range(60):
        session.submit(_buy(PRICE - D("0.1") * (offset + 1)), wire.now)
    wire.pump()
    wire.fail_opens = 1
    wire.drop()
    wire.exchange.set_reference_price("XBT/USD", PRICE - 100, wire.now)
    # The key's budget is spent: the backfill the next snapshot asks for waits in the queue.
    session._rest._counter.saturate(wire.now)
    wire.advance(3)
    assert _state(session) is SessionState.SYNCING
    assert [job.purpose for job in session._rest.jobs] == ["TradesHistory"]
    assert "TradesHistory" not in wire.rest_calls
    # Meanwhile a peer published every trade and a span over all of them.
    trades = wire.exchange.trades()
    published = [(tid, Trade(time=view.time)) for tid, view in trades.items()]
    ledger.publish(published, LedgerSpan("peer-1", D(0), D(10**10)), per_fill=False)
    wire.rest_calls.clear()
    wire.advance(120)
    assert _state(session) is SessionState.LIVE
    assert "TradesHistory" not in wire.rest_calls
    fills = [e for e in wire.events if isinstance(e, FillReceived)]
    assert sorted(f.trade_id for f in fills) == sorted(trades)
    assert "peer" in {f.source for f in fills}
