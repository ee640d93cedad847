"""Mending the looseness Kraken shows in a record's non-text fields, shared by the v1 and v2
decoders' careful paths."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

import msgspec

__all__ = ["_Repairs", "_repair", "_repairs"]

_INT_TEXT = re.compile(r"-?[0-9]{1,19}")
_BOOL_TEXT = {"true": True, "false": False}


def _wire_names(
    struct: type[msgspec.Struct], keep: Callable[[tuple[Any, ...]], bool]
) -> frozenset[str]:
    """Wire names of ``struct``'s fields whose type (a union's members) satisfies ``keep``."""
    info = msgspec.inspect.type_info(struct)
    return frozenset(
        field.encode_name
        for field in info.fields  # type: ignore[attr-defined]
        if keep(getattr(field.type, "types", (field.type,)))
    )


class _Repairs(NamedTuple):
    """What the careful path may mend in one kind of record (see ``_repair``)."""

    non_text: frozenset[str]
    ints: frozenset[str]
    bools: frozenset[str]


def _repairs(struct: type[msgspec.Struct]) -> _Repairs:
    inspect = msgspec.inspect
    return _Repairs(
        non_text=_wire_names(
            struct, lambda ts: not any(isinstance(t, inspect.StrType) for t in ts)
        ),
        ints=_wire_names(struct, lambda ts: any(isinstance(t, inspect.IntType) for t in ts)),
        bools=_wire_names(struct, lambda ts: any(isinstance(t, inspect.BoolType) for t in ts)),
    )


def _repair(record: dict[str, Any], repairs: _Repairs) -> None:
    """Mend the looseness Kraken is known for, or might show, in a record's non-text fields.

    ``""`` for a number means absent. An integer or boolean sent as text (``"123"``,
    ``"true"``) is read as what it says: failing the frame would fail the connection, and the
    reconnect's snapshot holding the same record would fail it again. Decimal fields are left
    alone, so their digits stay exactly as sent.
    """
    for name in repairs.non_text:
        value = record.get(name)
        if type(value) is not str:
            continue
        if value == "":
            record[name] = None
        elif name in repairs.ints and _INT_TEXT.fullmatch(value):
            record[name] = int(value)
        elif name in repairs.bools and value in _BOOL_TEXT:
            record[name] = _BOOL_TEXT[value]
