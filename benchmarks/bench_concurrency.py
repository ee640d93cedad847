"""N concurrent connections in one trio process: memory each, and one update to all N.

For N = 1, 10, 100, 1,000 (connections added step by step, in batches), two kinds, each in a
child process of its own (so one kind's freed memory cannot hide the other's):

* ``sessions``: N ``Session``s run by the trio adapter (``run_trio_session``), each subscribed
  to ownTrades and openOrders and LIVE (reconciled) before the reading;
* ``plain``: N plain wsproto+trio connections (``bench_latency.PlainTrioClient``), the floor.

At each N: the process's resident memory per connection (growth since before the first
connection, and the step's marginal growth, after a collection; "idle" from a pass that sends
no update, see ``measure``), then a few samples of one new
order and its fill emitted by the simulator (its own process, ``sim_process.py``; all
connections are the same account's, so every one of them gets every update): the time until
the LAST connection has the update in its user's hands, and this process's CPU per update
delivered to one connection.

Then, in a third child, ``tracemalloc`` sorts what 100 more sessions allocate by package
(trio, wsproto/h11, the core, the adapters, the standard library): where the memory goes.

With ``--protocol v2`` both kinds talk to the simulator's v2 face (``/v2``): ``protocol="v2"``
sessions, and plain loops subscribed to ``executions``.

Target: 1,000 concurrent sessions, at most 20 KiB each.

    python benchmarks/bench_concurrency.py [--quick] [--json] [--protocol v1|v2]
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio
from kraken_proto import Credentials, Session, SessionConfig
from kraken_proto.adapters.clients.trio_client import fetch_token_trio
from kraken_proto.adapters.runners._link import choose_protocol
from kraken_proto.adapters.runners.trio_runner import TrioSession, run_trio_session
from kraken_proto.rest import NonceSource

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_latency import PlainTrioClient, Prices, plain_kind, session_update_kind, wait_live_trio
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
        # The readers' scopes: cancelling these (not the nursery) lets every session close
        # normally. Cancelling the nursery would cancel the sessions' driver tasks as well,
        # and each close would then wait out its timeout.
        self.readers: list[trio.CancelScope] = []
        self.plain: list[trio.CancelScope] = []
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


async def _run_kind(
    kind: str, counts: Sequence[int], samples: int, protocol: str = "v1"
) -> dict[str, Any]:
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
                            nursery.start_soon(
                                _session, sim, credentials, nonces, arrivals, event, protocol
                            )
                        else:
                            nursery.start_soon(_plain, sim, token, arrivals, event, protocol)
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
                row: dict[str, Any] = {
                    "connections": count,
                    "kib_per_connection": (rss - base_rss) / count / 1024,
                    "marginal_kib_per_connection": (rss - previous_rss)
                    / max(1, count - (rows[-1]["connections"] if rows else 0))
                    / 1024,
                }
                if delivery:
                    row["deliver_all_p50_us"] = statistics.median(delivery)
                    row["deliver_all_max_us"] = max(delivery)
                    row["cpu_us_per_connection_update"] = cpu / 1000 / (len(delivery) * count)
                rows.append(row)
                previous_rss = rss
            _stop(arrivals)
    return {"kind": kind, "samples": samples, "protocol": protocol, "rows": rows}


def _stop(arrivals: _Arrivals) -> None:
    """End every reader (sessions then close normally) and every plain connection."""
    for reader in arrivals.readers:
        reader.cancel()
    for scope in arrivals.plain:
        scope.cancel()


async def _session(
    sim: SimulatorProcess,
    credentials: Credentials,
    nonces: NonceSource,
    arrivals: _Arrivals,
    ready: trio.Event,
    protocol: str = "v1",
) -> None:
    ws_url, config = _target(sim.ws_url, protocol)
    session = Session(credentials, config=config, seed=os.urandom(16), nonces=nonces)
    async with run_trio_session(session, rest_url=sim.rest_url, ws_url=ws_url) as runner:
        await runner.subscribe("ownTrades")
        await runner.subscribe("openOrders")
        await _live(runner)
        ready.set()
        with trio.CancelScope() as reader:
            arrivals.readers.append(reader)
            async for event in runner.events():
                arrivals.arrived(session_update_kind(event))


@functools.cache
def _target(ws_url: str, protocol: str) -> tuple[str, SessionConfig | None]:
    """The URL and the config every session of this process opens: one config shared by all,
    as a program running many sessions shares one (over v1 none, so each session takes the
    default every session given none shares)."""
    if protocol == "v1":
        return ws_url, None
    return choose_protocol(ws_url, None, protocol)


async def _live(runner: TrioSession) -> None:
    await wait_live_trio(runner, timeout=120)


async def _plain(
    sim: SimulatorProcess,
    token: str,
    arrivals: _Arrivals,
    ready: trio.Event,
    protocol: str = "v1",
) -> None:
    client = PlainTrioClient(sim.ws_url, protocol)
    await client.connect(token)
    ready.set()
    try:
        with trio.CancelScope() as reader:
            arrivals.plain.append(reader)
            while True:
                for message in await client.receive():
                    arrivals.arrived(plain_kind(message, protocol))
    finally:
        await client.aclose()


def _package_of(filename: str) -> str:
    path = filename.replace("\\", "/")
    for marker, package in (
        ("/trio/", "trio"),
        ("/wsproto/", "wsproto+h11"),
        ("/h11/", "wsproto+h11"),
        ("/kraken_proto/", "core (kraken_proto)"),
        ("/adapters/", "adapters"),
    ):
        if marker in path:
            return package
    return "stdlib and other"


async def _breakdown(count: int, protocol: str = "v1") -> dict[str, Any]:
    """Python allocations of ``count`` more LIVE sessions, by package (bytes per session)."""
    arrivals = _Arrivals()
    with SimulatorProcess() as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        nonces = NonceSource()
        async with trio.open_nursery() as nursery:
            first = trio.Event()
            nursery.start_soon(_session, sim, credentials, nonces, arrivals, first, protocol)
            await first.wait()  # imports and one-time caches are not counted
            gc.collect()
            tracemalloc.start()
            try:
                before = tracemalloc.take_snapshot()
                ready = [trio.Event() for _ in range(count)]
                for event in ready:
                    nursery.start_soon(
                        _session, sim, credentials, nonces, arrivals, event, protocol
                    )
                with trio.fail_after(120):
                    for event in ready:
                        await event.wait()
                gc.collect()
                after = tracemalloc.take_snapshot()
            finally:
                tracemalloc.stop()
            _stop(arrivals)
    by_package: dict[str, float] = {}
    for stat in after.compare_to(before, "filename"):
        package = _package_of(stat.traceback[0].filename)
        by_package[package] = by_package.get(package, 0.0) + stat.size_diff / count
    return {
        "sessions": count,
        "bytes_per_session": sum(by_package.values()),
        "by_package": dict(sorted(by_package.items(), key=lambda item: -item[1])),
    }


def _child(*args: str) -> Any:
    output = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output)


def measure(
    *,
    counts: Sequence[int] = COUNTS,
    samples: int = 3,
    breakdown: int = 100,
    protocol: str = "v1",
) -> dict[str, Any]:
    """Both kinds, each twice (quiet, then with updates), then the breakdown, each in a child
    process of its own.

    The quiet pass opens the connections and sends no update: its memory is what a connection
    costs. In the pass with updates every sample leaves state behind by design (each session
    keeps the finished order in its OrderTable and the trade in its FillLog, and every later
    session's ownTrades snapshot carries the account's recent trades), so its memory grows
    with the samples taken, not with the connections alone.
    """
    result: dict[str, Any] = {"counts": list(counts), "samples": samples, "protocol": protocol}
    joined = ",".join(map(str, counts))
    over = ("--protocol", protocol)
    for kind in ("sessions", "plain"):
        quiet = _child("--child", kind, "--counts", joined, "--samples", "0", *over)["rows"]
        rows = _child("--child", kind, "--counts", joined, "--samples", str(samples), *over)["rows"]
        for row, idle in zip(rows, quiet, strict=True):
            row["idle_kib_per_connection"] = idle["kib_per_connection"]
            row["idle_marginal_kib_per_connection"] = idle["marginal_kib_per_connection"]
        result[kind] = rows
    result["breakdown"] = _child("--breakdown", str(breakdown), *over)
    last = {kind: result[kind][-1] for kind in ("sessions", "plain")}
    result["sessions_kib_at_max"] = last["sessions"]["idle_kib_per_connection"]
    result["cpu_sessions_vs_plain_at_max"] = (
        last["sessions"]["cpu_us_per_connection_update"]
        / last["plain"]["cpu_us_per_connection_update"]
    )
    return result


def _table(result: dict[str, Any]) -> str:
    header = (
        f"{'kind':<9} {'N':>5} {'KiB idle':>9} {'KiB/conn':>9} {'marginal KiB':>12}"
        f" {'all-N p50 us':>12} {'all-N max us':>12} {'CPU us/conn/update':>18}"
    )
    lines = [header, "-" * len(header)]
    lines += [
        (
            f"{kind:<9} {row['connections']:>5} {row['idle_kib_per_connection']:>9.1f}"
            f" {row['kib_per_connection']:>9.1f}"
            f" {row['marginal_kib_per_connection']:>12.1f} {row['deliver_all_p50_us']:>12.0f}"
            f" {row['deliver_all_max_us']:>12.0f} {row['cpu_us_per_connection_update']:>18.1f}"
        )
        for kind in ("sessions", "plain")
        for row in result[kind]
    ]
    lines.append(
        f"target: {result['counts'][-1]} sessions <= {TARGET_KIB:.0f} KiB each"
        f" (measured {result['sessions_kib_at_max']:.1f}); sessions/plain CPU per update at"
        f" {result['counts'][-1]}: {result['cpu_sessions_vs_plain_at_max']:.2f}x"
    )
    breakdown = result["breakdown"]
    lines.append(
        f"Python allocations of {breakdown['sessions']} more sessions (tracemalloc):"
        f" {breakdown['bytes_per_session'] / 1024:.1f} KiB each: "
        + ", ".join(
            f"{package} {size / 1024:.1f}" for package, size in breakdown["by_package"].items()
        )
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
    parser.add_argument("--breakdown", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--protocol", choices=("v1", "v2"), default="v1")
    args = parser.parse_args(argv)
    counts = [int(text) for text in args.counts.split(",")]
    if args.child:
        print(json.dumps(trio.run(_run_kind, args.child, counts, args.samples, args.protocol)))
        return 0
    if args.breakdown:
        print(json.dumps(trio.run(_breakdown, args.breakdown, args.protocol)))
        return 0
    if args.quick:
        result = measure(counts=[1, 5], samples=1, breakdown=3, protocol=args.protocol)
    else:
        result = measure(counts=counts, samples=args.samples, protocol=args.protocol)
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
