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

from collections.abc import Callable
from typing import Any, Final, Literal

from kraken_proto import FillReceived, OrderChanges, OrdersChanged, OrderTable
from kraken_proto._order import TERMINAL_STATUSES, Order
from kraken_proto._order_merge import _copy, _fresh, _merged, _sent_items, _set
from kraken_proto.v1 import OpenOrders, OwnTrades
from kraken_proto.v1._decode import decode as v1_decode
from kraken_proto.v2 import _translation, rfc3339_to_unix
from kraken_proto.v2 import decode as v2_decode
from kraken_proto.v2._events import Execution, Executions

__all__ = ["V1OrdersFloor", "V1TradesFloor", "V2Floor"]

_LIVE: Final[Literal["live"]] = "live"


def _new_order(order: Order) -> OrderChanges:
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
            return [OrdersChanged(changes=_new_order(new), source=_LIVE)]
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


def _order_setter() -> Callable[[Order, Execution], None]:
    """``merge(order, record)``: each order field of the v2 translation's table that the
    record sent, set on ``order`` (a copy no one has seen yet), one line per field."""
    namespace: dict[str, Any] = {"_set": _set}
    lines = ["def merge(order, record):"]
    for index, (source, field, convert) in enumerate(_translation._ORDER_FIELDS):
        value = "value"
        if convert is not None:
            namespace[f"_convert{index}"] = convert
            value = f"_convert{index}(value)"
        lines.append(f"    if (value := record.{source}) is not None:")
        lines.append(f"        _set(order, {field!r}, {value})")
    lines.append("    if (value := record.cum_qty) is not None:")
    lines.append("        _set(order, 'vol_exec', value)")
    exec("\n".join(lines), namespace)
    merge: Callable[[Order, Execution], None] = namespace["merge"]
    return merge


_merge_v2 = _order_setter()
_STATUS_BY_EXEC_TYPE = _translation._STATUS_BY_EXEC_TYPE


class V2Floor:
    """v2 ``executions`` updates, from ``first`` on, over ``table``'s orders: each record's
    order change merged straight into the ``Order`` (no v1-shaped record in between), and
    each trade execution not seen before as a fill."""

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
            status = _STATUS_BY_EXEC_TYPE.get(record.exec_type or "")
            when = rfc3339_to_unix(record.timestamp)
            old = open_orders.get(txid)
            if old is None:  # a new order, built as the translation builds it
                executed = record.cum_qty
                if executed is None and status == "pending":
                    executed = _translation._NOTHING_EXECUTED
                opened = when if status == "pending" else None
                descr = None if record.exec_type == "trade" else _translation._descr(record)
                new = _fresh(
                    txid,
                    _translation._order_record(record, status, opened, when, descr, None, executed),
                )
                open_orders[txid] = new
                changes = _new_order(new)
            else:
                new = _copy(old)
                _merge_v2(new, record)
                if status is not None:
                    _set(new, "status", status)
                    reason = record.reason if record.reason is not None else record.cancel_reason
                    if status == "canceled" and reason is not None:
                        _set(new, "cancel_reason", reason)
                _set(new, "lastupdated", when)
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
