"""Fuzz every REST response parser in ``kraken_proto`` (each ``parse_*_response(status, body)``:
the token call's, OpenOrders, ClosedOrders, QueryOrders, TradesHistory and QueryTrades).

The target is ``kraken_proto.testing.fuzz.REST``, installed with the package; see
``kraken_proto/testing/fuzz/_rest.py`` for its input layout and invariants (and
``tests/rest/test_rest_secrets.py`` for the check of its token rule). This script runs it with
the harness (atheris, the committed corpus).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``fuzz`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kraken_proto.testing.fuzz import REST
from kraken_proto.testing.fuzz._rest import PARSERS
from kraken_proto.testing.fuzz._rest import check_rest as check
from kraken_proto.testing.fuzz._rest import rest_seeds as seeds

from fuzz._harness import Target, run

__all__ = ["PARSERS", "TARGET", "check", "main", "seeds"]

TARGET = Target.of(REST)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
