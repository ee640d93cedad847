"""Deciding the outcome of a request whose answer was lost, from Kraken's records.

An ``AddOrder`` is looked for by its ``cl_ord_id``: in the openOrders frames seen since, then
REST ``OpenOrders`` (skipped when a new link's openOrders snapshot already said it is not
open), then ``ClosedOrders`` (found: applied; not found: not applied). Cancels,
edits and amends are decided from ``QueryOrders`` of the orders they touched
(``_reconcile_checks``); a cancel naming a ``cl_ord_id`` finds its order as an ``AddOrder``
does, and when no order carries it (open, or closed since just before the cancel was sent) it
did not take effect. A late reply arriving meanwhile wins: every REST answer is dropped
once its request has ended.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from kraken_proto._no_entries import writable
from kraken_proto.rest._results import RestOrder
from kraken_proto.v1._requests import AddOrder, AmendOrder, CancelAll, CancelOrder, EditOrder

from ._cl_ord_lookup import find_by_cl_ord_id
from ._context import SessionContext
from ._order_sync import QUERY_BATCH, OrderSync
from ._reconcile_checks import (
    amend_took_effect,
    cancel_took_effect,
    edit_took_effect,
    statuses_of,
)
from ._requests import RequestTracker
from ._tracked import Phase, Tracked

__all__ = ["Reconciler"]

# A ClosedOrders lookup by cl_ord_id looks back this far before the request was sent, so a
# cl_ord_id the caller reused long ago cannot match (generated ids are never reused).
_CLOSED_LOOKBACK = 300.0


class Reconciler:
    """Ends the tracker's doubts with ``RequestApplied``, ``RequestNotApplied`` or (when the
    records cannot tell) ``RequestUnresolved``."""

    __slots__ = (
        "_credentials",
        "_orders",
        "_requests",
        "_rest",
    )

    def __init__(
        self, context: SessionContext, requests: RequestTracker, orders: OrderSync
    ) -> None:
        self._requests = requests
        self._orders = orders
        self._credentials = context.credentials
        self._rest = context.rest

    def release_doubts(self, *, open_known: bool = False) -> None:
        """A new link is synced with the orders: reconcile what the last one's loss left.
        ``open_known``: its openOrders snapshot was just applied, so every open order's
        cl_ord_id is known (an AddOrder not among them is not open: see ``reconcile``)."""
        for tracked in self._requests.waiting_for_link():
            self.reconcile(tracked, open_known=open_known)

    def resolve_seen_orders(self) -> None:
        """An order carrying an in-doubt AddOrder's cl_ord_id appeared: it was placed."""
        requests = self._requests
        for tracked in list(requests.doubts.values()):
            request = tracked.request
            if isinstance(request, AddOrder) and request.cl_ord_id is not None:
                txid = self._orders.cl_ord_ids.get(request.cl_ord_id)
                if txid is not None:
                    requests.applied(tracked, txid, "openOrders")

    def reconcile(self, tracked: Tracked, *, open_known: bool = False) -> None:
        """Start deciding ``tracked`` (a doubt) from Kraken's records. ``open_known``: the
        openOrders snapshot of a link opened after ``tracked`` was sent has been applied, so
        an order carrying one of its cl_ord_ids is either known by now or not open; then REST
        ``OpenOrders`` is skipped (it would only repeat the snapshot, on the key's REST budget
        that several processes share), and an order placed after the snapshot still arrives
        live and decides the request before ``ClosedOrders`` answers."""
        tracked.phase = Phase.RECONCILING
        request = tracked.request
        requests = self._requests
        cl_ord_ids = self._orders.cl_ord_ids
        if isinstance(request, AddOrder):
            self._reconcile_add(tracked, request, open_known)
        elif isinstance(request, CancelOrder):
            if request.userref:
                requests.unresolved(tracked, "a cancel by userref cannot be matched to orders")
                return
            self._reconcile_cancel(tracked, list(request.txid), list(request.cl_ord_id), open_known)
        elif isinstance(request, EditOrder):
            if not isinstance(request.orderid, str):
                requests.unresolved(tracked, "an edit by userref cannot be matched to an order")
                return
            original = request.orderid
            self._query(
                tracked,
                [original],
                lambda orders: self._decide_one(tracked, orders, original, edit_took_effect),
            )
        elif isinstance(request, AmendOrder):
            txid = request.txid
            if txid is None:
                txid = cl_ord_ids.get(request.cl_ord_id or "")
            if txid is None:
                requests.unresolved(tracked, "the amended order's txid is not known")
                return
            amended = txid
            self._query(
                tracked,
                [amended],
                lambda orders: self._decide_one(
                    tracked, orders, amended, lambda order: amend_took_effect(request, order)
                ),
            )
        elif isinstance(request, CancelAll):
            targets = list(tracked.open_at_send[:QUERY_BATCH])
            if not targets:
                requests.applied(tracked, None, "snapshot")
                return
            self._query(
                tracked,
                targets,
                lambda orders: self._decide(
                    tracked,
                    all(
                        status not in ("open", "pending") for status in statuses_of(orders, targets)
                    ),
                    None,
                ),
            )
        else:
            requests.unresolved(
                tracked,
                "Kraken keeps no record of cancelAllOrdersAfter; the switch may or may not "
                "be armed (set SessionConfig.connection.dead_mans_switch_timeout to keep it "
                "armed on every connection)",
            )

    def _reconcile_cancel(
        self, tracked: Tracked, txids: list[str], pending: list[str], open_known: bool
    ) -> None:
        """Decide a cancel of ``txids`` and of the orders carrying the ``pending`` cl_ord_ids:
        those the order table does not know are looked up through REST first."""
        known = self._orders.cl_ord_ids
        while pending and pending[0] in known:
            txids.append(known[pending.pop(0)])
        if pending:
            cl_ord_id = pending.pop(0)

            def found(txid: str | None, via: str) -> None:
                if not self._requests.in_doubt(tracked):
                    return
                if txid is None:
                    # Neither open nor closed since just before the cancel was sent: the
                    # order, if it ever existed, closed before, so this cancel did not close
                    # it (a cancel that took effect leaves its order closed after it).
                    self._requests.not_applied(tracked, via)
                    return
                self._reconcile_cancel(tracked, [*txids, txid], pending, open_known)

            self._find(tracked, cl_ord_id, found, open_known)
            return
        self._query(
            tracked,
            txids,
            lambda orders: self._decide(
                tracked, cancel_took_effect(statuses_of(orders, txids)), None
            ),
        )

    def _decide(self, tracked: Tracked, took_effect: bool | None, txid: str | None) -> None:
        if took_effect is None:
            self._requests.unresolved(
                tracked, "Kraken's records cannot tell whether it took effect"
            )
        elif took_effect:
            self._requests.applied(tracked, txid, "QueryOrders")
        else:
            self._requests.not_applied(tracked, "QueryOrders")

    def _decide_one(
        self,
        tracked: Tracked,
        orders: dict[str, RestOrder],
        txid: str,
        check: Callable[[RestOrder], bool | None],
    ) -> None:
        order = orders.get(txid)
        if order is None:
            self._decide(tracked, False, None)
            return
        took_effect = check(order)
        self._decide(
            tracked, took_effect, txid if isinstance(tracked.request, AmendOrder) else None
        )

    def _query(
        self,
        tracked: Tracked,
        txids: list[str],
        then: Callable[[dict[str, RestOrder]], None],
    ) -> None:
        """QueryOrders of ``txids``, then ``then(found)`` unless a late reply ended it."""

        def decide(orders: dict[str, RestOrder]) -> None:
            if self._requests.in_doubt(tracked):
                then(orders)

        self._orders.lookup(tuple(dict.fromkeys(txids))[:QUERY_BATCH], decide)

    def _reconcile_add(self, tracked: Tracked, request: AddOrder, open_known: bool) -> None:
        cl_ord_id = request.cl_ord_id
        assert cl_ord_id is not None  # submit gives every AddOrder one
        requests = self._requests
        orders = self._orders
        txid = orders.cl_ord_ids.get(cl_ord_id)
        if txid is not None:
            requests.applied(tracked, txid, "openOrders")
            return
        if self._from_ledger(tracked, cl_ord_id):
            return

        def decided(txid: str | None, via: str) -> None:
            if not requests.in_doubt(tracked):
                return  # a late reply ended it meanwhile
            if txid is None:
                requests.not_applied(tracked, via)
            else:
                requests.applied(tracked, txid, via)

        self._find(tracked, cl_ord_id, decided, open_known)

    def _from_ledger(self, tracked: Tracked, cl_ord_id: str) -> bool:
        """Decide ``tracked`` (an AddOrder in doubt) as placed when another session on the
        key saw its order on openOrders (the key's ledger holds its txid); True if so. The
        order's record then comes with the next lookup of vanished orders (one QueryOrders
        for many, where ClosedOrders would ask for it alone)."""
        orders = self._orders
        txid = None if orders.ledger is None else orders.ledger.order_of(cl_ord_id)
        if txid is None:
            return False
        self._requests.applied(tracked, txid, "ledger")
        if orders.table.get(txid) is None:
            orders.vanished = writable(orders.vanished)
            orders.vanished[txid] = None
        return True

    def _find(
        self,
        tracked: Tracked,
        cl_ord_id: str,
        then: Callable[[str | None, str], None],
        open_known: bool,
    ) -> None:
        start = Decimal(repr(tracked.sent_at - _CLOSED_LOOKBACK)).quantize(Decimal(1))
        find_by_cl_ord_id(
            self._credentials,
            self._rest,
            self._orders,
            cl_ord_id,
            start,
            then,
            wanted=lambda: self._requests.in_doubt(tracked),
            open_known=open_known,
            # When ClosedOrders may go out, another session may have seen the order since.
            # (Also for cancels: their doubts never reach the ledger, it only knows orders.)
            closed_wanted=lambda: (
                self._requests.in_doubt(tracked)
                and not (
                    isinstance(tracked.request, AddOrder) and self._from_ledger(tracked, cl_ord_id)
                )
            ),
        )
