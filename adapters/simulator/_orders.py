"""One order of the simulated account and how it looks on the openOrders channel (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
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
    """Decimal places for one pair: prices/quote amounts and base volumes."""

    name: str
    price_places: int  # tick size of the pair
    volume_places: int

    @property
    def quote_places(self) -> int:
        """Places for prices and quote amounts on the wire (Kraken writes at least 5)."""
        return max(5, self.price_places)

    @property
    def rest_name(self) -> str:
        """The REST-style pair name used in ``descr`` replies (``XBT/USD`` -> ``XBTUSD``)."""
        return self.name.replace("/", "")

    def price(self, value: Decimal) -> str:
        return fixed(value, self.quote_places)

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
        if not self.vol_exec:
            return _ZERO
        places = Decimal(1).scaleb(-self.fmt.quote_places)
        return (self.cost / self.vol_exec).quantize(places, rounding=ROUND_HALF_UP)

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
        return {
            "pair": self.pair,
            "type": self.side,
            "ordertype": self.ordertype,
            "price": self.fmt.price(self.price),
            "price2": self.fmt.price(self.price2),
            "leverage": None,
            "order": describe(self, self.pair),
            "close": self.close_text(),
        }

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
        return record


def _plain(value: Decimal) -> str:
    """A time as Kraken writes ``starttm``/``expiretm``: whole seconds, integer-looking."""
    return str(value.to_integral_value())


def describe(order: Order, pair_name: str) -> str:
    """Human summary: ``buy 0.01770000 XBTUSD @ limit 4000.00000``."""
    price = order.fmt.price(order.price)
    price2 = order.fmt.price(order.price2)
    kind = order.ordertype
    texts = {
        "limit": f"limit {price}",
        "market": "market",
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
    return f"{order.side} {order.fmt.volume(order.vol)} {pair_name} @ {texts[kind]}"
