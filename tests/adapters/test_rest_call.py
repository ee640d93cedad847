"""call_rest_blocking / call_rest_trio over loopback, against the simulator and hostile servers."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
import trio
from kraken_proto import AddOrder, Credentials, Event, LocalProtocolError
from kraken_proto.adapters.clients.blocking_client import BlockingClient
from kraken_proto.adapters.simulator.server import open_simulator, run_in_thread
from kraken_proto.adapters.transport.http import HttpResponse, HttpResponseError
from kraken_proto.adapters.transport.rest_call import call_rest_blocking, call_rest_trio
from kraken_proto.rest import (
    NonceSource,
    RestHTTPError,
    build_open_orders_request,
    build_token_request,
    build_trades_history_request,
    parse_open_orders_response,
    parse_token_response,
    parse_trades_history_response,
)
from kraken_proto.v1 import ChannelSnapshot, ChannelUpdate, OwnTrades, Subscribe


@contextmanager
def silent_server(reply: bytes = b"") -> Iterator[str]:
    """A loopback server that reads the request, sends ``reply`` (maybe nothing) and then
    holds the connection open until the test ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        listener.settimeout(5)
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        held.append(conn)
        conn.recv(65536)
        if reply:
            conn.sendall(reply)
        stop.wait(10)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def test_blocking_end_to_end_rest_sees_what_the_websocket_reported() -> None:
    with run_in_thread(seed=31) as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        nonces = NonceSource()
        response = call_rest_blocking(
            build_token_request(credentials, nonce=nonces.next(time.time())),
            rest_url=sim.rest_url,
        )
        token = parse_token_response(response.status, response.body)
        assert token.token not in repr(response)
        assert repr(response) == f"HttpResponse(status=200, body=<{len(response.body)} bytes>)"
        seen: list[Event] = []
        with BlockingClient(sim.ws_url) as client:
            client.provide_token(token.token)
            client.send(Subscribe(name="ownTrades"))
            deadline = time.monotonic() + 10
            while not any(isinstance(e, ChannelSnapshot) for e in seen):
                assert time.monotonic() < deadline
                seen.extend(client.next_events(timeout=1.0))
            client.send(
                AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal("0.2"))
            )
            while not any(isinstance(e, ChannelUpdate) for e in seen):
                assert time.monotonic() < deadline
                seen.extend(client.next_events(timeout=1.0))
        ws_trades = {
            trade_id
            for e in seen
            if isinstance(e, ChannelUpdate) and isinstance(e.event, OwnTrades)
            for trade_id, _ in e.event.trades
        }
        response = call_rest_blocking(
            build_trades_history_request(credentials, nonce=nonces.next(time.time())),
            rest_url=sim.rest_url,
        )
        history = parse_trades_history_response(response.status, response.body)
        assert set(history.trades) == ws_trades
        assert history.count == len(ws_trades) >= 1
        for trade in history.trades.values():
            assert trade.pair == "XXBTZUSD"
            assert trade.vol + 0 <= Decimal("0.2")


def test_blocking_over_tls_and_http_errors() -> None:
    with run_in_thread(seed=32, tls=True) as sim:
        assert sim.ca_file is not None
        context = ssl.create_default_context(cafile=sim.ca_file)
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        url = sim.rest_url.replace("127.0.0.1", "localhost")
        response = call_rest_blocking(
            build_open_orders_request(credentials, nonce=1), rest_url=url, ssl_context=context
        )
        assert parse_open_orders_response(response.status, response.body).open == {}
    with run_in_thread(seed=33, rest_fault="http_500") as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        response = call_rest_blocking(
            build_open_orders_request(credentials, nonce=1), rest_url=sim.rest_url
        )
        assert response.status == 500
        with pytest.raises(RestHTTPError):
            parse_open_orders_response(response.status, response.body)


def test_trio_end_to_end() -> None:
    async def main() -> None:
        async with open_simulator(seed=34) as sim:
            credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
            response = await call_rest_trio(
                build_open_orders_request(credentials, nonce=7), rest_url=sim.rest_url
            )
            assert parse_open_orders_response(response.status, response.body).open == {}
            response = await call_rest_trio(
                build_trades_history_request(credentials, nonce=8), rest_url=sim.rest_url
            )
            assert parse_trades_history_response(response.status, response.body).count == 0

    trio.run(main)


def test_timeouts_cover_the_whole_call() -> None:
    credentials = Credentials(api_key="k", api_secret="A" * 86 + "==")
    request = build_open_orders_request(credentials, nonce=1)
    with silent_server(b"HTTP/1.1 200 OK\r\n") as url:  # a head cut short, then silence
        started = time.monotonic()
        with pytest.raises(TimeoutError, match=r"REST call did not complete within 0\.3 s"):
            call_rest_blocking(request, rest_url=url, timeout=0.3)
        assert time.monotonic() - started < 5

    async def trio_call(url: str) -> None:
        with pytest.raises(TimeoutError, match=r"within 0\.3 s"):
            await call_rest_trio(request, rest_url=url, timeout=0.3)

    with silent_server() as url:
        trio.run(trio_call, url)


def test_oversized_and_truncated_bodies() -> None:
    credentials = Credentials(api_key="k", api_secret="A" * 86 + "==")
    request = build_open_orders_request(credentials, nonce=1)
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000
    with silent_server(big) as url, pytest.raises(HttpResponseError, match="exceeds 100 bytes"):
        call_rest_blocking(request, rest_url=url, max_body_size=100)
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\nConnection: close\r\n\r\n{}"

    async def trio_call(url: str) -> HttpResponse:
        return await call_rest_trio(request, rest_url=url, timeout=5)

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_and_close() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(cut)
        conn.close()

    thread = threading.Thread(target=serve_and_close, daemon=True)
    thread.start()
    try:
        with pytest.raises(HttpResponseError, match="closed before the response was complete"):
            trio.run(trio_call, f"http://127.0.0.1:{port}")
    finally:
        thread.join()
        listener.close()


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan"), True])
def test_bad_arguments(timeout: float) -> None:
    credentials = Credentials(api_key="k", api_secret="A" * 86 + "==")
    request = build_open_orders_request(credentials, nonce=1)
    with pytest.raises(LocalProtocolError, match="timeout"):
        call_rest_blocking(request, rest_url="http://127.0.0.1:9", timeout=timeout)


def test_only_http_urls() -> None:
    credentials = Credentials(api_key="k", api_secret="A" * 86 + "==")
    request = build_open_orders_request(credentials, nonce=1)
    with pytest.raises(ValueError, match="unsupported URL"):
        call_rest_blocking(request, rest_url="ws://127.0.0.1:9")


TOKEN = "1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw"


@pytest.mark.parametrize(
    "raw",
    [
        f"HTTP/1.1 200 OK\r\nX-Token {TOKEN}\r\n\r\n".encode(),
        f"HTTP/1.1 200{TOKEN} OK\r\n\r\n".encode(),
        f"{TOKEN}\r\n\r\n".encode(),
        f"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz{TOKEN}\r\n".encode(),
    ],
)
def test_malformed_http_errors_never_quote_a_token(raw: bytes) -> None:
    from kraken_proto.adapters.transport.http import ResponseReader

    reader = ResponseReader()
    with pytest.raises(HttpResponseError) as caught:
        reader.feed(raw) or reader.feed_eof()
    assert "malformed" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert TOKEN[:20] not in str(caught.value)


def _library_locals(error: BaseException) -> str:
    import traceback

    exception = traceback.TracebackException.from_exception(error, capture_locals=True)
    # Library frames only, by their path inside the checkout (whose own directory may be
    # called "adapters", as a worktree is).
    root = Path(__file__).resolve().parents[2]
    library = (root / "adapters", root / "kraken_proto")
    frames = [
        f
        for f in exception.stack
        if any(Path(f.filename).resolve().is_relative_to(d) for d in library)
    ]
    assert frames
    exception.stack = traceback.StackSummary.from_list(frames)
    return "".join(exception.format())


def test_a_broken_response_after_the_token_leaves_no_token_in_locals() -> None:
    body = f'{{"error":[],"result":{{"token":"{TOKEN}","expires":900}}}}'.encode()
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunked += f"{len(body):x}\r\n".encode() + body + b"\r\nzz\r\n"
    credentials = Credentials(api_key="k", api_secret="A" * 86 + "==")
    request = build_token_request(credentials, nonce=1, otp="424242")
    with silent_server(chunked) as url, pytest.raises(HttpResponseError) as caught:
        call_rest_blocking(request, rest_url=url, timeout=5)
    text = _library_locals(caught.value)
    assert "payload = <" in text  # the request bytes (2FA code included) show redacted
    assert "424242" not in text
    assert TOKEN not in text
    assert TOKEN[:20] not in text


def test_an_oversized_body_leaves_no_bytes_in_locals() -> None:
    from kraken_proto.adapters.transport.http import ResponseReader

    reader = ResponseReader(max_body_size=10)
    with pytest.raises(HttpResponseError) as caught:
        reader.receive(b"HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n" + TOKEN.encode())
    assert TOKEN[:20] not in _library_locals(caught.value)


def test_receive_treats_empty_as_eof() -> None:
    from kraken_proto.adapters.transport.http import ResponseReader

    reader = ResponseReader()
    with pytest.raises(HttpResponseError, match="no status line"):
        reader.receive(b"")
    done = ResponseReader()
    response = done.receive(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    assert response is not None
    assert done.receive(b"more") is response


@pytest.mark.parametrize("adapter", ["blocking", "trio"])
def test_fetch_token_errors_leave_no_token_in_locals(adapter: str) -> None:
    from kraken_proto.adapters.clients.blocking_client import fetch_token
    from kraken_proto.adapters.clients.trio_client import fetch_token_trio
    from kraken_proto.rest import MalformedTokenResponseError

    body = f'{{"error":[],"result":{{"token":"{TOKEN}","expires":0}}}}'.encode()
    reply = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    credentials = Credentials(api_key="k", api_secret="A" * 86 + "==")

    def fetch(url: str) -> object:
        if adapter == "blocking":
            return fetch_token(credentials, rest_url=url, nonces=NonceSource(), timeout=5)
        return trio.run(lambda: fetch_token_trio(credentials, rest_url=url, nonces=NonceSource()))

    with silent_server(reply) as url, pytest.raises(MalformedTokenResponseError) as caught:
        fetch(url)
    text = _library_locals(caught.value)
    assert TOKEN not in text
    assert TOKEN[:20] not in text
    assert "A" * 40 not in text  # nor the secret
