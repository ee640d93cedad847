"""``kraken-proto simulator``: the announcement line, serving, options and signal handling."""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import trio
from kraken_proto.adapters.simulator import cli
from kraken_proto.adapters.simulator.model.exchange import Faults
from kraken_proto.adapters.simulator.server import make_config
from kraken_proto.v1 import OpenOrders, SubscriptionStatus, SystemStatus

from tests.simulator.test_sim_server import STEP, TOKEN_PATH, fetch_token, http_request, ws_connect

STARTUP_LIMIT = 5.0  # the target is well under 2 s; the slack is for a loaded CI machine


@dataclass(frozen=True)
class Announcement:
    rest_url: str
    ws_url: str
    api_key: str
    api_secret: str
    ca_file: str | None = None


def _read_announcement(process: subprocess.Popen[str]) -> tuple[Announcement, float]:
    """The first stdout line as an Announcement, and how long after now it took to appear."""
    started = time.monotonic()
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], STARTUP_LIMIT * 2)
    assert ready, "the simulator printed nothing"
    line = process.stdout.readline()
    elapsed = time.monotonic() - started
    return Announcement(**json.loads(line)), elapsed


def _simulator_process(*options: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "kraken_proto.adapters.cli", "simulator", "--port", "0"]
    return subprocess.Popen(
        [*command, *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


async def _token_and_subscription(
    endpoint: Announcement, context: ssl.SSLContext | None = None
) -> SystemStatus:
    """Fetch a token, subscribe to openOrders with it; return the systemStatus seen on connect."""
    token = await fetch_token(endpoint, context)
    async with ws_connect(endpoint.ws_url, ssl_context=context) as client:
        status = await client.receive()
        assert isinstance(status, SystemStatus)
        await client.send(
            {
                "event": "subscribe",
                "reqid": 4,
                "subscription": {"name": "openOrders", "token": token},
            }
        )
        ack, _ = await client.receive_until(SubscriptionStatus)
        assert isinstance(ack, SubscriptionStatus)
        assert ack.status == "subscribed"
        snapshot, _ = await client.receive_until(OpenOrders)
        assert isinstance(snapshot, OpenOrders)
        assert snapshot.sequence == 1
        return status


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_cli_announces_serves_and_exits_zero_on_signal(signal_number: signal.Signals) -> None:
    with _simulator_process() as process:
        try:
            started = time.monotonic()
            announcement, _ = _read_announcement(process)
            startup = time.monotonic() - started
            assert startup < STARTUP_LIMIT, f"startup took {startup:.2f} s"
            assert announcement.rest_url.startswith("http://127.0.0.1:")
            assert announcement.ws_url.startswith("ws://127.0.0.1:")
            assert announcement.ca_file is None

            status = trio.run(_token_and_subscription, announcement)
            assert status.status == "online"

            process.send_signal(signal_number)
            assert process.wait(timeout=STEP) == 0
            assert process.stderr is not None
            assert process.stderr.read() == ""
        finally:
            process.kill()


def test_cli_tls_mode_reports_a_ca_that_verifies_localhost() -> None:
    with _simulator_process("--tls", "--seed", "12") as process:
        try:
            announcement, _ = _read_announcement(process)
            assert announcement.rest_url.startswith("https://")
            assert announcement.ws_url.startswith("wss://")
            assert announcement.ca_file is not None
            ca_file = Path(announcement.ca_file)
            context = ssl.create_default_context(cafile=ca_file)
            trio.run(_token_and_subscription, announcement, context)

            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=STEP) == 0
            assert not ca_file.exists()  # the throw-away CA goes with the process
        finally:
            process.kill()


def test_the_seed_fixes_the_credentials() -> None:
    announcements = []
    for _ in range(2):
        with _simulator_process("--seed", "42") as process:
            try:
                announcements.append(_read_announcement(process)[0])
                process.send_signal(signal.SIGTERM)
                assert process.wait(timeout=STEP) == 0
            finally:
                process.kill()
    first, second = announcements
    assert (first.api_key, first.api_secret) == (second.api_key, second.api_secret)


# -- in-process runs (the subprocess above is not measured by coverage) --------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _parse(*options: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kraken-proto simulator")
    cli.configure(parser)
    return parser.parse_args(list(options))


async def _wait_until_listening(port: int) -> None:
    with trio.fail_after(STEP):
        while True:
            try:
                stream = await trio.open_tcp_stream("127.0.0.1", port)
            except OSError:  # not listening yet
                await trio.sleep(0.02)
            else:
                await stream.aclose()
                return


def _run_in_process(args: argparse.Namespace, client: Callable[[], Awaitable[None]]) -> int:
    """``cli.run(args)`` in this (main) thread while ``client`` runs in another, then Ctrl-C."""

    def client_then_interrupt() -> None:
        try:
            trio.run(client)
        finally:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does; the simulator exits 0

    worker = threading.Thread(target=client_then_interrupt)
    worker.start()
    try:
        return cli.run(args)
    finally:
        worker.join()


def test_run_in_process_applies_status_price_and_faults(capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    seen: dict[str, object] = {}

    async def client() -> None:
        await _wait_until_listening(port)
        status, _, _ = await http_request(url, "POST", TOKEN_PATH, body=b"nonce=1")
        seen["rest"] = status
        async with ws_connect(f"ws://127.0.0.1:{port}") as connection:
            seen["status"] = await connection.receive()
            closed = await connection.wait_closed()  # close-after=1
            seen["close"] = closed.code

    args = _parse(
        *("--port", str(port), "--status", "maintenance", "--price", "XBT/USD=25000.5"),
        *("--rest-fault", "http_500", "--fault", "close-after=1", "--fault", "no-heartbeats"),
    )
    assert _run_in_process(args, client) == 0
    announced = json.loads(capsys.readouterr().out.splitlines()[0])
    assert announced["rest_url"] == url
    assert set(announced) == {"rest_url", "ws_url", "api_key", "api_secret"}
    assert seen["rest"] == 500
    status = seen["status"]
    assert isinstance(status, SystemStatus)
    assert status.status == "maintenance"
    assert seen["close"] == 1006


def test_run_in_process_with_tls_announces_the_ca(capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()

    async def client() -> None:
        await _wait_until_listening(port)

    assert _run_in_process(_parse("--port", str(port), "--tls"), client) == 0
    announced = json.loads(capsys.readouterr().out.splitlines()[0])
    assert announced["ws_url"] == f"wss://127.0.0.1:{port}"
    assert announced["ca_file"].endswith("ca.pem")


def test_fault_options_map_onto_the_model_faults() -> None:
    faults = cli._parse_faults(
        [
            "close-after=3",
            "skip-sequence=1",
            "repeat-sequence=2",
            "drop-replies=4",
            "reply-delay=0.25",
            "malformed=5",
            "no-heartbeats",
        ]
    )
    assert faults == Faults(
        close_after_frames=3,
        skip_sequence=1,
        repeat_sequence=2,
        drop_replies=4,
        reply_delay=0.25,
        malformed_frames=5,
        heartbeats=False,
    )


def test_price_options_set_reference_prices() -> None:
    config = make_config(0)
    cli._apply_prices(config, ["XBT/USD=25000.5", "ETH/USD=1800"])
    assert config.pairs["XBT/USD"].reference_price == Decimal("25000.5")
    assert config.pairs["ETH/USD"].reference_price == Decimal("1800")


def test_a_port_in_use_exits_1_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.run(_parse("--port", str(port))) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"cannot listen on 127.0.0.1:{port}" in captured.err


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (["--fault", "close-after=-1"], "non-negative integer"),
        (["--fault", "drop-replies=many"], "non-negative integer"),
        (["--fault", "reply-delay=soon"], "seconds >= 0"),
        (["--fault", "reply-delay=inf"], "seconds >= 0"),
        (["--fault", "no-heartbeats=1"], "unknown fault"),
        (["--fault", "explode"], "unknown fault"),
        (["--fault", "rest=http_500"], "use --rest-fault"),
        (["--price", "DOGE/USD=1"], "unknown pair 'DOGE/USD'"),
        (["--price", "XBT/USD=cheap"], "positive decimal"),
        (["--price", "XBT/USD=-5"], "positive decimal"),
    ],
)
def test_bad_option_values_exit_2_with_a_message(
    options: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.run(_parse(*options)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert complaint in captured.err
