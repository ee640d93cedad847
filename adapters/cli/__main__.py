"""``python -m kraken_proto.adapters.cli``: the ``kraken-proto`` command."""

from __future__ import annotations

from kraken_proto.adapters.cli import main

raise SystemExit(main())
