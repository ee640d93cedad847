"""``kraken-proto demo``: a scripted trading session against the built-in simulator.

Everything runs locally (no internet, no real keys): it starts the simulator, fetches a
session token with a signed REST call, connects with the trio adapter, subscribes to
``openOrders`` and ``ownTrades``, places, fills, amends and cancels orders, and keeps an
``OrderTable`` and a ``FillLog`` from the stream. It exits 0 when every step reached the state
it expected, 1 otherwise.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import TextIO

import trio
from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelOrder,
    ChannelSnapshot,
    ChannelUpdate,
    Credentials,
    Event,
    FillLog,
    OpenOrders,
    OrderTable,
    OwnTrades,
    Request,
    RequestCompleted,
    RequestFailed,
    RequestOutcomeUnknown,
    Subscribe,
    SystemStatus,
)

from .simulator.server import SimulatorServer, open_simulator
from .trio_client import TrioClient, fetch_token_trio, open_trio_client

__all__ = ["configure", "run", "run_demo"]

PAIR = "XBT/USD"
STEP_TIMEOUT = 10.0


class DemoFailed(Exception):
    """A step of the scripted session did not reach the state it expected."""


class _Session:
    """The demo's client-side state: the stream folded into an order table and a fill log."""

    def __init__(self, client: TrioClient, out: TextIO) -> None:
        self.client = client
        self.out = out
        self.orders = OrderTable()
        self.fills = FillLog()
        self.outcomes: dict[int, Event] = {}

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def handle(self, event: Event) -> None:
        if isinstance(event, ChannelSnapshot | ChannelUpdate):
            snapshot = isinstance(event, ChannelSnapshot)
            data = event.event
            if isinstance(data, OpenOrders):
                changes = self.orders.apply(data, snapshot=snapshot)
                for order in changes.added + changes.stubs + changes.updated:
                    self.say(
                        f"  order  {order.txid}  {order.status or '?':<8} "
                        f"vol={_num(order.vol)} vol_exec={_num(order.vol_exec)}"
                    )
            elif isinstance(data, OwnTrades):  # pragma: no branch - the only other channel
                for trade_id, trade in self.fills.apply(data):
                    self.say(
                        f"  fill   {trade_id}  {trade.type} {_num(trade.vol)} {trade.pair} "
                        f"@ {_num(trade.price)} (fee {_num(trade.fee)})"
                    )
        elif isinstance(event, RequestCompleted | RequestFailed | RequestOutcomeUnknown):
            self.outcomes[event.reqid] = event
        elif isinstance(event, SystemStatus):
            self.say(f"  system {event.status} (engine {event.version})")

    async def until(self, what: str, condition: Callable[[], bool]) -> None:
        """Process events until ``condition()`` holds; fail after ``STEP_TIMEOUT`` seconds."""
        with trio.move_on_after(STEP_TIMEOUT):
            while not condition():
                for event in await self.client.next_events(timeout=1.0):
                    self.handle(event)
            return
        raise DemoFailed(f"timed out waiting for {what}")

    async def request(self, request: Request) -> RequestCompleted:
        """Send ``request`` and wait for its outcome; fail unless it completed."""
        reqid = await self.client.send(request)
        await self.until(f"the reply to {request.event}", lambda: reqid in self.outcomes)
        outcome = self.outcomes[reqid]
        if not isinstance(outcome, RequestCompleted):
            raise DemoFailed(f"{request.event} did not complete: {outcome!r}")
        return outcome

    def status_of(self, txid: str) -> str | None:
        order = self.orders.get(txid)
        return None if order is None else order.status


async def _script(sim: SimulatorServer, out: TextIO) -> None:
    def say(text: str) -> None:
        print(text, file=out, flush=True)

    say(f"simulator: REST {sim.rest_url}  WebSocket {sim.ws_url}")
    credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
    token = await fetch_token_trio(credentials, rest_url=sim.rest_url)
    say(f"signed GetWebSocketsToken -> {token!r}")
    market = sim.exchange.config.pairs[PAIR].reference_price

    async with open_trio_client(sim.ws_url) as client:
        session = _Session(client, out)
        await client.provide_token(token)
        say("subscribing to openOrders and ownTrades")
        await session.request(Subscribe(name="openOrders"))
        await session.request(Subscribe(name="ownTrades"))

        bid = market - 500
        say(f"\n1. resting limit buy 0.5 {PAIR} @ {bid} (market {market})")
        placed = await session.request(
            AddOrder(ordertype="limit", type="buy", pair=PAIR, volume=Decimal("0.5"), price=bid)
        )
        resting = _txid(placed)
        await session.until("the order to open", lambda: session.status_of(resting) == "open")

        say(f"\n2. amend it in place to 0.75 @ {bid - 100}")
        await session.request(
            AmendOrder(txid=resting, volume=Decimal("0.75"), limit_price=bid - 100)
        )

        say("\n3. market buy 0.25 (fills against the reference price)")
        bought = _txid(
            await session.request(
                AddOrder(ordertype="market", type="buy", pair=PAIR, volume=Decimal("0.25"))
            )
        )
        await session.until(
            "the market order to close", lambda: session.status_of(bought) == "closed"
        )

        say(f"\n4. the market falls to {bid - 200}: the resting buy fills")
        sim.set_reference_price(PAIR, bid - 200)
        await session.until(
            "the limit order to close", lambda: session.status_of(resting) == "closed"
        )

        ask = market + 1000
        say(f"\n5. limit sell 0.1 @ {ask}, then cancel it")
        offered = _txid(
            await session.request(
                AddOrder(
                    ordertype="limit", type="sell", pair=PAIR, volume=Decimal("0.1"), price=ask
                )
            )
        )
        await session.request(CancelOrder(txid=(offered,)))
        await session.until("the cancel", lambda: session.status_of(offered) == "canceled")

        bought_volume = sum(
            (
                order.vol_exec or Decimal(0)
                for txid in (resting, bought)
                if (order := session.orders.get(txid)) is not None
            ),
            Decimal(0),
        )
        say(
            f"\nsummary: {len(session.orders.open_orders())} open orders, "
            f"bought {_num(bought_volume)} XBT in total (exact Decimal), fills reported once each."
        )
        if bought_volume != Decimal("1.00"):
            raise DemoFailed(f"expected to have bought 1.00 XBT, got {bought_volume}")


def _num(value: Decimal | None) -> str:
    # Exact digits without exponent notation: Decimal("0.00000000") prints as 0E-8 by default.
    return "-" if value is None else format(value, "f")


def _txid(outcome: RequestCompleted) -> str:
    txid = getattr(outcome.replies[0], "txid", None)
    if not isinstance(txid, str):
        raise DemoFailed(f"no txid in {outcome.replies[0]!r}")
    return txid


async def run_demo(out: TextIO, *, seed: int = 7) -> int:
    """Run the scripted session, writing progress to ``out``; return the exit code."""
    async with open_simulator(seed=seed) as sim:
        try:
            await _script(sim, out)
        except DemoFailed as exc:
            print(f"demo FAILED: {exc}", file=out, flush=True)
            return 1
    print("demo OK", file=out, flush=True)
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the demo's options to ``parser``."""
    parser.add_argument("--seed", type=int, default=7, help="simulator seed (default 7)")


def run(args: argparse.Namespace) -> int:
    """Run the demo (``kraken-proto demo``); returns the exit code."""
    return trio.run(functools.partial(run_demo, sys.stdout, seed=args.seed))
