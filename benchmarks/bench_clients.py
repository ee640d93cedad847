"""The receive path against what a user would pick instead, per frame, in one run.

Contenders, timed on the same updates, interleaved (medians of CPU time per frame):

* ``ours``: ``Connection.receive_message`` + ``events_received`` (its sequence check) +
  ``OrderTable.apply`` / ``FillLog.apply``, as in ``bench_pipeline.py``'s ``connection`` column;
* ``careful``: a careful hand-written client: ``orjson.loads``, a shape check, ``Decimal()`` on
  every money field, an in-place dict merge into its own table, a sequence check (and for
  trades a seen-id check);
* ``ccxt`` (when installed): ccxt pro's Kraken handler, ``orjson.loads`` (what its WebSocket
  client uses when orjson is importable) + ``kraken.handle_message`` of the equivalent v2
  ``executions`` update, the only private path ccxt has for Kraken;
* ``kraken-sdk`` (when installed): python-kraken-sdk's per-message path: ``json.loads``, its
  subscription bookkeeping and the user's callback. It hands over raw dicts of floats (no
  Decimal, no order table, no sequence check), so it is shown for scale, not as a peer.

The ``v2 ...`` cases time the same contenders on v2 ``executions`` frames (all of them on the
same bytes): ``ours`` is ``V2Connection.receive_message`` + ``events_received`` (its sequence
check) + ``v2.apply_executions`` (into an ``OrderTable``) / ``v2.own_trades`` + ``FillLog.apply``:
the library's v2 pipeline for an embedder, and what the v2 session does with each update (it
applies its snapshots through ``open_orders`` + ``OrderTable.apply``, the same changes, without
``apply_executions``' shortcut for a snapshot into an empty table); ``careful`` is
``CarefulV2Client`` (orjson, a shape check, ``Decimal()`` on every money field, an in-place merge
by ``order_id``, a sequence check, a seen-``exec_id`` check). Shapes: ``pending_new`` -> ``new``
(status only), ``canceled``, a new order, a trade execution, the 200-order snapshot. Each v2 row
also times ours' parts alone (``v2 decode_us``: ``v2.decode``; ``v2 decode + tables_us``: ours
without ``V2Connection``) for the report's causes.

Each v1 row also times ours' parts alone, in the same repeats (``decode_us``:
``kraken_proto.decode``; ``decode + table_us``: decode, a hand-written sequence check and the
table, i.e. ours without ``Connection``), so the report's causes split ours' median into parts
measured beside the careful client's.

Targets: ``ours`` no slower than ``careful`` on every case, and at least 5x faster than ccxt
(issue 17's target, which ``run_all.py`` judges; the first goal was 10x).

    python benchmarks/bench_clients.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import kraken_proto
import orjson
from kraken_proto import FillLog, OrderChanges, OrderTable, v2
from kraken_proto.v1 import ChannelSnapshot, ChannelUpdate
from kraken_proto.v2 import Subscribe as V2Subscribe
from kraken_proto.v2 import V2Connection, own_trades

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pipeline
from bench_common import (
    clock_ns,
    forget_timestamps,
    gc_paused,
    interleaved_runs,
    median_ratio,
)
from kraken_frames import PAIRS, txid

__all__ = [
    "CARE_TARGET",
    "CASES",
    "CCXT_TARGET",
    "V2_CASES",
    "CarefulClient",
    "CarefulV2Client",
    "main",
    "measure",
    "v2_frames",
]

CASES = bench_pipeline.CASES
CARE_TARGET = 1.0
"""``ours`` / ``careful`` must be at most this on every case."""
CCXT_TARGET = 0.2
"""``ours`` / ``ccxt`` must be at most this on every case (5x faster, issue 17)."""

_ORDER_MONEY = frozenset(
    {
        "opentm",
        "starttm",
        "expiretm",
        "lastupdated",
        "display_volume",
        "display_volume_remain",
        "vol",
        "vol_exec",
        "cost",
        "fee",
        "avg_price",
        "price",
        "stopprice",
        "limitprice",
        "ratecount",
    }
)
_DESCR_MONEY = ("price", "price2")
_TRADE_MONEY = frozenset({"time", "price", "cost", "fee", "vol", "margin"})
_TERMINAL = frozenset({"closed", "canceled", "expired"})


class CarefulClient:
    """What a careful user writes by hand on top of orjson: correct, but nothing more."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.finished: dict[str, dict[str, Any]] = {}
        self.trade_ids: dict[str, None] = {}
        self.last_sequence: dict[str, int] = {}

    def on_frame(self, frame: bytes) -> object:
        """Handle one channel frame; returns what changed (raises on a bad frame or a gap)."""
        message = orjson.loads(frame)
        if not (
            type(message) is list
            and len(message) == 3
            and type(message[0]) is list
            and type(message[2]) is dict
        ):
            raise ValueError("not a channel frame")
        channel = message[1]
        sequence = message[2].get("sequence")
        if type(sequence) is not int:
            raise ValueError("no sequence")
        snapshot = sequence == 1
        if not snapshot and sequence != self.last_sequence.get(channel, 0) + 1:
            raise ValueError(f"sequence gap at {sequence}")
        self.last_sequence[channel] = sequence
        if channel == "openOrders":
            return self._orders(message[0], snapshot)
        if channel == "ownTrades":
            return self._trades(message[0])
        raise ValueError(f"unknown channel {channel!r}")

    def _orders(self, entries: list[Any], snapshot: bool) -> list[dict[str, Any]]:
        if snapshot:
            self.orders = {}
        orders = self.orders
        changed = []
        for entry in entries:
            if type(entry) is not dict:
                raise ValueError("entry is not an object")
            for order_id, record in entry.items():
                if type(record) is not dict:
                    raise ValueError("record is not an object")
                for name in _ORDER_MONEY.intersection(record):
                    value = record[name]
                    if value is not None:
                        record[name] = Decimal(value)
                descr = record.get("descr")
                if type(descr) is dict:
                    for name in _DESCR_MONEY:
                        value = descr.get(name)
                        if value is not None:
                            descr[name] = Decimal(value)
                known = orders.get(order_id)
                if known is None:
                    orders[order_id] = known = record
                else:
                    known.update(record)
                if known.get("status") in _TERMINAL:
                    self.finished[order_id] = orders.pop(order_id)
                changed.append(known)
        return changed

    def _trades(self, entries: list[Any]) -> list[tuple[str, dict[str, Any]]]:
        seen = self.trade_ids
        new = []
        for entry in entries:
            if type(entry) is not dict:
                raise ValueError("entry is not an object")
            for trade_id, record in entry.items():
                if type(record) is not dict:
                    raise ValueError("record is not an object")
                if trade_id in seen:
                    continue
                for name in _TRADE_MONEY.intersection(record):
                    record[name] = Decimal(record[name])
                seen[trade_id] = None
                new.append((trade_id, record))
        return new


# --- v2: the executions channel ----------------------------------------------------------------

_V2_MONEY = frozenset(
    {
        "order_qty",
        "display_qty",
        "cum_qty",
        "cum_cost",
        "avg_price",
        "limit_price",
        "stop_price",
        "last_qty",
        "last_price",
        "cost",
        "fee_usd_equiv",
    }
)
_V2_TERMINAL = frozenset({"filled", "canceled", "expired"})
_V2_KINDS = frozenset({"snapshot", "update"})


def _v2_decimal(value: object) -> Decimal:
    """A JSON number (orjson hands a float) as the Decimal of its shortest text."""
    if type(value) is int:
        return Decimal(value)
    if type(value) is not float:
        raise ValueError(f"not a number: {value!r}")
    return Decimal(repr(value))


class CarefulV2Client:
    """The careful client on v2's ``executions`` channel: orjson, a shape check, ``Decimal()``
    on every money field (from the float's shortest text, as orjson has no parse_float), an
    in-place dict merge by ``order_id``, a sequence check and a seen-``exec_id`` check."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.finished: dict[str, dict[str, Any]] = {}
        self.fills: dict[str, dict[str, Any]] = {}
        self.last_sequence = 0

    def on_frame(self, frame: bytes) -> object:
        """Handle one executions frame; returns (orders changed, new fills)."""
        message = orjson.loads(frame)
        if not (
            type(message) is dict
            and message.get("channel") == "executions"
            and message.get("type") in _V2_KINDS
            and type(message.get("data")) is list
        ):
            raise ValueError("not an executions frame")
        sequence = message.get("sequence")
        if type(sequence) is not int:
            raise ValueError("no sequence")
        snapshot = message["type"] == "snapshot"
        if not snapshot and sequence != self.last_sequence + 1:
            raise ValueError(f"sequence gap at {sequence}")
        self.last_sequence = sequence
        if snapshot:
            self.orders = {}
        orders = self.orders
        fills = self.fills
        changed: list[dict[str, Any]] = []
        new_fills: list[dict[str, Any]] = []
        for record in message["data"]:
            if type(record) is not dict:
                raise ValueError("record is not an object")
            order_id = record.get("order_id")
            exec_type = record.get("exec_type")
            if type(order_id) is not str or type(exec_type) is not str:
                raise ValueError("record without order_id or exec_type")
            for name in _V2_MONEY.intersection(record):
                record[name] = _v2_decimal(record[name])
            if exec_type == "trade":
                exec_id = record.get("exec_id")
                if type(exec_id) is not str:
                    raise ValueError("trade without exec_id")
                if exec_id in fills:
                    continue
                fees = record.get("fees")
                if fees is not None:
                    for fee in fees:
                        fee["qty"] = _v2_decimal(fee["qty"])
                fills[exec_id] = record
                new_fills.append(record)
                if snapshot:
                    continue  # a snapshot's trades are history, not open orders
            known = orders.get(order_id)
            if known is None:
                if snapshot or exec_type == "pending_new" or exec_type == "new":
                    orders[order_id] = known = record
                else:
                    continue  # an update for an order already finished or never seen
            else:
                known.update(record)
            if exec_type in _V2_TERMINAL:
                self.finished[order_id] = orders.pop(order_id)
            changed.append(known)
        return changed, new_fills


# --- the equivalent v2 executions updates (for ccxt and python-kraken-sdk) --------------------


def _v2_time(number: int, kind: int) -> str:
    """A v2 timestamp of its own for event ``kind`` (0 order, 1 status, 2 trade) of order
    ``number``: every live execution carries a time never sent before (a constant one would
    be found in the translation's memo each time, which live traffic never is)."""
    seconds = 11 * 3600 + 3 * number + kind
    return (
        f"2023-11-17T{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        f".{(number * 7919 + kind * 104729) % 1000000:06d}Z"
    )


def _v2_order(number: int, status: str) -> dict[str, Any]:
    return {
        "order_id": txid("O", number),
        "order_userref": number,
        "symbol": PAIRS[number % len(PAIRS)],
        "order_qty": 5.0,
        "cum_cost": 0.0,
        "time_in_force": "GTC",
        "exec_type": status,
        "side": "buy" if number % 2 else "sell",
        "order_type": "limit",
        "limit_price_type": "static",
        "limit_price": float(f"{9 + number % 7}.{number % 1000:06d}"),
        "stop_price": 0.0,
        "order_status": status,
        "fee_usd_equiv": 0.0,
        "fee_ccy_pref": "fciq",
        "timestamp": _v2_time(number, 0),
    }


def _v2_status(number: int, status: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "timestamp": _v2_time(number, 1),
        "order_status": status,
        "exec_type": status,
        "order_userref": number,
        "order_id": txid("O", number),
    }
    if status == "canceled":
        record.update(
            cum_qty=0, cum_cost=0, fee_usd_equiv=0, avg_price=0, cancel_reason="User requested"
        )
    return record


def _v2_trade(number: int) -> dict[str, Any]:
    return {
        "order_id": txid("O", number),
        "order_userref": number,
        "exec_id": txid("T", number),
        "exec_type": "trade",
        "trade_id": 62887576 + number,
        "symbol": PAIRS[number % len(PAIRS)],
        "side": "buy" if number % 2 else "sell",
        "last_qty": 1.25,
        "last_price": 9.25,
        "liquidity_ind": "t",
        "cost": 11.5625,
        "order_type": "limit",
        "timestamp": _v2_time(number, 2),
        "order_status": "partially_filled",
        "cum_qty": 1.25,
        "cum_cost": 11.5625,
        "avg_price": 9.25,
        "fee_usd_equiv": 0.030062,
        "fees": [{"asset": "USD", "qty": 0.030062}],
    }


def _v2_frame(kind: str, data: list[dict[str, Any]], sequence: int) -> bytes:
    return orjson.dumps({"channel": "executions", "type": kind, "data": data, "sequence": sequence})


def v2_frames(name: str, loops: int) -> tuple[bytes | None, list[bytes]]:
    """The seed (or None) and the v2 executions frames equivalent to case ``name``."""
    seed = _v2_frame("snapshot", [_v2_order(n, "pending_new") for n in range(loops)], 1)
    if name == "openOrders 200-order snapshot":
        snapshot = _v2_frame("snapshot", [_v2_order(n, "new") for n in range(200)], 1)
        return None, [snapshot] * loops
    if name == "ownTrades 50-trade snapshot":
        return None, [_v2_frame("snapshot", [_v2_trade(n) for n in range(50)], 1)] * loops
    make: Callable[[int], dict[str, Any]]
    if name == "openOrders status-only delta":
        make = lambda n: _v2_status(n, "new")  # noqa: E731
    elif name == "openOrders status delta":
        make = lambda n: _v2_status(n, "canceled")  # noqa: E731
    elif name == "openOrders new order":
        make = lambda n: _v2_order(n, "pending_new")  # noqa: E731
        seed = _v2_frame("snapshot", [], 1)
    else:  # both fill cases: v2 reports a fill as one trade execution
        make = _v2_trade
    frames = [_v2_frame("update", [make(n)], n + 2) for n in range(loops)]
    return seed, frames


# --- v2 cases: ours is V2Connection + the tables, as the v2 session's link applies them ---------

V2_CASES: dict[str, str] = {
    "v2 status-only delta": "openOrders status-only delta",
    "v2 status delta": "openOrders status delta",
    "v2 new order": "openOrders new order",
    "v2 trade fill": "openOrders fill delta",
    "v2 200-order snapshot": "openOrders 200-order snapshot",
    "v2 50-trade snapshot": "ownTrades 50-trade snapshot",
}
"""Each v2 case and the v1 case whose shape its executions frames carry (``v2_frames``)."""

_V2_EXPECTED = {
    "v2 status-only delta": ("updated", 1, 0),
    "v2 status delta": ("finished", 1, 0),
    "v2 new order": ("added", 1, 0),
    "v2 trade fill": ("updated", 1, 1),
    "v2 200-order snapshot": ("added", 200, 0),
    "v2 50-trade snapshot": ("added", 0, 50),  # trades only: no order open
}


def _v2_subscribed() -> V2Connection:
    """A V2Connection that has acknowledged its executions subscription (orders and trades)."""
    connection = V2Connection()
    connection.connection_made(0.0)
    connection.provide_token(bench_pipeline._TOKEN, 0.0)
    req_id = connection.send(
        V2Subscribe(channel="executions", snap_orders=True, snap_trades=True), 0.0
    )
    connection.data_to_send()
    ack = {
        "method": "subscribe",
        "req_id": req_id,
        "success": True,
        "result": {"channel": "executions", "snap_orders": True, "snap_trades": True},
    }
    connection.receive_message(orjson.dumps(ack), 0.0)
    connection.events_received()
    return connection


def _v2_apply(table: OrderTable, fills: FillLog, push: v2.Executions) -> object:
    """What ours does with an executions push once the connection has checked it: the order
    changes into ``table`` (``v2.apply_executions``), the fills (``own_trades``) into
    ``fills``. Returns both outcomes."""
    changes = v2.apply_executions(table, push)
    new_fills: object = ()
    # As the session's link does: a push without a trade execution builds no OwnTrades
    # (V2Link._update_frames).
    for record in push.data:
        if record.exec_type == "trade":
            trades = own_trades(push)
            if trades.trades:
                new_fills = fills.apply(trades)
            break
    return changes, new_fills


def _v2_ours_setup(seed: bytes | None, *, live: bool) -> Callable[[], Callable[[bytes], object]]:
    """``V2Connection`` + ``apply_executions``/``own_trades`` + ``OrderTable``/``FillLog``: the
    library's v2 pipeline, as an embedder builds it from the parts."""

    def setup() -> Callable[[bytes], object]:
        if live:
            forget_timestamps()
        connection = _v2_subscribed()
        table = OrderTable()
        fills = FillLog()
        receive, events = connection.receive_message, connection.events_received

        def on_frame(frame: bytes) -> object:
            receive(frame, 0.0)
            result: object = None
            for item in events():
                if type(item) is ChannelUpdate:
                    snapshot = False
                elif type(item) is ChannelSnapshot:
                    snapshot = True
                else:
                    raise RuntimeError(f"unexpected event {item!r}")  # e.g. a SequenceGap
                push = item.event
                if type(push) is not v2.Executions or push.is_snapshot != snapshot:
                    raise RuntimeError(f"unexpected push {push!r}")
                result = _v2_apply(table, fills, push)
            return result

        if seed is not None:
            on_frame(seed)
        return on_frame

    return setup


def _v2_careful_setup(seed: bytes | None) -> Callable[[], Callable[[bytes], object]]:
    def setup() -> Callable[[bytes], object]:
        client = CarefulV2Client()
        if seed is not None:
            client.on_frame(seed)
        return client.on_frame

    return setup


def _v2_prove(
    name: str, setup: Callable[[], Callable[[bytes], object]], frames: list[bytes], snap: bool
) -> None:
    """Untimed: every frame takes the measured path, for ours and for the careful client."""
    field, count, new_fills = _V2_EXPECTED[name]
    function = setup()
    for frame in frames:
        if snap:
            function = setup()
        result = function(frame)
        if isinstance(result, tuple) and isinstance(result[0], OrderChanges):
            good = len(getattr(result[0], field)) == count and len(result[1]) == new_fills
        else:
            changed, fills = cast("tuple[list[Any], list[Any]]", result)
            good = len(changed) == count and len(fills) == new_fills
        if not good:
            raise RuntimeError(f"{name}: a frame did not take the measured path: {result!r}")


class _CcxtClient:
    """The two methods ccxt's handlers call on their WebSocket client."""

    def resolve(self, result: object, message_hash: str) -> None:
        pass

    def reject(self, result: object, message_hash: str | None = None) -> None:
        pass


def _ccxt_setup() -> Callable[[], Callable[[bytes], object]] | None:
    try:
        import ccxt.pro  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return None

    def setup() -> Callable[[bytes], object]:
        exchange = ccxt.pro.kraken()
        client = _CcxtClient()
        handle = exchange.handle_message
        loads = orjson.loads

        def on_frame(frame: bytes) -> object:
            return handle(client, loads(frame))

        return on_frame

    return setup


def _sdk_setup() -> Callable[[], Callable[[bytes], object]] | None:
    try:
        from kraken.spot.websocket.connectors import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
            LOG,
            ConnectSpotWebsocket,
        )
    except ImportError:
        return None

    def setup() -> Callable[[bytes], object]:
        # Built without its __init__ (which wants a client and an event loop): only the
        # per-message path runs, exactly as its receive loop calls it.
        connection = object.__new__(ConnectSpotWebsocket)
        connection._subscriptions = []
        received: list[Any] = []

        async def callback(message: Any) -> None:
            received.append(message)

        async def run(data: bytes) -> None:
            message = json.loads(data)
            LOG.debug(message)
            connection._manage_subscriptions(message=message)
            await callback(message)

        def on_frame(frame: bytes) -> object:
            coroutine = run(frame)
            with contextlib.suppress(StopIteration):
                coroutine.send(None)
            received.clear()
            return None

        return on_frame

    return setup


def _careful_setup(case: bench_pipeline._Case) -> Callable[[], Callable[[bytes], object]]:
    def setup() -> Callable[[bytes], object]:
        client = CarefulClient()
        if not case.is_snapshot:
            client.on_frame(case.seed)
        return client.on_frame

    return setup


def _with_seed(
    setup: Callable[[], Callable[[bytes], object]], seed: bytes | None
) -> Callable[[], Callable[[bytes], object]]:
    def seeded() -> Callable[[bytes], object]:
        function = setup()
        if seed is not None:
            function(seed)
        return function

    return seeded


def _timing(
    setup: Callable[[], Callable[[bytes], object]], frames: list[bytes], snapshot: bool
) -> Callable[[], float]:
    """One timing: microseconds of CPU per frame (setup untimed; a snapshot gets fresh state)."""

    def run() -> float:
        clock = clock_ns
        if snapshot:
            total = 0
            for frame in frames:
                function = setup()
                start = clock()
                function(frame)
                total += clock() - start
            return total / len(frames) / 1000
        function = setup()
        start = clock()
        for frame in frames:
            function(frame)
        return (clock() - start) / len(frames) / 1000

    return run


def installed_peers() -> dict[str, bool]:
    """Which optional contenders are importable here."""
    return {"ccxt": _ccxt_setup() is not None, "kraken-sdk": _sdk_setup() is not None}


def measure(*, scale: float = 1.0, repeats: int = 21) -> list[dict[str, Any]]:
    """Every case, every contender installed; medians of interleaved repeats."""
    rows: list[dict[str, Any]] = []
    ccxt_setup = _ccxt_setup()
    sdk_setup = _sdk_setup()
    with gc_paused():
        for name in CASES:
            loops = max(2, int(bench_pipeline._LOOPS[name] * scale))
            case = bench_pipeline._Case(name, loops)
            ours = bench_pipeline._connection_runner(case)
            bench_pipeline._prove_the_path(case, ours)
            timings = {
                "ours": _timing(ours, case.frames, case.is_snapshot),
                "careful": _timing(_careful_setup(case), case.frames, case.is_snapshot),
            }
            seed, v2 = v2_frames(name, loops)
            if ccxt_setup is not None:
                timings["ccxt"] = _timing(_with_seed(ccxt_setup, seed), v2, case.is_snapshot)
            if sdk_setup is not None:
                timings["kraken-sdk"] = _timing(sdk_setup, v2, case.is_snapshot)
            # ours broken down (for the report's causes), in the same repeats as the careful
            # client so the parts and its total are the same statistic of the same run:
            # decode alone, and decode + a sequence check + the table (ours less Connection).
            timings["decode"] = _timing(lambda: kraken_proto.decode, case.frames, case.is_snapshot)
            timings["decode + table"] = _timing(
                bench_pipeline._pipeline_runner(case), case.frames, case.is_snapshot
            )
            for timing in timings.values():
                timing()  # warm up (ccxt builds its caches on first use)
            rows.append(_row(name, len(case.frames[0]), interleaved_runs(timings, repeats)))
        for name, shape in V2_CASES.items():
            rows.append(_v2_row(name, shape, scale, repeats, ccxt_setup, sdk_setup))
    return rows


def _v2_tables_setup(seed: bytes | None, *, live: bool) -> Callable[[], Callable[[bytes], object]]:
    """Ours without ``V2Connection``: ``v2.decode``, then what ours does with the push
    (``_v2_apply``): no sequence check, no event queue."""

    def setup() -> Callable[[bytes], object]:
        if live:
            forget_timestamps()
        table = OrderTable()
        fills = FillLog()
        decode = v2.decode

        def on_frame(frame: bytes) -> object:
            push = decode(frame)
            if type(push) is not v2.Executions:
                raise RuntimeError(f"unexpected push {push!r}")
            return _v2_apply(table, fills, push)

        if seed is not None:
            on_frame(seed)
        return on_frame

    return setup


def _v2_row(
    name: str,
    shape: str,
    scale: float,
    repeats: int,
    ccxt_setup: Callable[[], Callable[[bytes], object]] | None,
    sdk_setup: Callable[[], Callable[[bytes], object]] | None,
) -> dict[str, Any]:
    """One v2 case: every contender on the same executions frames."""
    loops = max(2, int(bench_pipeline._LOOPS[shape] * scale))
    seed, frames = v2_frames(shape, loops)
    snapshot = shape in bench_pipeline.SNAPSHOT_CASES
    ours = _v2_ours_setup(seed, live=not snapshot)
    careful = _v2_careful_setup(seed)
    _v2_prove(name, ours, frames, snapshot)
    _v2_prove(name, careful, frames, snapshot)
    timings = {
        "ours": _timing(ours, frames, snapshot),
        "careful": _timing(careful, frames, snapshot),
    }
    if ccxt_setup is not None:
        timings["ccxt"] = _timing(_with_seed(ccxt_setup, seed), frames, snapshot)
    if sdk_setup is not None:
        timings["kraken-sdk"] = _timing(sdk_setup, frames, snapshot)
    # ours broken down (for the report's causes): v2.decode alone, and ours without
    # V2Connection (decode, then the tables).
    timings["v2 decode"] = _timing(lambda: v2.decode, frames, snapshot)
    timings["v2 decode + tables"] = _timing(
        _v2_tables_setup(seed, live=not snapshot), frames, snapshot
    )
    for timing in timings.values():
        timing()  # warm up
    return _row(name, len(frames[0]), interleaved_runs(timings, repeats))


def _row(name: str, size: int, runs: dict[str, list[float]]) -> dict[str, Any]:
    """One case's row: each contender's median, and ours against each other one."""
    row: dict[str, Any] = {"case": name, "bytes": size}
    for label, values in runs.items():
        row[f"{label}_us"] = statistics.median(values)
    row["ours_vs_careful"] = median_ratio(runs["ours"], runs["careful"])
    # The careful client against each peer too: where it also misses a target against a
    # peer, an exact client written by hand for the one shape cannot meet it either.
    if "ccxt" in runs:
        row["ours_vs_ccxt"] = median_ratio(runs["ours"], runs["ccxt"])
        row["careful_vs_ccxt"] = median_ratio(runs["careful"], runs["ccxt"])
    if "kraken-sdk" in runs:
        row["ours_vs_sdk"] = median_ratio(runs["ours"], runs["kraken-sdk"])
        row["careful_vs_sdk"] = median_ratio(runs["careful"], runs["kraken-sdk"])
    return row


def _table(rows: Sequence[dict[str, Any]]) -> str:
    peers = [label for label in ("ccxt", "kraken-sdk") if f"{label}_us" in rows[0]]
    header = f"{'case':<31} {'ours us':>8} {'careful us':>10}" + "".join(
        f" {label + ' us':>13}" for label in peers
    )
    header += f" {'ours/careful':>12}" + (f" {'ours/ccxt':>9}" if "ccxt" in peers else "")
    lines = [header, "-" * len(header)]
    for row in rows:
        line = f"{row['case']:<31} {row['ours_us']:>8.2f} {row['careful_us']:>10.2f}"
        line += "".join(f" {row[label + '_us']:>13.2f}" for label in peers)
        line += f" {row['ours_vs_careful']:>11.2f}x"
        if "ccxt" in peers:
            line += f" {row['ours_vs_ccxt']:>8.3f}x"
        lines.append(line)
    lines.append(
        f"targets: ours/careful <= {CARE_TARGET:.2f}x and ours/ccxt <= {CCXT_TARGET:.2f}x on every"
        " case; CPU us per frame, medians of interleaved repeats"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON with ``--json``); returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--quick", action="store_true", help="a few seconds, for smoke tests")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the frames per timing")
    parser.add_argument("--repeats", type=int, default=21, help="timings per case; median kept")
    args = parser.parse_args(argv)
    scale, repeats = (0.02, 2) if args.quick else (args.scale, args.repeats)
    rows = measure(scale=scale, repeats=repeats)
    if args.json:
        print(json.dumps({"peers": installed_peers(), "results": rows}, indent=2))
    else:
        print(_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
