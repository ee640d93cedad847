"""``benchmarks/pacing.py`` on a small, time-scaled run: pacing off is refused for the rate,
pacing on never is (over loopback, the blocking runner, both protocols)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "pacing.py"


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_pacing", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(30)
def test_pacing_on_is_never_refused_and_off_is(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark()
    # 20 pairs cost 180 on a counter of 125; decaying 20 times faster, the paced runs take
    # about a second each.
    argv = ["--tier", "Intermediate", "--pairs", "20", "--time-scale", "20"]
    assert bench.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    report = json.loads(lines[-1])
    assert len(lines) == 5
    runs = {(run["protocol"], run["pacing"]): run for run in report["runs"]}
    assert sorted(runs) == [("v1", False), ("v1", True), ("v2", False), ("v2", True)]
    for protocol in ("v1", "v2"):
        off, on = runs[protocol, False], runs[protocol, True]
        assert off["refused_adds"] + off["refused_cancels"] > 0
        assert set(off["errors"]) == {"EOrder:Rate limit exceeded"}
        assert off["order_paced"] == 0
        assert (on["refused_adds"], on["refused_cancels"], on["unknown"]) == (0, 0, 0)
        assert on["order_paced"] > 0
        assert on["wall_seconds"] > off["wall_seconds"]


def test_bad_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark()
    for argv in (["--tier", "gold"], ["--time-scale", "0"], ["--pairs", "0"]):
        with pytest.raises(SystemExit):
            bench.main(argv)
    assert "Starter, Intermediate, Pro" in capsys.readouterr().err
