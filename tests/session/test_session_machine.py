"""Issue 8 item 5: the pure ``Session`` against the simulator's pure exchange model, in memory,
under random interleavings of user orders, price moves and faults.

Once everything settles: every trade of the account was delivered exactly once; no cl_ord_id
was placed twice; every request ended once with its true outcome; the ``OrderTable`` equals
the exchange's book; connection attempts stayed within the cap.
"""

from __future__ import annotations

import os
from collections import Counter
from decimal import Decimal

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelOrder,
    FillReceived,
    RequestAccepted,
    RequestApplied,
    RequestNotApplied,
    RequestOutcome,
    RequestRefused,
    RequestUnresolved,
    SendMessages,
    SessionConfig,
    SessionState,
)
from kraken_proto.adapters.simulator.model.exchange import Faults
from kraken_proto.v1 import Subscribe

from tests.session.session_wire import Wire

PAIR = "XBT/USD"
TICK = Decimal("0.1")


class SessionAgainstExchange(RuleBasedStateMachine):
    """Random user orders, price moves and faults; the invariants are checked at the end."""

    PROTOCOL = "v1"

    def __init__(self) -> None:
        super().__init__()
        self.wire = Wire(config=SessionConfig(protocol=self.PROTOCOL))
        self.price = Decimal("30000.0")
        self.handles: dict[int, AddOrder | AmendOrder | CancelOrder] = {}
        self.consolidate = True

    @initialize(snapshot=st.booleans(), consolidate=st.booleans())
    def start(self, snapshot: bool, consolidate: bool) -> None:
        wire = self.wire
        self.consolidate = consolidate
        wire.session.start(wire.now)
        own_trades = Subscribe(
            name="ownTrades", snapshot=snapshot, consolidate_taker=None if consolidate else False
        )
        wire.session.subscribe(own_trades, wire.now)
        wire.session.subscribe(Subscribe(name="openOrders"), wire.now)
        wire.pump()

    # --- the user -------------------------------------------------------------------------

    def _add(self, side: str, offset: int, volume: int) -> int:
        price = self.price + TICK * offset * (-1 if side == "buy" else 1)
        request = AddOrder(
            ordertype="limit",
            type="buy" if side == "buy" else "sell",
            pair=PAIR,
            volume=Decimal(volume).scaleb(-3),
            price=price,
        )
        handle = self.wire.session.submit(request, self.wire.now)
        self.handles[handle] = self.wire.session.pending().get(handle, request)  # type: ignore[assignment]
        return handle

    @rule(
        side=st.sampled_from(["buy", "sell"]),
        offset=st.integers(-20, 200),
        volume=st.integers(1, 50),
    )
    def add_order(self, side: str, offset: int, volume: int) -> None:
        self._add(side, offset, volume)
        self.wire.pump()

    @rule(
        side=st.sampled_from(["buy", "sell"]),
        offsets=st.lists(st.integers(-20, 200), min_size=2, max_size=4),
    )
    def add_batch(self, side: str, offsets: list[int]) -> None:
        """Orders sent together: one batch_add over v2, one addOrder each over v1."""
        sign = -1 if side == "buy" else 1
        rows = [
            AddOrder(
                ordertype="limit",
                type="buy" if side == "buy" else "sell",
                pair=PAIR,
                volume=Decimal("0.005"),
                price=self.price + TICK * offset * sign,
            )
            for offset in offsets
        ]
        handles = self.wire.session.submit_batch(rows, self.wire.now)
        self.handles.update(zip(handles, rows, strict=True))
        self.wire.pump()

    @rule(pick=st.integers(0, 1000))
    def cancel_order(self, pick: int) -> None:
        open_orders = list(self.wire.exchange.open_orders())
        if not open_orders:
            return
        txid = open_orders[pick % len(open_orders)]
        handle = self.wire.session.submit(CancelOrder(txid=(txid,)), self.wire.now)
        self.handles[handle] = CancelOrder(txid=(txid,))
        self.wire.pump()

    # --- the market and time --------------------------------------------------------------

    @rule(ticks=st.integers(-3000, 3000))
    def move_price(self, ticks: int) -> None:
        self.price = max(Decimal("20000.0"), min(Decimal("40000.0"), self.price + TICK * ticks))
        self.wire.exchange.set_reference_price(PAIR, self.price, self.wire.now)
        self.wire.pump()

    @rule(seconds=st.sampled_from([0.5, 2.0, 7.0, 15.0, 40.0]))
    def wait(self, seconds: float) -> None:
        self.wire.advance(seconds)

    # --- faults ---------------------------------------------------------------------------

    @rule()
    def drop(self) -> None:
        self.wire.drop()

    @rule(pick=st.integers(0, 1000), ticks=st.integers(-50, 50))
    def amend_order(self, pick: int, ticks: int) -> None:
        open_orders = self.wire.exchange.open_orders()
        if not open_orders:
            return
        txid = list(open_orders)[pick % len(open_orders)]
        price = open_orders[txid].price + TICK * ticks
        request = AmendOrder(txid=txid, limit_price=price)
        self.handles[self.wire.session.submit(request, self.wire.now)] = request
        self.wire.pump()

    @rule(
        reached=st.booleans(),
        cancel=st.booleans(),
        side=st.sampled_from(["buy", "sell"]),
        offset=st.integers(-20, 20),
    )
    def drop_with_request_in_flight(
        self, reached: bool, cancel: bool, side: str, offset: int
    ) -> None:
        """An AddOrder (or a cancel) is written, then the connection drops before its answer
        (the order may even fill at once, so it is not in the next snapshot)."""
        wire = self.wire
        if wire.session.state is not SessionState.LIVE:
            return
        open_orders = list(wire.exchange.open_orders())
        if cancel and open_orders:
            request = CancelOrder(txid=(open_orders[offset % len(open_orders)],))
            self.handles[wire.session.submit(request, wire.now)] = request
        else:
            self._add(side, offset, 5)
        for action in wire.session.actions():
            if isinstance(action, SendMessages):
                sid = wire.sid_of.get(action.conn)
                if reached and sid is not None:
                    for message in action.messages:
                        wire.exchange.receive(sid, message, wire.now)
            else:
                wire._do(action)
        wire.drop()

    @rule(count=st.integers(1, 2))
    def drop_after_request(self, count: int) -> None:
        """The simulator's own fault: the next trading request is processed, then the
        connection drops before its reply."""
        sid = self.wire.current_sid()
        if sid is not None:
            self.wire.exchange.faults(sid).drop_after_request = count

    @rule()
    def malformed_frame(self) -> None:
        sid = self.wire.current_sid()
        if sid is not None:
            self.wire.exchange.faults(sid).malformed_frames = 1

    @rule(skip=st.booleans())
    def sequence_fault(self, skip: bool) -> None:
        sid = self.wire.current_sid()
        if sid is None:
            return
        faults = self.wire.exchange.faults(sid)
        if skip:
            faults.skip_sequence = 1
        else:
            faults.repeat_sequence = 1

    @rule(lost=st.booleans(), delay=st.sampled_from([0.5, 3.0, 12.0]))
    def subscribe_ack_fault(self, lost: bool, delay: float) -> None:
        """The next connection loses (or delays) its first replies: the subscribe acks."""
        exchange = self.wire.exchange
        exchange.default_faults = Faults(drop_replies=1) if lost else Faults(reply_delay=delay)
        self.wire.drop()
        self.wire.advance(0.01)  # the first retry starts at once: it gets the faults
        exchange.default_faults = Faults()
        if not lost:
            # Only the subscribe acks are late; later replies come on time again.
            self.wire.advance(delay)
            sid = self.wire.current_sid()
            if sid is not None:
                self.wire.exchange.faults(sid).reply_delay = 0.0

    @rule(delay=st.sampled_from([3.0, 12.0, 25.0]))
    def slow_replies(self, delay: float) -> None:
        """Replies on this connection come late: requests time out, answers arrive late."""
        sid = self.wire.current_sid()
        if sid is not None:
            self.wire.exchange.faults(sid).reply_delay = delay

    @rule()
    def invalidate_tokens(self) -> None:
        self.wire.exchange.invalidate_tokens()

    @rule(count=st.integers(1, 3))
    def rest_5xx(self, count: int) -> None:
        self.wire.fail_rest += count

    @rule()
    def rest_no_answer(self) -> None:
        self.wire.lose_rest += 1

    @rule(count=st.integers(1, 4))
    def connection_refused(self, count: int) -> None:
        self.wire.fail_opens += count

    @precondition(lambda self: self.wire.session.state is SessionState.LIVE)
    @rule(count=st.integers(51, 60))
    def many_fills_while_away(self, count: int) -> None:
        """Resting orders that all fill while the client is disconnected (more than the 50
        trades an ownTrades snapshot holds)."""
        wire = self.wire
        for offset in range(count):
            self._add("buy", 10 + offset, 1)
        wire.settle(limit=120)
        wire.fail_opens += 2
        wire.drop()
        self.price -= TICK * (count + 50)
        wire.exchange.set_reference_price(PAIR, self.price, wire.now)
        wire.pump()

    # --- the invariants -------------------------------------------------------------------

    def teardown(self) -> None:
        wire = self.wire
        wire.fail_opens = wire.fail_rest = wire.lose_rest = 0
        wire.settle(limit=3600)
        session = wire.session
        assert session.state is SessionState.LIVE, session.state
        assert session.pending() == {}
        exchange = wire.exchange
        events = wire.events

        # What this run exercised (shown by --hypothesis-show-statistics).
        for kind in sorted({type(e).__name__ for e in events if isinstance(e, RequestOutcome)}):
            event(f"outcome {kind}")
        for source in sorted({e.source for e in events if isinstance(e, FillReceived)}):
            event(f"fills from {source}")
        if len(exchange.trades()) > 50:
            event("more than 50 trades")

        # Every trade of the account, exactly once.
        delivered = Counter(e.trade_id for e in events if isinstance(e, FillReceived))
        assert [t for t, n in delivered.items() if n > 1] == []
        # v2 reports every fill, never consolidated (and so does the session's backfill).
        unconsolidated = not self.consolidate or self.PROTOCOL == "v2"
        trades = exchange.fills() if unconsolidated else exchange.trades()
        assert set(delivered) == set(trades)

        # No cl_ord_id placed twice.
        placed = Counter(o.cl_ord_id for o in exchange.orders().values() if o.cl_ord_id)
        assert [c for c, n in placed.items() if n > 1] == []

        # Every request ended once, with its true outcome.
        outcomes = [e for e in events if isinstance(e, RequestOutcome)]
        assert sorted(e.handle for e in outcomes) == sorted(self.handles)
        by_cl_ord_id = {o.cl_ord_id: o for o in exchange.orders().values() if o.cl_ord_id}
        orders = exchange.orders()
        last_amend: dict[str, AmendOrder] = {}
        for outcome in sorted(outcomes, key=lambda e: e.handle):
            assert not isinstance(outcome, RequestUnresolved), outcome
            request = outcome.request
            if isinstance(request, AddOrder):
                order = by_cl_ord_id.get(request.cl_ord_id or "")
                if isinstance(outcome, RequestAccepted | RequestApplied):
                    assert order is not None, outcome
                    assert outcome.txid == order.txid
                else:
                    assert isinstance(outcome, RequestRefused | RequestNotApplied)
                    assert order is None, (outcome, order)
            elif isinstance(request, AmendOrder):
                if isinstance(outcome, RequestAccepted | RequestApplied):
                    assert request.txid is not None
                    last_amend[request.txid] = request
            elif isinstance(outcome, RequestAccepted | RequestApplied):
                assert isinstance(request, CancelOrder)
                assert orders[request.txid[0]].status == "canceled", outcome

        for txid, amend in last_amend.items():
            assert orders[txid].price == amend.limit_price, (txid, amend)

        # The order table equals the exchange's book.
        table = session.orders
        book = exchange.open_orders()
        assert set(table.open_orders()) == set(book)
        for txid, order in orders.items():
            mine = table.get(txid)
            assert mine is not None, txid
            assert mine.status == order.status, (txid, mine.status, order.status)
            assert mine.vol_exec == order.vol_exec, txid
            assert not mine.vanished

        # Connection attempts within the cap (100 per 10 minutes).
        starts = list(wire.attempt_times)
        for i, t in enumerate(starts):
            assert sum(1 for u in starts[i:] if u < t + 600) <= 100


# Examples come from the loaded profile (tests/conftest.py); each runs up to 25 steps
# (SESSION_MACHINE_STEPS overrides it for longer local runs).
SessionAgainstExchange.TestCase.settings = settings(
    stateful_step_count=int(os.environ.get("SESSION_MACHINE_STEPS", "25"))
)
TestSessionAgainstExchange = SessionAgainstExchange.TestCase


class SessionAgainstExchangeV2(SessionAgainstExchange):
    """The same machine and invariants with the session speaking v2 (``/v2``): the user's
    code is unchanged, only ``SessionConfig(protocol="v2")`` differs."""

    PROTOCOL = "v2"


# Half the examples of the v1 run keep CI time small (the rules and invariants are shared).
SessionAgainstExchangeV2.TestCase.settings = settings(
    SessionAgainstExchange.TestCase.settings,
    max_examples=max(1, settings().max_examples // 2),
)
TestSessionAgainstExchangeV2 = SessionAgainstExchangeV2.TestCase
