"""A small trio bot: one task prints the account's fills while another places and cancels.

    python examples/trio_bot.py            # against the in-process simulator
    python examples/trio_bot.py --kraken   # against Kraken, KRAKEN_API_KEY/KRAKEN_API_SECRET

Against Kraken the order is sent with ``validate=True``: Kraken checks it and places nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import trio
from kraken_proto import (
    AddOrder,
    CancelOrder,
    ChannelSnapshot,
    ChannelUpdate,
    Credentials,
    Event,
    FillLog,
    MissingCredentialError,
    OpenOrders,
    OrderTable,
    OwnTrades,
    Request,
    RequestCompleted,
    RequestFailed,
    RequestOutcomeUnknown,
    Subscribe,
)
from kraken_proto.adapters.simulator.server import open_simulator
from kraken_proto.adapters.trio_client import TrioClient, fetch_token_trio, open_trio_client

KRAKEN = ("https://api.kraken.com", "wss://ws-auth.kraken.com")


@asynccontextmanager
async def exchange(live: bool) -> AsyncIterator[tuple[Credentials, str, str]]:
    """Credentials, REST URL and WebSocket URL: Kraken's, or a simulator's for the block."""
    if live:
        yield Credentials.from_env(), *KRAKEN
        return
    async with open_simulator() as sim:
        yield Credentials(api_key=sim.api_key, api_secret=sim.api_secret), sim.rest_url, sim.ws_url


class Bot:
    """Folds the stream into an order table and a fill log; hands request outcomes over."""

    def __init__(self, client: TrioClient) -> None:
        self.client = client
        self.orders = OrderTable()
        self.fills = FillLog()
        self.changed = trio.Event()
        self.outcomes: dict[int, Event] = {}

    async def run(self) -> None:
        """The reader task: every event goes through here."""
        while True:
            for event in await self.client.next_events():
                if isinstance(event, ChannelSnapshot | ChannelUpdate):
                    data = event.event
                    if isinstance(data, OpenOrders):
                        snapshot = isinstance(event, ChannelSnapshot)
                        for order in self.orders.apply(data, snapshot=snapshot).updated:
                            print("order", order.describe())
                    elif isinstance(data, OwnTrades):
                        for trade_id, trade in self.fills.apply(data):
                            print("fill ", trade_id, trade.vol, trade.pair, "@", trade.price)
                elif isinstance(event, RequestCompleted | RequestFailed | RequestOutcomeUnknown):
                    self.outcomes[event.reqid] = event
            self.changed.set()
            self.changed = trio.Event()

    async def request(self, request: Request) -> Event:
        reqid = await self.client.send(request)
        while reqid not in self.outcomes:
            await self.changed.wait()
        return self.outcomes.pop(reqid)

    async def wait_for(self, txid: str, status: str) -> None:
        while (order := self.orders.get(txid)) is None or order.status != status:
            await self.changed.wait()


async def trade(live: bool) -> int:
    async with exchange(live) as (credentials, rest_url, ws_url):
        token = await fetch_token_trio(credentials, rest_url=rest_url)
        async with open_trio_client(ws_url) as client, trio.open_nursery() as nursery:
            await client.provide_token(token)
            bot = Bot(client)
            nursery.start_soon(bot.run)
            with trio.fail_after(30):
                await bot.request(Subscribe(name="openOrders"))
                await bot.request(Subscribe(name="ownTrades"))
                order = AddOrder(
                    ordertype="limit",
                    type="sell",
                    pair="XBT/USD",
                    volume=Decimal("0.01"),
                    price=Decimal("99000.0"),  # far above the market: it rests
                    validate=live,
                )
                placed = await bot.request(order)
                if not isinstance(placed, RequestCompleted):
                    print("not placed:", placed)
                    return 1
                txid = getattr(placed.replies[0], "txid", None)
                print("placed", txid or "(validated only)", order.type, order.volume, order.pair)
                if txid is not None:
                    await bot.wait_for(txid, "open")
                    await bot.request(CancelOrder(txid=(txid,)))
                    await bot.wait_for(txid, "canceled")
            print(bot.orders)
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
