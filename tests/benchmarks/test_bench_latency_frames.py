"""``bench_latency``'s plain loops tell the updates they time apart, over v1 and over v2."""

from __future__ import annotations

import json
from types import ModuleType

from tests.benchmarks.loader import load_benchmark


def _load() -> ModuleType:
    return load_benchmark("bench_latency")


def _update(*exec_types: str, kind: str = "update") -> dict[str, object]:
    data = [{"exec_type": exec_type, "order_id": "O1"} for exec_type in exec_types]
    return {"channel": "executions", "type": kind, "data": data, "sequence": 2}


def test_v2_updates_are_told_apart() -> None:
    bench = _load()
    kind = bench.plain_kind
    assert kind(_update("pending_new"), "v2") == "order"
    assert kind(_update("new"), "v2") == "order"
    assert kind(_update("trade"), "v2") == "fill"
    assert kind(_update("new", "trade"), "v2") == "fill"
    assert kind(_update("canceled"), "v2") is None
    assert kind(_update("pending_new", kind="snapshot"), "v2") is None
    assert kind({"channel": "heartbeat"}, "v2") is None
    assert kind([[{"O1": {"descr": {}}}], "openOrders", {"sequence": 2}], "v2") is None


def test_v1_updates_are_told_apart_as_before() -> None:
    bench = _load()
    kind = bench.plain_kind
    assert kind([[{"O1": {"descr": {}, "status": "pending"}}], "openOrders", {"sequence": 2}]) == (
        "order"
    )
    assert kind([[{"T1": {"price": "1"}}], "ownTrades", {"sequence": 2}]) == "fill"
    assert kind([[{"T1": {"price": "1"}}], "ownTrades", {"sequence": 1}]) is None
    assert kind(_update("trade")) is None


def test_the_plain_loops_subscribe_and_wait_per_protocol() -> None:
    bench = _load()
    (v2,) = bench._subscribe_frames("TOKEN", "v2")
    assert json.loads(v2) == {
        "method": "subscribe",
        "params": {
            "channel": "executions",
            "token": "TOKEN",
            "snap_orders": True,
            "snap_trades": True,
        },
    }
    assert [json.loads(f)["subscription"]["name"] for f in bench._subscribe_frames("T")] == [
        "ownTrades",
        "openOrders",
    ]
    snapshots = [_update("new", kind="snapshot"), _update("trade"), {"channel": "heartbeat"}]
    assert bench._snapshots(snapshots, "v2") == 1
    v1 = [[[], "ownTrades", {"sequence": 1}], [[], "openOrders", {"sequence": 1}], {"event": "x"}]
    assert bench._snapshots(v1, "v1") == 2
    plain = bench._PlainProtocol("ws://127.0.0.1:9/", "v2")
    assert (plain.target, plain.snapshots_wanted) == ("/v2", 1)
    plain = bench._PlainProtocol("ws://127.0.0.1:9/")
    assert (plain.target, plain.snapshots_wanted) == ("/", 2)
