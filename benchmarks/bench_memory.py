"""Memory held per open order (``OrderTable``) and per remembered fill id (``FillLog``).

Measured with ``tracemalloc`` (every Python allocation that stays alive, after a collection):

* an ``OrderTable`` holding 10,000 open orders, fed as Kraken does (a snapshot, then new-order
  deltas), against the careful hand-written client's dict of dicts (Decimals in place);
* a ``FillLog`` that has seen 100,000 trade ids (ownTrades updates of 1,000 trades), against a
  plain ``dict`` of the ids. The log also keeps its last ``max_trades`` (default 1,000) trades.

The frames themselves and the decoded events are dropped before the reading; what is left is
what the table or log keeps.

    python benchmarks/bench_memory.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tracemalloc
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import kraken_proto
import orjson
from kraken_proto import FillLog, OrderTable
from kraken_proto.v1 import OpenOrders, OwnTrades

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_clients import CarefulClient
from kraken_frames import full_order, trade, txid

__all__ = ["main", "measure"]

_CHUNK = 1000


def _order_frames(orders: int) -> list[bytes]:
    frames = []
    for start in range(0, orders, _CHUNK):
        entries = [{txid("O", n): full_order(n)} for n in range(start, min(orders, start + _CHUNK))]
        frames.append(orjson.dumps([entries, "openOrders", {"sequence": 1 + start // _CHUNK}]))
    return frames


def _trade_frames(trades: int) -> list[bytes]:
    frames = []
    for start in range(0, trades, _CHUNK):
        entries = [
            {txid("T", n): trade(n, update=True)} for n in range(start, min(trades, start + _CHUNK))
        ]
        frames.append(orjson.dumps([entries, "ownTrades", {"sequence": 1 + start // _CHUNK}]))
    return frames


def _retained(build: Callable[[], object]) -> tuple[int, object]:
    """Bytes still allocated after ``build()`` returned its result (which is kept alive)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before, result


def _order_table(frames: list[bytes]) -> Callable[[], object]:
    def build() -> object:
        table = OrderTable()
        for frame in frames:
            event = kraken_proto.decode(frame)
            assert isinstance(event, OpenOrders)
            table.apply(event)
        return table

    return build


def _careful_orders(frames: list[bytes]) -> Callable[[], object]:
    def build() -> object:
        client = CarefulClient()
        for frame in frames:
            client.on_frame(frame)
        return client

    return build


def _fill_log(frames: list[bytes], window: int) -> Callable[[], object]:
    def build() -> object:
        log = FillLog(window=window)
        for frame in frames:
            event = kraken_proto.decode(frame)
            assert isinstance(event, OwnTrades)
            log.apply(event)
        return log

    return build


def _id_dict(frames: list[bytes]) -> Callable[[], object]:
    def build() -> object:
        seen: dict[str, None] = {}
        for frame in frames:
            for entry in orjson.loads(frame)[0]:
                seen.update(dict.fromkeys(entry))
        return seen

    return build


def measure(*, orders: int = 10_000, fills: int = 100_000) -> dict[str, Any]:
    """Bytes per open order and per fill id, ours and the plain alternatives."""
    order_frames = _order_frames(orders)
    trade_frames = _trade_frames(fills)
    table_bytes, table = _retained(_order_table(order_frames))
    assert isinstance(table, OrderTable)
    assert len(table) == orders
    careful_bytes, careful = _retained(_careful_orders(order_frames))
    assert isinstance(careful, CarefulClient)
    assert len(careful.orders) == orders
    log_bytes, log = _retained(_fill_log(trade_frames, window=fills))
    assert isinstance(log, FillLog)
    assert len(log) == fills
    ids_bytes, ids = _retained(_id_dict(trade_frames))
    assert isinstance(ids, dict)
    assert len(ids) == fills
    decimals = sum(
        sys.getsizeof(value)
        for order in table.open_orders().values()
        for value in (*(getattr(order, name) for name in order.__struct_fields__),)
        if isinstance(value, Decimal)
    ) + sum(
        sys.getsizeof(value)
        for order in table.open_orders().values()
        if order.descr is not None
        for value in (order.descr.price, order.descr.price2)
        if isinstance(value, Decimal)
    )
    return {
        "orders": orders,
        "fills": fills,
        "order_table_bytes_per_order": table_bytes / orders,
        "order_table_decimal_share": decimals / table_bytes,
        "careful_bytes_per_order": careful_bytes / orders,
        "fill_log_bytes_per_id": log_bytes / fills,
        "fill_log_max_trades": log.max_trades,
        "id_dict_bytes_per_id": ids_bytes / fills,
    }


def _table(result: dict[str, Any]) -> str:
    decimal_bytes = result["order_table_decimal_share"] * result["order_table_bytes_per_order"]
    return "\n".join(
        [
            f"{'what':<44} {'bytes each':>10}",
            "-" * 55,
            f"{'OrderTable, per open order (' + str(result['orders']) + ')':<44}"
            f" {result['order_table_bytes_per_order']:>10.0f}",
            f"{'  of which Decimals':<44} {decimal_bytes:>10.0f}",
            f"{'careful client dict of dicts, per order':<44}"
            f" {result['careful_bytes_per_order']:>10.0f}",
            f"{'FillLog, per fill id (' + str(result['fills']) + ')':<44}"
            f" {result['fill_log_bytes_per_id']:>10.0f}",
            f"{'plain dict of the ids, per id':<44} {result['id_dict_bytes_per_id']:>10.0f}",
            f"FillLog also keeps its last {result['fill_log_max_trades']} trades (max_trades).",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON with ``--json``); returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--quick", action="store_true", help="small counts, for smoke tests")
    args = parser.parse_args(argv)
    result = measure(orders=500, fills=2000) if args.quick else measure()
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
