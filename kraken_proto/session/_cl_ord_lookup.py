"""Finding the txids of orders known only by ``cl_ord_id``, through REST.

A cancel by ``cl_ord_id`` whose answer was lost is decided from the orders it named; when the
session never saw such an order on openOrders (not subscribed, the frame not yet arrived, the
memory bounded) Kraken's records still know it: ``OpenOrders`` then ``ClosedOrders`` filtered
by ``cl_ord_id``. Each record found goes into the order table, so the cl_ord_id -> txid
memory learns it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from kraken_proto.rest._calls import build_closed_orders_request, build_open_orders_request
from kraken_proto.rest._request import RestRequest
from kraken_proto.rest._results import (
    RestOrder,
    parse_closed_orders_response,
    parse_open_orders_response,
)
from kraken_proto.rest._signing import Credentials

from ._order_sync import OrderSync
from ._rest import RestJob, RestQueue

__all__ = ["find_by_cl_ord_id"]


def find_by_cl_ord_id(
    credentials: Credentials,
    rest: RestQueue,
    orders: OrderSync,
    cl_ord_id: str,
    start: Decimal,
    then: Callable[[str | None, str], None],
    *,
    wanted: Callable[[], bool],
    open_known: bool = False,
    closed_wanted: Callable[[], bool] | None = None,
) -> None:
    """Ask OpenOrders, then ClosedOrders (closed after ``start``, unix seconds), for the order
    carrying ``cl_ord_id``; call ``then(txid, via)`` with its txid (None when neither has it)
    and the call that answered last (``"OpenOrders"``/``"ClosedOrders"``). Records found are
    absorbed into ``orders`` first. Once ``wanted()`` is False (a late reply decided the
    request) no further call is made.

    ``open_known``: the caller knows the order is not open (the openOrders snapshot of a link
    opened since, and every frame after it, left it out; an order placed later still arrives
    there live and decides the request first), so only ClosedOrders is asked: 2 units of the
    key's REST budget instead of 3.

    ``closed_wanted``: asked when ClosedOrders may be sent; False drops the call (the caller
    decided the request meanwhile) and ``then`` is not called."""

    still_wanted = None if closed_wanted is None else (lambda now: closed_wanted())

    def mine(found: dict[str, RestOrder]) -> str | None:
        matching = {txid: order for txid, order in found.items() if order.cl_ord_id == cl_ord_id}
        orders.absorb(matching)
        return next(iter(matching), None)

    def build_open(nonce: int) -> RestRequest:
        return build_open_orders_request(credentials, nonce=nonce, cl_ord_id=cl_ord_id)

    def build_closed(nonce: int) -> RestRequest:
        return build_closed_orders_request(
            credentials, nonce=nonce, cl_ord_id=cl_ord_id, start=start
        )

    def on_closed(status: int, body: bytes, now: float) -> None:
        then(mine(dict(parse_closed_orders_response(status, body).closed)), "ClosedOrders")

    def on_open(status: int, body: bytes, now: float) -> None:
        txid = mine(dict(parse_open_orders_response(status, body).open))
        if txid is not None or not wanted():
            then(txid, "OpenOrders")
            return
        rest.add(closed_job(), first=True)

    def closed_job() -> RestJob:
        return RestJob(
            purpose="ClosedOrders",
            cost=2,
            build=build_closed,
            on_answer=on_closed,
            still_wanted=still_wanted,
        )

    if open_known:
        rest.add(closed_job())
        return
    rest.add(RestJob(purpose="OpenOrders", cost=1, build=build_open, on_answer=on_open))
