"""A short ownTrades frame (an update: one fill, or a few), read with its numbers as text first.

A fill's numbers (time, price, cost, fee, volume, margin) seldom repeat, so the memo that makes
order numbers cheap does not help them, and a msgspec hook per number (a Python call, a
``Decimal``, the Kraken-text check) cost ~450 ns each: two thirds of decoding a fill. Here
msgspec reads the frame with those fields as plain ``str`` (in C), then each record's number
texts are checked together and become ``Decimal`` in one pass:

* every text is read by ``Decimal()`` (which refuses most garbage: ``""``, ``"1.2.3"``, ``"-"``,
  ``"5-"``, a ``","`` inside a text);
* the texts joined by ``","`` must have a valid *shape*: with each ASCII digit written ``0``,
  every other byte but ``-`` ``.`` ``,`` written ``x``, the joined shape must match
  ``-?0+(\\.0+)?`` separated by commas. That is ``NUMBER_TEXT`` with its digits erased, so a
  text passes both tests exactly when it is Kraken's number text (``Decimal()`` accepts
  ``".5"``, ``"5."``, ``"1e5"``, ``" 1"``, ``"NaN"``, ``"1_0"``, non-ASCII digits: each has a
  shape the pattern refuses). A joined ``"1,2"`` may have a valid shape, but
  ``Decimal("1,2")`` refuses it.

Valid shapes are remembered (a fill's shapes repeat while its digits do not), so the check is
usually one translate and one set lookup for all the record's numbers. The set is bounded (short
shapes only, and it starts over when full), so a peer sending new shapes costs time per frame,
never memory.

``read_trade_update`` gives the event the typed hook decoder would. What it does not take, it
leaves to the caller's careful path (which accepts or names the fault): it returns ``None`` for
a number text that is not Kraken's, and raises ``msgspec.DecodeError`` for what msgspec refuses
(a JSON number where it reads text, any other shape) or ``ArithmeticError`` for a text
``Decimal()`` refuses, as the typed decoders do.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

import msgspec

from kraken_proto._numbers import KrakenFreshNumber, KrakenNumber

from ._channel_frame import NO_SEQUENCE, ONE_ID, ChannelMeta
from ._events import OwnTrades, Trade

__all__ = ["NUMBER_FIELDS", "read_trade_update"]

_NUMBER_TYPES: Final = (KrakenNumber | None, KrakenFreshNumber | None)

NUMBER_FIELDS: Final = tuple(
    field.name for field in msgspec.structs.fields(Trade) if field.type in _NUMBER_TYPES
)
"""Trade's number fields, in declaration order: read here as text, then as ``Decimal``."""

# Trade's fields with every number field as plain text: msgspec reads the rest as Trade does.
_TradeText: Any = msgspec.defstruct(
    "_TradeText",
    [
        (field.name, str | None if field.name in NUMBER_FIELDS else field.type, None)
        for field in msgspec.structs.fields(Trade)
    ],
    kw_only=True,
    frozen=True,
    gc=False,
)


class _TradesText(msgspec.Struct, array_like=True, gc=False):
    payload: list[Annotated[dict[str, _TradeText], ONE_ID]]
    channel: Literal["ownTrades"]
    meta: ChannelMeta = NO_SEQUENCE


_decode_text = msgspec.json.Decoder(_TradesText).decode

# Digits -> "0"; "-", "." and "," kept; every other byte (letters, spaces, "_", "+", the bytes
# of non-ASCII characters) -> "x", which no valid shape holds.
_SHAPE_OF = bytes(
    ord("0") if byte in b"0123456789" else byte if byte in b"-.," else ord("x")
    for byte in range(256)
)
_VALID_SHAPE = re.compile(rb"-?0+(?:\.0+)?(?:,-?0+(?:\.0+)?)*").fullmatch
_MOST_SHAPES: Final = 1024
"""At most this many valid shapes are remembered (then the set starts over)."""
_LONGEST_SHAPE: Final = 128
"""Longer shapes are checked each time, never remembered (a fill's six numbers make ~70
bytes), so the set holds at most ~150 KiB whatever a peer sends."""
_shapes: set[bytes] = set()


def _learn_shape(shape: bytes, /, _known: Any = _shapes) -> bool:
    """Whether ``shape`` (of number texts joined by ``","``) is valid; remember it if so."""
    if _VALID_SHAPE(shape) is None:
        return False
    if len(shape) > _LONGEST_SHAPE:
        return True
    if len(_known) >= _MOST_SHAPES:
        _known.clear()  # start over: the shapes in use come back in at once
    _known.add(shape)
    return True


def _trade(
    text: Any,
    /,
    _decimal: type[Decimal] = Decimal,
    _join: Any = ",".join,
    _shape_of: bytes = _SHAPE_OF,
    _known: Any = _shapes,
) -> Trade | None:
    """The Trade for one record read as text, or None when a number text is not Kraken's.
    (The defaulted parameters are local names for the hot path.)"""
    numbers = (text.cost, text.fee, text.margin, text.price, text.time, text.vol)
    if None in numbers:  # a field the record does not hold stays None
        present = [number for number in numbers if number is not None]
        if present:
            shape = _join(present).encode().translate(_shape_of)
            if shape not in _known and not _learn_shape(shape):
                return None
        cost, fee, margin, price, time, vol = [
            None if number is None else _decimal(number) for number in numbers
        ]
    else:
        shape = _join(numbers).encode().translate(_shape_of)
        if shape not in _known and not _learn_shape(shape):
            return None
        cost, fee, margin, price, time, vol = map(_decimal, numbers)
    return Trade(  # keywords in field order
        cl_ord_id=text.cl_ord_id,
        cost=cost,
        ext_exec_id=text.ext_exec_id,
        fee=fee,
        margin=margin,
        margin_borrow=text.margin_borrow,
        ordertxid=text.ordertxid,
        ordertype=text.ordertype,
        pair=text.pair,
        postxid=text.postxid,
        price=price,
        time=time,
        type=text.type,
        userref=text.userref,
        vol=vol,
    )


def read_trade_update(frame: str | bytes) -> OwnTrades | None:
    """The ``OwnTrades`` event of a short ownTrades frame, or ``None`` for a frame this reader
    does not take (the caller's careful path then decides). Raises ``msgspec.DecodeError``
    (or ``ArithmeticError``, ``UnicodeError``) as the typed decoders do for input msgspec
    refuses; the caller treats those the same way."""
    frame_text = _decode_text(frame)
    entries = frame_text.payload
    if len(entries) == 1:  # most updates: one fill
        trade_id, text = entries[0].popitem()
        trade = _trade(text)
        if trade is None:
            return None
        return OwnTrades(trades=((trade_id, trade),), sequence=frame_text.meta.sequence)
    pairs = []
    for entry in entries:
        trade_id, text = entry.popitem()
        trade = _trade(text)
        if trade is None:
            return None
        pairs.append((trade_id, trade))
    return OwnTrades(trades=tuple(pairs), sequence=frame_text.meta.sequence)
