"""The pipeline benchmark still runs and prints its table (timings are not checked)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_pipeline.py"


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_pipeline", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark()
    assert bench.main(["--scale", "0.005", "--repeats", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["case", "bytes", "orjson"]
    assert [line.split("  ")[0] for line in lines[2:-1]] == list(bench.CASES)
    assert lines[-1].startswith("target: pipeline")


def test_benchmark_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark()
    assert bench.main(["--json", "--scale", "0.005", "--repeats", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["target_ratio"] == bench.TARGET_RATIO
    assert [row["case"] for row in report["results"]] == list(bench.CASES)
    for row in report["results"]:
        assert row["pipeline_us"] > 0
        assert row["connection_us"] > 0
        assert row["pipeline_vs_orjson"] > 0
