"""The earliest deadline of a connection, computed the plain way (every deadline in a list, then
``min``): the reference the connection machines hold ``next_deadline()`` to."""

from __future__ import annotations

from typing import Any

from kraken_proto.v1 import ConnectionState, SubscriptionState, TokenState

_LIVE = (SubscriptionState.ACTIVE, SubscriptionState.UNSUBSCRIBING, SubscriptionState.RESYNCING)


def reference_next_deadline(conn: Any) -> float | None:
    """What ``conn.next_deadline()`` must answer, from its state (v1 and v2 connections)."""
    if conn._state not in (ConnectionState.OPEN, ConnectionState.CLOSING):
        return None
    deadlines = [pending.deadline for pending in conn._pending.values()]
    if conn._state is ConnectionState.OPEN:
        if conn._token_state is TokenState.FRESH and conn._token_expires_at is not None:
            deadlines.append(conn._token_expires_at)
        if any(record.state in _LIVE for record in conn._subscriptions.values()):
            since = conn._last_frame_at
            if conn._liveness_ping_at is not None:
                since = conn._liveness_ping_at
            deadlines.append(since + conn._config.liveness_timeout)
        keepalive = conn._keepalive_deadline()
        if keepalive is not None:
            deadlines.append(keepalive)
        if conn._dead_mans_switch_due is not None:
            deadlines.append(conn._dead_mans_switch_due)
    return min(deadlines, default=None)
