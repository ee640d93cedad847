"""``FillLog``: each ownTrades execution reported once, across re-snapshots and overlaps.

Every ownTrades subscription starts with a snapshot of the account's last 50 trades, so each
resubscription (after a reconnect or a sequence gap) repeats trades the client has already
handled. ``FillLog`` remembers a bounded window of recently seen trade ids and passes on only
the ones outside it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from ._events import OwnTrades, Trade

__all__ = ["MIN_FILL_WINDOW", "FillLog"]

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
    """

    __slots__ = ("_ids", "_window")

    def __init__(self, *, window: int = 100_000) -> None:
        """Create an empty log. ``window`` must be an int of at least ``MIN_FILL_WINDOW``."""
        if type(window) is not int or window < MIN_FILL_WINDOW:
            raise ValueError(
                f"window must be an int of at least {MIN_FILL_WINDOW} "
                f"(the ownTrades snapshot size), got {window!r}"
            )
        self._window = window
        # Keys only, oldest sighting first: an ordered set with O(1) renew and evict.
        self._ids: OrderedDict[str, None] = OrderedDict()

    @property
    def window(self) -> int:
        """How many distinct trade ids the log remembers."""
        return self._window

    def __len__(self) -> int:
        """How many trade ids the log remembers now (at most ``window``)."""
        return len(self._ids)

    def seen(self, trade_id: str) -> bool:
        """True when ``trade_id`` is in the window (``apply`` would not report it again)."""
        return trade_id in self._ids

    def apply(self, event: OwnTrades) -> tuple[tuple[str, Trade], ...]:
        """Record the frame's trades; return the ``(trade_id, Trade)`` pairs not seen before.

        Snapshots and updates are handled alike. The result keeps wire order; a trade id
        repeated within the frame is reported at most once. Never raises for any
        ``OwnTrades`` value.
        """
        ids = self._ids
        window = self._window
        new: list[tuple[str, Trade]] = []
        trades = event.trades
        for entry in trades:
            trade_id = entry[0]
            if trade_id in ids:
                ids.move_to_end(trade_id)
                continue
            ids[trade_id] = None
            new.append(entry)
            if len(ids) > window:
                ids.popitem(last=False)
        # Usually every trade is new: then hand back the frame's own (immutable) tuple.
        if len(new) == len(trades) and type(trades) is tuple:
            return trades
        return tuple(new)
