"""N concurrent connections in one trio process: memory each, and one update to all N.

For N = 1, 10, 100, 1,000 (connections added step by step, in batches), two kinds, each in a
child process of its own (so one kind's freed memory cannot hide the other's):

* ``sessions``: N ``Session``s run by the trio adapter (``run_trio_session``), each subscribed
  to ownTrades and openOrders and LIVE (reconciled) before the reading;
* ``plain``: N plain wsproto+trio connections (``bench_latency.PlainTrioClient``), the floor.

At each N: the process's resident memory per connection (growth since before the first
connection, and the step's marginal growth, after a collection), then a few samples of one new
order and its fill emitted by the simulator (its own process, ``sim_process.py``; all
connections are the same account's, so every one of them gets every update): the time until
the LAST connection has the update in its user's hands, and this process's CPU per update
delivered to one connection.

Target: 1,000 concurrent sessions, at most 20 KiB each.

    python benchmarks/bench_concurrency.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio
from kraken_proto import Credentials, NonceSource, Session
from kraken_proto.adapters.trio_client import fetch_token_trio
from kraken_proto.adapters.trio_session import TrioSession, run_trio_session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_latency import PlainTrioClient, Prices, session_update_kind, wait_live_trio
from sim_process import SimulatorProcess

__all__ = ["COUNTS", "TARGET_KIB", "main", "measure"]

COUNTS = (1, 10, 100, 1000)
TARGET_KIB = 20.0
"""Memory per session at 1,000 concurrent sessions."""
_BATCH = 50
_PAGE = resource.getpagesize()


def _rss_bytes() -> int:
    gc.collect()
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


class _Arrivals:
    """Counts one update's arrivals; ``done`` is set when all ``expected`` have it."""

    def __init__(self) -> None:
        self.kind: str | None = None
        self.expected = 0
        self.count = 0
        self.last = 0
        self.done = trio.Event()

    def arm(self, kind: str, expected: int) -> None:
        self.kind, self.expected, self.count, self.done = kind, expected, 0, trio.Event()

    def arrived(self, kind: str | None) -> None:
        if kind is not None and kind == self.kind:
            self.count += 1
            self.last = time.perf_counter_ns()
            if self.count == self.expected:
                self.done.set()


async def _run_kind(kind: str, counts: Sequence[int], samples: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    arrivals = _Arrivals()
    prices = Prices()
    with SimulatorProcess() as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        nonces = NonceSource()  # one per API key, shared by every session of the key
        token = (await fetch_token_trio(credentials, rest_url=sim.rest_url)).token
        base_rss = _rss_bytes()
        async with trio.open_nursery() as nursery:
            open_count = 0
            previous_rss = base_rss
            for count in counts:
                while open_count < count:
                    batch = min(_BATCH, count - open_count)
                    ready: list[trio.Event] = [trio.Event() for _ in range(batch)]
                    for event in ready:
                        if kind == "sessions":
                            nursery.start_soon(_session, sim, credentials, nonces, arrivals, event)
                        else:
                            nursery.start_soon(_plain, sim, token, arrivals, event)
                    with trio.fail_after(120):
                        for event in ready:
                            await event.wait()
                    open_count += batch
                rss = _rss_bytes()
                delivery: list[float] = []
                cpu = 0
                for _ in range(samples):
                    price = prices.take()
                    for update in ("order", "fill"):
                        arrivals.arm(update, count)
                        started = time.process_time_ns()
                        sim.send("place" if update == "order" else "fill", price)
                        with trio.fail_after(60):
                            await arrivals.done.wait()
                        cpu += time.process_time_ns() - started
                        delivery.append((arrivals.last - sim.reply()) / 1000)
                rows.append(
                    {
                        "connections": count,
                        "kib_per_connection": (rss - base_rss) / count / 1024,
                        "marginal_kib_per_connection": (rss - previous_rss)
                        / max(1, count - (rows[-1]["connections"] if rows else 0))
                        / 1024,
                        "deliver_all_p50_us": statistics.median(delivery),
                        "deliver_all_max_us": max(delivery),
                        "cpu_us_per_connection_update": cpu / 1000 / (len(delivery) * count),
                    }
                )
                previous_rss = rss
            nursery.cancel_scope.cancel()
    return {"kind": kind, "samples": samples, "rows": rows}


async def _session(
    sim: SimulatorProcess,
    credentials: Credentials,
    nonces: NonceSource,
    arrivals: _Arrivals,
    ready: trio.Event,
) -> None:
    session = Session(credentials, seed=os.urandom(16), nonces=nonces)
    async with run_trio_session(session, rest_url=sim.rest_url, ws_url=sim.ws_url) as runner:
        await runner.subscribe("ownTrades")
        await runner.subscribe("openOrders")
        await _live(runner)
        ready.set()
        async for event in runner.events():
            arrivals.arrived(session_update_kind(event))


async def _live(runner: TrioSession) -> None:
    await wait_live_trio(runner, timeout=120)


async def _plain(sim: SimulatorProcess, token: str, arrivals: _Arrivals, ready: trio.Event) -> None:
    client = PlainTrioClient(sim.ws_url)
    await client.connect(token)
    ready.set()
    try:
        while True:
            for message in await client.receive():
                arrivals.arrived(_plain_kind(message))
    finally:
        await client.aclose()


def _plain_kind(message: Any) -> str | None:
    from bench_latency import is_fill_frame, is_new_order_frame

    if is_fill_frame(message):
        return "fill"
    if is_new_order_frame(message):
        return "order"
    return None


def measure(*, counts: Sequence[int] = COUNTS, samples: int = 3) -> dict[str, Any]:
    """Both kinds, each in a child process of its own."""
    result: dict[str, Any] = {"counts": list(counts), "samples": samples}
    for kind in ("sessions", "plain"):
        output = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                kind,
                "--counts",
                ",".join(map(str, counts)),
                "--samples",
                str(samples),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result[kind] = json.loads(output)["rows"]
    last = {kind: result[kind][-1] for kind in ("sessions", "plain")}
    result["sessions_kib_at_max"] = last["sessions"]["kib_per_connection"]
    result["cpu_sessions_vs_plain_at_max"] = (
        last["sessions"]["cpu_us_per_connection_update"]
        / last["plain"]["cpu_us_per_connection_update"]
    )
    return result


def _table(result: dict[str, Any]) -> str:
    header = (
        f"{'kind':<9} {'N':>5} {'KiB/conn':>9} {'marginal KiB':>12} {'all-N p50 us':>12}"
        f" {'all-N max us':>12} {'CPU us/conn/update':>18}"
    )
    lines = [header, "-" * len(header)]
    for kind in ("sessions", "plain"):
        for row in result[kind]:
            lines.append(
                f"{kind:<9} {row['connections']:>5} {row['kib_per_connection']:>9.1f}"
                f" {row['marginal_kib_per_connection']:>12.1f} {row['deliver_all_p50_us']:>12.0f}"
                f" {row['deliver_all_max_us']:>12.0f} {row['cpu_us_per_connection_update']:>18.1f}"
            )
    lines.append(
        f"target: {result['counts'][-1]} sessions <= {TARGET_KIB:.0f} KiB each"
        f" (measured {result['sessions_kib_at_max']:.1f}); sessions/plain CPU per update at"
        f" {result['counts'][-1]}: {result['cpu_sessions_vs_plain_at_max']:.2f}x"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON with ``--json``); returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--quick", action="store_true", help="1 and 5 connections only")
    parser.add_argument("--counts", default=",".join(map(str, COUNTS)), help="e.g. 1,10,100")
    parser.add_argument("--samples", type=int, default=3, help="updates per N (order + fill)")
    parser.add_argument("--child", choices=("sessions", "plain"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    counts = [int(text) for text in args.counts.split(",")]
    if args.child:
        print(json.dumps(trio.run(_run_kind, args.child, counts, args.samples)))
        return 0
    result = measure(counts=[1, 5], samples=1) if args.quick else measure(
        counts=counts, samples=args.samples
    )
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
