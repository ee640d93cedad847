"""``SessionEngine``: the parts of a session, composed, and how progress is made after each
input (send what is queued, start REST work that is due, go LIVE, lose a link, stop).

``Session`` (``_session``) is its public face: the calls users and adapters make. Each part
owns its state and lives in a sibling module (aioquic style); the engine routes between them
and keeps the order the actions and events come out in. It never asks which protocol its
link speaks.
"""

from __future__ import annotations

from kraken_proto._connection_events import ChannelUpdate
from kraken_proto._errors import LocalProtocolError
from kraken_proto.rest._counter import RestCallCounter
from kraken_proto.rest._errors import RestError
from kraken_proto.rest._signing import Credentials, NonceSource

from ._actions import HttpCall
from ._balances import SessionSubscribe
from ._config import SessionConfig, SessionState
from ._context import SessionContext
from ._fill_feed import FillFeed
from ._fill_ledger import FillLedger
from ._journal_state import JournalState
from ._journal_wire import JournalWire
from ._lifecycle import Lifecycle
from ._link import Link
from ._link_events import LinkEventRouter
from ._order_sync import OrderSync
from ._pacer import Pacer
from ._reconciler import Reconciler
from ._requests import RequestTracker
from ._rest import RestQueue
from ._seed import SeededStream
from ._wall import WallClock

__all__ = ["SessionEngine"]

# A module-level alias: on CPython 3.11 loading an enum member costs ~75 ns, and ``_settle``
# reads this one on every frame.
_SYNCING = SessionState.SYNCING
_DEFAULT_CONFIG = SessionConfig()  # frozen: one shared by every session given none


class SessionEngine:
    """A session's parts and their progress; see ``Session`` for the contract."""

    __slots__ = (
        "__weakref__",
        "_actions",
        "_events",
        "_fills",
        "_life",
        "_nonces",
        "_orders",
        "_pacer",
        "_protocol",
        "_random",
        "_reconciler",
        "_requests",
        "_rest",
        "_router",
        "_subscriptions",
        "_wall",
        "_wire",
    )

    def __init__(
        self,
        credentials: Credentials,
        *,
        config: SessionConfig | None = None,
        seed: bytes,
        nonces: NonceSource | None = None,
        rest_counter: RestCallCounter | None = None,
        journal: JournalState | None = None,
        auto_ack: bool = True,
        fill_ledger: FillLedger | None = None,
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise LocalProtocolError("credentials: expected kraken_proto.Credentials")
        if rest_counter is not None and not isinstance(rest_counter, RestCallCounter):
            raise LocalProtocolError("rest_counter: expected a kraken_proto.rest.RestCallCounter")
        config = config if config is not None else _DEFAULT_CONFIG
        random = self._random = SeededStream(seed)
        wall = self._wall = WallClock()
        if nonces is None:
            nonces = NonceSource(last=0 if journal is None else journal.nonce_high_water)
        self._nonces = nonces
        rest = RestQueue(
            counter=RestCallCounter(config.rest_tier) if rest_counter is None else rest_counter,
            nonces=nonces,
            retry_delay=config.rest_retry_delay,
            retry_max=config.backoff_max,
            wall=wall,
        )
        context = SessionContext(
            config=config, credentials=credentials, rest=rest, actions=[], events=[], wall=wall
        )
        self._actions = context.actions
        self._events = context.events
        self._rest = rest
        self._subscriptions: dict[str, SessionSubscribe] = {}
        self._protocol = config.protocol
        self._life = Lifecycle(context, random)
        if fill_ledger is not None and not isinstance(fill_ledger, FillLedger):
            raise LocalProtocolError("fill_ledger: expected a kraken_proto.session.FillLedger")
        self._orders = OrderSync(context, ledger=fill_ledger)
        self._requests = RequestTracker(context, self._orders.table)
        self._reconciler = Reconciler(context, self._requests, self._orders)
        self._fills = FillFeed(
            context,
            ledger=fill_ledger,
            owner="" if fill_ledger is None else random.token(b"fill ledger"),
        )
        self._pacer: Pacer | None = None
        if config.pace_orders:
            self._pacer = self._requests.gate = Pacer(context, self._orders)
            self._orders.observer = self._pacer.observe
        self._router = LinkEventRouter(
            context,
            life=self._life,
            requests=self._requests,
            orders=self._orders,
            reconciler=self._reconciler,
            fills=self._fills,
            subscriptions=self._subscriptions,
            pacer=self._pacer,
        )
        wire = self._wire = JournalWire(context, journal)
        wire.auto_ack = auto_ack
        if journal is not None:
            wire.restore(
                journal,
                requests=self._requests,
                fills=self._fills,
                subscriptions=self._subscriptions,
            )

    # --- the current link -----------------------------------------------------------------

    def _after_link_call(self, link: Link, now: float) -> None:
        """Drain the link after any call into it, and act on what it reported."""
        messages = link.data_to_send()
        if messages:  # ``Lifecycle.flush``, without a call per frame that sends nothing
            self._life.send(messages)
        router = self._router
        events = link.events_received()
        if len(events) == 1 and type(events[0]) is ChannelUpdate:
            # The usual frame: data on a subscription changes no subscription to one the link
            # does not hold, so there is no trouble to look for (and no loop to run).
            router.channel(events[0])
            reason = None
        else:
            reason = router.route(events, now) or router.trouble(link)
        if reason is not None:
            self._lose(reason, now, close=True)
        elif self._requests.queued:
            self._send_queued(now)

    def _send_queued(self, now: float) -> None:
        link = self._life.link
        wire = self._wire
        if not wire.enabled:
            if link is not None and self._requests.send_queued(link, now):
                self._life.flush(link)
            return
        # With a journal: the earlier process's requests are decided before new ones go out,
        # and each request's intent is persisted before it is written.
        if (
            link is not None
            and not self._requests.recovering()
            and self._requests.send_queued(
                link, now, lambda group, open_now: wire.intents(group, open_now, now)
            )
        ):
            self._life.flush(link)

    def _backfill_journal(self) -> None:
        """Backfill fills from the journal's cursor once ownTrades is subscribed."""
        if self._wire.backfill_pending and "ownTrades" in self._subscriptions:
            self._wire.backfill_pending = False
            self._fills.want_backfill()

    # --- losing, stopping, progress ---------------------------------------------------------

    def _lose(self, reason: str, now: float, *, close: bool) -> None:
        """The current link is unusable: end it and plan the next attempt."""
        link = self._life.drop_link(now, close=close)
        if link is not None:
            link.connection_lost(now)
            self._router.route(link.events_received(), now)
        self._requests.link_lost()
        if "ownTrades" in self._subscriptions:
            self._fills.want_backfill()
        self._life.wait_to_retry(reason, now)

    def _stop(self, now: float, *, failed: RestError | None) -> None:
        """End the session: requests without an outcome end, the connection closes."""
        self._requests.stop_all()
        self._rest.clear()
        self._life.stop(now, failed=failed)
        self._wire.scan(now)

    def _settle(self, now: float) -> None:
        """Start REST work that is due, go LIVE when synced, send the next REST call."""
        life = self._life
        if life.stopped:
            return
        if self._pacer is not None:
            self._pacer.settle(now)
        wire = self._wire
        if wire.enabled and self._requests.queued:
            self._send_queued(now)  # a recovered request may just have been decided
        orders = self._orders
        if orders.vanished and not orders.looking_up:
            orders.look_up_vanished()
        fills = self._fills
        if (
            fills.backfill_from is not None
            and not fills.backfilling
            and "ownTrades" in life.synced
            and life.link is not None
        ):
            fills.backfill(unconsolidated=life.link.reports_unconsolidated_fills)
        if life.state is _SYNCING:
            self._maybe_live(now)
        rest = self._rest
        if rest.jobs:  # without jobs ``pump`` would return None (and ``wake_at`` is None)
            ready = rest.pump(now)
            if ready is not None:
                call, request, purpose = ready
                wire.nonce(self._nonces.last, now)
                self._actions.append(HttpCall(call=call, request=request, purpose=purpose))
            elif life.state is _SYNCING:
                # A job may have been dropped unsent (a backfill the fill ledger served).
                self._maybe_live(now)
        if wire.enabled:  # without a journal there is nothing to scan for
            wire.scan(now)

    def _maybe_live(self, now: float) -> None:
        life = self._life
        if (
            life.link is None
            or not life.all_synced(self._subscriptions)
            or self._requests.unsettled()
            or self._orders.vanished
            or self._fills.backfilling
            or self._fills.backfill_from is not None
        ):
            return
        life.went_live(now)
