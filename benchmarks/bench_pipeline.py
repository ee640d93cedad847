"""Benchmark the receive pipeline: ``decode`` + sequence check + ``OrderTable.apply``.

Each case is a realistic Kraken v1 frame. Per frame it times, in one run:

* ``orjson``: ``orjson.loads`` of the frame (the yardstick);
* ``pipeline``: ``kraken_proto.decode``, a hand-written sequence check (``last + 1``), then
  ``OrderTable.apply`` (``FillLog.apply`` for the ownTrades case);
* ``connection``: ``Connection.receive_message`` + ``events_received`` (which does the
  sequence check) + ``OrderTable.apply`` / ``FillLog.apply``, on a subscribed connection.

Delta cases feed distinct frames with consecutive sequence numbers, each touching a different
order, so every frame takes the real path (no gap, no repeat). The snapshot case applies one
200-order snapshot to a fresh table (and a freshly subscribed connection) per frame.
The target is ``pipeline`` within 3.0x of ``orjson.loads``.

Run ``python benchmarks/bench_pipeline.py`` (add ``--json`` for machine-readable output).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import kraken_proto
import orjson
from kraken_proto import FillLog, OrderChanges, OrderTable
from kraken_proto.v1 import (
    ChannelSnapshot,
    ChannelUpdate,
    Connection,
    OpenOrders,
    OwnTrades,
    Subscribe,
)

# Run as a script (python benchmarks/x.py) or loaded by path from the smoke tests: either way
# the shared frame builders sit next to this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import clock_ns, gc_paused, interleaved_runs
from kraken_frames import full_order, trade, txid

__all__ = ["CASES", "TARGET_RATIO", "main", "measure"]

TARGET_RATIO = 3.0
"""The pipeline should take at most this many times as long as ``orjson.loads``."""

_TOKEN = "WW91ciBhdXRoZW50aWNhdGlvbiB0b2tlbiBnb2VzIGhlcmUu"
_SNAPSHOT_ORDERS = 200

CASES: tuple[str, ...] = (
    "openOrders status-only delta",
    "openOrders status delta",
    "openOrders new order",
    "openOrders fill delta",
    "openOrders 200-order snapshot",
    "ownTrades fill",
    "ownTrades 50-trade snapshot",
)
SNAPSHOT_CASES = frozenset({"openOrders 200-order snapshot", "ownTrades 50-trade snapshot"})

# Frames per timing: each timing takes about a millisecond, short enough that some of the
# repeats run undisturbed on a busy machine.
_LOOPS = {
    "openOrders status-only delta": 500,
    "openOrders status delta": 500,
    "openOrders new order": 300,
    "openOrders fill delta": 500,
    "openOrders 200-order snapshot": 4,
    "ownTrades fill": 500,
    "ownTrades 50-trade snapshot": 20,
}


# What each openOrders frame must change: (OrderChanges field, number of orders).
_EXPECTED_CHANGE = {
    "openOrders status-only delta": ("updated", 1),
    "openOrders status delta": ("finished", 1),
    "openOrders new order": ("added", 1),
    "openOrders fill delta": ("updated", 1),
    "openOrders 200-order snapshot": ("added", _SNAPSHOT_ORDERS),
}


def _cancel_delta(number: int) -> dict[str, Any]:
    return {
        "lastupdated": f"1700220{number % 1000:03d}.114325",
        "status": "canceled",
        "vol_exec": "0.00000000",
        "cost": "0.000000",
        "fee": "0.000000",
        "avg_price": "0.000000",
        "userref": number,
        "cancel_reason": "User requested",
    }


def _status_only_delta(number: int) -> dict[str, Any]:
    """The smallest delta: a pending order became open."""
    return {"status": "open", "userref": number}


def _fill_delta(number: int) -> dict[str, Any]:
    return {
        "vol_exec": "1.25000000",
        "cost": f"{11 + number % 7}.562500",
        "fee": "0.030062",
        "avg_price": f"{9 + number % 7}.250000",
        "userref": number,
    }


def _channel_frame(channel: str, entries: list[dict[str, Any]], sequence: int) -> bytes:
    return orjson.dumps([entries, channel, {"sequence": sequence}])


class _Case:
    """One benchmark case: the seed snapshot and the frames to time, as wire bytes."""

    def __init__(self, name: str, loops: int) -> None:
        self.name = name
        self.channel: Literal["ownTrades", "openOrders"] = (
            "ownTrades" if name.startswith("ownTrades") else "openOrders"
        )
        self.seed: bytes = _channel_frame(self.channel, [], 1)
        if name == "openOrders 200-order snapshot":
            snapshot = [{txid("O", n): full_order(n)} for n in range(_SNAPSHOT_ORDERS)]
            self.frames = [_channel_frame("openOrders", snapshot, 1)] * loops
            return
        if name == "ownTrades 50-trade snapshot":
            trades = [{txid("T", n): trade(n)} for n in range(50)]
            self.frames = [_channel_frame("ownTrades", trades, 1)] * loops
            return
        makers = {
            "openOrders status-only delta": _status_only_delta,
            "openOrders status delta": _cancel_delta,
            "openOrders fill delta": _fill_delta,
        }
        if name in makers:
            # Every frame touches its own open order, known from the seed snapshot (pending,
            # so that the status-only delta's "open" is a change).
            seed = [{txid("O", n): full_order(n, "pending")} for n in range(loops)]
            self.seed = _channel_frame("openOrders", seed, 1)
            make = makers[name]
            entries = [{txid("O", n): make(n)} for n in range(loops)]
        elif name == "openOrders new order":
            entries = [{txid("N", n): full_order(n, "pending")} for n in range(loops)]
        else:
            entries = [{txid("T", n): trade(n, update=True)} for n in range(loops)]
        self.frames = [
            _channel_frame(self.channel, [entry], sequence)
            for sequence, entry in enumerate(entries, start=2)
        ]

    @property
    def is_snapshot(self) -> bool:
        return self.name in SNAPSHOT_CASES

    def check(self, result: object) -> None:
        """Raise unless ``result`` (what one frame's pipeline returned) took the measured path."""
        if self.channel == "ownTrades":
            good = isinstance(result, tuple) and len(result) == (50 if self.is_snapshot else 1)
        else:
            field, count = _EXPECTED_CHANGE[self.name]
            good = isinstance(result, OrderChanges) and len(getattr(result, field)) == count
        if not good:
            raise RuntimeError(f"{self.name}: a frame did not take the measured path: {result!r}")


def _subscribed_connection(channel: Literal["ownTrades", "openOrders"]) -> Connection:
    """A connection that has acknowledged a subscription to ``channel``."""
    connection = Connection()
    connection.connection_made(0.0)
    connection.provide_token(_TOKEN, 0.0)
    reqid = connection.send(Subscribe(name=channel), 0.0)
    connection.data_to_send()
    ack = {
        "channelName": channel,
        "event": "subscriptionStatus",
        "reqid": reqid,
        "status": "subscribed",
        "subscription": {"name": channel},
    }
    connection.receive_message(orjson.dumps(ack), 0.0)
    connection.events_received()
    return connection


class _Sequence:
    """The hand-written sequence check: sequence 1 starts over, anything else must be last+1."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = 0

    def check(self, sequence: int | None) -> bool:
        """True when ``sequence`` is the snapshot; raises on a gap (none happen here)."""
        if sequence == 1:
            self.last = 1
            return True
        if sequence != self.last + 1:
            raise RuntimeError(f"sequence gap: expected {self.last + 1}, got {sequence}")
        self.last = sequence
        return False


def _pipeline_runner(case: _Case) -> Callable[[], Callable[[bytes], object]]:
    """A setup function returning the per-frame ``decode`` + check + apply function."""
    decode = kraken_proto.decode

    def setup() -> Callable[[bytes], object]:
        sequence = _Sequence()
        if case.channel == "ownTrades":
            fills = FillLog()

            def on_trades(frame: bytes) -> object:
                event = decode(frame)
                assert isinstance(event, OwnTrades)
                sequence.check(event.sequence)
                return fills.apply(event)

            if not case.is_snapshot:
                on_trades(case.seed)
            return on_trades

        table = OrderTable()

        def on_orders(frame: bytes) -> object:
            event = decode(frame)
            assert isinstance(event, OpenOrders)
            return table.apply(event, snapshot=sequence.check(event.sequence))

        if not case.is_snapshot:
            on_orders(case.seed)
        return on_orders

    return setup


def _connection_runner(case: _Case) -> Callable[[], Callable[[bytes], object]]:
    """A setup function returning the per-frame Connection + apply function."""

    def setup() -> Callable[[bytes], object]:
        connection = _subscribed_connection(case.channel)
        fills = FillLog()
        table = OrderTable()

        def on_frame(frame: bytes) -> object:
            connection.receive_message(frame, 0.0)
            result: object = None
            for item in connection.events_received():
                if type(item) is not ChannelUpdate and type(item) is not ChannelSnapshot:
                    raise RuntimeError(f"unexpected event {item!r}")  # e.g. a SequenceGap
                event = item.event
                if type(event) is OpenOrders:
                    result = table.apply(event, snapshot=type(item) is ChannelSnapshot)
                elif type(event) is OwnTrades:
                    result = fills.apply(event)
            return result

        if not case.is_snapshot:
            on_frame(case.seed)
        return on_frame

    return setup


def _orjson_runner(case: _Case) -> Callable[[], Callable[[bytes], object]]:
    return lambda: orjson.loads


def _decode_runner(case: _Case) -> Callable[[], Callable[[bytes], object]]:
    return lambda: kraken_proto.decode


_RUNNERS = (
    ("orjson", _orjson_runner),
    ("decode", _decode_runner),
    ("pipeline", _pipeline_runner),
    ("connection", _connection_runner),
)


def _ns_per_frame(case: _Case, setup: Callable[[], Callable[[bytes], object]]) -> float:
    """One timing, in nanoseconds per frame. Setup is never timed.

    Snapshot frames each need fresh state, so they are timed one by one; delta frames run as
    one timed loop over distinct, consecutive frames.
    """
    frames = case.frames
    if case.is_snapshot:
        total = 0
        for frame in frames:
            function = setup()
            start = clock_ns()
            function(frame)
            total += clock_ns() - start
        return total / len(frames)
    function = setup()
    start = clock_ns()
    for frame in frames:
        function(frame)
    return (clock_ns() - start) / len(frames)


def _prove_the_path(case: _Case, setup: Callable[[], Callable[[bytes], object]]) -> None:
    """Untimed: run the frames exactly as ``_ns_per_frame`` does and check every result."""
    function = setup()
    for frame in case.frames:
        if case.is_snapshot:
            function = setup()
        case.check(function(frame))


def measure(*, scale: float = 1.0, repeats: int = 60) -> list[dict[str, Any]]:
    """Time every case four ways, the median of ``repeats`` interleaved timings each (the
    rules of ``bench_common``); ``scale`` multiplies frames per timing."""
    rows: list[dict[str, Any]] = []
    with gc_paused():
        for name in CASES:
            case = _Case(name, max(1, int(_LOOPS[name] * scale)))
            setups = [(label, runner(case)) for label, runner in _RUNNERS]
            for _, setup in setups[2:]:
                _prove_the_path(case, setup)
            runs = interleaved_runs(
                {label: _timing(case, setup) for label, setup in setups}, repeats
            )
            timings = {label: statistics.median(values) / 1000 for label, values in runs.items()}
            rows.append(
                {
                    "case": name,
                    "bytes": len(case.frames[0]),
                    "orjson_us": timings["orjson"],
                    "decode_us": timings["decode"],
                    "pipeline_us": timings["pipeline"],
                    "connection_us": timings["connection"],
                    "apply_us": timings["pipeline"] - timings["decode"],
                    "pipeline_vs_orjson": timings["pipeline"] / timings["orjson"],
                    "connection_vs_orjson": timings["connection"] / timings["orjson"],
                }
            )
    return rows


def _timing(case: _Case, setup: Callable[[], Callable[[bytes], object]]) -> Callable[[], float]:
    """``_ns_per_frame`` of ``setup`` on ``case``, as a timing for ``interleaved_runs``."""
    return lambda: _ns_per_frame(case, setup)


def _table(rows: Sequence[dict[str, Any]]) -> str:
    header = (
        f"{'case':<31} {'bytes':>7} {'orjson us':>10} {'decode us':>10} {'apply us':>9}"
        f" {'pipeline us':>12} {'conn us':>9} {'pipe/orjson':>11} {'conn/orjson':>11}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        verdict = "" if row["pipeline_vs_orjson"] <= TARGET_RATIO else "  MISSES TARGET"
        lines.append(
            f"{row['case']:<31} {row['bytes']:>7} {row['orjson_us']:>10.2f}"
            f" {row['decode_us']:>10.2f} {row['apply_us']:>9.2f}"
            f" {row['pipeline_us']:>12.2f} {row['connection_us']:>9.2f}"
            f" {row['pipeline_vs_orjson']:>10.2f}x {row['connection_vs_orjson']:>10.2f}x{verdict}"
        )
    lines.append(
        f"target: pipeline (decode + sequence check + apply) / orjson.loads <= {TARGET_RATIO:.1f}x;"
        " 'apply us' is pipeline - decode"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON with ``--json``); returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--quick", action="store_true", help="a tiny run, for smoke tests")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the frames per timing (default 1.0)"
    )
    parser.add_argument(
        "--repeats", type=int, default=60, help="timings per case; the median is kept"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.scale, args.repeats = 0.01, 2
    rows = measure(scale=args.scale, repeats=args.repeats)
    if args.json:
        print(json.dumps({"target_ratio": TARGET_RATIO, "results": rows}, indent=2))
    else:
        print(_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
