"""The v1 order requests that place and change orders: add, edit and amend.

Frozen, keyword-only and validated at construction like every request (see ``_requests``):
``__post_init__`` takes a fast path for the common order and otherwise runs ``_check``, every
check. Field names are Kraken's v1 names; ``_write`` adds the token and each request's own
wire fields to the message ``encode`` builds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from kraken_proto._request_base import Request
from kraken_proto._request_checks import (
    _ZERO,
    _check_bool,
    _check_choice,
    _check_text,
    _cl_ord_id,
    _deadline,
    _decimal,
    _decimal_text,
    _fail,
    _int32,
    _is_cl_ord_id,
    _is_int32,
    _set,
)

from ._request_fields import (
    _PRICED,
    _PRIMARY_PREFIXES,
    _SECONDARY_PREFIXES,
    _UNPRICED,
    CLOSE_ORDER_TYPES,
    ORDER_TYPES,
    STP_TYPES,
    TIME_IN_FORCE,
    Price,
    ScheduleTime,
    Side,
    StpType,
    TimeInForce,
    _check_prices,
    _flags,
    _optional_decimal,
    _optional_price,
    _put,
    _schedule,
    _wire_number,
)

__all__ = [
    "AddOrder",
    "AmendOrder",
    "EditOrder",
]


class AddOrder(Request, frozen=True, kw_only=True):
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
    oflags: frozenset[str] = frozenset()
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
        # The common order first, checked inline on exact types: no option set, a Decimal
        # volume, a Decimal price or none as its order type wants, no price2, and maybe one of
        # its ids. Each test is one the full checks make too, so an order that passes here
        # passes there unchanged; anything else (an error, an int volume, a relative price,
        # an option) takes the full checks, which normalise and name the bad field.
        ordertype = self.ordertype
        pair = self.pair
        volume = self.volume
        price = self.price
        userref = self.userref
        cl_ord_id = self.cl_ord_id
        if (
            type(ordertype) is str
            and (ordertype in _PRICED if price is not None else ordertype in _UNPRICED)
            and self.price2 is None
            and self.type in ("buy", "sell")
            and type(pair) is str
            and pair.isascii()
            and pair.isprintable()
            and pair != ""
            and " " not in pair
            and type(volume) is Decimal
            and volume.is_finite()
            and volume > _ZERO
            and (price is None or (type(price) is Decimal and price.is_finite() and price > _ZERO))
            and (
                (cl_ord_id is None and (userref is None or _is_int32(userref)))
                or (userref is None and _is_cl_ord_id(cl_ord_id))
            )
            and self._is_plain()
        ):
            return
        self._check()

    def _check(self) -> None:
        """Every check, in order, normalising as it goes."""
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

    def _write(self, wire: dict[str, Any], token: str) -> None:
        wire["token"] = token
        wire["ordertype"] = self.ordertype
        wire["type"] = self.type
        wire["pair"] = self.pair
        wire["volume"] = _decimal_text(self.volume)  # always a Decimal once checked
        price = self.price
        if price is not None:
            # _wire_number, without the call: the usual price is a Decimal
            wire["price"] = price if isinstance(price, str) else _decimal_text(price)
        if self.price2 is not None:
            wire["price2"] = _wire_number(self.price2)
        if self._is_plain():
            # The same keys in the same order as below, without the calls for absent options.
            if self.userref is not None:
                wire["userref"] = str(self.userref)
            if self.cl_ord_id is not None:
                wire["cl_ord_id"] = self.cl_ord_id
            return
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


class EditOrder(Request, frozen=True, kw_only=True):
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

    def _write(self, wire: dict[str, Any], token: str) -> None:
        wire["token"] = token
        wire["orderid"] = str(self.orderid)
        wire["pair"] = self.pair
        _put(wire, "price", self.price)
        _put(wire, "price2", self.price2)
        _put(wire, "volume", self.volume)
        if self.oflags is not None:
            # An explicit empty set clears the flags, so it is sent as "".
            wire["oflags"] = ",".join(sorted(self.oflags))
        _put(wire, "newuserref", self.newuserref)
        if self.validate:
            wire["validate"] = True


class AmendOrder(Request, frozen=True, kw_only=True):
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

    def _write(self, wire: dict[str, Any], token: str) -> None:
        wire["token"] = token
        _put(wire, "txid", self.txid)
        _put(wire, "cl_ord_id", self.cl_ord_id)
        for key in ("volume", "display_volume", "limit_price", "trigger_price"):
            value = getattr(self, key)
            if value is not None:
                wire[key] = _wire_number(value)
        _put(wire, "post_only", self.post_only)
        _put(wire, "pair", self.pair)
        _put(wire, "deadline", self.deadline)
