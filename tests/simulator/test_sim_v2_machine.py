"""A Hypothesis state machine: ``V2Connection`` against the simulator's v2 face (pure model),
with random orders, price moves and fault schedules (skipped and repeated sequence numbers,
dropped and delayed replies). Invariants: every fill the model makes reaches the client as a
``trade`` execution, none twice in the updates; a ``FillLog`` and an ``OrderTable`` fed through
``own_trades``/``open_orders`` hold exactly the model's fills (digit for digit) and open
orders; a ``SequenceGap`` is reported only after a sequence fault; every request ends once."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from kraken_proto import FillLog, LocalProtocolError, OrderTable
from kraken_proto.v1 import (
    ChannelSnapshot,
    ChannelUpdate,
    ConnectionState,
    RequestCompleted,
    RequestFailed,
    RequestLost,
    RequestTimedOut,
    SequenceGap,
    SubscriptionState,
)
from kraken_proto.v2 import (
    AddOrder,
    CancelAll,
    Executions,
    Subscribe,
    V2Connection,
    V2ConnectionConfig,
    open_orders,
    own_trades,
)

from tests.simulator.test_sim_v2 import V2Harness

D = Decimal
ENDINGS = (RequestCompleted, RequestFailed, RequestTimedOut, RequestLost)


class SimulatorV2Machine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.h = V2Harness()
        self.h.conn = V2Connection(V2ConnectionConfig(request_timeout=5.0, liveness_timeout=1000.0))
        self.h.conn.connection_made(self.h.h.now)
        self.h.conn.provide_token(self.h.h.token(), self.h.h.now)
        self.update_exec_ids: list[str] = []
        self.seen_exec_ids: set[str] = set()
        self.sequence_fault = False
        self.open_req_ids: set[int] = set()
        self.price = D("30000")
        # What a user keeps: the v1 FillLog and OrderTable, fed through the v2 mapping.
        self.fill_log = FillLog()
        self.table = OrderTable()
        self.reported: dict[str, Any] = {}
        self._pump()
        self._subscribe()

    def _pump(self) -> None:
        """Deliver what the connection queued, then what the exchange queued, until quiet."""
        while True:
            texts = self.h.conn.data_to_send()
            for text in texts:
                self.open_req_ids.add(json.loads(text)["req_id"])
                self.h.ex.receive(self.h.session, text, self.h.h.now)
            frames = self.h.ex.take_outgoing(self.h.session, self.h.h.now)
            for frame in frames:
                self.h.conn.receive_message(frame, self.h.h.now)
            self._record(self.h.conn.events_received())
            if not texts and not frames:
                return

    def _record(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, ChannelSnapshot | ChannelUpdate) and isinstance(
                event.event, Executions
            ):
                for trade_id, trade in self.fill_log.apply(own_trades(event.event)):
                    assert trade_id not in self.reported, "FillLog reported a fill twice"
                    self.reported[trade_id] = trade
                snapshot = isinstance(event, ChannelSnapshot)
                self.table.apply(open_orders(event.event), snapshot=snapshot)
                trades = [str(r.exec_id) for r in event.event.data if r.exec_type == "trade"]
                self.seen_exec_ids.update(trades)
                if isinstance(event, ChannelUpdate):
                    self.update_exec_ids += trades
            elif isinstance(event, SequenceGap):
                assert self.sequence_fault, "gap reported without a sequence fault"
            elif isinstance(event, ENDINGS):
                assert event.reqid in self.open_req_ids, "request ended twice or never started"
                self.open_req_ids.discard(event.reqid)

    def _send(self, request: Any) -> None:
        try:
            self.h.conn.send(request, self.h.h.now)
        except LocalProtocolError:
            return
        self._pump()

    def _subscribe(self) -> None:
        self._send(Subscribe(channel="executions", snap_trades=True))

    @rule(
        side=st.sampled_from(["buy", "sell"]),
        offset=st.sampled_from(["-200", "-10", "0", "10", "200"]),
        qty=st.sampled_from(["0.01", "0.1", "0.5"]),
        market=st.booleans(),
    )
    def place(self, side: str, offset: str, qty: str, market: bool) -> None:
        if market:
            order = AddOrder(order_type="market", side=side, symbol="BTC/USD", order_qty=D(qty))  # type: ignore[arg-type]
        else:
            order = AddOrder(
                order_type="limit",
                side=side,  # type: ignore[arg-type]
                symbol="BTC/USD",
                order_qty=D(qty),
                limit_price=self.price + D(offset),
            )
        self._send(order)

    @rule(step=st.sampled_from(["-300", "-50", "50", "300"]))
    def move(self, step: str) -> None:
        self.price += D(step)
        self.h.h.move("XBT/USD", str(self.price))
        self._pump()

    @rule()
    def cancel_all(self) -> None:
        self._send(CancelAll())

    @rule(fault=st.sampled_from(["skip", "repeat", "drop", "delay"]))
    def inject(self, fault: str) -> None:
        faults = self.h.ex.faults(self.h.session)
        if fault == "skip":
            faults.skip_sequence = 1
            self.sequence_fault = True
        elif fault == "repeat":
            faults.repeat_sequence = 1
            self.sequence_fault = True
        elif fault == "drop":
            faults.drop_replies = 1
        else:
            faults.reply_delay = 2.0

    @rule(seconds=st.sampled_from([0.5, 2.0, 6.0]))
    def wait(self, seconds: float) -> None:
        self.h.h.at(self.h.h.now + seconds)
        self.h.ex.advance(self.h.h.now)
        self.h.conn.handle_timeout(self.h.h.now)
        self._record(self.h.conn.events_received())
        self._pump()
        self.h.ex.faults(self.h.session).reply_delay = 0.0
        state = self.h.conn.subscription_state("executions")
        if state in (SubscriptionState.FAILED, SubscriptionState.UNSUBSCRIBED):
            self._subscribe()

    @invariant()
    def every_fill_reached_the_client_once(self) -> None:
        assert self.h.conn.state is ConnectionState.OPEN
        assert len(self.update_exec_ids) == len(set(self.update_exec_ids)), "a fill twice"
        if self.h.conn.subscription_state("executions") is SubscriptionState.ACTIVE:
            assert set(self.h.ex.fills()) <= self.seen_exec_ids, "a fill was lost"
            model_fills = self.h.ex.fills()
            assert set(self.reported) == set(model_fills)
            for trade_id, trade in self.reported.items():
                fill = model_fills[trade_id]
                assert (trade.vol, trade.price, trade.cost, trade.fee, trade.time) == (
                    fill.vol,
                    fill.price,
                    fill.cost,
                    fill.fee,
                    fill.time,
                )
            model_open = self.h.ex.open_orders()
            assert set(self.table.open_orders()) == set(model_open)
            for txid, order in self.table.open_orders().items():
                assert order.vol == model_open[txid].vol
                # a pending_new carries no cum_qty (as live), so an order no fill or snapshot
                # has reported yet has an unknown vol_exec in the table
                assert (order.vol_exec or 0) == model_open[txid].vol_exec

    def teardown(self) -> None:
        self.h.conn.connection_lost(self.h.h.now)
        self._record(self.h.conn.events_received())
        assert self.open_req_ids == set()


SimulatorV2Machine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None
)
TestSimulatorV2Machine = SimulatorV2Machine.TestCase
