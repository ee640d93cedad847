"""What the session knows of one submitted request (``Tracked``), its ``Phase``, and what
Kraken's replies to it say (the order placed, the error).

Kept apart from the ``RequestTracker`` that moves requests between phases so the reconciler,
the pacer and the journal wiring can read a request without the tracker's machinery.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kraken_proto._event_base import Event, KrakenError
from kraken_proto._request_base import Request
from kraken_proto.v1._events import (
    AddOrderStatus,
    AmendOrderStatus,
    EditOrderStatus,
    ErrorEvent,
    StatusEvent,
)

from ._events import RequestOutcome

__all__ = ["Gate", "Phase", "Tracked", "reply_error", "txid_of"]


class Phase(enum.Enum):
    """Where a submitted request is on its way to an outcome."""

    QUEUED = "queued"  # not sent yet
    SENT = "sent"  # on a connection, awaiting its answer
    DOUBT = "doubt"  # the answer was lost; waiting to reconcile
    RECONCILING = "reconciling"  # REST lookups in progress


@dataclass(slots=True)
class Tracked:
    """One submitted request and what is known of it."""

    handle: int
    request: Request
    phase: Phase = Phase.QUEUED
    reqid: int | None = None
    sent_at: float = 0.0  # wall-clock (unix) time it went out: Kraken's timescale
    open_at_send: tuple[str, ...] = ()
    wait_for_connection: bool = False  # lost with its connection: reconcile on the next one
    reconcile_at: float | None = None  # timed out: reconcile then, unless a late reply
    batch: int | None = None  # submit_batch's group: offered to the link together
    recovered: bool = False  # sent by an earlier process (journal): outcomes say so


def txid_of(replies: Iterable[Event]) -> str | None:
    for reply in replies:
        if isinstance(reply, AddOrderStatus | EditOrderStatus | AmendOrderStatus):
            return reply.txid
    return None


def reply_error(reply: Event) -> KrakenError | None:
    if isinstance(reply, StatusEvent) and not reply.ok:
        return reply.error or KrakenError.parse(f"status {reply.status}")
    if isinstance(reply, ErrorEvent):
        return reply.error or KrakenError.parse("error")
    return None


class Gate(Protocol):
    """What ``send_queued`` asks before sending (the pacer: ``_pacer.Pacer``)."""

    def begin(self) -> None: ...
    def admit(self, group: Sequence[Tracked], now: float) -> bool: ...
    def finished(self, outcome: RequestOutcome) -> None: ...
