"""The fills a resubscription or a backfill can repeat, remembered by time, not by count.

``FillLog`` forgets the oldest *sighting* once its window (as small as 50) is full. A REST
backfill pages newest first and may hold more trades than the window, and the next
snapshot repeats the newest 50 trades: by then the window may have forgotten them, and they
would be reported again. What can come back is known by time: a backfill returns only
trades at or after its start (the last fill minus ``backfill_margin``), a snapshot only the
newest ``SNAPSHOT_SIZE`` trades. ``RecentFills`` keeps exactly those ids, whatever the window.
"""

from __future__ import annotations

import heapq
from decimal import Decimal
from itertools import islice
from typing import Final

from kraken_proto._no_entries import NO_ENTRIES, writable

__all__ = ["SNAPSHOT_SIZE", "RecentFills"]

SNAPSHOT_SIZE: Final = 50
"""How many trades an ownTrades snapshot repeats (Kraken's newest 50)."""


class RecentFills(dict[str, Decimal]):
    """The ids of the reported fills a snapshot or backfill may repeat.

    A dict of trade id -> the time it executed (or the time standing in for it). ``note(trade_id,
    time)`` records a reported fill; ``trade_id in recent`` asks whether it was reported (a
    dict lookup in C: the session asks once per fill). ``prune(floor)`` forgets the fills
    older than both ``floor`` and the newest ``SNAPSHOT_SIZE`` (the caller passes the earliest
    start a backfill could have). Memory: the fills since ``floor`` plus 50, once pruned. Only
    ``note`` (or ``recent[trade_id] = time`` for a dated fill, which is all ``note`` does for
    one) and ``prune`` change it.
    """

    __slots__ = ("_undated", "due_above")

    def __init__(self) -> None:
        super().__init__()
        # Prune once the size passes this (twice the size after the last prune, plus a
        # snapshot): amortised pruning, tested by ``due`` or read directly on the hot path.
        self.due_above = SNAPSHOT_SIZE
        # Noted at a stand-in time, not their own. A dict as a set: empty, 64 bytes to 216.
        self._undated: dict[str, None] = NO_ENTRIES

    def note(self, trade_id: str, time: Decimal, *, dated: bool = True) -> None:
        """Remember that ``trade_id`` (executed at ``time``) was reported; ``dated=False``:
        the trade had no time, and ``time`` stands in for it. A dated one is only
        ``recent[trade_id] = time``: the newest ``SNAPSHOT_SIZE`` are found when pruning, not
        kept in order on every fill (a heap cost ~0.3 us a fill, fills mostly coming newest)."""
        self[trade_id] = time
        if not dated:
            self._undated = writable(self._undated)
            self._undated[trade_id] = None

    def due(self) -> bool:
        """True when the memory has doubled since the last prune (amortised pruning)."""
        return len(self) > self.due_above

    def prune(self, floor: Decimal) -> None:
        """Forget the fills older than ``floor`` and than the newest ``SNAPSHOT_SIZE``."""
        if len(self) < SNAPSHOT_SIZE:
            return  # fewer than a snapshot's worth: a snapshot may repeat them all
        floor = min(floor, self._snapshot_oldest())
        kept = {tid: time for tid, time in self.items() if time >= floor}
        self.clear()
        self.update(kept)
        self.due_above = 2 * len(kept) + SNAPSHOT_SIZE
        if self._undated:
            self._undated = {tid: None for tid in self._undated if tid in kept}

    def _snapshot_oldest(self) -> Decimal:
        """The time of the ``SNAPSHOT_SIZE``-th newest fill held (at least that many are)."""
        values = self.values()
        # Fills mostly come in time order, so the last ones noted are usually the newest: the
        # oldest of them is the answer exactly when fewer than SNAPSHOT_SIZE fills held are
        # newer than it (it is then neither above nor below the SNAPSHOT_SIZE-th newest).
        # Counting those is a comparison per fill in C; the heap, ~0.3 us a fill in Python
        # (it decorates each value to keep ties stable), is left for fills noted out of order,
        # and reads from the newest end, where most of the rest cost one comparison each.
        candidate = min(islice(reversed(values), SNAPSHOT_SIZE))
        if sum(map(candidate.__lt__, values)) < SNAPSHOT_SIZE:
            return candidate
        return heapq.nlargest(SNAPSHOT_SIZE, reversed(values))[-1]

    def dated_between(self, low: Decimal, high: Decimal) -> set[str]:
        """The ids of the remembered fills executed after ``low``, up to ``high`` (by their
        own time: undated ones are left out). Complete for ``low`` at or after the last
        ``prune`` floor."""
        undated = self._undated
        return {tid for tid, time in self.items() if low < time <= high and tid not in undated}
