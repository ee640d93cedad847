"""What the session does with each event its link reports.

Channel data goes to the order table (``_order_sync``) and the fill feed (``_fill_feed``);
request endings to the request tracker (``_requests``); a changed system status becomes
``SystemStatusChanged``; a stale link, a rejected or expired token, and a subscription the
link no longer holds become a reason to reconnect. This runs for every frame, so it tests
exact types first and reads no enum member it can avoid.
"""

from __future__ import annotations

from collections.abc import Mapping

from kraken_proto._connection_events import (
    ChannelSnapshot,
    ChannelUpdate,
    ConnectionStale,
    LateReply,
    RequestCompleted,
    RequestFailed,
    RequestOutcomeUnknown,
    SequenceGap,
    TokenExpired,
    TokenRejected,
)
from kraken_proto._connection_state import SubscriptionState
from kraken_proto._event_base import Event
from kraken_proto.rest._errors import error_class
from kraken_proto.v1._events import OpenOrders, OwnTrades, SystemStatus
from kraken_proto.v1._requests import Subscribe
from kraken_proto.v2._events import Balances
from kraken_proto.v2._requests import Subscribe as V2Subscribe

from ._balances import BALANCES, BalancesReceived, SessionSubscribe, channel_of
from ._context import SessionContext
from ._events import SubscriptionReady, SystemStatusChanged
from ._fill_feed import FillFeed
from ._lifecycle import Lifecycle
from ._link import Link
from ._order_sync import OrderSync
from ._pacer import Pacer
from ._reconciler import Reconciler
from ._requests import RequestTracker

__all__ = ["NOT_HELD", "LinkEventRouter"]

# The subscription states in which a link does not hold a channel (it may be subscribed again).
NOT_HELD = (SubscriptionState.FAILED, SubscriptionState.UNSUBSCRIBED)


class LinkEventRouter:
    """Hands each link event to the part of the session that owns it.

    ``subscriptions`` is the session's own dict of the channels asked for (read, never
    changed here). ``system_status`` is the last status reported. ``ready`` holds the
    channels already reported as ``SubscriptionReady`` (once per channel per session).
    ``pacer`` (a pacing session's) learns the ``maxratecount`` of each completed subscribe.
    """

    __slots__ = (
        "_events",
        "_fills",
        "_life",
        "_orders",
        "_pacer",
        "_reconciler",
        "_requests",
        "_subscriptions",
        "ready",
        "system_status",
    )

    def __init__(
        self,
        context: SessionContext,
        *,
        life: Lifecycle,
        requests: RequestTracker,
        orders: OrderSync,
        reconciler: Reconciler,
        fills: FillFeed,
        subscriptions: Mapping[str, SessionSubscribe],
        pacer: Pacer | None = None,
    ) -> None:
        self._life = life
        self._requests = requests
        self._orders = orders
        self._reconciler = reconciler
        self._fills = fills
        self._subscriptions = subscriptions
        self._events = context.events
        self.system_status: str | None = None
        self.ready: dict[str, None] = {}  # a set, as a dict: 64 bytes empty, not 216
        self._pacer = pacer

    def route(self, events: list[Event], now: float) -> str | None:
        """Act on a link's ``events``, in order; return a reason to reconnect, if any."""
        reason: str | None = None
        for event in events:
            if type(event) is ChannelUpdate or type(event) is ChannelSnapshot:
                self.channel(event)
            elif isinstance(event, RequestCompleted | RequestFailed):
                self._requests.answered(event)
                request = event.request
                if type(event) is RequestFailed and error_class(event.error.text).permanent:
                    # Bad key, signature or permission: no token is trusted again.
                    self._life.no_token_reuse()
                if type(event) is RequestCompleted:
                    channel = _live_without_snapshot(request)
                    if channel is not None:
                        # No snapshot will come: the confirmation is what says it is live.
                        self._mark_ready(channel, 0)
                    if self._pacer is not None and isinstance(request, Subscribe):
                        self._pacer.subscribed(event)
            elif isinstance(event, RequestOutcomeUnknown):
                self._requests.unknown(event, now)
            elif isinstance(event, LateReply):
                self._requests.late_reply(event)
            elif isinstance(event, SequenceGap):
                if event.channel == "ownTrades":
                    self._fills.want_backfill()
            elif isinstance(event, SystemStatus):
                if event.status != self.system_status:
                    self.system_status = event.status
                    self._events.append(SystemStatusChanged(status=event.status))
            elif isinstance(event, ConnectionStale):
                reason = reason or "the connection went silent (no frames, no pong)"
            elif isinstance(event, TokenRejected):
                reason = reason or f"Kraken rejected the session token ({event.error.text})"
            elif isinstance(event, TokenExpired):
                reason = reason or "the session token expired before use"
        return reason

    def trouble(self, link: Link) -> str | None:
        """A reason to reconnect when ``link`` lost or failed a channel the session wants
        (client and server would disagree about it), else None."""
        for name in self._subscriptions:
            state = link.subscription_state(name)
            if state in NOT_HELD:
                return (
                    f"the {name} subscription is {state.value}; reconnecting so client and "
                    "server agree"
                )
        return None

    def channel(self, item: ChannelSnapshot | ChannelUpdate) -> None:
        """Apply one frame of channel data (orders, fills or balances)."""
        event = item.event
        snapshot = type(item) is ChannelSnapshot
        if isinstance(event, OpenOrders):
            self._orders.apply(event, snapshot=snapshot)
            if self._requests.doubts:
                self._reconciler.resolve_seen_orders()
            if snapshot:
                self._life.synced["openOrders"] = None
                self._mark_ready("openOrders", len(event.orders))
                self._reconciler.release_doubts(
                    open_known=self._orders.remembers_all(len(event.orders))
                )
        elif type(event) is Balances:
            # v2's balances, passed on as they come (a V2Link reports them as sent).
            self._events.append(
                BalancesReceived(records=event.data, snapshot=snapshot, sequence=event.sequence)
            )
            if snapshot:
                self._life.synced[BALANCES] = None
                self._mark_ready(BALANCES, len(event.data))
        else:
            # Only ownTrades data gets here: every link reports executions as v1's
            # OpenOrders/OwnTrades.
            assert isinstance(event, OwnTrades)
            if snapshot and self._life.link is not None:
                # The trade ids of this link's fills: what the fill ledger keeps them with.
                self._fills.per_fill = self._life.link.reports_unconsolidated_fills
            self._fills.deliver(event, "snapshot" if snapshot else "live")
            if snapshot:
                self._life.synced["ownTrades"] = None
                self._mark_ready("ownTrades", len(event.trades))

    def _mark_ready(self, channel: str, rows: int) -> None:
        """Report ``channel`` live the first time only (a reconnect says so with
        ``Reconnected``); even an empty snapshot counts, so a watcher is not left waiting."""
        if channel not in self.ready:
            self.ready[channel] = None
            self._events.append(SubscriptionReady(channel=channel, rows=rows))


def _live_without_snapshot(request: object) -> str | None:
    """The channel ``request`` subscribes to if no snapshot will follow, else None."""
    if isinstance(request, Subscribe | V2Subscribe) and not _snapshot_follows(request):
        return channel_of(request)
    return None


def _snapshot_follows(request: SessionSubscribe) -> bool:
    if isinstance(request, Subscribe):
        return request.snapshot is not False
    return request.expects_snapshot
