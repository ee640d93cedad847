"""Hypothesis properties of the sans-IO ``WebSocketSession``: reassembly and the size cap.

Whatever way a server fragments its messages into frames, and whatever way TCP cuts the bytes
into reads (the upgrade included), the session returns exactly the messages sent, in order;
a message over ``max_message_size`` closes the WebSocket with 1009 instead, and only messages
before it are returned.
"""

from __future__ import annotations

import itertools
import struct

from hypothesis import given, settings
from hypothesis import strategies as st
from kraken_proto.adapters import MessageTooLarge, WebSocketClosed
from kraken_proto.adapters.transport._endpoint import parse_ws_endpoint
from kraken_proto.adapters.transport._ws import WebSocketSession
from wsproto import ConnectionType
from wsproto.connection import Connection
from wsproto.events import CloseConnection, Pong, TextMessage
from wsproto.utilities import generate_accept_token


def _frame(opcode: int, payload: bytes, *, fin: bool) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    if len(payload) < 126:
        return head + bytes([len(payload)]) + payload
    if len(payload) < 65536:
        return head + bytes([126]) + struct.pack("!H", len(payload)) + payload
    return head + bytes([127]) + struct.pack("!Q", len(payload)) + payload


def _upgrade(request: bytes) -> bytes:
    key = next(
        line.split(b":", 1)[1].strip()
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + generate_accept_token(key) + b"\r\n\r\n"
    )


def _frames(message: str, cuts: list[int]) -> bytes:
    """``message`` as a text frame plus continuation frames, cut at ``cuts`` (UTF-8 bytes)."""
    data = message.encode()
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    pieces = [data[a:b] for a, b in itertools.pairwise(points)] or [b""]
    out = b""
    for index, piece in enumerate(pieces):
        out += _frame(0x1 if index == 0 else 0x0, piece, fin=index == len(pieces) - 1)
    return out


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


messages = st.lists(st.text(max_size=60), max_size=6)
cut_lists = st.lists(st.integers(min_value=0, max_value=10_000), max_size=6)


@settings(max_examples=200, deadline=None)
@given(messages, st.lists(cut_lists, min_size=6, max_size=6), cut_lists)
def test_any_fragmentation_and_any_reads_give_back_the_messages(
    sent: list[str], fragment_cuts: list[list[int]], read_cuts: list[int]
) -> None:
    session = WebSocketSession(parse_ws_endpoint("ws://127.0.0.1:1"))
    stream = _upgrade(session.handshake())
    stream += b"".join(_frames(m, cuts) for m, cuts in zip(sent, fragment_cuts, strict=False))
    received: list[str] = []
    for chunk in _chunks(stream, read_cuts):
        received += session.receive_data(chunk)
    assert received == sent
    assert session.is_open


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet="ab\u00e9", max_size=40), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=60),
    st.lists(cut_lists, min_size=6, max_size=6),
)
def test_the_cap_passes_what_fits_and_closes_on_the_first_message_over_it(
    sent: list[str], limit: int, fragment_cuts: list[list[int]]
) -> None:
    session = WebSocketSession(parse_ws_endpoint("ws://127.0.0.1:1"), max_message_size=limit)
    stream = _upgrade(session.handshake())
    stream += b"".join(_frames(m, cuts) for m, cuts in zip(sent, fragment_cuts, strict=False))
    received = session.receive_data(stream)
    # The cap counts decoded characters (Kraken's JSON is ASCII, where that is bytes).
    fitting = []
    for message in sent:
        if len(message) > limit:
            break
        fitting.append(message)
    assert received == fitting
    if len(fitting) < len(sent):
        assert isinstance(session.closed, MessageTooLarge)
        assert session.closed.code == 1009
        assert session.bytes_to_send()[:1] == b"\x88"  # our close frame
    else:
        assert session.is_open


class _WsprotoOnly(WebSocketSession):
    """The reference: every frame through wsproto (the fast path never starts)."""

    def _wsproto_idle(self) -> bool:
        return False


def _raw_frame(first: int, payload: bytes, *, mask: bool, wide: int) -> bytes:
    """A frame with header byte ``first``; ``wide`` 1/2: a 2-/8-byte length even when a
    shorter one fits (wsproto refuses that); ``mask``: a masked frame (a server may not)."""
    length = len(payload)
    bit = 0x80 if mask else 0
    if wide == 2 or length >= 65536:
        head = bytes([first, bit | 127]) + struct.pack("!Q", length)
    elif wide == 1 or length >= 126:
        head = bytes([first, bit | 126]) + struct.pack("!H", length)
    else:
        head = bytes([first, bit | length])
    return head + (b"\0\0\0\0" + payload if mask else payload)


_payloads = st.one_of(
    st.text(max_size=40).map(str.encode),
    st.binary(max_size=40),
    st.sampled_from([b"\x03\xe8bye", b"\x03\xe9", b"", b"x" * 130, "é".encode() * 70]),
)
_frames_any = st.builds(
    _raw_frame,
    st.sampled_from([0x81, 0x81, 0x81, 0x89, 0x8A, 0x01, 0x80, 0x82, 0x88, 0x91, 0x83, 0x09]),
    _payloads,
    mask=st.sampled_from([False, False, False, True]),
    wide=st.sampled_from([0, 0, 0, 1, 2]),
)


def _run(session: WebSocketSession, stream: bytes, cuts: list[int]) -> tuple[list[str], str, int]:
    received: list[str] = []
    replies = 0
    ending = "open"
    session.receive_data(_upgrade(session.handshake()))  # the fast path starts after it
    for chunk in _chunks(stream, cuts):
        try:
            received += session.receive_data(chunk)
        except WebSocketClosed:  # closed by an earlier read (checked below)
            break
        finally:
            replies += len(session.bytes_to_send())
    if ending == "open" and session.closed is not None:
        ending = f"closed({session.closed.code})"
    return received, ending, replies


@settings(max_examples=500, deadline=None)
@given(
    st.lists(_frames_any, max_size=8),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
    st.integers(min_value=1, max_value=200),
)
def test_the_fast_path_agrees_with_wsproto_frame_for_frame(
    frames: list[bytes], cuts: list[int], limit: int
) -> None:
    """Whatever the frames (valid or not) and however the reads cut them, the fast path
    returns the same messages, ends the same way and queues replies of the same size as
    wsproto alone. (It may see a bad frame one read later: it waits for a frame whole.)"""
    endpoint = parse_ws_endpoint("ws://127.0.0.1:1")
    stream = b"".join(frames)
    fast = _run(WebSocketSession(endpoint, max_message_size=limit), stream, cuts)
    reference = _run(_WsprotoOnly(endpoint, max_message_size=limit), stream, cuts)
    assert fast == reference


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(st.text(max_size=300), st.sampled_from(["x" * 70_000, "é" * 40_000])),
    st.sampled_from([1000, 1001, 1008, 1009, 1011, 3000, 4000, 4999]),
    st.text(max_size=80),
)
def test_what_the_session_sends_a_wsproto_server_reads_back(
    text: str, code: int, reason: str
) -> None:
    """Text, pongs and the close, framed and masked by the session, read by wsproto as the
    server (which checks the mask bit, the length encoding and the UTF-8)."""
    session = WebSocketSession(parse_ws_endpoint("ws://127.0.0.1:1"))
    server = Connection(ConnectionType.SERVER)
    session.receive_data(_upgrade(session.handshake()))
    session.receive_data(_frame(0x9, b"hb", fin=True))  # a ping: answered with a pong
    server.receive_data(session.send_text(text) + session.bytes_to_send())
    server.receive_data(session.close(code, reason))
    got = list(server.events())
    assert isinstance(got[0], TextMessage)
    assert got[0].data == text
    assert got[0].message_finished
    assert isinstance(got[1], Pong)
    assert got[1].payload == b"hb"
    assert isinstance(got[2], CloseConnection)
    assert got[2].code == code
    assert reason.encode().startswith((got[2].reason or "").encode())
    assert session.closed is not None
    assert session.closed.code == code
