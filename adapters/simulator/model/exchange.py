"""The simulator's pure exchange model: one Kraken spot account behind the v1 private API
(and, for sessions opened with ``protocol="v2"``, the v2 one: ``_v2``).

Sans-IO: no sockets, no clock, no ``random`` import. Time comes in as ``now`` (unix seconds) and
randomness from the ``rng`` passed to ``Exchange``, so a seeded ``random.Random`` replays a run
exactly. The server feeds it REST requests and WebSocket text messages, drains each session's
outgoing frames with ``take_outgoing`` and sleeps until ``next_deadline``.

Layout: ``_rest`` (token call), ``_sessions`` (per-connection queue and faults), ``_trading``
(request validation), ``_book`` (orders, matching, balances, timers), ``_channels`` (frames),
``_config``/``_pairs`` (configuration and the table of real pairs), ``_v2`` (the v2 requests
and frames over the same book).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ._book import SYSTEM_STATUSES, Book
from ._channels import Channels, trade_record
from ._config import PairConfig, SimulatorConfig
from ._format import RandomLike, timestamp
from ._params import LIMIT, REQID_ERROR, Reject, flag, places_of, reqid_valid
from ._rest import KeyState, RestReply, TokenBook, fault_reply, handle_token_request, route
from ._rest_queries import TOKEN_PATH, RestJournal, RestQueries
from ._sessions import Faults, Session, Subscription, dropping_after_request
from ._trading import Desk
from ._v2 import Listeners, V2Gateway
from ._views import OrderView, TradeView, order_view

__all__ = [
    "Exchange",
    "Faults",
    "Forgotten",
    "OrderView",
    "PairConfig",
    "RandomLike",
    "RestReply",
    "SimulatorConfig",
    "TradeView",
]

CHANNELS = ("ownTrades", "openOrders")
SNAPSHOT_TRADES = 50

_Handler = Callable[[Session, dict[str, Any], "int | None", float], None]
_TradingHandler = Callable[[dict[str, Any], float, "_SessionReplies"], None]


@dataclass
class _SessionReplies:
    """Replies to one request: the request's status event, echoing its ``reqid``."""

    session: Session
    event: str
    reqid: int | None
    now: float
    # request fields a real error repeats: a trading request's ``pair``, ``reqid: null``
    error_echo: dict[str, Any] = field(default_factory=dict)

    def ok(self, **fields: Any) -> None:
        self.send({"event": self.event, "status": "ok", **fields})

    def error(self, message: str, **fields: Any) -> None:
        reply = {**self.error_echo, **fields}
        self.send({"errorMessage": message, "event": self.event, "status": "error", **reply})

    def send(self, reply: dict[str, Any]) -> None:
        if self.reqid is not None:
            reply["reqid"] = self.reqid
        self.session.reply(dict(sorted(reply.items())), self.now)


@dataclass(frozen=True)
class Forgotten:
    """What ``Exchange.forget_settled`` dropped: orders by txid (as they ended), consolidated
    trades and individual fills by trade id."""

    orders: dict[str, OrderView]
    trades: dict[str, TradeView]
    fills: dict[str, TradeView]


class Exchange:
    """One simulated Kraken account behind the v1 private WebSocket API and REST token call.

    Every method that takes ``now`` treats it as the current unix time; calls must come with
    non-decreasing ``now``. After ``receive``, ``advance``, ``set_*`` or ``close_session`` any
    session may have frames to send, so flush them all with ``take_outgoing``.
    """

    def __init__(self, config: SimulatorConfig, *, rng: RandomLike, now: float) -> None:
        if config.system_status not in SYSTEM_STATUSES:
            raise ValueError(f"system_status must be one of {SYSTEM_STATUSES}")
        self.config = config
        self.default_faults = Faults()
        self.rest_fault: str | None = None
        self._rng = rng
        self._tokens = TokenBook(config.token_ttl)
        self._keys: dict[str, KeyState] = {}
        self._sessions: dict[int, Session] = {}
        self._next_session = 1
        channels = Channels(self._sessions, owntrades_userref=config.owntrades_userref)
        self._v2 = V2Gateway(config, self._sessions, self._tokens)
        self._book = Book(config, rng, Listeners(channels, self._v2))
        self._v2.attach(self._book)
        desk = Desk(self._book)
        self._handlers: dict[str, _Handler] = {
            "ping": self._ping,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
        }
        self._trading: dict[str, _TradingHandler] = {
            "addOrder": desk.add_order,
            "editOrder": desk.edit_order,
            "amendOrder": desk.amend_order,
            "cancelOrder": desk.cancel_order,
            "cancelAll": desk.cancel_all,
            "cancelAllOrdersAfter": desk.cancel_all_after,
        }
        # REST queries answer from the book; the journal records what REST shows beyond it.
        journal = self._journal = RestJournal(self._book.listener)
        self._book.listener = journal
        self.rest = RestQueries(self._book, config, self._keys, journal)
        self._trading = {
            name: dropping_after_request(handler) for name, handler in self._trading.items()
        }
        self._book.run_timers(now)

    # --- REST ---------------------------------------------------------------------------

    def handle_rest(
        self, *, method: str, path: str, headers: Mapping[str, str], body: bytes, now: float
    ) -> RestReply:
        """Answer one HTTP request: ``POST /0/private/GetWebSocketsToken``, ``OpenOrders``,
        ``ClosedOrders``, ``QueryOrders``, ``TradesHistory`` and ``QueryTrades``.

        Kraken's API errors come back as HTTP 200 with ``{"error": [...]}``; other paths get
        404, other methods 405; ``rest_fault`` replaces the answer with a 500 or an HTML page.
        Every private call passes the REST call counter (``self.rest.counter``).
        """
        # Every served path is routed like the token path: 405 unless POST. Others: 404.
        routed = route(method, TOKEN_PATH if self.rest.serves(path) else path)
        if routed is not None:
            return routed
        if self.rest_fault is not None:
            return fault_reply(self.rest_fault)
        return self.rest.handle(
            path=path,
            headers=headers,
            body=body,
            now=now,
            token_call=lambda: handle_token_request(
                headers=headers,
                body=body,
                api_key=self.config.api_key,
                api_secret=self.config.api_secret,
                websocket_permission=self.config.websocket_permission,
                keys=self._keys,
                tokens=self._tokens,
                rng=self._rng,
                now=now,
            ),
        )

    # --- sessions -------------------------------------------------------------------------

    def open_session(self, now: float, *, protocol: str = "v1") -> int:
        """Start a WebSocket session; queues the ``systemStatus`` greeting. Returns its id.

        ``protocol="v2"`` makes it a v2 session (``/v2``): v2 requests, replies and channels.
        """
        session_id = self._next_session
        self._next_session += 1
        faults = Faults(**vars(self.default_faults))
        session = Session(session_id, self._rng.randrange(2**64), faults, last_frame_at=now)
        session.protocol = protocol
        self._sessions[session_id] = session
        self._send_status(session, now)
        return session_id

    def close_session(self, session: int, now: float) -> None:
        """Forget a session (idempotent); tokens it held start their idle timer again."""
        state = self._sessions.pop(session, None)
        if state is not None:
            for subscription in state.subscriptions.values():
                self._tokens.release(subscription.token, session, now)

    def take_outgoing(self, session: int, now: float) -> list[str]:
        """The session's frames due by ``now`` (delayed replies wait), removed from the queue."""
        state = self._sessions.get(session)
        return [] if state is None else state.take(now)

    def faults(self, session: int) -> Faults:
        """The live fault settings of one session (mutate them to inject faults)."""
        return self._sessions[session].faults

    def connection_dropped(self, session: int) -> bool:
        """True once the ``drop_after_request`` fault wants the session's socket closed."""
        state = self._sessions.get(session)
        return state is not None and state.drop_connection

    def receive(self, session: int, text: str, now: float) -> None:
        """Handle one client text message; ignored for a closed session."""
        state = self._sessions.get(session)
        if state is None:
            return
        if state.protocol == "v2":
            self._v2.receive(state, text, now)
            return
        self._book.run_timers(now)
        try:
            data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            state.reply({"errorMessage": "Malformed request", "event": "error"}, now)
            return
        reqid = data.get("reqid")
        event = data.get("event")
        if not isinstance(event, str) or not (event in self._handlers or event in self._trading):
            message = "Event(s) not found" if "event" not in data else "Unsupported event"
            _SessionReplies(state, "subscriptionStatus", reqid, now).error(message)
            return
        replies = _SessionReplies(state, _status_event(event), reqid, now)
        if event in self._trading and "pair" in data:
            # real trading errors repeat the request's pair (kraken-async-rs capture)
            replies.error_echo["pair"] = data["pair"]
        if "reqid" in data and not reqid_valid(reqid):
            if event == "ping":  # echoed as sent: {"reqid":"a"} (1.9.0 capture)
                replies.event = "pingStatus"
            elif event in self._trading:  # answered with "reqid":null (capture)
                replies.reqid = None
                replies.error_echo["reqid"] = None
            replies.error(REQID_ERROR)
            return
        try:
            if event in self._handlers:
                self._handlers[event](state, data, reqid, now)
            else:
                if not self._tokens.use(data.get("token"), now):
                    raise Reject("ESession:Invalid session")
                self._trading[event](data, now, replies)
        except Reject as reject:
            replies.error(reject.message, **reject.extra)

    # --- time -----------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """The earliest time at which ``advance`` (or a delayed reply) has work, or None."""
        candidates: list[float] = []
        timer = self._book.next_timer()
        if timer is not None:
            candidates.append(timer)
        for session in self._sessions.values():
            due = session.heartbeat_due(self.config.heartbeat_interval)
            if due is not None:
                candidates.append(due)
            candidates.extend(release for release, _ in session.queue)
        return min(candidates, default=None)

    def advance(self, now: float) -> None:
        """Run every timer due by ``now``: starts, expiries, the dead man's switch, heartbeats."""
        self._book.run_timers(now)
        for session in self._sessions.values():
            due = session.heartbeat_due(self.config.heartbeat_interval)
            if due is not None and due <= now:
                v2 = session.protocol == "v2"
                session.push(self._v2.HEARTBEAT if v2 else {"event": "heartbeat"}, now)

    # --- control --------------------------------------------------------------------------

    def set_reference_price(self, pair: str, price: Decimal, now: float) -> None:
        """Move a pair's market price; orders it reaches execute.

        A price with more decimals than the pair's ``pair_decimals`` is refused (ValueError
        with Kraken's wording), as Kraken refuses such an order price.
        """
        if pair not in self._book.reference:
            raise KeyError(f"unknown pair {pair!r}")
        if not isinstance(price, Decimal) or not price.is_finite() or not 0 < price < LIMIT:
            raise ValueError("price must be a positive Decimal below 1e9")
        places = self._book.formats[pair].price_places
        if places_of(price.normalize()) > places:  # "30000.10" is one decimal
            raise ValueError(f"{pair} price can only be specified up to {places} decimals")
        self._book.move(pair, price.quantize(Decimal(1).scaleb(-places)), now)

    def set_system_status(self, status: str, now: float) -> None:
        """Switch the engine status and tell every session; back online, matching resumes."""
        if status not in SYSTEM_STATUSES:
            raise ValueError(f"status must be one of {SYSTEM_STATUSES}")
        self._book.run_timers(now)
        self._book.status = status
        for session in self._sessions.values():
            self._send_status(session, now)
        self._book.resume(now)

    def invalidate_tokens(self) -> None:
        """Make every issued token invalid (as after a Kraken service upgrade)."""
        self._tokens.revoke_all()

    def forget_settled(self, before: float) -> Forgotten:
        """Forget what is settled and older than ``before`` (unix seconds), so that a long
        simulation runs in bounded memory and time: the orders that finished (closed,
        canceled, expired) before it, the trades and fills made before it (a live order's
        stay), and the tokens that expired unused before it. Kraken keeps its history for
        good; here REST history, snapshots and the views below stop showing what was
        forgotten, and an order call naming it finds nothing. Returns what was forgotten.
        """
        book, journal = self._book, self._journal
        orders, trades, fills = book.forget(
            journal.closed_before(timestamp(before)), timestamp(before)
        )
        journal.forget(orders, trades.keys() | fills.keys())
        self._v2.forget(fills)
        self._tokens.forget_idle(before)
        return Forgotten(
            orders={txid: order_view(order) for txid, order in orders.items()},
            trades=trades,
            fills=fills,
        )

    def open_orders(self) -> dict[str, OrderView]:
        """The model's own book: txid -> state of every pending or open order."""
        return {txid: order_view(order) for txid, order in self._book.live.items()}

    def orders(self) -> dict[str, OrderView]:
        """Every order placed so far (and not forgotten), finished ones included, in placement
        order."""
        return {txid: order_view(order) for txid, order in self._book.orders.items()}

    def order(self, txid: str) -> OrderView | None:
        """One order as the model holds it now (None: never placed, or forgotten)."""
        order = self._book.orders.get(txid)
        return None if order is None else order_view(order)

    def trades(self) -> dict[str, TradeView]:
        """Every execution so far (and not forgotten), trade id -> trade, as
        ``consolidate_taker`` subscribers see it (a taker order filled in several parts shows
        as one trade)."""
        return dict(self._book.trades)

    def fills(self) -> dict[str, TradeView]:
        """Every individual fill not forgotten (what ``consolidate_taker: false`` subscribers
        see)."""
        return dict(self._book.fills)

    def balances(self) -> dict[str, Decimal]:
        """Total balance per asset (reservations of open orders not deducted)."""
        return dict(self._book.account.balances)

    # --- ping and subscriptions ---------------------------------------------------------------

    def _send_status(self, session: Session, now: float) -> None:
        if session.protocol == "v2":
            session.push(self._v2.status_frame(session), now)
            return
        session.push(
            {
                "connectionID": session.connection_id,
                "event": "systemStatus",
                "status": self._book.status,
                "version": self.config.version,
            },
            now,
        )

    def _ping(self, session: Session, data: dict[str, Any], reqid: int | None, now: float) -> None:
        reply: dict[str, Any] = {"event": "pong"}
        if reqid is not None:
            reply["reqid"] = reqid
        session.reply(reply, now)

    def _channel_of(self, data: dict[str, Any], now: float) -> tuple[dict[str, Any], str]:
        """The subscription options and channel name, after the token check.

        Real subscription errors carry no ``channelName`` and echo the request's
        ``subscription`` object. The echo here holds the channel name only: never the token
        (a secret is not repeated; the acks never show it either) and no option the client
        may have sent with a wrong type.
        """
        subscription = data.get("subscription")
        if not isinstance(subscription, dict):
            raise Reject("Subscription field must be an object")
        name = subscription.get("name")
        echo = {"name": name} if isinstance(name, str) else {}
        if name not in CHANNELS:
            raise Reject("Subscription name invalid", subscription=echo)
        if "pair" in data:
            raise Reject("Pair field unsupported for this subscription type", subscription=echo)
        if not self._tokens.use(subscription.get("token"), now):
            raise Reject("ESession:Invalid session", subscription=echo)
        return subscription, name

    def _subscription_reply(
        self,
        session: Session,
        status: str,
        name: str,
        reqid: int | None,
        now: float,
        *,
        ratecounter: bool = False,
    ) -> None:
        echo: dict[str, Any] = {"name": name}
        # maxratecount only when the subscription asked for the counter (kraken-rate-limits.md;
        # a 2020 ack to a plain openOrders subscribe reads {"subscription":{"name":"openOrders"}},
        # quoted in a JKrakenApp test comment).
        if name == "openOrders" and status == "subscribed" and ratecounter:
            echo["maxratecount"] = self.config.maxratecount
        replies = _SessionReplies(session, "subscriptionStatus", reqid, now)
        replies.send(
            {
                "channelName": name,
                "event": "subscriptionStatus",
                "status": status,
                "subscription": dict(sorted(echo.items())),
            }
        )

    def _subscribe(
        self, session: Session, data: dict[str, Any], reqid: int | None, now: float
    ) -> None:
        options, name = self._channel_of(data, now)
        echo = {"name": name}
        if name in session.subscriptions:
            raise Reject("Already subscribed", subscription=echo)
        try:
            snapshot = flag(options, "snapshot", True)
            consolidate = flag(options, "consolidate_taker", True)
            ratecounter = flag(options, "ratecounter", False)
        except Reject as reject:
            raise Reject(reject.message, subscription=echo) from None
        token: str = options["token"]
        self._subscription_reply(
            session,
            "subscribed",
            name,
            reqid,
            now,
            ratecounter=ratecounter and name == "openOrders",
        )
        session.subscriptions[name] = Subscription(name, token, consolidate, ratecounter)
        self._tokens.hold(token, session.session_id)
        book = self._book
        if name == "openOrders":
            records = [{order.txid: order.full_record()} for order in book.live.values()]
            session.channel(name, records, now)
        elif snapshot:
            history = book.trades if consolidate else book.fills
            newest = list(history.values())[-SNAPSHOT_TRADES:][::-1]
            payload = [
                {t.trade_id: trade_record(t, book.formats[t.pair], update=False)} for t in newest
            ]
            session.channel(name, payload, now)

    def _unsubscribe(
        self, session: Session, data: dict[str, Any], reqid: int | None, now: float
    ) -> None:
        _, name = self._channel_of(data, now)
        subscription = session.subscriptions.pop(name, None)
        if subscription is None:
            raise Reject("Subscription Not Found", subscription={"name": name})
        if all(other.token != subscription.token for other in session.subscriptions.values()):
            self._tokens.release(subscription.token, session.session_id, now)
        self._subscription_reply(session, "unsubscribed", name, reqid, now)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    # 1e999 would parse to inf, and an echoed inf (say, as the reqid) is not JSON either.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _status_event(event: str) -> str:
    if event in ("subscribe", "unsubscribe"):
        return "subscriptionStatus"
    return f"{event}Status"
