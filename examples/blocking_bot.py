"""A small blocking bot: keep the account's orders and fills, place a limit buy, cancel it.

    python examples/blocking_bot.py            # against the in-process simulator
    python examples/blocking_bot.py --kraken   # against Kraken, KRAKEN_API_KEY/KRAKEN_API_SECRET

Against Kraken the order is sent with ``validate=True``: Kraken checks it and places nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from decimal import Decimal

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
    RequestCompleted,
    RequestFailed,
    RequestOutcomeUnknown,
    Subscribe,
)
from kraken_proto.adapters.simulator.server import run_in_thread
from kraken_proto.adapters.sync_client import BlockingClient, fetch_token

KRAKEN = ("https://api.kraken.com", "wss://ws-auth.kraken.com")


@contextlib.contextmanager
def exchange(live: bool) -> Iterator[tuple[Credentials, str, str]]:
    """Credentials, REST URL and WebSocket URL: Kraken's, or a simulator's for the block."""
    if live:
        yield Credentials.from_env(), *KRAKEN
        return
    with run_in_thread() as sim:
        yield Credentials(api_key=sim.api_key, api_secret=sim.api_secret), sim.rest_url, sim.ws_url


class Bot:
    def __init__(self, client: BlockingClient) -> None:
        self.client = client
        self.orders = OrderTable()
        self.fills = FillLog()
        self.outcomes: dict[int, Event] = {}

    def handle(self, event: Event) -> None:
        if isinstance(event, ChannelSnapshot | ChannelUpdate):
            data = event.event
            if isinstance(data, OpenOrders):
                changes = self.orders.apply(data, snapshot=isinstance(event, ChannelSnapshot))
                for order in changes.added + changes.stubs + changes.updated:
                    print("order", order.describe())
            elif isinstance(data, OwnTrades):
                for trade_id, trade in self.fills.apply(data):
                    print("fill ", trade_id, trade.type, trade.vol, trade.pair, "@", trade.price)
        elif isinstance(event, RequestCompleted | RequestFailed | RequestOutcomeUnknown):
            self.outcomes[event.reqid] = event

    def request(self, request: AddOrder | CancelOrder | Subscribe) -> Event:
        """Send ``request`` and handle events until its outcome arrives (one of three)."""
        reqid = self.client.send(request)
        while reqid not in self.outcomes:
            for event in self.client.next_events(timeout=10.0):
                self.handle(event)
        return self.outcomes.pop(reqid)

    def wait_for(self, txid: str, status: str) -> None:
        while (order := self.orders.get(txid)) is None or order.status != status:
            for event in self.client.next_events(timeout=10.0):
                self.handle(event)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kraken", action="store_true", help="trade on Kraken (validate only)")
    live = parser.parse_args(argv).kraken
    try:
        with exchange(live) as (credentials, rest_url, ws_url):
            token = fetch_token(credentials, rest_url=rest_url)
            with BlockingClient(ws_url) as client:
                client.provide_token(token)
                bot = Bot(client)
                bot.request(Subscribe(name="openOrders"))
                bot.request(Subscribe(name="ownTrades"))
                order = AddOrder(
                    ordertype="limit",
                    type="buy",
                    pair="XBT/USD",
                    volume=Decimal("0.01"),
                    price=Decimal("1000.0"),  # far below the market: it rests
                    validate=live,
                )
                placed = bot.request(order)
                if not isinstance(placed, RequestCompleted):
                    print("not placed:", placed)
                    return 1
                txid = getattr(placed.replies[0], "txid", None)
                print("placed", txid or "(validated only)", order.type, order.volume, order.pair)
                if txid is not None:
                    bot.wait_for(txid, "open")
                    bot.request(CancelOrder(txid=(txid,)))
                    bot.wait_for(txid, "canceled")
                print(bot.orders)
                print(bot.fills)
    except MissingCredentialError as error:
        print(error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
