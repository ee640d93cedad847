"""Issue 18: ``kraken-proto watch --max-events N`` returns on a quiet account.

Each channel's first snapshot is reported (``SubscriptionReady``) even when it holds no row, so
the README's sequence (one resting order, then ``watch --json --max-events 5``) gets its five
events, and a fresh account its four, over v1 and v2.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from kraken_proto import SubscriptionReady
from kraken_proto.adapters.cli import main
from kraken_proto.adapters.cli import watch as cli_watch
from kraken_proto.adapters.simulator.server import SimulatorThread, run_in_thread

PROTOCOLS = ("v1", "v2")
LIMIT = 20.0  # --duration: the run must end on --max-events long before this


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorThread]:
    with run_in_thread(seed=7) as server:
        monkeypatch.setenv("KRAKEN_API_KEY", server.api_key)
        monkeypatch.setenv("KRAKEN_API_SECRET", server.api_secret)
        yield server


def _urls(sim: SimulatorThread, protocol: str) -> list[str]:
    return ["--rest-url", sim.rest_url, "--ws-url", sim.ws_url, "--protocol", protocol]


def _watch(sim: SimulatorThread, protocol: str, max_events: int) -> float:
    """Run ``watch --json --max-events N``; return how long it took."""
    args = ["watch", "--json", "--max-events", str(max_events), "--duration", str(LIMIT)]
    started = time.monotonic()
    assert main([*args, *_urls(sim, protocol)]) == 0
    return time.monotonic() - started


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_watch_returns_on_a_fresh_account(
    sim: SimulatorThread, protocol: str, capsys: pytest.CaptureFixture[str]
) -> None:
    took = _watch(sim, protocol, 4)
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert took < LIMIT / 2  # ended by --max-events, not by --duration
    kinds = [event["event_type"] for event in events]
    assert sorted(kinds) == [
        "Connected",
        "SubscriptionReady",
        "SubscriptionReady",
        "SystemStatusChanged",
    ]
    ready = sorted(
        (e["channel"], e["rows"]) for e in events if e["event_type"] == "SubscriptionReady"
    )
    assert ready == [("openOrders", 0), ("ownTrades", 0)]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_readme_sequence_gets_its_five_events(
    sim: SimulatorThread, protocol: str, capsys: pytest.CaptureFixture[str]
) -> None:
    order = ["--pair", "XBT/USD", "--type", "buy", "--ordertype", "limit", "--volume", "0.1"]
    assert main(["add-order", *_urls(sim, protocol), *order, "--price", "29000"]) == 0
    capsys.readouterr()
    took = _watch(sim, protocol, 5)
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert took < LIMIT / 2
    kinds = [event["event_type"] for event in events]
    assert len(kinds) == 5
    assert kinds.count("SubscriptionReady") == 2
    assert "OrdersChanged" in kinds
    ready = {e["channel"]: e["rows"] for e in events if e["event_type"] == "SubscriptionReady"}
    assert ready == {"openOrders": 1, "ownTrades": 0}


def test_the_live_view_lists_the_live_channels() -> None:
    view = cli_watch.LiveView(open("/dev/null", "w"), "ws://x")  # noqa: SIM115
    try:
        view.note(SubscriptionReady(channel="ownTrades", rows=0))
        view.note(SubscriptionReady(channel="openOrders", rows=3))
        assert view.ready == ["ownTrades", "openOrders"]
        assert view.events == 2
    finally:
        view.out.close()
    text = cli_watch.render_view(
        where="ws://x",
        state="connected",
        orders={},
        fills=[],
        fills_total=0,
        events=2,
        ready=view.ready,
    )
    assert "live channels: ownTrades, openOrders" in text
    assert "live channels" not in cli_watch.render_view(
        where="ws://x", state="connected", orders={}, fills=[], fills_total=0, events=0
    )
