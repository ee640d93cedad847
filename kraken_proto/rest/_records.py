"""The records of the private REST queries (orders, trades) and how one is read (pure).

Records keep Kraken's wire names; every amount, price, volume and time is a ``Decimal`` with
exactly the digits Kraken sent (amounts come as strings, times as JSON numbers; either form is
read for either field). Each record type is read by a table of its fields: (wire name,
reader, required). Unknown fields are ignored, so new Kraken fields never break parsing.
A reader never raises anything but the internal ``_Bad``, whose text names the field's path
and the kinds expected and got, never the value (a body may hold a token).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ._envelope import json_kind, malformed
from ._errors import MalformedRestResponseError, body_fragment

__all__ = [
    "ORDER_RECORDS",
    "TRADE_RECORDS",
    "RecordTable",
    "RestOrder",
    "RestOrderDescr",
    "RestTrade",
    "read_records",
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


@dataclass(frozen=True, slots=True)
class RecordTable:
    """One record type and the table its fields are read by."""

    cls: Callable[..., Any]
    fields: _Fields


ORDER_RECORDS = RecordTable(RestOrder, _ORDER_FIELDS)
TRADE_RECORDS = RecordTable(RestTrade, _TRADE_FIELDS)


def read_records(
    call: str, where: str, raw: Any, table: RecordTable
) -> Mapping[str, Any] | MalformedRestResponseError:
    """``raw`` (the JSON value at ``where`` in ``call``'s response) as a read-only mapping of
    id -> record in Kraken's order, or the error naming the first bad record; never raises."""
    if not isinstance(raw, dict):
        return malformed(call, f"{where} should be an object, got {json_kind(raw)}")
    records: dict[str, Any] = {}
    for key, record in raw.items():
        if not isinstance(record, dict):
            problem = f" should be an object, got {json_kind(record)}"
            return malformed(call, f"{where}[{body_fragment(key, 40)!r}]{problem}")
        try:
            records[key] = _build(table.cls, table.fields, record)
        except _Bad as bad:
            return malformed(call, f"{where}[{body_fragment(key, 40)!r}]{bad.problem}")
    return MappingProxyType(records)
