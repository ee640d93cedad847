"""Benchmark the whole user pipeline through a live ``Session`` against the careful client.

Per frame: ``Session.receive_message`` (decode, ``Connection``, the session's bookkeeping,
``OrderTable``/``FillLog``) + ``Session.events()`` (the user's ``OrdersChanged`` /
``FillReceived``), on a session brought LIVE against the simulator's in-memory exchange (no
sockets, virtual time). The careful client is ``bench_clients.CarefulClient`` on the same frames.

The delta shapes of ``bench_pipeline`` are measured: each timing gets a freshly settled session
whose table already holds the orders the deltas touch (fed as new-order frames, untimed), and
the frames carry the channel's next sequence numbers. The snapshot shapes (a session gets them
on every (re)connect) are timed one snapshot per timing, each into a fresh session at the moment
that snapshot is due (subscribed, acknowledged, the other channel's snapshot in: it goes LIVE on
this one), against the careful client's fresh one. The ``v2 ...`` shapes run the same way on a
session configured with ``SessionConfig(protocol="v2")`` (its link: ``V2Connection`` and the
v1-shaped translation) against ``bench_clients.CarefulV2Client``, on the executions frames of
``bench_clients``; the orders they touch arrive first as ``pending_new`` updates (untimed).
Beside them, ``floor``: the same user events from the same bytes in one function
(``session_floor``: typed decode, sequence check, merge, event, and nothing else), checked
equal to the session's on every frame. A target the floor misses is out of reach for the
session's guarantees; the floor's distance from the session is what the layering costs.
And ``parts``: the session's own parts called in a row on the same LIVE session, without the
``Session`` around them (the link's ``receive_data``: decode, the connection's checks and
sequence; then ``OrderSync.apply`` / ``FillFeed.deliver``, which keep the table, the order ids
and the fill memory; then the events list drained), also checked equal. It splits the
layering in two: floor -> parts is what the parts' own bookkeeping costs per frame, parts ->
session is the ``Session``'s routing around them (what fusing the layers could save at most
while keeping that bookkeeping).
Target: session / careful <= 1.2x on every shape.

Run ``python benchmarks/bench_session.py`` (add ``--json`` for machine-readable output).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
from kraken_proto import FillReceived, OrdersChanged, OrderTable, SessionConfig, v2
from kraken_proto.v1 import OpenOrders, OwnTrades, Subscribe, decode
from kraken_proto.v2 import Executions

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The in-memory wire lives with the session's tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.session.session_wire import Wire

import bench_pipeline
from bench_clients import V2_CASES as CLIENT_V2_CASES
from bench_clients import CarefulClient, CarefulV2Client, v2_frames
from bench_common import (
    clock_ns,
    forget_timestamps,
    gc_paused,
    interleaved_runs,
    median_ratio,
)
from session_floor import V1OrdersFloor, V1TradesFloor, V2Floor

__all__ = [
    "CASES",
    "SNAPSHOT_CASES",
    "TARGET_RATIO",
    "V2_CASES",
    "V2_SNAPSHOT_CASES",
    "main",
    "measure",
]

TARGET_RATIO = 1.2
"""The session pipeline over the careful client, per frame, on every shape."""

CASES: tuple[str, ...] = tuple(
    name for name in bench_pipeline.CASES if name not in bench_pipeline.SNAPSHOT_CASES
)

V2_CASES: dict[str, str] = {
    name: shape
    for name, shape in CLIENT_V2_CASES.items()
    if shape not in bench_pipeline.SNAPSHOT_CASES
}
"""The v2 delta shapes (executions frames from ``bench_clients.v2_frames``) and their v1 twin."""

SNAPSHOT_CASES: tuple[str, ...] = tuple(
    name for name in bench_pipeline.CASES if name in bench_pipeline.SNAPSHOT_CASES
)
"""The snapshot shapes, v1: each timed as the snapshot a session waits for on a (re)connect."""

V2_SNAPSHOT_CASES: dict[str, str] = {
    "v2 200-order snapshot": "openOrders 200-order snapshot",
    "v2 50-trade snapshot": "ownTrades 50-trade snapshot",
}
"""The v2 snapshot shapes (one executions snapshot each) and their v1 twin."""


def _renumbered(frames: list[bytes], first: int) -> list[bytes]:
    out = []
    for sequence, frame in enumerate(frames, start=first):
        message = orjson.loads(frame)
        message[2]["sequence"] = sequence
        out.append(orjson.dumps(message))
    return out


def _live_session(
    config: SessionConfig, *, parts: bool = False
) -> tuple[Any, Callable[[bytes], object]]:
    """A LIVE session on ownTrades and openOrders over the exchange model: its link, and the
    per-frame function (one message in, the user's events out) that the benches time; with
    ``parts``, that function calls the session's parts in a row instead (``_parts``)."""
    wire, session = _subscribed(config)
    wire.settle()
    return session.connection, _parts(session, wire.now) if parts else _user_events(wire)


def _subscribed(config: SessionConfig, *, held: str | None = None) -> tuple[Wire, Any]:
    """A session over the exchange model, subscribed to ownTrades and openOrders, started and
    pumped until both sides are quiet; with ``held``, the exchange's own snapshot on that
    channel is held back (``_held_back``)."""
    wire = Wire(config=config)
    if held is not None:
        take = wire.exchange.take_outgoing

        def take_outgoing(sid: int, now: float) -> list[str]:
            return [text for text in take(sid, now) if not _held_back(text, held)]

        wire.exchange.take_outgoing = take_outgoing  # type: ignore[method-assign,assignment]
    session = wire.session
    session.subscribe(Subscribe(name="ownTrades"), wire.now)
    session.subscribe(Subscribe(name="openOrders"), wire.now)
    session.start(wire.now)
    wire.pump()
    return wire, session


def _user_events(wire: Wire) -> Callable[[bytes], object]:
    """The per-frame function the benches time: one message into ``wire``'s session on its
    connection, at its current time; the user's events out."""
    conn = next(iter(wire.sid_of))
    now = wire.now
    receive, events = wire.session.receive_message, wire.session.events

    def on_frame(frame: bytes) -> object:
        receive(conn, frame, now)
        return events()

    return on_frame


def _parts(session: Any, now: float) -> Callable[[bytes], object]:
    """The usual frame through the session's parts, without the ``Session``: the link's
    ``receive_data`` (decode, the connection's checks, the sequence), then what
    ``Session.receive_message`` applies it with (``OrderSync.apply`` or, over v2,
    ``OrderSync.apply_update``; ``FillFeed.deliver``),
    then the events they made, drained. Raises on any other frame (it was not written for
    them: the session would route them elsewhere)."""
    receive = session._life.link.receive_data
    orders, fills, produced = session._orders, session._fills, session._events

    def on_frame(frame: bytes) -> object:
        data = receive(frame, now)
        if type(data) is OpenOrders:
            orders.apply(data, snapshot=False)
        elif type(data) is OwnTrades:
            fills.deliver(data, "live")
        elif type(data) is Executions:  # v2: the push's order changes
            orders.apply_update(data)
        elif type(data) is tuple:  # v2: an order change and its fill, in one push
            orders.apply_update(data[0])
            fills.deliver(data[1], "live")
        else:
            raise RuntimeError(f"not the usual frame: {frame!r}")
        events = produced[:]
        produced.clear()
        return events

    return on_frame


def _session_setup(
    case: bench_pipeline._Case, *, parts: bool = False
) -> Callable[[], tuple[Callable[[bytes], object], list[bytes]]]:
    """A setup returning the per-frame function on a LIVE session (with ``parts``: its parts
    in a row) and the frames to feed it."""

    def setup() -> tuple[Callable[[bytes], object], list[bytes]]:
        link, on_frame = _live_session(SessionConfig(), parts=parts)
        sequence = link._subscriptions[case.channel].next_sequence
        seed: list[bytes] = []
        if case.channel == "openOrders" and case.name != "openOrders new order":
            seed = [
                orjson.dumps([[entry], "openOrders", {"sequence": 0}])
                for entry in orjson.loads(case.seed)[0]
            ]
        frames = _renumbered(seed + case.frames, sequence)
        for frame in frames[: len(seed)]:
            on_frame(frame)
        return on_frame, frames[len(seed) :]

    return setup


def _v2_renumbered(frames: list[bytes], first: int) -> list[bytes]:
    out = []
    for sequence, frame in enumerate(frames, start=first):
        message = orjson.loads(frame)
        message["sequence"] = sequence
        out.append(orjson.dumps(message))
    return out


def _v2_session_setup(
    seed: bytes | None, frames: list[bytes], *, parts: bool = False
) -> Callable[[], tuple[Callable[[bytes], object], list[bytes]]]:
    """As ``_session_setup``, on a LIVE v2 session: the seed's orders arrive first as one
    ``pending_new`` executions update each (untimed), then the frames to time."""

    def setup() -> tuple[Callable[[bytes], object], list[bytes]]:
        forget_timestamps()  # live updates only here: their times are new each time
        link, on_frame = _live_session(SessionConfig(protocol="v2"), parts=parts)
        sequence = link._conn._subscriptions["executions"].next_sequence
        before: list[bytes] = []
        if seed is not None:
            before = [
                orjson.dumps({"channel": "executions", "type": "update", "data": [record]})
                for record in orjson.loads(seed)["data"]
            ]
        numbered = _v2_renumbered(before + frames, sequence)
        for frame in numbered[: len(before)]:
            on_frame(frame)
        return on_frame, numbered[len(before) :]

    return setup


def _held_back(text: str, channel: str) -> bool:
    """Whether ``text`` is the exchange's snapshot on ``channel`` (v1: the channel's frame, of
    which none but the snapshot comes while nothing trades; v2: the executions snapshot)."""
    message = orjson.loads(text)
    if channel == "executions":
        return type(message) is dict and message.get("type") == "snapshot"
    return type(message) is list and len(message) == 3 and message[1] == channel


def _snapshot_setup(
    config: SessionConfig, channel: str, frame: bytes
) -> Callable[[], tuple[Callable[[bytes], object], list[bytes]]]:
    """A setup returning the per-frame function on a fresh session at the moment its
    snapshot of ``channel`` is due, and ``frame`` (that snapshot) to feed it: subscribed to
    ownTrades and openOrders, every acknowledgement in, the exchange's own snapshot of
    ``channel`` (its empty book) held back and every other frame delivered. ``frame`` is the
    last snapshot the session waits for: it goes LIVE on it, as on every (re)connect."""

    def setup() -> tuple[Callable[[bytes], object], list[bytes]]:
        wire, _ = _subscribed(config, held=channel)
        return _user_events(wire), [frame]

    return setup


def _snapshot_check(name: str, result: object) -> None:
    """Raise unless one snapshot frame gave the user its whole content: every order added,
    or every trade as a fill."""
    events = result if isinstance(result, list) else []
    added = sum(len(event.changes.added) for event in events if isinstance(event, OrdersChanged))
    fills = sum(1 for event in events if isinstance(event, FillReceived))
    if (added, fills) not in ((200, 0), (0, 50)) or (added == 200) != ("200" in name):
        raise RuntimeError(f"{name}: the snapshot did not reach the user: {result!r}")


def _one_frame_careful(
    client: type[CarefulClient] | type[CarefulV2Client], frame: bytes
) -> Callable[[], tuple[Callable[[bytes], object], list[bytes]]]:
    def setup() -> tuple[Callable[[bytes], object], list[bytes]]:
        return client().on_frame, [frame]

    return setup


def _snapshot_rows(repeats: int) -> list[dict[str, Any]]:
    """The snapshot shapes, v1 and v2: the session against the careful client, one snapshot
    per timing (each into a fresh session or client). No floor or parts: those take only the
    usual delta."""
    cases: list[tuple[str, SessionConfig, str, bytes, type[CarefulClient] | type[CarefulV2Client]]]
    cases = []
    for name in SNAPSHOT_CASES:
        case = bench_pipeline._Case(name, 1)
        cases.append((name, SessionConfig(), case.channel, case.frames[0], CarefulClient))
    for name, shape in V2_SNAPSHOT_CASES.items():
        frame = v2_frames(shape, 1)[1][0]
        cases.append((name, SessionConfig(protocol="v2"), "executions", frame, CarefulV2Client))
    rows = []
    for name, config, channel, frame, careful in cases:
        session = _snapshot_setup(config, channel, frame)
        function, frames = session()
        _snapshot_check(name, function(frames[0]))  # prove the path once, untimed
        runs = interleaved_runs(
            {
                "session": _timing(session),
                "careful": _timing(_one_frame_careful(careful, frame)),
            },
            repeats,
        )
        rows.append(
            {
                "case": name,
                "session_us": statistics.median(runs["session"]),
                "careful_us": statistics.median(runs["careful"]),
                "session_vs_careful": median_ratio(runs["session"], runs["careful"]),
            }
        )
    return rows


def _v2_check(name: str, result: object) -> None:
    kinds = [type(event) for event in result] if isinstance(result, list) else []
    want = [OrdersChanged, FillReceived] if name == "v2 trade fill" else [OrdersChanged]
    if sorted(kind.__name__ for kind in kinds) != sorted(kind.__name__ for kind in want):
        raise RuntimeError(f"{name}: a frame did not reach the user: {result!r}")


def _check(case: bench_pipeline._Case, result: object) -> None:
    want = FillReceived if case.channel == "ownTrades" else OrdersChanged
    if not (isinstance(result, list) and len(result) == 1 and isinstance(result[0], want)):
        raise RuntimeError(f"{case.name}: a frame did not reach the user: {result!r}")


def _timing(
    setup: Callable[[], tuple[Callable[[bytes], object], list[bytes]]],
) -> Callable[[], float]:
    def run() -> float:
        function, frames = setup()
        start = clock_ns()
        for frame in frames:
            function(frame)
        return (clock_ns() - start) / len(frames) / 1000

    return run


def _careful(
    case: bench_pipeline._Case,
) -> Callable[[], tuple[Callable[[bytes], object], list[bytes]]]:
    def setup() -> tuple[Callable[[bytes], object], list[bytes]]:
        client = CarefulClient()
        client.on_frame(case.seed)
        return client.on_frame, case.frames

    return setup


def _floor(
    case: bench_pipeline._Case, frames: list[bytes]
) -> Callable[[], tuple[Callable[[bytes], object], list[bytes]]]:
    """The floor on ``frames`` (numbered as the session's setup numbers them), over the
    orders of the case's seed."""
    first = orjson.loads(frames[0])[2]["sequence"]

    def setup() -> tuple[Callable[[bytes], object], list[bytes]]:
        if case.channel == "ownTrades":
            return V1TradesFloor(first).on_frame, frames
        table = OrderTable()
        table.apply(decode(case.seed), snapshot=True)  # type: ignore[arg-type]
        return V1OrdersFloor(table, first).on_frame, frames

    return setup


def _v2_floor(
    seed: bytes | None, frames: list[bytes]
) -> Callable[[], tuple[Callable[[bytes], object], list[bytes]]]:
    """The v2 floor on ``frames`` (numbered as the session's setup numbers them), over the
    orders of ``seed``."""
    first = orjson.loads(frames[0])["sequence"]

    def setup() -> tuple[Callable[[bytes], object], list[bytes]]:
        forget_timestamps()  # live updates: their times are new each time, as for the session
        table = OrderTable()
        if seed is not None:
            table.apply(v2.open_orders(v2.decode(seed)), snapshot=True)  # type: ignore[arg-type]
        return V2Floor(table, first).on_frame, frames

    return setup


def _same_events(
    name: str,
    session: Callable[[], tuple[Callable[[bytes], object], list[bytes]]],
    other: Callable[[], tuple[Callable[[bytes], object], list[bytes]]],
) -> None:
    """Untimed: ``other`` (the floor, or the parts in a row) gives the user the session's
    events, frame by frame."""
    session_function, frames = session()
    other_function, other_frames = other()
    if other_frames != frames:
        raise RuntimeError(f"{name}: the floor or parts were given other frames")
    for frame in frames:
        theirs, ours = other_function(frame), session_function(frame)
        if theirs != ours:
            raise RuntimeError(f"{name}: the floor or parts gave {theirs!r}, the session {ours!r}")


def _row(name: str, runs: dict[str, list[float]]) -> dict[str, Any]:
    return {
        "case": name,
        "session_us": statistics.median(runs["session"]),
        "careful_us": statistics.median(runs["careful"]),
        "floor_us": statistics.median(runs["floor"]),
        "session_vs_careful": median_ratio(runs["session"], runs["careful"]),
        "floor_vs_careful": median_ratio(runs["floor"], runs["careful"]),
        "parts_us": statistics.median(runs["parts"]),
        "parts_vs_careful": median_ratio(runs["parts"], runs["careful"]),
    }


def measure(*, scale: float = 1.0, repeats: int = 21) -> list[dict[str, Any]]:
    """Every shape, deltas then snapshots: session vs careful (and, on the deltas, the floor
    and the parts), medians of interleaved repeats."""
    rows: list[dict[str, Any]] = []
    with gc_paused():
        for name in CASES:
            case = bench_pipeline._Case(name, max(2, int(bench_pipeline._LOOPS[name] * scale)))
            session = _session_setup(case)
            function, frames = session()
            for frame in frames:  # prove the path once, untimed
                _check(case, function(frame))
            floor = _floor(case, frames)
            parts = _session_setup(case, parts=True)
            _same_events(name, session, floor)
            _same_events(name, session, parts)
            runs = interleaved_runs(
                {
                    "session": _timing(session),
                    "careful": _timing(_careful(case)),
                    "floor": _timing(floor),
                    "parts": _timing(parts),
                },
                repeats,
            )
            rows.append(_row(name, runs))
        for name, shape in V2_CASES.items():
            seed, frames = v2_frames(shape, max(2, int(bench_pipeline._LOOPS[shape] * scale)))
            session = _v2_session_setup(seed, frames)
            function, numbered = session()
            for frame in numbered:  # prove the path once, untimed
                _v2_check(name, function(frame))
            floor = _v2_floor(seed, numbered)
            parts = _v2_session_setup(seed, frames, parts=True)
            _same_events(name, session, floor)
            _same_events(name, session, parts)
            runs = interleaved_runs(
                {
                    "session": _timing(session),
                    "careful": _timing(_v2_careful(seed, frames)),
                    "floor": _timing(floor),
                    "parts": _timing(parts),
                },
                repeats,
            )
            rows.append(_row(name, runs))
        rows.extend(_snapshot_rows(repeats))
    return rows


def _v2_careful(
    seed: bytes | None, frames: list[bytes]
) -> Callable[[], tuple[Callable[[bytes], object], list[bytes]]]:
    def setup() -> tuple[Callable[[bytes], object], list[bytes]]:
        client = CarefulV2Client()
        if seed is not None:
            client.on_frame(seed)
        return client.on_frame, frames

    return setup


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON with ``--json``); returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--quick", action="store_true", help="a tiny run, for smoke tests")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the frames per timing")
    parser.add_argument("--repeats", type=int, default=21, help="timings per case; median kept")
    args = parser.parse_args(argv)
    scale, repeats = (0.02, 2) if args.quick else (args.scale, args.repeats)
    rows = measure(scale=scale, repeats=repeats)
    if args.json:
        print(json.dumps({"target_ratio": TARGET_RATIO, "results": rows}, indent=2))
    else:
        for row in rows:
            line = (
                f"{row['case']:<31} session {row['session_us']:>7.2f} us  careful"
                f" {row['careful_us']:>7.2f} us  {row['session_vs_careful']:.2f}x"
            )
            if "floor_us" in row:
                line += (
                    f"  floor {row['floor_us']:>7.2f} us  {row['floor_vs_careful']:.2f}x"
                    f"  parts {row['parts_us']:>7.2f} us  {row['parts_vs_careful']:.2f}x"
                )
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
