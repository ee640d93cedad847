"""The runners' reading plumbing: how much one read asks for, carrying received bytes from a
``WebSocketSession`` into the ``Session``, and the short reason a failure is reported with.
"""

from __future__ import annotations

from kraken_proto import Session
from kraken_proto.adapters.transport._ws import WebSocketSession

__all__ = ["READ_SIZE", "feed_websocket", "reason_of"]

READ_SIZE = 65536


def feed_websocket(
    session: Session, conn: int, websocket: WebSocketSession, data: bytes | None, now: float
) -> bool:
    """Give received bytes (``None`` at EOF) to ``websocket`` and its messages to the session.

    Returns False once the WebSocket is closed; the session has then been told
    (``connection_lost`` with the close code). Write ``websocket.bytes_to_send()`` after it.
    """
    try:
        messages = websocket.receive_data(data)
    except ConnectionError:
        messages = []
    for text in messages:
        session.receive_message(conn, text, now)
    if websocket.is_open:
        return True
    closed = websocket.closed
    session.connection_lost(conn, now, code=None if closed is None else closed.code)
    return False


def reason_of(exc: BaseException) -> str:
    """A short reason for the session's logs (adapter exceptions carry no secrets)."""
    return f"{type(exc).__name__}: {exc}"[:300]
