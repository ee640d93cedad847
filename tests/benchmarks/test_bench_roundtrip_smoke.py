"""The round-trip benchmark still runs (a few orders; no assertion on timings)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_roundtrip.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_roundtrip", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load().main(["--orders", "5"]) == 0
    out = capsys.readouterr().out
    assert "blocking" in out
    assert "trio / blocking" in out


def test_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load().main(["--orders", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["orders"] == 3
    assert result["blocking"]["median_us"] > 0
    assert result["trio"]["p90_us"] > 0
