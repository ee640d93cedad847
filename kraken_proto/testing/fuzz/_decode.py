"""Fuzz targets ``decode`` and ``decode_v2``: the decoders' invariants.

Any input either decodes to an ``Event`` or raises ``RemoteProtocolError`` with a message,
nothing else; a valid UTF-8 input has the same outcome as ``bytes`` and as ``str``; every
``Decimal`` in an event is finite (Kraken's number text has no ``NaN`` or ``Infinity``). Each
input is fed whole, as ``bytes`` and as ``str`` (decoded with ``surrogateescape``, so invalid
UTF-8 turns into lone surrogates and exercises that path too).
Seeds: every documented frame (``V1_EXAMPLE_FRAMES``/``V2_EXAMPLE_FRAMES``) and a few shapes
that once broke a decoder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import msgspec

import kraken_proto
from kraken_proto import v2
from kraken_proto.testing._contract import decode_or_error
from kraken_proto.testing._examples import V1_EXAMPLE_FRAMES, V2_EXAMPLE_FRAMES
from kraken_proto.v1._decode import _decode_carefully
from kraken_proto.v2._decode import _decode_carefully as _decode_v2_carefully

from ._core import FuzzTarget

__all__ = ["DECODE", "DECODE_V2", "check_decode", "check_decode_v2", "check_decoder"]

V1_TOKENS: tuple[bytes, ...] = (
    b'"event"',
    b'"openOrders"',
    b'"ownTrades"',
    b'{"sequence":1}',
    b'"reqid":"a"',
    b'"count":"7"',
    b'"price":""',
    b'"price":"NaN"',
    b'"vol":"1_000"',
    b'"fee":" 1"',
    b'"\xd9\xa1"',
    b"1e99999999999999999999",
    b"7" * 4400,
    b'"status":"error"',
    b'"errorMessage"',
)
V1_SEEDS: tuple[bytes, ...] = (
    *V1_EXAMPLE_FRAMES,
    b"[" * 5000,
    b'{"event":"cancelAllStatus","status":"ok","count":"2"}',
    b'[[{"T":{"price":""}}],"ownTrades",{"sequence":1}]',
)
V2_TOKENS: tuple[bytes, ...] = (
    b'"channel"',
    b'"executions"',
    b'"balances"',
    b'"heartbeat"',
    b'"status"',
    b'"method"',
    b'"add_order"',
    b'"batch_add"',
    b'"req_id":',
    b'"success":false',
    b'"error":"',
    b'"type":"snapshot"',
    b'"type":"update"',
    b'"data":[',
    b'"exec_type":"trade"',
    b'"order_qty":',
    b'"limit_price":""',
    b'"limit_price":"NaN"',
    b'"cum_qty":"+1"',
    b'"\xef\xbc\x91"',
    b"1e99999999999999999999",
    b"7" * 4400,
)
V2_SEEDS: tuple[bytes, ...] = (*V2_EXAMPLE_FRAMES, b"{" * 5000)


def _decimals(node: Any) -> Iterator[Decimal]:
    if isinstance(node, Decimal):
        yield node
    elif isinstance(node, msgspec.Struct):
        for name in node.__struct_fields__:
            yield from _decimals(getattr(node, name))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from _decimals(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from _decimals(item)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _outcome(result: object) -> tuple[str, object]:
    """What a decode gave, comparable across paths and inputs: the error's text, or the
    event's class name and plain value."""
    if isinstance(result, kraken_proto.RemoteProtocolError):
        return ("error", str(result))
    return ("event", (type(result).__name__, msgspec.to_builtins(result)))


def check_decoder(decode: Callable[[Any], object], data: bytes) -> None:
    """The invariants of ``decode`` on ``data``, fed whole as bytes and as text; raise
    ``AssertionError`` when one does not hold."""
    outcomes: list[tuple[str, object]] = []
    for frame in (data, data.decode("utf-8", "surrogateescape")):
        result = decode_or_error(decode, frame)
        for number in _decimals(result):
            if not number.is_finite():
                raise AssertionError(f"decode gave {number!r} for {frame!r:.200}")
        outcomes.append(_outcome(result))
    if outcomes[0] != outcomes[1] and _is_utf8(data):
        raise AssertionError(f"bytes gave {outcomes[0]!r:.300}, text {outcomes[1]!r:.300}")


def check_decode(data: bytes) -> None:
    """Feed ``data`` to ``kraken_proto.decode`` whole, as bytes and as text; raise
    ``AssertionError`` if anything but an Event or a RemoteProtocolError comes out, if a valid
    UTF-8 input decodes differently as bytes and as text, if an event holds a Decimal that
    is not finite, or if a valid UTF-8 input the fast path decodes gives another event (or an
    error) on the careful path (``decode``'s promise; invalid UTF-8 is left out: msgspec's typed
    decoders skip an unknown key without checking its bytes, the careful path reads them)."""
    # Looked up at call time, so a test can swap in a broken decoder.
    check_decoder(kraken_proto.decode, data)
    check_paths_agree(kraken_proto.decode, _decode_carefully, data)


def check_paths_agree(
    fast: Callable[[Any], object], careful: Callable[[Any], object], data: bytes
) -> None:
    """Raise ``AssertionError`` when ``fast`` decodes ``data`` (valid UTF-8) to an event and
    ``careful`` gives another one or an error."""
    if not _is_utf8(data):
        return
    result = decode_or_error(fast, data)
    if isinstance(result, kraken_proto.RemoteProtocolError):
        return
    expected = _outcome(result)
    got = _outcome(decode_or_error(careful, data))
    if got != expected:
        raise AssertionError(f"fast path gave {expected!r:.300}, careful {got!r:.300}")


def check_decode_v2(data: bytes) -> None:
    """As ``check_decode``, for ``kraken_proto.v2.decode`` (and its careful path)."""
    check_decoder(v2.decode, data)
    check_paths_agree(v2.decode, _decode_v2_carefully, data)


DECODE = FuzzTarget("decode", check_decode, lambda: V1_SEEDS, V1_TOKENS, max_len=8192)
"""``kraken_proto.decode``: an ``Event`` or ``RemoteProtocolError``, as bytes and as ``str``."""
DECODE_V2 = FuzzTarget("decode_v2", check_decode_v2, lambda: V2_SEEDS, V2_TOKENS, max_len=8192)
"""``kraken_proto.v2.decode``: the same invariant."""
