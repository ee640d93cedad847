"""An ``executions`` push applied to an ``OrderTable`` (pure): :func:`apply_executions`.

The reference is ``table.apply(open_orders(push), snapshot=...)``: the push in v1 shapes,
merged as v1's deltas merge. The usual live push, one record about an order the table holds
open (a status change, a fill, a cancel), is merged here straight into a copy of that
``Order`` instead, reading the v2 record through the translation's own field table. The
changes returned and the table afterwards are the same as the reference's (a property test
holds them equal); what is saved is building, then reading, a v1 record and frame per push
(~10% of a v2 status update's whole path through the session, measured). A new order, the
other usual one-record push, is built straight from its record as well, and so are the
orders of a snapshot into an empty table (the first one a program gets). Every other push (a
later snapshot, several records, a record that restates an open order's description, one
about an order the table has finished) takes the reference path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from kraken_proto._order import TERMINAL_STATUSES, Order, OrderChanges
from kraken_proto._order_merge import _copy, _set
from kraken_proto._orders import OrderTable

from ._events import Execution, Executions
from ._translation import (
    _DESCR_FIELDS,
    _NOTHING_EXECUTED,
    _ORDER_COMPUTED,
    _ORDER_FIELDS,
    _SNAPSHOT_STATUS,
    _STATUS_BY_EXEC_TYPE,
    _compile,
    _descr,
    _unix_of,
    open_orders,
)

__all__ = ["apply_executions"]


def _compile_merge() -> Callable[[Order, Execution], Order | None]:
    """``merged(old, record)``: a new ``Order``, ``old`` with what ``record`` (an update of
    it) says, set field by field on a copy no one has seen; ``None`` when ``record`` carries
    the order's description (``_DESCR_FIELDS``, on any exec type but ``trade``), whose
    nested merge the reference path does.

    The sets are the ones the table's merge makes from the translation's record: each
    ``_ORDER_FIELDS`` field the record sent whose converted value is not ``None``, then the
    computed ones as ``open_orders`` works them out (status from ``exec_type``; ``opentm``
    and a zero ``vol_exec`` for a pending order; the cancel reason; ``lastupdated``; the
    executed volume). Generated from the tables, one line per field, so a row added to
    ``_ORDER_FIELDS`` reaches both paths."""
    namespace: dict[str, Any] = {
        "_copy": _copy,
        "_set": _set,
        "_status_of": _STATUS_BY_EXEC_TYPE.get,
        "_unix_of": _unix_of,
        "_nothing": _NOTHING_EXECUTED,
    }
    described = " or ".join(f"record.{source} is not None" for source, _, _ in _DESCR_FIELDS)
    lines = [
        "def merged(old, record):",
        "    exec_type = record.exec_type",
        f"    if exec_type != 'trade' and ({described}):",
        "        return None",
        "    new = _copy(old)",
    ]
    for index, (source, field, convert) in enumerate(_ORDER_FIELDS):
        if convert is None:
            lines.append(f"    if (value := record.{source}) is not None:")
        else:
            namespace[f"_convert{index}"] = convert
            lines.append(
                f"    if (value := record.{source}) is not None"
                f" and (value := _convert{index}(value)) is not None:"
            )
        lines.append(f"        _set(new, {field!r}, value)")
    lines.extend(
        [
            "    status = _status_of(exec_type)",
            "    stamp = record.timestamp",
            "    when = None if stamp is None else _unix_of(stamp)",
            "    executed = record.cum_qty",
            "    if status is not None:",
            "        _set(new, 'status', status)",
            "        if status == 'pending':",
            "            if when is not None:",
            "                _set(new, 'opentm', when)",
            "            if executed is None:",
            "                executed = _nothing",
            "        elif status == 'canceled':",
            "            reason = record.reason",
            "            if reason is None:",
            "                reason = record.cancel_reason",
            "            if reason is not None:",
            "                _set(new, 'cancel_reason', reason)",
            "    if when is not None:",
            "        _set(new, 'lastupdated', when)",
            "    if executed is not None:",
            "        _set(new, 'vol_exec', executed)",
            "    return new",
        ]
    )
    exec(compile("\n".join(lines), f"<{__name__}.merged>", "exec"), namespace)
    merged: Callable[[Order, Execution], Order | None] = namespace["merged"]
    return merged


_merged = _compile_merge()
# ``_fresh(txid, _order_record(record, <computed>))`` in one constructor call.
_order = cast(
    Callable[..., Order],
    _compile("_order", Order, _ORDER_FIELDS, _ORDER_COMPUTED, keywords=("txid", "is_stub")),
)


def _new_order(txid: str, record: Execution) -> Order:
    """The ``Order`` the table makes of an update's record about an order it does not know:
    the one ``open_orders`` gives it, built straight from ``record``."""
    exec_type = record.exec_type
    status = _STATUS_BY_EXEC_TYPE.get(exec_type)  # type: ignore[arg-type]
    stamp = record.timestamp
    when = None if stamp is None else _unix_of(stamp)
    executed = record.cum_qty
    reason = None
    if status == "pending":
        opened = when
        if executed is None:
            executed = _NOTHING_EXECUTED
    else:
        opened = None
        if status == "canceled":
            reason = record.reason if record.reason is not None else record.cancel_reason
    descr = None if exec_type == "trade" else _descr(record)
    return _order(record, status, opened, when, descr, reason, executed, txid, descr is None)


def _first_snapshot(data: tuple[Execution, ...]) -> dict[str, Order] | None:
    """The open orders a snapshot lists, by txid in its order, built as ``open_orders`` and an
    empty table build them; ``None`` when it lists an order twice (the second entry merges
    into the first, which the reference path does)."""
    orders: dict[str, Order] = {}
    for record in data:
        txid = record.order_id
        if txid is None or record.exec_type == "trade":
            continue  # a fill listed with the snapshot: no order of its own
        if txid in orders:
            return None
        status = _SNAPSHOT_STATUS.get(record.order_status, "open")  # type: ignore[arg-type]
        stamp = record.timestamp
        when = None if stamp is None else _unix_of(stamp)
        executed = record.cum_qty
        if executed is None and status == "pending":
            executed = _NOTHING_EXECUTED
        descr = _descr(record)
        stub = descr is None
        orders[txid] = _order(record, status, when, when, descr, None, executed, txid, stub)
    return orders


def apply_executions(table: OrderTable, push: Executions) -> OrderChanges:
    """Apply one ``executions`` push's order changes to ``table`` and return what changed:
    the same changes, and the same table afterwards, as
    ``table.apply(open_orders(push), snapshot=push.is_snapshot)``. Fills are not applied
    here (``own_trades`` and a ``FillLog`` keep those). Never raises for any ``Executions``.
    """
    data = push.data
    if len(data) == 1 and push.type == "update":
        record = data[0]
        txid = record.order_id
        if txid is not None:
            old = table._open.get(txid)
            if old is not None:
                new = _merged(old, record)
                if new is not None:
                    return table._replace_open(txid, old, new)
            elif txid not in table._finished:
                new = _new_order(txid, record)  # a new order, normally pending
                if new.status not in TERMINAL_STATUSES:
                    return table._add_open(new)
    elif push.type == "snapshot" and not table._open and not table._finished:
        # The first snapshot (a new table): every order in it is new, and open.
        orders = _first_snapshot(data)
        if orders is not None:
            return table._fill_empty(orders)
    return table.apply(open_orders(push), snapshot=push.type == "snapshot")
