"""Events only a :class:`Connection` produces: request outcomes, token and liveness news,
sequence gaps and the snapshot/update wrappers of channel data.

Like every event they are frozen ``msgspec`` structs; they are never decoded from JSON, so
some hold a ``Request``. None of them holds the session token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kraken_proto._event_base import Event, KrakenError
from kraken_proto._request_base import Request

if TYPE_CHECKING:  # the channel payloads of both protocols; no import cycle at run time
    from kraken_proto.v1._events import OpenOrders, OwnTrades
    from kraken_proto.v2._events import Balances, Executions

__all__ = [
    "ChannelSnapshot",
    "ChannelUpdate",
    "ConnectionStale",
    "LateReply",
    "RequestCompleted",
    "RequestFailed",
    "RequestLost",
    "RequestOutcomeUnknown",
    "RequestTimedOut",
    "SequenceGap",
    "TokenExpired",
    "TokenRejected",
]


class TokenExpired(Event, frozen=True, kw_only=True):
    """The fresh token went unused for ``token_ttl`` seconds and was dropped.

    Private requests raise ``LocalProtocolError`` until ``provide_token`` is called again.
    """


class TokenRejected(Event, frozen=True, kw_only=True):
    """The server refused the session token (``ESession:Invalid session``, ``EAPI:Invalid token``
    and the like); the connection dropped it. Fetch a new token and call ``provide_token``.

    ``reqid`` is the request whose reply carried the error, or ``None`` when it had none.
    """

    reqid: int | None
    error: KrakenError


class RequestCompleted(Event, frozen=True, kw_only=True):
    """Every reply ``request`` expects has arrived and none is an error.

    ``replies`` are the reply events (also delivered on their own as they arrived), in order:
    one for most requests, one per id for ``CancelOrder``. A ``Subscribe`` answered
    "Already subscribed" completes too: the server holds the subscription, as asked.
    """

    reqid: int
    request: Request
    replies: tuple[Event, ...]


class RequestFailed(Event, frozen=True, kw_only=True):
    """A reply to ``request`` is an error; ``error`` is the first one.

    For a ``CancelOrder`` with several ids, the connection waits for one reply per id when the
    error is a ``cancelOrderStatus`` (the other ids may have been cancelled: see ``replies``);
    an error of any other kind (``error`` event, token error) ends the request at once.
    """

    reqid: int
    request: Request
    replies: tuple[Event, ...]
    error: KrakenError


class RequestOutcomeUnknown(Event, frozen=True, kw_only=True):
    """Base of the two ways a request can end without a full answer.

    **The outcome is unknown**: an ``AddOrder`` may or may not have placed an order, a
    cancel may or may not have cancelled. Reconcile through the ``openOrders`` channel (or
    REST ``OpenOrders``/``QueryOrders``) before acting; the connection never re-sends a
    trading request by itself. ``replies`` holds any replies that did arrive (a partially
    answered ``CancelOrder``).
    """

    reqid: int
    request: Request
    replies: tuple[Event, ...] = ()


class RequestTimedOut(RequestOutcomeUnknown, frozen=True, kw_only=True):
    """No (complete) answer within ``request_timeout`` seconds; the outcome is unknown.

    A reply arriving later is still delivered as its own event, followed by ``LateReply``.
    """


class RequestLost(RequestOutcomeUnknown, frozen=True, kw_only=True):
    """The connection was lost while the request was pending; the outcome is unknown."""


class LateReply(Event, frozen=True, kw_only=True):
    """Follows a reply event whose request already ended with ``RequestTimedOut``.

    ``reply`` is that event (already delivered on its own); it tells the outcome the timeout
    could not, e.g. the ``txid`` of an order that was placed after all.
    """

    reqid: int
    request: Request
    reply: Event


class SequenceGap(Event, frozen=True, kw_only=True):
    """A channel frame's ``sequence`` was not the next one: ``got > expected`` means frames
    were lost, ``got < expected`` a repeat.

    The connection re-subscribes with the same options to get a fresh snapshot (at once, or
    as soon as ``provide_token`` gives it a usable token). Frames that arrive from the gap
    until that snapshot are delivered, never dropped, as ``ChannelUpdate`` with
    ``after_gap=True``; the snapshot that follows is authoritative. An ``openOrders`` snapshot
    restores every open order. An ``ownTrades`` snapshot holds only the latest 50 trades, and
    none at all with ``snapshot=False``: after a gap there, reconcile fills through REST
    ``TradesHistory``.
    """

    channel: str
    expected: int
    got: int


class ChannelSnapshot(Event, frozen=True, kw_only=True):
    """The first data frame after a subscription was acknowledged: the channel's full state
    (the open orders, or the latest trades). Replace local state with it.

    Only a frame numbered 1 (Kraken's snapshot number) or unnumbered is taken as the snapshot;
    a first frame with a later number means the snapshot was missed, and comes as a
    ``SequenceGap`` (``expected=1``) and a flagged ``ChannelUpdate``, then a resubscription."""

    event: OwnTrades | OpenOrders | Executions | Balances

    @property
    def channel(self) -> str:
        """``"ownTrades"`` or ``"openOrders"`` (v2: ``"executions"`` or ``"balances"``)."""
        return self.event.channel_name


class ChannelUpdate(Event, frozen=True, kw_only=True):
    """A data frame after the snapshot: apply it on top of local state.

    ``after_gap`` is True for frames that arrived after a ``SequenceGap`` and before the fresh
    snapshot: real data, but a frame before them was lost, so wait for the snapshot. Frames on
    a channel the connection does not track (no acknowledged subscription, or an ``ownTrades``
    subscription with ``snapshot=False``) also come as ``ChannelUpdate``.
    """

    event: OwnTrades | OpenOrders | Executions | Balances
    after_gap: bool = False

    @property
    def channel(self) -> str:
        """``"ownTrades"`` or ``"openOrders"`` (v2: ``"executions"`` or ``"balances"``)."""
        return self.event.channel_name


class ConnectionStale(Event, frozen=True, kw_only=True):
    """The server sent nothing since ``last_frame_at``, not even a reply to the liveness ping.

    The connection moved to ``CLOSING`` (``should_close`` is True): close the socket,
    reconnect with a new token, and resubscribe.
    """

    last_frame_at: float
