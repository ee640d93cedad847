"""``Link``: the one protocol-neutral connection a :class:`~kraken_proto.Session` talks to.

The session is written against this interface only: v1 requests in, v1-shaped events out,
whichever protocol is on the wire. :func:`open_link` gives it a ``V1Link`` (a v1
``Connection``) for ``protocol="v1"`` and a ``V2Link`` (a ``V2Connection`` behind a
translation) for ``"v2"``; where the protocols differ in a way the session's policy depends
on, the link answers the question (``send_batch``, ``reports_unconsolidated_fills``), so the
session never asks which protocol it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from kraken_proto._connection_state import ConnectionConfig, SubscriptionState, TokenState
from kraken_proto._errors import LocalProtocolError
from kraken_proto._event_base import Event
from kraken_proto._request_base import Request
from kraken_proto.v1._events import OpenOrders, OwnTrades
from kraken_proto.v1._requests import AddOrder
from kraken_proto.v2._events import Executions

from ._v1_link import V1Link
from ._v2_link import V2Link

__all__ = ["Link", "UsualData", "open_link"]

UsualData = OpenOrders | OwnTrades | Executions | tuple[Executions, OwnTrades]
"""What ``Link.receive_data`` returns for the usual frame (see there)."""


class Link(Protocol):
    """What the session needs of one connection. Each method not described here has the
    contract of the ``Connection`` method of the same name."""

    @property
    def token_state(self) -> TokenState: ...

    @property
    def reports_unconsolidated_fills(self) -> bool:
        """True when this link reports every fill on its own (as REST ``TradesHistory`` with
        ``consolidate_taker=false`` does), False when it reports one per taker order."""
        ...

    def subscription_state(self, channel: str) -> SubscriptionState: ...

    def connection_made(self, now: float) -> None: ...

    def provide_token(self, token: str, now: float) -> None: ...

    def send(self, request: Request, now: float) -> int: ...

    def send_batch(
        self, orders: Sequence[AddOrder], now: float
    ) -> tuple[int | LocalProtocolError, ...]:
        """Send 2 to 15 ``AddOrder`` rows on one pair together, each ending on its own as if
        sent alone. Returns one entry per row: the id it went out under, or the
        ``LocalProtocolError`` that kept that row (alone) from going out. Raises
        ``LocalProtocolError``, sending nothing, when the rows cannot go out together."""
        ...

    def close(self, now: float) -> None: ...

    def receive_message(self, text: str | bytes, now: float) -> None: ...

    def receive_data(self, text: str | bytes, now: float) -> UsualData | None:
        """``receive_message``, except that a link may return the usual frame (in-sequence
        data on an active subscription) instead of reporting it as a ``ChannelUpdate``: one
        v1 frame; over v2 the executions push (its order changes, to apply with
        ``v2.apply_executions``), its fills as ``OwnTrades``, or both in one tuple, to apply
        in that order. A returned frame reported nothing else and queued nothing to send."""
        ...

    def handle_timeout(self, now: float) -> None: ...

    def connection_lost(self, now: float) -> None: ...

    def data_to_send(self) -> list[str]: ...

    def next_deadline(self) -> float | None: ...

    def events_received(self) -> list[Event]: ...


def open_link(
    protocol: str, config: ConnectionConfig | None = None, *, ratecounter: bool = False
) -> V1Link | V2Link:
    """A new connection core for ``protocol``: a ``V1Link`` (a v1 ``Connection``) for
    ``"v1"``, a ``V2Link`` (v1 requests and events over a ``V2Connection``) for ``"v2"``;
    ``config`` as they take. ``ratecounter``: ask for Kraken's trading rate counter from the
    first subscribe (v1: on openOrders; v2: on executions), as a pacing session needs. Both
    are a ``Link``."""
    if protocol == "v2":
        return V2Link(config, ratecounter=ratecounter)
    return V1Link(config, ratecounter=ratecounter)
