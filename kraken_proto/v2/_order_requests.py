"""The v2 order requests that place and change orders: add, amend and edit.

Frozen, keyword-only and validated at construction like every v2 request (see
``_requests``). Field names are Kraken's v2 names; ``_params`` gives each request's own
``params`` for ``encode``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, Literal

from kraken_proto._request_checks import (
    _ZERO,
    _check_bool,
    _check_choice,
    _check_text,
    _cl_ord_id,
    _deadline,
    _fail,
    _int32,
    _is_cl_ord_id,
    _is_int32,
    _set,
    _type_name,
)

from ._request_fields import (
    FEE_PREFERENCES,
    LIMIT_TYPES,
    NO_LIMIT_TYPES,
    ORDER_TYPES,
    PRICE_TYPES,
    STP_TYPES,
    TIME_IN_FORCE,
    TRIGGERED_TYPES,
    Conditional,
    PriceType,
    Side,
    Triggers,
    V2Request,
    _check_ident,
    _number,
    _optional,
    _optional_choice,
    _price,
    _put,
)

__all__ = [
    "AddOrder",
    "AmendOrder",
    "EditOrder",
]

_ICEBERG_MIN_SHARE = 15
# The order types whose limit price an AddOrder's fast path checks: neither triggered nor
# iceberg, taking a Decimal limit price (_PRICED) or none (_UNPRICED); settle-position both.
_PRICED: frozenset[str] = ORDER_TYPES - TRIGGERED_TYPES - NO_LIMIT_TYPES - {"iceberg"}
_UNPRICED: frozenset[str] = ORDER_TYPES - TRIGGERED_TYPES - LIMIT_TYPES


class AddOrder(V2Request, frozen=True, kw_only=True):
    """Place an order (``add_order``). Field names are Kraken's v2 names.

    Required: ``order_type``, ``side``, ``symbol`` and exactly one of ``order_qty`` (base
    asset) or ``cash_order_qty`` (quote asset; buy market orders without margin only).
    ``limit_price`` is required for limit, iceberg and the ``*-limit`` types and refused for
    market, stop-loss, take-profit and trailing-stop; ``triggers`` is required exactly for the
    triggered types. ``limit_price_type`` is for trailing-stop-limit only; with ``pct`` or
    ``quote`` the limit price is an offset of either sign. ``time_in_force`` is lowercase;
    ``fok`` is limit-only and ``gtd`` needs ``expire_time`` (which only ``gtd`` takes).
    ``display_qty`` is for iceberg orders (required there), at least 1/15 of ``order_qty``.
    ``cl_ord_id`` and ``order_userref`` (signed 32-bit) are mutually exclusive, and
    ``cl_ord_id`` cannot go with ``conditional`` (Kraken rejects it; official SDK). Times
    (``effective_time``, ``expire_time``, ``deadline``) are RFC 3339 strings.
    """

    method: ClassVar[str] = "add_order"
    reply_method: ClassVar[str] = "add_order"
    order_type: str
    side: Side
    symbol: str
    order_qty: Decimal | None = None
    cash_order_qty: Decimal | None = None
    limit_price: Decimal | None = None
    limit_price_type: PriceType | None = None
    triggers: Triggers | None = None
    time_in_force: Literal["gtc", "gtd", "ioc", "fok"] | None = None
    effective_time: str | None = None
    expire_time: str | None = None
    deadline: str | None = None
    margin: bool | None = None
    post_only: bool | None = None
    reduce_only: bool | None = None
    stp_type: Literal["cancel_newest", "cancel_oldest", "cancel_both"] | None = None
    cl_ord_id: str | None = None
    order_userref: int | None = None
    conditional: Conditional | None = None
    display_qty: Decimal | None = None
    fee_preference: Literal["base", "quote"] | None = None
    sender_sub_id: str | None = None
    validate: bool | None = None

    def __post_init__(self) -> None:
        # The common order first, checked inline on exact types: no option set, a Decimal
        # order_qty, a Decimal limit price or none as its order type wants, and maybe one of
        # its ids. Each test is one the full checks make too, so an order that passes here
        # passes there unchanged; anything else (an error, an int quantity, an option) takes
        # the full checks, which normalise and name the bad field.
        order_type = self.order_type
        symbol = self.symbol
        quantity = self.order_qty
        price = self.limit_price
        userref = self.order_userref
        cl_ord_id = self.cl_ord_id
        if (
            type(order_type) is str
            and (order_type in _PRICED if price is not None else order_type in _UNPRICED)
            and self.side in ("buy", "sell")
            and type(symbol) is str
            and symbol.isascii()
            and symbol.isprintable()
            and symbol != ""
            and " " not in symbol
            and type(quantity) is Decimal
            and quantity.is_finite()
            and quantity > _ZERO
            and self.cash_order_qty is None
            and (price is None or (type(price) is Decimal and price.is_finite() and price > _ZERO))
            and (
                (cl_ord_id is None and (userref is None or _is_int32(userref)))
                or (userref is None and _is_cl_ord_id(cl_ord_id))
            )
            and self._is_plain()
        ):
            return
        self._check()

    def _is_plain(self) -> bool:
        """True when no option is set: only the order, its quantity (``order_qty`` or
        ``cash_order_qty``), its limit price and maybe its id."""
        return (
            self.limit_price_type is None
            and self.triggers is None
            and self.time_in_force is None
            and self.effective_time is None
            and self.expire_time is None
            and self.deadline is None
            and self.margin is None
            and self.post_only is None
            and self.reduce_only is None
            and self.stp_type is None
            and self.conditional is None
            and self.display_qty is None
            and self.fee_preference is None
            and self.sender_sub_id is None
            and self.validate is None
        )

    def _check(self) -> None:
        """Every check, in order, normalising as it goes."""
        _check_choice("order_type", self.order_type, ORDER_TYPES)
        if self.side not in ("buy", "sell"):
            raise _fail("side", f"must be 'buy' or 'sell', got {self.side!r}")
        _check_text("symbol", self.symbol)
        for option in ("margin", "post_only", "reduce_only", "validate"):
            _check_bool(option, getattr(self, option))
        self._check_quantities()
        self._check_prices()
        self._check_timing()
        self._check_identity()
        _optional_choice("stp_type", self.stp_type, STP_TYPES)
        _optional_choice("fee_preference", self.fee_preference, FEE_PREFERENCES)
        if self.sender_sub_id is not None:
            _check_text("sender_sub_id", self.sender_sub_id)

    def _check_quantities(self) -> None:
        _set(self, "order_qty", _optional("order_qty", self.order_qty))
        _set(self, "cash_order_qty", _optional("cash_order_qty", self.cash_order_qty))
        _set(self, "display_qty", _optional("display_qty", self.display_qty))
        if (self.order_qty is None) == (self.cash_order_qty is None):
            raise _fail("order_qty", "give exactly one of order_qty or cash_order_qty")
        if self.cash_order_qty is not None and (
            self.order_type != "market" or self.side != "buy" or self.margin
        ):
            raise _fail("cash_order_qty", "is for buy market orders without margin only")
        if self.order_type == "iceberg":
            if self.display_qty is None:
                raise _fail("display_qty", "is required for iceberg orders")
            if (
                self.order_qty is not None
                and self.display_qty * _ICEBERG_MIN_SHARE < self.order_qty
            ):
                raise _fail("display_qty", "must be at least 1/15 of order_qty")
        elif self.display_qty is not None:
            raise _fail("display_qty", "is for iceberg orders only")

    def _check_prices(self) -> None:
        order_type = self.order_type
        _optional_choice("limit_price_type", self.limit_price_type, PRICE_TYPES)
        if self.limit_price_type is not None and order_type != "trailing-stop-limit":
            raise _fail("limit_price_type", "is for trailing-stop-limit orders only")
        if self.limit_price is not None:
            _set(
                self,
                "limit_price",
                _price("limit_price", self.limit_price, self.limit_price_type),
            )
        if order_type in LIMIT_TYPES and self.limit_price is None:
            raise _fail("limit_price", f"is required for {order_type} orders")
        if order_type in NO_LIMIT_TYPES and self.limit_price is not None:
            raise _fail("limit_price", f"is not used by {order_type} orders")
        if self.triggers is not None and not isinstance(self.triggers, Triggers):
            raise _fail("triggers", f"must be a Triggers, not {_type_name(self.triggers)}")
        if order_type in TRIGGERED_TYPES and self.triggers is None:
            raise _fail("triggers", f"is required for {order_type} orders")
        if order_type not in TRIGGERED_TYPES and self.triggers is not None:
            raise _fail("triggers", f"is not used by {order_type} orders")
        if self.conditional is not None and not isinstance(self.conditional, Conditional):
            raise _fail("conditional", f"must be a Conditional, not {_type_name(self.conditional)}")

    def _check_timing(self) -> None:
        _optional_choice("time_in_force", self.time_in_force, TIME_IN_FORCE)
        if self.time_in_force == "fok" and self.order_type != "limit":
            raise _fail("time_in_force", "fok is for limit orders only")
        for option in ("effective_time", "expire_time", "deadline"):
            _deadline(option, getattr(self, option))
        if (self.time_in_force == "gtd") != (self.expire_time is not None):
            raise _fail("expire_time", "is required with time_in_force='gtd', and only then")

    def _check_identity(self) -> None:
        if self.order_userref is not None:
            _int32("order_userref", self.order_userref)
        if self.cl_ord_id is None:
            return
        _cl_ord_id("cl_ord_id", self.cl_ord_id)
        if self.order_userref is not None:
            raise _fail("cl_ord_id", "cl_ord_id and order_userref are mutually exclusive")
        if self.conditional is not None:
            raise _fail("cl_ord_id", "Kraken rejects cl_ord_id together with a conditional close")

    def _order_fields(self) -> dict[str, Any]:
        """Every field but ``symbol``, ``deadline`` and ``validate`` (a batch row's fields)."""
        wire: dict[str, Any] = {"order_type": self.order_type, "side": self.side}
        if self._is_plain():
            # The same keys in the same order as below, without the calls for absent options.
            if self.order_qty is not None:
                wire["order_qty"] = _number(self.order_qty)
            if self.cash_order_qty is not None:
                wire["cash_order_qty"] = _number(self.cash_order_qty)
            if self.limit_price is not None:
                wire["limit_price"] = _number(self.limit_price)
            if self.cl_ord_id is not None:
                wire["cl_ord_id"] = self.cl_ord_id
            if self.order_userref is not None:
                wire["order_userref"] = self.order_userref
            return wire
        for key in (
            "order_qty",
            "cash_order_qty",
            "limit_price",
            "limit_price_type",
            "triggers",
            "time_in_force",
            "effective_time",
            "expire_time",
            "margin",
            "post_only",
            "reduce_only",
            "stp_type",
            "cl_ord_id",
            "order_userref",
            "conditional",
            "display_qty",
            "fee_preference",
            "sender_sub_id",
        ):
            _put(wire, key, getattr(self, key))
        return wire

    def _params(self) -> dict[str, Any]:
        wire = self._order_fields()
        wire["symbol"] = self.symbol
        if self.deadline is not None:
            wire["deadline"] = self.deadline
        if self.validate is not None:
            wire["validate"] = self.validate
        return wire


class AmendOrder(V2Request, frozen=True, kw_only=True):
    """Change an order in place, keeping its ids and (where possible) its queue priority.

    Exactly one of ``order_id`` or ``cl_ord_id``; at least one of ``order_qty``,
    ``display_qty``, ``limit_price`` or ``trigger_price``. With a ``pct``/``quote`` price type
    the price is an offset of either sign. ``symbol`` is needed for non-crypto pairs only.
    """

    method: ClassVar[str] = "amend_order"
    reply_method: ClassVar[str] = "amend_order"
    order_id: str | None = None
    cl_ord_id: str | None = None
    order_qty: Decimal | None = None
    display_qty: Decimal | None = None
    limit_price: Decimal | None = None
    limit_price_type: PriceType | None = None
    trigger_price: Decimal | None = None
    trigger_price_type: PriceType | None = None
    post_only: bool | None = None
    deadline: str | None = None
    symbol: str | None = None

    def __post_init__(self) -> None:
        if (self.order_id is None) == (self.cl_ord_id is None):
            raise _fail("order_id", "give exactly one of order_id or cl_ord_id")
        if self.order_id is not None:
            _check_ident("order_id", self.order_id)
        if self.cl_ord_id is not None:
            _cl_ord_id("cl_ord_id", self.cl_ord_id)
        _set(self, "order_qty", _optional("order_qty", self.order_qty))
        _set(self, "display_qty", _optional("display_qty", self.display_qty))
        _optional_choice("limit_price_type", self.limit_price_type, PRICE_TYPES)
        _optional_choice("trigger_price_type", self.trigger_price_type, PRICE_TYPES)
        for key, kind in (
            ("limit_price", self.limit_price_type),
            ("trigger_price", self.trigger_price_type),
        ):
            value = getattr(self, key)
            if value is not None:
                _set(self, key, _price(key, value, kind))
        _check_bool("post_only", self.post_only)
        _deadline("deadline", self.deadline)
        if self.symbol is not None:
            _check_text("symbol", self.symbol)
        changes = (self.order_qty, self.display_qty, self.limit_price, self.trigger_price)
        if all(change is None for change in changes):
            raise _fail(
                "amend_order",
                "give at least one of order_qty, display_qty, limit_price, trigger_price",
            )

    def _params(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        for key in (
            "order_id",
            "cl_ord_id",
            "order_qty",
            "display_qty",
            "limit_price",
            "limit_price_type",
            "trigger_price",
            "trigger_price_type",
            "post_only",
            "deadline",
            "symbol",
        ):
            _put(wire, key, getattr(self, key))
        return wire


class EditOrder(V2Request, frozen=True, kw_only=True):
    """Cancel-and-replace an order (``edit_order``; a new ``order_id``, queue position lost).

    ``order_id`` and ``symbol`` are required (``cl_ord_id`` is not supported), and at least
    one change. Kraken recommends :class:`AmendOrder` instead.
    """

    method: ClassVar[str] = "edit_order"
    reply_method: ClassVar[str] = "edit_order"
    order_id: str
    symbol: str
    order_qty: Decimal | None = None
    limit_price: Decimal | None = None
    display_qty: Decimal | None = None
    triggers: Triggers | None = None
    post_only: bool | None = None
    reduce_only: bool | None = None
    order_userref: int | None = None
    fee_preference: Literal["base", "quote"] | None = None
    deadline: str | None = None
    validate: bool | None = None

    def __post_init__(self) -> None:
        _check_ident("order_id", self.order_id)
        _check_text("symbol", self.symbol)
        for key in ("order_qty", "limit_price", "display_qty"):
            _set(self, key, _optional(key, getattr(self, key)))
        if self.triggers is not None and not isinstance(self.triggers, Triggers):
            raise _fail("triggers", f"must be a Triggers, not {_type_name(self.triggers)}")
        for option in ("post_only", "reduce_only", "validate"):
            _check_bool(option, getattr(self, option))
        if self.order_userref is not None:
            _int32("order_userref", self.order_userref)
        _optional_choice("fee_preference", self.fee_preference, FEE_PREFERENCES)
        _deadline("deadline", self.deadline)
        changes = (
            self.order_qty,
            self.limit_price,
            self.display_qty,
            self.triggers,
            self.post_only,
            self.reduce_only,
            self.order_userref,
            self.fee_preference,
        )
        if all(change is None for change in changes):
            raise _fail("edit_order", "give at least one change")

    def _params(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"order_id": self.order_id, "symbol": self.symbol}
        for key in (
            "order_qty",
            "limit_price",
            "display_qty",
            "triggers",
            "post_only",
            "reduce_only",
            "order_userref",
            "fee_preference",
            "deadline",
            "validate",
        ):
            _put(wire, key, getattr(self, key))
        return wire
