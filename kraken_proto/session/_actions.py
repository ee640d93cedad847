"""What a :class:`~kraken_proto.Session` asks its adapter to do.

``Session.actions()`` returns these in order; the adapter carries each one out and reports
back through the matching ``Session`` input. Connections and HTTP calls are named by small ints
the session allocates (``conn``, ``call``); an adapter keeps a dict from them to its sockets.

==========================  ===========================================================
action                      the adapter does, then calls
==========================  ===========================================================
``OpenConnection(conn)``    open the WebSocket to ``ws-auth``; ``connection_made(conn,
                            now)`` once the handshake is done, or ``connection_failed(conn,
                            reason, now)``
``SendMessages(conn, m)``   write each text message of ``m`` in order (nothing to report;
                            a failed write is ``connection_lost(conn, now)``)
``CloseConnection(conn)``   close that WebSocket (politely if it can), then
                            ``connection_lost(conn, now)``
``HttpCall(call, r)``       one HTTPS ``POST`` of ``r`` (a signed ``RestRequest``);
                            ``rest_response(call, status, body, now)`` or
                            ``rest_failed(call, reason, now)`` (no answer at all)
==========================  ===========================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from kraken_proto.rest._request import RestRequest

__all__ = ["CloseConnection", "HttpCall", "OpenConnection", "SendMessages", "SessionAction"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionAction:
    """Base class of every action a session asks for."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenConnection(SessionAction):
    """Open a new WebSocket connection, named ``conn`` from now on.

    Report the outcome with ``Session.connection_made(conn, now)`` or
    ``Session.connection_failed(conn, reason, now)``. At most one connection is wanted at a
    time: the session never asks for a second before the first was reported lost or failed.
    """

    conn: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SendMessages(SessionAction):
    """Write ``messages`` (complete JSON text messages) on connection ``conn``, in order.

    The messages may hold the session token: never log them.
    """

    conn: int
    messages: tuple[str, ...]

    def __repr__(self) -> str:
        return f"SendMessages(conn={self.conn}, messages=<{len(self.messages)} messages>)"


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseConnection(SessionAction):
    """Close connection ``conn`` (after writing what was already sent), then report
    ``Session.connection_lost(conn, now)``."""

    conn: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpCall(SessionAction):
    """Send ``request`` (method, path, headers, body; already signed) to the REST URL.

    Report the HTTP status and body with ``Session.rest_response(call, status, body, now)``,
    or ``Session.rest_failed(call, reason, now)`` when no response came (connect error,
    timeout). ``purpose`` names the call for logs (``"GetWebSocketsToken"``,
    ``"OpenOrders"``, ...). The session never has two calls in flight at once, so nonces
    always reach Kraken in increasing order.
    """

    call: int
    request: RestRequest
    purpose: str
