"""Outgoing WebSocket v2 requests: frozen, keyword-only, validated at construction.

The v2 sibling of ``_requests``, with the same rules: every request checks its fields in
``__post_init__`` and raises ``LocalProtocolError`` naming the bad field; requests never hold
the session token (:func:`encode` takes it and puts it in ``params``); money is
``decimal.Decimal`` (an ``int`` is converted exactly) and a ``float`` is refused.

v2 sends prices and quantities as JSON *numbers*: :func:`encode` writes each Decimal's digits
as a bare number in fixed-point notation (``1E-8`` goes out as ``0.00000001``), never through
a float and never as a string.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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
    "ORDER_TYPES",
    "AddOrder",
    "AmendOrder",
    "BatchAdd",
    "BatchCancel",
    "CancelAll",
    "CancelAllOrdersAfter",
    "CancelOrder",
    "Conditional",
    "EditOrder",
    "Ping",
    "Subscribe",
    "Triggers",
    "Unsubscribe",
    "V2Request",
    "check_req_id",
    "encode",
]

Channel = Literal["executions", "balances"]
Side = Literal["buy", "sell"]
PriceType = Literal["static", "pct", "quote"]

CHANNELS: frozenset[str] = frozenset({"executions", "balances"})
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

# Kraken support told ccxt that req_id must be an int32; a positive one is echoed back intact.
MAX_REQ_ID = 2**31 - 1
_BATCH_ADD_SIZE = (2, 15)
_BATCH_CANCEL_SIZE = (2, 50)
_ICEBERG_MIN_SHARE = 15


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
    return msgspec.Raw(format(value, "f").encode())


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Triggers:
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Conditional:
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


class V2Request(Request):
    """Base of every v2 request.

    ``method`` is the wire name (the reply carries the same one, but ``ping`` answers
    ``pong``); ``requires_token`` whether :func:`encode` must be given a session token. It
    subclasses the v1 ``Request`` so one type names a request of either protocol; the v1
    ``encode`` refuses it (it has no v1 ``event``).
    """

    __slots__ = ()
    method: ClassVar[str]
    reply_method: ClassVar[str]

    def _params(self) -> dict[str, Any]:
        """The request's own ``params`` (no ``token``)."""
        return {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe(V2Request):
    """Subscribe to ``executions`` or ``balances``; options left ``None`` are not sent.

    ``snap_orders``, ``snap_trades``, ``order_status`` and ``ratecounter`` belong to
    executions, ``snapshot`` to balances; ``rebased`` and ``users`` (``"all"``, master
    accounts; no snapshot is sent then) to both. Set ``snap_trades`` explicitly: the schema's
    default (false) and the prose (last 50 trades) disagree.
    """

    method: ClassVar[str] = "subscribe"
    reply_method: ClassVar[str] = "subscribe"
    channel: Channel
    snap_orders: bool | None = None
    snap_trades: bool | None = None
    order_status: bool | None = None
    ratecounter: bool | None = None
    snapshot: bool | None = None
    rebased: bool | None = None
    users: Literal["all"] | None = None

    _EXECUTIONS_ONLY: ClassVar[tuple[str, ...]] = (
        "snap_orders",
        "snap_trades",
        "order_status",
        "ratecounter",
    )

    def __post_init__(self) -> None:
        _check_choice("channel", self.channel, CHANNELS)
        for option in (*self._EXECUTIONS_ONLY, "snapshot", "rebased"):
            _check_bool(option, getattr(self, option))
        if self.users is not None and self.users != "all":
            raise _fail("users", f"must be 'all' or None, got {self.users!r}")
        if self.channel == "balances":
            for option in self._EXECUTIONS_ONLY:
                if getattr(self, option) is not None:
                    raise _fail(option, "is an executions option, not valid for balances")
        elif self.snapshot is not None:
            raise _fail("snapshot", "is a balances option (executions: snap_orders/snap_trades)")

    @property
    def expects_snapshot(self) -> bool:
        """Whether Kraken sends a snapshot first (never with ``users="all"``)."""
        if self.users is not None:
            return False
        if self.channel == "balances":
            return self.snapshot is not False
        return self.snap_orders is not False or self.snap_trades is True

    def _params(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"channel": self.channel}
        for option in (*self._EXECUTIONS_ONLY, "snapshot", "rebased", "users"):
            _put(wire, option, getattr(self, option))
        return wire


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsubscribe(V2Request):
    """Unsubscribe from ``executions`` or ``balances``."""

    method: ClassVar[str] = "unsubscribe"
    reply_method: ClassVar[str] = "unsubscribe"
    channel: Channel

    def __post_init__(self) -> None:
        _check_choice("channel", self.channel, CHANNELS)

    def _params(self) -> dict[str, Any]:
        return {"channel": self.channel}


def _check_ident(name: str, value: object) -> None:
    _check_text(name, value)


@dataclass(frozen=True, slots=True, kw_only=True)
class AddOrder(V2Request):
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
        _put(wire, "deadline", self.deadline)
        _put(wire, "validate", self.validate)
        return wire


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendOrder(V2Request):
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


@dataclass(frozen=True, slots=True, kw_only=True)
class EditOrder(V2Request):
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


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder(V2Request):
    """Cancel orders by ``order_id``, ``cl_ord_id`` and/or ``order_userref`` (each one or many).

    Kraken answers once per id, every reply with the same ``req_id``: :attr:`expected_replies`
    is the number of ids.
    """

    method: ClassVar[str] = "cancel_order"
    reply_method: ClassVar[str] = "cancel_order"
    order_id: tuple[str, ...] = ()
    cl_ord_id: tuple[str, ...] = ()
    order_userref: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "order_id", _ids("order_id", self.order_id, _check_ident))
        _set(self, "cl_ord_id", _ids("cl_ord_id", self.cl_ord_id, _cl_ord_id))
        _set(self, "order_userref", _ids("order_userref", self.order_userref, _int32))
        if not self.expected_replies:
            raise _fail("cancel_order", "give at least one order_id, cl_ord_id or order_userref")

    @property
    def expected_replies(self) -> int:
        return len(self.order_id) + len(self.cl_ord_id) + len(self.order_userref)

    def _params(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        for key in ("order_id", "cl_ord_id", "order_userref"):
            if getattr(self, key):
                wire[key] = list(getattr(self, key))
        return wire


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAll(V2Request):
    """Cancel every open order, untriggered ones included (``cancel_all``)."""

    method: ClassVar[str] = "cancel_all"
    reply_method: ClassVar[str] = "cancel_all"


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAllOrdersAfter(V2Request):
    """Arm (``timeout`` seconds, below 86400) or disarm (``timeout=0``) the dead man's switch."""

    method: ClassVar[str] = "cancel_all_orders_after"
    reply_method: ClassVar[str] = "cancel_all_orders_after"
    timeout: int

    def __post_init__(self) -> None:
        _dead_mans_timeout("timeout", self.timeout)

    def _params(self) -> dict[str, Any]:
        return {"timeout": self.timeout}


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchAdd(V2Request):
    """Place 2 to 15 orders on one symbol in one request (``batch_add``).

    ``orders`` are :class:`AddOrder` rows, all with the same ``symbol`` and without their own
    ``deadline`` or ``validate`` (those are the batch's). If any row fails validation Kraken
    rejects the whole batch; a row failing later checks (funds) is rejected alone.
    """

    method: ClassVar[str] = "batch_add"
    reply_method: ClassVar[str] = "batch_add"
    orders: tuple[AddOrder, ...]
    deadline: str | None = None
    validate: bool | None = None

    def __post_init__(self) -> None:
        untyped: object = self.orders
        if not isinstance(untyped, Iterable) or isinstance(untyped, str | bytes):
            raise _fail("orders", f"must be a list of AddOrder, not {_type_name(untyped)}")
        orders = tuple(untyped)
        low, high = _BATCH_ADD_SIZE
        if not low <= len(orders) <= high:
            raise _fail("orders", f"must hold {low} to {high} orders, got {len(orders)}")
        for index, order in enumerate(orders):
            if not isinstance(order, AddOrder):
                raise _fail(f"orders[{index}]", f"must be an AddOrder, not {_type_name(order)}")
            if order.symbol != orders[0].symbol:
                raise _fail(f"orders[{index}]", "every order of a batch must have one symbol")
            if order.deadline is not None or order.validate is not None:
                raise _fail(
                    f"orders[{index}]", "deadline and validate belong to the batch, not a row"
                )
        _set(self, "orders", orders)
        _deadline("deadline", self.deadline)
        _check_bool("validate", self.validate)

    @property
    def symbol(self) -> str:
        """The one symbol of every order in the batch."""
        return self.orders[0].symbol

    def _params(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "symbol": self.symbol,
            "orders": [order._order_fields() for order in self.orders],
        }
        _put(wire, "deadline", self.deadline)
        _put(wire, "validate", self.validate)
        return wire


def _batch_cancel_id(name: str, value: object) -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        _int32(name, value)
    else:
        _check_ident(name, value)


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchCancel(V2Request):
    """Cancel 2 to 50 orders in one request (``batch_cancel``).

    ``orders`` holds Kraken order ids, or order_userrefs (an ``int`` is sent as its digits,
    as Kraken wants); ``cl_ord_id`` client ids.
    """

    method: ClassVar[str] = "batch_cancel"
    reply_method: ClassVar[str] = "batch_cancel"
    orders: tuple[str | int, ...] = ()
    cl_ord_id: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "orders", _ids("orders", self.orders, _batch_cancel_id))
        _set(self, "cl_ord_id", _ids("cl_ord_id", self.cl_ord_id, _cl_ord_id))
        low, high = _BATCH_CANCEL_SIZE
        count = len(self.orders) + len(self.cl_ord_id)
        if not low <= count <= high:
            raise _fail("batch_cancel", f"give {low} to {high} ids, got {count}")

    def _params(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        if self.orders:
            wire["orders"] = [str(item) for item in self.orders]
        if self.cl_ord_id:
            wire["cl_ord_id"] = list(self.cl_ord_id)
        return wire


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(V2Request):
    """Application-level ping, answered by a ``Pong`` with the same ``req_id``; no token."""

    method: ClassVar[str] = "ping"
    reply_method: ClassVar[str] = "pong"
    requires_token: ClassVar[bool] = False


def check_req_id(req_id: object) -> int:
    """Return ``req_id`` if it is a positive int32 (what Kraken echoes intact), else raise."""
    if isinstance(req_id, bool) or not isinstance(req_id, int):
        raise _fail("req_id", f"must be an int, not {_type_name(req_id)}")
    if not 1 <= req_id <= MAX_REQ_ID:
        raise _fail("req_id", f"must be from 1 to 2**31-1, got {req_id}")
    return req_id


_encoder = msgspec.json.Encoder()


def encode(request: V2Request, *, token: str | None = None, req_id: int | None = None) -> str:
    """Encode ``request`` as one v2 JSON text message; the token goes in ``params.token``.

    ``token`` is required for every request but ``Ping`` (and refused for ``Ping``);
    ``req_id`` is optional. Decimals go out as bare JSON numbers with exactly their digits.
    Raises ``LocalProtocolError`` on a bad argument; never shows the token.
    """
    if not isinstance(request, V2Request) or not hasattr(request, "method"):
        raise LocalProtocolError(
            f"request: expected a kraken_proto.v2 request, got {_type_name(request)}"
        )
    message: dict[str, Any] = {"method": request.method}
    params = request._params()
    if request.requires_token:
        if token is None:
            raise LocalProtocolError(f"token: {request.method} needs a session token")
        params["token"] = check_token(token)
    elif token is not None:
        raise LocalProtocolError(f"token: {request.method} takes no token")
    if params:
        message["params"] = params
    if req_id is not None:
        message["req_id"] = check_req_id(req_id)
    return _encoder.encode(message).decode()
