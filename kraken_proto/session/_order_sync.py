"""The session's order table kept equal to Kraken's book: openOrders frames, REST lookups of
orders a snapshot left out (vanished), and the cl_ord_id -> txid memory reconciliation uses.

Each openOrders snapshot is authoritative; an order it leaves out has ended somehow, and
``QueryOrders`` says how (final status and totals). REST never overrides an order the table
knows as open: a live update may be newer than the REST record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kraken_proto._no_entries import NO_ENTRIES, writable
from kraken_proto._orders import TERMINAL_STATUSES, OrderTable
from kraken_proto.rest._calls import build_query_orders_request
from kraken_proto.rest._errors import InvalidArgumentsError, UnknownOrderError
from kraken_proto.rest._request import RestRequest
from kraken_proto.rest._results import RestOrder, parse_query_orders_response
from kraken_proto.v1._events import OpenOrders, OrderRecord
from kraken_proto.v2._events import Executions
from kraken_proto.v2._table_updates import apply_executions
from kraken_proto.v2._translation import open_orders

from ._context import SessionContext
from ._events import FillSource, OrdersChanged
from ._fill_ledger import FillLedger
from ._reconcile_checks import order_record
from ._rest import RestJob

__all__ = ["QUERY_BATCH", "OrderSync"]

QUERY_BATCH = 50  # txids per QueryOrders call (Kraken's limit)


class OrderSync:
    """The session's ``OrderTable`` (``table``), kept from openOrders frames and REST records.

    ``vanished`` holds the txids a snapshot dropped, still to be looked up (in order).
    """

    __slots__ = (
        "_credentials",
        "_events",
        "_max_finished",
        "_rest",
        "cl_ord_ids",
        "ledger",
        "looking_up",
        "observer",
        "table",
        "vanished",
    )

    def __init__(self, context: SessionContext, *, ledger: FillLedger | None = None) -> None:
        self._max_finished = context.config.max_finished
        self.table = OrderTable(max_finished=self._max_finished)
        self._credentials = context.credentials
        self._rest = context.rest
        self._events = context.events
        self.cl_ord_ids: dict[str, str] = NO_ENTRIES  # most recently seen last
        self.ledger = ledger  # the key's ledger: cl_ord_ids seen are published there
        self.vanished: dict[str, None] = NO_ENTRIES
        self.looking_up = False  # a QueryOrders of vanished orders is under way
        self.observer: Callable[[OpenOrders], None] | None = None  # the pacer, when pacing

    def apply(self, event: OpenOrders, *, snapshot: bool) -> None:
        """Apply one openOrders frame (``snapshot``: the link's first, authoritative)."""
        changes = self.table.apply(event, snapshot=snapshot)
        if self.observer is not None:
            self.observer(event)
        orders = event.orders
        if len(orders) == 1 and not snapshot:
            # The usual live delta: one entry, and a delta never vanishes an order. The loops
            # below, without their iterators.
            txid, record = orders[0]
            cl_ord_id = record.cl_ord_id
            if cl_ord_id is not None:
                self.remember(cl_ord_id, txid)
            if changes.updated or changes.added or changes.stubs:
                self._events.append(OrdersChanged(changes=changes, source="live"))
            return
        for txid, record in orders:
            cl_ord_id = record.cl_ord_id
            if cl_ord_id is not None:
                self.remember(cl_ord_id, txid)
        # ``bool(changes)`` spelt out without the Python-level ``__bool__`` call; every
        # finished order is also in added, stubs or updated.
        vanished = changes.vanished
        if changes.updated or changes.added or changes.stubs or vanished:
            source: FillSource = "snapshot" if snapshot else "live"
            self._events.append(OrdersChanged(changes=changes, source=source))
        if vanished:
            self.vanished = writable(self.vanished)
        for order in vanished:
            self.vanished[order.txid] = None

    def apply_update(self, push: Executions) -> None:
        """Apply one v2 executions update (the v2 link's usual frame) as ``apply`` applies its
        ``OpenOrders``: the table's changes by ``v2.apply_executions``, which builds no v1
        frame for the usual one-record push (a pacer, which reads v1 frames, gets it built)."""
        if self.observer is not None:
            self.apply(open_orders(push), snapshot=False)
            return
        changes = apply_executions(self.table, push)
        for record in push.data:
            cl_ord_id = record.cl_ord_id
            txid = record.order_id
            if cl_ord_id is not None and txid is not None:
                self.remember(cl_ord_id, txid)
        # A delta never vanishes an order; every finished one is also in added, stubs or updated.
        if changes.updated or changes.added or changes.stubs:
            self._events.append(OrdersChanged(changes=changes, source="live"))

    def remember(self, cl_ord_id: str, txid: str) -> None:
        """Note that ``cl_ord_id`` is the order ``txid`` (bounded: twice ``max_finished``), and
        publish it to the key's ledger the first time."""
        known = self.cl_ord_ids
        if known is NO_ENTRIES:  # ``writable``, inline: this runs on most order frames
            known = self.cl_ord_ids = {}
        if known.pop(cl_ord_id, None) is None and self.ledger is not None:
            self.ledger.publish_order(cl_ord_id, txid)
        known[cl_ord_id] = txid
        if len(known) > 2 * self._max_finished:
            del known[next(iter(known))]

    def remembers_all(self, count: int) -> bool:
        """True when a snapshot of ``count`` orders, just applied, left every one of its
        cl_ord_ids in ``cl_ord_ids`` (the memory keeps the latest ``2 * max_finished``)."""
        return count <= 2 * self._max_finished

    def look_up_vanished(self) -> None:
        """Ask QueryOrders about the first vanished orders; their REST records then go into
        the table (even over an open entry: the snapshot said it is gone).

        The batch is taken when the call goes out, not when it is queued: orders that vanish
        from later snapshots while it waits for the key's REST budget ride along in the same
        call instead of a call each."""
        sent: list[tuple[str, ...]] = [()]
        self.looking_up = True

        def batch() -> tuple[str, ...]:
            sent[0] = tuple(self.vanished)[:QUERY_BATCH]
            return sent[0]

        def resolved(orders: dict[str, RestOrder]) -> None:
            for txid in sent[0]:
                self.vanished.pop(txid, None)
            self.looking_up = False
            self.absorb(orders, force=frozenset(sent[0]))

        self.lookup(batch, resolved)

    def lookup(
        self,
        batch: tuple[str, ...] | Callable[[], tuple[str, ...]],
        then: Callable[[dict[str, RestOrder]], None],
    ) -> None:
        """QueryOrders for ``batch`` (<= 50 txids, or a callable that gives them when the call
        is sent), then ``then(found)``. Kraken refuses the whole call when one txid is unknown
        (``EGeneral:Invalid arguments``): then each txid is asked alone, and an unknown one is
        left out of ``found``. Every record found is absorbed into the table first."""
        found: dict[str, RestOrder] = {}
        outstanding = [1]

        def ask(chosen: tuple[str, ...] | Callable[[], tuple[str, ...]]) -> None:
            asked = [chosen if isinstance(chosen, tuple) else ()]

            def build(nonce: int) -> RestRequest:
                if not isinstance(chosen, tuple):
                    asked[0] = chosen()
                return build_query_orders_request(self._credentials, nonce=nonce, txids=asked[0])

            def on_answer(status: int, body: bytes, now: float) -> None:
                try:
                    orders = dict(parse_query_orders_response(status, body).orders)
                except (InvalidArgumentsError, UnknownOrderError):
                    txids = asked[0]
                    if len(txids) > 1:
                        outstanding[0] += len(txids) - 1
                        for txid in txids:
                            ask((txid,))
                        return
                    orders = {}
                self.absorb(orders)
                found.update(orders)
                outstanding[0] -= 1
                if not outstanding[0]:
                    then(found)

            self._rest.add(RestJob(purpose="QueryOrders", cost=1, build=build, on_answer=on_answer))

        ask(batch)

    def absorb(
        self, orders: Mapping[str, RestOrder], *, force: frozenset[str] = frozenset()
    ) -> None:
        """Bring REST's view of ``orders`` into the table: orders it never saw, final states,
        and (``force``) orders that vanished from a snapshot. A REST record of an order the
        table knows as still open is not applied: a live update may be newer."""
        records: list[tuple[str, OrderRecord]] = []
        for txid, order in orders.items():
            if order.cl_ord_id is not None:
                self.remember(order.cl_ord_id, txid)
            known = self.table.get(txid)
            if known is None:
                records.append((txid, order_record(order, full=True)))
            elif txid in force or (
                order.status in TERMINAL_STATUSES
                and (known.status != order.status or known.vol_exec != order.vol_exec)
            ):
                records.append((txid, order_record(order)))
        if records:
            changes = self.table.apply(OpenOrders(orders=tuple(records)), snapshot=False)
            if changes:
                self._events.append(OrdersChanged(changes=changes, source="rest"))
