"""Fills exactly once: ownTrades frames and REST ``TradesHistory`` pages through one
``FillLog``, and the backfill that pages through ``TradesHistory`` after every gap.

Fills may be missed while no link is up and across an ownTrades sequence gap; then the
backfill asks ``TradesHistory`` from the last fill seen minus ``backfill_margin`` seconds (or
from the session's start). The next ownTrades snapshot bounds it: the snapshot and the live
updates after it hold every trade newer than its oldest one, so the backfill ends there (or
is dropped when that is not after its start), and its paging stops once the session holds as
many of the range's trades as ``TradesHistory`` counts; unbounded, it reads every page.

A trade id already reported is never reported again, whichever source repeats it: within
``FillLog``'s window, and for what a snapshot or backfill can repeat, whatever the window
(``_recent_fills``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from decimal import Decimal

from kraken_proto._fills import FillLog
from kraken_proto.rest._calls import TRADES_HISTORY_PATH, build_trades_history_request
from kraken_proto.rest._request import RestRequest, build_private_request
from kraken_proto.rest._results import parse_trades_history_response
from kraken_proto.v1._events import OwnTrades, Trade

from ._context import SessionContext
from ._events import FillReceived, FillSource
from ._fill_ledger import FillLedger, LedgerSpan, reach
from ._recent_fills import RecentFills
from ._reconcile_checks import trade_of
from ._rest import RestJob

__all__ = ["FillFeed"]

# Times of one trade as the WebSocket and REST show them may differ in the last digits (v1
# ownTrades shows six decimals, TradesHistory four): a bounded backfill ends this much after
# the snapshot's oldest trade, and a fill reported within this of either bound of the range
# asked for counts as held only when REST returned it (``_page``). Fills made in the same
# instant as that oldest trade are this far from the end: counted.
_TIME_SLACK = Decimal("0.001")


@functools.lru_cache(maxsize=8)
def _seconds(value: float) -> Decimal:
    """``value`` as a Decimal, one per value: sessions of one config share it (immutable)."""
    return Decimal(repr(value))


class FillFeed:
    """The session's ``FillLog`` (``log``): reports each new fill as ``FillReceived``, and
    runs the backfill. ``backfill_from`` is where the next backfill starts (None: none wanted),
    ``backfill_until`` where it ends (inclusive; None: at the newest trade); ``backfilling`` is
    True while one pages through ``TradesHistory``."""

    __slots__ = (
        "_credentials",
        "_events",
        "_ledger",
        "_margin",
        "_owner",
        "_recalled",
        "_recent",
        "_rest",
        "_span",
        "_span_key",
        "_spans",
        "_start",
        "backfill_from",
        "backfill_until",
        "backfilling",
        "cursor",
        "cursor_id",
        "first_snapshot",
        "history_until",
        "log",
        "per_fill",
        "started_at",
    )

    def __init__(
        self, context: SessionContext, *, ledger: FillLedger | None = None, owner: str = ""
    ) -> None:
        config = context.config
        self.log = FillLog(window=config.fill_window)
        self._credentials = context.credentials
        self._rest = context.rest
        self._events = context.events
        self._margin = _seconds(config.backfill_margin)
        self.cursor: Decimal | None = None  # the time of the latest fill seen
        self.cursor_id: str | None = None  # its trade id (None: the cursor is no fill's)
        self.started_at = Decimal(0)  # where a backfill starts when no fill was seen
        self.backfill_from: Decimal | None = None
        self.backfill_until: Decimal | None = None
        self.backfilling = False
        self._recent = RecentFills()
        self._start: Decimal | None = None  # where the running backfill started
        # Until the first ownTrades snapshot: its trades before this time are "history"
        # (None: before ``started_at``; a journal sets it to its cursor). Trades made since
        # the session started are new, whoever made them (another process on the key).
        self.first_snapshot = True
        self.history_until: Decimal | None = None
        # The key's shared ledger (``_fill_ledger``): this session's span open now, as
        # (after, newest trade time seen), None while none is; spans are named
        # "<owner>-<number>". ``per_fill``: the current link reports one trade per fill.
        self._ledger = ledger
        self._owner = owner
        self._span: tuple[Decimal, Decimal] | None = None
        self._span_key = ""  # its name, given when it opened (a backfill's span takes the next)
        self._spans = 0
        self.per_fill = False
        # Fills an earlier process delivered: this one did not publish them (with a ledger
        # only: an empty set costs 216 bytes a session).
        self._recalled: set[str] | None = None if ledger is None else set()

    def deliver(self, event: OwnTrades, source: FillSource) -> None:
        """Report the fills of ``event`` not reported before, and move the cursor."""
        if self._ledger is not None and (source == "live" or source == "snapshot"):
            self._share(event, snapshot=source == "snapshot")
        if source == "snapshot" and self.backfill_from is not None:
            # Also while a backfill runs: it took every want made before it started, so the
            # wanted one is only about fills missed since (a later link loss or gap), which
            # this snapshot covers as it would with nothing running. The running one's range
            # is its own, and stays fetched in full.
            self._covered(event)
        recent = self._recent
        trades = event.trades
        if recent:
            # One trade per frame is the usual live update: test it without a generator.
            if len(trades) == 1:
                if trades[0][0] in recent:
                    trades = ()
            elif any(entry[0] in recent for entry in trades):
                trades = tuple(entry for entry in trades if entry[0] not in recent)
            if trades is not event.trades:
                event = OwnTrades(trades=trades, sequence=event.sequence)
        cursor, cursor_id = self.cursor, self.cursor_id
        events = self._events
        first = source == "snapshot" and self.first_snapshot
        if first:
            # The first snapshot lists the latest trades, made before this session too.
            self.first_snapshot = False
        until = self.history_until if self.history_until is not None else self.started_at
        for trade_id, trade in self.log.apply(event):
            time = trade.time
            if time is not None and time.is_finite():
                history = first and time < until
                if cursor is None or time > cursor:
                    cursor, cursor_id = time, trade_id
                recent[trade_id] = time  # ``recent.note(trade_id, time)``, inline
            else:
                history = first
                # Undated: kept as recent as the latest fill seen, so a repeat is caught.
                recent.note(
                    trade_id, cursor if cursor is not None else self.started_at, dated=False
                )
            kind: FillSource = "history" if history else source
            events.append(FillReceived(trade_id=trade_id, trade=trade, source=kind))
        self.cursor, self.cursor_id = cursor, cursor_id
        if len(recent) > recent.due_above:  # ``recent.due()``, inline
            self._prune()

    def _share(self, event: OwnTrades, *, snapshot: bool) -> None:
        """Publish ``event``'s trades to the ledger, with this link's span: a snapshot opens
        one at its oldest trade, each update stretches it to its newest, less the margin
        (trades may arrive out of time order by that much). An undated trade cannot be
        placed: it ends the span, as does ``want_backfill`` (a link loss or a gap)."""
        assert self._ledger is not None  # the caller checks
        trades = event.trades
        span = self._span
        if snapshot:
            span = None
            times = [trade.time for _, trade in trades]
            if times and all(time is not None and time.is_finite() for time in times):
                dated = [time for time in times if time is not None]  # all of them
                self._spans += 1
                self._span_key = f"{self._owner}-{self._spans}"
                span = (min(dated), max(dated))
        elif span is not None:
            after, newest = span
            for _, trade in trades:
                time = trade.time
                if time is None or not time.is_finite():
                    span = None
                    break
                if time > newest:
                    newest = time
            else:
                span = (after, newest)
        self._span = span
        shared: LedgerSpan | None = None
        if span is not None:
            through = span[1] - self._margin
            if through > span[0]:
                shared = LedgerSpan(self._span_key, span[0], through)
        self._ledger.publish(trades, shared, per_fill=self.per_fill)

    def _covered(self, snapshot: OwnTrades) -> None:
        """Bound the wanted backfill by ``snapshot``, or drop it. A snapshot lists the
        account's newest trades, and every trade made after it comes live: together they
        hold every trade newer than the snapshot's oldest one. So the backfill ends at that
        trade's time (inclusive: trades made in the same instant may have been cut from the
        snapshot), and is dropped when that time is not after its start (exclusive): REST
        would only repeat what the snapshot lists, on the REST budget several processes on
        the key share. An empty snapshot, or one with an undated trade, says nothing of
        where it reaches back: the want is kept as it is."""
        start = self.backfill_from
        assert start is not None  # the caller checks
        oldest: Decimal | None = None
        for _, trade in snapshot.trades:
            time = trade.time
            if time is None or not time.is_finite():
                return  # an undated trade: where the snapshot reaches back is not known
            if oldest is None or time < oldest:
                oldest = time
        if oldest is None:
            return
        if oldest <= start:
            self.backfill_from = self.backfill_until = None
        elif self.backfill_until is None or oldest < self.backfill_until:
            self.backfill_until = oldest

    def recall(self, delivered: Iterable[tuple[str, Trade]]) -> None:
        """Fills an earlier process delivered (from a journal): a snapshot or backfill of this
        session repeating one does not report it again, whatever the ``FillLog`` window (the
        caller seeds the log with their ids). Undated ones are left to the log."""
        recent = self._recent
        for trade_id, trade in delivered:
            time = trade.time
            if time is not None and time.is_finite():
                recent.note(trade_id, time)
                if self._recalled is not None:  # a ledger's
                    self._recalled.add(trade_id)
        if recent.due():
            self._prune()

    def _prune(self) -> None:
        # The earliest start a backfill could have: the one wanted or running, else the one
        # want_backfill would ask now.
        floor = (self.cursor if self.cursor is not None else self.started_at) - self._margin
        for start in (self.backfill_from, self._start):
            if start is not None and start < floor:
                floor = start
        self._recent.prune(floor)

    @property
    def held(self) -> bool:
        """A backfill is wanted or running: fills older than the ones delivered now may still
        be missing, so the cursor a restart backfills from must not move past them."""
        return self.backfill_from is not None or self.backfilling

    def want_backfill(self) -> None:
        """Fills may have been missed from here on: backfill from the last one seen, with no
        end until the next snapshot bounds it. Merged with a want not started yet: the
        earliest start, and no end (the latest)."""
        cursor = self.cursor
        if cursor is None:
            cursor = self.started_at
        start = cursor - self._margin
        self._span = None  # what this link sees from here on may have a hole before it
        if self.backfill_from is None or start < self.backfill_from:
            self.backfill_from = start
        # The link that bounded it is lost (or has a gap): what is missed now reaches to the
        # newest trade, until the next snapshot.
        self.backfill_until = None

    def backfill(self, *, unconsolidated: bool) -> None:
        """Start the wanted backfill, asking for the trade ids the link reports: one per fill
        with ``unconsolidated``, else one per taker order (Kraken's default). With a ledger,
        what it covers of the range comes from there first (see ``_from_ledger``)."""
        start, until = self.backfill_from, self.backfill_until
        assert start is not None  # the session starts one only when wanted
        self.backfill_from = self.backfill_until = None
        self.backfilling = True
        self._start = start
        wanted = _Range(start, None if until is None else until + _TIME_SLACK)
        if self._ledger is not None and self._from_ledger(wanted, unconsolidated):
            return
        self._page(wanted, 0, unconsolidated, set())

    def _from_ledger(self, wanted: _Range, per_fill: bool) -> bool:
        """Take from the ledger what its spans cover of ``wanted`` (reported as
        ``source="peer"``) and move the range's start past it; True (the backfill is over)
        when that was all of it."""
        ledger = self._ledger
        assert ledger is not None  # the caller checks
        start, end = wanted.start, wanted.end
        covered = reach(ledger.spans(start, per_fill=per_fill), start)
        if covered <= start:
            return False
        # Spans first, then trades: every trade the spans claim is there by now.
        self._take_from_ledger(start, covered if end is None or end > covered else end, per_fill)
        if end is not None and covered >= end:
            self.backfilling = False
            self._start = None
            return True
        # REST's ``start`` is exclusive and its times have fewer digits: ask from a little
        # before (what it repeats is not reported again).
        wanted.start = covered - _TIME_SLACK
        return False

    def _take_from_ledger(self, start: Decimal, end: Decimal, per_fill: bool) -> None:
        """Report the ledger's trades from ``start`` to ``end`` (a little past both: REST's
        times have fewer digits) not reported before, as ``source="peer"``."""
        assert self._ledger is not None  # the caller checks
        trades = self._ledger.trades(start - _TIME_SLACK, end + _TIME_SLACK, per_fill=per_fill)
        if trades:
            self.deliver(OwnTrades(trades=tuple(trades)), "peer")

    def _page(
        self,
        wanted: _Range,
        ofs: int,
        unconsolidated: bool,
        held: set[str],
    ) -> None:
        """Ask for the page at ``ofs``. A bounded backfill stops before the last page once
        ``held``, the trades of its range this session is known to hold, are as many as
        ``count`` says the range has: then they are all of them. ``held`` gets the range's
        fills reported before each page is asked for (each was made before that call, so its
        ``count`` includes it; one made later in the range, out of time order, raises the
        count and arrives live) and every trade a page returns. Without an end, trades made
        while it pages join the range and could stand in for a missing one in the count:
        every page is read."""

        def still_wanted(now: float) -> bool:
            # Sent only now (the budget allowed it): another session may have seen more of
            # the range meanwhile.
            return not self._from_ledger(wanted, unconsolidated)

        def build(nonce: int) -> RestRequest:
            start, end = wanted.start, wanted.end
            if end is not None:
                if self._ledger is not None:
                    # Trades of the range other sessions received, claimed by no span yet:
                    # real trades all the same. Held, they let the count end the paging
                    # sooner (a burst the snapshot cut short, seen live by another session).
                    self._take_from_ledger(start, end, unconsolidated)
                held.update(self._recent.dated_between(start + _TIME_SLACK, end - _TIME_SLACK))
            if unconsolidated:
                params = [("start", format(start, "f"))]
                if end is not None:
                    params.append(("end", format(end, "f")))
                if ofs:
                    params.append(("ofs", str(ofs)))
                params.append(("consolidate_taker", "false"))
                return build_private_request(
                    self._credentials, path=TRADES_HISTORY_PATH, nonce=nonce, params=params
                )
            return build_trades_history_request(
                self._credentials, nonce=nonce, start=start, end=end, ofs=ofs or None
            )

        def on_answer(status: int, body: bytes, now: float) -> None:
            result = parse_trades_history_response(status, body)
            page = sorted(result.trades.items(), key=lambda item: item[1].time)
            trades = tuple((tid, trade_of(trade)) for tid, trade in page)
            self.deliver(OwnTrades(trades=trades), "rest")
            next_ofs = ofs + len(page)
            held.update(result.trades)
            complete = wanted.end is not None and len(held) == result.count
            more = page and next_ofs < result.count and not complete
            if self._ledger is not None:
                span = None
                if not more and wanted.end is not None and held.isdisjoint(self._recalled or ()):
                    # The session now holds every trade of the range: the ledger too (what it
                    # held before, it published as it came; the pages, here), unless an
                    # earlier process delivered some of them.
                    self._spans += 1
                    # REST compared its exact times with ``start`` and ``end``.
                    span = LedgerSpan(f"{self._owner}-{self._spans}", wanted.start, wanted.end)
                self._ledger.publish(trades, span, per_fill=unconsolidated)
            if more:
                self._page(wanted, next_ofs, unconsolidated, held)
            else:
                self.backfilling = False
                self._start = None

        self._rest.add(
            RestJob(
                purpose="TradesHistory",
                cost=2,
                build=build,
                on_answer=on_answer,
                # Only the first page: later ones count on the range staying as it was.
                still_wanted=still_wanted if ofs == 0 and self._ledger is not None else None,
            ),
            first=True,
        )


class _Range:
    """A backfill's range of trade times: from ``start`` (exclusive, as REST reads it) to
    ``end`` (inclusive; None: the newest trade). The ledger may move ``start`` on before the
    first page is asked for."""

    __slots__ = ("end", "start")

    def __init__(self, start: Decimal, end: Decimal | None) -> None:
        self.start = start
        self.end = end
