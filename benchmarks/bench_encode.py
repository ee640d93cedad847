"""Request construction + ``encode`` against ``json.dumps`` of the equivalent dict.

Per request, in one run, interleaved (medians of CPU time per call):

* ``ours``: ``encode(AddOrder(...), token=..., reqid=...)``: every field validated at
  construction (floats refused, prices checked against the order type), then encoded;
* ``construct`` and ``encode``: the two halves of ``ours`` alone; ``validate``: the checks
  alone (``__post_init__``), so ``construct - validate`` is the frozen msgspec Struct's own
  init;
* ``json.dumps``: of the dict a hand-written client builds for the same message (money already
  as strings, nothing checked); ``orjson.dumps(...).decode()`` for scale.

Target: ``ours`` no slower than ``json.dumps`` (AddOrder). ``CancelOrder`` is reported too.

    python benchmarks/bench_encode.py [--quick] [--json]
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

import kraken_proto.v2 as v2
import orjson
from kraken_proto import AddOrder, CancelOrder, Request, encode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import clock_ns, gc_paused, interleaved_runs, median_ratio

__all__ = ["CASES", "TARGET_RATIO", "main", "measure"]

TARGET_RATIO = 1.0
"""AddOrder construction + encode over json.dumps of the equivalent dict."""

_TOKEN = "WW91ciBhdXRoZW50aWNhdGlvbiB0b2tlbiBnb2VzIGhlcmUu"
_VOLUME = Decimal("1.25000000")
_PRICE = Decimal("27500.1")


def _add_order() -> Request:
    return AddOrder(
        ordertype="limit", type="buy", pair="XBT/USD", volume=_VOLUME, price=_PRICE, userref=7
    )


def _add_order_dict(reqid: int) -> dict[str, Any]:
    return {
        "event": "addOrder",
        "reqid": reqid,
        "token": _TOKEN,
        "ordertype": "limit",
        "type": "buy",
        "pair": "XBT/USD",
        "volume": "1.25000000",
        "price": "27500.1",
        "userref": "7",
    }


def _cancel_order() -> Request:
    return CancelOrder(txid=("OGTT3Y-C6I3P-XRI6HX",))


def _cancel_order_dict(reqid: int) -> dict[str, Any]:
    return {
        "event": "cancelOrder",
        "reqid": reqid,
        "token": _TOKEN,
        "txid": ["OGTT3Y-C6I3P-XRI6HX"],
    }


def _v2_add_order() -> Request:
    return v2.AddOrder(
        order_type="limit",
        side="buy",
        symbol="BTC/USD",
        order_qty=_VOLUME,
        limit_price=_PRICE,
        order_userref=7,
    )


def _v2_add_order_dict(reqid: int) -> dict[str, Any]:
    # What a hand-written v2 client sends: floats, as json.dumps writes them.
    return {
        "method": "add_order",
        "params": {
            "order_type": "limit",
            "side": "buy",
            "order_qty": 1.25,
            "limit_price": 27500.1,
            "order_userref": 7,
            "symbol": "BTC/USD",
            "token": _TOKEN,
        },
        "req_id": reqid,
    }


def _v1_encode(request: Request) -> str:
    return encode(request, token=_TOKEN, reqid=5)


def _v2_encode(request: Request) -> str:
    return v2.encode(request, token=_TOKEN, req_id=5)  # type: ignore[arg-type]


CASES: dict[str, tuple[Callable[[], Request], Callable[[int], dict[str, Any]]]] = {
    "AddOrder limit": (_add_order, _add_order_dict),
    "CancelOrder one txid": (_cancel_order, _cancel_order_dict),
    "v2 AddOrder limit": (_v2_add_order, _v2_add_order_dict),
}
_ENCODERS = {"v2 AddOrder limit": _v2_encode}
"""Cases not encoded by the v1 ``encode``."""


def _check_same_message(
    build: Callable[[], Request],
    as_dict: Callable[[int], dict[str, Any]],
    encoder: Callable[[Request], str] = _v1_encode,
) -> None:
    ours = json.loads(encoder(build()))
    if ours != as_dict(5):
        raise RuntimeError(f"not the same message: {ours} != {as_dict(5)}")


def _timing(function: Callable[[], object], loops: int) -> Callable[[], float]:
    def run() -> float:
        clock = clock_ns
        start = clock()
        for _ in range(loops):
            function()
        return (clock() - start) / loops / 1000

    return run


def _contenders(
    build: Callable[[], Request],
    as_dict: Callable[[int], dict[str, Any]],
    loops: int,
    encoder: Callable[[Request], str] = _v1_encode,
) -> dict[str, Callable[[], float]]:
    built = build()
    return {
        "ours": _timing(lambda: encoder(build()), loops),
        "construct": _timing(build, loops),
        # __post_init__ again on a built request: the validation alone (it only re-checks and
        # re-stores the same normalised values); construct - validate is the dataclass init.
        "validate": _timing(built.__post_init__, loops),  # type: ignore[attr-defined]
        "encode": _timing(lambda: encoder(built), loops),
        "json.dumps": _timing(lambda: json.dumps(as_dict(5)), loops),
        "orjson.dumps": _timing(lambda: orjson.dumps(as_dict(5)).decode(), loops),
    }


def measure(*, loops: int = 2000, repeats: int = 31) -> list[dict[str, Any]]:
    """Time every case; microseconds per request."""
    rows = []
    with gc_paused():
        for name, (build, as_dict) in CASES.items():
            encoder = _ENCODERS.get(name, _v1_encode)
            _check_same_message(build, as_dict, encoder)
            timings = _contenders(build, as_dict, loops, encoder)
            runs = interleaved_runs(timings, repeats)
            row: dict[str, Any] = {"case": name}
            for label, values in runs.items():
                row[f"{label}_us"] = statistics.median(values)
            row["ours_vs_json"] = median_ratio(runs["ours"], runs["json.dumps"])
            row["init_us"] = row["construct_us"] - row["validate_us"]
            rows.append(row)
    return rows


def _table(rows: Sequence[dict[str, Any]]) -> str:
    header = (
        f"{'case':<22} {'ours us':>8} {'construct us':>12} {'encode us':>9}"
        f" {'json.dumps us':>13} {'orjson us':>9} {'ours/json':>9}"
    )
    lines = [header, "-" * len(header)]
    lines += [
        f"{row['case']:<22} {row['ours_us']:>8.2f} {row['construct_us']:>12.2f}"
        f" {row['encode_us']:>9.2f} {row['json.dumps_us']:>13.2f}"
        f" {row['orjson.dumps_us']:>9.2f} {row['ours_vs_json']:>8.2f}x"
        for row in rows
    ]
    lines.append(
        "target: AddOrder construction + encode / json.dumps of the same dict"
        f" <= {TARGET_RATIO:.2f}x"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON with ``--json``); returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--quick", action="store_true", help="a few seconds, for smoke tests")
    parser.add_argument("--repeats", type=int, default=31, help="timings per case; median kept")
    args = parser.parse_args(argv)
    loops, repeats = (50, 2) if args.quick else (2000, args.repeats)
    rows = measure(loops=loops, repeats=repeats)
    if args.json:
        print(json.dumps({"target_ratio": TARGET_RATIO, "results": rows}, indent=2))
    else:
        print(_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
