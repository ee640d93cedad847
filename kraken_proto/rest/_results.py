"""Typed results of the private REST queries, and their parsers (pure).

Each parser takes the HTTP ``status`` and ``body`` and returns a frozen result, or raises the
``RestError`` family (``RestHTTPError``, ``MalformedRestResponseError``, or the class mapped
from Kraken's error string). Records keep Kraken's wire names; every amount, price, volume and
time is a ``Decimal`` with exactly the digits Kraken sent (amounts come as strings, times as
JSON numbers; either form is read for either field). Mappings keep Kraken's order (newest
first for the paged calls) and are read-only. Unknown fields are ignored, so new Kraken
fields never break parsing. Only documented errors escape, whatever the bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ._envelope import Envelope, json_kind, malformed, open_envelope, unwrap
from ._errors import MalformedRestResponseError, RestError, body_fragment

__all__ = [
    "ClosedOrdersResult",
    "OpenOrdersResult",
    "QueryOrdersResult",
    "QueryTradesResult",
    "RestOrder",
    "RestOrderDescr",
    "RestTrade",
    "TradesHistoryResult",
    "parse_closed_orders_response",
    "parse_open_orders_response",
    "parse_query_orders_response",
    "parse_query_trades_response",
    "parse_trades_history_response",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class RestOrderDescr:
    """An order's ``descr``: ``pair`` (REST altname, e.g. ``"XBTUSD"``), ``type`` (buy/sell),
    ``ordertype``, ``price``, ``price2``, ``leverage`` (``"none"``, ``"5:1"``), ``order`` (Kraken's
    human text) and ``close`` (the conditional close, ``""`` when none)."""

    pair: str
    type: str
    ordertype: str
    price: Decimal | None = None
    price2: Decimal | None = None
    leverage: str | None = None
    order: str | None = None
    close: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RestOrder:
    """One order of ``OpenOrders``/``ClosedOrders``/``QueryOrders`` (REST doc §2.6).

    ``price`` is the **average** fill price; ``opentm``/``starttm``/``expiretm``/``closetm``
    unix seconds (``0`` when unset); ``trades`` the trade ids when asked for (else ``None``).
    Fields Kraken leaves out or sends as ``null`` are ``None``.
    """

    status: str
    opentm: Decimal
    descr: RestOrderDescr
    vol: Decimal
    vol_exec: Decimal
    cost: Decimal
    fee: Decimal
    price: Decimal
    refid: str | None = None
    userref: int | None = None
    cl_ord_id: str | None = None
    starttm: Decimal | None = None
    expiretm: Decimal | None = None
    closetm: Decimal | None = None
    reason: str | None = None
    stopprice: Decimal | None = None
    limitprice: Decimal | None = None
    trigger: str | None = None
    margin: bool | None = None
    misc: str | None = None
    oflags: str | None = None
    trades: tuple[str, ...] | None = None
    sender_sub_id: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RestTrade:
    """One trade of ``TradesHistory``/``QueryTrades`` (REST doc §2.7), keyed by its trade txid
    (the same id as the ownTrades key).

    ``pair`` is the REST pair id (``"XXBTZUSD"``, not ``"XBT/USD"``); ``time`` unix seconds;
    ``trade_id`` Kraken's separate integer id; ``maker`` True when this side was the maker.
    The position fields (``posstatus``, ``cprice``, ...) appear only for margin positions.
    """

    ordertxid: str
    pair: str
    time: Decimal
    type: str
    ordertype: str
    price: Decimal
    cost: Decimal
    fee: Decimal
    vol: Decimal
    postxid: str | None = None
    margin: Decimal | None = None
    leverage: str | None = None
    misc: str | None = None
    ledgers: tuple[str, ...] | None = None
    trade_id: int | None = None
    maker: bool | None = None
    posstatus: str | None = None
    cprice: Decimal | None = None
    ccost: Decimal | None = None
    cfee: Decimal | None = None
    cvol: Decimal | None = None
    cmargin: Decimal | None = None
    net: Decimal | None = None
    trades: tuple[str, ...] | None = None


def _next_ofs(page: int, count: int, ofs: int) -> int | None:
    following = ofs + page
    return following if page > 0 and following < count else None


@dataclass(frozen=True, kw_only=True)
class OpenOrdersResult:
    """``OpenOrders``: ``open`` maps order txid -> order; ``warnings`` any ``W`` strings."""

    open: Mapping[str, RestOrder] = field(default_factory=lambda: MappingProxyType({}))
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ClosedOrdersResult:
    """One page of ``ClosedOrders``: up to ``PAGE_SIZE`` orders, newest first, and ``count``,
    the number of orders matching the filter over all pages."""

    closed: Mapping[str, RestOrder] = field(default_factory=lambda: MappingProxyType({}))
    count: int = 0
    warnings: tuple[str, ...] = ()

    def next_ofs(self, ofs: int = 0) -> int | None:
        """The ``ofs`` of the next page when this page was fetched at ``ofs``, or ``None``
        when this was the last page (it is short, empty, or reaches ``count``)."""
        return _next_ofs(len(self.closed), self.count, ofs)


@dataclass(frozen=True, kw_only=True)
class QueryOrdersResult:
    """``QueryOrders``: ``orders`` maps each requested txid Kraken knows -> order."""

    orders: Mapping[str, RestOrder] = field(default_factory=lambda: MappingProxyType({}))
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TradesHistoryResult:
    """One page of ``TradesHistory``: up to ``PAGE_SIZE`` trades, newest first, and
    ``count``, the number of trades matching over all pages."""

    trades: Mapping[str, RestTrade] = field(default_factory=lambda: MappingProxyType({}))
    count: int = 0
    warnings: tuple[str, ...] = ()

    def next_ofs(self, ofs: int = 0) -> int | None:
        """The ``ofs`` of the next page when this page was fetched at ``ofs``, or ``None``."""
        return _next_ofs(len(self.trades), self.count, ofs)


@dataclass(frozen=True, kw_only=True)
class QueryTradesResult:
    """``QueryTrades``: ``trades`` maps each requested trade txid Kraken knows -> trade."""

    trades: Mapping[str, RestTrade] = field(default_factory=lambda: MappingProxyType({}))
    warnings: tuple[str, ...] = ()


# --- field readers --------------------------------------------------------------------------


class _Bad(Exception):
    """Internal: a field of the wrong shape; ``problem`` names the expected and got kinds."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


_DECIMAL_TEXT = re.compile(r"-?[0-9]{1,40}(?:\.[0-9]{1,40})?")
_INT_TEXT = re.compile(r"-?[0-9]{1,20}")
_MISSING = object()


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value  # a JSON number: always finite (JSON has no NaN or Infinity)
    if isinstance(value, str):
        if _DECIMAL_TEXT.fullmatch(value):
            return Decimal(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise _Bad(f"expected a decimal, got {json_kind(value)}")


def _optional_decimal(value: Any) -> Decimal | None:
    # Kraken sends "" for an absent number in some records; that is "none", not zero.
    return None if value is None or value == "" else _decimal(value)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _Bad(f"expected a string, got {json_kind(value)}")


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _optional_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    # Integers sent as text (as Kraken does for some fields on the WebSocket).
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        return int(value)
    raise _Bad(f"expected an integer, got {json_kind(value)}")


def _optional_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise _Bad(f"expected a boolean, got {json_kind(value)}")


def _optional_ids(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise _Bad(f"expected an array of strings, got {json_kind(value)}")


def _descr(value: Any) -> RestOrderDescr:
    if not isinstance(value, dict):
        raise _Bad(f"expected an object, got {json_kind(value)}")
    descr: RestOrderDescr = _build(RestOrderDescr, _DESCR_FIELDS, value)
    return descr


_Reader = Callable[[Any], Any]
_Fields = tuple[tuple[str, _Reader, bool], ...]  # (wire name, reader, required)

_DESCR_FIELDS: _Fields = (
    ("pair", _text, True),
    ("type", _text, True),
    ("ordertype", _text, True),
    ("price", _optional_decimal, False),
    ("price2", _optional_decimal, False),
    ("leverage", _optional_text, False),
    ("order", _optional_text, False),
    ("close", _optional_text, False),
)
_ORDER_FIELDS: _Fields = (
    ("status", _text, True),
    ("opentm", _decimal, True),
    ("descr", _descr, True),
    ("vol", _decimal, True),
    ("vol_exec", _decimal, True),
    ("cost", _decimal, True),
    ("fee", _decimal, True),
    ("price", _decimal, True),
    ("refid", _optional_text, False),
    ("userref", _optional_int, False),
    ("cl_ord_id", _optional_text, False),
    ("starttm", _optional_decimal, False),
    ("expiretm", _optional_decimal, False),
    ("closetm", _optional_decimal, False),
    ("reason", _optional_text, False),
    ("stopprice", _optional_decimal, False),
    ("limitprice", _optional_decimal, False),
    ("trigger", _optional_text, False),
    ("margin", _optional_bool, False),
    ("misc", _optional_text, False),
    ("oflags", _optional_text, False),
    ("trades", _optional_ids, False),
    ("sender_sub_id", _optional_text, False),
)
_TRADE_FIELDS: _Fields = (
    ("ordertxid", _text, True),
    ("pair", _text, True),
    ("time", _decimal, True),
    ("type", _text, True),
    ("ordertype", _text, True),
    ("price", _decimal, True),
    ("cost", _decimal, True),
    ("fee", _decimal, True),
    ("vol", _decimal, True),
    ("postxid", _optional_text, False),
    ("margin", _optional_decimal, False),
    ("leverage", _optional_text, False),
    ("misc", _optional_text, False),
    ("ledgers", _optional_ids, False),
    ("trade_id", _optional_int, False),
    ("maker", _optional_bool, False),
    ("posstatus", _optional_text, False),
    ("cprice", _optional_decimal, False),
    ("ccost", _optional_decimal, False),
    ("cfee", _optional_decimal, False),
    ("cvol", _optional_decimal, False),
    ("cmargin", _optional_decimal, False),
    ("net", _optional_decimal, False),
    ("trades", _optional_ids, False),
)


def _build(cls: Callable[..., Any], fields: _Fields, raw: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for name, reader, required in fields:
        value = raw.get(name, _MISSING)
        if value is _MISSING:
            if required:
                raise _Bad(f".{name}: missing")
            continue
        try:
            values[name] = reader(value)
        except _Bad as bad:
            separator = "" if bad.problem.startswith(".") else ": "
            raise _Bad(f".{name}{separator}{bad.problem}") from None
    return cls(**values)


def _records(
    call: str, where: str, raw: Any, cls: Callable[..., Any], fields: _Fields
) -> Mapping[str, Any] | MalformedRestResponseError:
    if not isinstance(raw, dict):
        return malformed(call, f"{where} should be an object, got {json_kind(raw)}")
    records: dict[str, Any] = {}
    for key, record in raw.items():
        if not isinstance(record, dict):
            problem = f" should be an object, got {json_kind(record)}"
            return malformed(call, f"{where}[{body_fragment(key, 40)!r}]{problem}")
        try:
            records[key] = _build(cls, fields, record)
        except _Bad as bad:
            return malformed(call, f"{where}[{body_fragment(key, 40)!r}]{bad.problem}")
    return MappingProxyType(records)


def _result_object(call: str, envelope: Envelope) -> dict[str, Any] | MalformedRestResponseError:
    if isinstance(envelope.result, dict):
        return envelope.result
    return malformed(call, f'"result" should be an object, got {json_kind(envelope.result)}')


def _count(call: str, result: dict[str, Any]) -> int | MalformedRestResponseError:
    count = result.get("count")
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return count
    kind = "a negative integer" if type(count) is int else json_kind(count)
    return malformed(call, f'"result.count" should be a non-negative integer, got {kind}')


# --- parsers -------------------------------------------------------------------------------


def _open_orders(status: int, body: bytes) -> OpenOrdersResult | RestError:
    envelope = open_envelope("OpenOrders", status, body)
    if isinstance(envelope, RestError):
        return envelope
    result = _result_object("OpenOrders", envelope)
    if isinstance(result, RestError):
        return result
    orders = _records("OpenOrders", "result.open", result.get("open"), RestOrder, _ORDER_FIELDS)
    if isinstance(orders, RestError):
        return orders
    return OpenOrdersResult(open=orders, warnings=envelope.warnings)


def _closed_orders(status: int, body: bytes) -> ClosedOrdersResult | RestError:
    envelope = open_envelope("ClosedOrders", status, body)
    if isinstance(envelope, RestError):
        return envelope
    result = _result_object("ClosedOrders", envelope)
    if isinstance(result, RestError):
        return result
    orders = _records(
        "ClosedOrders", "result.closed", result.get("closed"), RestOrder, _ORDER_FIELDS
    )
    if isinstance(orders, RestError):
        return orders
    count = _count("ClosedOrders", result)
    if isinstance(count, RestError):
        return count
    return ClosedOrdersResult(closed=orders, count=count, warnings=envelope.warnings)


def _query_orders(status: int, body: bytes) -> QueryOrdersResult | RestError:
    envelope = open_envelope("QueryOrders", status, body)
    if isinstance(envelope, RestError):
        return envelope
    # No wrapper: ``result`` itself maps txid -> order.
    orders = _records("QueryOrders", "result", envelope.result, RestOrder, _ORDER_FIELDS)
    if isinstance(orders, RestError):
        return orders
    return QueryOrdersResult(orders=orders, warnings=envelope.warnings)


def _trades_history(status: int, body: bytes) -> TradesHistoryResult | RestError:
    envelope = open_envelope("TradesHistory", status, body)
    if isinstance(envelope, RestError):
        return envelope
    result = _result_object("TradesHistory", envelope)
    if isinstance(result, RestError):
        return result
    trades = _records(
        "TradesHistory", "result.trades", result.get("trades"), RestTrade, _TRADE_FIELDS
    )
    if isinstance(trades, RestError):
        return trades
    count = _count("TradesHistory", result)
    if isinstance(count, RestError):
        return count
    return TradesHistoryResult(trades=trades, count=count, warnings=envelope.warnings)


def _query_trades(status: int, body: bytes) -> QueryTradesResult | RestError:
    envelope = open_envelope("QueryTrades", status, body)
    if isinstance(envelope, RestError):
        return envelope
    trades = _records("QueryTrades", "result", envelope.result, RestTrade, _TRADE_FIELDS)
    if isinstance(trades, RestError):
        return trades
    return QueryTradesResult(trades=trades, warnings=envelope.warnings)


def parse_open_orders_response(status: int, body: bytes) -> OpenOrdersResult:
    """Parse an ``OpenOrders`` response (``result.open``: txid -> order).

    Raises ``RestHTTPError`` for a status other than 200, ``MalformedRestResponseError``
    naming the JSON path for a body of the wrong shape, and the ``RestError`` subclass mapped
    from Kraken's first error string.
    """
    outcome = _open_orders(status, body)
    del body
    return unwrap(outcome)


def parse_closed_orders_response(status: int, body: bytes) -> ClosedOrdersResult:
    """Parse one ``ClosedOrders`` page (``result.closed`` and ``result.count``); raises like
    ``parse_open_orders_response``."""
    outcome = _closed_orders(status, body)
    del body
    return unwrap(outcome)


def parse_query_orders_response(status: int, body: bytes) -> QueryOrdersResult:
    """Parse a ``QueryOrders`` response (``result``: txid -> order, no wrapper); raises like
    ``parse_open_orders_response``."""
    outcome = _query_orders(status, body)
    del body
    return unwrap(outcome)


def parse_trades_history_response(status: int, body: bytes) -> TradesHistoryResult:
    """Parse one ``TradesHistory`` page (``result.trades`` and ``result.count``); raises like
    ``parse_open_orders_response``."""
    outcome = _trades_history(status, body)
    del body
    return unwrap(outcome)


def parse_query_trades_response(status: int, body: bytes) -> QueryTradesResult:
    """Parse a ``QueryTrades`` response (``result``: trade txid -> trade, no wrapper); raises
    like ``parse_open_orders_response``."""
    outcome = _query_trades(status, body)
    del body
    return unwrap(outcome)
