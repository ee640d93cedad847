"""Every script in examples/ runs against the in-process simulator and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(path.name for path in EXAMPLES.glob("*.py"))


def run(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_API_")}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
        env=env,
    )


def test_the_examples_are_there() -> None:
    assert {"blocking_bot.py", "trio_bot.py", "asyncio_bot.py", "plain_socket.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_runs_against_the_simulator(name: str) -> None:
    result = run(name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip()
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["blocking_bot.py", "trio_bot.py", "asyncio_bot.py"])
def test_bots_place_and_cancel_an_order(name: str) -> None:
    output = run(name).stdout
    assert "placed O" in output
    assert " canceled " in output


def test_plain_socket_example_reaches_the_snapshot() -> None:
    assert "ChannelSnapshot(event=OpenOrders(" in run("plain_socket.py").stdout


@pytest.mark.parametrize("name", SCRIPTS)
def test_against_kraken_without_credentials_it_says_so(name: str) -> None:
    # No network is touched: the credentials are checked first.
    result = run(name, "--kraken")
    assert result.returncode == 2
    assert "KRAKEN_API_KEY" in result.stderr
