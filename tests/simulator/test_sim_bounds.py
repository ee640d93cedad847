"""Bounded memory and time against hostile loopback clients (``_bounds``)."""

from __future__ import annotations

import argparse
import json
import struct
import time
import tracemalloc
from pathlib import Path

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto.adapters.simulator._bounds import MessageAssembler, MessageTooBig, ServerLimits
from kraken_proto.adapters.simulator._replay import ReplayFrame, ReplayScript
from kraken_proto.adapters.simulator.cli import configure
from kraken_proto.adapters.simulator.cli import run as run_cli
from kraken_proto.adapters.simulator.server import SimulatorServer, open_simulator
from kraken_proto.v1 import Pong, SystemStatus
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Message, Request

from tests.simulator.test_sim_server import STEP, _connect, run, ws_connect

LIMIT = 4096
FLOOD = 64 << 20  # what a client may try to make the server hold; the bound must stop it early


# -- the pure assembler --------------------------------------------------------------------------


@given(
    max_size=st.integers(min_value=1, max_value=64),
    messages=st.lists(st.lists(st.text(max_size=20), min_size=1, max_size=6), max_size=6),
)
def test_assembler_returns_each_message_whole_or_refuses_it_within_the_limit(
    max_size: int, messages: list[list[str]]
) -> None:
    assembler = MessageAssembler(max_size)
    for fragments in messages:
        whole = "".join(fragments)
        fits = len(whole.encode()) <= max_size
        results: list[str | None] = []
        refused: MessageTooBig | None = None
        try:
            for index, fragment in enumerate(fragments):
                results.append(assembler.add(fragment, index == len(fragments) - 1))
                assert assembler.buffered <= max_size
        except MessageTooBig as exc:
            refused = exc
        if refused is not None:
            assert not fits
            assert refused.code == 1009
            assert assembler.buffered == 0  # dropped: ready for the next message
            continue
        assert fits
        assert results[:-1] == [None] * (len(fragments) - 1)
        assert results[-1] == whole
        assert assembler.buffered == 0


def test_a_one_piece_message_is_not_copied() -> None:
    text = "x" * 100
    assert MessageAssembler(100).add(text, True) is text


@pytest.mark.parametrize(
    "limits",
    [
        {"max_message_size": 0},
        {"handshake_timeout": 0},
        {"handshake_timeout": float("nan")},
        {"max_backlog": 0},
    ],
)
def test_limits_must_be_positive(limits: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be a positive"):
        ServerLimits(**limits)  # type: ignore[arg-type]


def test_cli_refuses_bad_limits(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    configure(parser)
    assert run_cli(parser.parse_args(["--max-message-size", "0"])) == 2
    assert "max_message_size must be a positive" in capsys.readouterr().err


# -- hostile WebSocket clients ---------------------------------------------------------------------


def _frame_header(length: int, *, opcode: int = 1, fin: bool = True) -> bytes:
    """A client frame header announcing ``length`` payload bytes, with an all-zero mask."""
    first = (0x80 if fin else 0) | opcode
    return struct.pack("!BBQ", first, 0x80 | 127, length) + b"\x00\x00\x00\x00"


async def _flood_until_closed(sim: SimulatorServer, chunks: list[bytes]) -> tuple[int, int]:
    """Open a WebSocket, send ``chunks`` over and over until the server closes (or FLOOD
    bytes went out). Returns (close code, bytes sent before the close was seen)."""
    stream = await _connect(sim.ws_url, None)
    ws = WSConnection(ConnectionType.CLIENT)
    await stream.send_all(ws.send(Request(host="localhost", target="/")))
    sent = 0
    code: int | None = None

    async def sender(cancel: trio.CancelScope) -> None:
        nonlocal sent
        try:
            while sent < FLOOD:
                for chunk in chunks:
                    await stream.send_all(chunk)
                    sent += len(chunk)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    async def receiver(cancel: trio.CancelScope) -> None:
        nonlocal code
        while code is None:
            try:
                data = bytes(await stream.receive_some(65536))
            except trio.BrokenResourceError:
                data = b""
            ws.receive_data(data or None)
            for event in ws.events():
                if isinstance(event, CloseConnection):
                    code = event.code
            if not data:
                break
        cancel.cancel()

    async with stream:
        with trio.fail_after(STEP * 4):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(sender, nursery.cancel_scope)
                nursery.start_soon(receiver, nursery.cancel_scope)
    assert code is not None, f"no close frame after {sent} bytes"
    return code, sent


@pytest.mark.parametrize("shape", ["one giant frame", "endless fragments"])
def test_an_oversized_message_is_closed_with_1009_and_memory_stays_bounded(shape: str) -> None:
    if shape == "one giant frame":
        # One header announcing a 1 TiB frame, then payload; repeating the header mid-payload
        # is just more payload bytes to the server.
        chunks = [_frame_header(1 << 40)] + [b"a" * 65536] * 16
    else:  # a text frame, then one-byte continuation frames forever
        first = struct.pack("!BB", 0x01, 0x80 | 1) + b"\x00\x00\x00\x00" + b"{"
        continuation = struct.pack("!BB", 0x00, 0x80 | 1) + b"\x00\x00\x00\x00" + b" "
        chunks = [first, continuation * 8192]
    peak = 0

    async def main() -> None:
        nonlocal peak
        async with open_simulator(limits=ServerLimits(max_message_size=LIMIT)) as sim:
            tracemalloc.start()
            try:
                code, sent = await _flood_until_closed(sim, chunks)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert code == 1009
            # The server stopped it long before the flood was through (kernel buffers on the
            # way hold a few MiB of what we sent).
            assert sent < FLOOD // 2

    run(main)
    # Client and server share this process: the peak covers both, and stays far below the
    # flood (without the bound the server kept every byte: 64 MiB and counting).
    print(f"{shape}: peak traced memory {peak} bytes")
    assert peak < 8 << 20, f"peak traced memory {peak} bytes"


def test_a_message_of_exactly_the_limit_is_served_and_one_byte_more_is_not() -> None:
    async def main() -> None:
        limits = ServerLimits(max_message_size=200)
        async with open_simulator(limits=limits) as sim, ws_connect(sim.ws_url) as client:
            assert isinstance(await client.receive(), SystemStatus)
            base = {"event": "ping", "reqid": 5, "pad": ""}
            size = len(json.dumps(base))
            exact = json.dumps({**base, "pad": "é" * ((200 - size) // 2)}, ensure_ascii=False)
            exact += " " * (200 - len(exact.encode()))
            assert len(exact.encode()) == 200
            await client.stream.send_all(
                client.ws.send(Message(data=exact[:7], message_finished=False))
            )
            await client.stream.send_all(client.ws.send(Message(data=exact[7:])))
            pong = await client.receive()
            assert isinstance(pong, Pong)
            await client.stream.send_all(client.ws.send(Message(data=exact + " ")))
            closed = await client.wait_closed()
            assert closed.code == 1009
            assert closed.reason == "message larger than 200 bytes"

    run(main)


# -- connections that never finish their request -------------------------------------------------


async def _seconds_until_dropped(sim: SimulatorServer, script: list[tuple[float, bytes]]) -> float:
    """Send ``script`` ((delay, bytes) steps); return seconds from connect until EOF."""
    stream = await _connect(sim.rest_url, None)
    started = time.monotonic()
    async with stream:
        with trio.fail_after(STEP):
            async with trio.open_nursery() as nursery:

                async def dribble() -> None:
                    try:
                        for delay, data in script:
                            await trio.sleep(delay)
                            await stream.send_all(data)
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        pass

                nursery.start_soon(dribble)
                while True:
                    try:
                        data = await stream.receive_some(65536)
                    except trio.BrokenResourceError:
                        data = b""
                    assert not data, f"the server answered: {data!r}"
                    break
                nursery.cancel_scope.cancel()
    return time.monotonic() - started


TIMEOUT = 0.3
HEAD = b"POST /0/private/GetWebSocketsToken HTTP/1.1\r\nHost: localhost\r\n"


@pytest.mark.parametrize(
    ("name", "script"),
    [
        ("silent", []),
        ("half a head", [(0.0, HEAD)]),
        ("slowloris", [(0.05, bytes([byte])) for byte in HEAD * 3]),
        ("stalled body", [(0.0, HEAD + b"Content-Length: 100\r\n\r\nnonce=1")]),
        ("websocket upgrade never ends", [(0.0, b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n")]),
    ],
)
def test_a_connection_that_never_completes_its_request_is_dropped(
    name: str, script: list[tuple[float, bytes]]
) -> None:
    async def main() -> None:
        async with open_simulator(limits=ServerLimits(handshake_timeout=TIMEOUT)) as sim:
            elapsed = await _seconds_until_dropped(sim, script)
            assert TIMEOUT * 0.9 <= elapsed < STEP, (name, elapsed)

    run(main)


def test_an_open_websocket_is_not_subject_to_the_handshake_timeout() -> None:
    async def main() -> None:
        limits = ServerLimits(handshake_timeout=0.1)
        async with open_simulator(limits=limits) as sim, ws_connect(sim.ws_url) as client:
            assert isinstance(await client.receive(), SystemStatus)
            await trio.sleep(0.3)
            await client.send({"event": "ping", "reqid": 1})
            assert isinstance(await client.receive(), Pong)

    run(main)


# -- a client that sends and never reads ----------------------------------------------------


def test_a_client_that_never_reads_its_replies_is_dropped_at_the_backlog_limit() -> None:
    """Lockstep streams have no kernel buffer: the server's first write blocks until the
    client reads, so every reply after it waits in the session's queue."""

    async def main() -> None:
        async with open_simulator(limits=ServerLimits(max_backlog=1000)) as sim:
            client, server_side = trio.testing.lockstep_stream_pair()
            dropped = trio.Event()
            sent = 0

            async def serve() -> None:
                await sim._handle_connection(server_side)
                dropped.set()

            async def pings() -> None:
                nonlocal sent
                while True:
                    await client.send_all(ws.send(Message(data='{"event":"ping"}')))
                    sent += 1

            ws = WSConnection(ConnectionType.CLIENT)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(serve)
                await client.send_all(ws.send(Request(host="localhost", target="/")))
                with trio.fail_after(STEP):
                    accepted = False
                    while not accepted:
                        ws.receive_data(bytes(await client.receive_some(65536)))
                        accepted = any(isinstance(e, AcceptConnection) for e in ws.events())
                    nursery.start_soon(pings)  # and never read again
                    await dropped.wait()
                nursery.cancel_scope.cancel()
            assert sim.session_ids() == []
            # Each pong is 16 characters: the session went after about 1000 / 16 of them.
            assert 1000 // 16 <= sent < 2 * 1000 // 16, sent

    run(main)


def test_cli_passes_its_limits_and_replay_to_the_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, object] = {}
    monkeypatch.setattr(trio, "run", lambda serve, *_: seen.update(serve.keywords))
    recording = tmp_path / "session.jsonl"
    recording.write_text('{"t": 0, "frame": "x"}\n', encoding="utf-8")
    parser = argparse.ArgumentParser()
    configure(parser)
    options = ["--max-message-size", "123", "--handshake-timeout", "2.5", "--max-backlog", "99"]
    assert run_cli(parser.parse_args([*options, "--replay", str(recording)])) == 0
    assert seen["limits"] == ServerLimits(
        max_message_size=123, handshake_timeout=2.5, max_backlog=99
    )
    assert seen["replay"] == ReplayScript((ReplayFrame(0.0, "x"),))
