"""What REST and the order table say about a request whose answer was lost (pure checks).

Each check looks at Kraken's records of the orders a request touched and says whether the
request took effect (True), did not (False), or cannot be told (None). Kraken's records are
the evidence; nothing is inferred from timing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from kraken_proto._orders import TERMINAL_STATUSES
from kraken_proto.rest._results import RestOrder, RestTrade
from kraken_proto.v1._events import OrderDescr, OrderRecord, Trade
from kraken_proto.v1._requests import AmendOrder

__all__ = [
    "amend_took_effect",
    "cancel_took_effect",
    "edit_took_effect",
    "order_record",
    "statuses_of",
    "trade_of",
]

_REPLACED = "order replaced"


def cancel_took_effect(statuses: Iterable[str | None]) -> bool:
    """A cancel took effect when every order it named ended ``canceled``."""
    return all(status == "canceled" for status in statuses)


def edit_took_effect(order: RestOrder) -> bool:
    """An edit took effect when the original order was cancelled as replaced."""
    reason = (order.reason or "").lower()
    return order.status == "canceled" and _REPLACED in reason


def amend_took_effect(request: AmendOrder, order: RestOrder) -> bool | None:
    """An amend took effect when the order now has every value it asked for; None when a
    value cannot be compared (a relative price)."""
    checks: list[tuple[object, Decimal | None]] = [
        (request.volume, order.vol),
        (request.limit_price, order.descr.price),
        (request.trigger_price, order.stopprice),
    ]
    if request.display_volume is not None:
        return None  # REST records do not show the display volume
    compared = False
    for wanted, actual in checks:
        if wanted is None:
            continue
        if not isinstance(wanted, Decimal):
            return None
        compared = True
        if actual is None or actual != wanted:
            return False
    return True if compared else None


def order_record(order: RestOrder, *, full: bool = False) -> OrderRecord:
    """The openOrders-style delta that brings a table entry to ``order``'s state; with
    ``full``, also its ``descr`` (for an order the table never saw; ``pair`` is REST's)."""
    descr = None
    if full:
        rest = order.descr
        descr = OrderDescr(
            pair=rest.pair,
            type=rest.type,
            ordertype=rest.ordertype,
            price=rest.price,
            price2=rest.price2,
            leverage=rest.leverage,
            order=rest.order,
            close=rest.close,
        )
    return OrderRecord(
        descr=descr,
        opentm=order.opentm if full else None,
        oflags=order.oflags if full else None,
        status=order.status,
        userref=order.userref,
        cl_ord_id=order.cl_ord_id,
        vol=order.vol,
        vol_exec=order.vol_exec,
        cost=order.cost,
        fee=order.fee,
        avg_price=order.price,
        lastupdated=order.closetm,
        cancel_reason=order.reason if order.status in TERMINAL_STATUSES else None,
    )


def trade_of(trade: RestTrade) -> Trade:
    """A REST trade record as the ownTrades ``Trade`` fields (``pair`` stays REST's name)."""
    return Trade(
        ordertxid=trade.ordertxid,
        postxid=trade.postxid,
        pair=trade.pair,
        time=trade.time,
        type=trade.type,
        ordertype=trade.ordertype,
        price=trade.price,
        cost=trade.cost,
        fee=trade.fee,
        vol=trade.vol,
        margin=trade.margin,
    )


def statuses_of(orders: Mapping[str, RestOrder], txids: Iterable[str]) -> list[str | None]:
    """The status of each txid in ``orders`` (None when Kraken did not return it)."""
    return [None if (order := orders.get(txid)) is None else order.status for txid in txids]
