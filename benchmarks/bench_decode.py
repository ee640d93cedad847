"""Benchmark ``kraken_proto.decode`` against the msgspec typed-Decimal floor, orjson and json.

Each case is one realistic Kraken v1 frame, decoded from the same bytes by every contender:

* ``decode``: ``kraken_proto.decode`` (routing, typed records, exact Decimals, the event);
* ``floor``: one msgspec decode of the same frame into Structs with the same fields and
  ``Decimal`` types, with the decoder chosen in advance (no routing, no event built): the least
  any exact, validating typed decoder built on msgspec can cost;
* ``orjson``/``json``: ``orjson.loads``/``json.loads`` (plain dicts of strings, no validation).

The target is ``decode`` within 1.10x of the floor on every case (the owner decided Decimals stay
eager, so the old "2.0x orjson" target is below what exactness costs).

Run ``python benchmarks/bench_decode.py`` (add ``--json`` for machine-readable output).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import kraken_proto
import msgspec
import orjson

# Run as a script (python benchmarks/x.py) or loaded by path from the smoke tests: either way
# the shared frame builders sit next to this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import clock_ns, gc_paused, interleaved_runs, median_ratio
from kraken_frames import full_order, trade, txid

__all__ = ["CASES", "TARGET_RATIO", "build_cases", "floor_decoder", "main", "measure"]

TARGET_RATIO = 1.10
"""``decode`` should take at most this many times as long as the msgspec floor on every case."""


def _floor_struct(name: str, record: type[msgspec.Struct], nested: dict[str, Any]) -> Any:
    """A plain msgspec Struct with ``record``'s wire fields and types (``nested`` swaps the
    types of nested records), and none of kraken_proto's options but ``gc=False``."""
    fields = [
        (field.name, nested.get(field.name, field.type) | None, None)
        for field in msgspec.structs.fields(record)
    ]
    return msgspec.defstruct(name, fields, gc=False)


def _floor_types() -> dict[str, Any]:
    from kraken_proto import Contingent, OrderDescr, OrderRecord, Trade

    descr = _floor_struct("FloorDescr", OrderDescr, {})
    contingent = _floor_struct("FloorContingent", Contingent, {})
    order = _floor_struct("FloorOrder", OrderRecord, {"descr": descr, "contingent": contingent})
    trade_record = _floor_struct("FloorTrade", Trade, {})
    meta = msgspec.defstruct("FloorMeta", [("sequence", int | None, None)], gc=False)
    return {
        channel: msgspec.defstruct(
            f"Floor{channel}",
            [("payload", list[dict[str, record]]), ("channel", str), ("meta", meta)],
            array_like=True,
            gc=False,
        )
        for channel, record in (("openOrders", order), ("ownTrades", trade_record))
    }


_FLOOR_TYPES = _floor_types()


def floor_decoder(frame: bytes) -> Callable[[bytes], object]:
    """The floor's decode function for ``frame``'s channel, chosen before any timing."""
    channel = "ownTrades" if b'"ownTrades"' in frame else "openOrders"
    return msgspec.json.Decoder(_FLOOR_TYPES[channel]).decode


def build_cases() -> dict[str, bytes]:
    """The six benchmark frames, as the bytes a WebSocket library would hand over."""
    status_delta = [
        [
            {
                "OGTT3Y-C6I3P-XRI6HX": {
                    "lastupdated": "1700220700.114325",
                    "status": "canceled",
                    "vol_exec": "0.00000000",
                    "cost": "0.000000",
                    "fee": "0.000000",
                    "avg_price": "0.000000",
                    "userref": 0,
                    "cancel_reason": "User requested",
                }
            }
        ],
        "openOrders",
        {"sequence": 4},
    ]
    # The smallest delta Kraken sends: an order that became open, and nothing else.
    status_only = [
        [{"OGTT3Y-C6I3P-XRI6HX": {"status": "open", "userref": 0}}],
        "openOrders",
        {"sequence": 3},
    ]
    fill_delta = [
        [
            {
                "OGTT3Y-C6I3P-XRI6HX": {
                    "vol_exec": "1.25000000",
                    "cost": "11.562500",
                    "fee": "0.030062",
                    "avg_price": "9.250000",
                    "userref": 0,
                }
            }
        ],
        "openOrders",
        {"sequence": 5},
    ]
    new_order = [
        [{"OGTT3Y-C6I3P-XRI6HX": {**full_order(7), "status": "pending"}}],
        "openOrders",
        {"sequence": 2},
    ]
    trades = [
        [{txid("T", n): trade(n)} for n in range(50)],
        "ownTrades",
        {"sequence": 1},
    ]
    orders = [
        [{txid("O", n): full_order(n)} for n in range(200)],
        "openOrders",
        {"sequence": 1},
    ]
    return {
        "openOrders status-only delta": orjson.dumps(status_only),
        "openOrders status delta": orjson.dumps(status_delta),
        "openOrders fill delta": orjson.dumps(fill_delta),
        "openOrders new order": orjson.dumps(new_order),
        "ownTrades 50-trade snapshot": orjson.dumps(trades),
        "openOrders 200-order snapshot": orjson.dumps(orders),
    }


CASES: tuple[str, ...] = tuple(build_cases())

# Inner-loop sizes per case, so each timing takes one to a few milliseconds: short enough that
# many repeats fit and few of them share a core with a burst of someone else's work.
_LOOPS = {
    "openOrders status-only delta": 2000,
    "openOrders status delta": 1000,
    "openOrders fill delta": 1000,
    "openOrders new order": 500,
    "ownTrades 50-trade snapshot": 20,
    "openOrders 200-order snapshot": 3,
}


def _decimal_texts(value: Any) -> list[str]:
    """The text of every Decimal ``decode`` built for an event, to time their construction."""
    if isinstance(value, Decimal):
        return [str(value)]
    if isinstance(value, msgspec.Struct):
        value = [getattr(value, name) for name in value.__struct_fields__]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _decimal_texts(item)]
    return []


def _make_decimals(texts: list[str]) -> list[Decimal]:
    return list(map(Decimal, texts))


def _timing(function: Callable[[Any], object], argument: Any, loops: int) -> Callable[[], float]:
    def run() -> float:
        clock = clock_ns
        start = clock()
        for _ in range(loops):
            function(argument)
        return (clock() - start) / loops / 1000

    return run


def measure(*, scale: float = 1.0, repeats: int = 41) -> list[dict[str, Any]]:
    """Time every decoder on every case, median of ``repeats`` interleaved timings, in us per
    call; ``scale`` multiplies the inner-loop sizes."""
    rows: list[dict[str, Any]] = []
    with gc_paused():
        for name, frame in build_cases().items():
            loops = max(1, int(_LOOPS[name] * scale))
            texts = _decimal_texts(kraken_proto.decode(frame))  # also warms up
            floor = floor_decoder(frame)
            floor(frame)
            runs = interleaved_runs(
                {
                    "decode": _timing(kraken_proto.decode, frame, loops),
                    "floor": _timing(floor, frame, loops),
                    "orjson": _timing(orjson.loads, frame, loops),
                    "json": _timing(json.loads, frame, loops),
                    "decimals": _timing(_make_decimals, texts, loops),
                },
                repeats,
            )
            timings = {label: statistics.median(values) for label, values in runs.items()}
            rows.append(
                {
                    "case": name,
                    "bytes": len(frame),
                    "decimals": len(texts),
                    "decimal_construction_us": timings["decimals"],
                    "decode_us": timings["decode"],
                    "floor_us": timings["floor"],
                    "orjson_us": timings["orjson"],
                    "json_us": timings["json"],
                    "decode_vs_floor": median_ratio(runs["decode"], runs["floor"]),
                    "floor_vs_orjson": median_ratio(runs["floor"], runs["orjson"]),
                    "decode_vs_orjson": median_ratio(runs["decode"], runs["orjson"]),
                    "decode_vs_json": median_ratio(runs["decode"], runs["json"]),
                    "decode_without_decimals_vs_orjson": (timings["decode"] - timings["decimals"])
                    / timings["orjson"],
                }
            )
    return rows


def _table(rows: Sequence[dict[str, Any]]) -> str:
    header = (
        f"{'case':<30} {'bytes':>6} {'decode us':>9} {'floor us':>8} {'orjson us':>9}"
        f" {'json us':>8} {'dec/floor':>9} {'floor/orjson':>12} {'dec/orjson':>10}"
        f" {'dec/json':>8} {'Decimals':>8} {'Decimal() us':>12}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        verdict = "" if row["decode_vs_floor"] <= TARGET_RATIO else "  misses target"
        lines.append(
            f"{row['case']:<30} {row['bytes']:>6} {row['decode_us']:>9.2f}"
            f" {row['floor_us']:>8.2f} {row['orjson_us']:>9.2f} {row['json_us']:>8.2f}"
            f" {row['decode_vs_floor']:>8.2f}x {row['floor_vs_orjson']:>11.2f}x"
            f" {row['decode_vs_orjson']:>9.2f}x {row['decode_vs_json']:>7.2f}x"
            f" {row['decimals']:>8} {row['decimal_construction_us']:>12.2f}{verdict}"
        )
    lines.append(
        f"target: decode/floor <= {TARGET_RATIO:.2f}x on every case (floor: msgspec typed decode"
        " into Decimal fields, no routing); medians of interleaved repeats."
    )
    lines.append("'Decimal() us' is the time to build the event's Decimals alone with Decimal(str).")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON with ``--json``); returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the inner-loop sizes (default 1.0)"
    )
    parser.add_argument("--repeats", type=int, default=41, help="timings per case; median is kept")
    args = parser.parse_args(argv)
    rows = measure(scale=args.scale, repeats=args.repeats)
    if args.json:
        print(json.dumps({"target_ratio": TARGET_RATIO, "results": rows}, indent=2))
    else:
        print(_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
