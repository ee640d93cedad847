"""Reprs that show every ``Decimal`` with its exact digits in positional notation.

``repr(Decimal("0.00000000"))`` is ``Decimal('0E-8')``: equal, but not what Kraken sent and
hard to read. The structs of this package use ``struct_repr`` instead, which writes
``Decimal('0.00000000')`` (the same value, and valid Python).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

__all__ = ["decimal_text", "struct_repr", "value_repr"]


# Past this many characters positional notation stays exact but stops being readable, and a
# hostile exponent (``8e995674407370955189`` in a frame) would need exabytes to write out.
_MAX_POSITIONAL = 100


def decimal_text(value: Decimal) -> str:
    """``value``'s digits in positional notation: ``Decimal("0E-8")`` -> ``"0.00000000"``;
    scientific (``"8E+995674407370955189"``, still exact) when that would exceed 100 characters."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and abs(exponent) + len(value.as_tuple().digits) > _MAX_POSITIONAL:
        return str(value)
    return format(value, "f")


def value_repr(value: Any) -> str:
    """``repr(value)``, except that Decimals (also inside tuples, lists and dicts) keep their
    positional digits."""
    if isinstance(value, Decimal):
        return f"Decimal('{decimal_text(value)}')"
    if isinstance(value, tuple):
        items = ", ".join(value_repr(item) for item in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    if isinstance(value, list):
        return "[" + ", ".join(value_repr(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{value_repr(k)}: {value_repr(v)}" for k, v in value.items()) + "}"
    return repr(value)


def struct_repr(self: msgspec.Struct) -> str:
    """``Name(field=value, ...)`` for the fields msgspec's repr would show (defaults left out
    where the struct omits them), with exact Decimal digits."""
    fields = ", ".join(f"{name}={value_repr(value)}" for name, value in self.__rich_repr__())
    return f"{type(self).__name__}({fields})"
