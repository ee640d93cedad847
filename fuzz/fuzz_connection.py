"""Fuzz ``Connection.receive_message`` in every state the connection can reach.

The target (20 scenarios, the invariants, the seeds) is
``kraken_proto.testing.fuzz.CONNECTION``, installed with the package; see
``kraken_proto/testing/fuzz/_connection.py`` for its input layout and invariants. This script
runs it with the harness (atheris, the committed corpus).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``fuzz`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kraken_proto.testing.fuzz import CONNECTION
from kraken_proto.testing.fuzz._connection import SCENARIOS, TOKEN, Run
from kraken_proto.testing.fuzz._connection import check_connection as check
from kraken_proto.testing.fuzz._connection import connection_seeds as seeds

from fuzz._harness import Target, run

__all__ = ["SCENARIOS", "TARGET", "TOKEN", "Run", "check", "main", "seeds"]

TARGET = Target.of(CONNECTION)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
