"""``benchmarks/sim_million.py`` still runs and still reports (a short run)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "sim_million.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sim_million", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sim_million"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(60)
@pytest.mark.parametrize("extra", [[], ["--no-prune", "--protocol", "v2"]])
def test_sim_million_smoke(extra: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--seconds", "6000", "--seed", "5", "--progress", *extra]
    assert _load().main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("seed 5 over ")
    assert any("s simulated" in line for line in lines)  # the progress lines
    result = json.loads(lines[-1])
    assert result["seed"] == 5
    assert result["sim_seconds"] == 6000
    assert result["prune"] is not ("--no-prune" in extra)
    assert result["violations"] == 0
    assert result["fills"] > 50
    for key in ("rate_first_10pct", "rate_last_10pct", "rss_start_mb", "rss_end_mb", "crashes"):
        assert key in result


def test_a_fresh_seed_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load().main(["--seconds", "300"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    seed = int(first.split()[1])
    assert f"--seed {seed}" in first
