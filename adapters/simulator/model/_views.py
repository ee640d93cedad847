"""Read-only snapshots of the model's orders and trades, for tests and tools."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ._orders import Order

__all__ = ["OrderView", "TradeView", "order_view"]


@dataclass(frozen=True)
class OrderView:
    """A snapshot of one order as the model holds it."""

    txid: str
    pair: str
    side: str
    ordertype: str
    status: str
    vol: Decimal
    vol_exec: Decimal
    cost: Decimal
    fee: Decimal
    avg_price: Decimal
    price: Decimal
    price2: Decimal
    userref: int
    cl_ord_id: str | None
    oflags: str
    opentm: Decimal
    starttm: Decimal | None
    expiretm: Decimal | None
    amended: bool
    leverage: int | None = None


@dataclass(frozen=True)
class TradeView:
    """One execution as the account's trade history shows it."""

    trade_id: str
    ordertxid: str
    pair: str
    side: str
    ordertype: str
    price: Decimal
    vol: Decimal
    cost: Decimal
    fee: Decimal
    time: Decimal
    userref: int
    cl_ord_id: str | None
    maker: bool
    margin: Decimal = Decimal(0)  # initial margin of a margin order's fill, 0 for spot


def order_view(order: Order) -> OrderView:
    return OrderView(
        txid=order.txid,
        pair=order.pair,
        side=order.side,
        ordertype=order.ordertype,
        status=order.status,
        vol=order.vol,
        vol_exec=order.vol_exec,
        cost=order.cost,
        fee=order.fee,
        avg_price=order.avg_price,
        price=order.price,
        price2=order.price2,
        userref=order.userref,
        cl_ord_id=order.cl_ord_id,
        oflags=order.oflags,
        opentm=order.opentm,
        starttm=order.starttm,
        expiretm=order.expiretm,
        amended=order.amended,
        leverage=order.leverage,
    )
