"""Outgoing requests: frozen, keyword-only, validated at construction.

Every request checks its fields in ``__post_init__`` and raises ``LocalProtocolError`` naming
the bad field, so a request that exists is one Kraken can accept in form. Requests never hold
the session token: :func:`encode` takes it as an argument and only the encoded text carries it.

Money is ``decimal.Decimal`` (an ``int`` is accepted and converted exactly); a ``float`` is
rejected because it cannot represent most prices exactly. Where Kraken allows a relative price
(``+5``, ``-1.5%``, ``#10``) a string of that form is accepted instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Literal

import msgspec

from kraken_proto._errors import LocalProtocolError
from kraken_proto._request_base import Request
from kraken_proto._request_checks import (
    _check_bool,
    _check_choice,
    _check_text,
    _cl_ord_id,
    _dead_mans_timeout,
    _deadline,
    _decimal,
    _fail,
    _ids,
    _int32,
    _set,
    _type_name,
    check_token,
)

__all__ = [
    "CHANNELS",
    "CLOSE_ORDER_TYPES",
    "ORDER_FLAGS",
    "ORDER_TYPES",
    "AddOrder",
    "AmendOrder",
    "CancelAll",
    "CancelAllOrdersAfter",
    "CancelOrder",
    "EditOrder",
    "Ping",
    "Request",
    "Subscribe",
    "Unsubscribe",
    "encode",
]

Channel = Literal["ownTrades", "openOrders"]
Side = Literal["buy", "sell"]
TimeInForce = Literal["GTC", "GTD", "IOC"]
StpType = Literal["cancel_newest", "cancel_oldest", "cancel_both"]
Price = Decimal | str
"""An absolute price as ``Decimal``, or a relative price string where Kraken allows one."""
ScheduleTime = int | str
"""``0`` (now / never), ``"+<n>"`` (n seconds from now) or a unix timestamp (int or digits)."""

CHANNELS: frozenset[str] = frozenset({"ownTrades", "openOrders"})
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

_RELATIVE_PRICE = re.compile(r"([+\-#])[0-9]+(\.[0-9]+)?%?")
# Kraken's "#" (direction-dependent offset) is documented for the primary price only.
_PRIMARY_PREFIXES = "+-#"
_SECONDARY_PREFIXES = "+-"
_SCHEDULE = re.compile(r"\+?[0-9]+")
_MAX_REQID = 2**64 - 1


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


def _decimal_text(value: Decimal) -> str:
    """``format(value, "f")``: the digits without exponent notation, which Kraken does not
    parse. ``str`` gives the same text, about three times faster, whenever it has no exponent
    (Decimal's plain notation is the same digits either way). The context's ``capitals``
    decides whether ``str`` writes the exponent as E or e."""
    text = str(value)
    if "E" in text or "e" in text:
        return format(value, "f")
    return text


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe(Request):
    """Subscribe to a private channel (``ownTrades`` or ``openOrders``).

    Options left as ``None`` are not sent, so Kraken's defaults apply. ``snapshot`` and
    ``consolidate_taker`` belong to ownTrades, ``ratecounter`` to openOrders, ``rebased`` to both.
    """

    event: ClassVar[str] = "subscribe"
    response_event: ClassVar[str] = "subscriptionStatus"
    name: Channel
    snapshot: bool | None = None
    consolidate_taker: bool | None = None
    ratecounter: bool | None = None
    rebased: bool | None = None

    def __post_init__(self) -> None:
        _check_choice("name", self.name, CHANNELS)
        for option in ("snapshot", "consolidate_taker", "ratecounter", "rebased"):
            _check_bool(option, getattr(self, option))
        if self.name == "openOrders":
            for option in ("snapshot", "consolidate_taker"):
                if getattr(self, option) is not None:
                    raise _fail(option, "is an ownTrades option, not valid for openOrders")
        elif self.ratecounter is not None:
            raise _fail("ratecounter", "is an openOrders option, not valid for ownTrades")

    def _subscription(self) -> dict[str, Any]:
        sub: dict[str, Any] = {"name": self.name}
        for option in ("snapshot", "consolidate_taker", "ratecounter", "rebased"):
            _put(sub, option, getattr(self, option))
        return sub


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsubscribe(Request):
    """Unsubscribe from a private channel."""

    event: ClassVar[str] = "unsubscribe"
    response_event: ClassVar[str] = "subscriptionStatus"
    name: Channel

    def __post_init__(self) -> None:
        _check_choice("name", self.name, CHANNELS)

    def _subscription(self) -> dict[str, Any]:
        return {"name": self.name}


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


@dataclass(frozen=True, slots=True, kw_only=True)
class AddOrder(Request):
    """Place an order (``addOrder``). Field names are Kraken's; ``close_*`` are ``close[...]``.

    ``userref`` (signed 32-bit) and ``cl_ord_id`` are mutually exclusive. ``validate=True``
    asks Kraken to check the order without placing it. ``price`` and ``close_price`` may be
    relative strings with a ``+``, ``-`` or ``#`` prefix and an optional ``%`` suffix;
    ``price2`` and ``close_price2`` allow ``+`` and ``-`` only. Trailing stops need ``+``.
    """

    event: ClassVar[str] = "addOrder"
    response_event: ClassVar[str] = "addOrderStatus"
    ordertype: str
    type: Side
    pair: str
    volume: Decimal
    price: Price | None = None
    price2: Price | None = None
    leverage: int | None = None
    margin: bool | None = None
    reduce_only: bool | None = None
    oflags: frozenset[str] = field(default_factory=frozenset)
    starttm: ScheduleTime | None = None
    expiretm: ScheduleTime | None = None
    deadline: str | None = None
    userref: int | None = None
    cl_ord_id: str | None = None
    validate: bool = False
    timeinforce: TimeInForce | None = None
    stp_type: StpType | None = None
    sender_sub_id: str | None = None
    close_ordertype: str | None = None
    close_price: Price | None = None
    close_price2: Price | None = None

    def __post_init__(self) -> None:
        _check_choice("ordertype", self.ordertype, ORDER_TYPES)
        if self.type not in ("buy", "sell"):
            raise _fail("type", f"must be 'buy' or 'sell', got {self.type!r}")
        _check_text("pair", self.pair)
        _set(self, "volume", _decimal("volume", self.volume))
        _set(self, "price", _optional_price("price", self.price, prefixes=_PRIMARY_PREFIXES))
        _set(self, "price2", _optional_price("price2", self.price2, prefixes=_SECONDARY_PREFIXES))
        _check_prices("", self.ordertype, self.price, self.price2)
        if self._is_plain():
            # The common order: no option set but maybe its id. Every check below would pass
            # on these defaults and normalise nothing, so only the ids remain to check.
            self._check_ids()
            return
        if self.leverage is not None and (
            isinstance(self.leverage, bool)
            or not isinstance(self.leverage, int)
            or self.leverage < 1
        ):
            raise _fail("leverage", f"must be a whole number >= 1, got {self.leverage!r}")
        for option in ("margin", "reduce_only", "validate"):
            _check_bool(option, getattr(self, option))
        _set(self, "oflags", _flags("oflags", self.oflags))
        if "post" in self.oflags and self.ordertype != "limit":
            raise _fail("oflags", "post (post-only) is only available for limit orders")
        _set(self, "starttm", _schedule("starttm", self.starttm))
        _set(self, "expiretm", _schedule("expiretm", self.expiretm))
        _deadline("deadline", self.deadline)
        self._check_ids()
        if self.timeinforce is not None:
            _check_choice("timeinforce", self.timeinforce, TIME_IN_FORCE)
        if self.timeinforce == "GTD" and self.expiretm in (None, 0, "0"):
            raise _fail("expiretm", "GTD orders need an expiry time")
        if self.stp_type is not None:
            _check_choice("stp_type", self.stp_type, STP_TYPES)
        if self.sender_sub_id is not None:
            _check_text("sender_sub_id", self.sender_sub_id)
        self._check_close()

    def _is_plain(self) -> bool:
        """True when every option is at its default: only the order and its id (if any)."""
        return (
            self.leverage is None
            and self.margin is None
            and self.reduce_only is None
            and self.validate is False
            and type(self.oflags) is frozenset
            and not self.oflags
            and self.starttm is None
            and self.expiretm is None
            and self.deadline is None
            and self.timeinforce is None
            and self.stp_type is None
            and self.sender_sub_id is None
            and self.close_ordertype is None
            and self.close_price is None
            and self.close_price2 is None
        )

    def _check_ids(self) -> None:
        if self.userref is not None:
            _int32("userref", self.userref)
        if self.cl_ord_id is not None:
            _cl_ord_id("cl_ord_id", self.cl_ord_id)
            if self.userref is not None:
                raise _fail("cl_ord_id", "userref and cl_ord_id are mutually exclusive")

    def _check_close(self) -> None:
        _set(
            self,
            "close_price",
            _optional_price("close_price", self.close_price, prefixes=_PRIMARY_PREFIXES),
        )
        _set(
            self,
            "close_price2",
            _optional_price("close_price2", self.close_price2, prefixes=_SECONDARY_PREFIXES),
        )
        if self.close_ordertype is None:
            if self.close_price is not None or self.close_price2 is not None:
                raise _fail(
                    "close_ordertype", "is required when close_price or close_price2 is set"
                )
            return
        _check_choice("close_ordertype", self.close_ordertype, CLOSE_ORDER_TYPES)
        _check_prices("close_", self.close_ordertype, self.close_price, self.close_price2)

    def _fields(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "ordertype": self.ordertype,
            "type": self.type,
            "pair": self.pair,
            "volume": _wire_number(self.volume),
        }
        if self.price is not None:
            wire["price"] = _wire_number(self.price)
        if self.price2 is not None:
            wire["price2"] = _wire_number(self.price2)
        if self._is_plain():
            # The same keys in the same order as below, without the calls for absent options.
            if self.userref is not None:
                wire["userref"] = str(self.userref)
            if self.cl_ord_id is not None:
                wire["cl_ord_id"] = self.cl_ord_id
            return wire
        _put(wire, "leverage", self.leverage)
        _put(wire, "margin", self.margin)
        _put(wire, "reduce_only", self.reduce_only)
        _put(wire, "oflags", self.oflags)
        _put(wire, "starttm", None if self.starttm is None else str(self.starttm))
        _put(wire, "expiretm", None if self.expiretm is None else str(self.expiretm))
        _put(wire, "deadline", self.deadline)
        _put(wire, "userref", self.userref)
        _put(wire, "cl_ord_id", self.cl_ord_id)
        if self.validate:
            # The v1 addOrder page types validate as a string.
            wire["validate"] = "true"
        _put(wire, "timeinforce", self.timeinforce)
        _put(wire, "stp_type", self.stp_type)
        _put(wire, "sender_sub_id", self.sender_sub_id)
        _put(wire, "close[ordertype]", self.close_ordertype)
        for key, value in (
            ("close[price]", self.close_price),
            ("close[price2]", self.close_price2),
        ):
            if value is not None:
                wire[key] = _wire_number(value)
        return wire


@dataclass(frozen=True, slots=True, kw_only=True)
class EditOrder(Request):
    """Replace an order with a new one (new txid; ``editOrder``).

    ``orderid`` is the original txid, or its userref as an int. At least one of ``price``,
    ``price2``, ``volume``, ``oflags`` or ``newuserref`` must be given.
    """

    event: ClassVar[str] = "editOrder"
    response_event: ClassVar[str] = "editOrderStatus"
    orderid: str | int
    pair: str
    price: Decimal | None = None
    price2: Decimal | None = None
    volume: Decimal | None = None
    oflags: frozenset[str] | None = None
    newuserref: int | None = None
    validate: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.orderid, int) and not isinstance(self.orderid, bool):
            _int32("orderid", self.orderid)
        else:
            _check_text("orderid", self.orderid)
        _check_text("pair", self.pair)
        _set(self, "price", _optional_decimal("price", self.price))
        _set(self, "price2", _optional_decimal("price2", self.price2))
        _set(self, "volume", _optional_decimal("volume", self.volume))
        if self.oflags is not None:
            _set(self, "oflags", _flags("oflags", self.oflags))
        if self.newuserref is not None:
            _int32("newuserref", self.newuserref)
        _check_bool("validate", self.validate)
        changes = (self.price, self.price2, self.volume, self.oflags, self.newuserref)
        if all(change is None for change in changes):
            raise _fail(
                "editOrder", "give at least one of price, price2, volume, oflags, newuserref"
            )

    def _fields(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"orderid": str(self.orderid), "pair": self.pair}
        _put(wire, "price", self.price)
        _put(wire, "price2", self.price2)
        _put(wire, "volume", self.volume)
        if self.oflags is not None:
            # An explicit empty set clears the flags, so it is sent as "".
            wire["oflags"] = ",".join(sorted(self.oflags))
        _put(wire, "newuserref", self.newuserref)
        if self.validate:
            wire["validate"] = True
        return wire


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendOrder(Request):
    """Change an order in place, keeping its txid (``amendOrder``).

    Exactly one of ``txid`` or ``cl_ord_id``; at least one of ``volume``, ``display_volume``,
    ``limit_price`` or ``trigger_price``. Prices may be relative strings.
    """

    event: ClassVar[str] = "amendOrder"
    response_event: ClassVar[str] = "amendOrderStatus"
    txid: str | None = None
    cl_ord_id: str | None = None
    volume: Decimal | None = None
    display_volume: Decimal | None = None
    limit_price: Price | None = None
    trigger_price: Price | None = None
    post_only: bool | None = None
    pair: str | None = None
    deadline: str | None = None

    def __post_init__(self) -> None:
        if (self.txid is None) == (self.cl_ord_id is None):
            raise _fail("txid", "give exactly one of txid or cl_ord_id")
        if self.txid is not None:
            _check_text("txid", self.txid)
        if self.cl_ord_id is not None:
            _cl_ord_id("cl_ord_id", self.cl_ord_id)
        _set(self, "volume", _optional_decimal("volume", self.volume))
        _set(self, "display_volume", _optional_decimal("display_volume", self.display_volume))
        _set(
            self,
            "limit_price",
            _optional_price("limit_price", self.limit_price, prefixes=_SECONDARY_PREFIXES),
        )
        _set(
            self,
            "trigger_price",
            _optional_price("trigger_price", self.trigger_price, prefixes=_SECONDARY_PREFIXES),
        )
        _check_bool("post_only", self.post_only)
        if self.pair is not None:
            _check_text("pair", self.pair)
        _deadline("deadline", self.deadline)
        changes = (self.volume, self.display_volume, self.limit_price, self.trigger_price)
        if all(change is None for change in changes):
            raise _fail(
                "amendOrder",
                "give at least one of volume, display_volume, limit_price, trigger_price",
            )

    def _fields(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        _put(wire, "txid", self.txid)
        _put(wire, "cl_ord_id", self.cl_ord_id)
        for key in ("volume", "display_volume", "limit_price", "trigger_price"):
            value = getattr(self, key)
            if value is not None:
                wire[key] = _wire_number(value)
        _put(wire, "post_only", self.post_only)
        _put(wire, "pair", self.pair)
        _put(wire, "deadline", self.deadline)
        return wire


def _check_txid(name: str, value: object) -> None:
    _check_text(name, value)


def _check_userref(name: str, value: object) -> None:
    _int32(name, value)


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder(Request):
    """Cancel orders by txid, userref and/or cl_ord_id (each one id or several).

    Kraken answers with one ``cancelOrderStatus`` frame per id, so
    :attr:`expected_replies` is the number of ids.
    """

    event: ClassVar[str] = "cancelOrder"
    response_event: ClassVar[str] = "cancelOrderStatus"
    txid: tuple[str, ...] = ()
    userref: tuple[int, ...] = ()
    cl_ord_id: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "txid", _ids("txid", self.txid, _check_txid))
        _set(self, "userref", _ids("userref", self.userref, _check_userref))
        _set(self, "cl_ord_id", _ids("cl_ord_id", self.cl_ord_id, _cl_ord_id))
        if not (self.txid or self.userref or self.cl_ord_id):
            raise _fail("cancelOrder", "give at least one txid, userref or cl_ord_id")

    @property
    def expected_replies(self) -> int:
        return len(self.txid) + len(self.userref) + len(self.cl_ord_id)

    def _fields(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        ids = [*self.txid, *(str(ref) for ref in self.userref)]
        if ids:
            wire["txid"] = ids
        if self.cl_ord_id:
            wire["cl_ord_id"] = list(self.cl_ord_id)
        return wire


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAll(Request):
    """Cancel every open order (``cancelAll``)."""

    event: ClassVar[str] = "cancelAll"
    response_event: ClassVar[str] = "cancelAllStatus"


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAllOrdersAfter(Request):
    """Arm (``timeout`` seconds) or disarm (``timeout=0``) the dead man's switch."""

    event: ClassVar[str] = "cancelAllOrdersAfter"
    response_event: ClassVar[str] = "cancelAllOrdersAfterStatus"
    timeout: int

    def __post_init__(self) -> None:
        _dead_mans_timeout("timeout", self.timeout)

    def _fields(self) -> dict[str, Any]:
        return {"timeout": self.timeout}


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(Request):
    """Application-level ping; answered by a ``Pong`` with the same reqid."""

    event: ClassVar[str] = "ping"
    response_event: ClassVar[str] = "pong"
    requires_token: ClassVar[bool] = False


def check_reqid(reqid: object) -> int:
    """Return ``reqid`` if Kraken accepts it (an int from 0 to 2**64-1), else raise."""
    if isinstance(reqid, bool) or not isinstance(reqid, int):
        raise _fail("reqid", f"must be an int, not {_type_name(reqid)}")
    if not 0 <= reqid <= _MAX_REQID:
        raise _fail("reqid", f"must be from 0 to 2**64-1, got {reqid}")
    return reqid


_encoder = msgspec.json.Encoder()
# A tuple, not ``Subscribe | Unsubscribe``: that builds a union object on every call.
_SUBSCRIPTIONS = (Subscribe, Unsubscribe)


def encode(request: Request, *, token: str | None = None, reqid: int | None = None) -> str:
    """Encode ``request`` as one JSON text message in Kraken's wire types.

    ``token`` is required for every request but ``Ping`` (and refused for ``Ping``); ``reqid``
    is optional. Raises ``LocalProtocolError`` on a bad argument; never shows the token.
    """
    if not isinstance(request, Request) or not hasattr(request, "event"):
        raise LocalProtocolError(
            f"request: expected a kraken_proto request, got {_type_name(request)}"
        )
    message: dict[str, Any] = {"event": request.event}
    if reqid is not None:
        message["reqid"] = check_reqid(reqid)
    if not request.requires_token:
        if token is not None:
            raise LocalProtocolError(f"token: {request.event} takes no token")
        return _encoder.encode(message).decode()
    if token is None:
        raise LocalProtocolError(f"token: {request.event} needs a session token")
    check_token(token)
    if isinstance(request, _SUBSCRIPTIONS):
        subscription = request._subscription()
        subscription["token"] = token
        message["subscription"] = subscription
    else:
        message["token"] = token
        message.update(request._fields())
    return _encoder.encode(message).decode()
