"""Turning the book's changes into openOrders and ownTrades frames for every subscriber."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ._format import fixed
from ._orders import Order, PairFormat
from ._sessions import Session
from ._views import TradeView

__all__ = ["POSTXID", "Channels", "trade_record"]

POSTXID = "TKH2SE-M7IF5-CFI7LT"  # Kraken's constant placeholder for spot trades


def trade_record(
    trade: TradeView, fmt: PairFormat, *, update: bool, with_userref: bool = False
) -> dict[str, Any]:
    """One ownTrades entry.

    Kraken's doc says updates carry ``userref``/``cl_ord_id``; no captured real update
    (2020-2023) has either, so they appear only when ``with_userref`` asks for the doc's
    behaviour, and then in updates only (never in snapshots).
    """
    record: dict[str, Any] = {
        "cost": fmt.price(trade.cost),
        "fee": fmt.price(trade.fee),
        "margin": fmt.price(trade.margin),
        "ordertxid": trade.ordertxid,
        "ordertype": trade.ordertype,
        "pair": trade.pair,
        "postxid": POSTXID,
        "price": fmt.price(trade.price),
        "time": fixed(trade.time, 6),
        "type": trade.side,
        "vol": fmt.volume(trade.vol),
    }
    if update and with_userref:
        record["userref"] = trade.userref
        if trade.cl_ord_id is not None:
            record["cl_ord_id"] = trade.cl_ord_id
    return record


class Channels:
    """Broadcasts book changes to the sessions subscribed to each channel."""

    def __init__(self, sessions: dict[int, Session], *, owntrades_userref: bool = False) -> None:
        self._sessions = sessions
        self._owntrades_userref = owntrades_userref

    def order_update(
        self, order: Order, delta: dict[str, Any], now: float, ratecount: Decimal
    ) -> None:
        """One openOrders entry for every subscriber (with ``ratecount`` if they asked)."""
        for session in self._sessions.values():
            subscription = session.subscriptions.get("openOrders")
            if subscription is None:
                continue
            entry = delta
            if subscription.ratecounter:
                entry = {**delta, "ratecount": fixed(ratecount, 4)}
            session.channel("openOrders", [{order.txid: entry}], now)

    def trade_update(self, trade: TradeView, fmt: PairFormat, *, consolidated: bool) -> None:
        """One trade for the ownTrades subscribers of that view (consolidated or not)."""
        record: dict[str, Any] | None = None
        for session in self._sessions.values():
            subscription = session.subscriptions.get("ownTrades")
            if subscription is not None and subscription.consolidate_taker == consolidated:
                record = record or trade_record(
                    trade, fmt, update=True, with_userref=self._owntrades_userref
                )
                session.channel("ownTrades", [{trade.trade_id: record}], float(trade.time))
