"""``decode`` for WebSocket v2: one frame in, one typed event out. Stateless; the hot path.

The fast path is a single typed msgspec decode: a frame whose third character is ``c`` (it
starts ``{"channel"``) goes to the union of channel pushes (tagged by ``channel``), any other
to the union of method replies (tagged by ``method``; ``method: "error"`` and an error naming
a method without a reply class of its own are an ``ErrorReply``). JSON numbers land in
``Decimal`` fields straight from their digits, never through a float. Anything the fast path
rejects goes through a careful path that mends Kraken's known looseness (``""`` for an absent
number, an int or bool sent as text, a ``req_id`` echoed as a string), returns
``UnknownMessage`` for valid JSON it does not know, and otherwise raises
``RemoteProtocolError`` naming the JSON path. Both paths give equal events for every frame the
fast path accepts, and a frame gives the same outcome as ``str`` and as UTF-8 ``bytes``. A
number sent as text must be Kraken's number text (``_numbers``); a number past what this
decoder can hold is ignored in an unknown field, like anything there, and is a
``RemoteProtocolError`` in a known field or in a message this decoder does not know.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Union

import msgspec

from kraken_proto._errors import RemoteProtocolError
from kraken_proto._event_base import Event, UnknownMessage
from kraken_proto._numbers import json_number, json_number_hook, load_json, number_hook
from kraken_proto._repairs import _repair, _Repairs, _repairs

from ._events import (
    AddOrderReply,
    AmendOrderReply,
    BalanceRecord,
    Balances,
    BatchAddReply,
    BatchCancelReply,
    CancelAllOrdersAfterReply,
    CancelAllReply,
    CancelOrderReply,
    ChannelPush,
    EditOrderReply,
    ErrorReply,
    Execution,
    ExecutionContingent,
    Executions,
    ExecutionTriggers,
    Fee,
    Heartbeat,
    MethodReply,
    Pong,
    Status,
    StatusRecord,
    SubscribeReply,
    UnsubscribeReply,
    Wallet,
)

__all__ = ["decode"]

_REPLIES: tuple[type[MethodReply], ...] = (
    SubscribeReply,
    UnsubscribeReply,
    AddOrderReply,
    AmendOrderReply,
    EditOrderReply,
    CancelOrderReply,
    CancelAllReply,
    CancelAllOrdersAfterReply,
    BatchAddReply,
    BatchCancelReply,
    Pong,
    ErrorReply,
)
_PUSHES: tuple[type[ChannelPush], ...] = (Executions, Balances, Status, Heartbeat)
_REPLY_BY_METHOD: dict[str, type[MethodReply]] = {cls.method_name: cls for cls in _REPLIES}
_PUSH_BY_CHANNEL: dict[str, type[ChannelPush]] = {cls.channel_name: cls for cls in _PUSHES}


# Number fields go through _number_hook (number_hook, with JSON numbers first, then integers:
# v2 sends numbers as JSON numbers): a JSON number with a fraction arrives as an exact Decimal
# (float_hook=json_number: Decimal(text), from a memo in C for a short text seen before) and is
# returned as it is, an int becomes an exact Decimal, text is checked before it becomes one.
# (A decoder with no dec_hook, letting msgspec's own isinstance check accept those Decimals, is
# faster on frames whose numbers all have a fraction, but an integer such as Kraken's
# ``"cum_qty":0`` fails it, and decoding such a frame twice costs more than the hook saves.)
_SMALL_INTEGERS = {whole: Decimal(whole) for whole in range(-8, 1025)}


def _number_hook(
    kind: type,
    value: Any,
    /,
    _decimal: type[Decimal] = Decimal,
    _int: type[int] = int,
    _hook: Any = json_number_hook,
    _small: dict[int, Decimal] = _SMALL_INTEGERS,
) -> Decimal:
    """``json_number_hook`` with v2's integer case (``"cum_qty":0``, four of them in a cancel)
    answered here, as ``number_hook`` answers it (a small one from a table of the same
    ``Decimal``), instead of two calls further down. (The defaulted parameters are local
    names; pass only two arguments.)"""
    kind_of = type(value)
    if kind_of is _decimal:
        return value  # type: ignore[no-any-return]
    if kind_of is _int:
        number = _small.get(value)
        return _decimal(value) if number is None else number
    return _hook(kind, value)  # type: ignore[no-any-return]


_reply_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
    Union[_REPLIES],  # noqa: UP007
    dec_hook=_number_hook,
    float_hook=json_number,
)
_push_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
    Union[_PUSHES],  # noqa: UP007
    dec_hook=_number_hook,
    float_hook=json_number,
)

# A push starts ``{"channel"``, a reply ``{"method"``: the third character routes a frame.
# ``frame[2]`` is an int for bytes and a one-character str for text (int and str keys never
# compare equal, so one table serves both, with no bytes-with-str comparison). A frame routed
# to the wrong union fails there and takes the careful path, which routes by the same test.
_PUSH_BY_THIRD: dict[int | str, bool] = {ord("c"): True, "c": True}
# The hot path calls bound methods: looking ``decode`` up on a Decoder at each call costs more
# than the routing (CPython 3.11 builds a bound method every time).
_decode_push = _push_decoder.decode
_decode_reply = _reply_decoder.decode

# What the careful path may mend, per record kind, and in the records nested in each.
_RECORD_REPAIRS: dict[str, _Repairs] = {
    "executions": _repairs(Execution),
    "balances": _repairs(BalanceRecord),
    "status": _repairs(StatusRecord),
}
_NESTED_OBJECT_REPAIRS: dict[str, _Repairs] = {
    "triggers": _repairs(ExecutionTriggers),
    "contingent": _repairs(ExecutionContingent),
}
_NESTED_ARRAY_REPAIRS: dict[str, _Repairs] = {"fees": _repairs(Fee), "wallets": _repairs(Wallet)}
_REQ_ID_TEXT = re.compile(r"[0-9]{1,10}")


def decode(frame: str | bytes) -> Event:
    """Decode one complete WebSocket v2 text message from Kraken into a typed event.

    ``frame`` is the message as ``str`` or UTF-8 ``bytes``. Returns an ``Event``: a
    ``MethodReply`` subclass, a ``ChannelPush`` subclass, or ``UnknownMessage`` for valid
    JSON that is not a v2 message this library knows. Raises ``RemoteProtocolError`` naming
    what was wrong, and nothing else, for any input whatsoever. Stateless.
    """
    kind = type(frame)
    if kind is not bytes and kind is not str:
        return _decode_carefully(frame)
    try:
        if frame[2] in _PUSH_BY_THIRD:
            return _decode_push(frame)  # type: ignore[no-any-return]
        return _decode_reply(frame)  # type: ignore[no-any-return]
    except (msgspec.DecodeError, UnicodeError, RecursionError, ArithmeticError, IndexError):
        # ArithmeticError: float_hook met an exponent past Decimal's range; IndexError: a
        # frame of fewer than three characters
        pass
    return _decode_carefully(frame)


def _starts_as_push(frame: str | bytes | bytearray | memoryview) -> bool:
    """The fast path's routing test, so the careful path routes an ambiguous frame the same."""
    return len(frame) > 2 and frame[2] in _PUSH_BY_THIRD


def _decode_carefully(frame: object) -> Event:
    """The slow path: lenient repairs, UnknownMessage, or a RemoteProtocolError with a path."""
    if not isinstance(frame, str | bytes | bytearray | memoryview):
        raise RemoteProtocolError(f"frame must be str or bytes, got {type(frame).__name__}")
    try:
        data, out_of_range = load_json(frame)
    except msgspec.DecodeError as exc:
        raise RemoteProtocolError(f"frame is not JSON this decoder accepts: {exc}") from None
    except UnicodeError:
        raise RemoteProtocolError("frame is not valid UTF-8 text") from None
    except RecursionError:
        raise RemoteProtocolError("frame is nested too deeply") from None
    if not out_of_range:
        return _event_from_data(frame, data)
    # A number past Decimal's range is fine in a field no event has (the fast path skips
    # those unread); anywhere else it is an error.
    try:
        event = _event_from_data(frame, data)
    except RemoteProtocolError as error:
        raise RemoteProtocolError(f"{error} (the frame holds {_TOO_LARGE})") from None
    if type(event) is UnknownMessage:
        raise RemoteProtocolError(f"frame holds {_TOO_LARGE}")
    return event


_TOO_LARGE = "a number too large to represent"


def _event_from_data(frame: str | bytes | bytearray | memoryview, data: Any) -> Event:
    if type(data) is not dict:
        return UnknownMessage(data=data)
    channel, method = data.get("channel"), data.get("method")
    push_class = _PUSH_BY_CHANNEL.get(channel) if type(channel) is str else None
    reply_class = _REPLY_BY_METHOD.get(method) if type(method) is str else None
    if push_class is not None and (reply_class is None or _starts_as_push(frame)):
        return _push_from_object(data, push_class)
    if reply_class is not None:
        return _reply_from_object(data, reply_class)
    if type(method) is str and type(data.get("error")) is str:
        # An error answer to a method without a reply class of its own (a ping sent with
        # params): an ErrorReply that remembers which method the frame named.
        data["for_method"] = method
        data["method"] = ErrorReply.method_name
        return _reply_from_object(data, ErrorReply)
    return UnknownMessage(data=data)


def _reply_from_object(data: dict[str, Any], cls: type[MethodReply]) -> Event:
    req_id = data.get("req_id")
    # The official SDK saw a req_id come back as a string; its digits still name our request.
    # Any other non-integer cannot be one of ours, so it is dropped rather than failing the
    # connection.
    if type(req_id) is str and _REQ_ID_TEXT.fullmatch(req_id):
        data["req_id"] = int(req_id)
    elif not (req_id is None or type(req_id) is int):
        data["req_id"] = None
    return _convert(data, cls)


def _push_from_object(data: dict[str, Any], cls: type[ChannelPush]) -> Event:
    repairs = _RECORD_REPAIRS.get(cls.channel_name)
    records = data.get("data")
    if repairs is not None and type(records) is list:
        for record in records:
            if type(record) is dict:
                _repair_record(record, repairs)
    return _convert(data, cls)


def _repair_record(record: dict[str, Any], repairs: _Repairs) -> None:
    _repair(record, repairs)
    for name, nested_repairs in _NESTED_OBJECT_REPAIRS.items():
        nested = record.get(name)
        if type(nested) is dict:
            _repair(nested, nested_repairs)
    for name, nested_repairs in _NESTED_ARRAY_REPAIRS.items():
        items = record.get(name)
        if type(items) is list:
            for item in items:
                if type(item) is dict:
                    _repair(item, nested_repairs)


def _convert(data: dict[str, Any], cls: type[Event]) -> Event:
    try:
        return msgspec.convert(data, cls, dec_hook=number_hook)
    except msgspec.ValidationError as exc:
        name = data.get("method") if issubclass(cls, MethodReply) else data.get("channel")
        raise RemoteProtocolError(f"malformed {name} message: {exc}") from None
