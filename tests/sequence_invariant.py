"""What both connection machines hold after every step about each subscription's sequence."""

from __future__ import annotations

from typing import Any


def assert_counted_sequence_is_clean(conn: Any) -> None:
    """A subscription with ``next_sequence`` set awaits no first frame and flags no gap: each
    connection's ``receive_update`` returns the usual frame on ``next_sequence`` alone, relying
    on this (v1 and v2 connections)."""
    for record in conn._subscriptions.values():
        if record.next_sequence is not None:
            assert not record.awaiting_first_frame, record
            assert not record.after_gap, record
