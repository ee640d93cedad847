"""Fuzz ``kraken_proto.decode`` for its one invariant: any input either decodes to an ``Event``
or raises ``RemoteProtocolError``, nothing else.

The target (check, seeds, tokens) is ``kraken_proto.testing.fuzz.DECODE``, installed with the
package (``python -m kraken_proto.testing.fuzz decode``); this script runs it with the harness
(atheris, the committed corpus). Run it with
``python fuzz/fuzz_decode.py [--seconds N | --iterations N | FILE...]`` (see ``fuzz/_harness.py``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``fuzz`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kraken_proto.testing.fuzz import DECODE
from kraken_proto.testing.fuzz._decode import V1_SEEDS as SEEDS
from kraken_proto.testing.fuzz._decode import check_decode as check

from fuzz._harness import Target, run

__all__ = ["SEEDS", "TARGET", "check", "main"]

TARGET = Target.of(DECODE)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
