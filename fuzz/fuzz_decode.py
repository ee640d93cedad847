"""Fuzz ``kraken_proto.decode`` for its invariants: any input either decodes to an ``Event``
or raises ``RemoteProtocolError``, nothing else; valid UTF-8 gives the same outcome as ``bytes``
and as ``str``; and every ``Decimal`` in an event is finite (no ``NaN``/``Infinity`` from text).

Each input is fed whole, as ``bytes`` and as ``str`` (decoded with ``surrogateescape``, so
invalid UTF-8 turns into lone surrogates and exercises that path too). Run it with
``python fuzz/fuzz_decode.py [--seconds N | --iterations N | FILE...]`` (see ``fuzz/_harness.py``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``fuzz`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kraken_proto
import msgspec
from tests.v1.fixtures_v1 import REAL_FRAMES

from fuzz._harness import Target, run

__all__ = ["SEEDS", "TARGET", "check", "check_decoder", "main"]

TOKENS: tuple[bytes, ...] = (
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
SEEDS: tuple[bytes, ...] = (
    *REAL_FRAMES,
    b"[" * 5000,
    b'{"event":"cancelAllStatus","status":"ok","count":"2"}',
    b'[[{"T":{"price":""}}],"ownTrades",{"sequence":1}]',
)


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


def check_decoder(decode: Callable[[str | bytes], object], data: bytes) -> None:
    """The invariants of ``decode`` on ``data``, fed whole as bytes and as text."""
    outcomes: list[tuple[str, Any]] = []
    for frame in (data, data.decode("utf-8", "surrogateescape")):
        try:
            event = decode(frame)
        except kraken_proto.RemoteProtocolError as error:
            outcomes.append(("error", str(error)))
            continue
        if not isinstance(event, kraken_proto.Event):
            raise AssertionError(f"decode returned {type(event).__name__} for {frame!r}")
        for number in _decimals(event):
            if not number.is_finite():
                raise AssertionError(f"decode gave {number!r} for {frame!r}")
        outcomes.append(("event", (type(event).__name__, msgspec.to_builtins(event))))
    if outcomes[0] != outcomes[1] and _is_utf8(data):
        raise AssertionError(f"bytes gave {outcomes[0]!r}, text {outcomes[1]!r}")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check(data: bytes) -> None:
    """Fail if anything but an Event or a RemoteProtocolError comes out of ``decode``, if a
    valid UTF-8 frame decodes differently as bytes and as text, or if an event holds a
    Decimal that is not finite."""
    check_decoder(kraken_proto.decode, data)


TARGET = Target("decode", check, lambda: SEEDS, TOKENS, max_len=8192)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
