"""Both adapters' transports against hostile loopback servers (127.0.0.1, port 0).

Each server misbehaves in one way found while testing the adapters: it drips the handshake,
answers a broken upgrade, closes mid-handshake, packs the upgrade, a frame and a close into
one segment, refuses the upgrade, or streams an endless fragmented message.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import pytest
import trio
from kraken_proto.adapters import (
    HandshakeError,
    HandshakeTimeout,
    HttpResponseError,
    MessageTooLarge,
    WebSocketClosed,
)
from kraken_proto.adapters.clients.blocking_client import BlockingClient
from kraken_proto.adapters.clients.trio_client import open_trio_client
from kraken_proto.adapters.simulator.tls import server_ssl_context, temporary_tls_files
from kraken_proto.adapters.transport._endpoint import parse_ws_endpoint
from kraken_proto.adapters.transport._ws import WebSocketSession
from kraken_proto.v1 import SystemStatus
from wsproto.utilities import generate_accept_token

Behaviour = Callable[[socket.socket, threading.Event], None]

SYSTEM_STATUS = b'{"event":"systemStatus","status":"online","version":"1.9.0","connectionID":7}'


@contextmanager
def hostile_server(behaviour: Behaviour, tls: ssl.SSLContext | None = None) -> Iterator[int]:
    """Serve one connection with ``behaviour`` in a thread; yield the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    stop = threading.Event()

    def run() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        if tls is not None:
            conn.settimeout(10)
        try:
            with conn:
                behaviour(conn, stop)
        except OSError:
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()
        thread.join(10)


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _accept_header(request: bytes) -> bytes:
    for line in request.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            return generate_accept_token(value.strip())
    raise AssertionError("no Sec-WebSocket-Key")


def _switching(request: bytes) -> bytes:
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + _accept_header(request) + b"\r\n\r\n"
    )


def _frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """One unmasked server frame."""
    head = bytes([(0x80 if fin else 0) | opcode])
    if len(payload) < 126:
        return head + bytes([len(payload)]) + payload
    return head + bytes([126]) + struct.pack("!H", len(payload)) + payload


def _connect_blocking(url: str, **kwargs: object) -> BlockingClient:
    client = BlockingClient(url, **kwargs)  # type: ignore[arg-type]
    client.connect()
    return client


def _connect_trio(url: str, **kwargs: object) -> None:
    async def main() -> None:
        async with open_trio_client(url, **kwargs):  # type: ignore[arg-type]
            raise AssertionError("the handshake should have failed")

    trio.run(main)


ADAPTERS = {
    "blocking": _connect_blocking,
    "trio": _connect_trio,
}


# --- the handshake has one deadline as a whole -----------------------------------------------


def _drip(conn: socket.socket, stop: threading.Event) -> None:
    request = _read_request(conn)
    for byte in _switching(request):
        if stop.wait(0.1):
            return
        conn.sendall(bytes([byte]))


def _silent(conn: socket.socket, stop: threading.Event) -> None:
    _read_request(conn)
    stop.wait(10)


def _drip_tls_record(conn: socket.socket, stop: threading.Event) -> None:
    # A TLS handshake record header announcing 16 KiB, then one byte at a time.
    conn.recv(4096)
    conn.sendall(b"\x16\x03\x03\x40\x00")
    while not stop.wait(0.1):
        conn.sendall(b"\x00")


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("behaviour", [_drip, _silent])
def test_a_slow_server_cannot_stretch_the_handshake(adapter: str, behaviour: Behaviour) -> None:
    # Without one deadline, the 130-byte 101 dripped at 10 bytes/s takes 13 s (each read
    # succeeds within the timeout); trio had no timeout at all.
    with hostile_server(behaviour) as port:
        started = time.monotonic()
        with pytest.raises(HandshakeTimeout, match="within 1 s") as raised:
            ADAPTERS[adapter](f"ws://127.0.0.1:{port}", connect_timeout=1.0)
        assert time.monotonic() - started < 3.0
        assert f"ws://127.0.0.1:{port}" in str(raised.value)
        assert isinstance(raised.value, TimeoutError)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_slow_tls_handshake_is_inside_the_same_deadline(adapter: str) -> None:
    with hostile_server(_drip_tls_record) as port:
        started = time.monotonic()
        with pytest.raises(HandshakeTimeout):
            ADAPTERS[adapter](f"wss://127.0.0.1:{port}", connect_timeout=1.0)
        assert time.monotonic() - started < 3.0


# --- a broken or cut-short upgrade is a HandshakeError ----------------------------------------


def _no_accept_header(conn: socket.socket, stop: threading.Event) -> None:
    _read_request(conn)
    conn.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    )
    stop.wait(5)


def _eof_in_handshake(conn: socket.socket, stop: threading.Event) -> None:
    _read_request(conn)
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: web")


def _refuse(conn: socket.socket, stop: threading.Event) -> None:
    _read_request(conn)
    conn.sendall(b"HTTP/1.1 403 Go Away Bot\r\ncontent-length: 5\r\n\r\nnope!")
    stop.wait(5)


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (_no_accept_header, "invalid WebSocket upgrade response"),
        (_eof_in_handshake, "during the WebSocket handshake"),
        (_refuse, "WebSocket upgrade refused: HTTP 403 Go Away Bot"),
    ],
)
def test_a_broken_upgrade_raises_handshake_error(
    adapter: str, behaviour: Behaviour, message: str
) -> None:
    with hostile_server(behaviour) as port:
        url = f"ws://127.0.0.1:{port}"
        with pytest.raises(HandshakeError, match=message) as raised:
            ADAPTERS[adapter](url, connect_timeout=5.0)
        assert url in str(raised.value)
        assert not isinstance(raised.value, HandshakeTimeout)
        if behaviour is _refuse:
            assert (raised.value.status_code, raised.value.reason) == (403, "Go Away Bot")


def test_a_refusal_without_reason_phrase_gets_the_standard_one() -> None:
    def refuse(conn: socket.socket, stop: threading.Event) -> None:
        _read_request(conn)
        conn.sendall(b"HTTP/1.1 503 \r\ncontent-length: 0\r\n\r\n")

    with hostile_server(refuse) as port, pytest.raises(HandshakeError) as raised:
        _connect_blocking(f"ws://127.0.0.1:{port}")
    assert "HTTP 503 Service Unavailable" in str(raised.value)


# --- an upgrade, a frame and a close in one segment ------------------------------------------


def _upgrade_frame_close(conn: socket.socket, stop: threading.Event) -> None:
    request = _read_request(conn)
    close = _frame(0x8, struct.pack("!H", 4001) + b"going")
    conn.sendall(_switching(request) + _frame(0x1, SYSTEM_STATUS) + close)
    stop.wait(5)


def test_blocking_upgrade_frame_and_close_in_one_segment() -> None:
    with hostile_server(_upgrade_frame_close) as port:
        client = _connect_blocking(f"ws://127.0.0.1:{port}")
        events = client.next_events(timeout=5)
        assert [type(e) for e in events] == [SystemStatus]
        with pytest.raises(WebSocketClosed) as closed:
            client.next_events(timeout=5)
        assert (closed.value.code, closed.value.reason) == (4001, "going")
        client.close()


def test_trio_upgrade_frame_and_close_in_one_segment() -> None:
    async def main() -> None:
        with hostile_server(_upgrade_frame_close) as port:
            async with open_trio_client(f"ws://127.0.0.1:{port}") as client:
                events = await client.next_events(timeout=5)
                assert [type(e) for e in events] == [SystemStatus]
                with pytest.raises(WebSocketClosed) as closed:
                    await client.next_events(timeout=5)
                assert closed.value.code == 4001

    trio.run(main)


def test_a_lost_connection_reports_code_1006() -> None:
    def accept_then_vanish(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(_switching(_read_request(conn)) + _frame(0x1, SYSTEM_STATUS))

    with hostile_server(accept_then_vanish) as port:
        client = _connect_blocking(f"ws://127.0.0.1:{port}")
        client.next_events(timeout=5)
        with pytest.raises(WebSocketClosed) as closed:
            client.next_events(timeout=5)
        assert (closed.value.code, closed.value.reason) == (1006, "connection lost")
        client.close()


# --- incoming messages are capped ------------------------------------------------------------


def _endless_fragments(received: list[bytes]) -> Behaviour:
    def behaviour(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(_switching(_read_request(conn)))
        chunk = b"x" * 16000
        conn.sendall(_frame(0x1, chunk, fin=False))
        conn.settimeout(0.0)
        sent = 0
        while not stop.is_set() and sent < 50_000_000:
            try:
                conn.sendall(_frame(0x0, chunk, fin=False))
                sent += len(chunk)
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                # Reset or broken pipe: the client closed while our fragments were in flight
                # (seen 1 run in 3 on a loaded machine: the thread died and recorded nothing).
                received.append(b"<reset>")
                return
            try:
                data = conn.recv(4096)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                # The client closes with our fragments still unread, so its kernel answers with
                # a reset, which can overtake its close frame here on a loaded machine.
                received.append(b"<reset>")
                return
            received.append(data)
            if not data or data[:1] == b"\x88":
                return
        # Stopped (the client is done) before its close was read: read what it sent last.
        conn.settimeout(1.0)
        try:
            received.append(conn.recv(4096))
        except OSError:
            received.append(b"<reset>")

    return behaviour


def _read_forever(read: Callable[..., object]) -> None:
    for _ in range(1000):
        read(timeout=5)


async def _read_forever_trio(read: Callable[..., Awaitable[object]]) -> None:
    for _ in range(1000):
        await read(timeout=5)


def test_blocking_endless_fragment_stream_is_capped() -> None:
    received: list[bytes] = []
    with hostile_server(_endless_fragments(received)) as port:
        client = _connect_blocking(f"ws://127.0.0.1:{port}", max_message_size=1_000_000)
        with pytest.raises(MessageTooLarge, match="max_message_size=1000000") as raised:
            _read_forever(client.next_events)
        assert raised.value.code == 1009
        client.close()
    # The server got a close frame (masked, so check the opcode byte only), unless the client's
    # reset overtook it (the client's own close code is checked above).
    # An EOF (b"") is the client's close too: its FIN can come before the server reads the frame.
    assert any(chunk[:1] == b"\x88" or chunk in (b"<reset>", b"") for chunk in received)


def test_trio_endless_fragment_stream_is_capped() -> None:
    async def main() -> None:
        with hostile_server(_endless_fragments([])) as port:
            async with open_trio_client(
                f"ws://127.0.0.1:{port}", max_message_size=1_000_000
            ) as client:
                with pytest.raises(MessageTooLarge):
                    await _read_forever_trio(client.next_events)

    trio.run(main)


def _open_session(limit: int) -> WebSocketSession:
    session = WebSocketSession(parse_ws_endpoint("ws://127.0.0.1:1"), max_message_size=limit)
    session.receive_data(_switching(session.handshake()))
    assert session.is_open
    return session


def test_a_fragmented_message_at_the_cap_arrives_whole_and_one_more_byte_closes() -> None:
    body = "z" * 300_000
    pieces = [body[i : i + 60000].encode() for i in range(0, len(body), 60000)]
    frames = b"".join(
        _frame(0x1 if i == 0 else 0x0, piece, fin=i == len(pieces) - 1)
        for i, piece in enumerate(pieces)
    )
    session = _open_session(300_000)
    assert session.receive_data(frames) == [body]
    assert session.receive_data(frames) == [body]  # the count starts again per message
    over = _open_session(299_999)
    assert over.receive_data(frames) == []
    assert isinstance(over.closed, MessageTooLarge)
    assert over.bytes_to_send()[:1] == b"\x88"  # a close frame, code 1009
    with pytest.raises(MessageTooLarge):
        over.receive_data(b"")


def test_binary_messages_count_against_the_cap_and_are_ignored() -> None:
    session = _open_session(10)
    assert session.receive_data(_frame(0x2, b"0123456789") + _frame(0x1, b"ok")) == ["ok"]
    assert session.receive_data(_frame(0x2, b"0123456789A")) == []
    assert isinstance(session.closed, MessageTooLarge)


# --- URLs and connection errors --------------------------------------------------------------


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_refused_connection_names_the_url(adapter: str) -> None:
    url = f"ws://127.0.0.1:{_free_port()}/v1"
    with pytest.raises(ConnectionRefusedError, match="connecting to " + url):
        ADAPTERS[adapter](url, connect_timeout=5.0)


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("url", ["http://127.0.0.1:1", "https://127.0.0.1:1", "ftp://x"])
def test_only_websocket_urls_are_accepted(adapter: str, url: str) -> None:
    with pytest.raises(ValueError, match=r"expected ws://, wss://"):
        ADAPTERS[adapter](url)


def test_a_tls_failure_names_the_url() -> None:
    # The simulator's throw-away CA is not trusted by a default context.
    with temporary_tls_files() as files:
        context = server_ssl_context(files)

        def tls_server(conn: socket.socket, stop: threading.Event) -> None:
            with context.wrap_socket(conn, server_side=True):  # the client gives up
                pass

        with hostile_server(tls_server) as port:
            url = f"wss://127.0.0.1:{port}"
            with pytest.raises(ssl.SSLError, match="connecting to " + url):
                _connect_blocking(url)
        with hostile_server(tls_server) as port:
            url = f"wss://127.0.0.1:{port}"
            with pytest.raises(OSError, match="connecting to " + url):
                _connect_trio(url)


def test_adapter_errors_are_importable_from_the_package() -> None:
    import kraken_proto.adapters as adapters

    assert issubclass(adapters.MessageTooLarge, adapters.WebSocketClosed)
    assert issubclass(adapters.HandshakeTimeout, adapters.HandshakeError)
    assert issubclass(HttpResponseError, Exception)
    assert adapters.DEFAULT_MAX_MESSAGE_SIZE >= 8 * 2_950_000 // 2
