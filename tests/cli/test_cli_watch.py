"""``kraken-proto watch``: JSON lines when piped, a live view on a terminal."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from kraken_proto import (
    Connected,
    Order,
    Reconnected,
    Reconnecting,
    SessionClosed,
    SessionFailed,
    SystemStatusChanged,
    Trade,
)
from kraken_proto.adapters.cli import main
from kraken_proto.adapters.cli import watch as cli_watch
from kraken_proto.adapters.simulator.model.exchange import Exchange
from kraken_proto.adapters.simulator.server import SimulatorThread, run_in_thread
from kraken_proto.v1 import OrderDescr

from tests.exponents import has_exponent

ORDER = ["--pair", "XBT/USD", "--type", "buy", "--volume", "0.1"]


def urls(sim: SimulatorThread) -> list[str]:
    return ["--rest-url", sim.rest_url, "--ws-url", sim.ws_url]


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorThread]:
    with run_in_thread(seed=31) as server:
        monkeypatch.setenv("KRAKEN_API_KEY", server.api_key)
        monkeypatch.setenv("KRAKEN_API_SECRET", server.api_secret)
        yield server


def trade_a_little(sim: SimulatorThread, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["add-order", *urls(sim), *ORDER, "--ordertype", "limit", "--price", "29000"]) == 0
    for _ in range(2):
        assert main(["add-order", *urls(sim), *ORDER, "--ordertype", "market"]) == 0
    capsys.readouterr()


def test_watch_json_max_events(sim: SimulatorThread, capsys: pytest.CaptureFixture[str]) -> None:
    trade_a_little(sim, capsys)
    assert main(["watch", "--json", "--max-events", "5", "--duration", "20", *urls(sim)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    events = [json.loads(line) for line in lines]
    kinds = [event["event_type"] for event in events]
    assert "Connected" in kinds
    assert kinds.count("FillReceived") == 2
    fill = next(event for event in events if event["event_type"] == "FillReceived")
    assert fill["trade"]["vol"] == "0.10000000"
    assert not has_exponent("".join(lines))


def test_watch_when_piped_prints_json(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    trade_a_little(sim, capsys)
    env_args = [sys.executable, "-m", "kraken_proto", "watch", "--max-events", "3", *urls(sim)]
    import os

    env = dict(os.environ, KRAKEN_API_KEY=sim.api_key, KRAKEN_API_SECRET=sim.api_secret)
    result = subprocess.run(
        [*env_args, "--duration", "20"], capture_output=True, text=True, timeout=50, env=env
    )
    assert result.returncode == 0, result.stderr
    assert all(json.loads(line)["event_type"] for line in result.stdout.splitlines())


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def watch_args(sim: SimulatorThread, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_watch.configure(parser)
    return parser.parse_args([*urls(sim), *extra])


def test_watch_on_a_terminal_redraws_a_live_view(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    trade_a_little(sim, capsys)
    screen = FakeTerminal()
    assert cli_watch._watch(watch_args(sim, "--duration", "1.5"), screen) == 0
    frames = screen.getvalue().split("\x1b[H\x1b[J")[1:]
    assert frames
    last = frames[-1]
    assert "connection: connected" in last
    assert "(session live)" in last
    assert "OPEN ORDERS (1)" in last
    assert "29000" in last
    assert "LATEST FILLS (2 of 2)" in last
    assert "Ctrl-C to stop" in last


def test_watch_ends_on_max_events_in_the_live_view(sim: SimulatorThread) -> None:
    screen = FakeTerminal()
    assert cli_watch._watch(watch_args(sim, "--max-events", "1", "--duration", "20"), screen) == 0


def test_watch_channels_and_bad_usage(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["watch", "--json", "--channels", "ownTrades", "--duration", "0.5", *urls(sim)]) == 0
    )
    capsys.readouterr()
    assert main(["watch", "--channels", "book", *urls(sim)]) == 2
    assert "--channels" in capsys.readouterr().err
    assert main(["watch", "--channels", ",", *urls(sim)]) == 2
    assert main(["watch", "--max-events", "0", *urls(sim)]) == 2


def test_watch_reports_a_failed_session(
    sim: SimulatorThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", "unknown-key")
    assert main(["watch", "--json", "--duration", "20", *urls(sim)]) == 1
    captured = capsys.readouterr()
    assert "EAPI:Invalid key" in captured.err + captured.out
    assert "the session failed" in captured.err


def test_ctrl_c_stops_watch(sim: SimulatorThread, monkeypatch: pytest.MonkeyPatch) -> None:
    from kraken_proto.adapters.runners import blocking as blocking_runner

    def interrupted(self: object, timeout: float | None = None) -> list[object]:
        raise KeyboardInterrupt

    monkeypatch.setattr(blocking_runner.BlockingSession, "events", interrupted)
    assert main(["watch", "--json", *urls(sim)]) == 0


def test_state_lines() -> None:
    state = "connecting"
    state = cli_watch.state_text(Connected(), state)
    assert state == "connected"
    state = cli_watch.state_text(SystemStatusChanged(status="maintenance"), state)
    assert state == "connected | engine maintenance"
    state = cli_watch.state_text(Reconnecting(reason="closed", attempt=2, delay=5.0), state)
    assert state == "reconnecting (attempt 2, in 5.0 s): closed"
    state = cli_watch.state_text(Reconnected(downtime=6.25), state)
    assert state.startswith("connected again after 6.2 s; orders and fills reconciled")
    assert cli_watch.state_text(SessionFailed(reason="bad key"), state) == "failed: bad key"
    assert cli_watch.state_text(SessionClosed(), state) == "closed"


def test_render_view_shows_exact_decimals() -> None:
    order = Order(
        txid="OABCDE-FGHIJ-KLMNOP",
        status="open",
        vol=Decimal("0.5"),
        vol_exec=Decimal("0E-8"),
        descr=OrderDescr(type="buy", ordertype="limit", pair="XBT/USD", price=Decimal("29000.0")),
    )
    stub = Order(txid="OSTUB0-00000-000000", is_stub=True)
    trade = Trade(pair="XBT/USD", type="buy", vol=Decimal("0.1"), price=Decimal("30000.0"))
    text = cli_watch.render_view(
        where="ws://x",
        state="connected",
        orders={order.txid: order, stub.txid: stub},
        fills=[("T1", trade)],
        fills_total=1,
        events=3,
    )
    assert "0.00000000" in text
    assert not has_exponent(text)
    assert "OSTUB0-00000-000000  -" in text
    empty = cli_watch.render_view(
        where="ws://x", state="connecting", orders={}, fills=[], fills_total=0, events=0
    )
    assert empty.count("(none)") == 2


def test_watch_json_shows_a_reconnect_and_the_reconciled_state(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    codes: list[int] = []
    out = io.StringIO()
    args = watch_args(sim, "--json", "--duration", "8")
    worker = threading.Thread(target=lambda: codes.append(cli_watch._watch(args, out)))
    worker.start()
    deadline = time.monotonic() + 10
    while '"event_type":"Connected"' not in out.getvalue():
        assert time.monotonic() < deadline, out.getvalue()
        time.sleep(0.01)
    live_sessions = sim.session_ids()

    def cut(exchange: Exchange, now: float) -> None:
        for session_id in live_sessions:
            exchange.faults(session_id).close_after_frames = 0

    sim.apply(cut)
    # A frame must be due for the server to act on the fault: a fill is one.
    assert main(["add-order", *urls(sim), *ORDER, "--ordertype", "market"]) == 0
    worker.join(timeout=20)
    assert codes == [0]
    kinds = [json.loads(line)["event_type"] for line in out.getvalue().splitlines()]
    assert "Reconnecting" in kinds
    assert "Reconnected" in kinds
    assert kinds.index("Reconnecting") < kinds.index("Reconnected")
    assert "FillReceived" in kinds  # the fill made while it was away still arrives, once
    assert kinds.count("FillReceived") == 1


def test_the_live_view_shows_the_sessions_warnings_as_a_note(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import logging

    screen = FakeTerminal()
    view = cli_watch.LiveView(screen, "ws://x")
    with view.capturing_logs():
        logging.getLogger("kraken_proto.session").warning("Kraken session: connection lost")
    logging.getLogger("kraken_proto.session").warning("after the view: not captured")
    view.draw({}, {}, "waiting")
    assert "last note: Kraken session: connection lost" in screen.getvalue()
    assert "(session waiting)" in screen.getvalue()
    assert "connection lost" not in capsys.readouterr().err
    view.draw({}, {}, "waiting")  # nothing changed: nothing redrawn
    assert screen.getvalue().count("\x1b[H\x1b[J") == 1
