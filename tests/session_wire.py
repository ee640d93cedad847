"""A pure ``Session`` wired to the simulator's pure ``Exchange`` in memory: no sockets, virtual
time. Used by the session's unit tests and its Hypothesis state machine.

``Wire`` plays the adapter: it carries out every action the session asks for against the
exchange model, delivers the exchange's frames, and moves virtual time to the next deadline
of either side. Faults are injected by the tests (drops, exchange faults, REST faults).

REST calls go to ``Exchange.handle_rest``. For the reconciliation calls the simulator does not
serve yet (404), a small stand-in answers from the model's own book (``_ModelRest``) in
Kraken's JSON shape.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from kraken_proto import (
    CloseConnection,
    Credentials,
    HttpCall,
    NonceSource,
    OpenConnection,
    SendMessages,
    Session,
    SessionConfig,
    SessionEvent,
)
from kraken_proto.adapters.simulator.exchange import Exchange, OrderView, SimulatorConfig, TradeView

START = 1_700_000_000.0
PAGE = 50


def _num(value: Decimal) -> str:
    return format(value, "f")


def _order_json(order: OrderView) -> str:
    fields = [
        '"refid":null',
        f'"userref":{order.userref}',
        f'"status":"{order.status}"',
        f'"opentm":{_num(order.opentm)}',
        '"starttm":0',
        '"expiretm":0',
        (
            f'"descr":{{"pair":"{order.pair.replace("/", "")}","type":"{order.side}",'
            f'"ordertype":"{order.ordertype}","price":"{_num(order.price)}",'
            f'"price2":"{_num(order.price2)}","leverage":"none","order":"","close":""}}'
        ),
        f'"vol":"{_num(order.vol)}"',
        f'"vol_exec":"{_num(order.vol_exec)}"',
        f'"cost":"{_num(order.cost)}"',
        f'"fee":"{_num(order.fee)}"',
        f'"price":"{_num(order.avg_price)}"',
        '"stopprice":"0","limitprice":"0","misc":""',
        f'"oflags":"{order.oflags}"',
    ]
    if order.cl_ord_id is not None:
        fields.append(f'"cl_ord_id":"{order.cl_ord_id}"')
    if order.status in ("closed", "canceled", "expired"):
        fields.append(f'"closetm":{_num(order.opentm)}')
    return "{" + ",".join(fields) + "}"


def _trade_json(trade: TradeView) -> str:
    return (
        f'{{"ordertxid":"{trade.ordertxid}","postxid":"TKH2SE-M7IF5-CFI7LT",'
        f'"pair":"{trade.pair}","time":{_num(trade.time)},"type":"{trade.side}",'
        f'"ordertype":"{trade.ordertype}","price":"{_num(trade.price)}",'
        f'"cost":"{_num(trade.cost)}","fee":"{_num(trade.fee)}","vol":"{_num(trade.vol)}",'
        f'"margin":"0","misc":"","maker":{"true" if trade.maker else "false"}}}'
    )


class _ModelRest:
    """Answers OpenOrders/ClosedOrders/QueryOrders/TradesHistory from the model's book."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def answer(self, path: str, body: bytes) -> tuple[int, bytes]:
        form = {key: values[-1] for key, values in parse_qs(body.decode()).items()}
        name = path.rsplit("/", 1)[-1]
        orders = self.exchange.orders()
        if name == "OpenOrders":
            chosen = {
                txid: order
                for txid, order in orders.items()
                if order.status in ("pending", "open") and _matches(order, form)
            }
            result = '{"open":' + _object(chosen, _order_json) + "}"
        elif name == "ClosedOrders":
            start = Decimal(form.get("start", "0"))
            closed = [
                (txid, order)
                for txid, order in orders.items()
                if order.status not in ("pending", "open")
                and _matches(order, form)
                and order.opentm > start
            ][::-1]
            ofs = int(form.get("ofs", "0"))
            page = dict(closed[ofs : ofs + PAGE])
            result = '{"closed":' + _object(page, _order_json) + f',"count":{len(closed)}}}'
        elif name == "QueryOrders":
            txids = [txid.strip() for txid in form["txid"].split(",")]
            result = _object({t: orders[t] for t in txids if t in orders}, _order_json)
        elif name == "TradesHistory":
            start = Decimal(form.get("start", "0"))
            trades = [t for t in self.exchange.trades().values() if t.time > start][::-1]
            ofs = int(form.get("ofs", "0"))
            page_trades = {t.trade_id: t for t in trades[ofs : ofs + PAGE]}
            result = '{"trades":' + _object(page_trades, _trade_json) + f',"count":{len(trades)}}}'
        else:
            return 404, b"Not Found\n"
        return 200, ('{"error":[],"result":' + result + "}").encode()


def _matches(order: OrderView, form: dict[str, str]) -> bool:
    if "cl_ord_id" in form and order.cl_ord_id != form["cl_ord_id"]:
        return False
    return not ("userref" in form and str(order.userref) != form["userref"])


def _object(items: dict[str, Any], render: Callable[[Any], str]) -> str:
    return "{" + ",".join(f'"{key}":{render(value)}' for key, value in items.items()) + "}"


class Wire:
    """The session, the exchange and the bytes between them."""

    def __init__(
        self,
        *,
        seed: bytes = b"session-seed-0000",
        config: SessionConfig | None = None,
        exchange_seed: int = 0,
        now: float = START,
    ) -> None:
        self.now = now
        sim = SimulatorConfig()
        self.exchange = Exchange(sim, rng=random.Random(exchange_seed), now=now)
        self.model_rest = _ModelRest(self.exchange)
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        self.session = Session(
            credentials, config=config, seed=seed, nonces=NonceSource(last=int(now * 1e6))
        )
        self.sid_of: dict[int, int] = {}
        self.events: list[SessionEvent] = []
        self.fail_opens = 0  # the next N OpenConnection fail
        self.fail_rest = 0  # the next N REST calls get HTTP 500
        self.lose_rest = 0  # the next N REST calls get no answer at all
        self.hold_rest = False  # keep REST calls unanswered in ``held``
        self.held: list[HttpCall] = []
        self.opens = 0
        self.attempt_times: list[float] = []
        self.rest_calls: list[str] = []

    # --- the adapter --------------------------------------------------------------------

    def pump(self) -> None:
        """Carry out every action and deliver every due frame until both sides are quiet."""
        session = self.session
        for _ in range(100_000):
            actions = session.actions()
            for action in actions:
                self._do(action)
            delivered = False
            for conn, sid in list(self.sid_of.items()):
                for text in self.exchange.take_outgoing(sid, self.now):
                    if self.sid_of.get(conn) != sid:
                        break
                    delivered = True
                    session.receive_message(conn, text, self.now)
            self.events.extend(session.events())
            if not actions and not delivered:
                return
        raise AssertionError("the session and the exchange never went quiet")

    def _do(self, action: object) -> None:
        session, now = self.session, self.now
        if isinstance(action, OpenConnection):
            self.opens += 1
            self.attempt_times.append(now)
            if self.fail_opens:
                self.fail_opens -= 1
                session.connection_failed(action.conn, "refused", now)
                return
            self.sid_of[action.conn] = self.exchange.open_session(now)
            session.connection_made(action.conn, now)
        elif isinstance(action, SendMessages):
            sid = self.sid_of.get(action.conn)
            if sid is not None:
                for message in action.messages:
                    self.exchange.receive(sid, message, now)
        elif isinstance(action, CloseConnection):
            sid = self.sid_of.pop(action.conn, None)
            if sid is not None:
                self.exchange.close_session(sid, now)
            session.connection_lost(action.conn, now)
        elif isinstance(action, HttpCall):
            self.rest_calls.append(action.purpose)
            if self.hold_rest:
                self.held.append(action)
                return
            self.answer(action)
        else:  # pragma: no cover - every action type is handled above
            raise AssertionError(action)

    def answer(self, call: HttpCall) -> None:
        """Answer one REST call now (from the exchange, or the model stand-in)."""
        session, now, request = self.session, self.now, call.request
        if self.lose_rest:
            self.lose_rest -= 1
            session.rest_failed(call.call, "timed out", now)
            return
        if self.fail_rest:
            self.fail_rest -= 1
            session.rest_response(call.call, 500, b"Internal Server Error\n", now)
            return
        reply = self.exchange.handle_rest(
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            body=request.body,
            now=now,
        )
        status, body = reply.status, reply.body
        if status == 404:
            status, body = self.model_rest.answer(request.path, request.body)
        session.rest_response(call.call, status, body, now)

    # --- time and faults ------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move virtual time forward, waking each side at its deadlines on the way."""
        target = self.now + seconds
        for _ in range(100_000):
            deadlines = [
                d
                for d in (self.session.next_deadline(), self.exchange.next_deadline())
                if d is not None
            ]
            step = min(deadlines, default=None)
            if step is None or step > target:
                break
            self._tick(max(self.now, step))
        self._tick(target)

    def _tick(self, now: float) -> None:
        self.now = now
        self.exchange.advance(now)
        self.session.handle_timeout(now)
        self.pump()

    def drop(self) -> None:
        """The server side closes the current connection (no close frame)."""
        for conn, sid in list(self.sid_of.items()):
            self.exchange.close_session(sid, self.now)
            del self.sid_of[conn]
            self.session.connection_lost(conn, self.now)
        self.pump()

    def current_sid(self) -> int | None:
        return next(iter(self.sid_of.values()), None)

    def settle(self, limit: float = 3600.0) -> None:
        """Advance until the session is live with nothing in flight (or ``limit`` passes)."""
        from kraken_proto import SessionState

        waited = 0.0
        while waited < limit:
            if self.session.state is SessionState.LIVE and not self.session.pending():
                return
            self.advance(1.0)
            waited += 1.0
