"""Blocking adapter: the core ``Connection`` over a plain (optionally TLS) socket.

Thin by design: it reads and writes bytes and waits until the core's next deadline. Every
protocol decision (pings, token lifetime, request timeouts, sequence gaps) is the core's.

    with BlockingClient(ws_url) as client:
        client.provide_token(fetch_token(credentials, rest_url=rest_url).token)
        client.send(Subscribe(name="openOrders"))
        while True:
            for event in client.next_events(timeout=1.0): ...
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from collections.abc import Callable
from types import TracebackType

from kraken_proto import Credentials, Event, Request
from kraken_proto.adapters.transport._endpoint import parse_ws_endpoint
from kraken_proto.adapters.transport._net import naming_url, open_socket, timed_out
from kraken_proto.adapters.transport._ws import (
    DEFAULT_MAX_MESSAGE_SIZE,
    HandshakeError,
    WebSocketClosed,
)
from kraken_proto.adapters.transport.rest_call import call_rest_blocking
from kraken_proto.adapters.transport.tokens import (
    KRAKEN_REST_URL,
    KRAKEN_WS_URL,
    next_token_request,
)
from kraken_proto.rest import NonceSource, WebSocketToken, parse_token_response
from kraken_proto.session import V2Link
from kraken_proto.v1 import Connection, ConnectionConfig

from ._driver import CoreDriver

__all__ = ["BlockingClient", "fetch_token"]

_READ_SIZE = 65536


def fetch_token(
    credentials: Credentials,
    *,
    rest_url: str = KRAKEN_REST_URL,
    nonces: NonceSource | None = None,
    otp: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 10.0,
) -> WebSocketToken:
    """Call ``GetWebSocketsToken`` and return the token.

    Raises the ``TokenRequestError`` family for Kraken's answers, ``HttpResponseError`` for a
    broken HTTP response and ``OSError`` for network failures.
    """
    request = next_token_request(credentials, nonces=nonces, otp=otp, now=time.time())
    # One transport for every private call; it keeps the token out of its frames' locals.
    response = call_rest_blocking(
        request, rest_url=rest_url, ssl_context=ssl_context, timeout=timeout
    )
    return parse_token_response(response.status, response.body)


class BlockingClient:
    """One WebSocket connection to Kraken's private v1 endpoint, driven from one thread.

    ``connect()`` (or entering the ``with`` block) opens it; ``send`` queues a request and
    returns its reqid; ``next_events`` blocks until events arrive or ``timeout`` passes, serving
    the core's timers while it waits. Not thread-safe: use one client per thread.
    ``connect_timeout`` bounds the whole opening handshake (TCP, TLS, upgrade) as one deadline.
    ``write_timeout`` bounds each write; a failed write ends the connection (its pending
    requests come back as ``RequestLost``) rather than leaving half a frame on the wire.
    ``max_message_size`` caps one incoming message (``MessageTooLarge`` beyond it).
    Only ``ws://`` and ``wss://`` URLs are accepted (``ValueError`` otherwise).
    ``protocol="v2"`` speaks v2 to a ``/v2`` URL with the same v1 requests and events
    (through a ``V2Link``).
    """

    def __init__(
        self,
        url: str = KRAKEN_WS_URL,
        *,
        config: ConnectionConfig | None = None,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout: float = 10.0,
        write_timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        protocol: str = "v1",
    ) -> None:
        self._endpoint = parse_ws_endpoint(url)
        self._driver = CoreDriver(
            self._endpoint, config, max_message_size=max_message_size, protocol=protocol
        )
        self._ssl_context = ssl_context
        self._connect_timeout = connect_timeout
        self._write_timeout = write_timeout
        self._clock = clock
        self._sock: socket.socket | None = None

    def __repr__(self) -> str:
        state = "open" if self._sock is not None else "not connected"
        return f"<BlockingClient {self._endpoint.host}:{self._endpoint.port} {state}>"

    @property
    def connection(self) -> Connection | V2Link:
        """The core ``Connection`` (``V2Link`` with ``protocol="v2"``; read its state, drive it
        only through this client)."""
        return self._driver.connection

    def connect(self) -> None:
        """Open the socket and complete the WebSocket handshake, all within ``connect_timeout``.

        Raises ``HandshakeTimeout`` when the deadline passes, ``HandshakeError`` when the
        upgrade is refused or malformed, and ``OSError`` (naming the URL) when the connection
        cannot be made.
        """
        timeout = self._connect_timeout
        deadline = time.monotonic() + timeout
        sock = open_socket(self._endpoint, self._ssl_context, timeout)
        try:
            self._sock = sock
            sock.settimeout(max(deadline - time.monotonic(), 1e-3))
            sock.sendall(self._driver.handshake())
            while not self._driver.websocket.accepted:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise timed_out(self._endpoint.url, timeout)
                sock.settimeout(remaining)
                data = sock.recv(_READ_SIZE)
                self._write(self._driver.on_bytes(data or None, self._clock()))
        except TimeoutError:
            self._abandon()
            raise timed_out(self._endpoint.url, timeout) from None
        except HandshakeError:
            self._abandon()
            raise
        except OSError as exc:
            self._abandon()
            raise naming_url(exc, self._endpoint.url) from exc
        except BaseException:
            self._abandon()
            raise

    def provide_token(self, token: str | WebSocketToken) -> None:
        """Give the core the session token it injects into private requests."""
        value = token.token if isinstance(token, WebSocketToken) else token
        self._write(self._driver.provide_token(value, self._clock()))

    def send(self, request: Request) -> int:
        """Validate and send ``request``; return its reqid. ``LocalProtocolError`` sends nothing."""
        reqid, output = self._driver.send(request, self._clock())
        self._write(output)
        return reqid

    def next_events(self, timeout: float | None = None) -> list[Event]:
        """Block until the core has events or ``timeout`` seconds pass (``[]`` then).

        Once the connection has ended and its last events (e.g. ``RequestLost``) were returned,
        raises ``RemoteProtocolError`` if the server sent an invalid frame (the connection was
        closed with code 1002), else ``WebSocketClosed``.
        """
        sock = self._require_socket()
        give_up = None if timeout is None else self._clock() + timeout
        while True:
            events = self._driver.events()
            if events:
                return events
            self._driver.check_open()
            now = self._clock()
            waits = [w for w in (self._driver.wait_time(now),) if w is not None]
            if give_up is not None:
                if now >= give_up:
                    return []
                waits.append(give_up - now)
            wait = min(waits) if waits else None
            if wait is not None and wait <= 0:
                self._write(self._driver.on_timeout(now))
                continue
            sock.settimeout(wait)
            try:
                data = sock.recv(_READ_SIZE)
            except TimeoutError:
                self._write(self._driver.on_timeout(self._clock()))
                continue
            except OSError:
                data = b""
            self._write(self._driver.on_bytes(data or None, self._clock()))

    def close(self) -> None:
        """Close gracefully; the core may send a last frame (disarming the dead man's switch)."""
        if self._sock is None:
            return
        try:
            self._write(self._driver.close(self._clock()))
        finally:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> BlockingClient:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _abandon(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _require_socket(self) -> socket.socket:
        if self._sock is None:
            raise WebSocketClosed(None, "not connected: call connect() first")
        return self._sock

    def _write(self, data: bytes) -> None:
        if not data or self._sock is None:
            return
        # Reads shorten the socket timeout to the core's next deadline; a write must not
        # inherit that, or a slow send could stop halfway through a frame.
        self._sock.settimeout(self._write_timeout)
        try:
            self._sock.sendall(data)
        except OSError:
            # A frame may be half-written: the stream is unusable. Shut it down so the next
            # read reports the loss (pending requests end as RequestLost) instead of hiding it.
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
