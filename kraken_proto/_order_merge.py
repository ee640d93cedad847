"""How an ``OrderTable`` merges a record into an order: the fields Kraken sent win.

A delta shallow-merges into the known ``Order``: fields it sent replace the old values,
fields it left out keep them, and a ``descr`` or ``contingent`` merges into the old one the
same way. These run once per entry on the receive path, so they avoid building dicts and
keyword calls (see the notes at ``_sent_items`` and ``_copy``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import InvalidOperation
from typing import Any, TypeVar

import msgspec

from kraken_proto.v1._events import Contingent, OrderDescr, OrderRecord

from ._order import Order

_NestedT = TypeVar("_NestedT", OrderDescr, Contingent)
_StructT = TypeVar("_StructT", bound=msgspec.Struct)


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
_astuple = msgspec.structs.astuple


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


# ``Order`` extends ``OrderRecord`` (its fields first, in order) with ``txid``, ``is_stub`` and
# ``vanished``: ``_fresh`` and ``_restates`` read an order's record fields as a prefix.
_RECORD_WIDTH = len(OrderRecord.__struct_fields__)
assert Order.__struct_fields__[:_RECORD_WIDTH] == OrderRecord.__struct_fields__


def _restates(txid: str, record: OrderRecord, old: Order) -> bool:
    """``not _differs(_fresh(txid, record), old)``, without building the fresh ``Order``: True
    when the snapshot entry ``record`` gives ``old`` again, field for field (what most entries
    of a re-snapshot do). A signalling NaN counts as a change, as in ``_differs``."""
    if old.txid != txid or old.vanished or old.is_stub != (record.descr is None):
        return False
    # Both tuples compare item by item, each with ``==`` after an identity test, as the
    # Orders' own comparison does (the number memo makes most Decimals the same object).
    try:
        return _astuple(record) == _astuple(old)[:_RECORD_WIDTH]
    except InvalidOperation:
        return False


def _fresh(txid: str, record: OrderRecord) -> Order:
    """A new ``Order`` built from ``record`` alone (a snapshot entry or an unknown id)."""
    # ``Order``'s positional fields are ``OrderRecord``'s, in order: one C-level copy of every
    # value (unsent ones are None in both) instead of a setattr per sent field.
    return Order(*_astuple(record), txid=txid, is_stub=record.descr is None)


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
