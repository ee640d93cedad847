"""What the v2 requests are made of: their base class, vocabularies, field checks, the wire
writer, and the ``Triggers`` and ``Conditional`` parts of an order.

v2 sends prices and quantities as JSON *numbers*: :func:`_put` writes each Decimal's digits
as a bare number in fixed-point notation (``1E-8`` goes out as ``0.00000001``), never through
a float and never as a string.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, Literal

import msgspec

from kraken_proto._request_base import Request
from kraken_proto._request_checks import (
    _check_choice,
    _check_text,
    _decimal,
    _decimal_text,
    _fail,
    _set,
)

__all__ = [
    "CONDITIONAL_TYPES",
    "FEE_PREFERENCES",
    "LIMIT_TYPES",
    "NO_LIMIT_TYPES",
    "ORDER_TYPES",
    "PRICE_TYPES",
    "STP_TYPES",
    "TIME_IN_FORCE",
    "TRIGGERED_TYPES",
    "TRIGGER_REFERENCES",
    "Conditional",
    "PriceType",
    "Side",
    "Triggers",
    "V2Request",
]

Side = Literal["buy", "sell"]
PriceType = Literal["static", "pct", "quote"]

ORDER_TYPES: frozenset[str] = frozenset(
    {
        "limit",
        "market",
        "iceberg",
        "stop-loss",
        "stop-loss-limit",
        "take-profit",
        "take-profit-limit",
        "trailing-stop",
        "trailing-stop-limit",
        "settle-position",
    }
)
TRIGGERED_TYPES: frozenset[str] = frozenset(
    {
        "stop-loss",
        "stop-loss-limit",
        "take-profit",
        "take-profit-limit",
        "trailing-stop",
        "trailing-stop-limit",
    }
)
# Order types that need a limit price, and those that take none (settle-position: optional).
LIMIT_TYPES: frozenset[str] = frozenset(
    {"limit", "iceberg", "stop-loss-limit", "take-profit-limit", "trailing-stop-limit"}
)
NO_LIMIT_TYPES: frozenset[str] = frozenset({"market", "stop-loss", "take-profit", "trailing-stop"})
CONDITIONAL_TYPES: frozenset[str] = TRIGGERED_TYPES | {"limit"}
PRICE_TYPES: frozenset[str] = frozenset({"static", "pct", "quote"})
TRIGGER_REFERENCES: frozenset[str] = frozenset({"last", "index"})
TIME_IN_FORCE: frozenset[str] = frozenset({"gtc", "gtd", "ioc", "fok"})
STP_TYPES: frozenset[str] = frozenset({"cancel_newest", "cancel_oldest", "cancel_both"})
FEE_PREFERENCES: frozenset[str] = frozenset({"base", "quote"})


def _signed_decimal(name: str, value: object) -> Decimal:
    """A finite, non-zero Decimal of either sign (a relative offset); floats refused."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        number = Decimal(value)
        if number.is_finite() and number != 0:
            return number
        raise _fail(name, f"must be a finite, non-zero offset, got {number}")
    return _decimal(name, value)  # raises the float / wrong-type message


def _price(name: str, value: object, price_type: str | None) -> Decimal:
    """An absolute price (> 0), or with a ``pct``/``quote`` type an offset of either sign."""
    if price_type in ("pct", "quote"):
        return _signed_decimal(name, value)
    return _decimal(name, value)


def _optional(name: str, value: object) -> Decimal | None:
    return None if value is None else _decimal(name, value)


def _optional_choice(name: str, value: object, choices: frozenset[str]) -> None:
    if value is not None:
        _check_choice(name, value, choices)


def _number(value: Decimal) -> msgspec.Raw:
    """``value`` as a bare JSON number with exactly its digits (fixed-point, no exponent)."""
    return msgspec.Raw(_decimal_text(value))


def _put(wire: dict[str, Any], key: str, value: object) -> None:
    """Add an optional field in v2 wire types; ``None`` means "leave it out"."""
    if value is None:
        return
    if isinstance(value, Decimal):
        wire[key] = _number(value)
    elif isinstance(value, Triggers | Conditional):
        wire[key] = value._wire()
    else:
        wire[key] = value


def _check_ident(name: str, value: object) -> None:
    _check_text(name, value)


class Triggers(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The ``triggers`` of a stop, take-profit or trailing order.

    ``price`` is absolute (> 0) with ``price_type`` ``static`` (Kraken's default), or an offset
    of either sign with ``pct`` or ``quote``. ``reference`` is ``last`` (default) or ``index``.
    """

    price: Decimal
    reference: Literal["last", "index"] | None = None
    price_type: PriceType | None = None

    def __post_init__(self) -> None:
        _optional_choice("triggers.reference", self.reference, TRIGGER_REFERENCES)
        _optional_choice("triggers.price_type", self.price_type, PRICE_TYPES)
        _set(self, "price", _price("triggers.price", self.price, self.price_type))

    def _wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        _put(wire, "reference", self.reference)
        _put(wire, "price", self.price)
        _put(wire, "price_type", self.price_type)
        return wire


class Conditional(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An OTO close order attached to ``add_order`` (``conditional``), placed on fill."""

    order_type: str
    limit_price: Decimal | None = None
    limit_price_type: PriceType | None = None
    trigger_price: Decimal | None = None
    trigger_price_type: PriceType | None = None

    def __post_init__(self) -> None:
        _check_choice("conditional.order_type", self.order_type, CONDITIONAL_TYPES)
        _optional_choice("conditional.limit_price_type", self.limit_price_type, PRICE_TYPES)
        _optional_choice("conditional.trigger_price_type", self.trigger_price_type, PRICE_TYPES)
        for key, kind in (
            ("limit_price", self.limit_price_type),
            ("trigger_price", self.trigger_price_type),
        ):
            value = getattr(self, key)
            if value is not None:
                _set(self, key, _price(f"conditional.{key}", value, kind))
        if self.order_type in LIMIT_TYPES and self.limit_price is None:
            raise _fail("conditional.limit_price", f"is required for {self.order_type} orders")
        if self.order_type in NO_LIMIT_TYPES and self.limit_price is not None:
            raise _fail("conditional.limit_price", f"is not used by {self.order_type} orders")
        if self.order_type in TRIGGERED_TYPES and self.trigger_price is None:
            raise _fail("conditional.trigger_price", f"is required for {self.order_type} orders")
        if self.order_type == "limit" and self.trigger_price is not None:
            raise _fail("conditional.trigger_price", "is not used by limit orders")

    def _wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"order_type": self.order_type}
        for key in ("limit_price", "limit_price_type", "trigger_price", "trigger_price_type"):
            _put(wire, key, getattr(self, key))
        return wire


class V2Request(Request, frozen=True):
    """Base of every v2 request.

    ``method`` is the wire name (the reply carries the same one, but ``ping`` answers
    ``pong``); ``requires_token`` whether :func:`encode` must be given a session token. It
    subclasses the v1 ``Request`` so one type names a request of either protocol; the v1
    ``encode`` refuses it (it has no v1 ``event``).
    """

    method: ClassVar[str]
    reply_method: ClassVar[str]

    def _params(self) -> dict[str, Any]:
        """The request's own ``params`` (no ``token``)."""
        return {}
