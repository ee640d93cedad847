"""Text and bytes that may hold the session token, with a ``repr`` that does not show them.

A traceback rendered with its frames' locals (``traceback.TracebackException(...,
capture_locals=True)``, pytest's ``--showlocals``, Sentry) calls ``repr`` on every local. The
session's outgoing messages (subscriptions and orders carry the token) and REST response
bodies (``GetWebSocketsToken`` returns it) travel as these subclasses, so every frame they
pass through, the runners' and the transport's included, shows a length instead.
They are plain ``str``/``bytes`` otherwise: equal, hashable, encodable as before.
"""

from __future__ import annotations

__all__ = ["RedactedBytes", "RedactedText"]


class RedactedText(str):
    """A ``str`` whose ``repr`` is its length only."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} characters, redacted>"


class RedactedBytes(bytes):
    """A ``bytes`` whose ``repr`` is its length only."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} bytes, redacted>"
