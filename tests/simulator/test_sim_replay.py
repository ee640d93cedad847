"""Replay mode: the file format (``_replay``) and serving a recording end to end."""

from __future__ import annotations

import argparse
import json
import signal
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto.adapters.simulator import cli, server
from kraken_proto.adapters.simulator._replay import (
    ReplayFormatError,
    ReplayFrame,
    load_replay,
    parse_replay,
)
from kraken_proto.adapters.simulator.server import open_simulator
from kraken_proto.v1 import Pong, SubscriptionStatus, SystemStatus
from wsproto.events import Message, TextMessage

from tests.simulator.test_sim_cli import Announcement, _read_announcement, _simulator_process
from tests.simulator.test_sim_server import STEP, fetch_token, run, ws_connect

SUBSCRIBED = (
    '{"channelName":"openOrders","event":"subscriptionStatus","reqid":1,'
    '"status":"subscribed","subscription":{"maxratecount":125,"name":"openOrders"}}'
)
SNAPSHOT = [[], "openOrders", {"sequence": 1}]
UPDATE = [
    [{"OGTT3Y-C6I3P-XRI6HX": {"status": "closed", "vol_exec": "0.90000000", "cost": "63000.1"}}],
    "openOrders",
    {"sequence": 2},
]
RECORDING = "\n".join(
    [
        json.dumps({"t": 1700000000.0, "from": "client", "frame": {"event": "subscribe"}}),
        json.dumps({"t": 1700000000.5, "frame": SUBSCRIBED}),
        "",
        json.dumps({"t": 1700000000.5, "frame": SNAPSHOT}),
        json.dumps({"t": 1700000000.9, "frame": {"event": "heartbeat"}}),
        json.dumps({"t": 1700000001.1, "frame": UPDATE}),
    ]
)


# -- the format ------------------------------------------------------------------------------------


def test_frames_keep_their_order_text_and_relative_times() -> None:
    script = parse_replay(RECORDING)
    assert [frame.delay for frame in script.frames] == pytest.approx([0.0, 0.0, 0.4, 0.6])
    assert script.frames[0].text == SUBSCRIBED  # a string frame goes out byte for byte
    assert script.frames[1].text == '[[],"openOrders",{"sequence":1}]'
    assert json.loads(script.frames[3].text) == UPDATE
    assert script.duration == pytest.approx(0.6)
    assert parse_replay("").duration == 0.0


def test_json_frames_keep_the_digits_they_were_written_with() -> None:
    line = '{"t": 0, "frame": {"limit_price": 70000.10, "qty": 1E-8, "n": 12345678901234567890}}'
    (frame,) = parse_replay(line).frames
    assert frame.text == '{"limit_price":70000.10,"qty":1E-8,"n":12345678901234567890}'


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


def _to_json(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_to_json(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_to_json(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


@given(
    frames=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10**6), _json | st.text(max_size=12)),
        max_size=8,
    )
)
def test_any_recording_parses_back_to_its_frames(frames: list[tuple[int, Any]]) -> None:
    times = sorted(Decimal(milliseconds).scaleb(-3) for milliseconds, _ in frames)
    lines = [
        f'{{"t": {t}, "frame": {_to_json(frame)}}}'
        for t, (_, frame) in zip(times, frames, strict=True)
    ]
    script = parse_replay("\n".join(lines))
    assert [frame.delay for frame in script.frames] == [float(t - times[0]) for t in times]
    for (_, original), parsed in zip(frames, script.frames, strict=True):
        if isinstance(original, str):
            assert parsed.text == original
        else:
            assert json.loads(parsed.text, parse_float=Decimal) == original


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[1, 2]", "replay:1: not a JSON object"),
        ("{nope", "replay:1: not a JSON object"),
        ('{"t": NaN, "frame": ""}', "not a JSON object"),
        ('{"t": 0, "frame": "", "dir": "in"}', "unknown key(s) ['dir']"),
        ('{"frame": ""}', "needs both 't' and 'frame'"),
        ('{"t": "0", "frame": ""}', "'t' must be a number"),
        ('{"t": true, "frame": ""}', "'t' must be a number"),
        ('{"t": 1e999, "frame": ""}', "'t' is out of range"),
        ('{"t": 0, "frame": "", "from": "me"}', "'from' must be"),
        ('{"t": 2, "frame": ""}\n\n{"t": 1, "frame": ""}', "replay:3: 't' goes back in time"),
    ],
)
def test_a_bad_file_is_refused_naming_the_line(text: str, complaint: str) -> None:
    with pytest.raises(ReplayFormatError) as refused:
        parse_replay(text)
    assert complaint in str(refused.value)


def test_the_readme_example_file_parses() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Replay", 1)[1].split("```\n", 1)[1].split("```", 1)[0]
    script = parse_replay(block)
    assert [frame.delay for frame in script.frames] == [0.0, 0.01, 1.65]


def test_load_replay_reads_utf8_files(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text('{"t": 0, "frame": "é"}\n', encoding="utf-8")
    assert load_replay(good).frames == (ReplayFrame(0.0, "é"),)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"t": 0, "frame": "\xff"}')
    with pytest.raises(ReplayFormatError, match="not UTF-8"):
        load_replay(bad)


@pytest.mark.parametrize(
    ("content", "complaint"),
    [(None, "--replay: cannot read"), ('{"t": 0}', "--replay: ")],
)
def test_cli_refuses_an_unreadable_or_bad_replay_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, complaint: str
) -> None:
    path = tmp_path / "session.jsonl"
    if content is not None:
        path.write_text(content)
    parser = argparse.ArgumentParser()
    cli.configure(parser)
    assert cli.run(parser.parse_args(["--replay", str(path)])) == 2
    assert complaint in capsys.readouterr().err


# -- serving ---------------------------------------------------------------------------------------


async def _replayed(ws_url: str, token: str) -> tuple[list[tuple[float, str]], int]:
    """Connect, check the normal greeting and ping, subscribe; return (arrival offset, text)
    of every replayed frame and the close code."""
    async with ws_connect(ws_url) as client:
        assert isinstance(await client.receive(), SystemStatus)  # the model greets as usual
        await client.send({"event": "ping", "reqid": 3})
        assert isinstance(await client.receive(), Pong)  # and answers until the subscribe
        await client.send(
            {
                "event": "subscribe",
                "reqid": 1,
                "subscription": {"name": "openOrders", "token": token},
            }
        )
        started = time.monotonic()
        await client.send({"event": "ping", "reqid": 4})  # ignored from now on
        frames: list[tuple[float, str]] = []
        with trio.fail_after(STEP):
            while True:
                while client.pending:
                    raw = client.pending.pop(0)
                    assert isinstance(raw, TextMessage)
                    frames.append((time.monotonic() - started, raw.data))
                if client.closed is not None:  # the last frames may come with the close
                    break
                await client._fill()
        return frames, client.closed.code


def test_the_first_subscriber_gets_the_recording_with_its_timing_then_a_close() -> None:
    script = parse_replay(RECORDING)

    async def main() -> None:
        async with open_simulator(replay=script) as sim:
            token = await fetch_token(sim)
            frames, code = await _replayed(sim.ws_url, token)
            assert [text for _, text in frames] == [frame.text for frame in script.frames]
            for (arrived, _), frame in zip(frames, script.frames, strict=True):
                assert frame.delay - 0.05 <= arrived < frame.delay + 1.0
            assert code == 1000
            assert sim.session_ids() == []

            # Later clients get the model again.
            async with ws_connect(sim.ws_url) as client:
                assert isinstance(await client.receive(), SystemStatus)
                await client.send(
                    {"event": "subscribe", "subscription": {"name": "openOrders", "token": token}}
                )
                ack = await client.receive()
                assert isinstance(ack, SubscriptionStatus)
                assert ack.status == "subscribed"

    run(main)


def test_a_client_that_leaves_mid_replay_ends_it() -> None:
    script = parse_replay('{"t": 0, "frame": "first"}\n{"t": 30, "frame": "never sent"}')

    async def main() -> None:
        async with open_simulator(replay=script) as sim:
            async with ws_connect(sim.ws_url) as client:
                assert isinstance(await client.receive(), SystemStatus)
                await client.stream.send_all(client.ws.send(Message(data="not json")))
                error = await client.receive_raw()  # the model still answers before the claim
                assert isinstance(error, TextMessage)
                assert "Malformed request" in error.data
                await client.send({"event": "subscribe", "subscription": {"name": "ownTrades"}})
                raw = await client.receive_raw()
                assert isinstance(raw, TextMessage)
                assert raw.data == "first"
            with trio.fail_after(STEP):
                while sim._sessions:
                    await trio.sleep(0.01)

    run(main)


def test_a_client_that_never_answers_the_close_is_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(server, "_CLOSE_GRACE", 0.1)
    script = parse_replay('{"t": 0, "frame": "only"}')

    async def main() -> None:
        async with open_simulator(replay=script) as sim, ws_connect(sim.ws_url) as client:
            assert isinstance(await client.receive(), SystemStatus)
            await client.send({"event": "subscribe", "subscription": {"name": "ownTrades"}})
            received = b""
            with trio.fail_after(STEP):  # read raw bytes, never answering the close
                while data := await client.stream.receive_some(65536):
                    received += data
            assert b"only" in received
            assert b"replay finished" in received

    run(main)


def test_the_cli_replays_a_file_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "capture.jsonl"
    path.write_text(RECORDING, encoding="utf-8")
    with _simulator_process("--replay", str(path)) as process:
        try:
            announcement, _ = _read_announcement(process)

            async def main(endpoint: Announcement) -> None:
                token = await fetch_token(endpoint)
                frames, code = await _replayed(endpoint.ws_url, token)
                assert len(frames) == 4
                assert frames[0][1] == SUBSCRIBED
                assert json.loads(frames[3][1]) == UPDATE
                assert code == 1000

            trio.run(main, announcement)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=STEP) == 0
        finally:
            process.kill()
