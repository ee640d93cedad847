"""``kraken-proto sign``: in-process through the dispatcher, and once via the console script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from kraken_proto.adapters.cli import main

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
ADD_ORDER = [
    "sign",
    "--path",
    "/0/private/AddOrder",
    "--nonce",
    "1616492376594",
    "--data",
    "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
]
EXPECTED = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)


def test_official_vector_in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)
    assert main(ADD_ORDER) == 0
    captured = capsys.readouterr()
    assert captured.out == EXPECTED + "\n"
    assert captured.err == ""


def test_data_defaults_to_the_token_request_body(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)
    args = ["sign", "--path", "/0/private/GetWebSocketsToken", "--nonce", "1616492376594"]
    assert main(args) == 0
    assert capsys.readouterr().out == (
        "+mRDmY9Ks0Moc1zjv/BjfvYa98buO0x1yHChZR5onlfAzAUbfIYlLggUZzdQ0RsmXm4Sh+Q8iAIZdo2wSeHeiA==\n"
    )


def test_warns_when_body_lacks_the_nonce(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)
    args = ["sign", "--path", "/0/private/GetWebSocketsToken", "--nonce", "5", "--data", "nonce=4"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert len(captured.out.strip()) == 88
    assert "does not contain nonce 5" in captured.err


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_secret_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("KRAKEN_API_SECRET", raising=False)
    else:
        monkeypatch.setenv("KRAKEN_API_SECRET", value)
    assert main(ADD_ORDER) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "KRAKEN_API_SECRET is not set" in captured.err


@pytest.mark.parametrize(
    "secret", ["this-is-not-base64-at-all!!", "c2hvcnRzZWNyZXRzaG9ydHNlY3JldA=="]
)
def test_invalid_secret_is_not_echoed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], secret: str
) -> None:
    monkeypatch.setenv("KRAKEN_API_SECRET", secret)
    assert main(ADD_ORDER) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "API secret" in captured.err
    assert secret not in captured.err


def test_bad_nonce_and_path(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)
    assert main(["sign", "--path", "/0/private/X", "--nonce", "12x"]) == 2
    assert "nonce" in capsys.readouterr().err
    assert main(["sign", "--path", "https://api.kraken.com/0/private/X", "--nonce", "1"]) == 2
    assert "urlpath" in capsys.readouterr().err


def test_console_script_in_subprocess() -> None:
    script = shutil.which("kraken-proto", path=os.path.dirname(sys.executable))
    command = [script] if script else [sys.executable, "-m", "kraken_proto.adapters.cli"]
    env = {**os.environ, "KRAKEN_API_SECRET": SECRET}
    result = subprocess.run(
        [*command, *ADD_ORDER], capture_output=True, text=True, env=env, check=False, timeout=30
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, EXPECTED + "\n", "")


def test_module_entry_point_missing_variable() -> None:
    env = {k: v for k, v in os.environ.items() if k != "KRAKEN_API_SECRET"}
    result = subprocess.run(
        [sys.executable, "-m", "kraken_proto.adapters.cli", *ADD_ORDER],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=30,
    )
    assert result.returncode == 2
    assert "KRAKEN_API_SECRET" in result.stderr
