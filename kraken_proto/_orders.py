"""``OrderTable``: the account's orders, rebuilt from openOrders snapshots and deltas.

Kraken sends a snapshot of every open order when the subscription starts (sequence 1), then
one entry per change: a full record for a new order, partial records ("deltas") for status
changes, fills, cancels and expiries (protocol doc sections 4.3-4.5). The table merges them:

* a snapshot replaces the open set; orders the table had open that the snapshot leaves out
  finished while the client was not listening, and their final state is unknown;
* a delta shallow-merges into the known record: fields it sent win, fields it left out keep
  their old values, a ``descr`` (or ``contingent``) merges into the old one the same way;
  ``vol_exec``, ``cost``, ``fee`` and ``avg_price`` are cumulative totals, so they are
  replaced, never added;
* entries apply in list order, so the same id twice in one frame is two merges;
* an order whose status becomes ``closed``, ``canceled`` or ``expired`` leaves the open set
  and stays queryable through ``get`` in a bounded cache of finished orders.
"""

from __future__ import annotations

from collections import OrderedDict
from decimal import InvalidOperation
from typing import Final

import msgspec

from kraken_proto.v1._events import OpenOrders, OrderRecord

from ._order import TERMINAL_STATUSES, Order, OrderChanges
from ._order_merge import (
    _copy,
    _differs,
    _fresh,
    _merged,
    _restates,
    _sent_items,
    _set,
)

__all__ = ["TERMINAL_STATUSES", "Order", "OrderChanges", "OrderTable"]

_REPR_ORDERS: Final = 5
"""How many open orders ``repr(OrderTable)`` lists."""
_REPR_FINISHED: Final = 3
"""How many of the latest finished orders ``repr(OrderTable)`` lists."""


class OrderTable:
    """The account's orders, kept current by applying ``OpenOrders`` events in order.

    ``max_finished`` bounds the cache of orders that left the open set (terminal or
    vanished); when it is full the order that left the open set first is forgotten.

    The table does not check sequence numbers: on a gap the caller resubscribes and applies
    the new snapshot, which brings the table back in line. Memory: the open orders plus at
    most ``max_finished`` finished ones.
    """

    __slots__ = ("_finished", "_frames_seen", "_max_finished", "_open")

    def __init__(self, *, max_finished: int = 10_000) -> None:
        """Create an empty table. ``max_finished`` must be a non-negative int."""
        if type(max_finished) is not int or max_finished < 0:
            raise ValueError(f"max_finished must be a non-negative int, got {max_finished!r}")
        self._max_finished = max_finished
        self._open: dict[str, Order] = {}
        self._finished: OrderedDict[str, Order] = OrderedDict()
        self._frames_seen = 0

    @property
    def max_finished(self) -> int:
        """How many orders that left the open set stay queryable through ``get``."""
        return self._max_finished

    def get(self, txid: str) -> Order | None:
        """The order as last known: open, or in the finished cache; ``None`` if unknown.

        An order that left the open set is forgotten once ``max_finished`` orders have left it
        after it. Use ``Order.is_open`` (not ``status``) to tell whether it is still open: a
        vanished order keeps its last status.
        """
        order = self._open.get(txid)
        if order is None:
            return self._finished.get(txid)
        return order

    def open_orders(self) -> dict[str, Order]:
        """A new dict of the open orders by txid, in the order the table first saw them."""
        return dict(self._open)

    def finished_orders(self) -> dict[str, Order]:
        """A new dict of the orders that left the open set (terminal or vanished) and are still
        in the bounded cache, by txid, oldest first (the next to be forgotten comes first)."""
        return dict(self._finished)

    def all_orders(self) -> dict[str, Order]:
        """A new dict of every order the table knows: the finished ones (oldest first), then
        the open ones."""
        orders = dict(self._finished)
        orders.update(self._open)
        return orders

    @property
    def finished_count(self) -> int:
        """How many finished orders the cache holds now (at most ``max_finished``)."""
        return len(self._finished)

    def __repr__(self) -> str:
        """Counts, then the first open orders and the latest finished ones, one
        ``Order.describe()`` each."""
        shown = [order.describe() for order in list(self._open.values())[:_REPR_ORDERS]]
        more = len(self._open) - len(shown)
        if more > 0:
            shown.append(f"... {more} more")
        listing = f"; open: {', '.join(shown)}" if shown else ""
        latest = list(self._finished.values())[-_REPR_FINISHED:]
        if latest:
            listing += f"; latest finished: {', '.join(order.describe() for order in latest)}"
        return (
            f"OrderTable({len(self._open)} open, {len(self._finished)} finished, "
            f"max_finished={self._max_finished}{listing})"
        )

    def __len__(self) -> int:
        """The number of open orders."""
        return len(self._open)

    def __contains__(self, txid: object) -> bool:
        """True when ``txid`` is an open order."""
        return txid in self._open

    def apply(self, event: OpenOrders, *, snapshot: bool | None = None) -> OrderChanges:
        """Apply one openOrders frame and return what changed.

        ``snapshot=True`` applies the frame as a snapshot (replacing the open set),
        ``snapshot=False`` as a delta. With ``snapshot=None`` the table decides: a frame with
        ``sequence == 1`` is the snapshot (Kraken numbers each subscription from 1, starting
        with the snapshot); a frame without a sequence (very old service) is the snapshot when
        it is the first frame this table sees; every other frame is a delta. Behind a
        ``Connection`` pass ``snapshot=isinstance(item, ChannelSnapshot)``; without sequence
        numbers a resubscription's snapshot can only be flagged by the caller.

        Entries apply in list order. Orders in the result are the new immutable states; the
        table never changes an ``Order`` it handed out. Never raises for any ``OpenOrders``.
        """
        if snapshot is None:
            sequence = event.sequence
            snapshot = self._frames_seen == 0 if sequence is None else sequence == 1
        self._frames_seen += 1
        if snapshot:
            return self._apply_snapshot(event)
        orders = event.orders
        if len(orders) == 1:
            # The hot path: most frames carry one change to one open order; skip the lists
            # and the helper calls.
            txid, record = orders[0]
            open_orders = self._open
            old = open_orders.get(txid)
            if old is not None:
                if record.descr is None and record.contingent is None:
                    # ``_merged`` written out for a flat delta (status, fill, cancel): an open
                    # order is never vanished, so only the sent fields change.
                    new = _copy(old)
                    for name, value in _sent_items(record):
                        _set(new, name, value)
                else:
                    new = _merged(old, record)
                if new.status in TERMINAL_STATUSES:
                    del open_orders[txid]
                    finished = self._finished
                    finished[txid] = new  # as _retire does
                    if len(finished) > self._max_finished:
                        finished.popitem(last=False)
                    return OrderChanges(snapshot=False, updated=(new,), finished=(new,))
                try:  # ``_differs``, inline
                    changed = new != old
                except InvalidOperation:
                    changed = True
                if changed:
                    open_orders[txid] = new
                    return OrderChanges(snapshot=False, updated=(new,))
                return OrderChanges(snapshot=False)
            if txid not in self._finished:
                new = _fresh(txid, record)  # a new order, normally "pending"
                if new.status not in TERMINAL_STATUSES:  # is_open: a fresh order never vanished
                    open_orders[txid] = new
                    if new.is_stub:
                        return OrderChanges(snapshot=False, stubs=(new,))
                    return OrderChanges(snapshot=False, added=(new,))
        return self._apply_delta(event)

    def _replace_open(self, txid: str, old: Order, new: Order) -> OrderChanges:
        """Count one frame whose one change, to the open order ``old``, is already merged into
        ``new`` (a copy no one has seen yet), store it and return the change: the end of
        ``apply``'s one-entry path for a known order, for a merge made elsewhere
        (``v2.apply_executions``). ``apply`` keeps its own copy of these lines: a call less on
        every v1 delta."""
        self._frames_seen += 1
        if new.status in TERMINAL_STATUSES:
            del self._open[txid]
            self._retire(new)
            return OrderChanges(snapshot=False, updated=(new,), finished=(new,))
        try:  # ``_differs``, inline
            changed = new != old
        except InvalidOperation:
            changed = True
        if changed:
            self._open[txid] = new
            return OrderChanges(snapshot=False, updated=(new,))
        return OrderChanges(snapshot=False)

    def _add_open(self, new: Order) -> OrderChanges:
        """Count one frame whose one change is ``new``, an open order the table has neither open
        nor finished, made elsewhere (``v2.apply_executions``): store it and return the change,
        as ``apply``'s one-entry path does for an unknown id."""
        self._frames_seen += 1
        self._open[new.txid] = new
        if new.is_stub:
            return OrderChanges(snapshot=False, stubs=(new,))
        return OrderChanges(snapshot=False, added=(new,))

    def _fill_empty(self, orders: dict[str, Order]) -> OrderChanges:
        """Count one snapshot frame into this empty table (no open and no finished order)
        whose entries were made elsewhere (``v2.apply_executions``): ``orders``, each open,
        by txid in the frame's order, become the open set, as ``apply``'s snapshot path would
        make them."""
        self._frames_seen += 1
        self._open = orders
        added = [order for order in orders.values() if not order.is_stub]
        if len(added) == len(orders):
            return OrderChanges(snapshot=True, added=tuple(added))
        stubs = [order for order in orders.values() if order.is_stub]
        return OrderChanges(snapshot=True, added=tuple(added), stubs=tuple(stubs))

    def _apply_delta(self, event: OpenOrders) -> OrderChanges:
        added: list[Order] = []
        stubs: list[Order] = []
        updated: list[Order] = []
        finished: list[Order] = []
        open_orders = self._open
        for txid, record in event.orders:
            old = open_orders.get(txid)
            if old is not None:
                new = _merged(old, record)
                if new.status in TERMINAL_STATUSES:
                    del open_orders[txid]
                    self._retire(new)
                    finished.append(new)
                    updated.append(new)
                elif _differs(new, old):
                    open_orders[txid] = new
                    updated.append(new)
                continue
            self._place(txid, record, self._finished.get(txid), added, stubs, updated, finished)
        return OrderChanges(
            snapshot=False,
            added=tuple(added),
            stubs=tuple(stubs),
            updated=tuple(updated),
            finished=tuple(finished),
        )

    def _apply_snapshot(self, event: OpenOrders) -> OrderChanges:
        added: list[Order] = []
        stubs: list[Order] = []
        updated: list[Order] = []
        finished: list[Order] = []
        vanished: list[Order] = []
        previously_open = self._open
        now_open: dict[str, Order] = {}
        self._open = now_open
        listed: set[str] = set()
        for txid, record in event.orders:
            if txid in listed:
                # A second entry in the same snapshot merges like a delta.
                self._place(txid, record, self.get(txid), added, stubs, updated, finished)
                continue
            listed.add(txid)
            # A snapshot entry is the whole record: replace, do not merge. Into an empty table
            # (the first snapshot) there is nothing to restate or revive: no lookup is made.
            old = previously_open.get(txid) if previously_open else None
            if old is not None and _restates(txid, record, old):
                now_open[txid] = old  # still open, unchanged: the usual re-snapshot entry
                continue
            new = _fresh(txid, record)
            if old is None:
                old = self._finished.get(txid) if self._finished else None
                if old is None and new.status not in TERMINAL_STATUSES:
                    now_open[txid] = new  # an order the table did not know
                    (stubs if new.is_stub else added).append(new)
                    continue
            self._place_new(new, old, added, stubs, updated, finished)
        for txid, order in previously_open.items():
            if txid not in listed:
                gone = msgspec.structs.replace(order, vanished=True)
                self._retire(gone)
                vanished.append(gone)
        return OrderChanges(
            snapshot=True,
            added=tuple(added),
            stubs=tuple(stubs),
            updated=tuple(updated),
            finished=tuple(finished),
            vanished=tuple(vanished),
        )

    def _place(
        self,
        txid: str,
        record: OrderRecord,
        old: Order | None,
        added: list[Order],
        stubs: list[Order],
        updated: list[Order],
        finished: list[Order],
    ) -> None:
        new = _fresh(txid, record) if old is None else _merged(old, record)
        self._place_new(new, old, added, stubs, updated, finished)

    def _place_new(
        self,
        new: Order,
        old: Order | None,
        added: list[Order],
        stubs: list[Order],
        updated: list[Order],
        finished: list[Order],
    ) -> None:
        """Store ``new`` (replacing ``old``, wherever it lived) and record the change."""
        txid = new.txid
        if old is None:
            (stubs if new.is_stub else added).append(new)
        elif _differs(new, old):
            updated.append(new)
        if new.is_open:
            self._finished.pop(txid, None)
            self._open[txid] = new
            return
        self._open.pop(txid, None)
        if txid in self._finished:
            self._finished[txid] = new  # keeps its place in the eviction order
        else:
            self._retire(new)
        if new.status in TERMINAL_STATUSES and (old is None or old.status not in TERMINAL_STATUSES):
            finished.append(new)

    def _retire(self, order: Order) -> None:
        """Put an order that left the open set into the finished cache, evicting the oldest."""
        finished = self._finished
        finished[order.txid] = order
        if len(finished) > self._max_finished:
            finished.popitem(last=False)
