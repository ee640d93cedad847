"""Fuzz ``kraken_proto.v2.decode`` (WebSocket v2) for the same invariants as v1's ``decode``:
any input either decodes to an ``Event`` or raises ``RemoteProtocolError``, nothing else; valid
UTF-8 gives the same outcome as ``bytes`` and as ``str``; every ``Decimal`` is finite.

Each input is fed whole, as ``bytes`` and as ``str`` (decoded with ``surrogateescape``). Seeds:
every frame of ``tests/fixtures_v2.py`` (the v2 doc's frames).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``fuzz`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kraken_proto import v2
from tests.v2.fixtures_v2 import REAL_FRAMES

from fuzz._harness import Target, run
from fuzz.fuzz_decode import check_decoder

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
    b'"limit_price":"NaN"',
    b'"cum_qty":"+1"',
    b'"\xef\xbc\x91"',
    b"1e99999999999999999999",
    b"7" * 4400,
)
SEEDS: tuple[bytes, ...] = (*REAL_FRAMES, b"{" * 5000)


def check(data: bytes) -> None:
    """Fail if anything but an Event or a RemoteProtocolError comes out of ``v2.decode``, if a
    valid UTF-8 frame decodes differently as bytes and as text, or if an event holds a
    Decimal that is not finite."""
    check_decoder(v2.decode, data)


TARGET = Target("decode_v2", check, lambda: SEEDS, TOKENS, max_len=8192)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
