"""The v2 cases of ``bench_clients.py`` and ``bench_session.py``: their frames are the v2 shapes
they claim, every contender takes the measured path, and the careful v2 client is careful."""

from __future__ import annotations

import json
from decimal import Decimal
from types import ModuleType

import orjson
import pytest
from kraken_proto import v2

from tests.benchmarks.loader import load_benchmark as _load


@pytest.fixture(scope="module")
def clients() -> ModuleType:
    return _load("bench_clients")


def test_v2_frames_are_executions_of_the_claimed_shapes(clients: ModuleType) -> None:
    want = {
        "v2 status-only delta": "new",
        "v2 status delta": "canceled",
        "v2 new order": "pending_new",
        "v2 trade fill": "trade",
        "v2 200-order snapshot": "new",
        "v2 50-trade snapshot": "trade",
    }
    assert set(clients.V2_CASES) == set(want)
    for name, shape in clients.V2_CASES.items():
        seed, frames = clients.v2_frames(shape, 3)
        for frame in frames:
            event = v2.decode(frame)
            assert isinstance(event, v2.Executions)
            assert {record.exec_type for record in event.data} == {want[name]}
        if seed is not None:
            assert isinstance(v2.decode(seed), v2.Executions)
    _, (snapshot, *_) = clients.v2_frames(clients.V2_CASES["v2 200-order snapshot"], 1)
    assert len(orjson.loads(snapshot)["data"]) == 200
    _, (trades, *_) = clients.v2_frames(clients.V2_CASES["v2 50-trade snapshot"], 1)
    assert orjson.loads(trades)["type"] == "snapshot"
    assert len(orjson.loads(trades)["data"]) == 50


def test_ours_and_careful_take_the_measured_path(clients: ModuleType) -> None:
    for name, shape in clients.V2_CASES.items():
        seed, frames = clients.v2_frames(shape, 5)
        snapshot = "snapshot" in name
        ours = clients._v2_ours_setup(seed, live=not snapshot)
        clients._v2_prove(name, ours, frames, snapshot)
        clients._v2_prove(name, clients._v2_careful_setup(seed), frames, snapshot)


def test_live_executions_carry_times_never_sent_before(clients: ModuleType) -> None:
    """A live execution's timestamp is new each time (the translation's memo of times must not
    find it): across the seed and every kind of update, no two records share one, and the
    benchmarks forget the times a timing of live updates met before the next one."""
    from kraken_proto.v2 import _translation

    for name, shape in clients.V2_CASES.items():
        if "snapshot" in name:
            continue
        seed, frames = clients.v2_frames(shape, 40)
        texts = [
            record["timestamp"]
            for frame in ([] if seed is None else [seed]) + frames
            for record in orjson.loads(frame)["data"]
        ]
        assert all(_translation.rfc3339_to_unix(text) is not None for text in texts)
        assert len(set(texts)) == len(texts)
    assert len(_translation._RECENT) > 0
    clients.forget_timestamps()
    assert _translation._RECENT == {}


def test_careful_v2_client_checks_and_converts(clients: ModuleType) -> None:
    seed, frames = clients.v2_frames(clients.V2_CASES["v2 trade fill"], 3)
    client = clients.CarefulV2Client()
    client.on_frame(seed)
    changed, fills = client.on_frame(frames[0])
    assert fills[0]["last_qty"] == Decimal("1.25")
    assert fills[0]["fees"][0]["qty"] == Decimal("0.030062")
    assert changed[0]["cum_cost"] == Decimal("11.5625")
    with pytest.raises(ValueError, match="sequence gap"):
        client.on_frame(frames[2])
    with pytest.raises(ValueError, match="not an executions frame"):
        client.on_frame(b'[[], "openOrders", {"sequence": 3}]')
    bad = orjson.loads(frames[1])
    bad["data"][0]["last_qty"] = "1.25"
    with pytest.raises(ValueError, match="not a number"):
        client.on_frame(orjson.dumps(bad))
    # a repeated trade execution is not a new fill
    again = orjson.loads(frames[0])
    again["sequence"] = client.last_sequence + 1
    assert client.on_frame(orjson.dumps(again)) == ([], [])


def test_clients_json_has_the_v2_rows(
    clients: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert clients.main(["--json", "--scale", "0.01", "--repeats", "1"]) == 0
    rows = {row["case"]: row for row in json.loads(capsys.readouterr().out)["results"]}
    for name in clients.V2_CASES:
        assert rows[name]["ours_us"] > 0
        assert rows[name]["ours_vs_careful"] > 0
        assert rows[name]["v2 decode_us"] > 0
        assert rows[name]["v2 decode + tables_us"] > 0


def test_session_json_has_the_v2_rows(capsys: pytest.CaptureFixture[str]) -> None:
    session = _load("bench_session")
    assert session.main(["--json", "--scale", "0.01", "--repeats", "1"]) == 0
    rows = {row["case"]: row for row in json.loads(capsys.readouterr().out)["results"]}
    assert set(session.V2_CASES) == {
        "v2 status-only delta",
        "v2 status delta",
        "v2 new order",
        "v2 trade fill",
    }
    for name in session.V2_CASES:
        assert rows[name]["session_vs_careful"] > 0
    assert set(session.V2_SNAPSHOT_CASES) == {"v2 200-order snapshot", "v2 50-trade snapshot"}
    for name in session.V2_SNAPSHOT_CASES:
        assert rows[name]["session_vs_careful"] > 0
        assert "floor_us" not in rows[name]
