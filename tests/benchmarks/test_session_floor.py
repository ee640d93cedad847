"""``session_floor``: the same user events as the Session from the same bytes, in one function;
and what ``run_all`` says of a missed session target from it."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from kraken_proto import FillReceived, OrdersChanged, SessionConfig

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def benchmarks() -> Iterator[dict[str, ModuleType]]:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        modules = {}
        for name in ("bench_session", "bench_pipeline", "bench_clients", "run_all"):
            spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
            assert spec is not None
            assert spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            modules[name] = module
        yield modules
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_the_floor_gives_the_session_s_events_on_every_shape(
    benchmarks: dict[str, ModuleType],
) -> None:
    session, pipeline = benchmarks["bench_session"], benchmarks["bench_pipeline"]
    for name in session.CASES:
        case = pipeline._Case(name, 6)
        setup = session._session_setup(case)
        numbered = setup()[1]
        session._same_events(name, setup, session._floor(case, numbered))  # raises if unequal
        session._same_events(name, setup, session._session_setup(case, parts=True))
        floor, frames = session._floor(case, numbered)()
        assert all(floor(frame) for frame in frames)  # every frame reached the user
    for name, shape in session.V2_CASES.items():
        seed, frames = benchmarks["bench_clients"].v2_frames(shape, 6)
        setup = session._v2_session_setup(seed, frames)
        numbered = setup()[1]
        session._same_events(name, setup, session._v2_floor(seed, numbered))
        session._same_events(name, setup, session._v2_session_setup(seed, frames, parts=True))
        floor, numbered = session._v2_floor(seed, numbered)()
        assert all(floor(frame) for frame in numbered)


def test_the_floor_refuses_a_frame_out_of_sequence(benchmarks: dict[str, ModuleType]) -> None:
    session, pipeline = benchmarks["bench_session"], benchmarks["bench_pipeline"]
    for name in ("openOrders status delta", "ownTrades fill"):
        case = pipeline._Case(name, 3)
        floor, frames = session._floor(case, session._session_setup(case)()[1])()
        with pytest.raises(RuntimeError, match="not the next"):
            floor(frames[1])
    seed, frames = benchmarks["bench_clients"].v2_frames("openOrders status delta", 3)
    numbered = session._v2_session_setup(seed, frames)()[1]
    v2_floor, numbered = session._v2_floor(seed, numbered)()
    with pytest.raises(RuntimeError, match="not the next"):
        v2_floor(numbered[1])


def test_the_floor_reports_an_unchanged_order_as_nothing(
    benchmarks: dict[str, ModuleType],
) -> None:
    session, pipeline = benchmarks["bench_session"], benchmarks["bench_pipeline"]
    case = pipeline._Case("openOrders status-only delta", 2)
    floor, frames = session._floor(case, session._session_setup(case)()[1])()
    assert floor(frames[0])
    again = orjson.loads(frames[0])
    again[2]["sequence"] += 1  # the same change once more: nothing new for the user
    assert floor(orjson.dumps(again)) == []


def _row(
    case: str, session: float, careful: float, floor: float | None, parts: float | None = None
) -> dict[str, Any]:
    row = {
        "case": case,
        "session_us": session,
        "careful_us": careful,
        "session_vs_careful": session / careful,
    }
    if floor is not None:
        row |= {"floor_us": floor, "floor_vs_careful": floor / careful}
    if parts is not None:
        row |= {"parts_us": parts, "parts_vs_careful": parts / careful}
    return row


def test_run_all_says_which_misses_the_floor_shares_and_what_the_layering_costs(
    benchmarks: dict[str, ModuleType],
) -> None:
    run_all = benchmarks["run_all"]
    rows = [
        _row("v1 small", 4.0, 2.5, 2.6),
        _row("v2 small", 9.0, 3.0, 4.8),
        _row("met", 1.0, 1.0, 0.8),
    ]
    target = run_all._session_target({"target_ratio": 1.2, "results": rows})
    assert target[2] == "**missed**"
    cause = target[4]
    assert "misses too on v2 small (1.60x): out of reach" in cause
    assert "The floor (" in cause  # capitalised, the rest kept as written
    assert "the floor meets it on v1 small (1.04x)" in cause
    assert "1400 ns on v1 small" in cause
    assert "met (" not in cause
    assert "in a row" not in cause  # rows without parts figures: nothing said of them
    # Without floor figures (an older bench_session) the cause says nothing of a floor.
    plain = run_all._session_target(
        {"target_ratio": 1.2, "results": [_row("v1 small", 4.0, 2.5, None)]}
    )
    assert "floor" not in plain[4]
    table = "\n".join(run_all._session_table({"results": rows}))
    assert "| floor us | floor/careful |" in table
    assert "| 2.60 | 1.04x |" in table


def test_session_json_and_the_summary_carry_the_floor(
    benchmarks: dict[str, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    session = benchmarks["bench_session"]
    assert session.main(["--json", "--scale", "0.01", "--repeats", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    # The floor and the parts take the usual delta only: the snapshot rows have neither.
    deltas = [row for row in data["results"] if "snapshot" not in row["case"]]
    assert {row["case"] for row in data["results"]} - {row["case"] for row in deltas} == {
        *session.SNAPSHOT_CASES,
        *session.V2_SNAPSHOT_CASES,
    }
    for row in deltas:
        assert row["floor_us"] > 0
        assert row["floor_vs_careful"] > 0
    line = benchmarks["run_all"].summary({"session": {"data": data}})
    assert set(line["session_floor_vs_careful"]) == {row["case"] for row in deltas}
    assert set(line["session_parts_vs_careful"]) == {row["case"] for row in deltas}
    assert all(row["parts_us"] > 0 for row in deltas)
    assert set(line["session_pipeline_vs_careful"]) == {row["case"] for row in data["results"]}


def test_run_all_splits_the_layering_into_the_parts_and_the_routing(
    benchmarks: dict[str, ModuleType],
) -> None:
    run_all = benchmarks["run_all"]
    rows = [
        _row("v1 small", 4.0, 2.5, 2.6, 3.6),  # parts 1.44x: the bookkeeping is the gap
        _row("v2 order", 3.5, 2.5, 2.4, 2.9),  # parts 1.16x: the routing is the gap
        _row("met", 1.0, 1.0, 0.8, 0.9),
    ]
    cause = run_all._session_target({"target_ratio": 1.2, "results": rows})[4]
    assert "v1 small 1000 + 400 ns, v2 order 500 + 600 ns" in cause
    assert "the parts in a row miss too on v1 small (1.44x), so fusing the routing" in cause
    assert "v2 order (1.16x)" not in cause
    both = run_all._session_target({"target_ratio": 1.2, "results": rows[1:]})[4]
    assert "the parts in a row meet it on every one of them" in both
    table = "\n".join(run_all._session_table({"results": rows}))
    assert "| parts us | parts/careful |" in table
    assert "| 3.60 | 1.44x |" in table


def test_a_snapshot_row_times_the_snapshot_a_fresh_session_waits_for(
    benchmarks: dict[str, ModuleType],
) -> None:
    session, pipeline = benchmarks["bench_session"], benchmarks["bench_pipeline"]
    for name in session.SNAPSHOT_CASES:
        case = pipeline._Case(name, 1)
        setup = session._snapshot_setup(SessionConfig(), case.channel, case.frames[0])
        on_frame, frames = setup()
        assert frames == [case.frames[0]]
        events = on_frame(frames[0])
        session._snapshot_check(name, events)
        kinds = {type(event) for event in events}
        assert (OrdersChanged if "200" in name else FillReceived) in kinds
    # The v2 session goes LIVE on the executions snapshot it was held waiting for.
    frame = benchmarks["bench_clients"].v2_frames("openOrders 200-order snapshot", 1)[1][0]
    setup = session._snapshot_setup(SessionConfig(protocol="v2"), "executions", frame)
    on_frame, frames = setup()
    session._snapshot_check("v2 200-order snapshot", on_frame(frame))


def test_the_snapshot_check_refuses_a_snapshot_that_did_not_arrive(
    benchmarks: dict[str, ModuleType],
) -> None:
    check = benchmarks["bench_session"]._snapshot_check
    with pytest.raises(RuntimeError, match="did not reach the user"):
        check("openOrders 200-order snapshot", [])
    with pytest.raises(RuntimeError, match="did not reach the user"):
        check("ownTrades 50-trade snapshot", None)
