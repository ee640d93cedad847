"""trio adapter: the core ``Connection`` over a trio stream.

Thin by design: a background task moves received bytes into the core; ``next_events`` waits
for events while serving the core's timers. Time is ``trio.current_time()``, so tests can run
it under ``trio.testing.MockClock``.

    async with open_trio_client(ws_url) as client:
        await client.provide_token((await fetch_token_trio(credentials, rest_url=url)).token)
        await client.send(Subscribe(name="openOrders"))
        for event in await client.next_events(timeout=1.0): ...
"""

from __future__ import annotations

import contextlib
import math
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio
from kraken_proto import Credentials, Event, Request
from kraken_proto.adapters.transport._endpoint import Endpoint, parse_ws_endpoint
from kraken_proto.adapters.transport._net import open_trio_stream, timed_out
from kraken_proto.adapters.transport._ws import DEFAULT_MAX_MESSAGE_SIZE
from kraken_proto.adapters.transport.rest_call import call_rest_trio
from kraken_proto.adapters.transport.tokens import (
    KRAKEN_REST_URL,
    KRAKEN_WS_URL,
    next_token_request,
)
from kraken_proto.rest import NonceSource, WebSocketToken, parse_token_response
from kraken_proto.session import V2Link
from kraken_proto.v1 import Connection, ConnectionConfig

from ._driver import CoreDriver

__all__ = ["TrioClient", "fetch_token_trio", "open_trio_client"]

_READ_SIZE = 65536


async def fetch_token_trio(
    credentials: Credentials,
    *,
    rest_url: str = KRAKEN_REST_URL,
    nonces: NonceSource | None = None,
    otp: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> WebSocketToken:
    """Call ``GetWebSocketsToken`` and return the token (errors as in the blocking version)."""
    request = next_token_request(credentials, nonces=nonces, otp=otp, now=time.time())
    # One transport for every private call (10 s for the whole call); it keeps the token out
    # of its frames' locals.
    response = await call_rest_trio(request, rest_url=rest_url, ssl_context=ssl_context)
    return parse_token_response(response.status, response.body)


class TrioClient:
    """One WebSocket connection to Kraken's private v1 endpoint, for trio programs.

    Create it with :func:`open_trio_client`. ``send`` may be called from any task;
    ``next_events`` should be called from one task at a time.
    """

    def __init__(
        self, stream: trio.abc.Stream, driver: CoreDriver, *, write_timeout: float = 10.0
    ) -> None:
        self._stream = stream
        self._driver = driver
        self._write_timeout = write_timeout
        self._send_lock = trio.Lock()
        self._received = trio.Event()

    def __repr__(self) -> str:
        return f"<TrioClient open={self._driver.websocket.is_open}>"

    @property
    def connection(self) -> Connection | V2Link:
        """The core ``Connection`` (read its state; drive it only through this client)."""
        return self._driver.connection

    async def provide_token(self, token: str | WebSocketToken) -> None:
        """Give the core the session token it injects into private requests."""
        value = token.token if isinstance(token, WebSocketToken) else token
        await self._write(self._driver.provide_token(value, trio.current_time()))

    async def send(self, request: Request) -> int:
        """Validate and send ``request``; return its reqid. ``LocalProtocolError`` sends nothing."""
        reqid, output = self._driver.send(request, trio.current_time())
        await self._write(output)
        return reqid

    async def next_events(self, timeout: float | None = None) -> list[Event]:
        """Wait until the core has events or ``timeout`` seconds pass (``[]`` then).

        Once the connection has ended and its last events (e.g. ``RequestLost``) were returned,
        raises ``RemoteProtocolError`` if the server sent an invalid frame (the connection was
        closed with code 1002), else ``WebSocketClosed``.
        """
        give_up = None if timeout is None else trio.current_time() + timeout
        while True:
            events = self._driver.events()
            if events:
                return events
            self._driver.check_open()
            now = trio.current_time()
            if give_up is not None and now >= give_up:
                return []
            wake = self._driver.wait_time(now)
            deadline = math.inf if wake is None else now + wake
            if give_up is not None:
                deadline = min(deadline, give_up)
            self._received = trio.Event()
            with trio.move_on_at(deadline) as waiting:
                await self._received.wait()
            if waiting.cancelled_caught:
                await self._write(self._driver.on_timeout(trio.current_time()))

    async def aclose(self) -> None:
        """Close gracefully; the core may send a last frame (disarming the dead man's switch)."""
        with trio.move_on_after(5):
            await self._write(self._driver.close(trio.current_time()))
        await trio.aclose_forcefully(self._stream)

    async def _reader(self) -> None:
        while self._driver.websocket.is_open:
            try:
                data = bytes(await self._stream.receive_some(_READ_SIZE))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            try:
                output = self._driver.on_bytes(data or None, trio.current_time())
            except ConnectionError:
                output = b""
            await self._write(output)
            self._received.set()

    async def _write(self, data: bytes) -> None:
        if not data:
            return
        # Once the core has queued a frame it counts it as sent, so it is written whole or
        # the stream is given up: the caller's cancellation cannot stop it (the shield covers
        # the lock too), and a peer that stops reading cannot hold it forever (write_timeout).
        with trio.CancelScope(shield=True):
            async with self._send_lock:
                written = False
                with trio.move_on_after(self._write_timeout):
                    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                        await self._stream.send_all(data)
                        written = True
                if not written:
                    # The reader then sees a closed stream and reports connection_lost, so
                    # pending requests end as RequestLost instead of looking sent.
                    await trio.aclose_forcefully(self._stream)


async def _handshake(
    endpoint: Endpoint, driver: CoreDriver, ssl_context: ssl.SSLContext | None
) -> trio.abc.Stream:
    stream = await open_trio_stream(endpoint, ssl_context)
    try:
        await stream.send_all(driver.handshake())
        while not driver.websocket.accepted:
            data = bytes(await stream.receive_some(_READ_SIZE))
            await stream.send_all(driver.on_bytes(data or None, trio.current_time()))
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    return stream


@asynccontextmanager
async def open_trio_client(
    url: str = KRAKEN_WS_URL,
    *,
    config: ConnectionConfig | None = None,
    ssl_context: ssl.SSLContext | None = None,
    connect_timeout: float = 10.0,
    write_timeout: float = 10.0,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    protocol: str = "v1",
) -> AsyncIterator[TrioClient]:
    """Connect, complete the WebSocket handshake, and yield a :class:`TrioClient`.

    ``connect_timeout`` bounds the whole opening handshake (TCP, TLS, upgrade) as one
    deadline: ``HandshakeTimeout`` after it; ``HandshakeError`` when the upgrade is refused or
    malformed; ``OSError`` naming the URL when the connection cannot be made.
    ``write_timeout`` bounds each write; a failed write ends the connection (its pending
    requests come back as ``RequestLost``) rather than leaving half a frame on the wire.
    ``max_message_size`` caps one incoming message (``MessageTooLarge`` beyond it).
    Only ``ws://`` and ``wss://`` URLs are accepted (``ValueError`` otherwise).
    ``protocol="v2"``: v2 to a ``/v2`` URL, with the same v1 requests and events (``V2Link``).
    """
    endpoint = parse_ws_endpoint(url)
    driver = CoreDriver(endpoint, config, max_message_size=max_message_size, protocol=protocol)
    stream: trio.abc.Stream | None = None
    with trio.move_on_after(connect_timeout):
        try:
            stream = await _handshake(endpoint, driver, ssl_context)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise ConnectionError(
                f"connection lost during the handshake (connecting to {url})"
            ) from exc
    if stream is None:
        raise timed_out(url, connect_timeout)
    client = TrioClient(stream, driver, write_timeout=write_timeout)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(client._reader)
        try:
            yield client
        finally:
            await client.aclose()
            nursery.cancel_scope.cancel()
