"""Fuzz ``kraken_proto.v2.decode`` (WebSocket v2) for the same invariant as v1's ``decode``:
any input either decodes to an ``Event`` or raises ``RemoteProtocolError``, nothing else.

The target is ``kraken_proto.testing.fuzz.DECODE_V2`` (seeds: every frame of the v2 doc,
``kraken_proto.testing.V2_EXAMPLE_FRAMES``); this script runs it with the harness.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``fuzz`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kraken_proto.testing.fuzz import DECODE_V2
from kraken_proto.testing.fuzz._decode import V2_SEEDS as SEEDS
from kraken_proto.testing.fuzz._decode import check_decode_v2 as check

from fuzz._harness import Target, run

__all__ = ["SEEDS", "TARGET", "check", "main"]

TARGET = Target.of(DECODE_V2)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
