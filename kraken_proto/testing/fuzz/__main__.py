"""``python -m kraken_proto.testing.fuzz TARGET ...``: the ``kraken-proto fuzz`` command.

The runner reads the clock, draws random numbers and writes findings to disk, so it lives with
the other commands in ``kraken_proto.adapters.cli.fuzz``; this module only hands over to it.
"""

from __future__ import annotations

import sys

from kraken_proto.adapters.cli import main

raise SystemExit(main(["fuzz", *sys.argv[1:]]))
