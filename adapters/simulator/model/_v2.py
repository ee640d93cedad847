"""The simulator's WebSocket v2 face (``/v2``): the same exchange model, in v2 frames (pure).

``V2Gateway`` reads v2 requests (``method``/``params``/``req_id``, numbers as JSON numbers),
translates the trading ones into the v1 request shape the ``Desk`` validates, and answers in
v2 shape: ``success``/``result`` or ``error``, ``time_in``/``time_out``. It also listens to the
``Book`` and frames its changes for v2 subscribers: ``executions`` (one event per change, with
``exec_type``) and ``balances`` (two ledger records per fill, sharing ``ref_id``), each with a
per-subscription ``sequence`` that honours the session's sequence faults.

Fidelity notes. Frames follow captured live traffic where there is some, the doc's examples
where there is none, and say which:

* Every message's keys come in the order live sends them (``_Replies``, ``_channel`` and the
  record builders cite their captures); ``time_out`` is a few microseconds after ``time_in``.
* Numbers are JSON numbers at the engine's precision: prices (``limit_price``, ``last_price``,
  ``avg_price``, ``stop_price``) at the pair's tick (``26500.0`` on BTC/USD, not
  ``26500.00000``), quantities at its lot decimals, costs and fees at its cost decimals.
* Execution events are sparse, as captured: a ``pending_new`` carries no ``avg_price``,
  ``cum_qty`` or ``post_only: false``; an order with a ``cl_ord_id`` shows that instead of
  ``order_userref``; ``time_in_force`` is uppercase; a ``trade`` says ``order_status:
  partially_filled`` even on the fill that completes the order, and a separate ``exec_type:
  filled`` event follows (the doc's example); v2 names the base asset ``BTC`` where v1 says
  ``XBT``.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import msgspec

from ._book import Book
from ._config import SimulatorConfig
from ._format import fixed, timestamp
from ._orders import LIMIT_AFTER_TRIGGER, TRIGGERED_TYPES, Order, PairFormat
from ._params import Reject, places_of, rfc3339_seconds
from ._ratelimit import batch_add_cost
from ._rest import TokenBook
from ._sessions import Session, Subscription
from ._trading import Desk
from ._views import TradeView

__all__ = ["Listeners", "V2Gateway", "v2_asset", "v2_symbol"]

API_VERSION = "v2"
V2_VERSION = "2.0.10"
SNAPSHOT_TRADES = 50
_V1_STATUS = {
    "pending": "pending_new",
    "open": "new",
    "closed": "filled",
    "canceled": "canceled",
    "expired": "expired",
}
_TERSE_EXEC_TYPES = frozenset({"new", "filled", "canceled", "expired"})
_TERMINAL = {"closed": "filled", "canceled": "canceled", "expired": "expired"}
_encoder = msgspec.json.Encoder()
_NO_FUNDS = "EOrder:Insufficient funds"
# The server's processing time between time_in and time_out: captured replies show 18 us to
# 8 ms (kraken-async-rs 2024 captures, the doc's examples); a fixed few microseconds keeps
# runs reproducible.
_LATENCY = 0.000034
# v1 desk wording -> what current traffic says for the same refusal: an order below ordermin
# gets "EGeneral:Invalid arguments:volume minimum not met" (issue 19, item 5; the same text
# is quoted from 2025-2026 AddOrder traffic in several public bots' notes). v1's documented
# text, "EOrder:Order minimum not met", stays on v1.
_V2_ERRORS = {"EOrder:Order minimum not met": "EGeneral:Invalid arguments:volume minimum not met"}
# The executions ack's deprecation warnings, verbatim from a 2024 capture (kraken-async-rs
# test data, maxratecount 180); a 2026 capture still leads with the first.
EXECUTIONS_WARNINGS = (
    "cancel_reason is deprecated, use reason",
    "stop_price is deprecated, use triggers.price",
    "trigger is deprecated use triggers.reference",
    "triggered_price is deprecated use triggers.last_price",
)
_TRADING_METHODS = frozenset(
    {
        "add_order",
        "batch_add",
        "amend_order",
        "edit_order",
        "cancel_order",
        "batch_cancel",
        "cancel_all",
        "cancel_all_orders_after",
    }
)


def v2_asset(asset: str) -> str:
    """v2's name for an asset (``XBT`` is ``BTC``)."""
    return "BTC" if asset == "XBT" else asset


def v2_symbol(pair: str) -> str:
    """v2's name for a pair (``XBT/USD`` is ``BTC/USD``)."""
    return "/".join(v2_asset(part) for part in pair.split("/"))


def _number(text: str) -> msgspec.Raw:
    """A decimal string at the pair's precision, sent as a bare JSON number."""
    return msgspec.Raw(text.encode())


def _price(fmt: PairFormat, value: Decimal) -> msgspec.Raw:
    """A price as v2 writes it: at the pair's tick (``26500.0``, ``0.18328``), longer only if
    the value itself is (an average of fills at different prices, up to the cost decimals)."""
    places = max(fmt.price_places, min(places_of(value.normalize()), fmt.wire_places))
    return _number(fixed(value, places))


def _time(now: float) -> str:
    """RFC 3339 UTC with microseconds, as v2 writes ``timestamp``/``time_in``: the same
    instant, digit for digit, as the book's 6-decimal unix ``time`` of that moment."""
    whole, _, fraction = format(timestamp(now), "f").partition(".")
    moment = datetime.datetime.fromtimestamp(int(whole), tz=datetime.UTC)
    return f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{fraction}Z"


def _v2_error(message: str) -> str:
    return _V2_ERRORS.get(message, message)


def _text(value: object) -> str | None:
    """A JSON number (parsed as Decimal or int) as the decimal text the v1 desk reads."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        return None
    return format(Decimal(value), "f")


def _relative(value: object, price_type: object) -> str | None:
    """A v2 price with its type as a v1 price: absolute, ``+n``/``-n`` or ``+n%``/``-n%``."""
    text = _text(value)
    if text is None or price_type in (None, "static"):
        return text
    sign = "-" if text.startswith("-") else "+"
    body = text.lstrip("-")
    return f"{sign}{body}%" if price_type == "pct" else f"{sign}{body}"


def _numbers(params: dict[str, Any], *names: str) -> None:
    """Refuse a quantity or price sent as anything but a JSON number, in live's words: a 2024
    capture answers a string ``cash_order_qty`` with "Cash_order_qty field must be a
    number_float" (kraken-async-rs test data)."""
    for name in names:
        if name in params and _text(params[name]) is None:
            raise Reject(f"{name.capitalize()} field must be a number_float")


_Handler = Callable[[Session, dict[str, Any], "int | None", float], None]


class _Replies:
    """Sends the v2 reply to one request; ``translate`` turns the desk's v1 fields into
    ``result``. A reply goes out before the channel frames the request causes.

    Keys in live order (kraken-async-rs 2024 captures): ``method``, ``req_id``, ``result``,
    ``success``, ``time_in``, ``time_out``; an error starts with ``error``.
    """

    def __init__(
        self,
        session: Session,
        method: str,
        req_id: int | None,
        now: float,
        translate: Callable[[dict[str, Any]], Any] = lambda fields: {},
    ) -> None:
        self.session, self.method, self.req_id, self.now = session, method, req_id, now
        self.translate = translate

    def _send(self, message: dict[str, Any], tail: dict[str, Any]) -> None:
        if self.req_id is not None:
            message["req_id"] = self.req_id
        message.update(tail)
        message["time_in"] = _time(self.now)
        message["time_out"] = _time(self.now + _LATENCY)
        self.session.reply(_encoder.encode(message).decode(), self.now)

    def ok(self, **fields: Any) -> None:
        self.result(self.translate(fields), success=True)

    def result(self, result: Any, *, success: bool) -> None:
        self._send({"method": self.method}, {"result": result, "success": success})

    def error(self, message: str, **fields: Any) -> None:
        self._send({"error": _v2_error(message), "method": self.method}, {"success": False})


class V2Gateway:
    """The v2 protocol over the shared ``Book``, ``Desk`` and ``TokenBook``.

    Also a ``BookListener``: the exchange forwards every book change here, and only sessions
    that spoke v2 and subscribed get frames.
    """

    def __init__(
        self,
        config: SimulatorConfig,
        sessions: dict[int, Session],
        tokens: TokenBook,
    ) -> None:
        self.config = config
        self._sessions = sessions
        self._tokens = tokens
        self._trade_ids: dict[str, int] = {}
        self._next_trade_id = 1  # never reused, also once trades are forgotten
        # Sessions subscribed with order_status=false: only new/filled/canceled/expired events.
        self._terse: set[int] = set()
        self.book: Book
        self.desk: Desk

    def forget(self, trade_ids: Iterable[str]) -> None:
        """Drop the v2 numbers of forgotten trades, and what closed sessions left."""
        for trade_id in trade_ids:
            self._trade_ids.pop(trade_id, None)
        self._terse &= self._sessions.keys()

    def attach(self, book: Book) -> None:
        """Bind the book (created after the gateway, since the gateway listens to it)."""
        self.book = book
        self.desk = Desk(book)

    # --- frames every session gets ---------------------------------------------------------

    def status_frame(self, session: Session) -> str:
        """The ``status`` push sent on connect and on every engine status change."""
        record = {
            "api_version": API_VERSION,
            "connection_id": session.connection_id,
            "system": self.book.status,
            "version": V2_VERSION,
        }
        return _encoder.encode({"channel": "status", "data": [record], "type": "update"}).decode()

    HEARTBEAT = '{"channel":"heartbeat"}'

    # --- requests ----------------------------------------------------------------------------

    def receive(self, session: Session, text: str, now: float) -> None:
        """Handle one v2 client message."""
        self.book.run_timers(now)
        try:
            data = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
        except (ValueError, ArithmeticError, RecursionError):  # 1e999999...: InvalidOperation
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("method"), str):
            # Live answers it as method "error": {"error":"Malformed request","method":"error",
            # "success":false,...} (issue 19, item 5; v1's text for it is the same,
            # kraken-ws-v1.md 1.6).
            _Replies(session, "error", None, now).error("Malformed request")
            return
        method: str = data["method"]
        req_id = data.get("req_id")
        if req_id is not None and (type(req_id) is not int or not 0 <= req_id < 2**63):
            _Replies(session, method, None, now).error("EGeneral:Invalid arguments:req_id")
            return
        params = data.get("params", {})
        handler = self._handlers().get(method)
        if handler is None or not isinstance(params, dict):
            _Replies(session, method, req_id, now).error("EGeneral:Invalid arguments")
            return
        if method == "ping" and "params" in data:
            # kraken-async-rs capture, 2024-05-19: a ping carrying params is refused.
            message = "Unsupported field: 'params' for the given msg type: ping"
            _Replies(session, method, req_id, now).error(message)
            return
        # The drop_after_request fault, as on v1: process the request, then take back what it
        # queued and have the server drop the socket before any reply leaves.
        armed = method in _TRADING_METHODS and session.faults.drop_after_request > 0
        mark = len(session.queue)
        try:
            if method != "ping" and not self._tokens.use(params.get("token"), now):
                raise Reject("EAPI:Invalid token")
            handler(session, params, req_id, now)
        except Reject as reject:
            _Replies(session, method, req_id, now).error(reject.message)
        if armed:
            session.faults.drop_after_request -= 1
            del session.queue[mark:]
            session.drop_connection = True

    def _handlers(self) -> dict[str, _Handler]:
        return {
            "ping": self._ping,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "add_order": self._add_order,
            "batch_add": self._batch_add,
            "amend_order": self._amend_order,
            "edit_order": self._edit_order,
            "cancel_order": self._cancel_order,
            "batch_cancel": self._batch_cancel,
            "cancel_all": self._cancel_all,
            "cancel_all_orders_after": self._cancel_all_orders_after,
        }

    def _ping(
        self, session: Session, params: dict[str, Any], req_id: int | None, now: float
    ) -> None:
        # {"method":"pong","req_id":1,"time_in":...,"time_out":...}: no success, no result
        message: dict[str, Any] = {"method": "pong"}
        if req_id is not None:
            message["req_id"] = req_id
        message["time_in"] = _time(now)
        message["time_out"] = _time(now + _LATENCY)
        session.reply(_encoder.encode(message).decode(), now)

    def _pair(self, symbol: object) -> str:
        for pair in self.book.formats:
            if v2_symbol(pair) == symbol or pair == symbol:
                return pair
        raise Reject("EQuery:Unknown asset pair")

    # --- subscriptions -----------------------------------------------------------------------

    def _subscribe(
        self, session: Session, params: dict[str, Any], req_id: int | None, now: float
    ) -> None:
        channel = params.get("channel")
        if channel not in ("executions", "balances"):
            raise Reject("EGeneral:Invalid arguments:channel")
        if channel in session.subscriptions:
            raise Reject("Already subscribed")
        options: dict[str, Any] = {
            key: params[key]
            for key in ("snap_orders", "snap_trades", "order_status", "ratecounter", "snapshot")
            if key in params
        }
        if any(not isinstance(value, bool) for value in options.values()):
            raise Reject("EGeneral:Invalid arguments")
        if channel == "executions":
            options.setdefault("snap_orders", True)
            options.setdefault("snap_trades", False)
        else:
            options.setdefault("snapshot", True)
        # Live order: channel, maxratecount, the options, warnings (2024 capture:
        # {"channel":"executions","maxratecount":180,"snapshot":true,"warnings":[...]}).
        result: dict[str, Any] = {"channel": channel}
        if channel == "executions":
            result["maxratecount"] = self.config.maxratecount
        result.update(sorted(options.items()))
        if channel == "executions":
            result["warnings"] = list(EXECUTIONS_WARNINGS)
        token: str = params["token"]
        _Replies(session, "subscribe", req_id, now, lambda _: result).ok()
        ratecounter = options.get("ratecounter") is True
        session.subscriptions[channel] = Subscription(channel, token, ratecounter=ratecounter)
        if channel == "executions":
            if options.get("order_status") is False:
                self._terse.add(session.session_id)
            else:
                self._terse.discard(session.session_id)
        self._tokens.hold(token, session.session_id)
        if channel == "executions" and (options["snap_orders"] or options["snap_trades"]):
            records: list[dict[str, Any]] = []
            if options["snap_orders"]:
                records += [self._snapshot_order(order) for order in self.book.live.values()]
            if options["snap_trades"]:
                fills = list(self.book.fills.values())[-SNAPSHOT_TRADES:]
                records += [self._trade_record(fill, snapshot=True) for fill in fills]
            self._channel(session, channel, records, now, snapshot=True)
        elif channel == "balances" and options["snapshot"]:
            self._channel(session, channel, self._balance_snapshot(), now, snapshot=True)

    def _unsubscribe(
        self, session: Session, params: dict[str, Any], req_id: int | None, now: float
    ) -> None:
        channel = params.get("channel")
        subscription = session.subscriptions.pop(str(channel), None)
        if subscription is None:
            raise Reject("Subscription Not Found")
        if all(other.token != subscription.token for other in session.subscriptions.values()):
            self._tokens.release(subscription.token, session.session_id, now)
        _Replies(session, "unsubscribe", req_id, now, lambda _: {"channel": channel}).ok()

    # --- trading -----------------------------------------------------------------------------

    def _v1_order(self, params: dict[str, Any], symbol: object) -> dict[str, Any]:
        """An ``add_order`` (or batch row) in the v1 shape the desk validates."""
        _numbers(params, "order_qty", "limit_price", "display_qty", "cash_order_qty")
        order_type = params.get("order_type")
        data: dict[str, Any] = {"pair": self._pair(symbol), "type": params.get("side")}
        data["ordertype"] = order_type
        volume = _text(params.get("order_qty"))
        if volume is not None:
            data["volume"] = volume
        triggers = params.get("triggers")
        trigger = None
        if isinstance(triggers, dict):
            trigger = _relative(triggers.get("price"), triggers.get("price_type"))
        limit = _relative(params.get("limit_price"), params.get("limit_price_type"))
        if order_type in ("trailing-stop", "trailing-stop-limit") and trigger is not None:
            trigger = trigger if trigger[0] in "+-" else "+" + trigger
        if trigger is not None:
            data["price"] = trigger
            if limit is not None:
                data["price2"] = limit
        elif limit is not None:
            data["price"] = limit
        tif = params.get("time_in_force")
        if isinstance(tif, str):
            data["timeinforce"] = tif.upper()
        for v2_name, v1_name in (("effective_time", "starttm"), ("expire_time", "expiretm")):
            if v2_name in params:
                data[v1_name] = str(math.ceil(rfc3339_seconds(params[v2_name], v2_name)))
        flags = []
        if params.get("post_only") is True:
            flags.append("post")
        fee = params.get("fee_preference")
        if fee in ("base", "quote"):
            flags.append("fcib" if fee == "base" else "fciq")
        if flags:
            data["oflags"] = ",".join(flags)
        if "order_userref" in params:
            data["userref"] = str(params["order_userref"])
        for key in ("cl_ord_id", "deadline", "reduce_only", "stp_type", "validate"):
            if key in params:
                data[key] = params[key]
        conditional = params.get("conditional")
        if isinstance(conditional, dict):
            close_trigger = _relative(
                conditional.get("trigger_price"), conditional.get("trigger_price_type")
            )
            close_limit = _relative(
                conditional.get("limit_price"), conditional.get("limit_price_type")
            )
            data["close[ordertype]"] = conditional.get("order_type")
            first = close_trigger if close_trigger is not None else close_limit
            if first is not None:
                data["close[price]"] = first
            if close_trigger is not None and close_limit is not None:
                data["close[price2]"] = close_limit
        return data

    @staticmethod
    def _order_result(params: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def translate(fields: dict[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = {"order_id": fields.get("txid", "")}
            if "cl_ord_id" in params:
                result["cl_ord_id"] = params["cl_ord_id"]
            if "order_userref" in params:
                result["order_userref"] = params["order_userref"]
            return result

        return translate

    def _add_order(
        self, session: Session, params: dict[str, Any], req_id: int | None, now: float
    ) -> None:
        data = self._v1_order(params, params.get("symbol"))
        replies = _Replies(session, "add_order", req_id, now, self._order_result(params))
        self.desk.add_order(data, now, replies)

    def _batch_add(
        self, session: Session, params: dict[str, Any], req_id: int | None, now: float
    ) -> None:
        orders = params.get("orders")
        if not isinstance(orders, list) or not 2 <= len(orders) <= 15:
            raise Reject("EGeneral:Invalid arguments:orders")
        pair = self._pair(params.get("symbol"))
        validate = params.get("validate") is True
        if not validate:
            # n/2 for the whole batch, on receipt: a row that fails later is paid for too
            # (kraken-rate-limits.md); each row then goes through as already charged.
            self.desk.receipt(pair, batch_add_cost(len(orders)), now)
        rows = [row if isinstance(row, dict) else {} for row in orders]
        shared = {key: params[key] for key in ("deadline",) if key in params}
        v1_rows = [{**self._v1_order(row, params.get("symbol")), **shared} for row in rows]
        # The whole batch is validated first: one invalid row rejects it all.
        # Funding is a pre-match check, not validation: it fails a row later, on its own.
        for v1_row in v1_rows:
            try:
                self.desk.add_order({**v1_row, "validate": True}, now, _Discard())
            except Reject as reject:
                if reject.message != _NO_FUNDS:
                    raise
        if validate:
            results = [{"order_id": ""} for _ in rows]
        else:
            results = []
            for row, v1_row in zip(rows, v1_rows, strict=True):
                collector = _Collect(self._order_result(row))
                try:
                    self.desk.add_order(v1_row, now, collector, charged=True)
                    results.append(collector.result)
                except Reject as reject:  # funds and the like: this row alone fails
                    error = _v2_error(reject.message)
                    results.append({"error": error, **collector.identity(row)})
        # A partly placed batch: success false, every row kept (the official SDK's reading).
        success = all("error" not in row for row in results)
        _Replies(session, "batch_add", req_id, now).result(results, success=success)

    def _amend_order(
        self, session: Session, params: dict[str, Any], req_id: int | None, now: float
    ) -> None:
        _numbers(params, "order_qty", "display_qty", "limit_price", "trigger_price")
        data: dict[str, Any] = {}
        if "order_id" in params:
            data["txid"] = params["order_id"]
        if "cl_ord_id" in params:
            data["cl_ord_id"] = params["cl_ord_id"]
        for v2_name, v1_name, kind in (
            ("order_qty", "volume", None),
            ("display_qty", "display_volume", None),
            ("limit_price", "limit_price", params.get("limit_price_type")),
            ("trigger_price", "trigger_price", params.get("trigger_price_type")),
        ):
            if v2_name in params:
                data[v1_name] = _relative(params[v2_name], kind)
        for key in ("post_only", "deadline"):
            if key in params:
                data[key] = params[key]
        if "symbol" in params:
            data["pair"] = self._pair(params["symbol"])

        def translate(fields: dict[str, Any]) -> dict[str, Any]:
            result = {"amend_id": fields["amend_id"]}
            if "txid" in fields:
                result["order_id"] = fields["txid"]
            else:
                result["cl_ord_id"] = fields["cl_ord_id"]
            return result

        self.desk.amend_order(data, now, _Replies(session, "amend_order", req_id, now, translate))

    def _edit_order(
        self, session: Session, params: dict[str, Any], req_id: int | None, now: float
    ) -> None:
        _numbers(params, "order_qty", "limit_price", "display_qty")
        data: dict[str, Any] = {"orderid": params.get("order_id")}
        data["pair"] = self._pair(params.get("symbol"))
        for v2_name, v1_name in (("order_qty", "volume"), ("limit_price", "price")):
            text = _text(params.get(v2_name))
            if text is not None:
                data[v1_name] = text
        if params.get("post_only") is True:
            data["oflags"] = "post"
        if "order_userref" in params:
            data["newuserref"] = str(params["order_userref"])
        for key in ("deadline", "validate"):
            if key in params:
                data[key] = params[key]

        def translate(fields: dict[str, Any]) -> dict[str, Any]:
            return {"order_id": fields.get("txid", ""), "original_order_id": data["orderid"]}

        self.desk.edit_order(data, now, _Replies(session, "edit_order", req_id, now, translate))

    def _cancel_order(
        self, session: Session, params: dict[str, Any], req_id: int | None, now: float
    ) -> None:
        targets: list[tuple[str, Any]] = []
        for key in ("order_id", "cl_ord_id", "order_userref"):
            ids = params.get(key, [])
            if not isinstance(ids, list):
                raise Reject(f"EGeneral:Invalid arguments:{key}")
            targets += [(key, ident) for ident in ids]
        if not targets:
            raise Reject("EGeneral:Invalid arguments:order_id")
        for key, ident in targets:  # one reply per id, all with the request's req_id
            data = {"cl_ord_id": [ident]} if key == "cl_ord_id" else {"txid": [str(ident)]}
            replies = _Replies(session, "cancel_order", req_id, now, _echo(key, ident))
            try:
                self.desk.cancel_order(data, now, replies)
            except Reject as reject:
                replies.error(reject.message)

    def _batch_cancel(
        self, session: Session, params: dict[str, Any], req_id: int | None, now: float
    ) -> None:
        ids = [str(i) for i in params.get("orders", [])]
        client_ids = list(params.get("cl_ord_id", []))
        if not 2 <= len(ids) + len(client_ids) <= 50:
            raise Reject("EGeneral:Invalid arguments:orders")
        collector = _Collect(lambda fields: fields)
        count = 0
        for data in [{"txid": [i]} for i in ids] + [{"cl_ord_id": [c]} for c in client_ids]:
            before = collector.oks
            # accepted even past the rate threshold, and charged (kraken-rate-limits.md)
            self.desk.cancel_order(data, now, collector, batch=True)
            count += collector.oks - before
        _Replies(session, "batch_cancel", req_id, now, lambda _: {"count": count}).ok()

    def _cancel_all(
        self, session: Session, params: dict[str, Any], req_id: int | None, now: float
    ) -> None:
        replies = _Replies(session, "cancel_all", req_id, now, lambda f: {"count": f["count"]})
        self.desk.cancel_all({}, now, replies)

    def _cancel_all_orders_after(
        self, session: Session, params: dict[str, Any], req_id: int | None, now: float
    ) -> None:
        replies = _Replies(session, "cancel_all_orders_after", req_id, now, lambda f: f)
        self.desk.cancel_all_after({"timeout": params.get("timeout")}, now, replies)

    # --- the book's changes as executions and balances ----------------------------------------

    def _v2_sessions(self, channel: str) -> list[Session]:
        return [s for s in self._sessions.values() if channel in s.subscriptions]

    def order_update(
        self, order: Order, delta: dict[str, Any], now: float, ratecount: Decimal
    ) -> None:
        """Frame one order change as an execution event (changes v2 does not report, such as
        the running totals between the parts of a fill, are skipped).

        Subscribers that asked for ``ratecounter`` get the pair's counter as ``ratecount``
        (the doc names no field; v1's name, as a number, is assumed).
        """
        sessions = self._v2_sessions("executions")
        if not sessions:
            return
        status = delta.get("status")
        if "descr" in delta and status == "pending":
            record = self._pending_new(order, now)
        elif status == "open" and len(delta) <= 2:
            record = self._event(order, "new", now)
        elif status in _TERMINAL:
            record = self._ended(order, _TERMINAL[status], delta.get("cancel_reason"), now)
        elif delta.get("amended") is True:
            record = self._amended(order, now)
        elif "stopprice" in delta:
            record = self._event(order, "status", now)
            triggers = {"price": _price(order.fmt, order.stopprice), "status": "triggered"}
            record = {**record, "triggers": triggers}
            record["order_id"] = record.pop("order_id")  # order_id stays last
        else:
            return
        terse_skips = record["exec_type"] not in _TERSE_EXEC_TYPES
        counted = {**record, "ratecount": _number(fixed(ratecount, 4))}
        for session in sessions:
            if not (terse_skips and session.session_id in self._terse):
                ratecounter = session.subscriptions["executions"].ratecounter
                self._channel(session, "executions", [counted if ratecounter else record], now)

    def trade_update(self, trade: TradeView, fmt: PairFormat, *, consolidated: bool) -> None:
        """Frame one fill (v2 reports every fill) and its two ledger records."""
        if consolidated:
            return
        # trade.time is the clock rounded to the microsecond, possibly up: queued at that time
        # the fill would leave after the later ``filled`` push, out of sequence order. A
        # microsecond earlier is never in the future.
        now = float(trade.time) - 1e-6
        for session in self._v2_sessions("executions"):
            self._channel(session, "executions", [self._trade_record(trade)], now)
        balances = self._v2_sessions("balances")
        if balances:
            ledger = self._ledger(trade, fmt, now)
            for session in balances:
                self._channel(session, "balances", ledger, now)

    # --- records -------------------------------------------------------------------------------
    # Key order and presence follow captured events: roq-kraken's tests (2026-01, an order
    # with a cl_ord_id: pending_new, new, amended, canceled), a 2025-02 comment in a public
    # Java client (a post-only order: pending_new, new, canceled) and kraken-async-rs's tests
    # (2024: pending_new, new, amended, canceled, trade snapshot). A field no capture shows on
    # an event (filled, expired and status events have none) follows the nearest captured one.

    def _order_status(self, order: Order) -> str:
        if order.status == "open" and order.vol_exec > 0:
            return "partially_filled"
        return _V1_STATUS.get(order.status, order.status)

    @staticmethod
    def _ident(order: Order | TradeView) -> dict[str, Any]:
        """``cl_ord_id`` if the order has one, else ``order_userref`` (never both: an order
        with a cl_ord_id carries no ``order_userref: 0``)."""
        if order.cl_ord_id is not None:
            return {"cl_ord_id": order.cl_ord_id}
        return {"order_userref": order.userref}

    @staticmethod
    def _post_only(order: Order) -> dict[str, Any]:
        # sent only when true: a plain order's events carry no "post_only": false
        return {"post_only": True} if order.post_only else {}

    def _event(self, order: Order, exec_type: str, now: float) -> dict[str, Any]:
        """``new`` (and the base of ``status``): timestamp, order_status, exec_type, the id,
        post_only, order_id."""
        return {
            "timestamp": _time(now),
            "order_status": self._order_status(order),
            "exec_type": exec_type,
            **self._ident(order),
            **self._post_only(order),
            "order_id": order.txid,
        }

    def _ended(
        self, order: Order, exec_type: str, reason: str | None, now: float
    ) -> dict[str, Any]:
        """``canceled``/``expired``/``filled``: the order's totals, then why."""
        fmt = order.fmt
        record: dict[str, Any] = {
            "timestamp": _time(now),
            "order_status": self._order_status(order),
            "exec_type": exec_type,
            "cum_qty": _number(fmt.volume(order.vol_exec)),
            "cum_cost": _number(fmt.price(order.cost)),
            "fee_usd_equiv": _number(fmt.price(order.fee)),
            "avg_price": _price(fmt, order.avg_price),
            **self._ident(order),
            **self._post_only(order),
        }
        if reason is not None:
            record["cancel_reason"] = record["reason"] = reason
        record["order_id"] = order.txid
        return record

    def _amended(self, order: Order, now: float) -> dict[str, Any]:
        fmt = order.fmt
        record: dict[str, Any] = {
            "timestamp": _time(now),
            "exec_type": "amended",
            "order_status": self._order_status(order),
            "cum_qty": _number(fmt.volume(order.vol_exec)),
            "reason": "User requested",
            "amended": True,
            "order_qty": _number(fmt.volume(order.vol)),
        }
        limit = order.acts_as_limit()
        if limit is not None:
            record["limit_price"] = _price(fmt, limit)
            record["limit_price_type"] = "static"
        record.update(self._ident(order))
        record["order_id"] = order.txid
        return record

    def _pending_new(
        self, order: Order, now: float, *, exec_type: str = "pending_new"
    ) -> dict[str, Any]:
        """The full record of a new order: its terms, no fill totals but ``cum_cost``."""
        fmt = order.fmt
        record: dict[str, Any] = {
            "order_id": order.txid,
            "symbol": v2_symbol(order.pair),
            "order_qty": _number(fmt.volume(order.vol)),
        }
        if self.config.v2_pending_cum_qty:  # not live: see SimulatorConfig
            record["cum_qty"] = _number(fmt.volume(order.vol_exec))
        record |= {
            "cum_cost": _number(fmt.price(order.cost)),
            "time_in_force": order.timeinforce,
            "exec_type": exec_type,
            "side": order.side,
            "order_type": order.ordertype,
            **self._ident(order),
        }
        limit = _limit_price(order)
        triggered = order.ordertype in TRIGGERED_TYPES
        if limit is not None:
            record["limit_price_type"] = "static"
            if not triggered:
                record["limit_price"] = _price(fmt, limit)
        if triggered:
            # as kraken-async-rs's stop-loss-limit event lists them: triggers, stop_price,
            # then limit_price
            trailing = order.ordertype.startswith("trailing")
            record["triggers"] = {
                "price": _price(fmt, order.price),
                "price_type": "quote" if trailing else "static",
                "reference": "last",
                "status": "triggered" if order.triggered else "untriggered",
            }
        record["stop_price"] = _price(fmt, order.price if triggered else order.stopprice)
        if triggered and limit is not None:
            record["limit_price"] = _price(fmt, limit)
        record.update(self._post_only(order))
        record.update(
            order_status=self._order_status(order),
            fee_usd_equiv=_number(fmt.price(order.fee)),
            fee_ccy_pref="fcib" if "fcib" in order.oflags else "fciq",
            timestamp=_time(now),
        )
        return record

    def _snapshot_order(self, order: Order) -> dict[str, Any]:
        """An open order in the snapshot. No capture shows one: the ``pending_new`` record of
        the order as it now stands, with its fill totals and the ``amended`` flag the doc says
        the snapshot carries."""
        fmt = order.fmt
        record = self._pending_new(order, float(order.opentm), exec_type="new")
        totals: dict[str, Any] = {
            "cum_qty": _number(fmt.volume(order.vol_exec)),
            "avg_price": _price(fmt, order.avg_price),
        }
        if order.amended:
            totals["amended"] = True
        return {**record, **totals}

    def _trade_record(self, trade: TradeView, *, snapshot: bool = False) -> dict[str, Any]:
        """One fill. An update (the doc's example, 2023) carries the order's running totals;
        a snapshot entry (kraken-async-rs capture, 2024) none, and the order's status now."""
        order = self.book.orders[trade.ordertxid]
        fmt = order.fmt
        trade_id = self._trade_ids.get(trade.trade_id)
        if trade_id is None:
            trade_id = self._trade_ids[trade.trade_id] = self._next_trade_id
            self._next_trade_id += 1
        quote = self.config.pairs[order.pair].quote
        record: dict[str, Any] = {
            "order_id": order.txid,
            **self._ident(trade),
            "exec_id": trade.trade_id,
            "exec_type": "trade",
            "trade_id": trade_id,
            "symbol": v2_symbol(order.pair),
            "side": trade.side,
            "last_qty": _number(fmt.volume(trade.vol)),
            "last_price": _price(fmt, trade.price),
            "liquidity_ind": "m" if trade.maker else "t",
            "cost": _number(fmt.price(trade.cost)),
        }
        if snapshot:
            record.update(order_status=self._order_status(order), order_type=order.ordertype)
            record["timestamp"] = _time(float(trade.time))
        else:
            record.update(order_type=order.ordertype, timestamp=_time(float(trade.time)))
            record.update(
                # As in the doc's example: partially_filled even on the completing fill.
                order_status="partially_filled",
                cum_qty=_number(fmt.volume(order.vol_exec)),
                cum_cost=_number(fmt.price(order.cost)),
                avg_price=_price(fmt, order.avg_price),
            )
        record["fee_usd_equiv"] = _number(fmt.price(trade.fee))
        record["fees"] = [{"asset": v2_asset(quote), "qty": _number(fmt.price(trade.fee))}]
        return record

    def _balance_snapshot(self) -> list[dict[str, Any]]:
        entries = []
        for asset, balance in sorted(self.book.account.balances.items()):
            amount = _number(format(balance, "f"))
            # the doc's snapshot example's order; its wallets read type, id, balance
            entries.append(
                {
                    "asset": v2_asset(asset),
                    "asset_class": "currency",
                    "balance": amount,
                    "wallets": [{"type": "spot", "id": "main", "balance": amount}],
                }
            )
        return entries

    def _ledger(self, trade: TradeView, fmt: PairFormat, now: float) -> list[dict[str, Any]]:
        """The fill's two ledger records: base and quote, sharing the trade's ``ref_id``."""
        pair = self.config.pairs[trade.pair]
        balances = self.book.account.balances
        buy = trade.side == "buy"
        base_amount = trade.vol if buy else -trade.vol
        quote_amount = -trade.cost if buy else trade.cost
        records = []
        for asset, amount, fee, places in (
            (pair.base, base_amount, Decimal(0), fmt.volume_places),
            (pair.quote, quote_amount, trade.fee, fmt.quote_places),
        ):
            step = Decimal(1).scaleb(-places)
            # key order of the captured ledger updates (kraken-async-rs, 2024-05)
            records.append(
                {
                    "ledger_id": f"L{trade.trade_id[1:]}-{asset}",
                    "ref_id": trade.trade_id,
                    "timestamp": _time(now),
                    "type": "trade",
                    "asset": v2_asset(asset),
                    "asset_class": "currency",
                    "category": "trade",
                    "wallet_type": "spot",
                    "wallet_id": "main",
                    "amount": _number(format(amount.quantize(step), "f")),
                    "fee": _number(format(fee.quantize(step), "f")),
                    "balance": _number(format(balances[asset], "f")),
                }
            )
        return records

    # --- channel frames ------------------------------------------------------------------------

    def _channel(
        self,
        session: Session,
        channel: str,
        records: list[dict[str, Any]],
        now: float,
        *,
        snapshot: bool = False,
    ) -> None:
        """Queue one push with the next sequence number, honouring the sequence faults."""
        subscription = session.subscriptions[channel]
        faults = session.faults
        if faults.repeat_sequence > 0 and subscription.sequence > 0:
            faults.repeat_sequence -= 1
        elif faults.skip_sequence > 0:
            faults.skip_sequence -= 1
            subscription.sequence += 2
        else:
            subscription.sequence += 1
        # {"channel":"executions","type":"update","data":[...],"sequence":148}: the order of
        # every captured executions and balances push (kraken-async-rs 2024, roq 2026)
        message = {
            "channel": channel,
            "type": "snapshot" if snapshot else "update",
            "data": records,
            "sequence": subscription.sequence,
        }
        session.push(_encoder.encode(message).decode(), now)


class _Discard:
    """A ``Replies`` that drops what it is told (validation passes of a batch)."""

    def ok(self, **fields: Any) -> None:
        pass

    def error(self, message: str) -> None:  # pragma: no cover - add_order raises instead
        raise Reject(message)


class _Collect:
    """A ``Replies`` that keeps the last result and counts successes (batch rows)."""

    def __init__(self, translate: Callable[[dict[str, Any]], Any]) -> None:
        self.translate = translate
        self.result: Any = None
        self.oks = 0

    def ok(self, **fields: Any) -> None:
        self.result = self.translate(fields)
        self.oks += 1

    def error(self, message: str) -> None:
        self.result = {"error": message}

    @staticmethod
    def identity(row: dict[str, Any]) -> dict[str, Any]:
        return {key: row[key] for key in ("cl_ord_id", "order_userref") if key in row}


def _echo(key: str, ident: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A cancel reply's result: the id this reply is about."""
    return lambda fields: {key: ident}


def _limit_price(order: Order) -> Decimal | None:
    """The limit price an order is placed with (a triggered type's after it fires)."""
    if order.ordertype == "limit":
        return order.price
    if order.ordertype in LIMIT_AFTER_TRIGGER:
        return order.limitprice if order.triggered else order.price2
    if order.ordertype == "stop-loss-and-limit":
        return order.price2
    return None


class Listeners:
    """Forwards every book change to several listeners (the v1 channels and the v2 gateway)."""

    def __init__(self, *listeners: Any) -> None:
        self._listeners = listeners

    def order_update(
        self, order: Order, delta: dict[str, Any], now: float, ratecount: Decimal
    ) -> None:
        for listener in self._listeners:
            listener.order_update(order, delta, now, ratecount)

    def trade_update(self, trade: TradeView, fmt: PairFormat, *, consolidated: bool) -> None:
        for listener in self._listeners:
            listener.trade_update(trade, fmt, consolidated=consolidated)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")
