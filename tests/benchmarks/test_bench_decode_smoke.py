"""The decode benchmark runs end to end and prints its table (timings are not asserted)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import kraken_proto
import kraken_proto.v1
import pytest


def _load_benchmark() -> Any:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_decode.py"
    spec = importlib.util.spec_from_file_location("bench_decode", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load_benchmark()
    assert bench.main(["--scale", "0.001", "--repeats", "1"]) == 0
    output = capsys.readouterr().out
    assert "dec/floor" in output
    assert "dec/orjson" in output
    assert "dec/json" in output
    for case in bench.CASES:
        assert case in output
    assert "target: decode/floor <= 1.10x" in output


def test_benchmark_json_output_has_every_case(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load_benchmark()
    assert bench.main(["--json", "--scale", "0.001", "--repeats", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["target_ratio"] == 1.10
    assert [row["case"] for row in report["results"]] == list(bench.CASES)
    assert [row["case"] for row in report["results"] if "text_read_us" in row] == ["ownTrades fill"]
    for row in report["results"]:
        assert row["decode_us"] > 0
        assert row["floor_us"] > 0
        assert row["decode_vs_floor"] > 0
        assert row["decode_vs_orjson"] > 0


def test_the_floor_decodes_the_same_numbers_as_decode() -> None:
    bench = _load_benchmark()
    for name, frame in bench.build_cases().items():
        floor = bench.floor_decoder(frame)(frame)
        decoded = bench.decoder_for(name)(frame)
        assert sorted(map(str, bench._decimal_texts(decoded))) == sorted(
            map(str, _floor_decimals(floor))
        ), name


def _floor_decimals(value: object) -> list[object]:
    from decimal import Decimal

    import msgspec

    if isinstance(value, Decimal):
        return [value]
    if isinstance(value, msgspec.Struct):
        return [
            d for name in value.__struct_fields__ for d in _floor_decimals(getattr(value, name))
        ]
    if isinstance(value, dict):
        return [d for item in value.values() for d in _floor_decimals(item)]
    if isinstance(value, list | tuple):
        return [d for item in value for d in _floor_decimals(item)]
    return []


def test_benchmark_frames_are_the_shapes_they_claim() -> None:
    cases = _load_benchmark().build_cases()
    delta = kraken_proto.decode(cases["openOrders status delta"])
    assert isinstance(delta, kraken_proto.v1.OpenOrders)
    assert delta.orders[0][1].status == "canceled"
    new = kraken_proto.decode(cases["openOrders new order"])
    assert isinstance(new, kraken_proto.v1.OpenOrders)
    assert new.orders[0][1].status == "pending"
    assert new.orders[0][1].descr is not None
    fill = kraken_proto.decode(cases["ownTrades fill"])
    assert isinstance(fill, kraken_proto.v1.OwnTrades)
    assert len(fill.trades) == 1
    trades = kraken_proto.decode(cases["ownTrades 50-trade snapshot"])
    assert isinstance(trades, kraken_proto.v1.OwnTrades)
    assert len(trades.trades) == 50
    orders = kraken_proto.decode(cases["openOrders 200-order snapshot"])
    assert isinstance(orders, kraken_proto.v1.OpenOrders)
    assert len(orders.orders) == 200
