"""``python -m kraken_proto``: the ``kraken-proto`` command (see ``kraken_proto.adapters.cli``)."""

from __future__ import annotations

from kraken_proto.adapters.cli import main

raise SystemExit(main())
