"""The trading and REST commands against the in-process simulator, outcomes and exit codes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from kraken_proto.adapters.cli import main
from kraken_proto.adapters.simulator.model.exchange import Exchange, Faults
from kraken_proto.adapters.simulator.server import SimulatorThread, run_in_thread

from tests.exponents import has_exponent

ORDER = ["--pair", "XBT/USD", "--type", "buy", "--ordertype", "limit", "--volume", "0.1"]


def urls(sim: SimulatorThread) -> list[str]:
    return ["--rest-url", sim.rest_url, "--ws-url", sim.ws_url]


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorThread]:
    with run_in_thread(seed=21) as server:
        monkeypatch.setenv("KRAKEN_API_KEY", server.api_key)
        monkeypatch.setenv("KRAKEN_API_SECRET", server.api_secret)
        yield server


def place(sim: SimulatorThread, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["add-order", *urls(sim), *ORDER, "--price", "29000", *extra]) == 0
    out = capsys.readouterr().out
    assert out.startswith("placed O")
    return out.split()[1].rstrip(":")


def test_add_list_amend_edit_cancel(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    txid = place(sim, capsys, "--cl-ord-id", "cli-test-1")
    assert main(["orders", *urls(sim)]) == 0
    table = capsys.readouterr().out
    assert txid in table
    assert "29000" in table
    assert not has_exponent(table)
    assert main(["orders", "--json", *urls(sim)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    order = json.loads(line)
    assert order["txid"] == txid
    assert order["vol_exec"] == "0.00000000"
    assert order["cl_ord_id"] == "cli-test-1"

    assert main(["amend-order", *urls(sim), "--order-id", txid, "--limit-price", "28900"]) == 0
    assert capsys.readouterr().out.startswith(f"amended {txid}")

    assert main(["edit-order", *urls(sim), "--order-id", txid, "--pair", "XBT/USD"]) == 2
    assert "give at least one of" in capsys.readouterr().err  # nothing to change: local

    assert (
        main(["edit-order", *urls(sim), "--order-id", txid, "--pair", "XBT/USD", "--volume", "0.2"])
        == 0
    )
    edited = capsys.readouterr().out
    assert edited.startswith(f"edited {txid} -> new order O")
    new_txid = edited.split()[5].rstrip(":")

    assert main(["cancel-order", "--json", *urls(sim), "--order-id", new_txid]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["event_type"] == "RequestAccepted"
    assert outcome["request"]["txid"] == [new_txid]

    assert main(["orders", "--closed", *urls(sim)]) == 0
    closed = capsys.readouterr().out
    assert new_txid in closed
    assert "canceled" in closed


def test_cancel_by_cl_ord_id_and_cancel_all(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    place(sim, capsys, "--cl-ord-id", "to-cancel")
    place(sim, capsys)
    assert main(["cancel-order", *urls(sim), "--cl-ord-id", "to-cancel"]) == 0
    assert capsys.readouterr().out.strip() == "cancelled"
    assert main(["cancel-all", *urls(sim)]) == 0
    assert capsys.readouterr().out.strip() == "cancelled 1 orders"
    assert main(["orders", *urls(sim)]) == 0
    assert capsys.readouterr().out.strip() == "no open orders"


def test_refusals_exit_1_with_krakens_message(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["add-order", *urls(sim), *ORDER[:-1], "1000", "--price", "29000"]) == 1
    assert "refused by Kraken: EOrder:Insufficient funds" in capsys.readouterr().err
    assert main(["cancel-order", *urls(sim), "--order-id", "OAAAAA-BBBBB-CCCCCC"]) == 1
    assert "EOrder:Unknown order" in capsys.readouterr().err
    assert main(["add-order", "--json", *urls(sim), *ORDER[:-1], "1000", "--price", "29000"]) == 1
    assert json.loads(capsys.readouterr().out)["event_type"] == "RequestRefused"


def test_bad_usage_exits_2(sim: SimulatorThread, capsys: pytest.CaptureFixture[str]) -> None:
    # The session finds orders again after a disconnect by cl_ord_id, so it refuses userref.
    assert main(["add-order", *urls(sim), *ORDER, "--price", "1", "--userref", "5"]) == 2
    assert "cl_ord_id" in capsys.readouterr().err
    assert main(["add-order", *urls(sim), *ORDER[:-1], "-1", "--price", "1"]) == 2
    assert "volume" in capsys.readouterr().err
    assert main(["cancel-order", *urls(sim)]) == 2  # no id at all
    capsys.readouterr()
    assert main(["dead-man", "10", "--request-timeout", "0", *urls(sim)]) == 2
    assert "--request-timeout" in capsys.readouterr().err
    assert main(["add-order", "--ws-url", sim.rest_url, *ORDER, "--price", "1"]) == 2
    assert "expected a ws:// or wss:// URL" in capsys.readouterr().err


def test_dead_man_arms_and_disarms(
    sim: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dead-man", "60", *urls(sim)]) == 0
    assert "dead man's switch armed" in capsys.readouterr().out
    # The timer lives at the exchange: still armed after the command's session closed.
    armed = sim.apply(lambda exchange, now: exchange._book.dead_man_at)
    assert armed is not None
    assert main(["dead-man", "0", *urls(sim)]) == 0
    assert capsys.readouterr().out.strip() == "dead man's switch disarmed"


def test_trades_after_a_fill(sim: SimulatorThread, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["add-order", *urls(sim), *ORDER[:4], "--ordertype", "market", "--volume", "0.25"])
        == 0
    )
    capsys.readouterr()
    assert main(["trades", *urls(sim), "--since", "1h"]) == 0
    table = capsys.readouterr().out
    assert "0.25000000" in table
    assert "market" in table
    assert main(["trades", "--json", *urls(sim)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    trade = json.loads(line)
    assert Decimal(trade["vol"]) == Decimal("0.25")
    assert trade["txid"].startswith("T")
    assert main(["trades", *urls(sim), "--since", "2000-01-01"]) == 0
    assert main(["trades", *urls(sim), "--since", "soon"]) == 2


def test_no_trades(sim: SimulatorThread, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trades", *urls(sim)]) == 0
    assert capsys.readouterr().out.strip() == "no trades"
    assert main(["orders", "--closed", *urls(sim), "--since", "1d"]) == 0
    assert capsys.readouterr().out.strip() == "no closed orders"


def test_rest_refusal_names_krakens_error(
    sim: SimulatorThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", "unknown-key")
    assert main(["orders", *urls(sim)]) == 1
    assert "EAPI:Invalid key" in capsys.readouterr().err


def test_a_lost_reply_is_reconciled_not_resent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with run_in_thread(seed=22, default_faults=Faults(drop_replies=1)) as sim:
        monkeypatch.setenv("KRAKEN_API_KEY", sim.api_key)
        monkeypatch.setenv("KRAKEN_API_SECRET", sim.api_secret)
        fast = ["--request-timeout", "0.5", "--timeout", "20"]
        assert main(["add-order", *urls(sim), *fast, *ORDER, "--price", "29000"]) == 0
        out = capsys.readouterr().out
        assert "took effect: txid O" in out
        assert "reconciled via" in out
        placed = sim.apply(lambda exchange, now: list(exchange.open_orders()))
        assert len(placed) == 1  # placed once, never re-sent
        big = [*ORDER[:-1], "1000", "--price", "29000"]
        assert main(["add-order", *urls(sim), *fast, *big]) == 1
        assert "did not take effect" in capsys.readouterr().err


def test_an_outcome_that_stays_unknown_exits_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with run_in_thread(seed=23, default_faults=Faults(drop_replies=100)) as sim:
        monkeypatch.setenv("KRAKEN_API_KEY", sim.api_key)
        monkeypatch.setenv("KRAKEN_API_SECRET", sim.api_secret)
        args = ["add-order", *urls(sim), *ORDER, "--price", "29000", "--timeout", "1"]
        assert main(args) == 3
        assert "OUTCOME UNKNOWN" in capsys.readouterr().err


def test_a_disconnect_before_the_reply_is_reconciled(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Replies are held for a second; once the order is in the book the test makes the server
    # drop that connection before the reply goes out, as a real network failure would.
    with run_in_thread(seed=24, default_faults=Faults(reply_delay=1.0)) as sim:
        monkeypatch.setenv("KRAKEN_API_KEY", sim.api_key)
        monkeypatch.setenv("KRAKEN_API_SECRET", sim.api_secret)
        codes: list[int] = []
        args = ["add-order", *urls(sim), *ORDER, "--price", "29000", "--timeout", "30"]
        worker = threading.Thread(target=lambda: codes.append(main(args)))
        worker.start()
        deadline = time.monotonic() + 20
        while not sim.apply(lambda exchange, now: exchange.open_orders()):
            assert time.monotonic() < deadline, "the order never reached the book"
            time.sleep(0.01)

        live_sessions = sim.session_ids()

        def cut(exchange: Exchange, now: float) -> None:
            for session_id in live_sessions:
                exchange.faults(session_id).close_after_frames = 0

        sim.apply(cut)
        worker.join(timeout=40)
        assert codes == [0]
        out = capsys.readouterr().out
        assert "took effect: txid O" in out
        assert "reconciled via" in out
        assert len(sim.apply(lambda exchange, now: exchange.open_orders())) == 1  # sent once


def test_an_order_never_sent_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import base64
    import socket

    monkeypatch.setenv("KRAKEN_API_KEY", "some-key")
    monkeypatch.setenv("KRAKEN_API_SECRET", base64.b64encode(bytes(64)).decode())
    with socket.socket() as probe:  # bound, never listening: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        here = ["--rest-url", f"http://127.0.0.1:{port}", "--ws-url", f"ws://127.0.0.1:{port}"]
        args = ["add-order", *here, *ORDER, "--price", "1000", "--timeout", "1.5"]
        assert main(args) == 1
    assert "not sent: no connection within 1.5 s" in capsys.readouterr().err


def test_trading_and_rest_over_tls_with_ca_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with run_in_thread(seed=25, tls=True) as sim:
        assert sim.ca_file is not None
        monkeypatch.setenv("KRAKEN_API_KEY", sim.api_key)
        monkeypatch.setenv("KRAKEN_API_SECRET", sim.api_secret)
        secure = [*urls(sim), "--ca-file", sim.ca_file]
        assert sim.ws_url.startswith("wss://")
        assert main(["add-order", *secure, *ORDER, "--price", "29000"]) == 0
        assert main(["orders", *secure]) == 0
        assert "29000" in capsys.readouterr().out
        # Without the CA the certificate is not trusted: the command says it cannot connect.
        assert main(["orders", *urls(sim)]) == 1
        assert "cannot talk to https://" in capsys.readouterr().err
