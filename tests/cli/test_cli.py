"""The ``kraken-proto`` dispatcher: usage, unknown commands, and lazy subcommand loading."""

from __future__ import annotations

import subprocess
import sys

import pytest
from kraken_proto.adapters import cli


def test_no_arguments_prints_usage_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    out = capsys.readouterr().out
    assert "usage: kraken-proto COMMAND" in out
    for name in ("demo", "sign", "simulator"):
        assert name in out


def test_help_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    assert "commands:" in capsys.readouterr().out


def test_unknown_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["trade-for-me"]) == 2
    assert "unknown command 'trade-for-me'" in capsys.readouterr().err


def test_subcommand_help_comes_from_its_module(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["demo", "--help"])
    assert exited.value.code == 0
    assert "--seed" in capsys.readouterr().out


# Kraken's published signing example (protocol doc, section 6.3).
SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
BODY = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
SIGNATURE = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)


def test_sign_does_not_load_trio() -> None:
    # Only the chosen subcommand is imported: the signing aid stays light.
    argv = ["sign", "--path", "/0/private/AddOrder", "--nonce", "1616492376594", "--data", BODY]
    probe = (
        f"import sys, os; os.environ['KRAKEN_API_SECRET'] = {SECRET!r};"
        "from kraken_proto.adapters.cli import main;"
        f"code = main({argv!r});"
        "print('trio' in sys.modules, code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=30
    )
    lines = result.stdout.split()
    assert lines[0] == SIGNATURE
    assert lines[1:] == ["False", "0"]
