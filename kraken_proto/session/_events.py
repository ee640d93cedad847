"""Events a :class:`~kraken_proto.Session` reports, drained with ``Session.events()``.

Frozen ``msgspec`` structs like every event of the library; none holds a token or a secret.

Every request given to ``Session.submit`` ends with exactly one *final* outcome, a subclass of
:class:`RequestOutcome` carrying the ``handle`` ``submit`` returned:

* :class:`RequestAccepted`: Kraken answered and accepted it (``replies``: its status events).
* :class:`RequestRefused`: Kraken answered with an error (``error``: the first one).
* :class:`RequestApplied`: the answer was lost (disconnect, timeout); reconciliation found it
  took effect: the order was placed (``txid``), cancelled, replaced (``txid``: the new
  order) or amended.
* :class:`RequestNotApplied`: the answer was lost and reconciliation found it did not take
  effect (no order with its ``cl_ord_id`` exists; the order was not cancelled ...), or it was
  withdrawn before it was ever sent.
* :class:`RequestUnresolved`: the outcome could not be established (the session was closed
  or failed first, or nothing on Kraken's side records it, like a lost
  ``cancelAllOrdersAfter``). Never guessed: treat it as "may have happened".

:class:`RequestInDoubt` is not final: it says the answer was lost and reconciliation started.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from kraken_proto._event_base import Event, KrakenError
from kraken_proto._orders import OrderChanges
from kraken_proto._request_base import Request
from kraken_proto.v1._events import Trade

__all__ = [
    "Connected",
    "FillReceived",
    "FillSource",
    "OrderPaced",
    "OrdersChanged",
    "Reconnected",
    "Reconnecting",
    "RequestAccepted",
    "RequestApplied",
    "RequestInDoubt",
    "RequestNotApplied",
    "RequestOutcome",
    "RequestRefused",
    "RequestUnresolved",
    "SessionClosed",
    "SessionEvent",
    "SessionFailed",
    "SystemStatusChanged",
    "SubscriptionReady",
]

FillSource = Literal["live", "snapshot", "rest", "peer", "history"]
"""Where a fill came from: a live ownTrades update, an ownTrades snapshot, or REST
``TradesHistory`` (backfill after a reconnect or a gap). ``"peer"``: backfilled instead from
the API key's fill ledger, where another session on the key (in any process; sessions with
journals in one directory share one) published it as it received it live. ``"history"``: a
trade in the session's first ownTrades snapshot that may predate the session (every one
without a journal; with one, those not newer than the journal's fill cursor): a bot summing
fills skips them."""


class SessionEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Base class of every event a session reports."""


class FillReceived(SessionEvent, frozen=True, kw_only=True):
    """One execution of the account, reported once per ``trade_id`` across every
    connection, snapshot and REST backfill.

    ``trade`` has Kraken's ownTrades fields with exact Decimals. For ``source == "rest"``
    it is built from the TradesHistory record: ``pair`` is then REST's pair name (for
    example ``XXBTZUSD``, where the WebSocket says ``XBT/USD``) and ``cl_ord_id``/``userref``
    are those REST reports, if any.
    """

    trade_id: str
    trade: Trade
    source: FillSource
    redelivered: bool = False
    """True for a fill delivered by an earlier process and not acknowledged before it
    stopped (journal): it may have been processed already."""


class OrdersChanged(SessionEvent, frozen=True, kw_only=True):
    """The session's ``OrderTable`` changed: ``changes`` is what one update did.

    ``source``: ``"snapshot"``/``"live"`` for openOrders frames, ``"rest"`` when REST
    ``QueryOrders`` resolved orders that vanished from a snapshot (their final status and
    totals; they are no longer ``vanished``).
    """

    changes: OrderChanges
    source: FillSource


class SubscriptionReady(SessionEvent, frozen=True, kw_only=True):
    """The ``channel`` (``"ownTrades"`` or ``"openOrders"``) is live: its first snapshot on
    this session arrived and its rows were reported before this event.

    Reported once per channel per session, even when the snapshot is empty (a fresh account),
    so a watcher knows the channel is live without waiting for data. ``rows`` is how many
    orders or trades that snapshot held. An ``ownTrades`` subscribed with ``snapshot=False``
    gets no snapshot: it is ready (``rows`` 0) once Kraken confirms the subscription. After a
    reconnect the channels are live again when ``Reconnected`` comes; no second event.
    """

    channel: str
    rows: int


class Connected(SessionEvent, frozen=True, kw_only=True):
    """The first connection is subscribed and reconciled: the session is LIVE."""


class Reconnecting(SessionEvent, frozen=True, kw_only=True):
    """The connection is gone (or never came up) and the session will try again.

    ``reason`` says why (never holds a token), ``attempt`` counts consecutive attempts that
    did not reach a working connection (1 for the first retry), ``delay`` is the wait in
    seconds before the next attempt starts (0 for the immediate first retry).
    """

    reason: str
    attempt: int
    delay: float


class Reconnected(SessionEvent, frozen=True, kw_only=True):
    """A new connection is subscribed and reconciled; ``downtime`` is seconds since the last
    one was lost. Every fill and request outcome of the gap has been reported before it."""

    downtime: float


class SystemStatusChanged(SessionEvent, frozen=True, kw_only=True):
    """Kraken's engine status (``online``, ``maintenance``, ``cancel_only``, ...) changed."""

    status: str


class SessionFailed(SessionEvent, frozen=True, kw_only=True):
    """Terminal: the session stopped for good (``reason``), e.g. an invalid API key,
    signature or missing permission. Requests still open were ended first."""

    reason: str
    error: str | None = None


class SessionClosed(SessionEvent, frozen=True, kw_only=True):
    """Terminal: ``close`` completed; requests still open were ended first."""


class RequestOutcome(SessionEvent, frozen=True, kw_only=True):
    """Base of the final outcome of one submitted request; exactly one per handle."""

    handle: int
    request: Request
    recovered: bool = False
    """True when the request was sent by an earlier process (its intent was in the journal
    without an outcome) and this outcome was established on restart."""


class RequestAccepted(RequestOutcome, frozen=True, kw_only=True):
    """Kraken accepted the request; ``replies`` are its status events (one per id for
    ``CancelOrder``). ``txid`` is the order's txid for AddOrder/EditOrder/AmendOrder."""

    replies: tuple[Event, ...]
    txid: str | None = None


class RequestRefused(RequestOutcome, frozen=True, kw_only=True):
    """Kraken refused the request (``error``: Kraken's first error); ``replies`` as sent.
    For a ``CancelOrder`` with several ids, some ids may have been cancelled."""

    replies: tuple[Event, ...]
    error: KrakenError


class RequestApplied(RequestOutcome, frozen=True, kw_only=True):
    """The answer was lost, and reconciliation found that the request took effect.

    ``txid``: the order placed (AddOrder, found by its ``cl_ord_id``) or the amended order;
    ``None`` for cancels and edits (an edit is known to have taken effect when the original
    order ended canceled as replaced; look for its replacement in ``Session.orders``).
    ``via`` names the evidence: ``"openOrders"`` (an order carrying the cl_ord_id appeared on
    the channel), ``"OpenOrders"``, ``"ClosedOrders"``, ``"QueryOrders"`` (REST),
    ``"snapshot"`` (a CancelAll sent when no order was open) or ``"ledger"`` (another session
    on the API key saw the order on openOrders, see ``FillLedger``).
    """

    txid: str | None
    via: str


class RequestNotApplied(RequestOutcome, frozen=True, kw_only=True):
    """The request did not take effect: reconciliation found no trace of it (``via``), or it
    was withdrawn before it was sent (``via == "withdrawn"``). Safe to send again."""

    via: str


class RequestUnresolved(RequestOutcome, frozen=True, kw_only=True):
    """The outcome could not be established (``reason``): it may or may not have happened."""

    reason: str


class RequestInDoubt(SessionEvent, frozen=True, kw_only=True):
    """Not final: the answer to ``handle`` was lost (``reason``: connection lost, timed out);
    the session reconciles it after reconnecting and reports the final outcome then."""

    handle: int
    request: Request
    reason: str


class OrderPaced(SessionEvent, frozen=True, kw_only=True):
    """Not final: ``SessionConfig(pace_orders=True)`` holds the request ``handle``, which
    would take ``pair``'s trading counter past the tier's threshold (or waits behind one that
    would); it goes out in about ``wait_seconds`` (sooner if Kraken reports a lower count).
    Reported once per hold; ``withdraw`` still drops it."""

    handle: int
    request: Request
    pair: str
    wait_seconds: float
