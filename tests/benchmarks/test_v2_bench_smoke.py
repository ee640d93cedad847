"""The decode benchmark's v2 frames are what they claim and decode through the v2 codec."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from kraken_proto import v2


def _load_benchmark() -> Any:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_decode.py"
    spec = importlib.util.spec_from_file_location("bench_decode_v2", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_v2_benchmark_frames_are_the_shapes_they_claim() -> None:
    bench = _load_benchmark()
    cases = bench.build_cases()
    assert bench.decoder_for(bench.V2_TRADE) is v2.decode
    trade = v2.decode(cases[bench.V2_TRADE])
    assert isinstance(trade, v2.Executions)
    assert trade.data[0].exec_type == "trade"
    assert trade.data[0].fees is not None
    snapshot = v2.decode(cases[bench.V2_SNAPSHOT])
    assert isinstance(snapshot, v2.Executions)
    assert snapshot.is_snapshot
    assert len(snapshot.data) == 200


def test_v2_benchmark_has_every_shape_of_v1() -> None:
    bench = _load_benchmark()
    cases = bench.build_cases()
    pushes: dict[str, v2.Executions] = {}
    for name in bench.V2_CASES:
        push = v2.decode(cases[name])
        assert isinstance(push, v2.Executions), name
        assert bench.decoder_for(name) is v2.decode
        pushes[name] = push
    status_only = pushes[bench.V2_STATUS_ONLY].data
    assert [(r.exec_type, r.cum_qty) for r in status_only] == [("new", None)]
    cancel = pushes[bench.V2_CANCEL].data
    assert [(r.exec_type, r.cancel_reason) for r in cancel] == [("canceled", "User requested")]
    new = pushes[bench.V2_NEW_ORDER].data
    assert [(r.exec_type, r.order_type) for r in new] == [("pending_new", "limit")]
    trades = pushes[bench.V2_TRADES_SNAPSHOT]
    assert trades.is_snapshot
    assert [r.exec_type for r in trades.data] == ["trade"] * 50
