"""Holding trading requests the exchange would refuse for its rate counter (``pace_orders``).

With ``SessionConfig(pace_orders=True)`` every queued request passes ``Pacer.admit`` before it
is sent: it is charged to the model of Kraken's per-pair counters (``_pacing``) and sent when
it fits; otherwise it stays queued (an ``OrderPaced`` event says which pair and for how long)
and ``handle_timeout`` at ``wake_at`` tries again. Order is kept: a request held on a pair
holds every later request on that pair; a request whose pairs cannot be known (a cancel of
an order the session does not know, ``CancelAll``) waits until nothing before it is held, and
nothing after it passes it.

Ages for the cancel/edit/amend penalties are lower bounds on the session's own clock: an order
the session placed is as old as the moment its acceptance was seen (the order existed by
then); an order it did not place is as old as the moment the pacer first needed its age. Too
young only costs waiting; too old would cost a refusal. The counter follows the ``ratecount``
that openOrders (v1) and executions (v2) frames carry when subscribed with ``ratecounter``
(a pacing session's links ask for it from the first subscribe): adopted as is when nothing is
in flight on the pair, else kept between it and it plus what is in flight. The threshold
follows the ``maxratecount`` of the subscribe ack (``maxratecount_of``), which names the
account's tier whatever ``rest_tier`` says.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from kraken_proto._connection_events import RequestCompleted
from kraken_proto._request_base import Request
from kraken_proto.v1._events import OpenOrders, SubscriptionStatus
from kraken_proto.v1._requests import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
)
from kraken_proto.v2._replies import SubscribeReply

from ._context import SessionContext
from ._events import OrderPaced, RequestOutcome
from ._order_sync import OrderSync
from ._pacing import (
    ACCOUNT,
    TradingCounter,
    add_cost,
    amend_cost,
    batch_add_cost,
    cancel_all_after_cost,
    cancel_all_cost,
    cancel_cost,
    edit_cost,
)
from ._tracked import Tracked
from ._v2_translation import v2_symbol

__all__ = ["Pacer", "maxratecount_of"]

# Counters are keyed by one name per pair (v2's: ``BTC/USD`` for ``XBT/USD``), so requests
# and frames naming a pair either way charge the same counter.
_key = v2_symbol

# What a request costs: per pair, or None when its pairs cannot be known (it then waits for
# everything before it, and is charged what can be known).
Charges = dict[str, float]


def maxratecount_of(event: RequestCompleted) -> int | None:
    """The ``maxratecount`` a completed subscribe reports, or None.

    v1 puts it in the openOrders ``subscriptionStatus``'s ``subscription`` (only when
    subscribed with ``ratecounter``); v2 in the executions subscribe ack's ``result`` (a
    ``V2Link`` ends its ownTrades and openOrders subscribes with that ack as the reply)."""
    for reply in event.replies:
        if isinstance(reply, SubscriptionStatus) and reply.subscription is not None:
            maximum = reply.subscription.maxratecount
        elif isinstance(reply, SubscribeReply) and reply.result is not None:
            maximum = reply.result.maxratecount
        else:
            continue
        if maximum is not None:
            return maximum
    return None


class Pacer:
    """The model of the account's trading counters and the requests held by it.

    ``admit`` decides one queued request (or batch) within one pass over the queue, started
    by ``begin``; ``finished`` and ``observe`` learn from outcomes and openOrders frames;
    ``settle(now)`` stamps what they learnt with the time. ``wake_at``: when a held request
    fits (None: nothing held).
    """

    def __init__(self, context: SessionContext, orders: OrderSync) -> None:
        config = context.config
        self.counter = TradingCounter(
            config.rest_tier, decay_per_second=config.pace_decay_per_second
        )
        self._events = context.events
        self._orders = orders
        self._half_batches = config.protocol == "v2"  # v1 sends a batch as single addOrders
        self._bound = 2 * config.max_finished
        self._opened: dict[str, float] = {}  # txid or cl_ord_id -> the age's lower bound
        self._pairs: dict[str, str] = {}  # txid or cl_ord_id -> pair, from our requests
        self._fresh: list[str] = []  # accepted since the last settle: opened "now"
        self._resyncs: list[tuple[str, Decimal]] = []
        self._inflight: dict[int, Charges] = {}  # sent, not ended: handle -> its charges
        self._announced: set[int] = set()
        self._blocked: dict[str, float] = {}  # this pass: pair -> when its head fits
        self._barrier = False
        self.wake_at: float | None = None

    # --- one pass over the queue ----------------------------------------------------------

    def begin(self) -> None:
        """A pass over the queue starts: nothing is held yet."""
        self._blocked = {}
        self._barrier = False
        self.wake_at = None

    def admit(self, group: Sequence[Tracked], now: float) -> bool:
        """True (and charged) when ``group`` (one request, or a batch's rows) may go now."""
        if self._barrier:
            return False
        request = group[0].request
        charges = self._charges(request, len(group), now)
        blocked = self._blocked
        if charges is None or isinstance(request, CancelAll):
            if blocked:
                self._barrier = True  # nothing after it may pass it either
                return False
            charges = charges or {}
            ready = now  # never refused (CancelAll), or nothing known to charge
        else:
            waits = [blocked[pair] for pair in charges if pair in blocked]
            if waits:
                self._hold(group, charges, max(waits), now)
                return False
            counter = self.counter
            ready = max(counter.ready_at(pair, cost, now) for pair, cost in charges.items())
            if ready > now:
                self._hold(group, charges, ready, now)
                return False
        for pair, cost in charges.items():
            self.counter.charge(pair, cost, now)
        for tracked in group:
            self._announced.discard(tracked.handle)
            self._inflight[tracked.handle] = charges
            row = tracked.request
            if isinstance(row, AddOrder) and row.cl_ord_id is not None:
                self._note(self._pairs, row.cl_ord_id, _key(row.pair))
        return True

    def _hold(self, group: Sequence[Tracked], charges: Charges, ready: float, now: float) -> None:
        for pair in charges:
            self._blocked[pair] = max(ready, self._blocked.get(pair, ready))
        if self.wake_at is None or ready < self.wake_at:
            self.wake_at = ready
        named = getattr(group[0].request, "pair", None)
        pair = named if isinstance(named, str) else next(iter(charges))
        for tracked in group:
            if tracked.handle not in self._announced:
                self._announced.add(tracked.handle)
                self._events.append(
                    OrderPaced(
                        handle=tracked.handle,
                        request=tracked.request,
                        pair=pair,
                        wait_seconds=ready - now,
                    )
                )

    def expire(self, now: float) -> None:
        """``handle_timeout(now)`` ran its pass: a wake time still due means no pass could run
        (no link): the next link's pass decides again, so the deadline is dropped."""
        if self.wake_at is not None and self.wake_at <= now:
            self.wake_at = None

    # --- costs ------------------------------------------------------------------------------

    def _charges(self, request: Request, rows: int, now: float) -> Charges | None:
        if isinstance(request, AddOrder):
            cost = batch_add_cost(rows) if rows > 1 and self._half_batches else rows * add_cost()
            return {_key(request.pair): cost}
        if isinstance(request, CancelOrder):
            return self._cancel_charges(request, now)
        if isinstance(request, EditOrder):
            key = request.orderid if isinstance(request.orderid, str) else None
            return {_key(request.pair): edit_cost(self._age(key, now))}
        if isinstance(request, AmendOrder):
            key = request.txid or request.cl_ord_id
            assert key is not None  # AmendOrder holds exactly one of them
            pair = _key(request.pair) if request.pair else self._pair_of(key)
            return None if pair is None else {pair: amend_cost(self._age(key, now))}
        if isinstance(request, CancelAll):
            pairs = {self._pair_of(txid) for txid in self._orders.table.open_orders()}
            return dict.fromkeys((p for p in pairs if p is not None), cancel_all_cost(1))
        assert isinstance(request, CancelAllOrdersAfter)  # check_trading admits no other
        return {ACCOUNT: cancel_all_after_cost()}

    def _cancel_charges(self, request: CancelOrder, now: float) -> Charges | None:
        keys: list[str] = [*request.txid, *request.cl_ord_id]
        if request.userref:
            wanted = set(request.userref)
            keys += [
                txid
                for txid, order in self._orders.table.open_orders().items()
                if order.userref in wanted
            ]
        charges: Charges = {}
        for key in keys:
            pair = self._pair_of(key)
            if pair is None:
                return None  # an order the session does not know: wait for what came before
            charges[pair] = charges.get(pair, 0.0) + cancel_cost(self._age(key, now))
        return charges or None

    def _pair_of(self, key: str) -> str | None:
        txid = self._orders.cl_ord_ids.get(key, key)
        pair = self._pairs.get(key) or self._pairs.get(txid)
        if pair is not None:
            return pair
        order = self._orders.table.get(txid)
        if order is None or order.descr is None or order.descr.pair is None:
            return None
        return _key(order.descr.pair)

    def _age(self, key: str | None, now: float) -> float | None:
        if key is None:
            return None  # by userref: taken as new
        opened = self._opened.get(key)
        if opened is None:
            # First needed now: the order is at least 0 s old from here on.
            self._note(self._opened, key, now)
            return 0.0
        return now - opened

    def _note(self, memory: dict[str, float] | dict[str, str], key: str, value: object) -> None:
        memory.pop(key, None)
        memory[key] = value  # type: ignore[assignment]
        if len(memory) > self._bound:
            del memory[next(iter(memory))]

    # --- learning ---------------------------------------------------------------------------

    def finished(self, outcome: RequestOutcome) -> None:
        """A request ended: it is no longer in flight; an order it placed exists from now
        (an edit's replacement carries the original's cl_ord_id: that is new from now too)."""
        self._inflight.pop(outcome.handle, None)
        self._announced.discard(outcome.handle)
        request = outcome.request
        txid = getattr(outcome, "txid", None)
        if isinstance(request, AddOrder | EditOrder) and isinstance(txid, str):
            self._fresh.append(txid)
            self._note(self._pairs, txid, _key(request.pair))
        if isinstance(request, AddOrder) and request.cl_ord_id is not None:
            self._fresh.append(request.cl_ord_id)
        elif isinstance(request, EditOrder) and isinstance(request.orderid, str):
            original = self._orders.table.get(request.orderid)
            if original is not None and original.cl_ord_id is not None:
                self._fresh.append(original.cl_ord_id)

    def subscribed(self, event: RequestCompleted) -> None:
        """A subscribe completed: the ``maxratecount`` its ack reports becomes the threshold
        (``TradingCounter.set_threshold``)."""
        maximum = maxratecount_of(event)
        if maximum is not None:
            self.counter.set_threshold(maximum)

    def observe(self, event: OpenOrders) -> None:
        """An openOrders frame: keep the ``ratecount`` it carries for ``settle``."""
        for txid, record in event.orders:
            count = record.ratecount
            if count is None:
                continue
            pair = self._pair_of(txid)
            if pair is None and record.descr is not None and record.descr.pair is not None:
                pair = _key(record.descr.pair)
            if pair is not None:
                self._resyncs.append((pair, count))

    def settle(self, now: float) -> None:
        """Stamp what was learnt since the last call with ``now``."""
        for key in self._fresh:
            self._note(self._opened, key, now)
        self._fresh.clear()
        pending: Charges = {}
        for charges in self._inflight.values():
            for pair, cost in charges.items():
                pending[pair] = pending.get(pair, 0.0) + cost
        counter = self.counter
        for pair, count in self._resyncs:
            # The frame may predate requests in flight on the pair: the count is at least
            # Kraken's, and at most Kraken's plus all of them (and no more than the model).
            reported = float(count)
            level = min(counter.level(pair, now), reported + pending.get(pair, 0.0))
            counter.resync(pair, max(reported, level), now)
        self._resyncs.clear()
