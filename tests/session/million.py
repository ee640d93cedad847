"""The whole system in memory for a million simulated seconds, deterministic by seed (issue 16).

A bot trades through a pure ``Session`` with an ``InMemoryJournal`` against the simulator's
pure exchange model (``Exchange``). ``World`` plays the runner: it carries out the session's
actions, delivers the exchange's frames and moves virtual time to the next deadline of
either side or of its own schedule. Everything random comes from one ``random.Random(seed)``,
so a seed replays a run exactly (``World(Plan(seed=...)).run()``).

Its schedule, each at exponentially distributed intervals:

* the bot places limit orders (some marketable), market orders and small batches, and
  cancels the orders it believes open (by ``cl_ord_id``, one cancel in flight per order);
* the market moves (a mean-reverting random walk of the reference price);
* faults: the exchange drops the connection, loses a reply, closes the socket right after a
  trading request, delays replies past the request timeout, skips a sequence number, sends
  a malformed frame, revokes every token; REST answers 500 or is applied and never answered;
  connection attempts fail;
* crashes: the process dies between two actions (``Plan.crash_window`` actions after the
  crash is due, so also between a ``PersistRecords`` and the ``SendMessages`` after it), the
  journal keeps a random prefix of its unsynced records, and a new session starts from it;
* housekeeping: the exchange forgets settled history older than ``Plan.horizon``
  (``Exchange.forget_settled``) and the journal is pruned by the same retention, as the
  SQLite store does (``Plan.prune=False`` turns both off, to see what they save).

Invariants, checked as it runs in bounded memory (``Report.violations``):

* no fill lost: every trade the exchange made reached the bot before the exchange forgot it
  (and, at the end, every trade it still holds);
* no unflagged repeat: a trade id reaches the bot at most once without ``redelivered``; a
  delivered trade is never labelled ``history``; nothing the exchange never made arrives;
* nothing placed twice: no two orders carry one ``cl_ord_id``;
* every request ends with its true outcome: an ``AddOrder`` accepted or applied exists at
  the exchange, one refused or not applied does not (then or later); a ``CancelOrder``
  accepted or applied left its order ``canceled``, one refused or not applied did not; no
  ``RequestUnresolved``; a request lost with the process (its intent never reached the
  journal) was never sent; at the end no request is pending and the journal has no open
  intent.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from kraken_proto import (
    AddOrder,
    CancelOrder,
    CloseConnection,
    Credentials,
    FillReceived,
    HttpCall,
    OpenConnection,
    RequestAccepted,
    RequestApplied,
    RequestInDoubt,
    RequestOutcome,
    RequestUnresolved,
    SendMessages,
    Session,
    SessionConfig,
    SessionEvent,
    SessionState,
)
from kraken_proto.adapters.simulator.model.exchange import Exchange, SimulatorConfig
from kraken_proto.session._journal import InMemoryJournal, PersistRecords
from kraken_proto.session._lifecycle import LOGGER_NAME
from kraken_proto.v1 import Subscribe

START = 1_700_000_000.0
PAIR = "XBT/USD"
VOLUME = Decimal("0.01")
CENTRE = Decimal("30000.0")
TICK = Decimal("0.1")
FAULTS = (
    "drop",
    "lost_reply",
    "drop_after_request",
    "slow_replies",
    "gap",
    "malformed",
    "revoke_tokens",
    "rest_500",
    "rest_lost",
    "open_fails",
)
RETIRED = 4_000  # forgotten trade ids, orders and settled requests kept, to catch late repeats


@dataclass(frozen=True)
class Plan:
    """What one run does. Means are in simulated seconds."""

    seed: int
    seconds: float = 1_000_000.0
    protocol: str = "v1"
    prune: bool = True
    horizon: float = 3_600.0  # settled history older than this is forgotten / pruned
    housekeeping: float = 600.0
    order_every: float = 20.0
    price_every: float = 8.0
    fault_every: float = 240.0
    crash_every: float = 2_600.0
    crash_window: int = 8  # a due crash strikes within this many actions (or 120 s)
    samples: int = 100  # progress samples (rate, memory, sizes) over the run


@dataclass
class Sample:
    """Progress at one moment: simulated seconds so far, CPU and wall seconds, RSS bytes,
    and the sizes of what could grow."""

    sim: float
    cpu: float
    wall: float
    rss: int
    sizes: dict[str, int]


@dataclass
class Report:
    """What a run did and found; ``json()`` is the benchmark's last line."""

    seed: int
    protocol: str
    prune: bool
    sim_seconds: float = 0.0
    crashes: int = 0
    crash_points: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    orders: int = 0
    cancels: int = 0
    fills: int = 0  # trades the exchange made (v1 consolidated, v2 every fill)
    deliveries: int = 0  # FillReceived events, redelivered ones included
    redelivered: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    recovered: int = 0
    in_doubt: int = 0
    lost_with_process: int = 0  # requests whose intent never reached the journal
    forgotten_cancels: int = 0  # cancels checked against a forgotten order's final state
    violations: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)

    def violate(self, text: str) -> None:
        if len(self.violations) < 100:
            self.violations.append(text)

    def rate(self, part: str) -> float:
        """Simulated seconds per CPU second over the first or last 10% of the run."""
        samples = self.samples
        tenth = max(1, (len(samples) - 1) // 10)
        a, b = (
            (samples[0], samples[tenth]) if part == "first" else (samples[-1 - tenth], samples[-1])
        )
        return (b.sim - a.sim) / max(b.cpu - a.cpu, 1e-9)

    def summary(self) -> dict[str, Any]:
        first, last = self.samples[0], self.samples[-1]
        return {
            "seed": self.seed,
            "protocol": self.protocol,
            "prune": self.prune,
            "sim_seconds": round(self.sim_seconds),
            "wall_seconds": round(last.wall - first.wall, 1),
            "cpu_seconds": round(last.cpu - first.cpu, 1),
            "rate_first_10pct": round(self.rate("first")),
            "rate_last_10pct": round(self.rate("last")),
            "rss_start_mb": round(first.rss / 2**20, 1),
            "rss_end_mb": round(last.rss / 2**20, 1),
            "crashes": self.crashes,
            "crash_points": dict(sorted(self.crash_points.items())),
            "faults": dict(sorted(self.faults.items())),
            "orders": self.orders,
            "cancels": self.cancels,
            "fills": self.fills,
            "deliveries": self.deliveries,
            "redelivered": self.redelivered,
            "outcomes": dict(sorted(self.outcomes.items())),
            "recovered": self.recovered,
            "in_doubt": self.in_doubt,
            "lost_with_process": self.lost_with_process,
            "forgotten_cancels": self.forgotten_cancels,
            "sizes_end": last.sizes,
            "violations": len(self.violations),
            "first_violations": self.violations[:5],
        }


def _effect(outcome: str | None) -> bool | None:
    """Whether an outcome (a class name) says the request took effect."""
    return {"RequestAccepted": True, "RequestApplied": True}.get(
        outcome or "", None if outcome in (None, "RequestUnresolved") else False
    )


def rss_bytes() -> int:
    """This process's resident set size now (Linux), else its peak."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # pragma: no cover - not Linux
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Crash(Exception):
    """The process dies here (before the action it was about to carry out)."""


@dataclass
class Sent:
    """A request the bot submitted, by the key the driver follows it under."""

    request: AddOrder | CancelOrder
    target: str  # the cl_ord_id it places or cancels
    outcome: str | None = None  # the first final outcome's class name


class World:
    """One run: the exchange, the journal, the current session and the bot."""

    def __init__(self, plan: Plan, *, clock: Callable[[], float] = time.process_time) -> None:
        self.plan = plan
        self.clock = clock
        rng = self.rng = random.Random(plan.seed)
        self.now = START
        sim = SimulatorConfig()
        self.exchange = Exchange(sim, rng=random.Random(rng.getrandbits(64)), now=self.now)
        self.credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        self.journal = InMemoryJournal()
        self.report = Report(seed=plan.seed, protocol=plan.protocol, prune=plan.prune)
        self.price = CENTRE
        self.v2 = plan.protocol == "v2"
        # The runner's state.
        self.sid_of: dict[int, int] = {}
        self.rest_500 = self.rest_lost = self.open_fails = 0
        self.slow_until = 0.0
        self.actions = 0
        self.crash_in: int | None = None
        self.crash_armed_at = 0.0
        self.boots = 0
        # The checks' state: trades delivered (unflagged count) while the exchange holds them;
        # requests by (boot, handle) while pending, then by cl_ord_id for late recovered
        # outcomes; the orders seen at the exchange, by cl_ord_id.
        self.delivered: dict[str, int] = {}
        self.fresh: list[str] = []  # trade ids first delivered since the last housekeeping
        self.retired: OrderedDict[str, None] = OrderedDict()
        self.pending: dict[int, Sent] = {}  # this boot's requests without an outcome, by handle
        self.settled: OrderedDict[tuple[str, str], Sent] = OrderedDict()  # (kind, target)
        self.not_placed: dict[str, float] = {}  # cl_ord_id -> when it was said not placed
        self.placed: dict[str, str] = {}  # cl_ord_id -> txid, orders the exchange holds
        self.scanned = 0  # how many of the exchange's orders (oldest first) were looked at
        self.cancelling: set[str] = set()
        self.cancelled: set[str] = set()  # cl_ord_ids a cancel took effect on
        # Forgotten orders, by cl_ord_id: their final status when the exchange forgot them, and
        # whether a cancel had taken effect on them (a cancel whose outcome comes later is
        # still checked against these).
        self.gone: OrderedDict[str, tuple[str, bool]] = OrderedDict()
        self.bot_open: OrderedDict[str, None] = OrderedDict()  # cl_ord_ids believed open
        self.tags = 0
        # The schedule.
        self.at: dict[str, float] = {
            "order": self.now + self._wait(plan.order_every),
            "price": self.now + self._wait(plan.price_every),
            "fault": self.now + self._wait(plan.fault_every),
            "crash": self.now + self._wait(plan.crash_every),
            "house": self.now + plan.housekeeping,
            "sample": self.now,
        }
        self.end = START + plan.seconds
        self._boot()

    # --- the process ----------------------------------------------------------------------

    def _wait(self, mean: float) -> float:
        return self.rng.expovariate(1.0 / mean)

    def _boot(self) -> None:
        self.boots += 1
        state = self.journal.load()
        # Requests of the dead process: those whose intent is open in the journal come back
        # (recovered outcomes, same handle); the others were never sent.
        survivors: dict[int, Sent] = {}
        lost: list[Sent] = []
        for handle, sent in self.pending.items():
            if handle in state.open_intents:
                survivors[handle] = sent
            elif handle not in state.outcomes:
                lost.append(sent)
        self.pending = survivors
        if lost:
            self._scan_orders()
        for sent in lost:
            self._lost_with_process(sent)
        rng = self.rng
        config = SessionConfig(
            protocol=self.plan.protocol,
            fill_window=rng.choice((50, 100_000)),
            max_finished=rng.choice((50, 10_000)),
        )
        self.session = Session(
            self.credentials,
            seed=b"million-%d-%d" % (self.plan.seed, self.boots),
            config=config,
            journal=state,
        )
        self.session.start(self.now)
        self.session.subscribe(Subscribe(name="ownTrades"), self.now)
        self.session.subscribe(Subscribe(name="openOrders"), self.now)
        self.pump()

    def _lost_with_process(self, sent: Sent) -> None:
        """A request whose intent never reached the journal was never sent: an order never
        placed (then or later), a cancel that closed nothing."""
        report = self.report
        report.lost_with_process += 1
        self._settle_sent(sent, "LostWithProcess")
        target = sent.target
        if isinstance(sent.request, AddOrder):
            if target in self.placed:
                report.violate(f"{target} placed, yet its intent never reached the journal")
            self.not_placed[target] = self.now
            return
        self.cancelling.discard(target)
        state = self._cancel_target(target)
        if state is None:
            return  # its add was never placed either
        _, status, cancelled = state
        if status == "canceled" and not cancelled:
            report.violate(f"cancel {target} canceled it, yet its intent never reached the journal")
        elif status in ("open", "pending"):
            self.bot_open[target] = None  # the bot may cancel it again

    def _crash(self, kind: str) -> None:
        report = self.report
        report.crashes += 1
        report.crash_points[kind] += 1
        self.crash_in = None
        self.journal.crash(keep=self.rng.randint(0, self.journal.pending))
        for sid in self.sid_of.values():
            self.exchange.close_session(sid, self.now)
        self.sid_of.clear()
        self.cancelling.clear()
        self._boot()

    # --- the runner -------------------------------------------------------------------------

    def pump(self) -> None:
        try:
            self._pump()
        except Crash as crash:
            self._crash(crash.args[0])

    def _pump(self) -> None:
        session, exchange = self.session, self.exchange
        for _ in range(100_000):
            if self._carry(session.actions()):
                continue
            self._user(session.events())
            if self._carry(session.actions()):  # what events() acknowledged
                continue
            delivered = False
            for conn, sid in list(self.sid_of.items()):
                for text in exchange.take_outgoing(sid, self.now):
                    if self.sid_of.get(conn) != sid:
                        break
                    delivered = True
                    session.receive_message(conn, text, self.now)
            if not delivered:
                return
        raise AssertionError("the session and the exchange never went quiet")

    def _carry(self, actions: list[Any]) -> bool:
        for action in actions:
            self.actions += 1
            if self.crash_in is not None:
                self.crash_in -= 1
                if self.crash_in <= 0:
                    raise Crash(type(action).__name__)
            self._do(action)
        return bool(actions)

    def _do(self, action: object) -> None:
        session, exchange, now = self.session, self.exchange, self.now
        if isinstance(action, PersistRecords):
            self.journal.append(action.records, sync=action.sync)
        elif isinstance(action, SendMessages):
            sid = self.sid_of.get(action.conn)
            if sid is None:
                return
            for message in action.messages:
                exchange.receive(sid, message, now)
                if exchange.connection_dropped(sid):  # the server closes the socket
                    self._close(action.conn)
                    return
        elif isinstance(action, OpenConnection):
            if self.open_fails:
                self.open_fails -= 1
                session.connection_failed(action.conn, "connection refused", now)
                return
            sid = exchange.open_session(now, protocol=self.plan.protocol)
            self.sid_of[action.conn] = sid
            if now < self.slow_until:
                exchange.faults(sid).reply_delay = 12.0
            session.connection_made(action.conn, now)
        elif isinstance(action, CloseConnection):
            self._close(action.conn)
        else:
            assert isinstance(action, HttpCall)
            self._rest(action)

    def _close(self, conn: int) -> None:
        sid = self.sid_of.pop(conn, None)
        if sid is not None:
            self.exchange.close_session(sid, self.now)
        self.session.connection_lost(conn, self.now)

    def _rest(self, call: HttpCall) -> None:
        session, now = self.session, self.now
        if self.rest_500:
            self.rest_500 -= 1
            session.rest_response(call.call, 500, b"<html>500 Internal Server Error</html>", now)
            return
        request = call.request
        reply = self.exchange.handle_rest(
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            body=request.body,
            now=now,
        )
        if self.rest_lost:  # applied at the exchange, the answer never arrives
            self.rest_lost -= 1
            session.rest_failed(call.call, "timed out", now)
            return
        session.rest_response(call.call, reply.status, reply.body, now)

    # --- the user: what the bot sees ---------------------------------------------------------

    def _user(self, events: list[SessionEvent]) -> None:
        for event in events:
            if isinstance(event, FillReceived):
                self._fill(event)
            elif isinstance(event, RequestOutcome):
                self._outcome(event)
            elif isinstance(event, RequestInDoubt):
                self.report.in_doubt += 1

    def _fill(self, event: FillReceived) -> None:
        report = self.report
        report.deliveries += 1
        trade_id = event.trade_id
        if event.source == "history":
            report.violate(f"fill {trade_id} labelled history at {self.now:.0f}")
        if event.redelivered:
            report.redelivered += 1
            if trade_id not in self.delivered and trade_id not in self.retired:
                self.delivered[trade_id] = 0
                self.fresh.append(trade_id)
            return
        if trade_id in self.retired:
            report.violate(f"fill {trade_id} repeated after the exchange forgot it")
            return
        count = self.delivered.get(trade_id, 0) + 1
        self.delivered[trade_id] = count
        if count == 1:
            self.fresh.append(trade_id)
        elif count == 2:
            report.violate(f"fill {trade_id} repeated unflagged at {self.now:.0f}")

    def _outcome(self, event: RequestOutcome) -> None:
        report = self.report
        kind = type(event).__name__
        report.outcomes[kind] += 1
        if event.recovered:
            report.recovered += 1
        request = event.request
        sent = self.pending.pop(event.handle, None)
        if sent is None:  # reported again after a crash (recovered)
            key = self._key(request)
            sent = self.settled.get(key) if key is not None else None
            if sent is None or not event.recovered:
                report.violate(f"an outcome for a request never sent or settled: {event!r}")
                return
            if _effect(sent.outcome) != _effect(kind):
                # The first report and the recovered one must agree.
                report.violate(f"{sent.target}: {sent.outcome} then {kind}")
        elif sent.request != request:
            report.violate(f"handle {event.handle}: outcome for another request")
            return
        self._check_truth(sent, event)
        if sent.outcome is None:
            self._settle_sent(sent, kind)

    def _check_truth(self, sent: Sent, event: RequestOutcome) -> None:
        report = self.report
        if isinstance(event, RequestUnresolved):
            report.violate(f"{sent.target}: unresolved ({event.reason})")
            return
        took_effect = isinstance(event, RequestAccepted | RequestApplied)
        first = sent.outcome is None
        if isinstance(sent.request, AddOrder):
            if not took_effect:
                # Checked when the exchange's orders are scanned: none may carry it.
                self.not_placed[sent.target] = self.now
                return
            assert isinstance(event, RequestAccepted | RequestApplied)
            txid = event.txid
            order = None if txid is None else self.exchange.order(txid)
            if order is None or order.cl_ord_id != sent.target:
                report.violate(f"add {sent.target}: {type(event).__name__}, no order {txid}")
                return
            self.placed.setdefault(sent.target, order.txid)
            if first and sent.request.ordertype == "limit":
                self.bot_open[sent.target] = None
            return
        target = sent.target
        self.cancelling.discard(target)
        state = self._cancel_target(target)
        if state is None:
            report.violate(f"cancel {target}: the order is unknown")
            return
        forgotten, status, cancelled = state
        if forgotten:  # forgotten while the cancel waited: checked against its final state
            report.forgotten_cancels += 1
        canceled = status == "canceled"
        if took_effect:
            if not canceled:
                report.violate(f"cancel {target}: {type(event).__name__}, {status}")
            if forgotten:
                self.gone[target] = (status, True)
            else:
                self.cancelled.add(target)
        elif canceled and not cancelled:
            report.violate(f"cancel {target}: {type(event).__name__} yet canceled")
        elif first and status in ("open", "pending"):
            self.bot_open[target] = None  # still open: the bot may cancel it again

    def _cancel_target(self, target: str) -> tuple[bool, str, bool] | None:
        """The order a cancel of ``target`` is about, as (forgotten, status, whether a cancel
        took effect on it): from the exchange, or from ``gone`` once the exchange forgot it;
        None when the exchange never held it."""
        txid = self.placed.get(target)
        order = None if txid is None else self.exchange.order(txid)
        if order is not None:
            return False, order.status, target in self.cancelled
        if target in self.gone:
            return (True, *self.gone[target])
        return None

    def _key(self, request: object) -> tuple[str, str] | None:
        if isinstance(request, AddOrder) and request.cl_ord_id is not None:
            return ("add", request.cl_ord_id)
        if isinstance(request, CancelOrder) and request.cl_ord_id:
            return ("cancel", request.cl_ord_id[0])
        return None

    def _settle_sent(self, sent: Sent, outcome: str) -> None:
        sent.outcome = outcome
        key = self._key(sent.request)
        assert key is not None
        settled = self.settled
        settled[key] = sent
        settled.move_to_end(key)
        while len(settled) > RETIRED:
            settled.popitem(last=False)

    def _scan_orders(self) -> None:
        """Look at the orders placed since the last scan: one placed twice, or placed after
        an outcome said it was not, is a violation. (White-box: the model's own dict, in
        placement order, so that a scan costs only the new orders.)"""
        placed, report, not_placed = self.placed, self.report, self.not_placed
        book = self.exchange._book.orders
        new = len(book) - self.scanned
        self.scanned = len(book)
        for txid in list(reversed(book))[:new] if new else ():
            key = book[txid].cl_ord_id
            if key is None or placed.get(key) == txid:
                continue
            if key in placed:
                report.violate(f"{key} placed twice: {placed[key]} and {txid}")
            if key in not_placed:
                report.violate(f"{key} placed, yet its outcome said it was not")
            placed[key] = txid

    # --- the bot ---------------------------------------------------------------------------

    def _cl_ord_id(self) -> str:
        self.tags += 1
        return f"{self.plan.seed % 2**32:08x}-0000-4000-8000-{self.tags:012d}"

    def _add(self, ordertype: str, side: str, price: Decimal | None = None) -> AddOrder:
        extra: dict[str, Any] = {} if price is None else {"price": price}
        return AddOrder(
            ordertype=ordertype,
            type=side,  # type: ignore[arg-type]
            pair=PAIR,
            volume=VOLUME,
            cl_ord_id=self._cl_ord_id(),
            **extra,
        )

    def _limit(self) -> AddOrder:
        side = self.rng.choice(("buy", "sell"))
        offset = Decimal(self.rng.randint(-50, 2_000)) * TICK  # some cross: taker
        price = self.price - offset if side == "buy" else self.price + offset
        return self._add("limit", side, max(price, Decimal(1000)))

    def _submit(self, request: AddOrder | CancelOrder, target: str) -> None:
        if self.session.state in (SessionState.FAILED, SessionState.CLOSED):
            self.report.violate(f"the session stopped: {self.session!r}")
            return
        handle = self.session.submit(request, self.now)
        self.pending[handle] = Sent(request, target)

    def _bot(self) -> None:
        rng, report = self.rng, self.report
        choice = rng.random()
        openable = [cl for cl in self.bot_open if cl not in self.cancelling]
        if openable and (choice < 0.35 or len(openable) > 25):
            target = openable[0] if len(openable) > 25 else rng.choice(openable)
            del self.bot_open[target]
            self.cancelling.add(target)
            report.cancels += 1
            self._submit(CancelOrder(cl_ord_id=(target,)), target)
        elif choice < 0.55:
            report.orders += 1
            order = self._add("market", rng.choice(("buy", "sell")))
            self._submit(order, order.cl_ord_id or "")
        elif choice < 0.6:
            orders = [self._limit() for _ in range(rng.randint(2, 3))]
            report.orders += len(orders)
            handles = self.session.submit_batch(orders, self.now)
            for handle, order in zip(handles, orders, strict=True):
                self.pending[handle] = Sent(order, order.cl_ord_id or "")
        else:
            report.orders += 1
            order = self._limit()
            self._submit(order, order.cl_ord_id or "")
        self.pump()

    def _move_price(self) -> None:
        rng = self.rng
        step = Decimal(round(rng.gauss(0, 400))) * TICK
        pull = ((CENTRE - self.price) / 50).quantize(TICK)
        self.price = min(max(self.price + step + pull, Decimal(20_000)), Decimal(40_000))
        self.exchange.set_reference_price(PAIR, self.price, self.now)
        self.pump()

    def _fault(self) -> None:
        rng, exchange = self.rng, self.exchange
        kind = rng.choice(FAULTS)
        self.report.faults[kind] += 1
        sids = list(self.sid_of.items())
        if kind in ("rest_500", "rest_lost", "open_fails"):
            count = rng.randint(1, 3)
            if kind == "rest_500":
                self.rest_500 += count
            elif kind == "rest_lost":
                self.rest_lost += count
            else:
                self.open_fails += count
        elif kind == "revoke_tokens":
            exchange.invalidate_tokens()
        elif kind == "slow_replies":
            self.slow_until = self.now + rng.uniform(10, 60)
            for _, sid in sids:
                exchange.faults(sid).reply_delay = 12.0
        elif sids:
            conn, sid = sids[-1]
            faults = exchange.faults(sid)
            if kind == "drop":
                self._close(conn)
            elif kind == "lost_reply":
                faults.drop_replies += 1
            elif kind == "drop_after_request":
                faults.drop_after_request += 1
            elif kind == "gap":
                faults.skip_sequence += 1
            else:
                faults.malformed_frames += 1
        self.pump()

    # --- housekeeping and checks -------------------------------------------------------------

    def _housekeeping(self) -> None:
        """Check what the exchange holds, then forget and prune what settled long ago."""
        self._scan_orders()
        self._check_fresh()
        report = self.report
        old = self.now - self.plan.horizon
        expired = [cl for cl, at in self.not_placed.items() if at < old]
        for cl in expired:
            del self.not_placed[cl]
        if not self.plan.prune:
            return
        forgotten = self.exchange.forget_settled(old)
        for trade_id in forgotten.fills if self.v2 else forgotten.trades:
            report.fills += 1
            if self.delivered.pop(trade_id, None) is None:
                report.violate(f"fill {trade_id} lost: never delivered in {self.plan.horizon} s")
            self.retired[trade_id] = None
        while len(self.retired) > RETIRED:
            self.retired.popitem(last=False)
        while len(self.gone) > RETIRED:
            self.gone.popitem(last=False)
        self.scanned -= len(forgotten.orders)
        for order in forgotten.orders.values():
            key = order.cl_ord_id
            if key is not None:
                self.gone[key] = (order.status, key in self.cancelled)
                self.placed.pop(key, None)
                self.bot_open.pop(key, None)
                self.cancelled.discard(key)
        self.journal.prune(old)

    def _check_fresh(self) -> None:
        """Every trade id first delivered since the last check is one the exchange made."""
        exchange = self.exchange
        truth = exchange.fills() if self.v2 else exchange.trades()
        for trade_id in self.fresh:
            if trade_id not in truth and trade_id not in self.retired:
                self.report.violate(f"fill {trade_id} delivered; the exchange never made it")
        self.fresh.clear()

    def sizes(self) -> dict[str, int]:
        """What could grow without bound: the model, the journal, the session, the driver."""
        session, book = self.session, self.exchange._book  # white-box: sizes only
        return {
            "model_orders": len(book.orders),
            "model_trades": len(book.fills if self.v2 else book.trades),
            "journal_records": len(self.journal),
            "session_orders": len(session.orders),
            "session_fill_ids": len(session.fills),
            "session_pending": len(session.pending()),
            "driver_delivered": len(self.delivered),
            "driver_placed": len(self.placed),
            "driver_not_placed": len(self.not_placed),
        }

    def _sample(self) -> None:
        self.report.samples.append(
            Sample(
                sim=self.now - START,
                cpu=self.clock(),
                wall=time.perf_counter(),
                rss=rss_bytes(),
                sizes=self.sizes(),
            )
        )

    # --- time -------------------------------------------------------------------------------

    def run(self) -> Report:
        """Run ``plan.seconds`` simulated seconds, then settle and check the end state.

        The session's log (a line per reconnect, thousands of them) is silenced meanwhile:
        a test's log capture would otherwise hold every line.
        """
        log = logging.getLogger(LOGGER_NAME)
        level = log.level
        log.setLevel(logging.CRITICAL)
        try:
            return self._run()
        finally:
            log.setLevel(level)

    def _run(self) -> Report:
        at = self.at
        session_deadline, exchange_deadline = Session.next_deadline, Exchange.next_deadline
        stuck = 0
        while self.now < self.end:
            session, exchange = self.session, self.exchange
            due = min(at.values())
            for deadline in (session_deadline(session), exchange_deadline(exchange)):
                if deadline is not None and deadline < due:
                    due = deadline
            due = min(due, self.end)
            if due > self.now:
                self.now = due
                stuck = 0
            else:
                stuck += 1
                if stuck > 10_000:
                    raise AssertionError(f"time stands still at {self.now}: {session!r}")
            exchange.advance(self.now)
            session.handle_timeout(self.now)
            self.pump()
            if self.crash_in is not None and self.now - self.crash_armed_at > 120:
                self._crash("quiet")  # no action for two minutes: die between two inputs
            self._scheduled()
        self.report.sim_seconds = self.now - START
        if self.report.samples[-1].sim < self.report.sim_seconds:
            self._sample()  # the last one at the end (the settling below is not timed)
        self._finish()
        return self.report

    def _scheduled(self) -> None:
        at, now, plan = self.at, self.now, self.plan
        if at["order"] <= now:
            at["order"] = now + self._wait(plan.order_every)
            self._bot()
        if at["price"] <= now:
            at["price"] = now + self._wait(plan.price_every)
            self._move_price()
        if at["fault"] <= now:
            at["fault"] = now + self._wait(plan.fault_every)
            self._fault()
        if at["crash"] <= now:
            at["crash"] = now + self._wait(plan.crash_every)
            if self.crash_in is None:
                self.crash_in = self.rng.randint(1, plan.crash_window)
                self.crash_armed_at = now
        if at["house"] <= now:
            at["house"] = now + plan.housekeeping
            self._housekeeping()
        if at["sample"] <= now:
            at["sample"] = now + plan.seconds / plan.samples
            self._sample()
        if now >= self.slow_until and self.slow_until:
            self.slow_until = 0.0
            for sid in self.sid_of.values():
                self.exchange.faults(sid).reply_delay = 0.0

    def _finish(self) -> None:
        """No more faults or crashes: let the session settle, then check the end state."""
        self.crash_in = None
        self.rest_500 = self.rest_lost = self.open_fails = 0
        self.slow_until = 0.0
        for sid in self.sid_of.values():
            faults = self.exchange.faults(sid)
            faults.reply_delay = 0.0
            faults.drop_replies = faults.drop_after_request = 0
            faults.skip_sequence = faults.malformed_frames = 0
        report = self.report
        for _ in range(3_000):
            self._advance(1.0)
            session = self.session
            if session.state is SessionState.LIVE and not session.pending() and not self.pending:
                break
        else:
            report.violate(f"never settled: {self.session!r}, {len(self.pending)} pending")
        self._advance(30.0)  # fills made at the end arrive
        self._scan_orders()
        truth = self.exchange.fills() if self.v2 else self.exchange.trades()
        for trade_id in truth:
            report.fills += 1
            if trade_id not in self.delivered:
                report.violate(f"fill {trade_id} lost: not delivered by the end")
        self._check_fresh()
        state = self.journal.load()
        if state.open_intents:
            report.violate(f"{len(state.open_intents)} intents open in the journal at the end")

    def _advance(self, seconds: float) -> None:
        advance_world(self, seconds)


class _World(Protocol):
    now: float
    session: Session
    exchange: Exchange

    def pump(self) -> None: ...


def advance_world(world: _World, seconds: float) -> None:
    """Move ``world`` (a session, the exchange model and the pump between them) ``seconds``
    forward, stopping at every deadline of either on the way."""
    target = world.now + seconds
    for _ in range(10_000):
        due = [
            d
            for d in (world.session.next_deadline(), world.exchange.next_deadline())
            if d is not None and d <= target
        ]
        world.now = max(world.now, min(due, default=target))
        world.exchange.advance(world.now)
        world.session.handle_timeout(world.now)
        world.pump()
        if not due:
            return
    raise AssertionError("never reached the target time")


def run(plan: Plan) -> Report:
    """Run one plan; the report holds its numbers and every violation found."""
    return World(plan).run()


def fresh_seed() -> int:
    """A new seed for a run to print (so a failure can be replayed with it)."""
    return random.SystemRandom().randrange(2**32)


__all__ = ["Plan", "Report", "Sample", "World", "fresh_seed", "run"]
