"""The simulator's private REST queries: OpenOrders, ClosedOrders, QueryOrders, TradesHistory,
QueryTrades, answered from the model's own book (pure).

The same orders and trades its WebSocket reported: order txids are the openOrders keys and
trade txids the ownTrades keys. Every private call (the token call too) goes through one gate:
``API-Key``, then Kraken's REST call counter (failed calls count too, as Kraken's support
says), then ``nonce`` and ``API-Sign``. Shapes follow the REST reference (amounts as strings,
times as JSON numbers, ``count`` on the paged calls, 50 per page newest first).

Pair names: REST uses Kraken's pair ids, not the WebSocket's ``XBT/USD``. An order's
``descr.pair`` is the altname (``XBTUSD``, as in the docs' OpenOrders example) and a trade's
``pair`` is the pair key (``XXBTZUSD``, as in the TradesHistory example); pairs without a
legacy X/Z-prefixed key use their altname for both, as Kraken does for newer assets.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import msgspec
from kraken_proto.rest._signing import sign

from ._channels import POSTXID
from ._config import SimulatorConfig
from ._format import fixed, timestamp
from ._orders import TRIGGERED_TYPES, Order, PairFormat
from ._rest import TOKEN_PATH, KeyState, RestReply
from ._views import TradeView

__all__ = [
    "PAGE_SIZE",
    "QUERY_PATHS",
    "REST_TIERS",
    "RestCounter",
    "RestJournal",
    "RestQueries",
    "TOKEN_PATH",
    "rest_pair_id",
]

PAGE_SIZE = 50
_PRIVATE = "/0/private/"
QUERY_PATHS = frozenset(
    _PRIVATE + name
    for name in ("OpenOrders", "ClosedOrders", "QueryOrders", "TradesHistory", "QueryTrades")
)
# Kraken's rate-limit guide: +2 for ledger/trade history calls, +1 for the others.
_COSTS = {_PRIVATE + "ClosedOrders": 2, _PRIVATE + "TradesHistory": 2}
REST_TIERS: dict[str, tuple[int, Decimal]] = {
    "starter": (15, Decimal("0.33")),
    "intermediate": (20, Decimal("0.5")),
    "pro": (20, Decimal("1")),
}
_TERMINAL = frozenset({"closed", "canceled", "expired"})
_MAX_QUERY_ORDERS = 50
_MAX_QUERY_TRADES = 20
_JSON = msgspec.json.Encoder(decimal_format="number")  # times go out as JSON numbers
# Pairs whose Kraken key is the legacy X/Z-prefixed form (AssetPairs keys).
_LEGACY_PAIR_IDS = {
    "XBT/USD": "XXBTZUSD",
    "XBT/EUR": "XXBTZEUR",
    "XBT/GBP": "XXBTZGBP",
    "ETH/USD": "XETHZUSD",
    "ETH/EUR": "XETHZEUR",
    "ETH/XBT": "XETHXXBT",
    "LTC/USD": "XLTCZUSD",
    "XRP/USD": "XXRPZUSD",
    "USDT/USD": "USDTZUSD",
}
_INVALID = "EGeneral:Invalid arguments"
_TIME_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def rest_pair_id(ws_name: str, fmt: PairFormat) -> str:
    """The pair id TradesHistory shows (``XBT/USD`` -> ``XXBTZUSD``; ``SOL/USD`` -> ``SOLUSD``)."""
    return _LEGACY_PAIR_IDS.get(ws_name) or fmt.rest_name or ws_name.replace("/", "")


def _altname(fmt: PairFormat) -> str:
    return fmt.rest_name or fmt.name.replace("/", "")


_PRICE_WORDS = {
    "limit": "limit {0}",
    "stop-loss": "stop loss {0}",
    "take-profit": "take profit {0}",
    "stop-loss-limit": "stop loss {0} -> limit {1}",
    "take-profit-limit": "take profit {0} -> limit {1}",
    "trailing-stop": "trailing stop +{0}",
    "trailing-stop-limit": "trailing stop +{0} -> limit {1}",
}


def _order_text(order: Order, altname: str) -> str:
    """``descr.order`` as REST writes it: ``buy 1.25000000 XBTUSD @ limit 30010.0`` (prices
    at the pair's decimals, a market order as ``@ market``)."""
    fmt = order.fmt
    price = fixed(order.price, fmt.price_places)
    price2 = fixed(order.price2, fmt.price_places)
    words = _PRICE_WORDS.get(order.ordertype, order.ordertype.replace("-", " ") + " {0}")
    kind = "market" if order.ordertype == "market" else words.format(price, price2)
    return f"{order.side} {fmt.volume(order.vol)} {altname} @ {kind}"


def _leverage(order: Order) -> str:
    # Spot orders show "none"; margin orders (where the model has them) "N:1".
    leverage = getattr(order, "leverage", None)
    return "none" if leverage is None else f"{leverage}:1"


def _reply(payload: dict[str, Any]) -> RestReply:
    return RestReply(200, "application/json", _JSON.encode(payload))


def _error(message: str) -> RestReply:
    return _reply({"error": [message]})


class _Invalid(Exception):
    """A parameter Kraken would refuse with ``EGeneral:Invalid arguments[:name]`` (real
    answers name the field, ``...:ordertype``; without ``name`` the bare form)."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self.message = f"{_INVALID}:{name}" if name else _INVALID


# --- the call counter -------------------------------------------------------------------------


class RestCounter:
    """Kraken's per-key REST call counter: +cost per call, linear decay, capped at the tier's
    maximum. ``tier=None`` switches it off."""

    def __init__(self, tier: str | None = "starter") -> None:
        self.tier = tier
        self._levels: dict[str, tuple[Decimal, Decimal]] = {}  # key -> (level, at)

    def level(self, key: str, now: float) -> Decimal:
        if self.tier is None:
            return Decimal(0)
        _, decay = REST_TIERS[self.tier]
        level, at = self._levels.get(key, (Decimal(0), timestamp(now)))
        return max(Decimal(0), level - decay * max(Decimal(0), timestamp(now) - at))

    def charge(self, key: str, cost: int, now: float) -> bool:
        """Add ``cost`` when it fits; False (nothing added) when the call is over the limit."""
        if self.tier is None:
            return True
        maximum, _ = REST_TIERS[self.tier]
        level = self.level(key, now)
        if level + cost > maximum:
            return False
        self._levels[key] = (level + cost, timestamp(now))
        return True


# --- the journal: what the book does not keep -------------------------------------------------


class RestJournal:
    """Wraps the book's listener to record what REST shows and the book does not hold: when
    and why each order closed, which (consolidated) trades filled it, and each trade's integer
    ``trade_id``. Every call is passed on unchanged."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.closed: dict[str, tuple[Decimal, str | None]] = {}  # txid -> (closetm, reason)
        self.order_trades: dict[str, list[str]] = {}
        self.trade_ids: dict[str, int] = {}
        self._next_trade_id = 40_000_000  # never reused, also once trades are forgotten

    def order_update(
        self, order: Order, delta: dict[str, Any], now: float, ratecount: Decimal
    ) -> None:
        if delta.get("status") in _TERMINAL and order.txid not in self.closed:
            self.closed[order.txid] = (timestamp(now), delta.get("cancel_reason"))
        self.inner.order_update(order, delta, now, ratecount)

    def trade_update(self, trade: TradeView, fmt: PairFormat, *, consolidated: bool) -> None:
        if trade.trade_id not in self.trade_ids:
            self.trade_ids[trade.trade_id] = self._next_trade_id
            self._next_trade_id += 1
        if consolidated:
            self.order_trades.setdefault(trade.ordertxid, []).append(trade.trade_id)
        self.inner.trade_update(trade, fmt, consolidated=consolidated)

    def closed_before(self, before: Decimal) -> list[str]:
        """The orders that closed before ``before``, oldest first."""
        return [txid for txid, (closetm, _) in self.closed.items() if closetm < before]

    def forget(self, orders: Iterable[str], trades: Iterable[str]) -> None:
        """Drop what is kept about forgotten orders and trades (``Exchange.forget_settled``)."""
        for txid in orders:
            self.closed.pop(txid, None)
            self.order_trades.pop(txid, None)
        for trade_id in trades:
            self.trade_ids.pop(trade_id, None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


# --- request parameters -------------------------------------------------------------------------


def _params(body: bytes, content_type: str) -> dict[str, str] | None:
    """The form (or JSON) fields of a body, last value winning; None when unreadable."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    if content_type.split(";")[0].strip().lower() == "application/json":
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        return {str(k): (json.dumps(v) if isinstance(v, bool) else str(v)) for k, v in data.items()}
    return {name: values[-1] for name, values in parse_qs(text, keep_blank_values=True).items()}


def _flag(params: Mapping[str, str], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise _Invalid(name)


def _int(params: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    digits = value.removeprefix("-")  # one sign at most: "--1" is not a number
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 20:
        raise _Invalid(name)
    if not low <= int(value) <= high:
        raise _Invalid(name)
    return int(value)


def _bound(params: Mapping[str, str], name: str, time_of: Callable[[str], Decimal | None]) -> Any:
    """``start``/``end``: unix seconds, or a txid whose time (``time_of``) is used."""
    value = params.get(name)
    if value is None:
        return None
    by_id = time_of(value)
    if by_id is not None:
        return by_id
    # Unix seconds as Kraken writes numbers; Decimal() alone would also take " 1", "1_000",
    # "+1", "1e3", NaN or non-ASCII digits.
    if not _TIME_TEXT.fullmatch(value):
        raise _Invalid(name)
    return Decimal(value)


def _ids(params: Mapping[str, str], limit: int) -> list[str]:
    # The reference's own example separates ids with ", ".
    raw = params.get("txid", "")
    ids = [part.strip() for part in raw.split(",")]
    if not raw or not all(ids) or len(ids) > limit:
        raise _Invalid("txid")
    return ids


def _in_range(value: Decimal, start: Decimal | None, end: Decimal | None) -> bool:
    # start is exclusive, end inclusive (the reference's wording).
    return (start is None or value > start) and (end is None or value <= end)


# --- the desk ---------------------------------------------------------------------------------


@dataclass
class RestQueries:
    """Answers the private REST calls from the book (see the module docstring).

    ``counter`` is the REST call counter (Starter by default; set ``counter.tier`` to another
    tier or None). ``keys`` is shared with the token call: one nonce sequence per key.
    """

    book: Any  # the model's Book (its live/orders/trades/fills/formats)
    config: SimulatorConfig
    keys: dict[str, KeyState]
    journal: RestJournal
    counter: RestCounter = field(default_factory=RestCounter)

    @staticmethod
    def serves(path: str) -> bool:
        """True for the paths answered here (the token call is gated here, answered there)."""
        bare = path.split("?")[0]
        return bare in QUERY_PATHS or bare == TOKEN_PATH

    def handle(
        self,
        *,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        now: float,
        token_call: Callable[[], RestReply],
    ) -> RestReply:
        """Gate one private call (key, counter) and answer it (``token_call`` for the token)."""
        path = path.split("?")[0]
        lowered = {name.lower(): value for name, value in headers.items()}
        key = lowered.get("api-key")
        if key is None or not hmac.compare_digest(key.encode(), self.config.api_key.encode()):
            return _error("EAPI:Invalid key")
        if not self.counter.charge(key, _COSTS.get(path, 1), now):
            return _error("EAPI:Rate limit exceeded")
        if path == TOKEN_PATH:
            return token_call()
        params = _params(body, lowered.get("content-type", ""))
        nonce = None if params is None else params.get("nonce")
        if params is None or not nonce:
            return _error(_INVALID)
        if not (nonce.isascii() and nonce.isdigit()) or len(nonce) > 20 or int(nonce) >= 2**64:
            return _error("EAPI:Invalid nonce")
        expected = sign(secret=self.config.api_secret, urlpath=path, nonce=nonce, postdata=body)
        if not hmac.compare_digest(lowered.get("api-sign", "").encode(), expected.encode()):
            return _error("EAPI:Invalid signature")
        state = self.keys.setdefault(key, KeyState())
        if int(nonce) <= state.last_nonce:
            return _error("EAPI:Invalid nonce")
        state.last_nonce = int(nonce)
        self.book.run_timers(now)
        try:
            result = self._answer(path.rsplit("/", 1)[-1], params)
        except _Invalid as invalid:
            return _error(invalid.message)
        return _reply({"error": [], "result": result})

    # --- the five calls -------------------------------------------------------------------

    def _answer(self, call: str, params: Mapping[str, str]) -> dict[str, Any]:
        if call == "OpenOrders":
            orders = self._filtered(self.book.live.values(), params)
            trades = _flag(params, "trades", False)
            return {"open": {o.txid: self._order(o, trades) for o in orders}}
        if call == "ClosedOrders":
            return self._closed_orders(params)
        if call == "QueryOrders":
            return self._query_orders(params)
        if call == "TradesHistory":
            return self._trades_history(params)
        return self._query_trades(params)

    def _filtered(self, orders: Any, params: Mapping[str, str]) -> list[Order]:
        userref = _int(params, "userref", -(2**31), 2**31 - 1)
        cl_ord_id = params.get("cl_ord_id")
        return [
            order
            for order in orders
            if (userref is None or order.userref == userref)
            and (cl_ord_id is None or order.cl_ord_id == cl_ord_id)
        ]

    def _closed_orders(self, params: Mapping[str, str]) -> dict[str, Any]:
        trades = _flag(params, "trades", False)
        closetime = params.get("closetime", "both")
        if closetime not in ("open", "close", "both"):
            raise _Invalid("closetime")

        def opentm_of(txid: str) -> Decimal | None:
            order = self.book.orders.get(txid)
            return None if order is None else order.opentm

        start = _bound(params, "start", opentm_of)
        end = _bound(params, "end", opentm_of)
        ofs = _int(params, "ofs", 0, 2**31 - 1) or 0
        finished = [self.book.orders[txid] for txid in reversed(self.journal.closed)]
        matching = []
        for order in self._filtered(finished, params):
            closetm = self.journal.closed[order.txid][0]
            opened = _in_range(order.opentm, start, end)
            closed = _in_range(closetm, start, end)
            if {"open": opened, "close": closed, "both": opened or closed}[closetime]:
                matching.append(order)
        page = matching[ofs : ofs + PAGE_SIZE]
        result: dict[str, Any] = {"closed": {o.txid: self._order(o, trades) for o in page}}
        if not _flag(params, "without_count", False):
            result["count"] = len(matching)
        return result

    def _query_orders(self, params: Mapping[str, str]) -> dict[str, Any]:
        # Kraken's support: QueryOrders without a valid txid is "EGeneral:Invalid arguments"
        # (the bare form, as a client that sent "undefined" logged it); we answer so when any
        # id is unknown: the whole call fails, nothing is guessed.
        ids = _ids(params, _MAX_QUERY_ORDERS)
        trades = _flag(params, "trades", False)
        orders = [self.book.orders.get(txid) for txid in ids]
        known = [order for order in orders if order is not None]
        if len(known) != len(orders):
            raise _Invalid()
        return {o.txid: self._order(o, trades) for o in self._filtered(known, params)}

    def _trade_history(self, params: Mapping[str, str]) -> dict[str, TradeView]:
        consolidated = _flag(params, "consolidate_taker", True)
        return dict(self.book.trades if consolidated else self.book.fills)

    def _trades_history(self, params: Mapping[str, str]) -> dict[str, Any]:
        _flag(params, "trades", False)
        history = self._trade_history(params)

        def time_of(txid: str) -> Decimal | None:
            trade = history.get(txid)
            return None if trade is None else trade.time

        start = _bound(params, "start", time_of)
        end = _bound(params, "end", time_of)
        ofs = _int(params, "ofs", 0, 2**31 - 1) or 0
        matching = [t for t in reversed(history.values()) if _in_range(t.time, start, end)]
        page = matching[ofs : ofs + PAGE_SIZE]
        return {"trades": {t.trade_id: self._trade(t) for t in page}, "count": len(matching)}

    def _query_trades(self, params: Mapping[str, str]) -> dict[str, Any]:
        ids = _ids(params, _MAX_QUERY_TRADES)
        _flag(params, "trades", False)
        history = {**self.book.fills, **self.book.trades}
        if not all(txid in history for txid in ids):
            raise _Invalid()
        return {txid: self._trade(history[txid]) for txid in ids}

    # --- records ----------------------------------------------------------------------------

    def _order(self, order: Order, with_trades: bool) -> dict[str, Any]:
        fmt = order.fmt
        altname = _altname(fmt)
        record: dict[str, Any] = {"refid": None, "userref": order.userref}
        if order.cl_ord_id is not None:
            record["cl_ord_id"] = order.cl_ord_id
        record["status"] = order.status
        closed = self.journal.closed.get(order.txid)
        if closed is not None:
            record["reason"] = closed[1]
        record["opentm"] = order.opentm
        if closed is not None:
            record["closetm"] = closed[0]
        record.update(
            starttm=order.starttm if order.starttm is not None else 0,
            expiretm=order.expiretm if order.expiretm is not None else 0,
            descr={
                "pair": altname,
                "type": order.side,
                "ordertype": order.ordertype,
                "price": fixed(order.price, fmt.price_places),
                "price2": fixed(order.price2, fmt.price_places),
                "leverage": _leverage(order),
                "order": _order_text(order, altname),
                "close": order.close_text() or "",
            },
            vol=fmt.volume(order.vol),
            vol_exec=fmt.volume(order.vol_exec),
            cost=fmt.price(order.cost),
            fee=fmt.price(order.fee),
            price=fmt.price(order.avg_price),
            stopprice=fmt.price(order.stopprice),
            limitprice=fmt.price(order.limitprice),
            misc=order.misc,
            oflags=order.oflags,
        )
        if order.ordertype in TRIGGERED_TYPES:
            record["trigger"] = "last"
        trades = self.journal.order_trades.get(order.txid)
        if with_trades and trades:
            record["trades"] = list(trades)
        return record

    def _trade(self, trade: TradeView) -> dict[str, Any]:
        fmt = self.book.formats[trade.pair]
        return {
            "ordertxid": trade.ordertxid,
            "postxid": POSTXID,
            "pair": rest_pair_id(trade.pair, fmt),
            "time": trade.time,
            "type": trade.side,
            "ordertype": trade.ordertype,
            "price": fmt.price(trade.price),
            "cost": fmt.price(trade.cost),
            "fee": fmt.price(trade.fee),
            "vol": fmt.volume(trade.vol),
            "margin": fmt.price(Decimal(0)),
            "misc": "",
            "trade_id": self.journal.trade_ids.get(trade.trade_id, 0),
            "maker": trade.maker,
        }
