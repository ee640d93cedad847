"""A small trio bot on a Session: one task prints events while another trades.

    python examples/trio_bot.py            # against the in-process simulator
    python examples/trio_bot.py --kraken   # against Kraken, KRAKEN_API_KEY/KRAKEN_API_SECRET

The session reconnects by itself, reports every fill once, and if a reply is lost it
reconciles instead of sending the order again. Against Kraken the order is sent with
``validate=True``: Kraken checks it and places nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import trio
from kraken_proto import Credentials, FillReceived, MissingCredentialError, OrdersChanged
from kraken_proto.adapters import RequestRefusedError, TradingRequestError
from kraken_proto.adapters.runners.trio_runner import TrioSession, open_trio_session
from kraken_proto.adapters.simulator.server import open_simulator

KRAKEN = ("https://api.kraken.com", "wss://ws-auth.kraken.com")


@asynccontextmanager
async def exchange(live: bool) -> AsyncIterator[tuple[Credentials, str, str]]:
    """Credentials, REST URL and WebSocket URL: Kraken's, or a simulator's for the block."""
    if live:
        yield Credentials.from_env(), *KRAKEN
        return
    async with open_simulator() as sim:
        yield Credentials(api_key=sim.api_key, api_secret=sim.api_secret), sim.rest_url, sim.ws_url


class Watcher:
    """The task that prints the session's events and wakes whoever waits for a change."""

    def __init__(self, session: TrioSession) -> None:
        self.session = session
        self.changed = trio.Event()

    async def run(self) -> None:
        async for event in self.session.events():
            if isinstance(event, OrdersChanged):
                for order in event.changes.added + event.changes.updated:
                    print("order", order.describe())
            elif isinstance(event, FillReceived):
                print("fill ", event.trade_id, event.trade.vol, "@", event.trade.price)
            self.changed.set()
            self.changed = trio.Event()

    async def wait_for(self, txid: str, status: str) -> None:
        while (order := self.session.orders.get(txid)) is None or order.status != status:
            await self.changed.wait()


async def trade(live: bool) -> int:
    async with (
        exchange(live) as (credentials, rest_url, ws_url),
        open_trio_session(credentials, rest_url=rest_url, ws_url=ws_url) as session,
    ):
        await session.subscribe("openOrders")
        await session.subscribe("ownTrades")
        async with trio.open_nursery() as nursery:
            watcher = Watcher(session)
            nursery.start_soon(watcher.run)
            try:
                placed = await session.add_order(
                    ordertype="limit",
                    type="sell",
                    pair="XBT/USD",
                    volume=Decimal("0.01"),
                    price=Decimal("99000.0"),  # far above the market: it rests
                    validate=live,
                )
            except RequestRefusedError as refused:
                print("refused:", refused.error.text)
                return 1
            except TradingRequestError as failed:  # not applied, or outcome unknown
                print(failed)
                return 1
            print("placed", placed.txid or "(validated only)")
            if placed.txid is not None:
                with trio.fail_after(30):
                    await watcher.wait_for(placed.txid, "open")
                    await session.cancel_order(txid=(placed.txid,))
                    await watcher.wait_for(placed.txid, "canceled")
                final = session.orders.get(placed.txid)
                print("final", final.describe() if final else "?")
            print(session.orders)
            nursery.cancel_scope.cancel()
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kraken", action="store_true", help="trade on Kraken (validate only)")
    live: bool = parser.parse_args(argv).kraken
    try:
        return trio.run(trade, live)
    except MissingCredentialError as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
