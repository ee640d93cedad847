"""Fuzz targets ``decode`` and ``decode_v2``: the decoders' one invariant.

Any input either decodes to an ``Event`` or raises ``RemoteProtocolError`` with a message,
nothing else. Each input is fed whole, as ``bytes`` and as ``str`` (decoded with
``surrogateescape``, so invalid UTF-8 turns into lone surrogates and exercises that path too).
Seeds: every documented frame (``V1_EXAMPLE_FRAMES``/``V2_EXAMPLE_FRAMES``) and a few shapes
that once broke a decoder.
"""

from __future__ import annotations

import kraken_proto
from kraken_proto import v2
from kraken_proto.testing._contract import decode_or_error
from kraken_proto.testing._examples import V1_EXAMPLE_FRAMES, V2_EXAMPLE_FRAMES

from ._core import FuzzTarget

__all__ = ["DECODE", "DECODE_V2", "check_decode", "check_decode_v2"]

V1_TOKENS: tuple[bytes, ...] = (
    b'"event"',
    b'"openOrders"',
    b'"ownTrades"',
    b'{"sequence":1}',
    b'"reqid":"a"',
    b'"count":"7"',
    b'"price":""',
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
)
V2_SEEDS: tuple[bytes, ...] = (*V2_EXAMPLE_FRAMES, b"{" * 5000)


def check_decode(data: bytes) -> None:
    """Feed ``data`` to ``kraken_proto.decode`` whole, as bytes and as text; raise
    ``AssertionError`` if anything but an Event or a RemoteProtocolError comes out."""
    for frame in (data, data.decode("utf-8", "surrogateescape")):
        # Looked up at call time, so a test can swap in a broken decoder.
        decode_or_error(kraken_proto.decode, frame)


def check_decode_v2(data: bytes) -> None:
    """As ``check_decode``, for ``kraken_proto.v2.decode``."""
    for frame in (data, data.decode("utf-8", "surrogateescape")):
        decode_or_error(v2.decode, frame)


DECODE = FuzzTarget("decode", check_decode, lambda: V1_SEEDS, V1_TOKENS, max_len=8192)
"""``kraken_proto.decode``: an ``Event`` or ``RemoteProtocolError``, as bytes and as ``str``."""
DECODE_V2 = FuzzTarget("decode_v2", check_decode_v2, lambda: V2_SEEDS, V2_TOKENS, max_len=8192)
"""``kraken_proto.v2.decode``: the same invariant."""
