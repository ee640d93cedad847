"""The soak still runs and still checks itself (a few seconds per adapter, a fault a second)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("adapter", ["blocking", "trio", "asyncio"])
def test_soak_smoke(adapter: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--adapter", adapter, "--seconds", "3", "--drop-every", "0.6", "--seed", "3"]
    assert _load().main(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["adapter"] == adapter
    assert result["lost_fills"] == result["duplicated_fills"] == 0
    assert result["orders_placed_twice"] == result["wrong_outcomes"] == 0
    assert result["orders"] > 10
    assert result["fills"] > 10
    assert result["connections"] >= 3
    assert sum(result["faults"].values()) >= 3


def test_the_verdict_fails_on_any_loss() -> None:
    soak = _load()
    clean = {"lost_fills": 0, "duplicated_fills": 0, "orders_placed_twice": 0}
    clean |= {"wrong_outcomes": 0, "unknown_fills": 0}
    assert not soak.failed(clean)
    for key in clean:
        assert soak.failed(clean | {key: 1})
