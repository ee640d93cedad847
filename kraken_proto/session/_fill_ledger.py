"""``FillLedger``: one API key's fills, shared by the sessions on that key, so that one
session's backfill is served by what another saw live instead of by REST ``TradesHistory``
(and the txids of the orders they saw carry a ``cl_ord_id``, so that a doubt is decided
without REST ``ClosedOrders``).

Every session on a key sees every fill of the account. When one loses its link, another is
usually connected and sees the fills it misses; without sharing, each backfills the same
trades from REST, and together they overrun the key's one REST budget. With a ledger each
session publishes the fills it receives over the WebSocket and *spans*: a span
``(after, through]`` says the ledger holds every trade of the account made in that time
(exclusive, inclusive). A span starts at the oldest trade of an ownTrades snapshot (the
snapshot and the updates after it hold every trade newer than that one) and reaches the
newest trade received since, less ``backfill_margin`` (the bound on trades delivered out of
time order the backfill already relies on); a link loss or a sequence gap ends it. A
bounded ``TradesHistory`` backfill that completes publishes its pages and its range as a
span too: it then joins the span of the link whose snapshot bounded it. A backfill reads the
ledger first: the part of its range the spans cover comes from there (``source="peer"``),
and REST is asked only for the rest.

A span only ever claims trades already published, in the same call or before, so a ledger
that loses a suffix of its writes (a power loss) never claims a trade it lacks. REST shows
times with fewer digits than the WebSocket: a reader takes trades a little past both ends
of what it wants (what it already holds is not reported again).

The core calls a ledger synchronously, like a ``NonceSource``: the SQLite one lives in the
adapters (``kraken_proto.adapters.journal.SqliteFillLedger``); ``InMemoryFillLedger`` here is
for sessions sharing one process (tests and simulations).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from kraken_proto.v1._events import Trade

__all__ = ["FillLedger", "InMemoryFillLedger", "LedgerSpan", "reach"]


@dataclass(frozen=True, slots=True)
class LedgerSpan:
    """The ledger holds every trade of the account with ``after < time <= through``.
    ``key`` names the span (unique across sessions): a later publish with the same key
    replaces it (a span only grows)."""

    key: str
    after: Decimal
    through: Decimal


@runtime_checkable
class FillLedger(Protocol):
    """Storage of one API key's fills and spans, shared by its sessions.

    Contract (every ledger; the tests check both):

    * ``publish(trades, span)`` stores ``trades`` (the dated ones; a trade id already stored
      is kept as it is) and then ``span`` (if any; a span with the key of a stored one
      replaces it), atomically or trades first: nobody ever reads a span without the trades
      it claims.
    * ``spans(after)`` returns every stored span that ends after ``after``;
      ``trades(low, high)`` every stored trade with
      ``low < time <= high``, oldest first. A reader asks for spans first, then trades: a
      span read then claims only trades already stored.
    * ``per_fill`` keeps two ledgers apart: trade ids of one trade per fill (v2, or v1's
      ownTrades with ``consolidate_taker=false``) and of one per taker order (v1's default)
      name different trades, so a read sees only what was published with the same flag.
    * None raises: a ledger that cannot store or read any more says so where its owner sees
      it (a log) and reads nothing from then on, which only costs REST calls.
    * It may forget trades older than its retention, and then cuts every span to what it
      still holds.
    * ``publish_order``/``order_of``: which order carries a ``cl_ord_id``, as a session saw
      it on openOrders (the first txid stored for an id is kept). A session whose AddOrder
      was left in doubt by a lost link learns from it that the order was placed while
      another session watched (``RequestApplied(via="ledger")``), without REST
      ``ClosedOrders``. It may forget the oldest ids beyond a bound.
    """

    def publish(
        self, trades: Sequence[tuple[str, Trade]], span: LedgerSpan | None, *, per_fill: bool
    ) -> None:
        """Store ``trades``, then ``span``."""
        ...

    def spans(self, after: Decimal, *, per_fill: bool) -> list[LedgerSpan]:
        """Every stored span ending after ``after``."""
        ...

    def trades(self, low: Decimal, high: Decimal, *, per_fill: bool) -> list[tuple[str, Trade]]:
        """Every stored trade with ``low < time <= high``, oldest first."""
        ...

    def publish_order(self, cl_ord_id: str, txid: str) -> None:
        """Store that the order ``txid`` carries ``cl_ord_id`` (seen on openOrders)."""
        ...

    def order_of(self, cl_ord_id: str) -> str | None:
        """The txid stored for ``cl_ord_id``, or None."""
        ...


def reach(spans: Iterable[LedgerSpan], after: Decimal) -> Decimal:
    """The greatest time ``x`` with ``(after, x]`` inside the union of ``spans``, or
    ``after`` when no span covers the instant just past it."""
    covered = after
    for low, high in sorted((span.after, span.through) for span in spans):
        if low > covered:
            break  # sorted by start: no later span starts within what is covered
        if high > covered:
            covered = high
    return covered


class InMemoryFillLedger:
    """A ``FillLedger`` in memory, for sessions in one process (tests, simulations).

    ``retention``: trades and spans whose time (span: ``through``) is more than this many
    seconds before the newest trade published are forgotten (checked every ``prune_every``
    publishes)."""

    __slots__ = (
        "_books",
        "_newest",
        "_orders",
        "_publishes",
        "max_orders",
        "prune_every",
        "retention",
    )

    def __init__(
        self, *, retention: float = 3600.0, prune_every: int = 512, max_orders: int = 100_000
    ) -> None:
        self.retention = Decimal(repr(retention))
        self.prune_every = prune_every
        self.max_orders = max_orders
        self._orders: dict[str, str] = {}  # cl_ord_id -> txid, oldest first
        # Per ``per_fill``: trades by id (with their time), spans by key.
        self._books: dict[bool, tuple[dict[str, tuple[Decimal, Trade]], dict[str, LedgerSpan]]] = {
            False: ({}, {}),
            True: ({}, {}),
        }
        self._newest: Decimal | None = None
        self._publishes = 0

    def __len__(self) -> int:
        """How many trades it holds."""
        return sum(len(trades) for trades, _ in self._books.values())

    def publish(
        self, trades: Sequence[tuple[str, Trade]], span: LedgerSpan | None, *, per_fill: bool
    ) -> None:
        """Store ``trades`` (dated ones; undated ones cannot be placed), then ``span``."""
        stored, spans = self._books[per_fill]
        newest = self._newest
        for trade_id, trade in trades:
            time = trade.time
            if time is None or not time.is_finite() or trade_id in stored:
                continue
            stored[trade_id] = (time, trade)
            if newest is None or time > newest:
                newest = time
        self._newest = newest
        if span is not None:
            spans[span.key] = span
        self._publishes += 1
        if self._publishes % self.prune_every == 0 and newest is not None:
            self._prune(newest - self.retention)

    def spans(self, after: Decimal, *, per_fill: bool) -> list[LedgerSpan]:
        """See ``FillLedger.spans``."""
        return [span for span in self._books[per_fill][1].values() if span.through > after]

    def trades(self, low: Decimal, high: Decimal, *, per_fill: bool) -> list[tuple[str, Trade]]:
        """See ``FillLedger.trades``."""
        found = [
            (time, trade_id, trade)
            for trade_id, (time, trade) in self._books[per_fill][0].items()
            if low < time <= high
        ]
        found.sort(key=lambda item: item[0])
        return [(trade_id, trade) for _, trade_id, trade in found]

    def publish_order(self, cl_ord_id: str, txid: str) -> None:
        """See ``FillLedger.publish_order``."""
        orders = self._orders
        if cl_ord_id not in orders:
            orders[cl_ord_id] = txid
            if len(orders) > self.max_orders:
                del orders[next(iter(orders))]

    def order_of(self, cl_ord_id: str) -> str | None:
        """See ``FillLedger.order_of``."""
        return self._orders.get(cl_ord_id)

    def _prune(self, before: Decimal) -> None:
        for per_fill, (trades, spans) in list(self._books.items()):
            # A span reaching back past what is kept is cut there: it claims only what is held.
            self._books[per_fill] = (
                {key: item for key, item in trades.items() if item[0] >= before},
                {
                    key: LedgerSpan(key, max(span.after, before), span.through)
                    for key, span in spans.items()
                    if span.through > before
                },
            )
