"""``soak.py --crash`` and ``--processes`` still run and still keep every promise (issue 16):
a bot killed with SIGKILL over 20 times on each runner over a SQLite journal (and once more
over v2), and two bots on one API key with a connection dropped every second. Each run is
kept short for CI."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load() -> tuple[ModuleType, ModuleType]:
    spec = importlib.util.spec_from_file_location("soak", BENCHMARKS / "soak.py")
    assert spec is not None
    assert spec.loader is not None
    soak = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = soak  # dataclasses look their module up there; soak_crash imports it
    spec.loader.exec_module(soak)
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))  # the forkserver imports soak_crash by name
    return soak, importlib.import_module("soak_crash")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    soak, _ = _load()
    status = soak.main(argv)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return status, result


ZEROS = (
    "lost",
    "unflagged_repeats",
    "placed_twice",
    "unresolved_intents",
    "invalid_nonces",
    "wrong_outcomes",
    "unknown_fills",
    "placed_without_intent",
    "bot_errors",
)


# The v2 run: the same promise over the simulator's v2 face, where every fill of a taker order
# is its own trade; one runner (the runners only carry bytes, the session is the same).
@pytest.mark.timeout(90)
@pytest.mark.parametrize(
    ("adapter", "protocol"),
    [("blocking", "v1"), ("trio", "v1"), ("asyncio", "v1"), ("asyncio", "v2")],
)
def test_a_bot_killed_twenty_times_loses_nothing(
    adapter: str, protocol: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--crash", "--adapter", adapter, "--protocol", protocol, "--seconds", "12"]
    argv += ["--kill-every", "0.5", "--drop-every", "1.5", "--seed", "7"]
    status, result = _run(argv, capsys)
    assert (result["adapter"], result["protocol"], result["mode"]) == (adapter, protocol, "crash")
    assert result["kills"] >= 20
    assert {key: result[key] for key in ZEROS} == dict.fromkeys(ZEROS, 0)
    assert result["settle_seconds"] is not None
    assert result["orders"] >= 10
    assert result["fills"] >= 10
    assert status == 0


@pytest.mark.timeout(90)
def test_two_processes_on_one_key_settle_without_invalid_nonces(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--processes", "2", "--adapter", "trio", "--seconds", "8", "--rate", "4"]
    argv += ["--drop-every", "1", "--seed", "11"]
    status, result = _run(argv, capsys)
    assert result["processes"] == 2
    assert result["invalid_nonces"] == 0
    assert result["rate_limited"] == 0  # one budget for the key, shared
    assert {key: result[key] for key in ZEROS} == dict.fromkeys(ZEROS, 0)
    assert result["settle_seconds"] is not None
    assert sum(result["faults"].values()) >= 6
    assert status == 0


def test_the_verdict_fails_on_any_count(tmp_path: Path) -> None:
    _, crash = _load()
    clean: dict[str, Any] = dict.fromkeys(crash.FAILURES, 0) | {"settle_seconds": 3.0}
    assert not crash.failed(clean)
    for key in crash.FAILURES:
        assert crash.failed(clean | {key: 1})
    assert crash.failed(clean | {"settle_seconds": None})  # never caught up


def test_a_log_cut_by_a_kill_is_read_up_to_the_cut(tmp_path: Path) -> None:
    _, crash = _load()
    log = tmp_path / "bot.jsonl"
    log.write_text('{"t":"fill","id":"T1","r":false,"s":"live"}\n{"t":"fill","id":"T')
    assert [line["id"] for line in crash._read_log(log)] == ["T1"]
    assert list(crash._read_log(tmp_path / "missing.jsonl")) == []
