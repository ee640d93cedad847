"""The core must stay sans-IO: importing it loads no socket, TLS, loop, clock or RNG module."""

from __future__ import annotations

import json
import subprocess
import sys

BANNED = ("socket", "ssl", "asyncio", "trio", "threading", "time", "random", "wsproto", "h11")


def test_import_kraken_proto_loads_no_io_clock_or_randomness() -> None:
    probe = (
        "import sys, json; before = set(sys.modules); import kraken_proto; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert "kraken_proto" in loaded
    leaked = sorted(name for name in loaded if name.split(".")[0] in BANNED)
    assert leaked == []
