"""``benchmarks/journal_cost.py`` still runs and ends with its JSON report (timings unchecked)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "journal_cost.py"
KEYS = {
    "intents_per_s_sync",
    "intents_per_s_nosync",
    "us_per_intent_sync",
    "us_per_intent_nosync",
    "records_per_s",
    "encode_us_per_intent",
    "ms_per_shared_nonce",
    "fsyncs_per_intent_sync",
    "fsyncs_per_intent_nosync",
    "orders_per_s_no_journal",
    "orders_per_s_journal",
    "ms_per_order_journal_adds",
    "fsyncs_per_order",
}


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("journal_cost", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(60)
def test_the_quick_run_prints_a_json_report_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load_benchmark()
    assert bench.main(["--quick", "--no-strace", "--dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    report = json.loads(lines[-1])
    assert set(report) >= KEYS
    assert report["intents_per_s_sync"] > 0
    assert report["records_per_s"] > 0
    assert report["orders_per_s_no_journal"] > 0
    assert report["orders_per_s_journal"] > 0
    assert report["fsyncs_per_intent_sync"] is None  # not counted when asked not to
    assert list(tmp_path.iterdir()) == []  # its scratch directory is gone


@pytest.mark.timeout(60)
@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_fsyncs_are_counted_with_strace(tmp_path: Path) -> None:
    bench = load_benchmark()
    report = bench.measure(tmp_path, intents=5, records=100, orders=3, strace=True)
    if report["fsyncs_per_intent_sync"] is None:
        pytest.skip("strace is not allowed to trace here")
    assert report["fsyncs_per_intent_sync"] >= 1  # write-ahead: the WAL is synced each time
    assert report["fsyncs_per_intent_nosync"] < 1
    assert report["fsyncs_per_order"] >= 1  # each order's intent is synced before it is sent


def test_without_strace_nothing_is_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = load_benchmark()
    monkeypatch.setattr(bench.shutil, "which", lambda name: None)
    assert bench._count_fsyncs("sync", 1, tmp_path) is None


@pytest.mark.timeout(60)
def test_the_full_run_places_more_orders_than_the_rate_counter_allows(tmp_path: Path) -> None:
    # The full run places 200 orders back to back; the simulator's default counter (125)
    # refused the 126th before the benchmark lifted it. The journal is measured, not pacing.
    bench = load_benchmark()
    assert bench._orders_seconds(130, None) > 0
    assert bench._orders_seconds(130, tmp_path / "bot.journal") > 0
