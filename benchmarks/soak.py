"""Soak: a session trading through the simulator while its connection keeps dropping.

    python benchmarks/soak.py --adapter blocking|trio|asyncio --seconds 60 [--drop-every 3]
        [--rate 10] [--seed 1] [--protocol v1|v2]
        [--crash [--kill-every 1] | --processes N]

A bot places ``--rate`` orders a second: market orders (each fills at once) and resting limit
orders (they fill when the price swings), while the price swings every half second and the
WebSocket is broken every
``--drop-every`` seconds, rotating through the simulator's faults: a plain drop, a drop right
after a trading request arrives (its reply never comes: the session must reconcile it), a
malformed frame, a skipped sequence number. Resting orders are filled while the connection
is down, so fills must come back from the snapshot or from REST.

At the end the session is given time to settle, then checked against the simulator's own
model (ground truth): every trade delivered exactly once, no ``cl_ord_id`` placed twice, and
every order call ended with its true outcome. The last line printed is one JSON object; the
exit status is 1 on any loss, duplicate, double placement or wrong outcome. With
``--protocol v2`` the same bot runs over the simulator's v2 face (``/v2``); v2 reports every
fill, so the ground truth is the model's unconsolidated fills.

``--crash`` runs the bot in a child process on a SQLite journal and kills it with SIGKILL
about every ``--kill-every`` seconds; ``--processes N`` runs N bots on one API key, sharing
its nonces and REST budget. Both are in ``soak_crash.py`` (its docstring says what they
check); their last line has ``kills``, ``orders``, ``fills``, ``lost``,
``unflagged_repeats``, ``placed_twice``, ``unresolved_intents``, ``invalid_nonces`` and
``settle_seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import ssl
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import trio
from kraken_proto import (
    AddOrder,
    Credentials,
    FillReceived,
    Reconnecting,
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
    open_asyncio_session,
    open_session,
    open_trio_session,
)
from kraken_proto.adapters.simulator.model.exchange import Exchange
from kraken_proto.adapters.simulator.server import SimulatorThread, make_config, run_in_thread

PAIR = "XBT/USD"
MID = Decimal("30000.0")
LOW, HIGH = Decimal("29000.0"), Decimal("31000.0")
VOLUME = Decimal("0.00100000")
FAR_LOW, FAR_HIGH = Decimal("28000.0"), Decimal("32000.0")
FAULTS = ("drop", "drop_after_request", "malformed_frame", "skip_sequence", "drop_with_fills")


@dataclasses.dataclass
class Tally:
    """What the bot saw, to compare with the model at the end."""

    fills: list[str] = dataclasses.field(default_factory=list)
    outcomes: dict[str, str] = dataclasses.field(default_factory=dict)  # cl_ord_id -> outcome
    txids: dict[str, str] = dataclasses.field(default_factory=dict)  # cl_ord_id -> txid
    kinds: Counter[str] = dataclasses.field(default_factory=Counter)
    reconnects: int = 0
    faults: Counter[str] = dataclasses.field(default_factory=Counter)

    def saw(self, events: Iterable[SessionEvent]) -> None:
        for event in events:
            if isinstance(event, FillReceived):
                self.fills.append(event.trade_id)
                self.kinds[f"fill_{event.source}"] += 1
            elif isinstance(event, Reconnecting):
                self.reconnects += 1

    def ended(self, result: RequestAccepted | RequestApplied | TradingRequestError) -> None:
        """Record one order call's final outcome (its return value or exception)."""
        request = result.request
        assert isinstance(request, AddOrder)
        assert request.cl_ord_id is not None  # the session always sends one
        if isinstance(result, RequestAccepted | RequestApplied):
            kind = "placed"
            assert result.txid is not None
            self.txids[request.cl_ord_id] = result.txid
            if isinstance(result, RequestApplied):
                self.kinds["reconciled_placed"] += 1
        elif isinstance(result, RequestRefusedError):
            kind = "refused"
        elif isinstance(result, RequestNotAppliedError):
            kind = "not_placed"
        else:
            assert isinstance(result, OutcomeUnknownError)
            kind = "unknown"
        self.kinds[f"outcome_{kind}"] += 1
        self.outcomes[request.cl_ord_id] = kind


class Plan:
    """The bot's script: which order next, when the price swings, when to break things."""

    def __init__(self, seed: int, drop_every: float, rate: float) -> None:
        self.rng = random.Random(seed)
        self.drop_every = drop_every
        self.started = time.monotonic()
        self.interval = 1.0 / rate
        self.next_order = self.started
        self.next_swing = self.started + 0.5
        self.next_drop = self.started + drop_every
        self.high = False
        self.drops = 0

    def order(self) -> AddOrder:
        roll = self.rng.random()
        side: Literal["buy", "sell"] = "buy" if self.rng.random() < 0.5 else "sell"
        if roll < 0.2:
            return AddOrder(ordertype="market", type=side, pair=PAIR, volume=VOLUME)
        # Resting limits: buys under the mid, sells over it. Near ones fill at the next swing;
        # far ones (outside the swings) pile up until a "drop_with_fills" fills them all
        # while the connection is down: more than the 50 an ownTrades snapshot holds.
        offset = Decimal(self.rng.randrange(1, 900))
        if roll > 0.5:
            offset += 1100
        price = MID - offset if side == "buy" else MID + offset
        return AddOrder(ordertype="limit", type=side, pair=PAIR, volume=VOLUME, price=price)

    def wait(self) -> float:
        """Seconds until the next order is due (the bot reads events meanwhile)."""
        self.next_order = max(self.next_order + self.interval, time.monotonic() - 1.0)
        return max(0.0, self.next_order - time.monotonic())

    def swing_due(self) -> Decimal | None:
        if time.monotonic() < self.next_swing:
            return None
        self.next_swing += 0.5
        self.high = not self.high
        return HIGH if self.high else LOW

    def fault_due(self) -> str | None:
        if time.monotonic() < self.next_drop:
            return None
        self.next_drop += self.drop_every
        fault = FAULTS[self.drops % len(FAULTS)]
        self.drops += 1
        return fault


def arm_fault(sim: SimulatorThread, fault: str, turn: int = -1) -> str:
    """Arm ``fault`` on a WebSocket session of the simulator (if there is one): the newest,
    or with several bots (``turn`` >= 0) each open one in turn."""

    sessions = sim.session_ids()
    if not sessions:
        return "none (disconnected)"

    def arm(exchange: Exchange, now: float) -> str:
        try:
            faults = exchange.faults(sessions[turn % len(sessions)])
        except KeyError:  # it closed in the meantime
            return "none (disconnected)"
        chosen = fault
        if chosen == "drop":
            faults.close_after_frames = 0
        elif chosen == "drop_with_fills":
            faults.close_after_frames = 0  # the next frame is not sent: the socket drops
            for price in (FAR_LOW, FAR_HIGH, MID):
                exchange.set_reference_price(PAIR, price, now)
        elif chosen == "drop_after_request":
            faults.drop_after_request = 1
        elif chosen == "malformed_frame":
            faults.malformed_frames = 1
        else:
            faults.skip_sequence = 1
        return chosen

    return sim.apply(arm)


def ground_truth(
    sim: SimulatorThread, protocol: str = "v1"
) -> tuple[set[str], dict[str, list[str]]]:
    """The account's trade ids (each fill over v2), and every order's txids by cl_ord_id."""

    def read(exchange: Exchange, now: float) -> tuple[set[str], dict[str, list[str]]]:
        by_cl: dict[str, list[str]] = {}
        for txid, order in exchange.orders().items():
            if order.cl_ord_id is not None:
                by_cl.setdefault(order.cl_ord_id, []).append(txid)
        return set(exchange.fills() if protocol == "v2" else exchange.trades()), by_cl

    return sim.apply(read)


def verdict(
    adapter: str,
    seconds: float,
    tally: Tally,
    sim: SimulatorThread,
    connections: int,
    protocol: str = "v1",
) -> dict[str, Any]:
    trades, placed = ground_truth(sim, protocol)
    delivered = Counter(tally.fills)
    wrong = 0
    for cl_ord_id, kind in tally.outcomes.items():
        exists = cl_ord_id in placed
        if kind == "placed":
            wrong += not exists or tally.txids.get(cl_ord_id) not in placed.get(cl_ord_id, [])
        elif kind in ("refused", "not_placed"):
            wrong += exists
    return {
        "adapter": adapter,
        "protocol": protocol,
        "seconds": round(seconds, 1),
        "connections": connections,
        "orders": len(tally.outcomes),
        "orders_in_model": sum(len(txids) for txids in placed.values()),
        "fills": len(trades),
        "fills_delivered": len(delivered),
        "lost_fills": len(trades - set(delivered)),
        "duplicated_fills": sum(count - 1 for count in delivered.values()),
        "unknown_fills": len(set(delivered) - trades),
        "orders_placed_twice": sum(1 for txids in placed.values() if len(txids) > 1),
        "wrong_outcomes": wrong,
        "unknown_outcomes": tally.kinds["outcome_unknown"],
        "faults": dict(tally.faults),
        "reconnects": tally.reconnects,
        "detail": {key: tally.kinds[key] for key in sorted(tally.kinds)},
    }


def settled(tally: Tally, sim: SimulatorThread, pending: int, protocol: str = "v1") -> bool:
    trades, _ = ground_truth(sim, protocol)
    return pending == 0 and trades <= set(tally.fills)


def _setup(sim: SimulatorThread) -> None:
    def pro_tier(exchange: Exchange, now: float) -> None:
        exchange.rest.counter.tier = "pro"

    sim.apply(pro_tier)


def _config() -> SessionConfig:
    # Drops every few seconds are the point here: retry at once and keep the floor low so the
    # soak measures correctness, not backoff. The REST tier matches the simulator's (pro).
    return SessionConfig(backoff_initial=0.05, backoff_floor=0.2, backoff_max=1.0, rest_tier="pro")


def run_blocking(
    seconds: float, drop_every: float, rate: float, seed: int, protocol: str = "v1"
) -> dict[str, Any]:
    tally = Tally()
    plan = Plan(seed, drop_every, rate)
    with run_in_thread(_sim_config(seed), tls=True, seed=seed) as sim:
        _setup(sim)
        context = ssl.create_default_context(cafile=str(sim.ca_file))
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        with open_session(
            credentials,
            rest_url=sim.rest_url,
            ws_url=sim.ws_url,
            ssl_context=context,
            config=_config(),
            protocol=protocol,
        ) as session:
            session.subscribe("ownTrades")
            session.subscribe("openOrders")
            stop = time.monotonic() + seconds
            while time.monotonic() < stop:
                _act(plan, sim, tally)
                request = plan.order()
                try:
                    result: Any = session.add_order(request, timeout=30)
                except TradingRequestError as exc:
                    result = exc
                tally.ended(result)
                pause = plan.wait()
                tally.saw(session.events(timeout=pause))
                while pause > 0 and time.monotonic() < plan.next_order:
                    tally.saw(session.events(timeout=plan.next_order - time.monotonic()))
            give_up = time.monotonic() + 30
            while time.monotonic() < give_up:
                tally.saw(session.events(timeout=0.5))
                if settled(tally, sim, len(session.session.pending()), protocol):
                    break
            tally.saw(session.events(timeout=0.2))
            connections = session.session.connection_attempts
        return verdict("blocking", seconds, tally, sim, connections, protocol)


def run_trio(
    seconds: float, drop_every: float, rate: float, seed: int, protocol: str = "v1"
) -> dict[str, Any]:
    tally = Tally()
    plan = Plan(seed, drop_every, rate)
    with run_in_thread(_sim_config(seed), tls=True, seed=seed) as sim:
        _setup(sim)
        context = ssl.create_default_context(cafile=str(sim.ca_file))
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        connections = 0

        async def main() -> None:
            nonlocal connections
            async with open_trio_session(
                credentials,
                rest_url=sim.rest_url,
                ws_url=sim.ws_url,
                ssl_context=context,
                config=_config(),
                protocol=protocol,
            ) as session:

                async def watch() -> None:
                    async for event in session.events():
                        tally.saw([event])

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(watch)
                    await session.subscribe("ownTrades")
                    await session.subscribe("openOrders")
                    stop = time.monotonic() + seconds
                    while time.monotonic() < stop:
                        await trio.to_thread.run_sync(_act, plan, sim, tally)
                        request = plan.order()
                        try:
                            result: Any = await session.add_order(request, timeout=30)
                        except TradingRequestError as exc:
                            result = exc
                        tally.ended(result)
                        await trio.sleep(plan.wait())
                    give_up = time.monotonic() + 30
                    while time.monotonic() < give_up:
                        await trio.sleep(0.5)
                        pending = len(session.session.pending())
                        if await trio.to_thread.run_sync(settled, tally, sim, pending, protocol):
                            break
                    await trio.sleep(0.2)
                    connections = session.session.connection_attempts
                    nursery.cancel_scope.cancel()

        trio.run(main)
        return verdict("trio", seconds, tally, sim, connections, protocol)


def run_asyncio(
    seconds: float, drop_every: float, rate: float, seed: int, protocol: str = "v1"
) -> dict[str, Any]:
    tally = Tally()
    plan = Plan(seed, drop_every, rate)
    with run_in_thread(_sim_config(seed), tls=True, seed=seed) as sim:
        _setup(sim)
        context = ssl.create_default_context(cafile=str(sim.ca_file))
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        connections = 0

        async def main() -> None:
            nonlocal connections
            async with open_asyncio_session(
                credentials,
                rest_url=sim.rest_url,
                ws_url=sim.ws_url,
                ssl_context=context,
                config=_config(),
                protocol=protocol,
            ) as session:

                async def watch() -> None:
                    async for event in session.events():
                        tally.saw([event])

                watcher = asyncio.create_task(watch())
                await session.subscribe("ownTrades")
                await session.subscribe("openOrders")
                stop = time.monotonic() + seconds
                while time.monotonic() < stop:
                    await asyncio.to_thread(_act, plan, sim, tally)
                    request = plan.order()
                    try:
                        result: Any = await session.add_order(request, timeout=30)
                    except TradingRequestError as exc:
                        result = exc
                    tally.ended(result)
                    await asyncio.sleep(plan.wait())
                give_up = time.monotonic() + 30
                while time.monotonic() < give_up:
                    await asyncio.sleep(0.5)
                    pending = len(session.session.pending())
                    if await asyncio.to_thread(settled, tally, sim, pending, protocol):
                        break
                await asyncio.sleep(0.2)
                connections = session.session.connection_attempts
                watcher.cancel()

        asyncio.run(main())
        return verdict("asyncio", seconds, tally, sim, connections, protocol)


def _act(plan: Plan, sim: SimulatorThread, tally: Tally) -> None:
    price = plan.swing_due()
    if price is not None:
        sim.set_reference_price(PAIR, price)
    fault = plan.fault_due()
    if fault is not None:
        tally.faults[arm_fault(sim, fault)] += 1


def _sim_config(seed: int) -> Any:
    # The per-pair order rate counter would stop a bot this busy; the soak is about drops.
    return dataclasses.replace(make_config(seed), maxratecount=10**9)


RUNNERS: dict[str, Callable[[float, float, float, int, str], dict[str, Any]]] = {
    "asyncio": run_asyncio,
    "blocking": run_blocking,
    "trio": run_trio,
}


def failed(result: dict[str, Any]) -> bool:
    keys = ("lost_fills", "duplicated_fills", "orders_placed_twice", "wrong_outcomes")
    return any(result[key] for key in keys) or result["unknown_fills"] > 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapter", choices=sorted(RUNNERS), default="blocking")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--drop-every", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=10.0, help="orders per second")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--protocol", choices=("v1", "v2"), default="v1")
    crash = parser.add_mutually_exclusive_group()
    crash.add_argument(
        "--crash", action="store_true", help="kill the bot process with SIGKILL and restart it"
    )
    crash.add_argument(
        "--processes", type=int, default=0, metavar="N", help="N bot processes on one API key"
    )
    parser.add_argument(
        "--kill-every", type=float, default=1.0, help="--crash: seconds between kills (about)"
    )
    args = parser.parse_args(argv)
    if args.crash or args.processes:
        return _main_crash(args)
    result = RUNNERS[args.adapter](
        args.seconds, args.drop_every, args.rate, args.seed, args.protocol
    )
    print(json.dumps(result, sort_keys=False))
    return 1 if failed(result) else 0


def _main_crash(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import soak_crash

    if args.crash:
        result = soak_crash.run_crash(
            args.adapter,
            args.seconds,
            args.drop_every,
            args.rate,
            args.seed,
            args.protocol,
            kill_every=args.kill_every,
        )
    else:
        result = soak_crash.run_processes(
            args.adapter,
            args.seconds,
            args.drop_every,
            args.rate,
            args.seed,
            args.protocol,
            processes=args.processes,
        )
    print(json.dumps(result, sort_keys=False))
    return 1 if soak_crash.failed(result) else 0


if __name__ == "__main__":
    sys.exit(main())
