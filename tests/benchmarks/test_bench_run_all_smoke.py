"""``benchmarks/run_all.py --quick`` runs every benchmark and writes its report.

Nothing here checks a timing: the quick run's numbers mean nothing. It checks that every
benchmark ran (none failed), that every section and every target verdict is in the report, and
that the run leaves the committed ``benchmarks/RESULTS.md`` alone. With ``--json`` the last line
of its output is one JSON object holding every headline ratio's key.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(180)
def test_quick_run_writes_every_section_and_verdict(tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    committed = ROOT / "benchmarks" / "RESULTS.md"
    before = committed.read_bytes() if committed.exists() else None
    process = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run_all.py"),
            "--quick",
            "--json",
            "--tiny",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=170,
    )
    assert process.returncode == 0, process.stderr
    text = output.read_text()
    assert "Quick mode" in text
    assert "## Machine" in text
    for library in ("msgspec", "orjson", "trio", "wsproto", "ccxt", "python-kraken-sdk"):
        assert f"| {library} |" in text
    for heading in (
        "## Targets",
        "## Decode",
        "## Receive path",
        "## Pipeline breakdown",
        "## Requests",
        "## Memory per open order",
        "## End to end:",
        "## End to end over v2",
        "## N concurrent trio sessions over v2",
        "## N concurrent trio sessions",
        "## AddOrder round trip",
        "## Whole user pipeline",
    ):
        assert heading in text, heading
    assert "failed" not in text.lower().split("## machine")[1]
    targets = text.split("## Targets")[1].split("\n## ")[0]
    rows = [
        line for line in targets.splitlines() if line.startswith("| ") and "verdict" not in line
    ]
    # runner CPU and p50 latency are two rows; they and the memory row over v1 and again over v2
    assert len(rows) == 12
    assert sum("same event loop over v2" in row or "loop over v2" in row for row in rows) == 2
    for row in rows:
        assert "**met**" in row or "**missed**" in row or "not measured" in row
    after = committed.read_bytes() if committed.exists() else None
    assert after == before
    line = json.loads(process.stdout.strip().splitlines()[-1])
    for key in (
        "session_pipeline_vs_careful",
        "connection_tables_vs_careful",
        "runner_cpu_vs_plain",
        "runner_fill_p50_vs_plain",
        "runner_cpu_vs_plain_v2",
        "runner_fill_p50_vs_plain_v2",
        "kib_per_session_1000",
        "kib_per_session_1000_v2",
        "decode_vs_floor_v1",
        "decode_vs_floor_v2",
        "encode_vs_json_dumps_v1",
        "encode_vs_json_dumps_v2",
        "commit",
    ):
        assert key in line, key
    assert set(line["runner_cpu_vs_plain"]) == {"blocking", "trio", "asyncio"}
    assert set(line["runner_cpu_vs_plain_v2"]) == {"blocking", "trio", "asyncio"}
    assert set(line["session_pipeline_vs_careful"]) >= {
        "openOrders 200-order snapshot",
        "ownTrades 50-trade snapshot",
        "v2 200-order snapshot",
        "v2 50-trade snapshot",
    }
    assert set(line["session_pipeline_vs_careful"]) >= {"openOrders status delta", "ownTrades fill"}
    assert set(line["session_pipeline_vs_careful"]) >= {
        "v2 status-only delta",
        "v2 status delta",
        "v2 new order",
        "v2 trade fill",
    }
    assert set(line["connection_tables_vs_careful"]) >= {
        "openOrders status delta",
        "v2 status-only delta",
        "v2 status delta",
        "v2 new order",
        "v2 trade fill",
        "v2 200-order snapshot",
        "v2 50-trade snapshot",
    }
    assert "v2 trade fill" in targets
    assert all(case.startswith("v2 ") for case in line["decode_vs_floor_v2"])
    assert line["decode_vs_floor_v1"]
    assert line["encode_vs_json_dumps_v2"]
