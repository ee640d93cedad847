"""Glue between the pure ``Connection`` and a ``WebSocketSession``, still without I/O.

The blocking and trio adapters share this so that each of them is only a loop that reads
bytes, writes bytes and sleeps until :meth:`CoreDriver.wait_time`. All protocol policy
(heartbeats, token lifetime, timeouts, sequence gaps) stays in the core ``Connection``.
"""

from __future__ import annotations

from kraken_proto import Event, RemoteProtocolError, Request
from kraken_proto.adapters.transport._endpoint import Endpoint
from kraken_proto.adapters.transport._ws import (
    DEFAULT_MAX_MESSAGE_SIZE,
    WebSocketClosed,
    WebSocketSession,
)
from kraken_proto.session import open_link
from kraken_proto.v1 import ConnectionConfig

__all__ = ["CoreDriver"]


class CoreDriver:
    """One core ``Connection`` over one ``WebSocketSession``.

    Every method takes ``now`` (the adapter's monotonic clock) and returns the bytes the
    adapter must write next (possibly ``b""``).
    """

    def __init__(
        self,
        endpoint: Endpoint,
        config: ConnectionConfig | None = None,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        protocol: str = "v1",
    ) -> None:
        # v2: a ``V2Link``, the same v1 requests and events over the v2 protocol.
        self.connection = open_link(protocol, config)
        self.websocket = WebSocketSession(endpoint, max_message_size=max_message_size)
        self._made = False
        self.failure: RemoteProtocolError | None = None
        """The ``RemoteProtocolError`` that ended the connection, if one did."""

    def handshake(self) -> bytes:
        """The WebSocket upgrade request."""
        return self.websocket.handshake()

    def on_bytes(self, data: bytes | None, now: float) -> bytes:
        """Feed bytes from the network (``None`` at EOF) to the WebSocket and the core."""
        try:
            messages = self.websocket.receive_data(data)
        except ConnectionError:
            self.connection.connection_lost(now)
            raise
        # ``accepted``, not ``is_open``: an upgrade, a frame and a close can arrive in one read,
        # and the frame must still reach the core before it learns the connection is gone.
        if self.websocket.accepted and not self._made:
            self._made = True
            self.connection.connection_made(now)
        try:
            for text in messages:
                self.connection.receive_message(text, now)
        except RemoteProtocolError as exc:
            # The core is FAILED. Close with "protocol error" and end every pending request
            # as lost; the adapter raises ``failure`` once the events are delivered.
            self.failure = exc
            closing = self.websocket.bytes_to_send() + self.websocket.close(1002, "invalid frame")
            return closing + self._flush(now)
        return self._flush(now)

    def on_timeout(self, now: float) -> bytes:
        """Let the core act on its timers (pings, request timeouts, token expiry)."""
        self.connection.handle_timeout(now)
        return self._flush(now)

    def provide_token(self, token: str, now: float) -> bytes:
        """Hand a session token to the core; returns anything it queued in response."""
        self.connection.provide_token(token, now)
        return self._flush(now)

    def send(self, request: Request, now: float) -> tuple[int, bytes]:
        """Queue ``request`` in the core; return its reqid and the bytes to write."""
        reqid = self.connection.send(request, now)
        return reqid, self._flush(now)

    def close(self, now: float) -> bytes:
        """Close gracefully: the core's goodbye frames (if any), then the WebSocket close."""
        if self.websocket.is_open:
            self.connection.close(now)
        return self._flush(now)

    def events(self) -> list[Event]:
        """The events the core produced since the last call."""
        return self.connection.events_received()

    def check_open(self) -> None:
        """Raise why the connection ended, if it did: ``RemoteProtocolError``, or
        ``WebSocketClosed`` with the server's close code (``MessageTooLarge`` for an oversized
        message); adapters call this once the pending events are delivered."""
        if self.failure is not None:
            raise self.failure
        if not self.websocket.is_open:
            raise self.websocket.closed or WebSocketClosed(None, "connection closed")

    def wait_time(self, now: float) -> float | None:
        """Seconds until the core's next deadline (0 if due), or ``None`` when it has none."""
        deadline = self.connection.next_deadline()
        return None if deadline is None else max(0.0, deadline - now)

    def _flush(self, now: float) -> bytes:
        """Everything to write now. Closing is the core's decision (``should_close``, after
        ``close``, staleness or a failure); the driver carries it out here, once, for both
        adapters, and tells the core when the WebSocket is gone."""
        output = self.websocket.bytes_to_send()
        if self.websocket.is_open:
            output += b"".join(
                self.websocket.send_text(text) for text in self.connection.data_to_send()
            )
            if self.connection.should_close:
                output += self.websocket.close()
        if not self.websocket.is_open and self._made:
            self.connection.connection_lost(now)
        return output
