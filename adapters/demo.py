"""``kraken-proto demo``: a scripted trading session against the built-in simulator.

Everything runs locally (no internet, no real keys): it starts the simulator, fetches a
session token with a signed REST call, connects with the trio (default) or the blocking
adapter, subscribes to ``openOrders`` and ``ownTrades``, then places, amends, fills and
cancels orders while it keeps an ``OrderTable`` and a ``FillLog`` from the stream.

Each step waits for its own events before the next one starts: first for the state the step
must reach (an order open, closed, amended...), then for the reply to a ``ping``, which the
exchange sends after everything the step caused. So every line is printed under the step
that caused it. Kraken orders frames within a channel (sequence numbers) but not across
channels and replies, so a step prints its lines grouped: replies, then order updates, then
fills, each group in arrival order. With the same ``--seed`` the output is the same on every
run and with either adapter. It exits 0 when every step reached the state it expected, 1
otherwise.

The script itself does no I/O: it is a generator that yields commands (send a request, wait
for events, move the market) which a small driver per adapter carries out.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Generator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TextIO, TypeAlias

import trio
from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelOrder,
    Credentials,
    Event,
    FillLog,
    Order,
    OrderTable,
    Request,
)
from kraken_proto.adapters.clients.blocking_client import BlockingClient, fetch_token
from kraken_proto.adapters.clients.trio_client import fetch_token_trio, open_trio_client
from kraken_proto.adapters.simulator.server import make_config, open_simulator, run_in_thread
from kraken_proto.v1 import (
    ChannelSnapshot,
    ChannelUpdate,
    OpenOrders,
    OwnTrades,
    Ping,
    RequestCompleted,
    RequestFailed,
    RequestOutcomeUnknown,
    StatusEvent,
    Subscribe,
    SystemStatus,
)

__all__ = ["ADAPTERS", "configure", "run", "run_demo", "run_demo_blocking"]

PAIR = "XBT/USD"
STEP_TIMEOUT = 10.0
"""Seconds a step may take to reach its state before the demo fails."""
POLL = 0.5
"""Longest single wait for events (the script checks its step deadline in between)."""
ADAPTERS = ("trio", "blocking")
_GROUPS = ("system", "reply", "order", "fill")


class DemoFailed(Exception):
    """A step of the scripted session did not reach the state it expected."""


# --- the commands the script yields, and what the driver sends back -------------------------


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``request``; the driver answers with its reqid."""

    request: Request


@dataclass(frozen=True, slots=True)
class Poll:
    """Wait up to ``timeout`` seconds for events; the driver answers ``(events, now)``."""

    timeout: float


@dataclass(frozen=True, slots=True)
class SetPrice:
    """Move the simulator's reference (market) price; the driver answers ``None``."""

    pair: str
    price: Decimal


Command: TypeAlias = Send | Poll | SetPrice
Script: TypeAlias = Generator[Command, Any, None]
Step: TypeAlias = Generator[Command, Any, Any]


class _Story:
    """The demo's client-side state (the stream folded into a table and a log) and its lines."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.orders = OrderTable()
        self.fills = FillLog()
        self.outcomes: dict[int, Event] = {}
        # The current step's lines by group, printed in _GROUPS order when the step settles.
        self.lines: dict[str, list[str]] = {group: [] for group in _GROUPS}

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def note(self, group: str, text: str) -> None:
        self.lines[group].append(text)

    def flush(self) -> None:
        for group in _GROUPS:
            for text in self.lines[group]:
                self.say(text)
            self.lines[group].clear()

    def handle(self, event: Event) -> None:
        if isinstance(event, ChannelSnapshot | ChannelUpdate):
            data = event.event
            if isinstance(data, OpenOrders):
                changes = self.orders.apply(data, snapshot=isinstance(event, ChannelSnapshot))
                for order in changes.added + changes.stubs + changes.updated:
                    self.note("order", f"  order  {order.describe()}")
            elif isinstance(data, OwnTrades):  # pragma: no branch - the only other channel
                for trade_id, trade in self.fills.apply(data):
                    self.note(
                        "fill",
                        f"  fill   {trade_id}  {trade.type} {_num(trade.vol)} {trade.pair} "
                        f"@ {_num(trade.price)} (fee {_num(trade.fee)}) for {trade.ordertxid}",
                    )
        elif isinstance(event, RequestCompleted | RequestFailed | RequestOutcomeUnknown):
            self.outcomes[event.reqid] = event
        elif isinstance(event, SystemStatus):
            self.note("system", f"  system {event.status} (engine {event.version})")

    def until(self, what: str, condition: Callable[[], bool]) -> Step:
        """Handle events until ``condition()`` holds; fail after ``STEP_TIMEOUT`` seconds."""
        deadline: float | None = None
        while not condition():
            events, now = yield Poll(POLL)
            deadline = now + STEP_TIMEOUT if deadline is None else deadline
            for event in events:
                self.handle(event)
            if not condition() and now >= deadline:
                raise DemoFailed(f"timed out waiting for {what}")

    def request(self, request: Request, *, quiet: bool = False) -> Step:
        """Send ``request`` and wait for its outcome; fail unless it completed."""
        reqid = yield Send(request)
        yield from self.until(f"the reply to {request.event}", lambda: reqid in self.outcomes)
        outcome = self.outcomes.pop(reqid)
        if not isinstance(outcome, RequestCompleted):
            raise DemoFailed(f"{request.event} did not complete: {outcome!r}")
        if not quiet:
            for reply in outcome.replies:
                self.note("reply", f"  reply  {_reply_text(reply)}")
        return outcome

    def settle(self, what: str, condition: Callable[[], bool]) -> Step:
        """End a step: wait for ``condition``, then for a pong, so that every frame the step
        caused has arrived before the next step starts."""
        yield from self.until(what, condition)
        yield from self.request(Ping(), quiet=True)
        self.flush()

    def order(self, txid: str) -> Order:
        order = self.orders.get(txid)
        if order is None:
            raise DemoFailed(f"order {txid} is not in the table")
        return order

    def status_of(self, txid: str) -> str | None:
        order = self.orders.get(txid)
        return None if order is None else order.status

    def filled(self, txid: str) -> Decimal:
        """The volume of ``txid``'s fills reported so far."""
        return sum(
            (trade.vol or Decimal(0) for trade in self.fills.trades_for(txid).values()),
            Decimal(0),
        )


def _num(value: Decimal | None) -> str:
    # Exact digits without exponent notation: Decimal("0.00000000") prints as 0E-8 by default.
    return "-" if value is None else format(value, "f")


def _reply_text(reply: Event) -> str:
    fields = [f"{name}={value}" for name, value in reply.__rich_repr__() if name != "status"]
    status = reply.status if isinstance(reply, StatusEvent) else "?"
    return f"{type(reply).__name__} {status} " + " ".join(fields)


def _txid(outcome: RequestCompleted) -> str:
    txid = getattr(outcome.replies[0], "txid", None)
    if not isinstance(txid, str):
        raise DemoFailed(f"no txid in {outcome.replies[0]!r}")
    return txid


def script(story: _Story, market: Decimal) -> Script:
    """The scripted session, as commands for a driver (see ``Send``, ``Poll``, ``SetPrice``)."""
    say = story.say
    say("subscribing to openOrders and ownTrades")
    # Both before either answer: over v2 one executions subscription serves the two.
    orders_id = yield Send(Subscribe(name="openOrders"))
    trades_id = yield Send(Subscribe(name="ownTrades"))
    yield from story.until(
        "the subscriptions", lambda: orders_id in story.outcomes and trades_id in story.outcomes
    )
    for reqid in (orders_id, trades_id):
        outcome = story.outcomes.pop(reqid)
        if not isinstance(outcome, RequestCompleted):
            raise DemoFailed(f"subscribe did not complete: {outcome!r}")
    yield from story.settle("the subscriptions", lambda: True)

    bid = market - 500
    say(f"\n1. place a resting limit buy 0.5 {PAIR} @ {bid} (market {market})")
    resting = _txid(
        (
            yield from story.request(
                AddOrder(ordertype="limit", type="buy", pair=PAIR, volume=Decimal("0.5"), price=bid)
            )
        )
    )
    yield from story.settle("the order to open", lambda: story.status_of(resting) == "open")

    new_price, new_volume = bid - 100, Decimal("0.75")
    say(f"\n2. amend it in place to 0.75 @ {new_price} (keeps its txid and queue priority)")
    before = story.order(resting)
    yield from story.request(AmendOrder(txid=resting, volume=new_volume, limit_price=new_price))

    def amended() -> bool:
        order = story.order(resting)
        return (
            order.vol == new_volume and order.descr is not None and order.descr.price == new_price
        )

    yield from story.settle("the amended order", amended)
    after = story.order(resting)
    old_price = before.descr.price if before.descr else None
    new_shown = after.descr.price if after.descr else None
    say(
        f"  amended {resting}: price {_num(old_price)} -> {_num(new_shown)}, "
        f"volume {_num(before.vol)} -> {_num(after.vol)}"
    )

    say(f"\n3. market buy 0.25 {PAIR} (fills at the market price {market})")
    bought = _txid(
        (
            yield from story.request(
                AddOrder(ordertype="market", type="buy", pair=PAIR, volume=Decimal("0.25"))
            )
        )
    )
    yield from story.settle(
        "the market order to close and fill",
        lambda: story.status_of(bought) == "closed" and story.filled(bought) == Decimal("0.25"),
    )

    low = new_price - 100
    say(f"\n4. the market falls to {low}: the resting buy fills")
    yield SetPrice(PAIR, low)
    yield from story.settle(
        "the limit order to close and fill",
        lambda: story.status_of(resting) == "closed" and story.filled(resting) == new_volume,
    )

    ask = market + 1000
    say(f"\n5. place a limit sell 0.1 {PAIR} @ {ask}, then cancel it")
    offered = _txid(
        (
            yield from story.request(
                AddOrder(
                    ordertype="limit", type="sell", pair=PAIR, volume=Decimal("0.1"), price=ask
                )
            )
        )
    )
    yield from story.settle("the sell order to open", lambda: story.status_of(offered) == "open")
    yield from story.request(CancelOrder(txid=(offered,)))
    yield from story.settle("the cancel", lambda: story.status_of(offered) == "canceled")

    bought_volume = story.filled(resting) + story.filled(bought)
    say(
        f"\nsummary: {len(story.orders)} open orders, {story.orders.finished_count} finished, "
        f"{len(story.fills.trades())} fills (each reported once), bought {_num(bought_volume)} "
        f"{PAIR.split('/')[0]} in total (exact Decimal)"
    )
    say(f"  {story.orders!r}")
    say(f"  {story.fills!r}")
    if bought_volume != Decimal("1.00") or len(story.orders) != 0:
        raise DemoFailed(f"expected 1.00 bought and no open order, got {bought_volume}")


# --- drivers: carry out the script's commands with one adapter ---------------------------------


async def _drive_trio(
    steps: Script, client: Any, set_price: Callable[[str, Decimal], None]
) -> None:
    answer: Any = None
    while True:
        try:
            command = steps.send(answer)
        except StopIteration:
            return
        if isinstance(command, Send):
            answer = await client.send(command.request)
        elif isinstance(command, Poll):
            answer = (await client.next_events(timeout=command.timeout), trio.current_time())
        else:
            set_price(command.pair, command.price)
            answer = None


def _drive_blocking(
    steps: Script,
    client: BlockingClient,
    set_price: Callable[[str, Decimal], None],
    clock: Callable[[], float],
) -> None:
    answer: Any = None
    while True:
        try:
            command = steps.send(answer)
        except StopIteration:
            return
        if isinstance(command, Send):
            answer = client.send(command.request)
        elif isinstance(command, Poll):
            answer = (client.next_events(timeout=command.timeout), clock())
        else:
            set_price(command.pair, command.price)
            answer = None


def _intro(story: _Story, adapter: str, token: object, protocol: str = "v1") -> None:
    over = "" if protocol == "v1" else f" over WebSocket {protocol} (/v2)"
    story.say(f"simulator started on 127.0.0.1 (a free port); adapter: {adapter}{over}")
    story.say(f"signed GetWebSocketsToken -> {token!r}")


def _finish(out: TextIO, failure: DemoFailed | None) -> int:
    if failure is not None:
        print(f"demo FAILED: {failure}", file=out, flush=True)
        return 1
    print("demo OK", file=out, flush=True)
    _try_next(out)
    return 0


def _try_next(out: TextIO) -> None:
    seed, port = 1, 8080
    config = make_config(seed)
    url = f"127.0.0.1:{port}"
    lines = [
        "",
        "Try next (a simulator that keeps running, and the command line against it):",
        f"  kraken-proto simulator --port {port} --seed {seed} &",
        f"  export KRAKEN_API_KEY='{config.api_key}'",
        f"  export KRAKEN_API_SECRET='{config.api_secret}'   # its throw-away keys (--seed {seed})",
        f"  kraken-proto watch --rest-url http://{url} --ws-url ws://{url}",
        f"  kraken-proto simulator-ctl --url http://{url} price {PAIR} 29000   # move the market",
        f"  kraken-proto add-order --rest-url http://{url} --ws-url ws://{url} "
        f"--pair {PAIR} --type buy --ordertype limit --volume 0.1 --price 29000",
    ]
    print("\n".join(lines), file=out, flush=True)


def _ws_url(base: str, protocol: str) -> str:
    return base + "/v2" if protocol == "v2" else base


async def run_demo(out: TextIO, *, seed: int = 7, protocol: str = "v1") -> int:
    """Run the scripted session with the trio adapter, writing to ``out``; return the exit code.
    ``protocol="v2"`` tells the same story over v2 (same requests and events, ``V2Link``)."""
    story = _Story(out)
    failure: DemoFailed | None = None
    async with open_simulator(seed=seed) as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        token = await fetch_token_trio(credentials, rest_url=sim.rest_url)
        _intro(story, "trio", token, protocol)
        market = sim.exchange.config.pairs[PAIR].reference_price
        async with open_trio_client(_ws_url(sim.ws_url, protocol), protocol=protocol) as client:
            await client.provide_token(token)
            try:
                await _drive_trio(script(story, market), client, sim.set_reference_price)
            except DemoFailed as exc:
                failure = exc
    return _finish(out, failure)


def run_demo_blocking(out: TextIO, *, seed: int = 7, protocol: str = "v1") -> int:
    """Run the scripted session with the blocking adapter; return the exit code."""
    import time

    story = _Story(out)
    failure: DemoFailed | None = None
    with run_in_thread(seed=seed) as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        token = fetch_token(credentials, rest_url=sim.rest_url)
        _intro(story, "blocking", token, protocol)
        market = sim.apply(lambda exchange, _now: exchange.config.pairs[PAIR].reference_price)
        with BlockingClient(_ws_url(sim.ws_url, protocol), protocol=protocol) as client:
            client.provide_token(token)
            try:
                _drive_blocking(
                    script(story, market), client, sim.set_reference_price, time.monotonic
                )
            except DemoFailed as exc:
                failure = exc
    return _finish(out, failure)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the demo's options to ``parser``."""
    parser.add_argument(
        "--seed", type=int, default=7, help="simulator seed: same seed, same output (default 7)"
    )
    parser.add_argument(
        "--adapter", choices=ADAPTERS, default="trio", help="transport adapter (default trio)"
    )
    parser.add_argument(
        "--protocol",
        choices=("v1", "v2"),
        default="v1",
        help="WebSocket API version: the same story over v1 or v2 (default v1)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the demo (``kraken-proto demo``); returns the exit code."""
    adapter: Literal["trio", "blocking"] = args.adapter
    protocol: str = args.protocol
    if adapter == "blocking":
        return run_demo_blocking(sys.stdout, seed=args.seed, protocol=protocol)
    return trio.run(functools.partial(run_demo, sys.stdout, seed=args.seed, protocol=protocol))
