"""Limits that keep one hostile client from costing the simulator unbounded memory or time.

* ``ServerLimits.max_message_size``: the largest WebSocket text message accepted, counted in
  UTF-8 bytes over all its fragments. A message that grows past it is refused with close code
  1009 (RFC 6455 "message too big") as soon as the limit is crossed, so an unfinished fragment
  stream costs at most this many bytes. Kraken documents no limit; 1 MiB is far above any v1
  request (a full addOrder is well under 1 KiB) and far below a memory problem.
* ``ServerLimits.handshake_timeout``: how long a connection may take, in total, from accept to
  a complete HTTP request (head and body; for a WebSocket, the upgrade request). A client that
  trickles bytes (slowloris) or sends nothing is disconnected when it runs out. Once the
  WebSocket is open the connection is the client's for as long as it likes, as on Kraken.
* ``ServerLimits.max_backlog``: how many characters of frames may wait for a client that does
  not read (say one that sends pings and never reads the pongs). Past it the session is
  dropped without a close frame, which such a client could not read anyway.

``MessageAssembler`` is the pure part: it joins fragments and enforces the size limit.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "MessageAssembler", "MessageTooBig", "ServerLimits"]

MESSAGE_TOO_BIG = 1009  # RFC 6455 section 7.4.1


@dataclass(frozen=True)
class ServerLimits:
    """Per-connection bounds of the simulator server (see the module docstring)."""

    max_message_size: int = 1 << 20
    handshake_timeout: float = 10.0
    max_backlog: int = 8 << 20

    def __post_init__(self) -> None:
        if not isinstance(self.max_message_size, int) or self.max_message_size < 1:
            raise ValueError("max_message_size must be a positive number of bytes")
        if not isinstance(self.max_backlog, int) or self.max_backlog < 1:
            raise ValueError("max_backlog must be a positive number of characters")
        timeout = self.handshake_timeout
        # ``not timeout > 0`` also refuses NaN.
        if not isinstance(timeout, int | float) or not timeout > 0:
            raise ValueError("handshake_timeout must be a positive number of seconds")


DEFAULT_LIMITS = ServerLimits()


class MessageTooBig(Exception):
    """The message being assembled passed ``max_message_size``; close with code 1009."""

    code = MESSAGE_TOO_BIG


class MessageAssembler:
    """Joins a WebSocket text message from its fragments, refusing one that grows too big.

    ``add`` returns the whole message once its last fragment arrives, else ``None``. It holds
    at most ``max_size`` bytes: the fragments are kept UTF-8 encoded in one buffer (no per-
    fragment objects, so a flood of one-byte fragments costs one byte each).
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes held for the unfinished message."""
        return len(self._buffer)

    def add(self, text: str, finished: bool) -> str | None:
        """Take the next fragment; raise ``MessageTooBig`` (and drop it all) past the limit."""
        data = text.encode("utf-8")
        if len(self._buffer) + len(data) > self.max_size:
            self._buffer = bytearray()
            raise MessageTooBig(f"message larger than {self.max_size} bytes")
        if finished and not self._buffer:
            return text  # the common case: a message in one piece is not copied again
        self._buffer += data
        if not finished:
            return None
        message = self._buffer.decode("utf-8")
        self._buffer = bytearray()
        return message
