"""Fuzz ``kraken_proto.v2.V2Connection.receive_message`` in the states it can reach.

The target is ``kraken_proto.testing.fuzz.CONNECTION_V2`` (11 scenarios; the v1 target's input
layout and invariants), installed with the package; this script runs it with the harness.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``fuzz`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kraken_proto.testing.fuzz import CONNECTION_V2
from kraken_proto.testing.fuzz._connection_v2 import SCENARIOS
from kraken_proto.testing.fuzz._connection_v2 import check_connection_v2 as check
from kraken_proto.testing.fuzz._connection_v2 import connection_v2_seeds as seeds

from fuzz._harness import Target, run

__all__ = ["SCENARIOS", "TARGET", "check", "main", "seeds"]

TARGET = Target.of(CONNECTION_V2)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
