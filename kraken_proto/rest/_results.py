"""Typed results of the private REST queries, and their parsers (pure).

Each parser takes the HTTP ``status`` and ``body`` and returns a frozen result, or raises the
``RestError`` family (``RestHTTPError``, ``MalformedRestResponseError``, or the class mapped
from Kraken's error string). The records (``RestOrder``, ``RestTrade``) and how each is read
are in ``_records``. Mappings keep Kraken's order (newest first for the paged calls) and are
read-only. Only documented errors escape, whatever the bytes.

The five calls differ only in where their records sit and whether a ``count`` comes with
them, so one reader (:func:`_parse`) serves them all, driven by a small table per call
(:class:`_Call`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from ._envelope import Envelope, json_kind, malformed, open_envelope, unwrap
from ._errors import MalformedRestResponseError, RestError
from ._records import (
    ORDER_RECORDS,
    TRADE_RECORDS,
    RecordTable,
    RestOrder,
    RestOrderDescr,
    RestTrade,
    read_records,
)

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


# --- one reader for every call ------------------------------------------------------------

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class _Call(Generic[R]):
    """How one call's ``result`` is read: one row of the table below.

    ``name`` is Kraken's method name (every error message starts with it); ``result`` the
    class returned; ``records`` the table its records are read by. The records sit under
    ``result[under]`` (``under=None``: ``result`` itself maps id -> record) and go into the
    result's ``attribute``; ``counted`` calls also carry ``result.count``.
    """

    name: str
    result: Callable[..., R]
    records: RecordTable
    attribute: str
    under: str | None
    counted: bool = False


_OPEN_ORDERS = _Call("OpenOrders", OpenOrdersResult, ORDER_RECORDS, attribute="open", under="open")
_CLOSED_ORDERS = _Call(
    "ClosedOrders",
    ClosedOrdersResult,
    ORDER_RECORDS,
    attribute="closed",
    under="closed",
    counted=True,
)
_QUERY_ORDERS = _Call(
    "QueryOrders", QueryOrdersResult, ORDER_RECORDS, attribute="orders", under=None
)
_TRADES_HISTORY = _Call(
    "TradesHistory",
    TradesHistoryResult,
    TRADE_RECORDS,
    attribute="trades",
    under="trades",
    counted=True,
)
_QUERY_TRADES = _Call(
    "QueryTrades", QueryTradesResult, TRADE_RECORDS, attribute="trades", under=None
)


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


def _parse(call: _Call[R], status: int, body: bytes) -> R | RestError:
    """Read ``call``'s response: envelope, then records, then ``count``; the first error
    found is returned, never raised (so the public parser can drop ``body`` first)."""
    envelope = open_envelope(call.name, status, body)
    if isinstance(envelope, RestError):
        return envelope
    if call.under is None:
        outer: dict[str, Any] = {}
        raw, where = envelope.result, "result"
    else:
        wrapper = _result_object(call.name, envelope)
        if isinstance(wrapper, RestError):
            return wrapper
        outer, raw, where = wrapper, wrapper.get(call.under), f"result.{call.under}"
    records = read_records(call.name, where, raw, call.records)
    if isinstance(records, RestError):
        return records
    values: dict[str, Any] = {call.attribute: records, "warnings": envelope.warnings}
    if call.counted:
        count = _count(call.name, outer)
        if isinstance(count, RestError):
            return count
        values["count"] = count
    return call.result(**values)


# --- parsers -------------------------------------------------------------------------------
# Each drops ``body`` from its frame before ``unwrap`` raises: a traceback rendered with
# locals then cannot show a token the body held.


def parse_open_orders_response(status: int, body: bytes) -> OpenOrdersResult:
    """Parse an ``OpenOrders`` response (``result.open``: txid -> order).

    Raises ``RestHTTPError`` for a status other than 200, ``MalformedRestResponseError``
    naming the JSON path for a body of the wrong shape, and the ``RestError`` subclass mapped
    from Kraken's first error string.
    """
    outcome = _parse(_OPEN_ORDERS, status, body)
    del body
    return unwrap(outcome)


def parse_closed_orders_response(status: int, body: bytes) -> ClosedOrdersResult:
    """Parse one ``ClosedOrders`` page (``result.closed`` and ``result.count``); raises like
    ``parse_open_orders_response``."""
    outcome = _parse(_CLOSED_ORDERS, status, body)
    del body
    return unwrap(outcome)


def parse_query_orders_response(status: int, body: bytes) -> QueryOrdersResult:
    """Parse a ``QueryOrders`` response (``result``: txid -> order, no wrapper); raises like
    ``parse_open_orders_response``."""
    outcome = _parse(_QUERY_ORDERS, status, body)
    del body
    return unwrap(outcome)


def parse_trades_history_response(status: int, body: bytes) -> TradesHistoryResult:
    """Parse one ``TradesHistory`` page (``result.trades`` and ``result.count``); raises like
    ``parse_open_orders_response``."""
    outcome = _parse(_TRADES_HISTORY, status, body)
    del body
    return unwrap(outcome)


def parse_query_trades_response(status: int, body: bytes) -> QueryTradesResult:
    """Parse a ``QueryTrades`` response (``result``: trade txid -> trade, no wrapper); raises
    like ``parse_open_orders_response``."""
    outcome = _parse(_QUERY_TRADES, status, body)
    del body
    return unwrap(outcome)
