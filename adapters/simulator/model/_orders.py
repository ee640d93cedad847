"""One order of the simulated account and how it looks on the openOrders channel (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._format import fixed

__all__ = [
    "LIMIT_AFTER_TRIGGER",
    "ORDER_TYPES",
    "TRIGGERED_TYPES",
    "Order",
    "PairFormat",
    "describe",
]

ORDER_TYPES = frozenset(
    {
        "limit",
        "market",
        "stop-loss",
        "stop-loss-limit",
        "take-profit",
        "take-profit-limit",
        "trailing-stop",
        "trailing-stop-limit",
        "settle-position",
        # older types still listed on the project's seed page
        "stop-loss-profit",
        "stop-loss-profit-limit",
        "stop-loss-and-limit",
    }
)
# Orders that wait for the reference price to cross a trigger before they act.
TRIGGERED_TYPES = frozenset(ORDER_TYPES - {"limit", "market", "settle-position"})
# Triggered types that become a resting limit order instead of a market order.
LIMIT_AFTER_TRIGGER = frozenset(
    {"stop-loss-limit", "take-profit-limit", "trailing-stop-limit", "stop-loss-profit-limit"}
)

_ZERO = Decimal(0)


@dataclass(frozen=True)
class PairFormat:
    """How one pair's numbers are written: order prices, feed amounts and volumes."""

    name: str
    price_places: int  # pair_decimals: the tick of an order price
    volume_places: int  # lot_decimals
    wire_places: int = 5  # prices, costs and fees on the openOrders/ownTrades feeds
    rest_name: str = ""  # REST-style name for addOrderStatus.descr (``XBTUSD``)

    @property
    def quote_places(self) -> int:
        """Places for prices and quote amounts on the feeds."""
        return self.wire_places

    def price(self, value: Decimal) -> str:
        """A price or quote amount as the feeds write it (``"30000.00000"``)."""
        return fixed(value, self.wire_places)

    def pair_price(self, value: Decimal) -> str:
        """A price at the pair's own decimals, as ``addOrderStatus.descr`` writes it."""
        return fixed(value, self.price_places)

    def volume(self, value: Decimal) -> str:
        return fixed(value, self.volume_places)


@dataclass
class Order:
    """Mutable state of one order; money fields hold exactly what the wire shows."""

    txid: str
    fmt: PairFormat
    side: str
    ordertype: str
    vol: Decimal
    price: Decimal  # descr.price: limit price, trigger price or trailing offset
    price2: Decimal  # descr.price2, 0 when unused
    opentm: Decimal
    userref: int
    cl_ord_id: str | None
    oflags: str
    timeinforce: str
    starttm: Decimal | None
    expiretm: Decimal | None
    status: str = "pending"
    vol_exec: Decimal = _ZERO
    cost: Decimal = _ZERO
    fee: Decimal = _ZERO
    triggered: bool = False
    stopprice: Decimal = _ZERO  # current trigger level (trailing stops move it)
    limitprice: Decimal = _ZERO  # limit price once triggered
    watermark: Decimal | None = None  # best reference price seen (trailing stops)
    limit_offset: Decimal = _ZERO  # trailing-stop-limit: signed offset from the trigger
    misc: str = ""
    amended: bool = False
    close_type: str | None = None  # conditional close (OTO)
    close_price: Decimal = _ZERO
    close_price2: Decimal = _ZERO
    leverage: int | None = None  # a margin order's N of "N:1"
    notional: Decimal = _ZERO  # sum of price x volume over the fills, never rounded

    @property
    def pair(self) -> str:
        return self.fmt.name

    @property
    def remaining(self) -> Decimal:
        return self.vol - self.vol_exec

    @property
    def live(self) -> bool:
        return self.status in ("pending", "open")

    @property
    def scheduled(self) -> bool:
        """Waiting for its start time: hidden from matching."""
        return self.status == "pending" and self.starttm is not None

    @property
    def avg_price(self) -> Decimal:
        """The volume-weighted price of the fills, exact (0 before the first fill).

        Computed from the fills' own prices, not from the rounded ``cost``: an order filled
        in parts at one price averages exactly that price, as the live feed shows
        (``"avg_price":"1967.68000"`` after a 0.01 ETH/USD fill at 1967.68, kraken-async-rs
        v0.3.0 capture); cost / volume would drift in the last decimal.
        """
        if not self.vol_exec:
            return _ZERO
        return self.notional / self.vol_exec

    @property
    def post_only(self) -> bool:
        return "post" in self.oflags.split(",")

    def acts_as_limit(self) -> Decimal | None:
        """The limit price this order currently rests at, or None (untriggered or market)."""
        if self.ordertype == "limit":
            return self.price
        if self.ordertype == "stop-loss-and-limit":
            return self.price2
        if self.triggered and self.ordertype in LIMIT_AFTER_TRIGGER:
            return self.limitprice
        return None

    # --- wire rendering ---------------------------------------------------------------------

    def totals(self) -> dict[str, Any]:
        return {
            "vol_exec": self.fmt.volume(self.vol_exec),
            "cost": self.fmt.price(self.cost),
            "fee": self.fmt.price(self.fee),
            "avg_price": self.fmt.price(self.avg_price),
        }

    def descr(self) -> dict[str, Any]:
        """``descr`` of an openOrders record, keys in the order the live feed sends them.

        Real records list ``descr``'s keys alphabetically (``close``, ``leverage``, ``order``,
        ``ordertype``, ``pair``, ``price``, ``price2``, ``type``: kraken-async-rs v0.3.0
        captures, Nov 2023; a USDT/USD record of Dec 2022 in bittrade-kraken-websocket), so the
        newer ``margin`` flag goes where that order puts it.
        """
        descr: dict[str, Any] = {
            "close": self.close_text(),
            # real spot orders carry null; a margin order "N:1" and the margin flag
            "leverage": None if self.leverage is None else f"{self.leverage}:1",
        }
        if self.leverage is not None:
            descr["margin"] = True
        descr.update(
            order=describe(self, rest=False),
            ordertype=self.ordertype,
            pair=self.pair,
            price=self.fmt.price(self.price),
            price2=self.fmt.price(self.price2),
            type=self.side,
        )
        return descr

    def close_text(self) -> str | None:
        if self.close_type is None:
            return None
        text = f"close position @ {self.close_type} {self.fmt.price(self.close_price)}"
        if self.close_price2:
            text += f" -> {self.fmt.price(self.close_price2)}"
        return text

    def full_record(self) -> dict[str, Any]:
        """The full record Kraken sends for a new order and in snapshots."""
        record: dict[str, Any] = {
            "avg_price": self.fmt.price(self.avg_price),
            "cost": self.fmt.price(self.cost),
            "descr": self.descr(),
            "expiretm": None if self.expiretm is None else _plain(self.expiretm),
            "fee": self.fmt.price(self.fee),
            "limitprice": self.fmt.price(self.limitprice),
            "misc": self.misc,
            "oflags": self.oflags,
            "opentm": fixed(self.opentm, 6),
            "refid": None,
            "starttm": None if self.starttm is None else _plain(self.starttm),
            "status": self.status,
            "stopprice": self.fmt.price(self.stopprice),
            "timeinforce": self.timeinforce,
            "userref": self.userref,
            "vol": self.fmt.volume(self.vol),
            "vol_exec": self.fmt.volume(self.vol_exec),
        }
        if self.cl_ord_id is not None:
            record["cl_ord_id"] = self.cl_ord_id
        if self.close_type is not None:
            record["contingent"] = {
                "ordertype": self.close_type,
                "price": self.fmt.price(self.close_price),
                "price2": self.fmt.price(self.close_price2),
                "oflags": "",
            }
        if self.amended:
            record["amended"] = True
        # Live full records list their keys alphabetically (the captures cited in ``descr``);
        # the optional fields none of them shows are assumed to follow the same rule.
        return dict(sorted(record.items()))


def _plain(value: Decimal) -> str:
    """A time as Kraken writes ``starttm``/``expiretm``: whole seconds, integer-looking."""
    return str(value.to_integral_value())


def describe(order: Order, *, rest: bool, price_text: str | None = None) -> str:
    """Kraken's one-line summary of an order, in one of its two real forms.

    ``rest=True`` is the ``addOrderStatus``/``editOrderStatus`` form: REST pair name, prices at
    the pair's decimals, a market order as ``@ market`` (``buy 0.90000000 XBTUSD @ limit
    70000.0``). ``rest=False`` is ``descr.order`` on the openOrders feed: ws pair name, prices
    at the feed's decimals and a market order with its zero price (``buy 5.00000000 ATOM/USD
    @ limit 9.250000``, ``... @ market 0.00000``). ``price_text`` replaces the primary price
    (editOrder echoes the price as the client sent it). A margin order ends ``with N:1
    leverage``.
    """
    fmt = order.fmt
    render = fmt.pair_price if rest else fmt.price
    price = render(order.price) if price_text is None else price_text
    price2 = render(order.price2)
    texts = {
        "limit": f"limit {price}",
        "market": "market" if rest else f"market {price}",
        "stop-loss": f"stop loss {price}",
        "take-profit": f"take profit {price}",
        "stop-loss-limit": f"stop loss {price} -> limit {price2}",
        "take-profit-limit": f"take profit {price} -> limit {price2}",
        "trailing-stop": f"trailing stop +{price}",
        "trailing-stop-limit": f"trailing stop +{price} -> limit {order.limit_offset:+}",
        "stop-loss-profit": f"stop loss {price} -> take profit {price2}",
        "stop-loss-profit-limit": f"stop loss {price} -> take profit {price2} -> limit",
        "stop-loss-and-limit": f"stop loss {price} and limit {price2}",
        "settle-position": "settle position",
    }
    name = fmt.rest_name if rest else fmt.name
    text = f"{order.side} {fmt.volume(order.vol)} {name} @ {texts[order.ordertype]}"
    if order.leverage is not None:
        text += f" with {order.leverage}:1 leverage"
    return text
