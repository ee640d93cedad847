"""Issue 12 item 5: ``--protocol v2`` / a ``/v2`` WebSocket URL works in the session runners
(blocking and trio), the CLI commands and ``kraken-proto demo``, over loopback TLS."""

from __future__ import annotations

import io
import json
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
import trio
from kraken_proto import (
    AddOrder,
    Credentials,
    FillReceived,
    LocalProtocolError,
    RequestAccepted,
    SessionConfig,
)
from kraken_proto.adapters import demo
from kraken_proto.adapters.cli import main
from kraken_proto.adapters.runners._link import choose_protocol
from kraken_proto.adapters.runners.blocking import open_session
from kraken_proto.adapters.runners.trio_runner import open_trio_session
from kraken_proto.adapters.simulator.server import SimulatorThread, run_in_thread
from kraken_proto.session import V2Link
from kraken_proto.v1 import Subscribe

MARKET_BUY = AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal("0.01"))


def test_choose_protocol_rules() -> None:
    base = "wss://ws-auth.kraken.com"
    url, config = choose_protocol(base, None, None)
    assert (url, config.protocol) == (base, "v1")
    url, config = choose_protocol(base + "/v2", None, None)
    assert (url, config.protocol) == (base + "/v2", "v2")
    url, config = choose_protocol(base + "/", None, "v2")
    assert (url, config.protocol) == (base + "/v2", "v2")
    mine = SessionConfig(protocol="v2", rest_tier="pro")
    url, config = choose_protocol("ws://127.0.0.1:1/", mine, None)
    assert url == "ws://127.0.0.1:1/v2"
    assert config is mine
    url, config = choose_protocol(base, mine, "v1")
    assert config.protocol == "v1"
    assert config.rest_tier == "pro"
    with pytest.raises(LocalProtocolError, match="v2 URL"):
        choose_protocol(base + "/v2", None, "v1")
    with pytest.raises(LocalProtocolError, match="'v1' or 'v2'"):
        choose_protocol(base, None, "v3")


@contextmanager
def simulator(seed: int) -> Iterator[tuple[SimulatorThread, ssl.SSLContext, Credentials]]:
    with run_in_thread(tls=True, seed=seed) as sim:
        assert sim.ca_file is not None
        context = ssl.create_default_context(cafile=str(sim.ca_file))
        yield sim, context, Credentials(api_key=sim.api_key, api_secret=sim.api_secret)


def test_blocking_session_over_v2_by_url() -> None:
    with (
        simulator(51) as (sim, context, credentials),
        open_session(
            credentials, rest_url=sim.rest_url, ws_url=sim.ws_url + "/v2", ssl_context=context
        ) as session,
    ):
        session.subscribe("ownTrades")
        session.subscribe("openOrders")
        outcome = session.add_order(MARKET_BUY, timeout=20)
        assert isinstance(outcome, RequestAccepted)
        assert isinstance(session.session.connection, V2Link)
        fills: list[FillReceived] = []
        for _ in range(50):
            fills += [e for e in session.events(timeout=0.1) if isinstance(e, FillReceived)]
            if sum(f.trade.vol or 0 for f in fills) == MARKET_BUY.volume:
                break
        assert {f.trade.ordertxid for f in fills} == {outcome.txid}
        assert sum(f.trade.vol or 0 for f in fills) == MARKET_BUY.volume
        order = session.orders.get(outcome.txid or "")
        assert order is not None
        assert order.vol_exec == MARKET_BUY.volume


def test_trio_session_over_v2_by_protocol() -> None:
    with simulator(52) as (sim, context, credentials):

        async def main() -> Any:
            async with open_trio_session(
                credentials,
                rest_url=sim.rest_url,
                ws_url=sim.ws_url,
                ssl_context=context,
                protocol="v2",
            ) as session:
                await session.subscribe(Subscribe(name="openOrders"))
                with trio.fail_after(20):
                    placed = await session.add_order(
                        AddOrder(
                            ordertype="limit",
                            type="buy",
                            pair="XBT/USD",
                            volume=Decimal("0.01"),
                            price=Decimal("1000.0"),
                        )
                    )
                    assert placed.txid is not None
                    amended = await session.amend_order(
                        txid=placed.txid, limit_price=Decimal("1001.0")
                    )
                    assert isinstance(amended, RequestAccepted)
                    cancelled = await session.cancel_order(txid=(placed.txid,))
                    assert isinstance(cancelled, RequestAccepted)
                    while session.orders.open_orders():
                        await trio.sleep(0.05)
                assert isinstance(session.session.connection, V2Link)
                return session.orders.get(placed.txid)

        order = trio.run(main)
        assert order is not None
        assert order.status == "canceled"


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorThread]:
    with run_in_thread(seed=53) as server:
        monkeypatch.setenv("KRAKEN_API_KEY", server.api_key)
        monkeypatch.setenv("KRAKEN_API_SECRET", server.api_secret)
        yield server


ORDER = ["--pair", "XBT/USD", "--type", "buy", "--ordertype", "limit", "--volume", "0.1"]


def test_cli_trading_over_v2(sim: SimulatorThread, capsys: pytest.CaptureFixture[str]) -> None:
    urls = ["--rest-url", sim.rest_url, "--ws-url", sim.ws_url]
    assert main(["add-order", *urls, "--protocol", "v2", *ORDER, "--price", "29000"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("placed O")
    txid = out.split()[1].rstrip(":")
    v2_urls = ["--rest-url", sim.rest_url, "--ws-url", sim.ws_url + "/v2"]
    assert main(["cancel-order", *v2_urls, "--order-id", txid]) == 0
    assert capsys.readouterr().out.startswith("cancelled")
    assert main(["cancel-order", *v2_urls, "--protocol", "v1", "--order-id", txid]) == 2
    assert "v2 URL" in capsys.readouterr().err


@pytest.mark.parametrize("adapter", ["trio", "blocking"])
def test_the_demo_tells_the_same_story_over_v2(adapter: str) -> None:
    out = io.StringIO()
    if adapter == "blocking":
        code = demo.run_demo_blocking(out, seed=3, protocol="v2")
    else:
        code = trio.run(lambda: demo.run_demo(out, seed=3, protocol="v2"))
    text = out.getvalue()
    assert code == 0, text
    assert f"adapter: {adapter} over WebSocket v2" in text
    assert "bought 1.00000000 XBT in total" in text
    assert "demo OK" in text


def test_demo_command_line_over_v2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--protocol", "v2", "--seed", "5"]) == 0
    assert "over WebSocket v2" in capsys.readouterr().out


def test_soak_smoke_over_v2(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.benchmarks.test_soak_smoke import _load

    argv = ["--adapter", "trio", "--protocol", "v2", "--seconds", "3", "--drop-every", "0.6"]
    assert _load().main([*argv, "--seed", "3"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["protocol"] == "v2"
    assert result["lost_fills"] == result["duplicated_fills"] == 0
    assert result["orders_placed_twice"] == result["wrong_outcomes"] == 0
    assert result["orders"] > 10
    assert result["fills"] > 10
    assert sum(result["faults"].values()) >= 3
