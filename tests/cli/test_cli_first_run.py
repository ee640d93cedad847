"""What a first run of the CLI ran into (issue 18), each fixed and kept fixed: Ctrl-C and a
closed pipe end quietly with the right exit code, add-order offers only order types that work,
one ``--order-id`` for every command, the URLs from the environment (named in ``--help``), a
dead URL given up on in seconds, simulator-ctl faults with an explicit scope, and the watch
view's stale note."""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from kraken_proto import AddOrder, LocalProtocolError, Reconnected, Reconnecting
from kraken_proto.adapters import cli
from kraken_proto.adapters.cli import _session
from kraken_proto.adapters.cli import watch as cli_watch
from kraken_proto.adapters.cli._common import CliError
from kraken_proto.adapters.cli.add_order import CHOICES
from kraken_proto.adapters.runners.blocking import BlockingSession
from kraken_proto.adapters.simulator.model.exchange import Faults
from kraken_proto.adapters.simulator.server import SimulatorThread, run_in_thread
from kraken_proto.v1._requests import ORDER_TYPES

ORDER = ["--pair", "XBT/USD", "--type", "buy", "--ordertype", "limit", "--volume", "0.1"]
CLI = [sys.executable, "-m", "kraken_proto"]
MARKET = ["--pair", "XBT/USD", "--type", "buy", "--volume", "0.1", "--ordertype", "market"]
# Credentials that are well formed (a 64-byte secret) but that no exchange knows.
SOME_SECRET = base64.b64encode(bytes(64)).decode()


def urls(sim: SimulatorThread) -> list[str]:
    return ["--rest-url", sim.rest_url, "--ws-url", sim.ws_url]


def credentials(sim: SimulatorThread) -> dict[str, str]:
    return {"KRAKEN_API_KEY": sim.api_key, "KRAKEN_API_SECRET": sim.api_secret}


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorThread]:
    with run_in_thread(seed=41) as server:
        for name, value in credentials(server).items():
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def dead_port() -> Iterator[int]:
    with socket.socket() as probe:  # bound, never listening: connections are refused
        probe.bind(("127.0.0.1", 0))
        yield probe.getsockname()[1]


def wait_for(condition: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not callable(condition) or not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def interrupt(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    return process.communicate(timeout=30)


# --- Ctrl-C --------------------------------------------------------------------------------


def test_ctrl_c_after_the_order_went_out_exits_3_with_its_cl_ord_id(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with run_in_thread(seed=42, default_faults=Faults(reply_delay=30.0)) as sim:
        env = dict(os.environ, **credentials(sim))
        process = subprocess.Popen(
            [*CLI, "add-order", *urls(sim), *ORDER, "--price", "1000"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            # The order is in the book; its reply is held back: the outcome is still open.
            wait_for(lambda: sim.open_orders())
            _out, err = interrupt(process)
        finally:
            process.kill()
        assert process.returncode == 3
        assert "Traceback" not in err
        assert "OUTCOME UNKNOWN (interrupted before Kraken's answer)" in err
        (order,) = sim.open_orders().values()
        assert order.cl_ord_id is not None
        assert f"kraken-proto orders --cl-ord-id {order.cl_ord_id}" in err
        # ... and that is how it is found.
        for name, value in credentials(sim).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        assert cli.main(["orders", "--json", *urls(sim), "--cl-ord-id", order.cl_ord_id]) == 0
        assert json.loads(capsys.readouterr().out)["cl_ord_id"] == order.cl_ord_id


def test_ctrl_c_before_anything_was_sent_exits_130_in_one_line(dead_port: int) -> None:
    here = [
        "--rest-url",
        f"http://127.0.0.1:{dead_port}",
        "--ws-url",
        f"ws://127.0.0.1:{dead_port}",
    ]
    env = dict(os.environ, KRAKEN_API_KEY="key", KRAKEN_API_SECRET=SOME_SECRET)
    process = subprocess.Popen(
        [*CLI, "add-order", *here, *ORDER, "--price", "1000", "--connect-timeout", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        time.sleep(1.5)  # connecting (and failing, and retrying)
        _out, err = interrupt(process)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "Traceback" not in err
    assert err.splitlines()[-1] == "kraken-proto add-order: interrupted"


def test_ctrl_c_anywhere_else_is_one_line_and_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kraken_proto.adapters.cli import decode

    def interrupted(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(decode, "run", interrupted)
    assert cli.main(["decode"]) == 130
    assert capsys.readouterr().err == "kraken-proto decode: interrupted\n"

    def in_a_nursery(args: argparse.Namespace) -> int:  # as trio reports it from a task
        raise BaseExceptionGroup("nursery", [BaseExceptionGroup("inner", [KeyboardInterrupt()])])

    monkeypatch.setattr(decode, "run", in_a_nursery)
    assert cli.main(["decode"]) == 130

    def mixed(args: argparse.Namespace) -> int:
        raise BaseExceptionGroup("nursery", [KeyboardInterrupt(), ValueError("a bug")])

    monkeypatch.setattr(decode, "run", mixed)
    with pytest.raises(BaseExceptionGroup):  # a real error is never hidden
        cli.main(["decode"])


def test_ctrl_c_after_the_answer_still_prints_it(
    sim: SimulatorThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    close = BlockingSession.close

    def impatient_close(self: BlockingSession, timeout: float = 5.0) -> None:
        close(self, timeout)
        raise KeyboardInterrupt  # pressed while the session said goodbye

    monkeypatch.setattr(BlockingSession, "close", impatient_close)
    assert cli.main(["add-order", *urls(sim), *ORDER, "--price", "1000"]) == 0
    assert capsys.readouterr().out.startswith("placed O")


def test_demo_into_head_ends_quietly() -> None:
    process = subprocess.Popen(
        [*CLI, "demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline()  # `| head -1`: read a line, then leave
    process.stdout.close()
    try:
        err = process.communicate(timeout=60)[1]
    finally:
        process.kill()
    assert process.returncode == 0
    assert "Traceback" not in err
    assert "BrokenPipe" not in err


def test_a_closed_pipe_inside_a_nursery_ends_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    from kraken_proto.adapters.cli import decode

    def piped(args: argparse.Namespace) -> int:
        raise BaseExceptionGroup("nursery", [BrokenPipeError(32, "Broken pipe")])

    monkeypatch.setattr(decode, "run", piped)
    assert cli.main(["decode"]) == 0


# --- add-order offers what works --------------------------------------------------------------


def test_add_order_offers_only_the_order_types_it_takes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["add-order", "--help"])
    text = capsys.readouterr().out
    assert "iceberg" not in text
    assert "v1 only" in text  # the few types v2 does not have say so
    assert set(CHOICES["ordertype"]) == set(ORDER_TYPES)
    for ordertype in CHOICES["ordertype"]:
        assert ordertype in text
    with pytest.raises(SystemExit) as exited:
        cli.main(["add-order", *ORDER[:4], "--ordertype", "iceberg", "--volume", "1"])
    assert exited.value.code == 2
    assert "invalid choice: 'iceberg'" in capsys.readouterr().err
    # Every type offered builds a request, with the prices its rule asks for.
    candidates: list[dict[str, Any]] = [
        {},
        {"price": Decimal(1)},
        {"price": Decimal(1), "price2": Decimal(1)},
        {"price": "+5"},
        {"price": "+5", "price2": Decimal(1)},
    ]
    for ordertype in CHOICES["ordertype"]:
        built = []
        for prices in candidates:
            with contextlib.suppress(LocalProtocolError):
                built.append(
                    AddOrder(
                        ordertype=ordertype, type="buy", pair="XBT/USD", volume=Decimal(1), **prices
                    )
                )
        assert built, ordertype


# --- one name for an order id -------------------------------------------------------------


@pytest.mark.parametrize("name", ["cancel-order", "amend-order", "edit-order"])
def test_one_option_names_an_order_id(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main([name, "--help"])
    text = capsys.readouterr().out
    assert "--order-id" in text
    for other in ("--txid", "--orderid", "TXID"):
        assert other not in text


def test_order_id_works_in_every_command_and_errors_say_so(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["add-order", *urls(sim), *ORDER, "--price", "1000"]) == 0
    txid = capsys.readouterr().out.split()[1].rstrip(":")
    assert cli.main(["amend-order", *urls(sim), "--order-id", txid, "--limit-price", "999"]) == 0
    capsys.readouterr()
    edit = ["edit-order", *urls(sim), "--order-id", txid, "--pair", "XBT/USD", "--volume", "0.2"]
    assert cli.main(edit) == 0
    new_txid = capsys.readouterr().out.split()[5].rstrip(":")
    assert cli.main(["cancel-order", *urls(sim), "--order-id", new_txid]) == 0
    assert capsys.readouterr().out.strip() == "cancelled"
    assert cli.main(["amend-order", *urls(sim), "--limit-price", "1"]) == 2
    assert "(txid is --order-id here)" in capsys.readouterr().err


# --- the URLs from the environment ------------------------------------------------------------

READS = {
    "sign": {"KRAKEN_API_SECRET"},
    "token": {"KRAKEN_API_KEY", "KRAKEN_API_SECRET", "KRAKEN_REST_URL"},
    "orders": {"KRAKEN_API_KEY", "KRAKEN_API_SECRET", "KRAKEN_REST_URL"},
    "trades": {"KRAKEN_API_KEY", "KRAKEN_API_SECRET", "KRAKEN_REST_URL"},
    "simulator-ctl": {"KRAKEN_SIMULATOR_URL", "KRAKEN_SIMULATOR_CA_FILE"},
    **{
        name: {
            "KRAKEN_API_KEY",
            "KRAKEN_API_SECRET",
            "KRAKEN_REST_URL",
            "KRAKEN_WS_URL",
            "KRAKEN_WS_V2_URL",
        }
        for name in (
            "watch",
            "add-order",
            "edit-order",
            "amend-order",
            "cancel-order",
            "cancel-all",
            "dead-man",
        )
    },
}


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_every_command_names_the_variables_it_reads_in_its_help(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        cli.main([name, "--help"])
    text = capsys.readouterr().out
    for variable in READS.get(name, set()):
        assert variable in text.partition("environment:")[2], variable


def test_the_urls_come_from_the_environment(
    sim: SimulatorThread,
    dead_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KRAKEN_REST_URL", sim.rest_url)
    monkeypatch.setenv("KRAKEN_WS_URL", sim.ws_url)
    assert cli.main(["add-order", *ORDER, "--price", "1000"]) == 0
    assert cli.main(["orders"]) == 0
    assert "1000" in capsys.readouterr().out
    # --protocol v2 reads KRAKEN_WS_V2_URL first (here the only one that answers).
    monkeypatch.setenv("KRAKEN_WS_URL", f"ws://127.0.0.1:{dead_port}")
    monkeypatch.setenv("KRAKEN_WS_V2_URL", sim.ws_url + "/v2")
    assert cli.main(["cancel-all", "--protocol", "v2", "--connect-timeout", "5"]) == 0
    assert capsys.readouterr().out.strip() == "cancelled 1 orders"
    # An option still wins, and a bad variable is named.
    monkeypatch.setenv("KRAKEN_REST_URL", "ftp://nowhere")
    assert cli.main(["orders", "--rest-url", sim.rest_url]) == 0
    capsys.readouterr()
    assert cli.main(["orders"]) == 2
    assert "$KRAKEN_REST_URL 'ftp://nowhere'" in capsys.readouterr().err


# --- a dead URL is given up on in seconds --------------------------------------------------


def test_a_dead_url_fails_fast_with_the_reason(
    dead_port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", "key")
    monkeypatch.setenv("KRAKEN_API_SECRET", SOME_SECRET)
    here = [
        "--rest-url",
        f"http://127.0.0.1:{dead_port}",
        "--ws-url",
        f"ws://127.0.0.1:{dead_port}",
    ]
    started = time.monotonic()
    assert cli.main(["add-order", *here, *ORDER, "--price", "1", "--connect-timeout", "1"]) == 1
    assert time.monotonic() - started < 5
    err = capsys.readouterr().err
    assert "not sent: no connection within 1 s (last attempt: token request failed" in err
    assert "nothing was placed or changed" in err
    assert cli.main(["add-order", *here, *ORDER, "--price", "1", "--connect-timeout", "0"]) == 2


def test_the_default_connect_budget_is_ten_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["cancel-all", "--help"])
    assert "--connect-timeout" in capsys.readouterr().out
    parser = argparse.ArgumentParser()
    _session.add_session_options(parser)
    assert parser.parse_args([]).connect_timeout == 10.0


def test_a_bad_key_fails_at_once_with_krakens_message(
    sim: SimulatorThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", "unknown-key")
    assert cli.main(["cancel-all", *urls(sim)]) == 1
    assert "EAPI:Invalid key" in capsys.readouterr().err


def test_a_connection_that_fails_for_good_while_waiting_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kraken_proto import SessionFailed, SessionState

    class Failing:
        state = SessionState.CONNECTING

        def events(self, timeout: float | None = None) -> list[object]:
            return [
                Reconnecting(reason="refused", attempt=1, delay=0.0),
                SessionFailed(reason="token refused", error="EAPI:Invalid key"),
            ]

    with pytest.raises(CliError, match="the session failed: token refused: EAPI"):
        _session.wait_until_connected(Failing(), 5.0, "ws://x")  # type: ignore[arg-type]


# --- simulator-ctl: a fault's scope is explicit --------------------------------------------------


def ctl(*args: str) -> int:
    return cli.main(["simulator-ctl", *args])


def test_a_session_fault_needs_its_scope(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ["--url", sim.rest_url]
    assert ctl(*url, "fault", "close-after=0") == 2
    assert "--scope current" in capsys.readouterr().err
    assert ctl(*url, "fault", "explode", "--scope", "all") == 2
    assert "unknown fault" in capsys.readouterr().err
    assert ctl(*url, "fault", "rest=http_500") == 0  # the exchange's own: no scope
    assert ctl(*url, "fault", "rest=off") == 0
    with pytest.raises(SystemExit):
        ctl("fault", "--help")
    text = capsys.readouterr().out
    for scope in ("--session ID", "--scope current", "--scope all", "fault clear --scope all"):
        assert scope in text


def test_scope_current_drops_todays_connections_only(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ["--url", sim.rest_url]
    with run_watch(sim) as watched:
        wait_for(lambda: '"event_type":"Connected"' in watched.getvalue())
        assert ctl(*url, "fault", "close-after=0", "--scope", "current") == 0
        assert json.loads(capsys.readouterr().out)["sessions"] == sim.session_ids()
        # A frame must be due for the server to act: a fill is one. The new connection the
        # order is placed on is not affected, nor is the watcher's next one.
        assert cli.main(["add-order", *urls(sim), *MARKET]) == 0
        wait_for(lambda: '"event_type":"Reconnected"' in watched.getvalue())
    assert sim.exchange.default_faults.close_after_frames is None


def test_scope_all_reaches_later_sessions_until_cleared_and_current_does_not(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ["--url", sim.rest_url]
    with run_watch(sim) as watched:
        wait_for(lambda: '"event_type":"Connected"' in watched.getvalue())
        (session,) = sim.session_ids()
        assert ctl(*url, "fault", "skip-sequence=2", "--scope", "current") == 0
        assert sim.exchange.faults(session).skip_sequence == 2
        assert sim.exchange.default_faults.skip_sequence == 0  # later sessions: untouched
        assert ctl(*url, "fault", "no-heartbeats", "--scope", "all") == 0
        assert not sim.exchange.faults(session).heartbeats
        assert not sim.exchange.default_faults.heartbeats  # ... and every later one
        assert ctl(*url, "fault", "clear", "--scope", "all") == 0
        assert sim.exchange.faults(session) == Faults()
        assert sim.exchange.default_faults == Faults()
        assert ctl(*url, "fault", "malformed=1", "--session", str(session)) == 0
        assert sim.exchange.faults(session).malformed_frames == 1
    capsys.readouterr()


class run_watch:
    """``kraken-proto watch --json`` in a thread, its output in a StringIO."""

    def __init__(self, sim: SimulatorThread) -> None:
        import threading

        parser = argparse.ArgumentParser()
        cli_watch.configure(parser)
        args = parser.parse_args([*urls(sim), "--json", "--duration", "15"])
        self.out = io.StringIO()
        self.codes: list[int] = []
        self.thread = threading.Thread(
            target=lambda: self.codes.append(cli_watch._watch(args, self.out)), daemon=True
        )

    def __enter__(self) -> io.StringIO:
        self.thread.start()
        return self.out

    def __exit__(self, *exc: object) -> None:
        self.thread.join(timeout=20)


# --- watch: the note goes once connected again ------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_watch_note_is_cleared_when_reconnected() -> None:
    screen = FakeTerminal()
    view = cli_watch.LiveView(screen, "ws://x")
    with view.capturing_logs():
        logging.getLogger("kraken_proto.session").warning("Kraken session: connection lost")
    view.note(Reconnecting(reason="connection lost", attempt=1, delay=0.0))
    view.draw({}, {}, "waiting")
    assert "last note: Kraken session: connection lost" in screen.getvalue()
    view.note(Reconnected(downtime=1.5))
    view.draw({}, {}, "live")
    last = screen.getvalue().split("\x1b[H\x1b[J")[-1]
    assert "last note" not in last
    assert "connected again after 1.5 s" in last


def test_ctrl_c_while_waiting_for_the_outcome_in_process(
    sim: SimulatorThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_session, "_call", interrupted)
    assert cli.main(["dead-man", "60", *urls(sim)]) == 3
    err = capsys.readouterr().err
    assert "OUTCOME UNKNOWN (interrupted before Kraken's answer)" in err
    assert "arming or disarming twice does no harm" in err


def test_the_lookup_hint_names_what_to_look_for() -> None:
    from kraken_proto import AmendOrder, CancelOrder

    amend = AmendOrder(cl_ord_id="my-order", volume=Decimal(1))
    assert "kraken-proto orders --cl-ord-id my-order" in _session.lookup_hint(amend)
    cancel = CancelOrder(txid=("OAAAAA-BBBBB-CCCCCC",))
    assert _session.lookup_hint(cancel).startswith("check `kraken-proto orders`")
