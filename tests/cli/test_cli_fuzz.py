"""``kraken-proto fuzz`` (and ``python -m kraken_proto.testing.fuzz``): runs a pure target for
a number of inputs or seconds, replays inputs, and saves and reports a finding."""

from __future__ import annotations

import argparse
from pathlib import Path

import kraken_proto
import pytest
from kraken_proto.adapters import cli
from kraken_proto.adapters.cli import fuzz as cli_fuzz


def test_a_short_run_reports_its_executions(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["fuzz", "decode_v2", "--iterations", "50", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert "ok: decode_v2:" in out
    assert "(seed 4)" in out
    assert "stat::number_of_executed_units:" in out
    assert cli.main(["fuzz", "rest", "--seconds", "0.2"]) == 0


def test_the_help_lists_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["fuzz", "--help"])
    text = capsys.readouterr().out
    for name in ("decode", "decode_v2", "connection", "connection_v2", "rest"):
        assert name in text
    with pytest.raises(SystemExit) as exited:
        cli.main(["fuzz", "websocket"])  # not a pure target: not offered
    assert exited.value.code == 2


def test_a_corpus_directory_and_replayed_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "one").write_bytes(b'{"event":"heartbeat"}')
    (tmp_path / "sub").mkdir()
    assert cli.main(["fuzz", "decode", "--corpus", str(tmp_path), "--iterations", "10"]) == 0
    assert cli.main(["fuzz", "decode", str(tmp_path / "one")]) == 0
    assert f"ok: {tmp_path / 'one'}" in capsys.readouterr().out
    assert cli.main(["fuzz", "decode", "--corpus", str(tmp_path / "one")]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert cli.main(["fuzz", "decode", str(tmp_path / "missing")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_a_finding_is_saved_and_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(kraken_proto, "decode", lambda frame: "not an event")
    findings = tmp_path / "found"
    assert cli.main(["fuzz", "decode", "--findings", str(findings), "--iterations", "5"]) == 1
    err = capsys.readouterr().err
    assert "AssertionError: decode returned str" in err
    (saved,) = (findings / "decode").iterdir()
    assert saved.name.startswith("crash-")
    assert f"replay: kraken-proto fuzz decode {saved}" in err
    assert cli.main(["fuzz", "decode", str(saved)]) == 1
    assert "breaks an invariant" in capsys.readouterr().err


def test_without_hypothesis_it_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def missing() -> None:
        raise ImportError(
            "kraken_proto.testing needs Hypothesis: pip install 'kraken_proto[testing]'"
        )

    monkeypatch.setattr(cli_fuzz, "_targets", missing)
    parser = argparse.ArgumentParser()
    cli_fuzz.configure(parser)  # still builds: run() explains
    assert cli_fuzz.run(parser.parse_args(["decode"])) == 2
    assert "pip install 'kraken_proto[testing]'" in capsys.readouterr().err
