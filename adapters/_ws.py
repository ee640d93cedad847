"""A sans-IO WebSocket client session over wsproto, shared by the blocking and trio adapters.

It turns bytes from the network into complete text messages and text messages into bytes,
answers WebSocket pings, and tracks the close handshake. Both adapters only move its bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import RemoteProtocolError as WsprotoRemoteError

__all__ = [
    "MAX_MESSAGE_SIZE",
    "Endpoint",
    "HandshakeError",
    "WebSocketClosed",
    "WebSocketSession",
    "parse_endpoint",
]

MAX_MESSAGE_SIZE = 16 << 20
"""Default cap, in characters, on one incoming text message. Kraken's largest frames (an
openOrders snapshot of a full account) are well under 1 MiB; the cap bounds what a hostile
server can make the client buffer."""


class HandshakeError(ConnectionError):
    """The server refused the WebSocket upgrade."""


class WebSocketClosed(ConnectionError):
    """The WebSocket is closed; ``code`` and ``reason`` say how, when known."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(f"WebSocket closed (code={code}, reason={reason!r})")
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where to connect: parsed from a ``ws://``, ``wss://``, ``http://`` or ``https://`` URL."""

    host: str
    port: int
    secure: bool
    target: str

    @property
    def host_header(self) -> str:
        default = 443 if self.secure else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def parse_endpoint(url: str) -> Endpoint:
    """Parse ``url``; raise ``ValueError`` for a scheme other than ws, wss, http or https."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss", "http", "https") or not parts.hostname:
        raise ValueError(f"unsupported URL {url!r}: expected ws://, wss://, http:// or https://")
    secure = parts.scheme in ("wss", "https")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Endpoint(parts.hostname, parts.port or (443 if secure else 80), secure, target)


class WebSocketSession:
    """Client side of one WebSocket connection, without I/O.

    Call :meth:`handshake` and send its bytes, then feed every received chunk to
    :meth:`receive_data`, which returns the complete text messages (and queues any automatic
    replies such as pongs, to be sent from :meth:`bytes_to_send`). A text message longer than
    ``max_message_size`` characters closes the WebSocket with code 1009 (message too big).
    """

    def __init__(self, endpoint: Endpoint, *, max_message_size: int = MAX_MESSAGE_SIZE) -> None:
        self._endpoint = endpoint
        self._max_message_size = max_message_size
        self._text_size = 0
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._open = False
        self._closed: WebSocketClosed | None = None
        self._pending = b""
        self._text_parts: list[str] = []

    @property
    def is_open(self) -> bool:
        """True once the server accepted the upgrade and until the WebSocket closes."""
        return self._open and self._closed is None

    def handshake(self) -> bytes:
        """The upgrade request bytes."""
        return self._ws.send(Request(host=self._endpoint.host_header, target=self._endpoint.target))

    def receive_data(self, data: bytes | None) -> list[str]:
        """Feed received bytes (``None`` at EOF; ``b""`` is ignored); return the complete text
        messages they hold.

        Raises ``HandshakeError`` when the upgrade is refused. After the peer closes, later
        calls raise ``WebSocketClosed``; messages that arrived before the close are returned.
        """
        if self._closed is not None:
            raise self._closed
        if data == b"":
            return []  # no bytes is not EOF (wsproto's handshake would read it as EOF)
        try:
            self._ws.receive_data(data)
        except WsprotoRemoteError as error:
            # wsproto raises this for an answer that is not a valid upgrade (bad HTTP, missing
            # or wrong Upgrade/Connection/Accept headers): the handshake failed.
            raise HandshakeError(f"WebSocket upgrade refused: {error}"[:200]) from None
        messages: list[str] = []
        for event in self._ws.events():
            if isinstance(event, AcceptConnection):
                self._open = True
            elif isinstance(event, RejectConnection | RejectData):
                raise HandshakeError(f"WebSocket upgrade refused: {event!r}"[:200])
            elif isinstance(event, TextMessage):
                self._text_size += len(event.data)
                if self._text_size > self._max_message_size:
                    self._text_parts.clear()
                    reason = f"message over {self._max_message_size} characters"
                    self._closed = WebSocketClosed(1009, reason)
                    if self._ws.state.name == "OPEN":
                        self._pending += self._ws.send(CloseConnection(code=1009, reason=reason))
                    break
                self._text_parts.append(event.data)
                if event.message_finished:
                    messages.append("".join(self._text_parts))
                    self._text_parts.clear()
                    self._text_size = 0
            elif isinstance(event, Ping):
                self._pending += self._ws.send(event.response())
            elif isinstance(event, CloseConnection):
                self._closed = WebSocketClosed(event.code, event.reason or "")
                if self._ws.state.name == "REMOTE_CLOSING":
                    self._pending += self._ws.send(event.response())
            elif isinstance(event, BytesMessage):  # pragma: no branch - nothing else is expected
                # Kraken sends text only; a binary frame is ignored rather than guessed at.
                continue
        if data is None and self._closed is None:
            self._closed = WebSocketClosed(None, "connection lost")
        return messages

    def send_text(self, text: str) -> bytes:
        """The bytes of one text message; raises ``WebSocketClosed`` when closed."""
        if self._closed is not None:
            raise self._closed
        return self._ws.send(TextMessage(data=text))

    def close(self, code: int = 1000, reason: str = "") -> bytes:
        """The bytes of a close frame (empty if the WebSocket is already closed)."""
        if self._closed is not None or not self._open:
            self._closed = self._closed or WebSocketClosed(code, reason)
            return b""
        self._closed = WebSocketClosed(code, reason)
        return self._ws.send(CloseConnection(code=code, reason=reason))

    def bytes_to_send(self) -> bytes:
        """Automatic replies (pongs, close acknowledgements) waiting to be written."""
        pending, self._pending = self._pending, b""
        return pending
