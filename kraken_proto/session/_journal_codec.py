"""The journal's record codec: one record <-> one JSON object (UTF-8 bytes), exactly.

Every record becomes ``{"k": kind, "at": ..., <its fields>}``. Money is exact: a
``Decimal`` is written as its ``str`` text (``"1.50"``, ``"1E-8"``, ``"-0"``), which
``Decimal()`` reads back digit for digit, exponent and sign included. A request is written as
``{"class": "AddOrder", "fields": {<those that differ from the default>}}`` with each Decimal as
``{"decimal": "..."}`` and each set as ``{"set": [...]}``: that keeps a Decimal price apart
from a relative price string (``"+5"``), and rebuilding goes through the request's own
constructor, so a decoded request is validated like any other.

``JOURNAL_FORMAT`` names this layout; a store refuses a journal written in another one.
A field added to a record since (``FillDelivered.advances``) is written only when it differs
from its default, whose meaning is what format 1 always meant: a journal without such a
value is byte for byte format 1, every format-1 journal reads as it did, and a reader that
predates the field refuses a record holding it (``JournalCorruptError``: an unexpected
field) instead of misreading it. So the format number did not change.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

import msgspec

from kraken_proto._errors import LocalProtocolError
from kraken_proto._numbers import KrakenFreshNumber, KrakenNumber
from kraken_proto._request_base import Request, plain_value
from kraken_proto.v1._events import Trade
from kraken_proto.v1._requests import Subscribe

from ._journal_records import (
    TRADING_REQUESTS,
    Checkpoint,
    FillAcknowledged,
    FillCursor,
    FillDelivered,
    IntentRecorded,
    JournalCorruptError,
    JournalRecord,
    NonceRecorded,
    OutcomeRecorded,
    SubscriptionRecorded,
)

__all__ = ["JOURNAL_FORMAT", "decode_record", "decode_trade", "encode_record", "encode_trade"]

JOURNAL_FORMAT: Final = 1
"""The version of the record layout written by ``encode_record``."""

_RECORDS: Final[dict[str, type[JournalRecord]]] = {
    cls.kind: cls
    for cls in (
        IntentRecorded,
        OutcomeRecorded,
        FillDelivered,
        FillAcknowledged,
        SubscriptionRecorded,
        NonceRecorded,
        Checkpoint,
    )
}
_REQUESTS: Final[dict[str, type[Request]]] = {
    cls.__name__: cls for cls in (*TRADING_REQUESTS, Subscribe)
}
_TRADE_FIELDS: Final = frozenset(Trade.__struct_fields__)
# Fields added to a record after format 1, with the default that means what format 1 meant:
# written only when they differ from it (see the module docstring).
_ADDED_FIELDS: Final[dict[tuple[str, str], object]] = {("fill", "advances"): True}


def _defaults(cls: type[Request]) -> tuple[tuple[str, object], ...]:
    """Each field of a request class with its default (``NODEFAULT`` when required). A field
    with a ``default_factory`` (no request has one) has no plain default either: it is then
    always written, like a required one."""
    return tuple((field.name, field.default) for field in msgspec.structs.fields(cls))


# Computed once: looking fields up per request was most of the cost of encoding an intent.
_DEFAULTS: Final = {cls: _defaults(cls) for cls in _REQUESTS.values()}
_encoder = msgspec.json.Encoder(enc_hook=plain_value)
_decoder = msgspec.json.Decoder()

_Builtins = dict[str, Any]


def encode_record(record: JournalRecord) -> bytes:
    """The record as one compact JSON object. Raises ``LocalProtocolError`` for a value the
    format cannot hold exactly (a float inside a request, a request type it does not know)."""
    document: _Builtins = {"k": record.kind}
    for name in record.__struct_fields__:
        value = getattr(record, name)
        if (record.kind, name) in _ADDED_FIELDS and value is _ADDED_FIELDS[record.kind, name]:
            continue
        document[name] = _encode_field(value)
    return _encoder.encode(document)


def _encode_field(value: object) -> object:
    if isinstance(value, Request):
        return _encode_request(value)
    if isinstance(value, Trade):
        trade: _Builtins = msgspec.to_builtins(value)  # Decimals become their str text
        return {name: item for name, item in trade.items() if item is not None}
    if isinstance(value, FillCursor):
        return {"trade_id": value.trade_id, "time": str(value.time)}
    if isinstance(value, tuple):
        return list(value)
    return value  # None, bool, int, float, str: JSON holds them as they are


def encode_trade(trade: Trade) -> bytes:
    """``trade`` as JSON text, as a journal record holds one (exact: numbers as their text);
    ``decode_trade`` reads it back equal. The fill ledger stores trades so."""
    return _encoder.encode(_encode_field(trade))


def decode_trade(data: bytes | str) -> Trade:
    """The trade ``encode_trade`` wrote. Raises ``JournalCorruptError`` for anything else."""
    try:
        return _decode_trade(_decoder.decode(data))
    except (msgspec.ValidationError, msgspec.DecodeError, TypeError) as error:
        raise JournalCorruptError(f"undecodable trade: {error}") from None


def _encode_request(request: Request) -> _Builtins:
    defaults = _DEFAULTS.get(type(request))
    if defaults is None:
        raise LocalProtocolError(f"journal: cannot record a {type(request).__name__} request")
    fields: _Builtins = {}
    for name, default in defaults:
        value = getattr(request, name)
        # The type check keeps False apart from 0 and None apart from an empty set.
        if type(value) is type(default) and value == default:
            continue
        fields[name] = _encode_value(value)
    return {"class": type(request).__name__, "fields": fields}


def _encode_value(value: object) -> object:
    if value is None or type(value) is str:  # the common cases first
        return value
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, frozenset):
        return {"set": sorted(value)}
    if isinstance(value, tuple):
        return [_encode_value(item) for item in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    # Requests refuse floats; anything else would not come back as it went in.
    raise LocalProtocolError(f"journal: cannot record a {type(value).__name__} request field")


def decode_record(data: bytes | str) -> JournalRecord:
    """The record ``encode_record`` wrote as ``data``.

    Raises ``JournalCorruptError`` (naming what is wrong) for anything else: bytes that are
    not JSON, an unknown kind, a missing or extra field, a value of the wrong type, a request
    its constructor refuses.
    """
    try:
        document = _decoder.decode(data)
        if not isinstance(document, dict):
            raise TypeError("a record must be a JSON object")
        kind = document.pop("k", None)
        cls = _RECORDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise TypeError(f"unknown record kind {kind!r}")
        for name, value in document.items():
            document[name] = _decode_field(cls, name, value)
        record: JournalRecord = cls(**document)
        return record
    except (
        msgspec.MsgspecError,
        TypeError,
        ValueError,
        ArithmeticError,
        LocalProtocolError,
    ) as error:
        raise JournalCorruptError(f"journal record cannot be read: {error}") from None


def _decode_field(cls: type[JournalRecord], name: str, value: object) -> object:
    if name == "request" and value is not None:
        return _decode_request(value)
    if name == "trade":
        return _decode_trade(value)
    if name == "cursor" and value is not None:
        return _decode_cursor(value)
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        raise TypeError(f"{cls.__name__}.{name}: unexpected object")
    return value


def _decode_request(value: object) -> Request:
    if not isinstance(value, dict) or value.keys() != {"class", "fields"}:
        raise TypeError("request: expected an object with class and fields")
    name, fields = value["class"], value["fields"]
    cls = _REQUESTS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise TypeError(f"request: unknown class {name!r}")
    if not isinstance(fields, dict):
        raise TypeError("request: fields must be an object")
    return cls(**{key: _decode_value(item) for key, item in fields.items()})


def _decode_value(value: object) -> object:
    if isinstance(value, list):
        return tuple(_decode_value(item) for item in value)
    if isinstance(value, dict):
        if value.keys() == {"decimal"} and isinstance(value["decimal"], str):
            return Decimal(value["decimal"])
        if value.keys() == {"set"} and isinstance(value["set"], list):
            return frozenset(value["set"])
        raise TypeError(f"request field: unexpected object {sorted(value)}")
    if isinstance(value, float):
        raise TypeError("request field: a float cannot be a request value")
    return value


def _decode_trade(value: object) -> Trade:
    if not isinstance(value, dict):
        raise TypeError("trade: expected an object")
    unknown = value.keys() - _TRADE_FIELDS
    if unknown:
        raise TypeError(f"trade: unknown fields {sorted(unknown)}")
    if any(isinstance(item, float) for item in value.values()):
        # Decimals are written as text; a float here would not be exact.
        raise TypeError("trade: a number where exact text was expected")
    return msgspec.convert(value, Trade, strict=True, dec_hook=_journal_number)


def _journal_number(kind: type, value: object) -> Decimal:
    # A trade's number fields are ``KrakenNumber`` or ``KrakenFreshNumber``. The journal wrote
    # each as ``str(Decimal)`` (``"1E-8"`` included), which is not Kraken's text: read it back
    # as Decimal does.
    if (kind is KrakenNumber or kind is KrakenFreshNumber) and isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:  # msgspec names the field of a ValueError only
            raise ValueError(f"not a number: {value[:40]!r}") from None
    raise TypeError(f"expected a number as text, got {type(value).__name__}")


def _decode_cursor(value: object) -> FillCursor:
    if not isinstance(value, dict) or value.keys() != {"trade_id", "time"}:
        raise TypeError("cursor: expected an object with trade_id and time")
    time = value["time"]
    if not isinstance(time, str):
        raise TypeError("cursor: time must be text")
    return FillCursor(trade_id=value["trade_id"], time=Decimal(time))
