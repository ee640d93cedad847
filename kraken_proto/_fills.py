"""``FillLog``: each ownTrades execution reported once, across re-snapshots and overlaps.

Every ownTrades subscription starts with a snapshot of the account's last 50 trades, so each
resubscription (after a reconnect or a sequence gap) repeats trades the client has already
handled. ``FillLog`` remembers a bounded window of recently seen trade ids and passes on only
the ones outside it. It also keeps the most recent trades it reported (a smaller bound), so a
bot can look a fill up without storing trades itself.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from typing import Final

from kraken_proto.v1._events import OwnTrades, Trade

from ._repr import decimal_text

__all__ = ["MIN_FILL_WINDOW", "FillLog"]

_REPR_TRADES: Final = 3
"""How many of the latest trades ``repr(FillLog)`` shows."""

MIN_FILL_WINDOW: Final = 50
"""The smallest allowed window: Kraken's ownTrades snapshot holds up to 50 trades."""


class FillLog:
    """Deduplicates ownTrades executions by trade id within a window of ``window`` ids.

    Guarantee: ``apply`` reports a trade id the first time it sees it, and does not report it
    again as long as fewer than ``window`` other distinct trade ids have been seen since the
    last time that id was seen (every sighting, reported or not, renews it). An id never seen
    before is always reported. Memory holds at most ``window`` ids.

    With the default window (100,000 ids) and snapshots of 50, a repeat is suppressed unless
    100,000 newer executions arrived between the two sightings.

    The log also keeps the last ``max_trades`` trades it reported (``trades``, ``get``,
    ``trades_for``), each as received; the oldest is forgotten first. Memory: at most
    ``window`` ids and ``max_trades`` trades.
    """

    __slots__ = ("_ids", "_max_trades", "_trades", "_window")

    def __init__(self, *, window: int = 100_000, max_trades: int = 1_000) -> None:
        """Create an empty log. ``window`` must be an int of at least ``MIN_FILL_WINDOW``;
        ``max_trades`` a non-negative int (0 keeps no trades, ids only)."""
        if type(window) is not int or window < MIN_FILL_WINDOW:
            raise ValueError(
                f"window must be an int of at least {MIN_FILL_WINDOW} "
                f"(the ownTrades snapshot size), got {window!r}"
            )
        if type(max_trades) is not int or max_trades < 0:
            raise ValueError(f"max_trades must be a non-negative int, got {max_trades!r}")
        self._window = window
        self._max_trades = max_trades
        # Keys only, oldest sighting first: an ordered set with O(1) renew and evict.
        self._ids: OrderedDict[str, None] = OrderedDict()
        # The reported (trade_id, Trade) entries, oldest report first; the deque's maxlen
        # evicts in C, so keeping them costs ``apply`` one ``extend`` per frame. Made at the
        # first report: an empty deque takes 760 bytes, and a session may never see a fill.
        self._trades: deque[tuple[str, Trade]] | tuple[()] = ()

    @property
    def window(self) -> int:
        """How many distinct trade ids the log remembers."""
        return self._window

    def __len__(self) -> int:
        """How many trade ids the log remembers now (at most ``window``)."""
        return len(self._ids)

    @property
    def max_trades(self) -> int:
        """How many of the latest reported trades the log keeps."""
        return self._max_trades

    def seen(self, trade_id: str) -> bool:
        """True when ``trade_id`` is in the window (``apply`` would not report it again)."""
        return trade_id in self._ids

    def get(self, trade_id: str) -> Trade | None:
        """The trade as reported, while it is among the last ``max_trades`` reported; else None."""
        for kept_id, trade in reversed(self._trades):  # a scan of at most max_trades
            if kept_id == trade_id:
                return trade
        return None

    def trades(self) -> dict[str, Trade]:
        """A new dict of the kept trades by trade id, in the order they were reported."""
        return dict(self._trades)

    def trades_for(self, ordertxid: str) -> dict[str, Trade]:
        """The kept trades of order ``ordertxid``, in the order they were reported."""
        return {tid: trade for tid, trade in self._trades if trade.ordertxid == ordertxid}

    def __repr__(self) -> str:
        """Counts and the latest few trades, with exact Decimal digits."""
        latest = list(self._trades)[-_REPR_TRADES:]
        shown = ", ".join(_describe(trade_id, trade) for trade_id, trade in latest)
        listing = f"; latest: {shown}" if shown else ""
        return (
            f"FillLog({len(self._trades)} trades kept (max_trades={self._max_trades}), "
            f"{len(self._ids)} ids remembered (window={self._window}){listing})"
        )

    def remember(self, trade_ids: Iterable[str]) -> None:
        """Mark ``trade_ids`` as seen (reported by an earlier process: a journal), oldest
        first, without keeping their trades: ``apply`` will not report them."""
        ids = self._ids
        for trade_id in trade_ids:
            ids[trade_id] = None
            ids.move_to_end(trade_id)
        while len(ids) > self._window:
            ids.popitem(last=False)

    def apply(self, event: OwnTrades) -> tuple[tuple[str, Trade], ...]:
        """Record the frame's trades; return the ``(trade_id, Trade)`` pairs not seen before.

        Snapshots and updates are handled alike. The result keeps wire order; a trade id
        repeated within the frame is reported at most once. Never raises for any
        ``OwnTrades`` value.
        """
        ids = self._ids
        trades = event.trades
        if len(trades) == 1:
            # The usual live update, one trade: the loop below without its list.
            entry = trades[0]
            trade_id = entry[0]
            if trade_id in ids:
                ids.move_to_end(trade_id)
                return ()
            ids[trade_id] = None
            if len(ids) > self._window:
                ids.popitem(last=False)
            kept = self._trades
            if not isinstance(kept, deque):
                kept = self._trades = deque(maxlen=self._max_trades)
            kept.append(entry)
            return trades if type(trades) is tuple else (entry,)
        window = self._window
        new: list[tuple[str, Trade]] = []
        for entry in trades:
            trade_id = entry[0]
            if trade_id in ids:
                ids.move_to_end(trade_id)
                continue
            ids[trade_id] = None
            new.append(entry)
            if len(ids) > window:
                ids.popitem(last=False)
        if not new:
            return ()
        kept = self._trades
        if not isinstance(kept, deque):
            kept = self._trades = deque(maxlen=self._max_trades)
        # Usually every trade is new: then hand back the frame's own (immutable) tuple.
        if len(new) == len(trades) and type(trades) is tuple:
            kept.extend(trades)
            return trades
        kept.extend(new)
        return tuple(new)


def _describe(trade_id: str, trade: Trade) -> str:
    def text(value: object) -> str:
        return "?" if value is None else str(value)

    price = "?" if trade.price is None else decimal_text(trade.price)
    vol = "?" if trade.vol is None else decimal_text(trade.vol)
    return f"{trade_id} {text(trade.type)} {vol} {text(trade.pair)} @ {price}"
