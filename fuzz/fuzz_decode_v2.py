"""Fuzz ``kraken_proto.v2.decode`` (WebSocket v2) for the same invariant as v1's ``decode``:
any input either decodes to an ``Event`` or raises ``RemoteProtocolError``, nothing else.

Each input is fed whole, as ``bytes`` and as ``str`` (decoded with ``surrogateescape``). Seeds:
every frame of ``tests/fixtures_v2.py`` (the v2 doc's frames).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``fuzz`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kraken_proto
from kraken_proto import v2
from tests.v2.fixtures_v2 import REAL_FRAMES

from fuzz._harness import Target, run

__all__ = ["SEEDS", "TARGET", "check", "main"]

TOKENS: tuple[bytes, ...] = (
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
SEEDS: tuple[bytes, ...] = (*REAL_FRAMES, b"{" * 5000)


def check(data: bytes) -> None:
    """Feed ``data`` whole, as bytes and as text; fail if anything but an Event or a
    RemoteProtocolError comes out."""
    for frame in (data, data.decode("utf-8", "surrogateescape")):
        try:
            event = v2.decode(frame)
        except kraken_proto.RemoteProtocolError:
            continue
        if not isinstance(event, kraken_proto.Event):
            raise AssertionError(f"v2.decode returned {type(event).__name__} for {frame!r}")


TARGET = Target("decode_v2", check, lambda: SEEDS, TOKENS, max_len=8192)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
