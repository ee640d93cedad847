"""``decode``: one Kraken v1 frame in, one typed event out. Stateless; the hot path.

The fast path is a single typed msgspec decode of the whole frame (control events are a
union tagged by ``"event"``; channel frames come back as raw slices and each part is decoded
with its own typed decoder). Anything the fast path rejects goes through a slow, careful path
that tolerates Kraken's known looseness (``""`` for an absent number, a numeric string
``count``, a non-integer ``reqid`` echoed in an error), returns ``UnknownMessage`` for valid
JSON it does not recognise, and otherwise raises ``RemoteProtocolError`` naming the JSON path.
"""

from __future__ import annotations

from typing import Any, Union

import msgspec

from ._errors import RemoteProtocolError
from ._events import (
    AddOrderStatus,
    AmendOrderStatus,
    CancelAllOrdersAfterStatus,
    CancelAllStatus,
    CancelOrderStatus,
    Contingent,
    EditOrderStatus,
    ErrorEvent,
    Event,
    Heartbeat,
    OpenOrders,
    OrderDescr,
    OrderRecord,
    OwnTrades,
    PingStatus,
    Pong,
    SubscriptionStatus,
    SystemStatus,
    Trade,
    UnknownMessage,
)

__all__ = ["decode"]

_TAGGED_EVENTS: tuple[type[Event], ...] = (
    SystemStatus,
    Heartbeat,
    Pong,
    SubscriptionStatus,
    AddOrderStatus,
    EditOrderStatus,
    AmendOrderStatus,
    CancelOrderStatus,
    CancelAllStatus,
    CancelAllOrdersAfterStatus,
    ErrorEvent,
    PingStatus,
)
_EVENT_BY_NAME: dict[str, type[Event]] = {
    msgspec.inspect.type_info(cls).tag: cls  # type: ignore[attr-defined]
    for cls in _TAGGED_EVENTS
}


class _Sequence(msgspec.Struct, frozen=True):
    sequence: int | None = None


_frame_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
    Union[(*_TAGGED_EVENTS, list[msgspec.Raw])]  # type: ignore[valid-type]  # noqa: UP007
)
_name_decoder = msgspec.json.Decoder(str)
_sequence_decoder = msgspec.json.Decoder(_Sequence)
_trades_decoder = msgspec.json.Decoder(list[dict[str, Trade]])
_orders_decoder = msgspec.json.Decoder(list[dict[str, OrderRecord]])

_CHANNEL_RECORD: dict[str, type[msgspec.Struct]] = {"ownTrades": Trade, "openOrders": OrderRecord}


def _decimal_fields(struct: type[msgspec.Struct]) -> frozenset[str]:
    info = msgspec.inspect.type_info(struct)
    names = set()
    for field in info.fields:  # type: ignore[attr-defined]
        types = getattr(field.type, "types", (field.type,))
        if any(isinstance(t, msgspec.inspect.DecimalType) for t in types):
            names.add(field.encode_name)
    return frozenset(names)


_DECIMAL_FIELDS: dict[str, frozenset[str]] = {
    "ownTrades": _decimal_fields(Trade),
    "openOrders": _decimal_fields(OrderRecord),
}
_NESTED_DECIMAL_FIELDS: dict[str, frozenset[str]] = {
    "descr": _decimal_fields(OrderDescr),
    "contingent": _decimal_fields(Contingent),
}


def decode(frame: str | bytes) -> Event:
    """Decode one complete WebSocket text message from Kraken into a typed event.

    Returns an ``Event`` (``UnknownMessage`` for valid JSON this library does not know).
    Raises ``RemoteProtocolError`` naming what was wrong, and nothing else, for any input.
    """
    try:
        message = _frame_decoder.decode(frame)
    except (msgspec.DecodeError, TypeError, UnicodeError, RecursionError):
        return _decode_carefully(frame)
    if type(message) is not list:
        return message  # type: ignore[no-any-return]
    parts: list[msgspec.Raw] = message
    if len(parts) == 3:
        try:
            name = _name_decoder.decode(parts[1])
            sequence = _sequence_decoder.decode(parts[2]).sequence
            if name == "openOrders":
                orders = _orders_decoder.decode(parts[0])
                return OpenOrders(
                    orders=tuple([item for entry in orders for item in entry.items()]),
                    sequence=sequence,
                )
            if name == "ownTrades":
                trades = _trades_decoder.decode(parts[0])
                return OwnTrades(
                    trades=tuple([item for entry in trades for item in entry.items()]),
                    sequence=sequence,
                )
        except msgspec.DecodeError:
            pass
    return _decode_carefully(frame)


def _decode_carefully(frame: object) -> Event:
    """The slow path: lenient repairs, UnknownMessage, or a RemoteProtocolError with a path."""
    if not isinstance(frame, str | bytes | bytearray | memoryview):
        raise RemoteProtocolError(f"frame must be str or bytes, got {type(frame).__name__}")
    try:
        data = msgspec.json.decode(frame)
    except msgspec.DecodeError as exc:
        raise RemoteProtocolError(f"frame is not valid JSON: {exc}") from None
    except UnicodeError:
        raise RemoteProtocolError("frame is not valid UTF-8 text") from None
    except RecursionError:
        raise RemoteProtocolError("frame is nested too deeply") from None
    if isinstance(data, dict):
        return _event_from_object(data)
    if isinstance(data, list) and len(data) in (2, 3) and data[1] in _CHANNEL_RECORD:
        return _channel_from_array(data)
    return UnknownMessage(data=data)


def _event_from_object(data: dict[str, Any]) -> Event:
    name = data.get("event")
    cls = _EVENT_BY_NAME.get(name) if isinstance(name, str) else None
    if cls is None:
        return UnknownMessage(data=data)
    reqid = data.get("reqid")
    # A reqid the server could not parse is echoed back as sent; it cannot be one of ours.
    if cls not in (ErrorEvent, PingStatus) and not (reqid is None or type(reqid) is int):
        data["reqid"] = None
    count = data.get("count")
    if cls is CancelAllStatus and isinstance(count, str) and count.isdigit():
        data["count"] = int(count)
    try:
        return msgspec.convert(data, cls)
    except msgspec.ValidationError as exc:
        raise RemoteProtocolError(f"malformed {name} message: {exc}") from None


def _channel_from_array(data: list[Any]) -> Event:
    channel: str = data[1]
    sequence: int | None = None
    if len(data) == 3:
        try:
            sequence = msgspec.convert(data[2], _Sequence).sequence
        except msgspec.ValidationError as exc:
            raise RemoteProtocolError(f"malformed {channel} frame at $[2]: {exc}") from None
    payload = data[0]
    if not isinstance(payload, list):
        raise RemoteProtocolError(f"malformed {channel} frame: $[0] must be an array")
    record_type = _CHANNEL_RECORD[channel]
    decimals = _DECIMAL_FIELDS[channel]
    items: list[tuple[str, Any]] = []
    for index, entry in enumerate(payload):
        if not isinstance(entry, dict):
            raise RemoteProtocolError(f"malformed {channel} frame: $[0][{index}] must be an object")
        for key, record in entry.items():
            path = f"$[0][{index}][{key!r}]"
            if isinstance(record, dict):
                _blank_to_none(record, decimals)
                for nested, nested_decimals in _NESTED_DECIMAL_FIELDS.items():
                    if isinstance(record.get(nested), dict):
                        _blank_to_none(record[nested], nested_decimals)
            try:
                items.append((key, msgspec.convert(record, record_type)))
            except msgspec.ValidationError as exc:
                detail = str(exc).replace("`$", f"`{path}")
                if "`" not in detail:
                    detail = f"{detail} - at `{path}`"
                raise RemoteProtocolError(f"malformed {channel} frame: {detail}") from None
    if channel == "ownTrades":
        return OwnTrades(trades=tuple(items), sequence=sequence)
    return OpenOrders(orders=tuple(items), sequence=sequence)


def _blank_to_none(record: dict[str, Any], decimals: frozenset[str]) -> None:
    """Kraken sometimes sends ``""`` for a number it has no value for: that means absent."""
    for name in decimals:
        if record.get(name) == "":
            record[name] = None
