"""One private REST call over HTTP/1.1: send a ``RestRequest``, return status and body.

Thin by design: the core builds and signs the request (``build_*_request``), paces it
(``RestCallCounter``) and parses the answer (``parse_*_response``); these functions only move
the bytes, one request per connection (``Connection: close``)::

    request = build_open_orders_request(credentials, nonce=nonces.next(time.time()))
    response = call_rest_blocking(request, rest_url="https://api.kraken.com")
    result = parse_open_orders_response(response.status, response.body)

All three raise ``OSError`` (messages naming the URL) for network failures, ``TimeoutError`` when
the whole exchange (connect, TLS, write, read) takes longer than ``timeout`` seconds, and
``HttpResponseError`` for bytes that are not a valid HTTP/1.1 response.
"""

from __future__ import annotations

import asyncio
import math
import socket
import ssl
import time

import trio
from kraken_proto import LocalProtocolError
from kraken_proto.rest import RestRequest

from ._endpoint import Endpoint, parse_endpoint
from ._net import open_asyncio_stream, open_socket, open_trio_stream
from .http import HttpResponse, ResponseReader, encode_request

__all__ = ["MAX_REST_BODY_SIZE", "call_rest_asyncio", "call_rest_blocking", "call_rest_trio"]

MAX_REST_BODY_SIZE = 64 << 20
"""Default cap on a REST response body: room for an account with many thousands of open
orders (about 700 bytes each) while bounding what a hostile server can make us hold."""
_READ_SIZE = 65536


def _endpoint(rest_url: str, timeout: float) -> Endpoint:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise LocalProtocolError(f"timeout: must be a positive number of seconds, got {timeout!r}")
    if math.isinf(timeout):
        raise LocalProtocolError("timeout: must be finite")
    return parse_endpoint(rest_url, schemes=("http", "https"))


class _Wire(bytes):
    """The request's bytes (``API-Sign``, perhaps a 2FA code): redacted in any ``repr``."""

    def __repr__(self) -> str:
        return f"<{len(self)} request bytes>"


def _timed_out(endpoint: Endpoint, request: RestRequest, timeout: float) -> TimeoutError:
    # Names the call (its path): the session logs this as the reason of a failed call.
    return TimeoutError(
        f"{endpoint.url}{request.path}: REST call did not complete within {timeout:g} s"
    )


def _exchange_blocking(
    sock: socket.socket, payload: bytes, reader: ResponseReader, deadline: float
) -> HttpResponse:
    sock.settimeout(max(deadline - time.monotonic(), 1e-3))
    sock.sendall(payload)
    while True:
        sock.settimeout(max(deadline - time.monotonic(), 1e-3))
        response = reader.receive(sock.recv(_READ_SIZE))  # no local keeps the bytes
        if response is not None:
            return response


def call_rest_blocking(
    request: RestRequest,
    *,
    rest_url: str,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 10.0,
    max_body_size: int = MAX_REST_BODY_SIZE,
) -> HttpResponse:
    """POST ``request`` to ``rest_url`` (``https://api.kraken.com`` or a simulator's
    ``http://127.0.0.1:PORT``) and return the complete response; the whole call, connect
    included, must finish within ``timeout`` seconds."""
    endpoint = _endpoint(rest_url, timeout)
    payload = _Wire(encode_request(request, host=endpoint.host_header))
    deadline = time.monotonic() + timeout
    reader = ResponseReader(method=request.method, max_body_size=max_body_size)
    try:
        with open_socket(endpoint, ssl_context, timeout) as sock:
            return _exchange_blocking(sock, payload, reader, deadline)
    except TimeoutError:
        raise _timed_out(endpoint, request, timeout) from None


async def _exchange_trio(
    stream: trio.abc.Stream, payload: bytes, reader: ResponseReader
) -> HttpResponse:
    await stream.send_all(payload)
    while True:
        response = reader.receive(bytes(await stream.receive_some(_READ_SIZE)))
        if response is not None:
            return response


async def call_rest_trio(
    request: RestRequest,
    *,
    rest_url: str,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 10.0,
    max_body_size: int = MAX_REST_BODY_SIZE,
) -> HttpResponse:
    """``call_rest_blocking`` for trio: the same arguments, result and errors (a timeout is
    ``TimeoutError`` here too, not ``trio.TooSlowError``)."""
    endpoint = _endpoint(rest_url, timeout)
    payload = _Wire(encode_request(request, host=endpoint.host_header))
    reader = ResponseReader(method=request.method, max_body_size=max_body_size)
    with trio.move_on_after(timeout) as scope:
        stream = await open_trio_stream(endpoint, ssl_context)
        async with stream:
            return await _exchange_trio(stream, payload, reader)
    assert scope.cancelled_caught  # the block returns unless the deadline cancelled it
    raise _timed_out(endpoint, request, timeout)


async def call_rest_asyncio(
    request: RestRequest,
    *,
    rest_url: str,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 10.0,
    max_body_size: int = MAX_REST_BODY_SIZE,
) -> HttpResponse:
    """``call_rest_blocking`` for asyncio: the same arguments, result and errors."""
    endpoint = _endpoint(rest_url, timeout)
    payload = _Wire(encode_request(request, host=endpoint.host_header))
    reader = ResponseReader(method=request.method, max_body_size=max_body_size)
    try:
        async with asyncio.timeout(timeout):
            stream, writer = await open_asyncio_stream(endpoint, ssl_context)
            try:
                writer.write(payload)
                await writer.drain()
                while True:
                    response = reader.receive(await stream.read(_READ_SIZE))
                    if response is not None:
                        return response
            finally:
                writer.transport.abort()  # one request per connection: nothing to say goodbye to
    except TimeoutError:
        raise _timed_out(endpoint, request, timeout) from None
