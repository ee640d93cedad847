"""The account's order book and matching engine (pure).

``Book`` holds the live orders, the trade history, balances, rate counters and timers, and
runs the simple matching model: market orders and marketable limits fill at the reference
price as taker, resting limits fill at their price as maker when the reference moves through
them, triggered orders fire when the reference crosses their trigger. Every fill is split into
1-3 parts by the rng. It reports each change to its ``BookListener``, which frames it.
"""

from __future__ import annotations

import heapq
from decimal import ROUND_UP, Decimal
from typing import Any, Protocol

from ._accounts import Account
from ._config import SimulatorConfig, fee_rate
from ._format import RandomLike, fixed, kraken_id, timestamp
from ._matching import crosses, split_volume, trigger_fires, update_trailing
from ._orders import LIMIT_AFTER_TRIGGER, TRIGGERED_TYPES, Order, PairFormat
from ._params import Reject, userref_arg
from ._ratelimit import RateCounters
from ._views import TradeView

__all__ = ["SYSTEM_STATUSES", "Book", "BookListener"]

SYSTEM_STATUSES = ("online", "maintenance", "cancel_only", "post_only")
_ZERO = Decimal(0)


class BookListener(Protocol):
    """Receives every change the book makes, to turn it into channel frames."""

    def order_update(
        self, order: Order, delta: dict[str, Any], now: float, ratecount: Decimal
    ) -> None: ...

    def trade_update(self, trade: TradeView, fmt: PairFormat, *, consolidated: bool) -> None: ...


class Book:
    """Orders, trades, balances and timers of the one simulated account."""

    def __init__(self, config: SimulatorConfig, rng: RandomLike, listener: BookListener) -> None:
        self.config = config
        self.rng = rng
        self.listener = listener
        self.status = config.system_status
        self.reference = {name: pair.reference_price for name, pair in config.pairs.items()}
        self.formats = {
            name: PairFormat(
                name, pair.price_decimals, pair.volume_decimals, pair.wire_places, pair.rest_name
            )
            for name, pair in config.pairs.items()
        }
        self.live: dict[str, Order] = {}  # pending and open orders, in placement order
        self.orders: dict[str, Order] = {}  # every order ever placed, finished ones too
        self.trades: dict[str, TradeView] = {}  # history as consolidating subscribers see it
        self.fills: dict[str, TradeView] = {}  # every individual fill
        self.account = Account(config.balances)
        self.rates = RateCounters(config.maxratecount, config.rate_decay_per_second)
        self.dead_man_at: float | None = None
        self._timers: list[tuple[float, int, str, str]] = []  # (when, seq, kind, txid)
        self._timer_seq = 0

    def announce(self, order: Order, delta: dict[str, Any], now: float) -> None:
        """Report one openOrders entry (with the pair's current rate count)."""
        self.listener.order_update(order, delta, now, self.rates.value(order.pair, now))

    def move(self, pair: str, price: Decimal, now: float) -> None:
        """Set a pair's reference price; while online, orders it reaches execute."""
        self.run_timers(now)
        self.reference[pair] = price
        if self.status == "online":
            for order in list(self.live.values()):
                if order.pair == pair and order.live and not order.scheduled:
                    self.evaluate(order, now, moved=True)

    def resume(self, now: float) -> None:
        """After a status change: when online, deferred timers run and crossed orders fill."""
        if self.status == "online":
            self.run_timers(now)
            for order in list(self.live.values()):
                if order.live and not order.scheduled:
                    self.evaluate(order, now, moved=True)

    def check_post_only(self, order: Order, limit: Decimal | None) -> None:
        reference = self.reference[order.pair]
        if order.post_only and limit is not None and crosses(order.side, limit, reference):
            raise Reject("EOrder:Post only order")

    def fee(self, pair: str, *, maker: bool) -> Decimal:
        """The account's fee rate on ``pair`` (its tier by the configured 30-day volume)."""
        config = self.config.pairs[pair]
        return fee_rate(config.fees_maker if maker else config.fees, self.config.fee_volume)

    def required(self, order: Order) -> tuple[str, Decimal]:
        """What an order may spend: quote (with the taker fee) for a buy, base for a sell.

        A margin order holds only its initial margin (cost / leverage) plus the fee, in quote.
        """
        config = self.config.pairs[order.pair]
        if order.side == "sell" and order.leverage is None:
            return config.base, order.remaining
        reference = self.reference[order.pair]
        if order.ordertype in ("trailing-stop", "trailing-stop-limit"):
            basis = reference + order.price + max(order.limit_offset, _ZERO)
        else:
            basis = max(
                order.price, order.price2, reference if order.ordertype == "market" else _ZERO
            )
        if order.side == "sell":  # a margin sell: valued at the best price it could get
            basis = max(basis, reference)
        taker = self.fee(order.pair, maker=False)
        amount = order.remaining * basis
        amount = (
            amount * (1 / Decimal(order.leverage) + taker)
            if order.leverage
            else amount * (1 + taker)
        )
        return config.quote, amount.quantize(Decimal(1).scaleb(-order.fmt.quote_places), ROUND_UP)

    def check_funds(self, order: Order, *, replacing: str | None = None) -> None:
        asset, amount = self.required(order)
        if amount > self.account.available(asset, ignoring=replacing):
            raise Reject("EOrder:Insufficient funds")

    def place(self, order: Order, now: float) -> None:
        """Book a validated order: reserve funds, announce it, start it unless scheduled."""
        asset, amount = self.required(order)
        self.account.reserve(order.txid, asset, amount)
        self.live[order.txid] = order
        self.orders[order.txid] = order
        if order.expiretm is not None:
            self._add_timer(float(order.expiretm), "expire", order.txid)
        self.announce(order, order.full_record(), now)
        if order.starttm is not None:
            self._add_timer(float(order.starttm), "start", order.txid)
            return
        self.activate(order, now)

    def activate(self, order: Order, now: float) -> None:
        order.status = "open"
        self.announce(order, {"status": "open", "userref": order.userref}, now)
        if order.ordertype in ("trailing-stop", "trailing-stop-limit"):
            update_trailing(order, self.reference[order.pair])
        if self.status == "online":
            self.evaluate(order, now, moved=False)
        if order.live and order.timeinforce == "IOC":
            self.finish(order, "canceled", now, reason="Immediate or cancel")

    def evaluate(self, order: Order, now: float, *, moved: bool) -> None:
        """Match one live order against its pair's reference price.

        ``moved`` is True when the price came to a resting order (it fills as maker at its
        limit); False when the order arrives at the market (it fills as taker at the price).
        """
        reference = self.reference[order.pair]
        if order.ordertype == "market":
            self._execute(order, reference, maker=False, now=now)
            return
        if order.ordertype in TRIGGERED_TYPES and not order.triggered:
            level = trigger_fires(order, reference)
            if level is not None:
                self._trigger(order, level, now)
                if order.ordertype not in LIMIT_AFTER_TRIGGER:
                    self._execute(order, reference, maker=False, now=now)
                    return
                moved = False
        limit = order.acts_as_limit()
        if limit is not None and crosses(order.side, limit, reference):
            if moved:
                self._execute(order, limit, maker=True, now=now)
            else:
                self._execute(order, reference, maker=False, now=now)

    def _trigger(self, order: Order, level: Decimal, now: float) -> None:
        order.triggered = True
        order.stopprice = level
        if order.ordertype == "trailing-stop-limit":
            order.limitprice = level + order.limit_offset
        elif order.ordertype == "stop-loss-profit-limit":
            order.limitprice = level
        elif order.ordertype in LIMIT_AFTER_TRIGGER:
            order.limitprice = order.price2
        order.misc = "touched" if order.ordertype.startswith("take-profit") else "stopped"
        if order.ordertype.startswith("stop-loss-profit") and level == order.price2:
            order.misc = "touched"
        delta = {
            "lastupdated": fixed(timestamp(now), 6),
            "limitprice": order.fmt.price(order.limitprice),
            "misc": order.misc,
            "stopprice": order.fmt.price(order.stopprice),
            "userref": order.userref,
        }
        self.announce(order, delta, now)

    def _execute(self, order: Order, price: Decimal, *, maker: bool, now: float) -> None:
        """Fill the whole remaining volume at ``price`` in 1-3 parts, then close the order."""
        fmt = order.fmt
        config = self.config.pairs[order.pair]
        quant = Decimal(1).scaleb(-fmt.quote_places)
        rate = self.fee(order.pair, maker=maker)
        parts = split_volume(order.remaining, fmt.volume_places, self.rng)
        when = timestamp(now)
        fills: list[TradeView] = []
        for vol in parts:
            cost = (price * vol).quantize(quant)
            fee = (cost * rate).quantize(quant)
            order.vol_exec += vol
            order.notional += price * vol
            order.cost += cost
            order.fee += fee
            if order.leverage is None:
                self.account.settle(
                    side=order.side,
                    base=config.base,
                    quote=config.quote,
                    vol=vol,
                    cost=cost,
                    fee=fee,
                )
            else:  # a margin fill opens a position: only the fee leaves the account
                self.account.pay_fee(config.quote, fee)
            fill = TradeView(
                trade_id=kraken_id(self.rng, "T"),
                ordertxid=order.txid,
                pair=order.pair,
                side=order.side,
                ordertype=order.ordertype,
                price=price,
                vol=vol,
                cost=cost,
                fee=fee,
                time=when,
                userref=order.userref,
                cl_ord_id=order.cl_ord_id,
                maker=maker,
                margin=_margin(cost, order.leverage, quant),
            )
            fills.append(fill)
            self.fills[fill.trade_id] = fill
            self.listener.trade_update(fill, order.fmt, consolidated=False)
            # Every fill, the last one too, is a delta of cumulative totals; the closed delta
            # below repeats those totals (as captured from the live service). A client must
            # treat them as totals, never add them up.
            self.announce(order, {**order.totals(), "userref": order.userref}, now)
        if len(fills) == 1 or maker:
            for fill in fills:
                self.trades[fill.trade_id] = fill
                self.listener.trade_update(fill, order.fmt, consolidated=True)
        else:
            merged = TradeView(
                trade_id=kraken_id(self.rng, "T"),
                ordertxid=order.txid,
                pair=order.pair,
                side=order.side,
                ordertype=order.ordertype,
                price=order.avg_price,
                vol=sum((fill.vol for fill in fills), _ZERO),
                cost=sum((fill.cost for fill in fills), _ZERO),
                fee=sum((fill.fee for fill in fills), _ZERO),
                time=when,
                userref=order.userref,
                cl_ord_id=order.cl_ord_id,
                maker=False,
                margin=sum((fill.margin for fill in fills), _ZERO),
            )
            self.trades[merged.trade_id] = merged
            self.listener.trade_update(merged, order.fmt, consolidated=True)
        self.finish(order, "closed", now)
        if order.close_type is not None:
            self._place_close(order, now)

    def _place_close(self, primary: Order, now: float) -> None:
        """Place the conditional close order of a filled primary (OTO)."""
        assert primary.close_type is not None
        close = Order(
            txid=kraken_id(self.rng, "O"),
            fmt=primary.fmt,
            side="sell" if primary.side == "buy" else "buy",
            ordertype=primary.close_type,
            vol=primary.vol,
            price=primary.close_price,
            price2=primary.close_price2,
            opentm=timestamp(now),
            userref=primary.userref,
            cl_ord_id=None,
            oflags="fciq",
            timeinforce="GTC",
            starttm=None,
            expiretm=None,
            leverage=primary.leverage,
        )
        self.place(close, now)

    def finish(self, order: Order, status: str, now: float, *, reason: str | None = None) -> None:
        """Move an order to a terminal status and announce it with its totals."""
        order.status = status
        self.live.pop(order.txid, None)
        self.account.release(order.txid)
        delta: dict[str, Any] = {
            "lastupdated": fixed(timestamp(now), 6),
            "status": status,
            **order.totals(),
            "userref": order.userref,
        }
        if reason is not None:
            delta["cancel_reason"] = reason
        self.announce(order, delta, now)

    def forget(
        self, txids: list[str], before: Decimal
    ) -> tuple[dict[str, Order], dict[str, TradeView], dict[str, TradeView]]:
        """Drop the finished orders ``txids`` and the trades and fills made before ``before``
        (those of a live order stay); return what was dropped: orders, trades, fills."""
        orders = {txid: self.orders.pop(txid) for txid in txids if txid not in self.live}
        return (
            orders,
            self._forget_trades(self.trades, before),
            self._forget_trades(self.fills, before),
        )

    def _forget_trades(
        self, history: dict[str, TradeView], before: Decimal
    ) -> dict[str, TradeView]:
        live = self.live
        gone = [
            trade
            for trade in history.values()
            if trade.time < before and trade.ordertxid not in live
        ]
        for trade in gone:
            del history[trade.trade_id]
        return {trade.trade_id: trade for trade in gone}

    def find(self, ident: str) -> list[Order]:
        """Live orders an id names: a txid, or every order with that userref."""
        order = self.live.get(ident)
        if order is not None:
            return [order]
        try:
            userref = userref_arg(ident, "txid")
        except Reject:
            return []
        return [order for order in self.live.values() if order.userref == userref]

    def _add_timer(self, when: float, kind: str, txid: str) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (when, self._timer_seq, kind, txid))

    def _timer_current(self, kind: str, txid: str) -> bool:
        order = self.live.get(txid)
        if order is None:
            return False
        return order.scheduled if kind == "start" else True

    def next_timer(self) -> float | None:
        while self._timers and not self._timer_current(self._timers[0][2], self._timers[0][3]):
            heapq.heappop(self._timers)
        candidates = [self._timers[0][0]] if self._timers else []
        if self.dead_man_at is not None and self.status != "maintenance":
            candidates.append(self.dead_man_at)
        return min(candidates, default=None)

    def run_timers(self, now: float) -> None:
        """Fire due order timers and the dead man's switch in time order, each at its time."""
        while True:
            due = self.next_timer()
            if due is None or due > now:
                return
            if (
                self.dead_man_at is not None
                and self.dead_man_at == due
                and self.status != "maintenance"
            ):
                self.dead_man_at = None
                for order in list(self.live.values()):
                    self.finish(order, "canceled", due, reason="User requested")
                continue
            when, _, kind, txid = heapq.heappop(self._timers)
            order = self.live[txid]
            if kind == "start":
                self.activate(order, when)
            else:
                self.finish(order, "expired", when)


def _margin(cost: Decimal, leverage: int | None, quant: Decimal) -> Decimal:
    """A fill's initial margin: cost / leverage for a margin order, zero for spot."""
    if leverage is None:
        return _ZERO
    return (cost / leverage).quantize(quant)
