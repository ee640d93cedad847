"""A sans-IO WebSocket client session over wsproto, shared by the blocking and trio adapters.

It turns bytes from the network into complete text messages and text messages into bytes,
answers WebSocket pings, and tracks the close handshake. Both adapters only move its bytes.
Hostile peers get bounded memory: a message (all its fragments together) larger than
``max_message_size`` closes the WebSocket with 1009 instead of growing a buffer forever.

Once the upgrade is done, the frames a server sends nearly always (whole text messages in one
unmasked frame, pings, pongs) are cut out of the bytes here, which costs a tenth of wsproto's
generic parser; at the first frame of any other kind (fragmented, binary, close, malformed)
the bytes from that frame on go to wsproto, whose verdicts (close codes, errors) stand, and
the fast path resumes once wsproto holds nothing half-read. Frames to the server (text,
pongs, closes) are masked and framed here too, so that while the fast path reads no wsproto
object is kept (about 1.7 KiB a connection): one is made when a frame needs it.
"""

from __future__ import annotations

import codecs
import os
from http import HTTPStatus

from wsproto import ConnectionType, WSConnection
from wsproto.connection import Connection
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
from wsproto.utilities import LocalProtocolError as WsLocalProtocolError
from wsproto.utilities import RemoteProtocolError as WsRemoteProtocolError

from ._endpoint import Endpoint

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "HandshakeError",
    "HandshakeTimeout",
    "MessageTooLarge",
    "WebSocketClosed",
    "WebSocketSession",
]

# A 5,000-order openOrders snapshot measures 2.95 MB of compact JSON (590 bytes per full order
# record, benchmarks/kraken_frames.py shapes). 16 MiB leaves a margin of more than 5x, i.e.
# room for about 28,000 open orders, while keeping a hostile stream's buffer bounded. The cap
# counts the decoded characters of a message (text and binary alike; for Kraken's ASCII JSON a
# character is a byte), over all its fragments.
DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024

# The status line of a refused upgrade is kept (up to this much) to name its reason phrase.
_STATUS_LINE_LIMIT = 256

# The first header byte of the frames the fast path takes: FIN set, no RSV bit, and the
# opcode of a text message, a ping or a pong.
_FAST_TEXT, _FAST_PING, _FAST_PONG = 0x81, 0x89, 0x8A
_TEXT, _CLOSE, _PONG = 0x1, 0x8, 0xA


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """One final frame as a client sends it: masked with a fresh random key (RFC 6455 5.3)."""
    length = len(payload)
    if length < 126:
        head = bytes((0x80 | opcode, 0x80 | length))
    elif length < 65536:
        head = bytes((0x80 | opcode, 0xFE)) + length.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0xFF)) + length.to_bytes(8, "big")
    key = os.urandom(4)
    if not length:
        return head + key
    # The payload XOR the key repeated: one big-integer XOR instead of a loop over bytes.
    mask = int.from_bytes((key * (length // 4 + 1))[:length], "big")
    return head + key + (int.from_bytes(payload, "big") ^ mask).to_bytes(length, "big")


def _close_payload(code: int, reason: str) -> bytes:
    """A close frame's payload, as wsproto makes it (the reason cut to fit 125 bytes)."""
    if code in (1005, 1006, 1015):  # never sent on the wire (RFC 6455 7.4.1)
        code = 1000
    encoded = reason.encode()[:123].decode(errors="ignore").encode()
    return code.to_bytes(2, "big") + encoded


class HandshakeError(ConnectionError):
    """The WebSocket opening handshake failed: refused, malformed, or cut short.

    For a refused upgrade ``status_code`` and ``reason`` hold the server's HTTP answer.
    """

    def __init__(self, message: str, *, status_code: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.reason = reason


class HandshakeTimeout(HandshakeError, TimeoutError):
    """The opening handshake (TCP connect, TLS and the upgrade, as a whole) took longer than
    ``connect_timeout``."""


class WebSocketClosed(ConnectionError):
    """The WebSocket is closed; ``code`` and ``reason`` say how, when known.

    ``code`` is the close code the server sent (1006 when the connection was lost without a
    close frame), or the code this side closed with.
    """

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(f"WebSocket closed (code={code}, reason={reason!r})")
        self.code = code
        self.reason = reason


class MessageTooLarge(WebSocketClosed):
    """An incoming message exceeded ``max_message_size``; the WebSocket was closed with 1009."""

    def __init__(self, limit: int) -> None:
        super().__init__(1009, "message too big")
        self.limit = limit
        self.args = (
            f"incoming WebSocket message larger than max_message_size={limit} characters; "
            "the connection was closed with 1009 (raise max_message_size if this is expected)",
        )


class WebSocketSession:
    """Client side of one WebSocket connection, without I/O.

    Call :meth:`handshake` and send its bytes, then feed every received chunk to
    :meth:`receive_data`, which returns the complete text messages (and queues any automatic
    replies such as pongs or a close acknowledgement, to be sent from :meth:`bytes_to_send`).
    """

    __slots__ = (
        "_accepted",
        "_closed",
        "_endpoint",
        "_fast",
        "_held",
        "_max_message_size",
        "_part_size",
        "_parts",
        "_pending",
        "_status_line",
        "_utf8",
        "_ws",
    )

    def __init__(
        self, endpoint: Endpoint, *, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    ) -> None:
        self._endpoint = endpoint
        self._max_message_size = max_message_size
        # The upgrade's WSConnection, then (once accepted) only its WebSocket Connection (the
        # handshake's h11 state is dropped), then none while the fast path reads.
        self._ws: WSConnection | Connection | None = WSConnection(ConnectionType.CLIENT)
        self._accepted = False
        self._closed: WebSocketClosed | None = None
        self._pending = b""
        self._parts: list[str] = []
        self._part_size = 0
        self._status_line = b""
        self._fast = False  # frames are cut here, not by wsproto (see the module docstring)
        self._held: bytes | bytearray = b""  # the fast path's bytes of an incomplete frame
        # The UTF-8 check of the held text frame's payload so far (decoder, bytes checked):
        # wsproto checks a text frame as it arrives, so the fast path does too (see _valid).
        self._utf8: tuple[codecs.IncrementalDecoder, int] | None = None

    @property
    def accepted(self) -> bool:
        """True once the server accepted the upgrade (even if it closed right after)."""
        return self._accepted

    @property
    def is_open(self) -> bool:
        """True once the server accepted the upgrade and until the WebSocket closes."""
        return self._accepted and self._closed is None

    @property
    def closed(self) -> WebSocketClosed | None:
        """Why the WebSocket closed (with the server's code), or ``None`` while it is not."""
        return self._closed

    def handshake(self) -> bytes:
        """The upgrade request bytes."""
        assert isinstance(self._ws, WSConnection)  # before the upgrade
        return self._ws.send(Request(host=self._endpoint.host_header, target=self._endpoint.target))

    def receive_data(self, data: bytes | None) -> list[str]:
        """Feed received bytes (``None`` at EOF; ``b""`` is ignored); return the complete text
        messages they hold.

        Raises ``HandshakeError`` when the upgrade is refused, malformed (e.g. a 101 without
        ``Sec-WebSocket-Accept``) or cut short by EOF. After the WebSocket closes (the peer's
        close, EOF, or a message over ``max_message_size``), :attr:`closed` says why and later
        calls raise it; messages that arrived before the close are returned.
        """
        if self._closed is not None:
            raise self._closed
        if data == b"":
            return []  # no bytes is not EOF (wsproto's handshake would read it as EOF)
        if data is None and not self._accepted:
            raise HandshakeError(f"{self._name}: connection closed during the WebSocket handshake")
        if self._fast and data is not None:
            return self._receive_fast(data)
        if not self._accepted and data and len(self._status_line) < _STATUS_LINE_LIMIT:
            self._status_line += data[: _STATUS_LINE_LIMIT - len(self._status_line)]
        return self._receive_wsproto(data, [])

    def _receive_wsproto(self, data: bytes | None, messages: list[str]) -> list[str]:
        """``receive_data`` through wsproto; ``messages``: the ones already cut from the same
        read by the fast path, returned in front."""
        if self._ws is None:  # the fast path kept none: wsproto starts at a frame boundary
            self._ws = Connection(ConnectionType.CLIENT)
        ws = self._ws
        try:
            ws.receive_data(data)
            for event in ws.events():
                if type(event) is TextMessage and event.message_finished and not self._parts:
                    # A whole message in one frame (Kraken's usual): no parts to join.
                    if self._part_size + len(event.data) > self._max_message_size:
                        self._on_message_part(event, messages)
                        return messages  # closed: over the size limit
                    messages.append(event.data)
                elif isinstance(event, AcceptConnection):
                    self._accepted = True
                elif isinstance(event, RejectConnection | RejectData):
                    raise self._refused(event)
                elif isinstance(event, TextMessage | BytesMessage):
                    if not self._on_message_part(event, messages):
                        return messages  # closed: over the size limit
                elif isinstance(event, Ping):
                    self._pending += _client_frame(_PONG, event.payload)
                elif isinstance(event, CloseConnection):  # pragma: no branch - nothing else
                    self._on_close(ws, event)
            if self._accepted and isinstance(ws, WSConnection):
                assert ws.connection is not None  # accepted: wsproto made it
                self._ws = ws.connection
                self._status_line = b""  # only a refusal needs it
        except (WsRemoteProtocolError, WsLocalProtocolError) as exc:
            if self._accepted:  # pragma: no cover - wsproto reports frame errors as a close
                raise
            raise HandshakeError(
                f"{self._name}: invalid WebSocket upgrade response: {exc}"
            ) from None
        self._fast = self.is_open and self._wsproto_idle()
        if self._fast:
            self._ws = None
        return messages

    def _wsproto_idle(self) -> bool:
        """True when wsproto holds no byte of a frame and no part of a message: the next
        bytes start a frame, which the fast path may take."""
        ws = self._ws
        try:  # wsproto's internals: another wsproto version only keeps the fast path off
            if not isinstance(ws, Connection) or ws._events:
                return False
            proto = ws._proto
            decoder = proto._frame_decoder
            return (
                not decoder.buffer
                and decoder.header is None
                and proto._message_decoder.opcode is None
            )
        except AttributeError:  # pragma: no cover - wsproto 1.2/1.3 have these
            return False

    def _receive_fast(self, data: bytes) -> list[str]:
        """Cut whole text frames, pings and pongs out of ``data`` (after the bytes held from
        the last read); hand the rest to wsproto from the first frame of any other kind."""
        if self._held:
            held = self._held if isinstance(self._held, bytearray) else bytearray(self._held)
            held += data
            buf: bytes | bytearray = held
        else:
            buf = data
        messages: list[str] = []
        end = len(buf)
        at = 0
        while end - at >= 2:
            first, second = buf[at], buf[at + 1]
            if first != _FAST_TEXT and first != _FAST_PING and first != _FAST_PONG:
                break  # fragmented, binary, close, RSV bits, a bad opcode: wsproto's
            length = second  # a set mask bit (a masked server frame) makes it >= 128
            start = at + 2
            if length > 125:
                if first != _FAST_TEXT or length > 127:
                    break  # a long control frame, a masked frame: wsproto's errors
                if length == 126:
                    if end - at < 4:
                        return self._hold(buf, at, messages)
                    length = (buf[at + 2] << 8) | buf[at + 3]
                    start = at + 4
                    if length < 126:
                        break  # not the shortest length encoding: wsproto's error
                else:
                    if end - at < 10:
                        return self._hold(buf, at, messages)
                    length = int.from_bytes(buf[at + 2 : at + 10], "big")
                    start = at + 10
                    if length < 65536 or length >> 63:
                        break  # not the shortest encoding, or the top bit: wsproto's error
            if first == _FAST_TEXT and length > self._max_message_size:
                break  # over the cap in bytes: wsproto streams it and the cap decides
            stop = start + length
            if stop > end:  # a frame of at most the cap: waited for whole
                if first == _FAST_TEXT and not self._valid(buf, at, start, end):
                    break  # a byte that is not UTF-8 already: wsproto closes with 1007 now
                return self._hold(buf, at, messages)
            if first == _FAST_TEXT:
                try:
                    messages.append(buf[start:stop].decode())
                except UnicodeDecodeError:
                    break  # wsproto closes with 1007
            elif first == _FAST_PING:
                self._pending += _client_frame(_PONG, bytes(buf[start:stop]))
            at = stop
        else:
            return self._hold(buf, at, messages)
        self._held = b""
        self._utf8 = None
        self._fast = False
        return self._receive_wsproto(bytes(buf[at:]), messages)

    def _hold(self, buf: bytes | bytearray, at: int, messages: list[str]) -> list[str]:
        """Keep ``buf[at:]`` (the start of a frame) for the next read; return ``messages``."""
        # Held bytes grow in place while a long frame comes in, read by read.
        self._held = b"" if at == len(buf) else buf if at == 0 else buf[at:]
        if at:
            self._utf8 = None  # it checked a frame before this one
        return messages

    def _valid(self, buf: bytes | bytearray, at: int, start: int, end: int) -> bool:
        """False when the payload so far of the incomplete text frame at ``at`` (from
        ``start`` to ``end``) holds a byte that is not UTF-8; an unfinished last character
        is fine. wsproto finds such a byte as it arrives, so where the reads were cut must not
        decide whether it is found before the frame ends. Checked incrementally: each byte
        once while the frame stays held at the start of the buffer."""
        checker = self._utf8 if at == 0 else None
        if checker is None:
            checker = (codecs.getincrementaldecoder("utf-8")(), 0)
        decoder, checked = checker
        try:
            decoder.decode(bytes(buf[start + checked : end]), False)
        except UnicodeDecodeError:
            return False
        self._utf8 = (decoder, end - start)
        return True

    def send_text(self, text: str) -> bytes:
        """The bytes of one text message; raises ``WebSocketClosed`` when closed."""
        if self._closed is not None:
            raise self._closed
        if not self._accepted:
            assert self._ws is not None
            return self._ws.send(TextMessage(data=text))  # wsproto's error: not open yet
        return _client_frame(_TEXT, text.encode())

    def close(self, code: int = 1000, reason: str = "") -> bytes:
        """The bytes of a close frame (empty if the WebSocket is already closed)."""
        if self._closed is not None or not self._accepted:
            self._closed = self._closed or WebSocketClosed(code, reason)
            return b""
        self._closed = WebSocketClosed(code, reason)
        return _client_frame(_CLOSE, _close_payload(code, reason))

    def bytes_to_send(self) -> bytes:
        """Automatic replies (pongs, close frames) waiting to be written."""
        pending, self._pending = self._pending, b""
        return pending

    @property
    def _name(self) -> str:
        return self._endpoint.url or f"{self._endpoint.host}:{self._endpoint.port}"

    def _on_message_part(self, event: TextMessage | BytesMessage, messages: list[str]) -> bool:
        """Add one part; False when it took the message over the limit (now closed)."""
        self._part_size += len(event.data)
        if self._part_size > self._max_message_size:
            self._parts.clear()
            self._closed = MessageTooLarge(self._max_message_size)
            self._pending += _client_frame(_CLOSE, _close_payload(1009, "message too big"))
            return False
        if isinstance(event, TextMessage):
            self._parts.append(event.data)
        # Kraken sends text only; a binary message is counted against the limit, then ignored.
        if event.message_finished:
            if isinstance(event, TextMessage):
                messages.append("".join(self._parts))
            self._parts.clear()
            self._part_size = 0
        return True

    def _on_close(self, ws: WSConnection | Connection, event: CloseConnection) -> None:
        if event.code == 1006 and not event.reason:
            self._closed = WebSocketClosed(1006, "connection lost")
        else:
            self._closed = WebSocketClosed(event.code, event.reason or "")
        if ws.state.name == "REMOTE_CLOSING":
            self._pending += ws.send(event.response())

    def _refused(self, event: RejectConnection | RejectData) -> HandshakeError:
        status = event.status_code if isinstance(event, RejectConnection) else None
        line = self._status_line.split(b"\r\n", 1)[0].decode("latin-1")
        pieces = line.split(" ", 2)
        reason = pieces[2] if len(pieces) == 3 and pieces[1].isdigit() else ""
        if not reason and status is not None:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = ""
        # Printable ASCII only, bounded: the reason phrase comes from the server.
        reason = "".join(ch for ch in reason if " " <= ch <= "~")[:80]
        return HandshakeError(
            f"{self._name}: WebSocket upgrade refused: HTTP {status} {reason}".rstrip(),
            status_code=status,
            reason=reason,
        )
