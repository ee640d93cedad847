"""``kraken-proto simulator-ctl`` against an in-process simulator (the CLI runs in-process)."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
from kraken_proto.adapters.cli import main
from kraken_proto.adapters.simulator.ctl import CA_VARIABLE, URL_VARIABLE
from kraken_proto.adapters.simulator.server import SimulatorThread, run_in_thread


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    with run_in_thread(seed=4) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(URL_VARIABLE, raising=False)
    monkeypatch.delenv(CA_VARIABLE, raising=False)


def ctl(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object, str]:
    """Run the subcommand; return its exit code, its stdout as JSON (or None) and stderr."""
    code = main(["simulator-ctl", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else None, captured.err


def test_price_status_fault_and_tokens_change_the_running_simulator(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ("--url", sim.rest_url)
    assert ctl(capsys, *url, "price", "XBT/USD", "29000") == (
        0,
        {"pair": "XBT/USD", "price": "29000"},
        "",
    )
    assert ctl(capsys, *url, "status", "cancel_only")[0] == 0
    assert ctl(capsys, *url, "fault", "reply-delay=0.25", "--scope", "all")[1] == {
        "fault": "reply-delay=0.25",
        "scope": "all",
    }
    assert sim.exchange.default_faults.reply_delay == 0.25
    assert ctl(capsys, *url, "invalidate-tokens") == (0, {"invalidated": True}, "")
    assert ctl(capsys, *url, "sessions") == (0, {"sessions": []}, "")
    assert ctl(capsys, *url, "trades") == (0, {"trades": {}}, "")
    code, book, _ = ctl(capsys, *url, "book")
    assert code == 0
    assert isinstance(book, dict)
    assert book["open_orders"] == {}
    assert Decimal(book["balances"]["USD"]) == sim.balances()["USD"]


def test_the_url_comes_from_the_environment_or_the_announcement_line(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(URL_VARIABLE, sim.rest_url)
    assert ctl(capsys, "sessions")[0] == 0
    announcement = json.dumps({"rest_url": sim.rest_url, "ws_url": sim.ws_url})
    monkeypatch.setenv(URL_VARIABLE, announcement)
    assert ctl(capsys, "sessions")[0] == 0
    assert ctl(capsys, "--url", sim.ws_url, "sessions")[0] == 0  # ws:// is mapped to http://


def test_tls_simulators_are_verified_with_the_announced_ca(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with run_in_thread(tls=True) as sim:
        assert sim.ca_file is not None
        line = json.dumps({"rest_url": sim.rest_url, "ca_file": sim.ca_file})
        assert ctl(capsys, "--url", line, "sessions")[0] == 0
        url = sim.rest_url.replace("127.0.0.1", "localhost")
        assert ctl(capsys, "--url", url, "--ca-file", sim.ca_file, "sessions")[0] == 0
        code, _, err = ctl(capsys, "--url", url, "sessions")  # no CA: not trusted
        assert code == 1
        assert "cannot reach the simulator" in err


@pytest.mark.parametrize(
    ("args", "code", "complaint"),
    [
        (["price", "XBT/USD", "cheap"], 1, "not a decimal number (HTTP 400)"),
        (["price", "DOGE/USD", "1"], 1, "unknown pair 'DOGE/USD' (HTTP 404)"),
        (["fault", "no-heartbeats", "--session", "3"], 1, "no open session 3"),
    ],
)
def test_refusals_exit_1_with_the_servers_reason(
    sim: SimulatorThread,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    complaint: str,
) -> None:
    got, out, err = ctl(capsys, "--url", sim.rest_url, *args)
    assert (got, out) == (code, None)
    assert complaint in err


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        (None, "where is the simulator?"),
        ("ftp://127.0.0.1:1", "not a simulator URL"),
        ("http://127.0.0.1:port", "not a simulator URL"),
        ("http://10.1.2.3:8080", "loopback only"),
        ("http://example.com:8080", "loopback only"),
        ('{"ws_url": "ws://127.0.0.1:1"}', "has no rest_url"),
        ("{not json", "has no rest_url"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], url: str | None, complaint: str
) -> None:
    args = ["book"] if url is None else ["--url", url, "book"]
    code, out, err = ctl(capsys, *args)
    assert (code, out) == (2, None)
    assert complaint in err


def test_an_unreachable_simulator_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    code, _, err = ctl(capsys, "--url", f"http://127.0.0.1:{port}", "book")
    assert code == 1
    assert f"cannot reach the simulator at http://127.0.0.1:{port}" in err


def test_a_server_that_is_not_a_simulator_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    class NotASimulator(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"no")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotASimulator)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        code, _, err = ctl(capsys, "--url", f"http://127.0.0.1:{server.server_port}", "book")
    finally:
        thread.join(timeout=5)
        server.server_close()
    assert code == 1
    assert "without the control API's JSON" in err


def test_a_reader_that_leaves_early_is_no_error(sim: SimulatorThread) -> None:
    command = [sys.executable, "-m", "kraken_proto.adapters.cli", "simulator-ctl", "trades"]
    environment = {**os.environ, URL_VARIABLE: sim.rest_url}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment
    ) as process:
        assert process.stdout is not None
        process.stdout.close()  # like `| head -0`: nobody reads the answer
        assert process.stderr is not None
        errors = process.stderr.read()
        assert process.wait(timeout=30) == 0
    assert errors == b""
