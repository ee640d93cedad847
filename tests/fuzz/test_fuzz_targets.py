"""The fuzz harness itself (``fuzz/``): every target holds its invariants on its committed
corpus and a short mutation run, the corpus is up to date, and findings are reported."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from fuzz._harness import Finding, Target

from fuzz import _harness, make_corpus, run_all

NAMES = run_all.target_names()


def test_every_target_is_found() -> None:
    assert set(NAMES) >= {
        "decode",
        "decode_v2",
        "connection",
        "connection_v2",
        "websocket",
        "http",
        "rest",
        "session_rest",
        "sim_rest",
        "sim_ws",
    }


@pytest.mark.parametrize("name", NAMES)
def test_target_holds_on_its_corpus_and_a_short_run(name: str) -> None:
    target = importlib.import_module(f"fuzz.fuzz_{name}").TARGET
    assert target.name == name
    ran = _harness.run_loop(target, iterations=150, seed=11)
    assert ran == 150 + len(_harness.corpus_inputs(target))


def test_the_committed_corpus_matches_the_seeds() -> None:
    assert make_corpus.main(["--check"]) == 0, "run: python fuzz/make_corpus.py"


def _broken_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    monkeypatch.setattr(_harness, "FINDINGS_DIR", tmp_path / "findings")
    monkeypatch.setattr(_harness, "CORPUS_DIR", tmp_path / "corpus")

    def check(data: bytes) -> None:
        if b"!" in data:
            raise AssertionError("bang")

    return Target("broken", check, lambda: [b"a", b"b!"], (b"!",))


def test_a_finding_is_saved_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _broken_target(tmp_path, monkeypatch)
    with pytest.raises(Finding) as finding:
        _harness.run_loop(target, iterations=10)
    assert finding.value.data == b"b!"
    assert finding.value.path.read_bytes() == b"b!"
    assert finding.value.path.parent == tmp_path / "findings" / "broken"
    assert _harness.run(target, ["--iterations", "5"]) == 1
    assert "FINDING in broken" in capsys.readouterr().err
    with pytest.raises(AssertionError, match="bang"):
        _harness.run(target, [str(finding.value.path)])


def test_the_loop_runs_for_seconds_or_iterations_and_replays_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_harness, "CORPUS_DIR", tmp_path / "corpus")
    seen: list[bytes] = []
    target = Target("quiet", seen.append, lambda: [b"seed"])
    assert _harness.run(target, ["--seconds", "0.05", "--seed", "3", "--no-atheris"]) == 0
    assert "stat::number_of_executed_units:" in capsys.readouterr().out
    assert seen[0] == b"seed"
    assert _harness.run_loop(target, iterations=7) == 8
    (tmp_path / "input").write_bytes(b"replayed")
    assert _harness.run(target, [str(tmp_path / "input")]) == 0
    assert seen[-1] == b"replayed"
    # A committed corpus replaces the seeds.
    (tmp_path / "corpus" / "quiet").mkdir(parents=True)
    (tmp_path / "corpus" / "quiet" / "one").write_bytes(b"from corpus")
    assert _harness.corpus_inputs(target) == [b"from corpus"]


def test_mutations_stay_reproducible() -> None:
    import random

    pool, tokens = [b'{"a":1}', b"[1,2]"], [b"null"]
    first = [_harness.mutate(pool[0], random.Random(5), pool, tokens) for _ in range(3)]
    again = [_harness.mutate(pool[0], random.Random(5), pool, tokens) for _ in range(3)]
    assert first == again


def test_run_all_reports_each_target_in_its_own_process(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_all.main(["--seconds", "0.3", "--targets", "decode,http", "--no-atheris"]) == 0
    out = capsys.readouterr().out
    for word in ("decode", "http", "executions"):
        assert word in out
    with pytest.raises(SystemExit):
        run_all.main(["--targets", "nope"])
