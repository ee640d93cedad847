"""What the v1 requests are made of: vocabularies, field checks and wire writers.

The order requests (``_order_requests``) and the subscription requests (``_requests``) check
their fields with these and write them in Kraken's v1 wire types: money as decimal text (never
through a float, never in exponent notation), flags as one comma-separated string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

from kraken_proto._request_checks import _decimal, _decimal_text, _fail, _type_name

__all__ = [
    "CLOSE_ORDER_TYPES",
    "ORDER_FLAGS",
    "ORDER_TYPES",
    "STP_TYPES",
    "TIME_IN_FORCE",
    "Price",
    "ScheduleTime",
    "Side",
    "StpType",
    "TimeInForce",
]

Side = Literal["buy", "sell"]
TimeInForce = Literal["GTC", "GTD", "IOC"]
StpType = Literal["cancel_newest", "cancel_oldest", "cancel_both"]
Price = Decimal | str
"""An absolute price as ``Decimal``, or a relative price string where Kraken allows one."""
ScheduleTime = int | str
"""``0`` (now / never), ``"+<n>"`` (n seconds from now) or a unix timestamp (int or digits)."""

ORDER_TYPES: frozenset[str] = frozenset(
    {
        "market",
        "limit",
        "stop-loss",
        "take-profit",
        "stop-loss-limit",
        "take-profit-limit",
        "trailing-stop",
        "trailing-stop-limit",
        "stop-loss-profit",
        "stop-loss-profit-limit",
        "stop-loss-and-limit",
        "settle-position",
    }
)
CLOSE_ORDER_TYPES: frozenset[str] = frozenset(
    {
        "limit",
        "stop-loss",
        "take-profit",
        "stop-loss-limit",
        "take-profit-limit",
        "trailing-stop",
        "trailing-stop-limit",
    }
)
ORDER_FLAGS: frozenset[str] = frozenset({"post", "fcib", "fciq", "nompp", "viqc"})
STP_TYPES: frozenset[str] = frozenset({"cancel_newest", "cancel_oldest", "cancel_both"})
TIME_IN_FORCE: frozenset[str] = frozenset({"GTC", "GTD", "IOC"})

# Which prices each order type needs: (price, price2). "rel+" = must be a relative "+" offset.
_PRICE_RULES: dict[str, tuple[str, str]] = {
    "market": ("none", "none"),
    "settle-position": ("optional", "none"),
    "limit": ("required", "none"),
    "stop-loss": ("required", "none"),
    "take-profit": ("required", "none"),
    "stop-loss-limit": ("required", "required"),
    "take-profit-limit": ("required", "required"),
    "trailing-stop": ("rel+", "none"),
    "trailing-stop-limit": ("rel+", "required"),
    "stop-loss-profit": ("required", "required"),
    "stop-loss-profit-limit": ("required", "required"),
    "stop-loss-and-limit": ("required", "required"),
}

# The order types whose prices an AddOrder's fast path checks (price2 must be absent): those
# that take a Decimal price and no price2, and those that take neither.
_PRICED: frozenset[str] = frozenset(
    kind
    for kind, (price, price2) in _PRICE_RULES.items()
    if price in ("required", "optional") and price2 == "none"
)
_UNPRICED: frozenset[str] = frozenset(
    kind
    for kind, (price, price2) in _PRICE_RULES.items()
    if price in ("none", "optional") and price2 == "none"
)

_RELATIVE_PRICE = re.compile(r"([+\-#])[0-9]+(\.[0-9]+)?%?")
# Kraken's "#" (direction-dependent offset) is documented for the primary price only.
_PRIMARY_PREFIXES = "+-#"
_SECONDARY_PREFIXES = "+-"
_SCHEDULE = re.compile(r"\+?[0-9]+")


def _price(name: str, value: object, *, prefixes: str) -> Price:
    """A Decimal price, or a relative-price string: a prefix from ``prefixes``, digits, ``%``?"""
    if isinstance(value, str):
        match = _RELATIVE_PRICE.fullmatch(value)
        if match is None or match[1] not in prefixes:
            raise _fail(
                name,
                f"a string price must be relative: one of {', '.join(prefixes)} as prefix, "
                "digits, optional % suffix, e.g. '+1.5%' (pass absolute prices as "
                "decimal.Decimal)",
            )
        return value
    return _decimal(name, value)


def _optional_price(name: str, value: object, *, prefixes: str) -> Price | None:
    return None if value is None else _price(name, value, prefixes=prefixes)


def _optional_decimal(name: str, value: object) -> Decimal | None:
    return None if value is None else _decimal(name, value)


def _schedule(name: str, value: object) -> ScheduleTime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _fail(name, f"must be 0, '+<seconds>' or a unix timestamp, not {_type_name(value)}")
    # A negative int fails the pattern too: str(-5) is "-5".
    if not _SCHEDULE.fullmatch(str(value)):
        raise _fail(name, f"must be 0, '+<seconds>' or a unix timestamp, got {value!r}")
    return value


def _flags(name: str, value: object) -> frozenset[str]:
    if isinstance(value, str):
        items: list[object] = [part for part in value.split(",") if part]
    elif isinstance(value, Iterable):
        items = list(value)
    else:
        raise _fail(name, f"must be a set of flags, not {_type_name(value)}")
    for item in items:
        if not isinstance(item, str) or item not in ORDER_FLAGS:
            raise _fail(
                name, f"unknown flag {item!r}; known flags: {', '.join(sorted(ORDER_FLAGS))}"
            )
    flags = frozenset(str(item) for item in items)
    if {"fcib", "fciq"} <= flags:
        raise _fail(name, "fcib and fciq are mutually exclusive")
    return flags


def _wire_number(value: Price) -> str:
    return value if isinstance(value, str) else _decimal_text(value)


def _put(wire: dict[str, Any], key: str, value: object) -> None:
    """Add an optional field in Kraken's wire type; ``None`` means "leave it out"."""
    if value is None:
        return
    if isinstance(value, Decimal):
        wire[key] = _decimal_text(value)
    elif isinstance(value, bool):
        wire[key] = value
    elif isinstance(value, int):
        wire[key] = str(value)
    elif isinstance(value, frozenset):
        if value:
            wire[key] = ",".join(sorted(value))
    else:
        wire[key] = value


def _check_prices(prefix: str, ordertype: str, price: Price | None, price2: Price | None) -> None:
    price_rule, price2_rule = _PRICE_RULES[ordertype]
    for field_name, value, rule in (("price", price, price_rule), ("price2", price2, price2_rule)):
        if rule == "optional" or (rule == "required" and value is not None):
            continue  # the usual outcome: no message to build
        name = prefix + field_name
        if rule == "none" and value is not None:
            raise _fail(name, f"is not used by {ordertype} orders")
        if rule in ("required", "rel+") and value is None:
            raise _fail(name, f"is required for {ordertype} orders")
        if rule == "rel+" and not (isinstance(value, str) and value.startswith("+")):
            raise _fail(
                name, f"{ordertype} orders need a relative offset with a + prefix, e.g. '+50'"
            )
