"""Trading requests of the v1 private API, validated the way Kraken does (pure).

``Desk`` reads ``addOrder``, ``editOrder``, ``amendOrder``, ``cancelOrder``, ``cancelAll`` and
``cancelAllOrdersAfter`` requests, answers them through ``Replies`` and acts on the ``Book``.
The caller has already checked the session token. Each handler either raises ``Reject``
having changed nothing but the rate counter (a request's fixed cost is charged on receipt,
even when it then fails validation), or replies and then acts, so a reply precedes its
channel frames.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any, Protocol

from ._book import Book
from ._config import PairConfig
from ._format import fixed, kraken_id, rfc3339, timestamp
from ._matching import crosses, update_trailing
from ._orders import LIMIT_AFTER_TRIGGER, ORDER_TYPES, TRIGGERED_TYPES, Order, describe
from ._params import (
    Reject,
    decimal_text,
    flag,
    invalid,
    offset,
    places_of,
    relative,
    resolve_price,
    rfc3339_seconds,
    time_arg,
    userref_arg,
)
from ._ratelimit import ACCOUNT, Cost, amend_cost, cancel_cost, edit_cost

__all__ = ["Desk", "Replies"]

_OFLAGS = frozenset({"post", "fcib", "fciq", "nompp"})
_ZERO = Decimal(0)


class Replies(Protocol):
    """Where a handler sends its status replies (each carries the request's ``reqid``)."""

    def ok(self, **fields: Any) -> None: ...

    def error(self, message: str) -> None: ...


class Desk:
    """The trading-request handlers, acting on one ``Book``."""

    def __init__(self, book: Book) -> None:
        self.book = book

    def _guard(self, data: dict[str, Any], now: float, *, places: bool) -> None:
        """Token first, then the engine status (maintenance stops everything)."""
        if self.book.status == "maintenance":
            raise Reject("EService:Unavailable")
        if places and self.book.status == "cancel_only":
            raise Reject("EService:Market in cancel_only mode")

    def _pair_of(self, data: dict[str, Any]) -> str:
        pair = data.get("pair")
        if not isinstance(pair, str):
            raise invalid("pair")
        if pair not in self.book.formats:
            raise Reject("EQuery:Unknown asset pair")
        return pair

    def _check_deadline(self, data: dict[str, Any], now: float) -> None:
        if "deadline" in data and rfc3339_seconds(data["deadline"], "deadline") < now:
            raise Reject("EService:Deadline elapsed")

    def add_order(
        self, data: dict[str, Any], now: float, reply: Replies, *, charged: bool = False
    ) -> None:
        """Place an order (or only validate it); the reply carries ``txid`` and ``descr``.

        The +1 is charged on receipt, before validation (``charged``: a batch paid for it).
        """
        self._guard(data, now, places=True)
        pair = self._pair_of(data)
        validate = flag(data, "validate", False)  # the doc types it as a string: "true"
        if not validate and not charged:
            self.receipt(pair, 1, now)
        order = self._build_order(data, now)
        if self.book.status == "post_only" and not (order.ordertype == "limit" and order.post_only):
            raise Reject("EService:Market in post_only mode")
        self.book.check_post_only(order, order.price if order.ordertype == "limit" else None)
        self.book.check_funds(order)
        descr = describe(order, rest=True)
        if validate:
            reply.ok(descr=descr)
            return
        fields: dict[str, Any] = {"descr": descr, "txid": order.txid}
        if order.cl_ord_id is not None:
            fields["cl_ord_id"] = order.cl_ord_id
        reply.ok(**fields)
        self.book.place(order, now)

    def receipt(self, pair: str, fixed: Cost, now: float) -> None:
        """Charge a request's fixed cost as it arrives, or refuse it for the rate limit.

        Kraken charges the fixed part even when the request then fails validation
        (kraken-rate-limits.md); a request refused here for the limit is not charged.
        """
        if not self.book.rates.allows(pair, fixed, now):
            raise Reject("EOrder:Rate limit exceeded")
        self.book.rates.charge(pair, fixed, now)

    def _build_order(self, data: dict[str, Any], now: float) -> Order:
        """Validate an addOrder request into an unplaced ``Order`` (raises ``Reject``)."""
        pair = self._pair_of(data)
        config = self.book.config.pairs[pair]
        fmt = self.book.formats[pair]
        reference = self.book.reference[pair]
        side = data.get("type")
        if side not in ("buy", "sell"):
            raise invalid("type")
        ordertype = data.get("ordertype")
        if ordertype not in ORDER_TYPES:
            raise invalid("ordertype")
        volume = decimal_text(data.get("volume"), "volume")
        if places_of(volume) > config.volume_decimals:
            raise invalid("volume")
        if volume < config.order_min:
            raise Reject("EOrder:Order minimum not met")
        if ordertype == "settle-position":
            raise Reject("EOrder:Unknown position")  # the model keeps no positions
        leverage = _leverage(data, config, side)
        price = price2 = _ZERO
        limit_offset = _ZERO
        places = config.price_decimals
        if ordertype in ("trailing-stop", "trailing-stop-limit"):
            price = offset(data.get("price"), "price", reference=reference, places=places)
            if price <= 0:
                raise invalid("price")
            if ordertype == "trailing-stop-limit":
                limit_offset = offset(
                    data.get("price2"), "price2", reference=reference, places=places
                )
                price2 = abs(limit_offset)
        elif ordertype != "market":
            price = resolve_price(
                data.get("price"), "price", side=side, reference=reference, places=places, pair=pair
            )
            if ordertype in LIMIT_AFTER_TRIGGER or ordertype in (
                "stop-loss-profit",
                "stop-loss-and-limit",
            ):
                price2 = resolve_price(
                    data.get("price2"),
                    "price2",
                    side=side,
                    reference=reference,
                    places=places,
                    pair=pair,
                )
        # AssetPairs' costmin: the order's value in quote, at its price (or the market's)
        basis = (
            price
            if ordertype not in ("market", "trailing-stop", "trailing-stop-limit")
            else reference
        )
        if volume * basis < config.cost_min:
            raise Reject("EOrder:Cost minimum not met")
        oflags = _oflags(data.get("oflags", ""))
        if "post" in oflags.split(",") and ordertype != "limit":
            raise invalid("oflags")
        starttm = time_arg(data, "starttm", now)
        expiretm = time_arg(data, "expiretm", now)
        # an expiry without an explicit time in force makes the order good-till-date
        timeinforce = data.get("timeinforce", "GTC" if expiretm is None else "GTD")
        if timeinforce not in ("GTC", "GTD", "IOC"):
            raise invalid("timeinforce")
        if starttm is not None and starttm <= Decimal(f"{now:.6f}"):
            starttm = None
        if expiretm is not None and (
            expiretm <= Decimal(f"{now:.6f}") or (starttm is not None and expiretm <= starttm)
        ):
            raise invalid("expiretm")
        if timeinforce == "GTD" and expiretm is None:
            raise invalid("expiretm")
        userref = _userref(data, "userref", 0)
        _boolean(data, "reduce_only")
        cl_ord_id = data.get("cl_ord_id")
        if cl_ord_id is not None and (
            not isinstance(cl_ord_id, str) or not 0 < len(cl_ord_id) <= 36 or "userref" in data
        ):
            raise invalid("cl_ord_id")
        self._check_deadline(data, now)
        order = Order(
            txid=kraken_id(self.book.rng, "O"),
            fmt=fmt,
            side=side,
            ordertype=ordertype,
            vol=volume,
            price=price,
            price2=price2,
            opentm=timestamp(now),
            userref=userref,
            cl_ord_id=cl_ord_id,
            oflags=oflags,
            timeinforce=timeinforce,
            starttm=starttm,
            expiretm=expiretm,
            limit_offset=limit_offset,
            leverage=leverage,
        )
        self._read_close(order, data)
        return order

    def _read_close(self, order: Order, data: dict[str, Any]) -> None:
        """The optional conditional close (``close[ordertype]``, ``close[price]``...)."""
        close_type = data.get("close[ordertype]")
        if close_type is None:
            return
        if close_type not in (
            "limit",
            "stop-loss",
            "take-profit",
            "stop-loss-limit",
            "take-profit-limit",
        ):
            raise invalid("close[ordertype]")
        order.close_type = close_type
        order.close_price = self._close_price(order, data, "close[price]")
        if close_type.endswith("-limit"):
            order.close_price2 = self._close_price(order, data, "close[price2]")

    def _close_price(self, order: Order, data: dict[str, Any], name: str) -> Decimal:
        return resolve_price(
            data.get(name),
            name,
            side="sell" if order.side == "buy" else "buy",
            reference=self.book.reference[order.pair],
            places=order.fmt.price_places,
            pair=order.pair,
        )

    def edit_order(self, data: dict[str, Any], now: float, reply: Replies) -> None:
        """Cancel an order and place its replacement under a new txid (``originaltxid``)."""
        self._guard(data, now, places=True)
        ident = data.get("orderid")
        if not isinstance(ident, str):
            raise invalid("orderid")
        if "cl_ord_id" in data:
            raise invalid("cl_ord_id")
        pair = self._pair_of(data)
        validate = _boolean(data, "validate")  # a boolean on editOrder's page
        if not validate:
            self.receipt(pair, 1, now)
        matches = self.book.find(ident)
        if not matches:
            raise Reject("EOrder:Unknown order")
        original = matches[0]
        if original.pair != pair:
            raise invalid("pair")
        if original.triggered or original.close_type is not None:
            raise Reject("EOrder:Invalid order")
        config = self.book.config.pairs[pair]
        places = config.price_decimals
        reference = self.book.reference[pair]
        price, price2 = original.price, original.price2
        if "price" in data:
            price = resolve_price(
                data["price"],
                "price",
                side=original.side,
                reference=reference,
                places=places,
                pair=pair,
            )
        if "price2" in data:
            price2 = resolve_price(
                data["price2"],
                "price2",
                side=original.side,
                reference=reference,
                places=places,
                pair=pair,
            )
        volume = original.vol
        if "volume" in data:
            volume = decimal_text(data["volume"], "volume")
            if places_of(volume) > config.volume_decimals:
                raise invalid("volume")
        if volume - original.vol_exec < config.order_min:
            raise invalid("volume")
        oflags = _oflags(data["oflags"]) if "oflags" in data else original.oflags
        if "post" in oflags.split(",") and original.ordertype != "limit":
            raise invalid("oflags")
        userref = _userref(data, "newuserref", original.userref)
        self._check_deadline(data, now)
        replacement = Order(
            txid=kraken_id(self.book.rng, "O"),
            fmt=original.fmt,
            side=original.side,
            ordertype=original.ordertype,
            vol=volume - original.vol_exec,
            price=price,
            price2=price2,
            opentm=timestamp(now),
            userref=userref,
            cl_ord_id=original.cl_ord_id,
            oflags=oflags,
            timeinforce=original.timeinforce,
            starttm=original.starttm if original.scheduled else None,
            expiretm=original.expiretm,
            limit_offset=original.limit_offset,
            leverage=original.leverage,
        )
        if self.book.status == "post_only" and not (
            replacement.ordertype == "limit" and replacement.post_only
        ):
            raise Reject("EService:Market in post_only mode")
        self.book.check_post_only(replacement, replacement.acts_as_limit())
        penalty = edit_cost(now - float(original.opentm)) - 1  # the +1 came on receipt
        if not validate and not self.book.rates.allows(pair, penalty, now):
            raise Reject("EOrder:Rate limit exceeded")
        self.book.check_funds(replacement, replacing=original.txid)
        # 2023 traffic answers with the replacement's description, the price as the client
        # wrote it ("buy 20.00000000 USDCUSD @ limit 0.9"); the doc-era "order edited price =
        # ..." wording is not what the service sends.
        sent = data.get("price")
        as_sent = sent if isinstance(sent, str) and relative(sent, "price") is None else None
        descr = describe(replacement, rest=True, price_text=as_sent)
        if validate:
            reply.ok(descr=descr)
            return
        self.book.rates.charge(pair, penalty, now)
        reply.ok(
            descr=descr,
            originaltxid=original.txid,
            txid=replacement.txid,
        )
        self.book.finish(original, "canceled", now, reason="Order replaced")
        self.book.place(replacement, now)

    def amend_order(self, data: dict[str, Any], now: float, reply: Replies) -> None:
        """Change an order in place: volume, limit or trigger price; same txid."""
        self._guard(data, now, places=True)
        txid, cl_ord_id = data.get("txid"), data.get("cl_ord_id")
        if (txid is None) == (cl_ord_id is None):
            raise invalid("txid")
        if not isinstance(txid if cl_ord_id is None else cl_ord_id, str):
            raise invalid("txid" if cl_ord_id is None else "cl_ord_id")
        if txid is not None:
            order = self.book.live.get(txid)
        else:
            order = next((o for o in self.book.live.values() if o.cl_ord_id == cl_ord_id), None)
        if order is None:
            raise Reject("EOrder:Unknown order")
        self.receipt(order.pair, 1, now)  # amends have no validate-only form
        if "display_volume" in data:
            raise invalid("display_volume")  # the simulator has no iceberg orders
        if "pair" in data and data["pair"] != order.pair:
            raise invalid("pair")
        config = self.book.config.pairs[order.pair]
        places = config.price_decimals
        reference = self.book.reference[order.pair]
        volume = order.vol
        if "volume" in data:
            volume = decimal_text(data["volume"], "volume")
            if places_of(volume) > config.volume_decimals or volume <= order.vol_exec:
                raise invalid("volume")
            if volume < config.order_min:
                raise Reject("EOrder:Order minimum not met")
        limit_field = _limit_field(order)
        new_limit: Decimal | None = None
        if "limit_price" in data:
            if limit_field is None:
                raise invalid("limit_price")
            new_limit = resolve_price(
                data["limit_price"],
                "limit_price",
                side=order.side,
                reference=reference,
                places=places,
                pair=order.pair,
            )
        new_trigger: Decimal | None = None
        if "trigger_price" in data:
            if order.ordertype not in TRIGGERED_TYPES or order.triggered:
                raise invalid("trigger_price")
            if order.ordertype.startswith("trailing"):
                new_trigger = offset(
                    data["trigger_price"], "trigger_price", reference=reference, places=places
                )
                if new_trigger <= 0:
                    raise invalid("trigger_price")
            else:
                new_trigger = resolve_price(
                    data["trigger_price"],
                    "trigger_price",
                    side=order.side,
                    reference=reference,
                    places=places,
                    pair=order.pair,
                )
        post_only = _boolean(data, "post_only")
        if "volume" not in data and new_limit is None and new_trigger is None:
            raise invalid("volume")
        self._check_deadline(data, now)
        if post_only and new_limit is not None and crosses(order.side, new_limit, reference):
            raise Reject("EOrder:Post only order")
        penalty = amend_cost(now - float(order.opentm)) - 1  # the +1 came on receipt
        if not self.book.rates.allows(order.pair, penalty, now):
            raise Reject("EOrder:Rate limit exceeded")
        saved = (order.vol, order.price, order.price2, order.limitprice)
        order.vol = volume
        if new_limit is not None:
            _set_limit(order, limit_field, new_limit)
        if new_trigger is not None:
            order.price = new_trigger
        try:
            self.book.check_funds(order, replacing=order.txid)
        except Reject:
            order.vol, order.price, order.price2, order.limitprice = saved
            raise
        self.book.rates.charge(order.pair, penalty, now)
        asset, amount = self.book.required(order)
        self.book.account.reserve(order.txid, asset, amount)
        order.amended = True
        fields: dict[str, Any] = {"amend_id": kraken_id(self.book.rng, "T")}
        if txid is not None:
            fields["txid"] = txid
        else:
            fields["cl_ord_id"] = cl_ord_id
        reply.ok(**fields)
        delta: dict[str, Any] = {
            "amended": True,
            "lastupdated": fixed(timestamp(now), 6),
            "userref": order.userref,
        }
        if "volume" in data:
            delta["vol"] = order.fmt.volume(order.vol)
        if new_limit is not None or new_trigger is not None:
            delta["descr"] = order.descr()
            if order.triggered:
                delta["limitprice"] = order.fmt.price(order.limitprice)
        self.book.announce(order, delta, now)
        if order.ordertype.startswith("trailing") and new_trigger is not None:
            update_trailing(order, reference)
        if self.book.status == "online" and order.status == "open":
            self.book.evaluate(order, now, moved=False)

    def cancel_order(
        self, data: dict[str, Any], now: float, reply: Replies, *, batch: bool = False
    ) -> None:
        """Cancel by txid, userref or cl_ord_id: one reply per id, in request order.

        Each order cancelled costs its age penalty; ``batch`` (a batch cancel) is accepted even
        past the rate threshold, and still charged.
        """
        self._guard(data, now, places=False)
        txids, cl_ord_ids = data.get("txid"), data.get("cl_ord_id")
        if txids is None and cl_ord_ids is None:
            raise invalid("txid")
        for name, ids in (("txid", txids), ("cl_ord_id", cl_ord_ids)):
            if ids is not None and (
                not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids)
            ):
                raise invalid(name)
        targets: list[list[Order]] = [self.book.find(ident) for ident in txids or []]
        targets += [
            [order for order in self.book.live.values() if order.cl_ord_id == ident]
            for ident in cl_ord_ids or []
        ]
        for orders in targets:
            orders = [order for order in orders if order.live]
            if not orders:
                reply.error("EOrder:Unknown order")
                continue
            # One reply per order cancelled: a userref naming three orders gets three.
            for order in orders:
                cost = cancel_cost(now - float(order.opentm))
                if not batch and not self.book.rates.allows(order.pair, cost, now):
                    reply.error("EOrder:Rate limit exceeded")
                    continue
                reply.ok()
                self.book.rates.charge(order.pair, cost, now)
                self.book.finish(order, "canceled", now, reason="User requested")

    def cancel_all(self, data: dict[str, Any], now: float, reply: Replies) -> None:
        """Cancel every live order; the reply's ``count`` is a JSON integer.

        Costs +1 on each pair it touches (Kraken's Rust SDK guide). Like a batch cancel it is
        never refused for the rate limit: the guide gives its cost, not a refusal, and a
        cancel-everything that could fail would strand the orders it exists to pull.
        """
        self._guard(data, now, places=False)
        orders = list(self.book.live.values())
        reply.ok(count=len(orders))
        for pair in dict.fromkeys(order.pair for order in orders):
            self.book.rates.charge(pair, 1, now)
        for order in orders:
            self.book.finish(order, "canceled", now, reason="User requested")

    def cancel_all_after(self, data: dict[str, Any], now: float, reply: Replies) -> None:
        """Arm (``timeout`` > 0) or disarm (0) the dead man's switch.

        Costs +1 on receipt, on no pair: the account's own counter (``ACCOUNT``), as Kraken's
        Rust SDK guide books it ("+1 trading, no pair").
        """
        self._guard(data, now, places=False)
        self.receipt(ACCOUNT, 1, now)
        timeout = data.get("timeout")
        if type(timeout) is not int or not 0 <= timeout < 86400:
            raise invalid("timeout")
        current = rfc3339(now)
        if timeout == 0:
            self.book.dead_man_at = None
            trigger = "0"
        else:
            self.book.dead_man_at = now + timeout
            trigger = rfc3339(math.ceil(now) + timeout)
        reply.ok(
            currentTime=current,
            triggerTime=trigger,
        )


def _leverage(data: dict[str, Any], config: PairConfig, side: str) -> int | None:
    """The margin level of an order: None for spot (no ``leverage``, or ``"none"``).

    ``margin: true`` asks for the pair's highest level. A level the pair does not offer for
    that side is refused; Kraken's exact string for it was not captured, so the simulator
    names the field like its other argument errors.
    """
    levels = config.leverage_buy if side == "buy" else config.leverage_sell
    value = data.get("leverage")
    if value is None or value == "none":
        if _boolean(data, "margin"):
            if not levels:
                raise invalid("margin")
            return max(levels)
        return None
    # A string, as the addOrder page types it ("2", "2:1"); a JSON number is refused, and so
    # are non-ASCII digits (which ``\d`` would match).
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,2}(:1)?", value):
        raise invalid("leverage")
    level = int(value.partition(":")[0])
    if level not in levels:
        raise invalid("leverage")
    return level


def _userref(data: dict[str, Any], field: str, default: int) -> int:
    """``userref``/``newuserref``: a signed 32-bit integer written as a string, as the v1 pages
    type it (``"userref":"123456789"``); a JSON number is a loose input and refused."""
    if field not in data:
        return default
    value = data[field]
    if not isinstance(value, str):
        raise invalid(field)
    return userref_arg(value, field)


def _boolean(data: dict[str, Any], field: str) -> bool:
    """An optional option the v1 pages type as a boolean (``margin``, ``reduce_only``,
    ``post_only``, editOrder's ``validate``): ``true``/``false`` only, never ``"true"``."""
    value = data.get(field, False)
    if type(value) is not bool:
        raise invalid(field)
    return value


def _oflags(value: object) -> str:
    if not isinstance(value, str):
        raise invalid("oflags")
    flags = [item for item in value.split(",") if item]
    if any(item not in _OFLAGS for item in flags):
        raise invalid("oflags")
    if "fcib" in flags and "fciq" in flags:
        raise invalid("oflags")
    if "fcib" not in flags and "fciq" not in flags:
        flags.append("fciq")  # fees in quote currency unless asked otherwise
    return ",".join(flags)


def _limit_field(order: Order) -> str | None:
    if order.ordertype == "limit":
        return "price"
    if order.ordertype in LIMIT_AFTER_TRIGGER:
        return "limitprice" if order.triggered else "price2"
    if order.ordertype == "stop-loss-and-limit":
        return "price2"
    return None


def _set_limit(order: Order, field_name: str | None, value: Decimal) -> None:
    if field_name == "price":
        order.price = value
    elif field_name == "price2":
        order.price2 = value
    else:
        order.limitprice = value
