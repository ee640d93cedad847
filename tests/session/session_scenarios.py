"""Scenarios for the real ``Session`` run by both adapters against the simulator over TLS.

A scenario is a list of steps (an ``AddOrder`` to place through the session, or a function
that does something to the simulator: arm a fault, move the price). The same scenario runs on
the blocking and on the trio adapter; afterwards the session is given time to settle and the
invariants of the promise are checked against the simulator's model (ground truth):

* every trade of the account reached the user exactly once (``FillReceived``);
* no ``cl_ord_id`` was placed twice;
* every order call ended once with its true outcome (placed with the model's txid, or refused
  or not placed with no such order in the model; never "unknown" unless allowed);
* the session's ``OrderTable`` lists exactly the model's open orders.
"""

from __future__ import annotations

import dataclasses
import ssl
import time
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Literal

import trio
from kraken_proto import (
    AddOrder,
    Connected,
    Credentials,
    FillReceived,
    RequestAccepted,
    RequestApplied,
    SessionConfig,
    SessionEvent,
)
from kraken_proto.adapters import (
    OutcomeUnknownError,
    RequestNotAppliedError,
    RequestRefusedError,
    TradingRequestError,
    open_session,
    open_trio_session,
)
from kraken_proto.adapters.simulator.model.exchange import Exchange, Faults
from kraken_proto.adapters.simulator.server import SimulatorThread, make_config, run_in_thread
from kraken_proto.v1 import ConnectionConfig

PAIR = "XBT/USD"
MID = Decimal("30000.0")
Step = AddOrder | Callable[[SimulatorThread], object]
Result = RequestAccepted | RequestApplied | TradingRequestError

# Short timers so that lost replies, silence and backoff resolve within a test's seconds.
FAST = SessionConfig(
    connection=ConnectionConfig(request_timeout=1.0, liveness_timeout=1.0),
    backoff_initial=0.05,
    backoff_floor=0.2,
    backoff_max=0.5,
    rest_retry_delay=0.2,
    rest_tier="pro",
)


Side = Literal["buy", "sell"]


def market(side: Side = "buy") -> AddOrder:
    return AddOrder(ordertype="market", type=side, pair=PAIR, volume=Decimal("0.00100000"))


def limit(side: Side, price: str) -> AddOrder:
    return AddOrder(
        ordertype="limit",
        type=side,
        pair=PAIR,
        volume=Decimal("0.00100000"),
        price=Decimal(price),
    )


def on_session(**faults: Any) -> Callable[[SimulatorThread], object]:
    """A step arming ``faults`` (``Faults`` field values) on the current WebSocket session."""

    def step(sim: SimulatorThread) -> object:
        current = sim.session_ids()[-1]

        def arm(exchange: Exchange, now: float) -> None:
            for name, value in faults.items():
                setattr(exchange.faults(current), name, value)

        return sim.apply(arm)

    return step


def price(value: str) -> Callable[[SimulatorThread], object]:
    def step(sim: SimulatorThread) -> object:
        sim.set_reference_price(PAIR, Decimal(value))
        return None

    return step


def rest_fault(value: str | None) -> Callable[[SimulatorThread], object]:
    def step(sim: SimulatorThread) -> object:
        return sim.apply(lambda exchange, now: setattr(exchange, "rest_fault", value))

    return step


def pause(seconds: float) -> Callable[[SimulatorThread], object]:
    def step(sim: SimulatorThread) -> object:
        time.sleep(seconds)
        return None

    return step


def drop_with_fills(sim: SimulatorThread) -> object:
    """Drop the connection and, while it is down, fill every resting order."""
    current = sim.session_ids()[-1]

    def act(exchange: Exchange, now: float) -> None:
        exchange.faults(current).close_after_frames = 0  # the next frame is not sent
        for value in ("20000.0", "40000.0", "30000.0"):
            exchange.set_reference_price(PAIR, Decimal(value), now)

    return sim.apply(act)


@dataclasses.dataclass
class Scenario:
    steps: Sequence[Step]
    default_faults: Faults | None = None
    config: SessionConfig = FAST
    allow_unknown: bool = False
    seed: int = 7


@dataclasses.dataclass
class Record:
    events: list[SessionEvent] = dataclasses.field(default_factory=list)
    results: list[Result] = dataclasses.field(default_factory=list)
    open_orders: set[str] = dataclasses.field(default_factory=set)
    connections: int = 0

    def fills(self) -> list[str]:
        return [e.trade_id for e in self.events if isinstance(e, FillReceived)]

    def connected(self) -> bool:
        return any(isinstance(e, Connected) for e in self.events)


def _sim(scenario: Scenario) -> Any:
    config = dataclasses.replace(make_config(scenario.seed), maxratecount=10**9)
    return run_in_thread(
        config, tls=True, seed=scenario.seed, default_faults=scenario.default_faults
    )


def _setup(sim: SimulatorThread) -> tuple[Credentials, ssl.SSLContext]:
    sim.apply(lambda exchange, now: setattr(exchange.rest.counter, "tier", "pro"))
    context = ssl.create_default_context(cafile=str(sim.ca_file))
    return Credentials(api_key=sim.api_key, api_secret=sim.api_secret), context


def _truth(sim: SimulatorThread) -> tuple[set[str], dict[str, list[str]], set[str]]:
    def read(exchange: Exchange, now: float) -> tuple[set[str], dict[str, list[str]], set[str]]:
        by_cl: dict[str, list[str]] = {}
        for txid, order in exchange.orders().items():
            if order.cl_ord_id is not None:
                by_cl.setdefault(order.cl_ord_id, []).append(txid)
        return set(exchange.trades()), by_cl, set(exchange.open_orders())

    return sim.apply(read)


def _settled(sim: SimulatorThread, record: Record, pending: int, open_orders: set[str]) -> bool:
    trades, _, book = _truth(sim)
    return pending == 0 and trades <= set(record.fills()) and open_orders == book


def check(sim: SimulatorThread, record: Record, scenario: Scenario) -> None:
    """Assert the invariants of the promise against the model."""
    trades, placed, book = _truth(sim)
    delivered = Counter(record.fills())
    assert set(delivered) == trades, (
        f"lost {sorted(trades - set(delivered))}, unknown {sorted(set(delivered) - trades)}"
    )
    assert [t for t, n in delivered.items() if n > 1] == [], "a fill was delivered twice"
    assert [c for c, txids in placed.items() if len(txids) > 1] == [], "an order placed twice"
    assert len(record.results) == sum(isinstance(s, AddOrder) for s in scenario.steps)
    for result in record.results:
        request = result.request
        assert isinstance(request, AddOrder)
        assert request.cl_ord_id is not None
        in_model = placed.get(request.cl_ord_id, [])
        if isinstance(result, RequestAccepted | RequestApplied):
            assert in_model == [result.txid], f"{result!r} but the model has {in_model}"
        elif isinstance(result, RequestRefusedError | RequestNotAppliedError):
            assert in_model == [], f"{result!r} but the model placed {in_model}"
        else:
            assert isinstance(result, OutcomeUnknownError)
            assert scenario.allow_unknown, f"outcome unknown: {result}"
    assert record.open_orders == book, "the OrderTable disagrees with the exchange's book"


def run_blocking(scenario: Scenario) -> Record:
    record = Record()
    with _sim(scenario) as sim:
        credentials, context = _setup(sim)
        with open_session(
            credentials,
            rest_url=sim.rest_url,
            ws_url=sim.ws_url,
            ssl_context=context,
            config=scenario.config,
        ) as session:
            session.subscribe("ownTrades")
            session.subscribe("openOrders")
            give_up = time.monotonic() + 10
            while not record.connected() and time.monotonic() < give_up:
                record.events += session.events(timeout=0.2)
            for step in scenario.steps:
                if isinstance(step, AddOrder):
                    try:
                        record.results.append(session.add_order(step, timeout=15))
                    except TradingRequestError as exc:
                        record.results.append(exc)
                else:
                    step(sim)
                record.events += session.events(timeout=0.05)
            give_up = time.monotonic() + 15
            while time.monotonic() < give_up:
                record.events += session.events(timeout=0.2)
                record.open_orders = set(session.orders.open_orders())
                if _settled(sim, record, len(session.session.pending()), record.open_orders):
                    break
            record.events += session.events(timeout=0.1)
            record.open_orders = set(session.orders.open_orders())
            record.connections = session.session.connection_attempts
        check(sim, record, scenario)
    return record


def run_trio(scenario: Scenario) -> Record:
    record = Record()
    with _sim(scenario) as sim:
        credentials, context = _setup(sim)

        async def main() -> None:
            async with open_trio_session(
                credentials,
                rest_url=sim.rest_url,
                ws_url=sim.ws_url,
                ssl_context=context,
                config=scenario.config,
            ) as session:

                async def watch() -> None:
                    async for event in session.events():
                        record.events.append(event)

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(watch)
                    await session.subscribe("ownTrades")
                    await session.subscribe("openOrders")
                    with trio.move_on_after(10):
                        while not record.connected():
                            await trio.sleep(0.02)
                    for step in scenario.steps:
                        if isinstance(step, AddOrder):
                            try:
                                record.results.append(await session.add_order(step, timeout=15))
                            except TradingRequestError as exc:
                                record.results.append(exc)
                        else:
                            await trio.to_thread.run_sync(step, sim)
                        await trio.sleep(0.05)
                    with trio.move_on_after(15):
                        while True:
                            await trio.sleep(0.2)
                            record.open_orders = set(session.orders.open_orders())
                            pending = len(session.session.pending())
                            done = await trio.to_thread.run_sync(
                                _settled, sim, record, pending, record.open_orders
                            )
                            if done:
                                break
                    await trio.sleep(0.1)
                    record.open_orders = set(session.orders.open_orders())
                    record.connections = session.session.connection_attempts
                    nursery.cancel_scope.cancel()

        trio.run(main)
        check(sim, record, scenario)
    return record


RUNNERS: dict[str, Callable[[Scenario], Record]] = {"blocking": run_blocking, "trio": run_trio}
