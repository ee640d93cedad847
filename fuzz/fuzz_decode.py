"""Fuzz ``kraken_proto.decode`` for its one invariant: any input either decodes to an ``Event``
or raises ``RemoteProtocolError``, nothing else.

Each input is fed whole, as ``bytes`` and as ``str`` (decoded with ``surrogateescape``, so
invalid UTF-8 turns into lone surrogates and exercises that path too). Run it with
``python fuzz/fuzz_decode.py [--seconds N | --iterations N | FILE...]`` (see ``fuzz/_harness.py``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``fuzz`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kraken_proto
from tests.v1.fixtures_v1 import REAL_FRAMES

from fuzz._harness import Target, run

__all__ = ["SEEDS", "TARGET", "check", "main"]

TOKENS: tuple[bytes, ...] = (
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
SEEDS: tuple[bytes, ...] = (
    *REAL_FRAMES,
    b"[" * 5000,
    b'{"event":"cancelAllStatus","status":"ok","count":"2"}',
    b'[[{"T":{"price":""}}],"ownTrades",{"sequence":1}]',
)


def check(data: bytes) -> None:
    """Feed ``data`` whole, as bytes and as text; fail if anything but an Event or a
    RemoteProtocolError comes out."""
    for frame in (data, data.decode("utf-8", "surrogateescape")):
        try:
            event = kraken_proto.decode(frame)
        except kraken_proto.RemoteProtocolError:
            continue
        if not isinstance(event, kraken_proto.Event):
            raise AssertionError(f"decode returned {type(event).__name__} for {frame!r}")


TARGET = Target("decode", check, lambda: SEEDS, TOKENS, max_len=8192)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
