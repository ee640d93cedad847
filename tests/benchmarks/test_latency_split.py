"""``bench_latency``'s instrumented turn (where each update's CPU goes) and ``run_all``'s cause
for the runner CPU target built from it."""

from __future__ import annotations

from typing import Any

from tests.benchmarks.loader import load_benchmark


def _split(rest: dict[str, float]) -> dict[str, Any]:
    split: dict[str, Any] = {}
    for runner, plain in (
        ("blocking", "plain-socket"),
        ("trio", "plain-trio"),
        ("asyncio", "plain-asyncio"),
    ):
        split[runner] = {
            "cpu_us_per_update": 150.0,
            "receive_us_per_update": 60.0,
            "frames_per_update": 2.5,
            "rest_us_per_update": rest[runner],
        }
        split[plain] = {
            "cpu_us_per_update": 110.0,
            "parse_us_per_update": 10.0,
            "frames_per_update": 2.5,
            "rest_us_per_update": 100.0,
        }
    return split


def _latency(split: dict[str, Any] | None) -> dict[str, Any]:
    contenders = {
        name: {"cpu_us_per_update": cpu, "fill_p50_us": 400.0}
        for name, cpu in (
            ("blocking", 150.0),
            ("plain-socket", 100.0),
            ("trio", 120.0),
            ("plain-trio", 100.0),
            ("asyncio", 120.0),
            ("plain-asyncio", 100.0),
        )
    }
    data: dict[str, Any] = {
        "frames_per_update": 2.5,
        "contenders": contenders,
        "runner_cpu_vs_plain": {"blocking": 1.5, "trio": 1.2, "asyncio": 1.2},
        "runner_fill_p50_vs_plain": {"blocking": 1.0, "trio": 1.0, "asyncio": 1.0},
    }
    if split is not None:
        data["split"] = split
    return data


_CLIENTS = {"results": [{"case": "v2 status delta", "ours_us": 6.0}]}


def test_the_cause_gives_the_live_split_per_runner() -> None:
    run_all = load_benchmark("run_all")
    split = _split({"blocking": 90.0, "trio": 95.0, "asyncio": 100.0})
    cpu_row = run_all._latency_targets(_latency(split), _CLIENTS, " over v2")[0]
    assert "**missed**" in cpu_row[2]
    cause = cpu_row[4]
    assert "blocking: Session.receive_message 60 us an update (24.0 us a frame)" in cause
    assert "the rest of the runner 90 us; plain-socket: orjson.loads 10 us, the rest 100 us" in (
        cause
    )
    assert "(6.0 us a frame hot, in the clients table's loops)" in cause
    assert cause.endswith("no more than the plain loop's reading and unframing.")


def test_the_cause_names_runners_heavier_than_their_plain_loop() -> None:
    run_all = load_benchmark("run_all")
    split = _split({"blocking": 112.0, "trio": 95.0, "asyncio": 103.0})
    cause = run_all._latency_targets(_latency(split), None, " over v2")[0][4]
    assert cause.endswith(
        "adds to the plain loop's reading and unframing: blocking 12 us, asyncio 3 us an update."
    )
    assert "a frame hot" not in cause  # no clients table: no hot figure to compare with


def test_without_a_split_the_cause_is_the_clients_estimate() -> None:
    run_all = load_benchmark("run_all")
    cause = run_all._latency_targets(_latency(None), _CLIENTS, " over v2")[0][4]
    assert "6.0 us a frame in the clients table" in cause
    assert "Measured live" not in cause


def test_the_call_timer_counts_calls_and_takes_its_own_cost_off() -> None:
    bench = load_benchmark("bench_latency")
    timer = bench._CallTimer(lambda a, b: a + b)
    assert timer(2, 3) == 5
    assert timer(1, 1) == 2
    assert timer.calls == 2
    assert timer.overhead_ns >= 0
    assert 0.0 <= timer.us() <= timer.spent_ns / 1000
    timer.spent_ns = 0  # less than the timer's own cost: never negative
    assert timer.us() == 0.0
