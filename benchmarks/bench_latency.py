"""End-to-end latency and CPU: the simulator emits an update, how long until the user has it.

The simulator runs in a child process (``sim_process.py``) that records the moment it makes
the exchange model emit an update. Each sample is two updates: a new resting order (every
openOrders subscriber gets it) and its fill (openOrders and ownTrades updates). "In the user's
hands" is, per contender:

* ``blocking`` / ``trio``: ``open_session`` / ``open_trio_session`` (a ``Session`` subscribed to
  both channels) hands over ``OrdersChanged`` with the order added / ``FillReceived``;
* ``plain-trio`` / ``plain-socket``: a plain wsproto loop over a trio stream / a blocking socket,
  subscribed to both channels, sees the openOrders frame with the new order / the ownTrades
  update, parsed with ``orjson.loads`` (dicts, no Decimal, no checks): the floor.

Latency is the client's ``perf_counter_ns`` minus the simulator's (one system-wide monotonic
clock on Linux). CPU per update is this process's CPU time over the samples (the simulator's
is in its own process) less the cost of asking the simulator, divided by the updates. The
contenders take turns, round after round, against the same simulator.

With ``--protocol v2`` every contender talks to the simulator's v2 face (``/v2``): the sessions
are ``protocol="v2"`` sessions, the plain loops subscribe to ``executions`` and see the update
with the new order's first execution / a trade execution.

After the timed rounds, one more turn of every contender times each call of
``Session.receive_message`` (the session runners) or of the plain loop's ``orjson.loads``, to
split each update's CPU into that and the rest of the loop (``split`` in the JSON). The timers
cost time of their own, so that turn is apart from the timed ones.

Target: the trio adapter's CPU per update <= 1.3x the plain wsproto+trio loop's.

    python benchmarks/bench_latency.py [--quick] [--json] [--protocol v1|v2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import trio
import wsproto
import wsproto.events as ws_events
from kraken_proto import (
    Credentials,
    FillReceived,
    OrdersChanged,
    Session,
    SessionEvent,
    SessionState,
)
from kraken_proto.adapters.clients.blocking_client import fetch_token
from kraken_proto.adapters.clients.trio_client import fetch_token_trio
from kraken_proto.adapters.runners.asyncio_runner import open_asyncio_session
from kraken_proto.adapters.runners.blocking import BlockingSession, open_session
from kraken_proto.adapters.runners.trio_runner import TrioSession, open_trio_session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import median_ratio
from sim_process import SimulatorProcess

__all__ = [
    "CONTENDERS",
    "TARGET_RATIO",
    "PlainTrioClient",
    "Prices",
    "is_fill_frame",
    "is_new_order_frame",
    "main",
    "plain_kind",
    "measure",
    "session_update_kind",
    "wait_live_trio",
]

TARGET_RATIO = 1.3
"""trio adapter CPU per update over the plain wsproto+trio loop's."""

CONTENDERS = ("blocking", "trio", "plain-trio", "plain-socket", "asyncio", "plain-asyncio")
_READ = 65536
_KINDS = ("order", "fill")
_PLAIN_OF = {"blocking": "plain-socket", "trio": "plain-trio", "asyncio": "plain-asyncio"}
# The plain loops' parse, by a module name so the instrumented round can time it (``_split``).
_loads: Callable[[str], Any] = orjson.loads


class Prices:
    """Each sample's price: a step below the last fill, so the new buy rests until filled."""

    def __init__(self) -> None:
        self._next = Decimal("20000.0")

    def take(self) -> Decimal:
        price = self._next
        self._next -= Decimal("0.1")
        return price


def session_update_kind(event: SessionEvent) -> str | None:
    """``"order"`` for a new order reaching a session's user, ``"fill"`` for a live fill."""
    if type(event) is OrdersChanged and event.changes.added:
        return "order"
    if type(event) is FillReceived and event.source == "live":
        return "fill"
    return None


def is_new_order_frame(message: Any) -> bool:
    """An openOrders frame carrying a full record (a new order)."""
    return (
        type(message) is list
        and len(message) >= 2
        and message[1] == "openOrders"
        and any("descr" in record for entry in message[0] for record in entry.values())
    )


def is_fill_frame(message: Any) -> bool:
    """An ownTrades update (not the snapshot)."""
    return (
        type(message) is list
        and len(message) >= 3
        and message[1] == "ownTrades"
        and message[2].get("sequence") != 1
    )


def _v2_update_kinds(message: Any) -> set[str]:
    """The exec_types of a v2 executions update (empty for anything else)."""
    if type(message) is not dict or message.get("channel") != "executions":
        return set()
    if message.get("type") != "update":
        return set()
    return {record.get("exec_type") for record in message.get("data", ())}


def plain_kind(message: Any, protocol: str = "v1") -> str | None:
    """What a plain loop sees in ``message``: ``"order"`` (a new order), ``"fill"`` or None."""
    if protocol == "v2":
        kinds = _v2_update_kinds(message)
        if "trade" in kinds:
            return "fill"
        # The order's first execution, as the session adds it (pending_new, or new alone).
        if kinds & {"pending_new", "new"}:
            return "order"
        return None
    if is_fill_frame(message):
        return "fill"
    if is_new_order_frame(message):
        return "order"
    return None


def _subscribe_frames(token: str, protocol: str = "v1") -> list[str]:
    if protocol == "v2":
        params = {"channel": "executions", "token": token, "snap_orders": True, "snap_trades": True}
        return [json.dumps({"method": "subscribe", "params": params})]
    return [
        json.dumps({"event": "subscribe", "subscription": {"name": name, "token": token}})
        for name in ("ownTrades", "openOrders")
    ]


def _snapshots(messages: list[Any], protocol: str) -> int:
    """How many of ``messages`` are subscription snapshots (v1: one per channel, sequence 1;
    v2: the executions snapshot)."""
    if protocol == "v2":
        return sum(
            1
            for message in messages
            if type(message) is dict
            and message.get("channel") == "executions"
            and message.get("type") == "snapshot"
        )
    return sum(
        1 for message in messages if type(message) is list and message[2].get("sequence") == 1
    )


class _PlainProtocol:
    """The wsproto half of the plain loops: handshake, text messages, pings answered."""

    def __init__(self, url: str, protocol: str = "v1") -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None
        assert parts.port is not None
        self.host, self.port = parts.hostname, parts.port
        self.protocol = protocol
        self.target = "/v2" if protocol == "v2" else "/"
        # Subscription snapshots to wait for before sampling: one per v1 channel, one in v2.
        self.snapshots_wanted = 1 if protocol == "v2" else 2
        self.ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        self.accepted = False
        self.messages = 0
        self._pieces: list[str] = []

    def handshake(self) -> bytes:
        return self.ws.send(ws_events.Request(host=f"{self.host}:{self.port}", target=self.target))

    def feed(self, data: bytes) -> tuple[list[Any], bytes]:
        """Messages parsed from ``data`` and the bytes to send back (pongs)."""
        self.ws.receive_data(data or None)
        messages: list[Any] = []
        out = b""
        for event in self.ws.events():
            if isinstance(event, ws_events.TextMessage):
                self._pieces.append(event.data)
                if event.message_finished:
                    self.messages += 1
                    messages.append(_loads("".join(self._pieces)))
                    self._pieces.clear()
            elif isinstance(event, ws_events.AcceptConnection):
                self.accepted = True
            elif isinstance(event, ws_events.Ping):
                out += self.ws.send(event.response())
            elif isinstance(event, ws_events.CloseConnection):
                raise RuntimeError(f"plain loop: closed by the server ({event.code})")
        return messages, out

    def text(self, text: str) -> bytes:
        return self.ws.send(ws_events.Message(data=text))


class PlainTrioClient:
    """The floor for the trio adapter: a trio stream, wsproto and orjson, nothing else."""

    def __init__(self, url: str, protocol: str = "v1") -> None:
        self.protocol = _PlainProtocol(url, protocol)
        self.stream: trio.SocketStream | None = None

    async def connect(self, token: str) -> None:
        """Open, upgrade and subscribe to both channels (waits for both snapshots)."""
        protocol = self.protocol
        self.stream = stream = await trio.open_tcp_stream(protocol.host, protocol.port)
        await stream.send_all(protocol.handshake())
        while not protocol.accepted:
            await self.receive()
        frames = _subscribe_frames(token, protocol.protocol)
        await stream.send_all(b"".join(protocol.text(text) for text in frames))
        snapshots = 0
        while snapshots < protocol.snapshots_wanted:
            snapshots += _snapshots(await self.receive(), protocol.protocol)

    async def receive(self) -> list[Any]:
        """The messages of the next read."""
        assert self.stream is not None
        messages, out = self.protocol.feed(await self.stream.receive_some(_READ))
        if out:
            await self.stream.send_all(out)
        return messages

    async def wait_for(self, kind: str) -> int:
        """Read until an update of ``kind`` arrives; its arrival time (ns)."""
        while True:
            for message in await self.receive():
                if plain_kind(message, self.protocol.protocol) == kind:
                    return time.perf_counter_ns()

    async def aclose(self) -> None:
        if self.stream is not None:
            await self.stream.aclose()


class _PlainSocketClient:
    """The floor for the blocking adapter: a socket, wsproto and orjson."""

    def __init__(self, url: str, token: str, protocol_name: str = "v1") -> None:
        self.protocol = protocol = _PlainProtocol(url, protocol_name)
        self.sock = socket.create_connection((protocol.host, protocol.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(protocol.handshake())
        while not protocol.accepted:
            self.receive()
        frames = _subscribe_frames(token, protocol_name)
        self.sock.sendall(b"".join(protocol.text(text) for text in frames))
        snapshots = 0
        while snapshots < protocol.snapshots_wanted:
            snapshots += _snapshots(self.receive(), protocol_name)

    def receive(self) -> list[Any]:
        messages, out = self.protocol.feed(self.sock.recv(_READ))
        if out:
            self.sock.sendall(out)
        return messages

    def wait_for(self, kind: str) -> int:
        while True:
            for message in self.receive():
                if plain_kind(message, self.protocol.protocol) == kind:
                    return time.perf_counter_ns()

    def close(self) -> None:
        self.sock.close()


class _PlainAsyncioClient:
    """The floor for the asyncio adapter: asyncio streams, wsproto and orjson."""

    def __init__(self, url: str, protocol: str = "v1") -> None:
        self.protocol = _PlainProtocol(url, protocol)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self, token: str) -> None:
        """Open, upgrade and subscribe to both channels (waits for both snapshots)."""
        protocol = self.protocol
        self.reader, self.writer = await asyncio.open_connection(protocol.host, protocol.port)
        self.writer.write(protocol.handshake())
        while not protocol.accepted:
            await self.receive()
        frames = _subscribe_frames(token, protocol.protocol)
        self.writer.write(b"".join(protocol.text(text) for text in frames))
        snapshots = 0
        while snapshots < protocol.snapshots_wanted:
            snapshots += _snapshots(await self.receive(), protocol.protocol)

    async def receive(self) -> list[Any]:
        """The messages of the next read."""
        assert self.reader is not None
        assert self.writer is not None
        messages, out = self.protocol.feed(await self.reader.read(_READ))
        if out:
            self.writer.write(out)
        return messages

    async def wait_for(self, kind: str) -> int:
        """Read until an update of ``kind`` arrives; its arrival time (ns)."""
        while True:
            for message in await self.receive():
                if plain_kind(message, self.protocol.protocol) == kind:
                    return time.perf_counter_ns()

    async def aclose(self) -> None:
        if self.writer is not None:
            self.writer.close()


class _Sampler:
    """Asks the simulator for updates and books the latencies and the CPU spent asking."""

    def __init__(self, sim: SimulatorProcess, prices: Prices, protocol: str = "v1") -> None:
        self.protocol = protocol  # the contenders' protocol: "v1" or "v2"
        self.frames = 0  # messages received while sampling (the plain loops count them)
        self.sim = sim
        self.prices = prices
        self.asking_ns = 0
        self.latencies: dict[str, list[float]] = {kind: [] for kind in _KINDS}
        self.price = Decimal(0)

    def ask(self, kind: str) -> None:
        start = time.process_time_ns()
        if kind == "order":
            self.price = self.prices.take()
        self.sim.send("place" if kind == "order" else "fill", self.price)
        self.asking_ns += time.process_time_ns() - start

    def book(self, kind: str, arrived: int) -> None:
        start = time.process_time_ns()
        t0 = self.sim.reply()
        self.asking_ns += time.process_time_ns() - start
        self.latencies[kind].append((arrived - t0) / 1000)


def _credentials(sim: SimulatorProcess) -> Credentials:
    return Credentials(api_key=sim.api_key, api_secret=sim.api_secret)


async def wait_live_trio(session: TrioSession, timeout: float = 30.0) -> None:
    """Poll until the session is LIVE (subscribed and reconciled)."""
    with trio.fail_after(timeout):
        while session.state is not SessionState.LIVE:
            await trio.sleep(0.01)


def _run_blocking(sim: SimulatorProcess, sampler: _Sampler, samples: int) -> int:
    with open_session(
        _credentials(sim), rest_url=sim.rest_url, ws_url=sim.ws_url, protocol=sampler.protocol
    ) as session:
        session.subscribe("ownTrades")
        session.subscribe("openOrders")
        deadline = time.monotonic() + 30
        while session.state is not SessionState.LIVE:
            session.next_events(timeout=0.01)
            if time.monotonic() > deadline:
                raise RuntimeError("blocking session never became live")
        start = time.process_time_ns()
        for _ in range(samples):
            for kind in _KINDS:
                sampler.ask(kind)
                arrived = _wait_blocking(session, kind)
                sampler.book(kind, arrived)
        return time.process_time_ns() - start


def _wait_blocking(session: BlockingSession, kind: str) -> int:
    while True:
        for event in session.events(timeout=10.0):
            if session_update_kind(event) == kind:
                return time.perf_counter_ns()


def _run_plain_socket(sim: SimulatorProcess, sampler: _Sampler, samples: int) -> int:
    token = fetch_token(_credentials(sim), rest_url=sim.rest_url).token
    client = _PlainSocketClient(sim.ws_url, token, sampler.protocol)
    try:
        start = time.process_time_ns()
        for _ in range(samples):
            for kind in _KINDS:
                sampler.ask(kind)
                sampler.book(kind, client.wait_for(kind))
        return time.process_time_ns() - start
    finally:
        client.close()


async def _run_trio(sim: SimulatorProcess, sampler: _Sampler, samples: int) -> int:
    async with open_trio_session(
        _credentials(sim), rest_url=sim.rest_url, ws_url=sim.ws_url, protocol=sampler.protocol
    ) as session:
        await session.subscribe("ownTrades")
        await session.subscribe("openOrders")
        await wait_live_trio(session)
        events = session.events()
        start = time.process_time_ns()
        for _ in range(samples):
            for kind in _KINDS:
                sampler.ask(kind)
                async for event in events:
                    if session_update_kind(event) == kind:
                        arrived = time.perf_counter_ns()
                        break
                sampler.book(kind, arrived)
        return time.process_time_ns() - start


async def _run_plain_trio(sim: SimulatorProcess, sampler: _Sampler, samples: int) -> int:
    token = (await fetch_token_trio(_credentials(sim), rest_url=sim.rest_url)).token
    client = PlainTrioClient(sim.ws_url, sampler.protocol)
    try:
        await client.connect(token)
        before = client.protocol.messages
        start = time.process_time_ns()
        for _ in range(samples):
            for kind in _KINDS:
                sampler.ask(kind)
                sampler.book(kind, await client.wait_for(kind))
        spent = time.process_time_ns() - start
        sampler.frames = client.protocol.messages - before
        return spent
    finally:
        await client.aclose()


async def _run_asyncio(sim: SimulatorProcess, sampler: _Sampler, samples: int) -> int:
    async with open_asyncio_session(
        _credentials(sim), rest_url=sim.rest_url, ws_url=sim.ws_url, protocol=sampler.protocol
    ) as session:
        await session.subscribe("ownTrades")
        await session.subscribe("openOrders")
        deadline = time.monotonic() + 30
        while session.state is not SessionState.LIVE:
            await asyncio.sleep(0.01)
            if time.monotonic() > deadline:
                raise RuntimeError("asyncio session never became live")
        events = session.events()
        start = time.process_time_ns()
        for _ in range(samples):
            for kind in _KINDS:
                sampler.ask(kind)
                async for event in events:
                    if session_update_kind(event) == kind:
                        arrived = time.perf_counter_ns()
                        break
                sampler.book(kind, arrived)
        return time.process_time_ns() - start


async def _run_plain_asyncio(sim: SimulatorProcess, sampler: _Sampler, samples: int) -> int:
    # The blocking token fetch: the plain loop's setup is not timed.
    token = fetch_token(_credentials(sim), rest_url=sim.rest_url).token
    client = _PlainAsyncioClient(sim.ws_url, sampler.protocol)
    try:
        await client.connect(token)
        start = time.process_time_ns()
        for _ in range(samples):
            for kind in _KINDS:
                sampler.ask(kind)
                sampler.book(kind, await client.wait_for(kind))
        return time.process_time_ns() - start
    finally:
        await client.aclose()


_RUNNERS: dict[str, Callable[[SimulatorProcess, _Sampler, int], int]] = {
    "blocking": _run_blocking,
    "trio": lambda sim, sampler, samples: trio.run(_run_trio, sim, sampler, samples),
    "plain-trio": lambda sim, sampler, samples: trio.run(_run_plain_trio, sim, sampler, samples),
    "plain-socket": _run_plain_socket,
    "asyncio": lambda sim, sampler, samples: asyncio.run(_run_asyncio(sim, sampler, samples)),
    "plain-asyncio": lambda sim, sampler, samples: asyncio.run(
        _run_plain_asyncio(sim, sampler, samples)
    ),
}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


class _CallTimer:
    """Time spent inside calls of one function, less the timer's own cost (``perf_counter``,
    which reads no system call: a CPU-clock read per call would cost more than the calls'
    own work and disturb it)."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.spent_ns = 0
        self.calls = 0
        clock = time.perf_counter_ns
        timings = []
        for _ in range(500):  # the timer's cost around a call that does nothing
            start = clock()
            _nothing()
            timings.append(clock() - start)
        self.overhead_ns = statistics.median(timings)

    def __call__(self, *args: Any) -> Any:
        clock = time.perf_counter_ns
        start = clock()
        try:
            return self.function(*args)
        finally:
            self.spent_ns += clock() - start
            self.calls += 1

    def us(self) -> float:
        """Microseconds inside the calls, the timer's own cost taken off."""
        return max(0.0, self.spent_ns - self.calls * self.overhead_ns) / 1000


def _nothing() -> None:
    pass


def _split(sim: SimulatorProcess, prices: Prices, samples: int, protocol: str) -> dict[str, Any]:
    """Where each update's CPU goes, from one more turn of every contender (not one of the
    timed rounds: the timers cost time of their own). In the session runners every
    ``Session.receive_message`` call is timed, in the plain loops every ``orjson.loads``; per
    update, with the contender's CPU in that turn and the rest of it (the reading, unframing
    and the loop around the timed calls)."""
    global _loads
    split: dict[str, Any] = {}
    updates = samples * len(_KINDS)
    receive = Session.receive_message
    for name in CONTENDERS:
        plain = name.startswith("plain-")
        timer = _CallTimer(orjson.loads if plain else receive)
        sampler = _Sampler(sim, prices, protocol)
        if plain:
            _loads = timer
        else:
            # A function, so that it binds to the session as the method did.
            Session.receive_message = lambda *args, timer=timer: timer(*args)  # type: ignore[method-assign]
        try:
            spent = _RUNNERS[name](sim, sampler, samples)
        finally:
            _loads = orjson.loads
            Session.receive_message = receive  # type: ignore[method-assign]
        cpu, timed = (spent - sampler.asking_ns) / 1000 / updates, timer.us() / updates
        split[name] = {
            "cpu_us_per_update": cpu,
            ("parse_us_per_update" if plain else "receive_us_per_update"): timed,
            "rest_us_per_update": cpu - timed,
            "frames_per_update": timer.calls / updates,
        }
    return split


@contextmanager
def _simulator() -> Iterator[SimulatorProcess]:
    with SimulatorProcess() as sim:
        yield sim


def measure(*, rounds: int = 8, samples: int = 50, protocol: str = "v1") -> dict[str, Any]:
    """``rounds`` turns of every contender, ``samples`` order+fill pairs each, every one of
    them over ``protocol`` ("v1" or "v2")."""
    prices = Prices()
    cpu: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    frames_per_update: list[float] = []
    latencies: dict[str, dict[str, list[float]]] = {
        name: {kind: [] for kind in _KINDS} for name in CONTENDERS
    }
    with _simulator() as sim:
        for number in range(rounds):
            order = CONTENDERS[number % len(CONTENDERS) :] + CONTENDERS[: number % len(CONTENDERS)]
            for name in order:
                sampler = _Sampler(sim, prices, protocol)
                spent = _RUNNERS[name](sim, sampler, samples)
                cpu[name].append((spent - sampler.asking_ns) / 1000 / (samples * len(_KINDS)))
                if name == "plain-trio":
                    frames_per_update.append(sampler.frames / (samples * len(_KINDS)))
                for kind in _KINDS:
                    latencies[name][kind] += sampler.latencies[kind]
        split = _split(sim, prices, samples, protocol)
    result: dict[str, Any] = {
        "protocol": protocol,
        "rounds": rounds,
        "samples_per_round": samples,
        "frames_per_update": statistics.median(frames_per_update),
        "contenders": {},
        "split": split,
    }
    for name in CONTENDERS:
        row: dict[str, float] = {"cpu_us_per_update": statistics.median(cpu[name])}
        for kind in _KINDS:
            row[f"{kind}_p50_us"] = statistics.median(latencies[name][kind])
            row[f"{kind}_p99_us"] = _percentile(latencies[name][kind], 0.99)
        result["contenders"][name] = row
    result["trio_cpu_vs_plain_trio"] = median_ratio(cpu["trio"], cpu["plain-trio"])
    result["blocking_cpu_vs_plain_socket"] = median_ratio(cpu["blocking"], cpu["plain-socket"])
    result["asyncio_cpu_vs_plain_asyncio"] = median_ratio(cpu["asyncio"], cpu["plain-asyncio"])
    result["runner_cpu_vs_plain"] = {
        "blocking": result["blocking_cpu_vs_plain_socket"],
        "trio": result["trio_cpu_vs_plain_trio"],
        "asyncio": result["asyncio_cpu_vs_plain_asyncio"],
    }
    result["runner_fill_p50_vs_plain"] = {
        runner: result["contenders"][runner]["fill_p50_us"]
        / result["contenders"][plain]["fill_p50_us"]
        for runner, plain in _PLAIN_OF.items()
    }
    result["trio_fill_p50_vs_plain_trio"] = (
        result["contenders"]["trio"]["fill_p50_us"]
        / result["contenders"]["plain-trio"]["fill_p50_us"]
    )
    return result


def _table(result: dict[str, Any]) -> str:
    header = (
        f"{'contender':<13} {'order p50 us':>12} {'order p99 us':>12} {'fill p50 us':>11}"
        f" {'fill p99 us':>11} {'CPU us/update':>13}"
    )
    lines = [header, "-" * len(header)]
    for name, row in result["contenders"].items():
        lines.append(
            f"{name:<13} {row['order_p50_us']:>12.0f} {row['order_p99_us']:>12.0f}"
            f" {row['fill_p50_us']:>11.0f} {row['fill_p99_us']:>11.0f}"
            f" {row['cpu_us_per_update']:>13.1f}"
        )
    for runner, plain in _PLAIN_OF.items():
        ours, floor = result["split"][runner], result["split"][plain]
        lines.append(
            f"{runner}: Session.receive_message {ours['receive_us_per_update']:.1f} us per update"
            f" ({ours['frames_per_update']:.2f} frames), the rest {ours['rest_us_per_update']:.1f}"
            f" us; {plain}: orjson.loads {floor['parse_us_per_update']:.1f} us, the rest"
            f" {floor['rest_us_per_update']:.1f} us (an extra, instrumented turn)"
        )
    lines.append(
        f"trio/plain-trio CPU per update: {result['trio_cpu_vs_plain_trio']:.2f}x"
        f" (target <= {TARGET_RATIO:.1f}x); blocking/plain-socket:"
        f" {result['blocking_cpu_vs_plain_socket']:.2f}x;"
        f" {result['rounds']} rounds x {result['samples_per_round']} samples over"
        f" {result['protocol']}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON with ``--json``); returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--quick", action="store_true", help="a few samples, for smoke tests")
    parser.add_argument("--rounds", type=int, default=8, help="turns of every contender")
    parser.add_argument("--samples", type=int, default=50, help="order+fill pairs per turn")
    parser.add_argument("--protocol", choices=("v1", "v2"), default="v1")
    args = parser.parse_args(argv)
    rounds, samples = (1, 3) if args.quick else (args.rounds, args.samples)
    result = measure(rounds=rounds, samples=samples, protocol=args.protocol)
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
