"""Issue 10's acceptance, as a user runs it: a `kraken-proto simulator` process and the
commands against it, each its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.v1.fixtures_v1 import INBOUND

CLI = [sys.executable, "-m", "kraken_proto"]


@pytest.fixture(scope="module")
def simulator() -> Iterator[dict[str, Any]]:
    process = subprocess.Popen(
        [*CLI, "simulator", "--port", "0", "--seed", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    try:
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def run(
    simulator: dict[str, Any], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ, KRAKEN_API_KEY=simulator["api_key"], KRAKEN_API_SECRET=simulator["api_secret"]
    )
    urls = ["--rest-url", simulator["rest_url"], "--ws-url", simulator["ws_url"]]
    return subprocess.run(
        [*CLI, *args[:1], *urls, *args[1:]],
        capture_output=True,
        text=True,
        timeout=50,
        env=env,
        input=stdin,
        check=False,
    )


def test_add_order_then_cancel_order(simulator: dict[str, Any]) -> None:
    placed = run(
        simulator,
        "add-order",
        "--pair",
        "XBT/USD",
        "--type",
        "buy",
        "--ordertype",
        "limit",
        "--volume",
        "0.1",
        "--price",
        "29000",
    )
    assert placed.returncode == 0, placed.stderr
    txid = placed.stdout.split()[1].rstrip(":")
    cancelled = run(simulator, "cancel-order", "--order-id", txid)
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.strip() == "cancelled"
    again = run(simulator, "cancel-order", "--order-id", txid)
    assert again.returncode == 1
    assert "EOrder:Unknown order" in again.stderr


def test_watch_json_max_events(simulator: dict[str, Any]) -> None:
    for _ in range(3):
        market = ["--pair", "XBT/USD", "--type", "buy", "--ordertype", "market"]
        assert run(simulator, "add-order", *market, "--volume", "0.01").returncode == 0
    watched = run(simulator, "watch", "--json", "--max-events", "5", "--duration", "30")
    assert watched.returncode == 0, watched.stderr
    lines = watched.stdout.splitlines()
    assert len(lines) == 5
    assert all("event_type" in json.loads(line) for line in lines)


def test_decode_the_protocol_docs_frames() -> None:
    # One frame per line: the doc pretty-prints some; JSON whitespace is not significant.
    frames = "".join(frame.replace("\n", " ") + "\n" for frame, _, _ in INBOUND)
    frames += "not a frame\n"
    decoded = subprocess.run(
        [*CLI, "decode"], input=frames, capture_output=True, text=True, timeout=30, check=False
    )
    assert decoded.returncode == 1  # the last line failed
    lines = [json.loads(line) for line in decoded.stdout.splitlines()]
    assert [line.get("event_type") for line in lines[:-1]] == [
        type(event).__name__ for _, _, event in INBOUND
    ]
    assert lines[-1]["line"] == len(INBOUND) + 1
