"""End-to-end order round trips through the local simulator, for both adapters.

Each round trip is ``send(AddOrder)`` until the core reports ``RequestCompleted`` for it: request
validation and encoding, the WebSocket over loopback, the simulator's matching model, and the
decoding and correlation of the reply (the openOrders updates that follow are decoded too). It
measures the adapters plus the core; it says nothing about Kraken's own latency.

    python benchmarks/bench_roundtrip.py [--orders N] [--json]

Prints the median and 90th-percentile microseconds per round trip for the blocking and the trio
adapter, and the trio/blocking ratio, all from one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import trio
from kraken_proto import AddOrder, CancelAll, Credentials, Event
from kraken_proto.adapters.clients.blocking_client import BlockingClient, fetch_token
from kraken_proto.adapters.clients.trio_client import fetch_token_trio, open_trio_client
from kraken_proto.adapters.simulator.model.exchange import SimulatorConfig
from kraken_proto.adapters.simulator.server import make_config, open_simulator, run_in_thread
from kraken_proto.v1 import RequestCompleted, RequestFailed, RequestOutcomeUnknown, Subscribe

PAIR = "XBT/USD"
# The simulator enforces Kraken's per-pair rate counter; a benchmark hammering one pair would
# hit it after ~125 orders, so it runs with a limit no run can reach.
UNLIMITED = 10**9
# Far below the market so that every order rests and the book grows by one order each time;
# worth 1 USD, above XBT/USD's costmin (0.5), which the simulator enforces like Kraken.
RESTING_BUY = AddOrder(
    ordertype="limit", type="buy", pair=PAIR, volume=Decimal("0.0001"), price=Decimal("10000.0")
)


def _blocking_round_trips(orders: int) -> list[float]:
    timings: list[float] = []
    with run_in_thread(_config(21), seed=21) as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        token = fetch_token(credentials, rest_url=sim.rest_url)
        with BlockingClient(sim.ws_url) as client:
            client.provide_token(token)
            _wait_blocking(client, client.send(Subscribe(name="openOrders")))
            for _ in range(orders):
                started = time.perf_counter()
                _wait_blocking(client, client.send(RESTING_BUY))
                timings.append(time.perf_counter() - started)
            _wait_blocking(client, client.send(CancelAll()))
    return timings


def _config(seed: int) -> SimulatorConfig:
    return dataclasses.replace(make_config(seed), maxratecount=UNLIMITED)


def _finished(event: Event, reqid: int) -> bool:
    """True when ``event`` ends request ``reqid``; any ending but success stops the run."""
    if isinstance(event, RequestCompleted) and event.reqid == reqid:
        return True
    if isinstance(event, RequestFailed | RequestOutcomeUnknown) and event.reqid == reqid:
        raise RuntimeError(f"benchmark request did not complete: {event!r}")
    return False


def _wait_blocking(client: BlockingClient, reqid: int) -> None:
    while True:
        for event in client.next_events(timeout=10.0):
            if _finished(event, reqid):
                return


async def _trio_round_trips(orders: int) -> list[float]:
    timings: list[float] = []
    async with open_simulator(_config(22), seed=22) as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        token = await fetch_token_trio(credentials, rest_url=sim.rest_url)
        async with open_trio_client(sim.ws_url) as client:
            await client.provide_token(token)

            async def wait(reqid: int) -> None:
                while True:
                    for event in await client.next_events(timeout=10.0):
                        if _finished(event, reqid):
                            return

            await wait(await client.send(Subscribe(name="openOrders")))
            for _ in range(orders):
                started = time.perf_counter()
                await wait(await client.send(RESTING_BUY))
                timings.append(time.perf_counter() - started)
            await wait(await client.send(CancelAll()))
    return timings


def _summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "median_us": statistics.median(ordered) * 1e6,
        "p90_us": ordered[int(len(ordered) * 0.9) - 1] * 1e6
        if len(ordered) > 1
        else ordered[0] * 1e6,
    }


def measure(orders: int) -> dict[str, Any]:
    """Run both adapters once each; return their summaries and the trio/blocking ratio."""
    blocking = _summary(_blocking_round_trips(orders))
    trio_run = _summary(trio.run(_trio_round_trips, orders))
    return {
        "orders": orders,
        "blocking": blocking,
        "trio": trio_run,
        "trio_over_blocking": trio_run["median_us"] / blocking["median_us"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; prints the table (or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300, help="round trips per adapter")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--quick", action="store_true", help="3 orders, for smoke tests")
    args = parser.parse_args(argv)
    if args.quick:
        args.orders = 3
    result = measure(args.orders)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"AddOrder -> RequestCompleted through the simulator, {args.orders} orders per adapter")
    print(f"{'adapter':<10} {'median us':>10} {'p90 us':>10}")
    for name in ("blocking", "trio"):
        row = result[name]
        print(f"{name:<10} {row['median_us']:>10.1f} {row['p90_us']:>10.1f}")
    print(f"trio / blocking (median): {result['trio_over_blocking']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
