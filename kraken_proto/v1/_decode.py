"""``decode``: one Kraken v1 frame in, one typed event out. Stateless; the hot path.

The fast path is a single typed msgspec decode of the whole frame: control events are a union
tagged by ``"event"``, and a channel frame (``[payload, "openOrders", {"sequence": N}]``) is
recognised by the first letter of its first id (or else by peeking at the channel name near its
end) and decoded in one pass into its records (a short ownTrades frame, an update, is read with
its numbers as text and then checked: ``_trade_text``).
Anything the fast path rejects goes through a slow, careful path that tolerates Kraken's known
looseness (``""`` for an absent number, a numeric string ``count``, a non-integer ``reqid``
echoed in an error), returns ``UnknownMessage`` for valid JSON it does not recognise, and
otherwise raises ``RemoteProtocolError`` naming the JSON path. Both paths give equal events for
every valid UTF-8 frame the fast path accepts (msgspec skips an unknown key without checking its
bytes; the careful path refuses invalid UTF-8 anywhere), and a frame gives the same outcome as
``str`` and as UTF-8 ``bytes``. Number fields take only Kraken's number text or a JSON number
(``_numbers``); a number past what this decoder can hold is ignored in an unknown field, like
anything there, and is a ``RemoteProtocolError`` in a known field or in a message this decoder
does not know.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

import msgspec

from kraken_proto._errors import RemoteProtocolError
from kraken_proto._numbers import json_number, load_json, memo_hook, number_hook
from kraken_proto._repairs import _repair, _Repairs, _repairs

from ._channel_frame import NO_SEQUENCE, ONE_ID, ChannelMeta
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
from ._trade_text import read_trade_update as _read_trade_update

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


class _OpenOrdersFrame(msgspec.Struct, array_like=True, gc=False):
    payload: list[Annotated[dict[str, OrderRecord], ONE_ID]]
    channel: Literal["openOrders"]
    # Absent in frames from very old service versions: ``[[...], "openOrders"]``.
    meta: ChannelMeta = NO_SEQUENCE


class _OwnTradesFrame(msgspec.Struct, array_like=True, gc=False):
    payload: list[Annotated[dict[str, Trade], ONE_ID]]
    channel: Literal["ownTrades"]
    meta: ChannelMeta = NO_SEQUENCE


_event_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
    Union[_TAGGED_EVENTS]  # noqa: UP007
)
# Number fields go through memo_hook (number_hook's answer: text checked, then Decimal; a text
# seen before comes from the memo in C); a JSON number there reaches it as an exact Decimal
# through float_hook (json_number: Decimal(text), from a memo of JSON number texts in C).
_open_orders_decoder = msgspec.json.Decoder(
    _OpenOrdersFrame, dec_hook=memo_hook, float_hook=json_number
)
_own_trades_decoder = msgspec.json.Decoder(
    _OwnTradesFrame, dec_hook=memo_hook, float_hook=json_number
)
# The hot path calls these bound methods: looking ``decode`` up on a Decoder at each call costs
# more than the rest of the routing (CPython 3.11 builds a bound method every time).
_decode_open_orders = _open_orders_decoder.decode
_decode_own_trades = _own_trades_decoder.decode
_decode_event = _event_decoder.decode
# A short ownTrades frame (an update: one fill, or a few) is read by ``read_trade_update``:
# its numbers as text in C, then checked and made Decimal in one pass per record (a fill's
# numbers seldom repeat, so the memo cannot help them, and a hook per number costs more than
# the Decimal it makes). A longer one (a snapshot, which Kraken sends again on each
# subscription) goes through the memo. Both give the same event; the length only picks the
# cheaper reader.
_TRADE_UPDATE_BYTES = 2048

# Routes: which decoder a frame goes to.
_OPEN_ORDERS, _OWN_TRADES, _EVENT = 1, 2, 3
# Kraken's ids tell a channel frame's kind before its channel name does: order txids start
# with "O", trade ids with "T", and in a compact frame (``[[{"OGTT3Y-...``) the id starts at
# the fifth character. ``frame[4]`` is a small int for bytes and a cached one-character str
# for text (no allocation either way), so this guess costs a comparison or two. It is only a
# guess: the decoder still checks the channel name, and a frame it gets wrong takes the
# careful path (slower, same result).
_O, _T = ord("O"), ord("T")
# Otherwise the channel name sits in the last few dozen characters of a channel frame
# (``,"openOrders",{"sequence":18446744073709551615}]`` is 48).
_TAIL = 64
# Searched with ``rfind(name, -_TAIL)``: much cheaper than ``name in frame[-_TAIL:]``.
_BYTES_OPEN_ORDERS, _BYTES_OWN_TRADES = b'"openOrders"', b'"ownTrades"'
_TEXT_OPEN_ORDERS, _TEXT_OWN_TRADES = '"openOrders"', '"ownTrades"'

_CHANNEL_RECORD: dict[str, type[msgspec.Struct]] = {"ownTrades": Trade, "openOrders": OrderRecord}
_COUNT = re.compile(r"[0-9]{1,20}")
_popitem = dict.popitem


_RECORD_REPAIRS: dict[str, _Repairs] = {
    "ownTrades": _repairs(Trade),
    "openOrders": _repairs(OrderRecord),
}
_NESTED_REPAIRS: dict[str, _Repairs] = {
    "descr": _repairs(OrderDescr),
    "contingent": _repairs(Contingent),
}


def decode(frame: str | bytes) -> Event:
    """Decode one complete WebSocket text message from Kraken into a typed event.

    ``frame`` is the message as ``str`` or UTF-8 ``bytes``. Returns an ``Event``:
    ``UnknownMessage`` for valid JSON that is not a Kraken v1 private message this library
    knows. Raises ``RemoteProtocolError`` naming what was wrong, and nothing else, for any
    input whatsoever. Stateless: the same frame always gives an equal event.
    """
    if type(frame) is not bytes:
        if type(frame) is not str:
            return _decode_carefully(frame)
        if not frame.isascii():
            # Route on the UTF-8 bytes, so the fifth-byte and tail-window guesses below are
            # the same for text and bytes (they count characters in one, bytes in the other).
            try:
                frame = frame.encode()
            except UnicodeEncodeError:
                return _decode_carefully(frame)
    try:
        fifth = frame[4]
        # Compared with the int (bytes) and then the one-character str (text): an int never
        # equals a str, and no bytes object is compared with a str (no BytesWarning under -b).
        if fifth == _O or fifth == "O":
            route = _OPEN_ORDERS
        elif fifth == _T or fifth == "T":
            route = _OWN_TRADES
        else:
            route = _route_by_channel_name(frame)
        if route is _OPEN_ORDERS:
            orders = _decode_open_orders(frame)
            entries = orders.payload
            # One entry (most updates) skips the map machinery.
            pairs = (entries[0].popitem(),) if len(entries) == 1 else tuple(map(_popitem, entries))
            return OpenOrders(orders=pairs, sequence=orders.meta.sequence)
        if route is _OWN_TRADES:
            if len(frame) <= _TRADE_UPDATE_BYTES:
                update = _read_trade_update(frame)
                if update is None:  # a number it does not take: the careful path judges
                    return _decode_carefully(frame)
                return update
            trades = _decode_own_trades(frame)
            trade_entries = trades.payload
            trade_pairs = (
                (trade_entries[0].popitem(),)
                if len(trade_entries) == 1
                else tuple(map(_popitem, trade_entries))
            )
            return OwnTrades(trades=trade_pairs, sequence=trades.meta.sequence)
        return _decode_event(frame)  # type: ignore[no-any-return]
    except (msgspec.DecodeError, UnicodeError, RecursionError, ArithmeticError):
        pass  # ArithmeticError: float_hook met an exponent past Decimal's range
    except IndexError:  # shorter than five: no channel frame, let the decoders judge it
        return _decode_after_short_head(frame)
    return _decode_carefully(frame)


def _decode_after_short_head(frame: str | bytes) -> Event:
    """A frame of fewer than five characters: only the event decoder can take it."""
    try:
        return _decode_event(frame)  # type: ignore[no-any-return]
    except (msgspec.DecodeError, UnicodeError, RecursionError, ArithmeticError):
        pass
    return _decode_carefully(frame)


def _route_by_channel_name(frame: str | bytes) -> int:
    """The route of a frame whose head did not tell: an object is an event, else look for the
    channel name near the end."""
    open_orders: Any
    own_trades: Any
    if type(frame) is bytes:
        if frame[:1] == b"{":
            return _EVENT
        open_orders, own_trades = _BYTES_OPEN_ORDERS, _BYTES_OWN_TRADES
    else:
        if frame[:1] == "{":
            return _EVENT
        open_orders, own_trades = _TEXT_OPEN_ORDERS, _TEXT_OWN_TRADES
    if frame.rfind(open_orders, -_TAIL) > 0:
        return _OPEN_ORDERS
    if frame.rfind(own_trades, -_TAIL) > 0:
        return _OWN_TRADES
    return _EVENT


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
        return _event_from_data(data)
    # A number past Decimal's range is fine in a field no event has (the fast path skips
    # those unread); anywhere else it is an error.
    try:
        event = _event_from_data(data)
    except RemoteProtocolError as error:
        raise RemoteProtocolError(f"{error} (the frame holds {_TOO_LARGE})") from None
    if type(event) is UnknownMessage:
        raise RemoteProtocolError(f"frame holds {_TOO_LARGE}")
    return event


_TOO_LARGE = "a number too large to represent"


def _event_from_data(data: Any) -> Event:
    if type(data) is dict:
        return _event_from_object(data)
    if (
        type(data) is list
        and len(data) >= 2
        and type(data[1]) is str
        and data[1] in _CHANNEL_RECORD
    ):
        return _channel_from_array(data)
    return UnknownMessage(data=data)


def _event_from_object(data: dict[str, Any]) -> Event:
    name = data.get("event")
    cls = _EVENT_BY_NAME.get(name) if type(name) is str else None
    if cls is None:
        return UnknownMessage(data=data)
    reqid = data.get("reqid")
    # A reqid the server could not parse is echoed back as sent; it cannot be one of ours.
    # Error events keep a string one (it names the bad request); anything else is dropped.
    if not (reqid is None or type(reqid) is int) and (
        cls not in (ErrorEvent, PingStatus) or type(reqid) is not str
    ):
        data["reqid"] = None
    count = data.get("count")
    if cls is CancelAllStatus and type(count) is str and _COUNT.fullmatch(count):
        data["count"] = int(count)
    try:
        return msgspec.convert(data, cls)
    except msgspec.ValidationError as exc:
        raise RemoteProtocolError(f"malformed {name} message: {exc}") from None


def _channel_from_array(data: list[Any]) -> Event:
    channel: str = data[1]
    sequence: int | None = None
    # Elements after the third are ignored like unknown fields (as the fast path does).
    if len(data) >= 3:
        try:
            sequence = msgspec.convert(data[2], ChannelMeta).sequence
        except msgspec.ValidationError as exc:
            raise RemoteProtocolError(
                f"malformed {channel} frame: {_at_path(exc, '$[2]')}"
            ) from None
    payload = data[0]
    if type(payload) is not list:
        raise RemoteProtocolError(f"malformed {channel} frame: $[0] must be an array")
    record_type = _CHANNEL_RECORD[channel]
    repairs = _RECORD_REPAIRS[channel]
    items: list[tuple[str, Any]] = []
    for index, entry in enumerate(payload):
        if type(entry) is not dict:
            raise RemoteProtocolError(f"malformed {channel} frame: $[0][{index}] must be an object")
        for key, record in entry.items():
            if type(record) is dict:
                _repair(record, repairs)
                for nested, nested_repairs in _NESTED_REPAIRS.items():
                    if type(record.get(nested)) is dict:
                        _repair(record[nested], nested_repairs)
            try:
                items.append((key, msgspec.convert(record, record_type, dec_hook=number_hook)))
            except msgspec.ValidationError as exc:
                raise RemoteProtocolError(
                    f"malformed {channel} frame: {_at_path(exc, f'$[0][{index}][{key!r}]')}"
                ) from None
    if channel == "ownTrades":
        return OwnTrades(trades=tuple(items), sequence=sequence)
    return OpenOrders(orders=tuple(items), sequence=sequence)


def _at_path(error: msgspec.ValidationError, path: str) -> str:
    """Rewrite msgspec's error so its JSON path starts at ``path`` in the whole frame."""
    message = str(error)
    if "`$" in message:
        return message.replace("`$", f"`{path}", 1)
    return f"{message} - at `{path}`"
