"""Benchmark ``kraken_proto.decode`` against the msgspec typed-Decimal floor, orjson and json.

Each case is one realistic Kraken frame (v1, or v2 decoded by ``kraken_proto.v2.decode``),
decoded from the same bytes by every contender:

* ``decode``: ``kraken_proto.decode`` (routing, typed records, exact Decimals, the event), or
  ``kraken_proto.v2.decode`` for the v2 cases;
* ``floor``: one msgspec decode of the same frame into Structs with the same fields and
  ``Decimal`` types, with the decoder chosen in advance (no routing, no event built): the least
  any exact, validating typed decoder built on msgspec can cost;
* ``orjson``/``json``: ``orjson.loads``/``json.loads`` (plain dicts of strings, no validation;
  on v2 frames they read prices and quantities as floats, losing digits, where ``decode``
  builds exact Decimals).

The target is ``decode`` within 1.10x of the floor on every case (the owner decided Decimals stay
eager, so the old "2.0x orjson" target is below what exactness costs).

Run ``python benchmarks/bench_decode.py`` (add ``--json`` for machine-readable output).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import types
import typing
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import kraken_proto
import msgspec
import orjson
from kraken_proto import _numbers
from kraken_proto._numbers import KrakenFreshNumber, KrakenNumber

# Run as a script (python benchmarks/x.py) or loaded by path from the smoke tests: either way
# the shared frame builders sit next to this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import clock_ns, gc_paused, interleaved_runs, median_ratio
from kraken_frames import full_order, trade, txid

try:
    import kraken_proto.v2 as _v2
except ImportError:  # before the v2 codec landed
    _v2 = None  # type: ignore[assignment]

__all__ = [
    "CASES",
    "TARGET_RATIO",
    "V2_CASES",
    "build_cases",
    "decoder_for",
    "floor_decoder",
    "main",
    "measure",
]

TARGET_RATIO = 1.10
"""``decode`` should take at most this many times as long as the msgspec floor on every case."""


_FLOORS: dict[type[msgspec.Struct], Any] = {}


def _floor_type(annotation: Any) -> Any:
    """``annotation`` with every kraken_proto Struct in it replaced by its floor Struct, and
    every number field (``KrakenNumber``, ``KrakenFreshNumber``: read through a text check) by
    plain ``Decimal``."""
    if annotation is KrakenNumber or annotation is KrakenFreshNumber:
        return Decimal
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return _floor_struct(annotation)
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        members = [_floor_type(member) for member in typing.get_args(annotation)]
        return typing.Union[tuple(members)]  # noqa: UP007
    if origin in (tuple, list):
        item = typing.get_args(annotation)[0]
        return list[_floor_type(item)]  # type: ignore[misc]
    return annotation


def _floor_struct(record: type[msgspec.Struct]) -> Any:
    """A plain msgspec Struct with ``record``'s wire fields and types (nested records in their
    floor form), and none of kraken_proto's options but ``gc=False``."""
    if record not in _FLOORS:
        fields = [
            (field.name, _floor_type(field.type), None) for field in msgspec.structs.fields(record)
        ]
        _FLOORS[record] = msgspec.defstruct(
            f"Floor{record.__name__}",
            fields,
            gc=False,
            rename={f.name: f.encode_name for f in msgspec.structs.fields(record)},
        )
    return _FLOORS[record]


def _floor_types() -> dict[str, Any]:
    from kraken_proto import Trade
    from kraken_proto.v1 import OrderRecord

    meta = msgspec.defstruct("FloorMeta", [("sequence", int | None, None)], gc=False)
    floors: dict[str, Any] = {
        channel: msgspec.defstruct(
            f"Floor{channel}",
            [("payload", list[dict[str, _floor_struct(record)]]), ("channel", str), ("meta", meta)],  # type: ignore[misc]
            array_like=True,
            gc=False,
        )
        for channel, record in (("openOrders", OrderRecord), ("ownTrades", Trade))
    }
    if _v2 is not None:
        from kraken_proto.v2._events import Execution

        floors["executions"] = msgspec.defstruct(
            "FloorExecutions",
            [
                ("channel", str),
                ("type", str),
                ("data", list[_floor_struct(Execution)]),  # type: ignore[misc]
                ("sequence", int | None, None),
            ],
            gc=False,
        )
    return floors


_FLOOR_TYPES = _floor_types()


def floor_decoder(frame: bytes) -> Callable[[bytes], object]:
    """The floor's decode function for ``frame``'s channel, chosen before any timing."""
    if frame.startswith(b'{"channel":"executions"'):
        channel = "executions"
    else:
        channel = "ownTrades" if b'"ownTrades"' in frame else "openOrders"
    return msgspec.json.Decoder(_FLOOR_TYPES[channel]).decode


V2_TRADE = "v2 executions trade update"
V2_SNAPSHOT = "v2 executions 200-order snapshot"
V2_STATUS_ONLY = "v2 executions status-only update"
V2_CANCEL = "v2 executions cancel update"
V2_NEW_ORDER = "v2 executions new order"
V2_TRADES_SNAPSHOT = "v2 executions 50-trade snapshot"
# The v2 twins of the v1 shapes, built as bench_clients builds its v2 frames (its case names).
_V2_TWINS = {
    V2_STATUS_ONLY: "openOrders status-only delta",
    V2_CANCEL: "openOrders status delta",
    V2_NEW_ORDER: "openOrders new order",
    V2_TRADES_SNAPSHOT: "ownTrades 50-trade snapshot",
}
V2_CASES = frozenset({V2_TRADE, V2_SNAPSHOT, *_V2_TWINS})


def _v2_trade(n: int) -> dict[str, Any]:
    """A v2 trade execution shaped like the doc's example (numbers as JSON numbers)."""
    return {
        "order_id": txid("O", n),
        "order_userref": n,
        "exec_id": txid("T", n),
        "exec_type": "trade",
        "trade_id": 62887576 + n,
        "symbol": "BTC/USD",
        "side": "sell",
        "last_qty": 0.005,
        "last_price": 26599.9,
        "liquidity_ind": "t",
        "cost": 132.9995,
        "order_type": "limit",
        "timestamp": "2023-09-22T10:33:05.709993Z",
        "order_status": "partially_filled",
        "cum_qty": 0.005,
        "cum_cost": 132.9995,
        "avg_price": 26599.9,
        "fee_usd_equiv": 0.3458,
        "fees": [{"asset": "USD", "qty": 0.3458}],
    }


def _v2_order(n: int) -> dict[str, Any]:
    """An open order as a v2 executions snapshot lists it."""
    return {
        "order_id": txid("O", n),
        "order_userref": n,
        "symbol": "BTC/USD",
        "order_qty": 0.005 + n / 1000,
        "cum_qty": 0.0,
        "cum_cost": 0.0,
        "avg_price": 0.0,
        "time_in_force": "GTC",
        "exec_type": "new",
        "side": "buy" if n % 2 else "sell",
        "order_type": "limit",
        "limit_price": 26500.0 + n,
        "limit_price_type": "static",
        "order_status": "new",
        "fee_usd_equiv": 0.0,
        "fee_ccy_pref": "fciq",
        "post_only": False,
        "amended": False,
        "timestamp": "2023-09-22T10:33:05.709950Z",
    }


def decoder_for(case: str) -> Callable[[bytes], object]:
    """The ``decode`` a case is measured with: the v2 one for v2 frames."""
    if case in V2_CASES:
        assert _v2 is not None
        return _v2.decode
    return kraken_proto.decode


def build_cases() -> dict[str, bytes]:
    """The benchmark frames, as the bytes a WebSocket library would hand over: every shape
    (status only, cancel, fill, new order, one trade, the 50-trade and 200-order snapshots)
    in v1 and in v2."""
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
    # A live fill: one trade, as ownTrades updates carry them (read by the text-first path).
    fill = [[{txid("T", 7): trade(7, update=True)}], "ownTrades", {"sequence": 6}]
    orders = [
        [{txid("O", n): full_order(n)} for n in range(200)],
        "openOrders",
        {"sequence": 1},
    ]
    cases = {
        "openOrders status-only delta": orjson.dumps(status_only),
        "openOrders status delta": orjson.dumps(status_delta),
        "openOrders fill delta": orjson.dumps(fill_delta),
        "openOrders new order": orjson.dumps(new_order),
        "ownTrades fill": orjson.dumps(fill),
        "ownTrades 50-trade snapshot": orjson.dumps(trades),
        "openOrders 200-order snapshot": orjson.dumps(orders),
    }
    if _v2 is not None:
        v2_trade = {
            "channel": "executions",
            "type": "update",
            "data": [_v2_trade(10)],
            "sequence": 10,
        }
        v2_orders = {
            "channel": "executions",
            "type": "snapshot",
            "data": [_v2_order(n) for n in range(200)],
            "sequence": 1,
        }
        from bench_clients import v2_frames

        for name, twin in _V2_TWINS.items():
            cases[name] = v2_frames(twin, 8)[1][7]
        cases[V2_TRADE] = orjson.dumps(v2_trade)
        cases[V2_SNAPSHOT] = orjson.dumps(v2_orders)
    return cases


CASES: tuple[str, ...] = tuple(build_cases())

# Inner-loop sizes per case, so each timing takes one to a few milliseconds: short enough that
# many repeats fit and few of them share a core with a burst of someone else's work.
_LOOPS = {
    "openOrders status-only delta": 2000,
    "openOrders status delta": 1000,
    "openOrders fill delta": 1000,
    "openOrders new order": 500,
    "ownTrades fill": 500,
    "ownTrades 50-trade snapshot": 20,
    "openOrders 200-order snapshot": 3,
    V2_STATUS_ONLY: 1000,
    V2_CANCEL: 1000,
    V2_NEW_ORDER: 500,
    V2_TRADES_SNAPSHOT: 10,
    V2_TRADE: 500,
    V2_SNAPSHOT: 3,
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


TEXT_FIRST = "ownTrades fill"
"""The case ``decode`` reads text-first (``v1._trade_text``): its row also times that read."""


def _read_as_text(frame: bytes) -> object:
    """msgspec's read of an ownTrades update with every number as text, the first step of
    ``decode``'s path for it (the rest: the texts checked and made Decimal, the Trade)."""
    from kraken_proto.v1 import _trade_text

    return _trade_text._decode_text(frame)


def _cold(decode: Callable[[Any], object]) -> Callable[[Any], object]:
    """``decode`` with the number memo emptied first: every number text is new to it (the
    frames of the timed loop otherwise repeat their texts, all found in the memo)."""
    clear = getattr(_numbers, "_cache", {}).clear

    def cold(frame: Any) -> object:
        clear()
        return decode(frame)

    return cold


def measure(*, scale: float = 1.0, repeats: int = 41) -> list[dict[str, Any]]:
    """Time every decoder on every case, median of ``repeats`` interleaved timings, in us per
    call; ``scale`` multiplies the inner-loop sizes."""
    rows: list[dict[str, Any]] = []
    with gc_paused():
        for name, frame in build_cases().items():
            loops = max(1, int(_LOOPS[name] * scale))
            decode = decoder_for(name)
            texts = _decimal_texts(decode(frame))  # also warms up
            floor = floor_decoder(frame)
            floor(frame)
            contenders = {
                "decode": _timing(decode, frame, loops),
                "cold": _timing(_cold(decode), frame, loops),
                "floor": _timing(floor, frame, loops),
                "orjson": _timing(orjson.loads, frame, loops),
                "json": _timing(json.loads, frame, loops),
                "decimals": _timing(_make_decimals, texts, loops),
            }
            if name == TEXT_FIRST:
                contenders["text read"] = _timing(_read_as_text, frame, loops)
            runs = interleaved_runs(contenders, repeats)
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
                    "decode_cold_us": timings["cold"],
                    "decode_cold_vs_floor": median_ratio(runs["cold"], runs["floor"]),
                    "floor_vs_orjson": median_ratio(runs["floor"], runs["orjson"]),
                    "decode_vs_orjson": median_ratio(runs["decode"], runs["orjson"]),
                    "decode_vs_json": median_ratio(runs["decode"], runs["json"]),
                    "decode_without_decimals_vs_orjson": (timings["decode"] - timings["decimals"])
                    / timings["orjson"],
                }
            )
            if "text read" in timings:
                rows[-1]["text_read_us"] = timings["text read"]
    return rows


def _table(rows: Sequence[dict[str, Any]]) -> str:
    header = (
        f"{'case':<34} {'bytes':>6} {'decode us':>9} {'floor us':>8} {'orjson us':>9}"
        f" {'json us':>8} {'dec/floor':>9} {'floor/orjson':>12} {'dec/orjson':>10}"
        f" {'dec/json':>8} {'Decimals':>8} {'Decimal() us':>12} {'cold/floor':>10}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        verdict = "" if row["decode_vs_floor"] <= TARGET_RATIO else "  misses target"
        lines.append(
            f"{row['case']:<34} {row['bytes']:>6} {row['decode_us']:>9.2f}"
            f" {row['floor_us']:>8.2f} {row['orjson_us']:>9.2f} {row['json_us']:>8.2f}"
            f" {row['decode_vs_floor']:>8.2f}x {row['floor_vs_orjson']:>11.2f}x"
            f" {row['decode_vs_orjson']:>9.2f}x {row['decode_vs_json']:>7.2f}x"
            f" {row['decimals']:>8} {row['decimal_construction_us']:>12.2f}"
            f" {row['decode_cold_vs_floor']:>9.2f}x{verdict}"
        )
    lines.append(
        f"target: decode/floor <= {TARGET_RATIO:.2f}x on every case (floor: msgspec typed decode"
        " into Decimal fields, no routing); medians of interleaved repeats."
    )
    lines.append(
        "'Decimal() us' is the time to build the event's Decimals alone with Decimal(str)."
        " 'cold' decodes with the number memo emptied before each frame (no text seen before)."
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON with ``--json``); returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--quick", action="store_true", help="a tiny run, for smoke tests")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the inner-loop sizes (default 1.0)"
    )
    parser.add_argument("--repeats", type=int, default=41, help="timings per case; median is kept")
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
