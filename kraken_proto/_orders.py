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
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

import msgspec

from kraken_proto.v1._events import Contingent, OpenOrders, OrderDescr, OrderRecord

from ._repr import decimal_text, value_repr

__all__ = ["TERMINAL_STATUSES", "Order", "OrderChanges", "OrderTable"]

TERMINAL_STATUSES: Final = frozenset({"closed", "canceled", "expired"})
"""Statuses after which Kraken sends no more changes for an order."""

_REPR_ORDERS: Final = 5
"""How many open orders ``repr(OrderTable)`` lists."""
_REPR_FINISHED: Final = 3
"""How many of the latest finished orders ``repr(OrderTable)`` lists."""

_NestedT = TypeVar("_NestedT", OrderDescr, Contingent)
_StructT = TypeVar("_StructT", bound=msgspec.Struct)


class Order(OrderRecord, frozen=True, kw_only=True, gc=False):
    """One order as the table knows it: every field merged so far, plus its ``txid``.

    The ``OrderRecord`` fields keep Kraken's names and exact ``Decimal`` values; a field is
    ``None`` when Kraken has never sent it for this order. ``status`` is the last status seen
    (``None`` for a stub that has had no status yet).

    ``is_stub`` is True while the table has never received a record with ``descr`` for this
    order: it learnt of the order from a delta only (for example a fill for an order placed
    before the snapshot it missed), so most fields are unknown. A later entry carrying
    ``descr`` clears it.

    ``vanished`` is True when a snapshot left out this order while the table had it open: the
    order finished while the client was not listening and its final state is unknown (its
    fields are the last ones seen; ask REST ``QueryOrders``). A later entry carrying a
    ``status`` clears it.
    """

    txid: str
    is_stub: bool = False
    vanished: bool = False

    @property
    def is_open(self) -> bool:
        """True while the order is in the table's open set (neither terminal nor vanished)."""
        return not self.vanished and self.status not in TERMINAL_STATUSES

    def __repr__(self) -> str:
        """``Order(txid=..., <the fields known>)`` with exact Decimal digits."""
        fields = "".join(
            f", {name}={value_repr(value)}"
            for name, value in self.__rich_repr__()
            if name != "txid"
        )
        return f"Order(txid={self.txid!r}{fields})"

    def describe(self) -> str:
        """One line for people: ``txid status side ordertype volume pair @ price``, plus what
        has executed, e.g. ``OABC-... open buy limit 0.50000000 XBT/USD @ 25000.0 (executed
        0.10000000)``. Unknown parts show as ``?``; Decimals keep their exact digits."""
        descr = self.descr or _NO_DESCR
        status = self.status or "?"
        if self.vanished:
            status += " (vanished: final state unknown)"
        parts = [
            self.txid,
            status,
            descr.type or "?",
            descr.ordertype or "?",
            _text(self.vol),
            descr.pair or "?",
        ]
        if descr.price is not None and (descr.ordertype or "") != "market":
            parts += ["@", decimal_text(descr.price)]
        text = " ".join(parts)
        if self.vol_exec is not None and self.vol_exec != 0:
            text += f" (executed {decimal_text(self.vol_exec)})"
        return text


class OrderChanges(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What one ``OrderTable.apply`` call changed; every tuple is in the order it happened.

    Each entry is the ``Order`` as it stood right after that change.

    * ``added``: orders the table did not know, received with a ``descr`` (new orders and
      snapshot entries).
    * ``stubs``: orders the table did not know, received without a ``descr`` (``is_stub``).
    * ``updated``: known orders whose merged state changed (an entry that changes nothing is
      not reported).
    * ``finished``: orders whose status became terminal in this call. Each also appears in
      ``added``, ``stubs`` or ``updated`` of the same call.
    * ``vanished``: orders the table had open that this snapshot left out. They finished while
      the client was not listening; their final state is unknown (``Order.vanished``).

    ``snapshot`` says whether the frame was applied as a snapshot.
    """

    snapshot: bool
    added: tuple[Order, ...] = ()
    stubs: tuple[Order, ...] = ()
    updated: tuple[Order, ...] = ()
    finished: tuple[Order, ...] = ()
    vanished: tuple[Order, ...] = ()

    def __bool__(self) -> bool:
        """True when anything changed."""
        return bool(self.added or self.stubs or self.updated or self.finished or self.vanished)


def _sent_fields_by_repr(record: msgspec.Struct) -> dict[str, Any]:
    # With repr_omit_defaults (every default is None) __rich_repr__ yields exactly the fields
    # Kraken sent, in C and about four times faster than scanning all the fields in Python.
    return dict(record.__rich_repr__())


def _sent_fields_by_scan(record: msgspec.Struct) -> dict[str, Any]:
    return {
        name: value
        for name, value in zip(
            record.__struct_fields__, msgspec.structs.astuple(record), strict=True
        )
        if value is not None
    }


def _sent_items_by_scan(record: msgspec.Struct) -> Iterable[tuple[str, Any]]:
    return _sent_fields_by_scan(record).items()


def _uses_fast_path(cls: type[msgspec.Struct]) -> bool:
    config = cls.__struct_config__
    return config.repr_omit_defaults and all(default is None for default in cls.__struct_defaults__)


_FAST_PATH = all(_uses_fast_path(cls) for cls in (OrderRecord, OrderDescr, Contingent))
# The merges iterate the sent (name, value) pairs without building a dict: on the fast path the
# unbound C method is called directly (what ``_sent_fields_by_repr`` wraps in a dict), with no
# Python frame in between.
_sent_items: Callable[[msgspec.Struct], Iterable[tuple[str, Any]]] = (
    msgspec.Struct.__rich_repr__ if _FAST_PATH else _sent_items_by_scan
)
# Building an Order as a copy of another one and then setting the changed fields (on the copy,
# before anyone else can see it) is two to three times cheaper than ``msgspec.structs.replace``
# with keyword arguments or ``Order(**fields)``; the result is an ordinary frozen Order.
_copy: Callable[[_StructT], _StructT] = msgspec.Struct.__copy__  # type: ignore[attr-defined]
_set = msgspec.structs.force_setattr
_BLANK = Order(txid="")
_NO_DESCR = OrderDescr()


def _text(value: Decimal | None) -> str:
    return "?" if value is None else decimal_text(value)


def _differs(new: Order, old: Order) -> bool:
    """``new != old``, except that a field holding a signalling NaN (Kraken text ``"sNaN"``,
    which ``decode`` keeps as sent) counts as a change instead of raising ``InvalidOperation``."""
    try:
        return new != old
    except InvalidOperation:
        return True


def _merge_nested(old: _NestedT | None, new: _NestedT) -> _NestedT:
    if old is None:
        return new
    merged = _copy(old)
    set_field = _set
    for name, value in _sent_items(new):
        set_field(merged, name, value)
    return merged


def _fresh(txid: str, record: OrderRecord) -> Order:
    """A new ``Order`` built from ``record`` alone (a snapshot entry or an unknown id)."""
    new = _copy(_BLANK)
    set_field = _set
    for name, value in _sent_items(record):
        set_field(new, name, value)
    _set(new, "txid", txid)
    if record.descr is None:
        _set(new, "is_stub", True)
    return new


def _merged(old: Order, record: OrderRecord) -> Order:
    """``old`` with ``record`` shallow-merged over it."""
    new = _copy(old)
    set_field = _set
    for name, value in _sent_items(record):
        set_field(new, name, value)
    descr = record.descr
    if descr is not None:
        _set(new, "descr", _merge_nested(old.descr, descr))
        if old.is_stub:
            _set(new, "is_stub", False)
    contingent = record.contingent
    if contingent is not None:
        _set(new, "contingent", _merge_nested(old.contingent, contingent))
    if old.vanished and record.status is not None:
        _set(new, "vanished", False)
    return new


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
                new = _merged(old, record)
                if new.status in TERMINAL_STATUSES:
                    del open_orders[txid]
                    finished = self._finished
                    finished[txid] = new  # as _retire does
                    if len(finished) > self._max_finished:
                        finished.popitem(last=False)
                    return OrderChanges(snapshot=False, updated=(new,), finished=(new,))
                if _differs(new, old):
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
        self._open = {}
        listed: set[str] = set()
        for txid, record in event.orders:
            if txid in listed:
                # A second entry in the same snapshot merges like a delta.
                self._place(txid, record, self.get(txid), added, stubs, updated, finished)
                continue
            listed.add(txid)
            # A snapshot entry is the whole record: replace, do not merge.
            new = _fresh(txid, record)
            old = previously_open.get(txid)
            if old is not None and not _differs(new, old):
                self._open[txid] = old  # still open, unchanged: the usual re-snapshot entry
                continue
            if old is None:
                old = self._finished.get(txid)
                if old is None and new.status not in TERMINAL_STATUSES:
                    self._open[txid] = new  # an order the table did not know
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
