"""The session's user events from the same bytes in one function: the floor of its contract.

``bench_session`` sets these beside the ``Session`` and the careful client. Each is what the
whole pipeline (decode -> Connection -> Session -> tables -> the user's event) does with the
usual frame of its channel, written as one function with nothing else around it: the typed
decode, the sequence check, the merge into a new frozen ``Order`` (or the fill's duplicate
check) and the user's ``OrdersChanged`` / ``FillReceived``, equal to the Session's (the
benchmark checks that, untimed, on every frame). What it leaves out is what the layers add:
the calls between them, the state each one checks per frame (connection and subscription
state, pacing, requests in doubt, the journal, the fill memory's backfill bounds), and the
frames that are not the usual one (gaps, snapshots, unknown messages), which it refuses.

So the floor bounds from below what any arrangement of the same guarantees can cost per frame
(exact Decimals, frozen objects handed out, a sequence check): a target this function misses
cannot be met without giving one of them up, and the rest of a gap is the layering.
"""

from __future__ import annotations

from typing import Final, Literal

from kraken_proto import FillReceived, OrderChanges, OrdersChanged, OrderTable
from kraken_proto._order import TERMINAL_STATUSES, Order
from kraken_proto._order_merge import _copy, _fresh, _merged, _sent_items, _set
from kraken_proto.v1 import OpenOrders, OwnTrades
from kraken_proto.v1._decode import decode as v1_decode
from kraken_proto.v2 import _translation
from kraken_proto.v2 import decode as v2_decode
from kraken_proto.v2._events import Executions
from kraken_proto.v2._table_updates import _merged as _merged_update
from kraken_proto.v2._table_updates import _new_order

__all__ = ["V1OrdersFloor", "V1TradesFloor", "V2Floor"]

_LIVE: Final[Literal["live"]] = "live"


def _new_order_changes(order: Order) -> OrderChanges:
    """What the table reports for an order it did not know (open, as every one here is)."""
    if order.is_stub:
        return OrderChanges(snapshot=False, stubs=(order,))
    return OrderChanges(snapshot=False, added=(order,))


class V1OrdersFloor:
    """v1 ``openOrders`` updates of one entry each, from ``first`` on, over ``table``'s orders."""

    def __init__(self, table: OrderTable, first: int) -> None:
        self._open: dict[str, Order] = table._open
        self._next = first

    def on_frame(self, frame: bytes) -> list[OrdersChanged]:
        """The user's events for one frame (raises on any frame it was not written for)."""
        event = v1_decode(frame)
        if type(event) is not OpenOrders or event.sequence != self._next:
            raise RuntimeError(f"not the next openOrders update: {event!r}")
        self._next += 1
        txid, record = event.orders[0]
        open_orders = self._open
        old = open_orders.get(txid)
        if old is None:
            new = _fresh(txid, record)
            open_orders[txid] = new
            return [OrdersChanged(changes=_new_order_changes(new), source=_LIVE)]
        if record.descr is None and record.contingent is None:
            new = _copy(old)
            for name, value in _sent_items(record):
                _set(new, name, value)
        else:
            new = _merged(old, record)
        if new.status in TERMINAL_STATUSES:
            del open_orders[txid]
            changes = OrderChanges(snapshot=False, updated=(new,), finished=(new,))
        elif new != old:
            open_orders[txid] = new
            changes = OrderChanges(snapshot=False, updated=(new,))
        else:
            return []
        return [OrdersChanged(changes=changes, source=_LIVE)]


class V1TradesFloor:
    """v1 ``ownTrades`` updates, from ``first`` on: each fill not seen before, once."""

    def __init__(self, first: int) -> None:
        self._seen: dict[str, None] = {}
        self._next = first

    def on_frame(self, frame: bytes) -> list[FillReceived]:
        """The user's events for one frame (raises on any frame it was not written for)."""
        event = v1_decode(frame)
        if type(event) is not OwnTrades or event.sequence != self._next:
            raise RuntimeError(f"not the next ownTrades update: {event!r}")
        self._next += 1
        seen = self._seen
        fills = []
        for trade_id, trade in event.trades:
            if trade_id not in seen:
                seen[trade_id] = None
                fills.append(FillReceived(trade_id=trade_id, trade=trade, source=_LIVE))
        return fills


class V2Floor:
    """v2 ``executions`` updates, from ``first`` on, over ``table``'s orders: each record's
    order change merged straight into the ``Order`` (no v1-shaped record in between: the
    merge and the new ``Order`` of ``v2.apply_executions``), and each trade execution not
    seen before as a fill."""

    def __init__(self, table: OrderTable, first: int) -> None:
        self._open: dict[str, Order] = table._open
        self._next = first
        self._seen: dict[str, None] = {}

    def on_frame(self, frame: bytes) -> list[OrdersChanged | FillReceived]:
        """The user's events for one frame (raises on any frame it was not written for)."""
        push = v2_decode(frame)
        if type(push) is not Executions or push.type != "update" or push.sequence != self._next:
            raise RuntimeError(f"not the next executions update: {push!r}")
        self._next += 1
        open_orders = self._open
        changes: OrderChanges | None = None
        fills: list[OrdersChanged | FillReceived] = []
        for record in push.data:
            txid = record.order_id
            if txid is None:
                raise RuntimeError(f"no order_id: {record!r}")
            old = open_orders.get(txid)
            if old is None:  # a new order, built as ``v2.apply_executions`` builds it
                new = _new_order(txid, record)
                open_orders[txid] = new
                changes = _new_order_changes(new)
            else:  # merged straight into a copy, as ``v2.apply_executions`` merges it
                merged = _merged_update(old, record)
                if merged is None:
                    raise RuntimeError(f"a record restating the description: {record!r}")
                new = merged
                if new.status in TERMINAL_STATUSES:
                    del open_orders[txid]
                    changes = OrderChanges(snapshot=False, updated=(new,), finished=(new,))
                elif new != old:
                    open_orders[txid] = new
                    changes = OrderChanges(snapshot=False, updated=(new,))
            trade_id = record.exec_id
            if record.exec_type == "trade" and trade_id is not None and trade_id not in self._seen:
                self._seen[trade_id] = None
                trade = _translation._trade(record)
                fills.append(FillReceived(trade_id=trade_id, trade=trade, source=_LIVE))
        if changes is None:
            return fills
        return [OrdersChanged(changes=changes, source=_LIVE), *fills]
