"""A small asyncio bot on a Session: one task prints events while the main one trades.

    python examples/asyncio_bot.py            # against a simulator served from a thread
    python examples/asyncio_bot.py --kraken   # against Kraken, KRAKEN_API_KEY/KRAKEN_API_SECRET

The session reconnects by itself, reports every fill once, and if a reply is lost it
reconciles instead of sending the order again. An order call returns once the session's order
table shows its outcome, so the table can be read right after it. Against Kraken the order is
sent with ``validate=True``: Kraken checks it and places nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Iterator
from decimal import Decimal

from kraken_proto import Credentials, FillReceived, MissingCredentialError, OrdersChanged
from kraken_proto.adapters import (
    AsyncioSession,
    RequestRefusedError,
    TradingRequestError,
    open_asyncio_session,
)
from kraken_proto.adapters.simulator.server import run_in_thread

KRAKEN = ("https://api.kraken.com", "wss://ws-auth.kraken.com")


@contextlib.contextmanager
def exchange(live: bool) -> Iterator[tuple[Credentials, str, str]]:
    """Credentials, REST URL and WebSocket URL: Kraken's, or a simulator's for the block (the
    simulator runs on trio, so it is served from its own thread)."""
    if live:
        yield Credentials.from_env(), *KRAKEN
        return
    with run_in_thread() as sim:
        yield Credentials(api_key=sim.api_key, api_secret=sim.api_secret), sim.rest_url, sim.ws_url


async def watch(session: AsyncioSession) -> None:
    """Print the session's events as they come (until the session ends)."""
    async for event in session.events():
        if isinstance(event, OrdersChanged):
            for order in event.changes.added + event.changes.updated:
                print("order", order.describe())
        elif isinstance(event, FillReceived):
            print("fill ", event.trade_id, event.trade.vol, "@", event.trade.price)


async def trade(credentials: Credentials, rest_url: str, ws_url: str, live: bool) -> int:
    async with open_asyncio_session(credentials, rest_url=rest_url, ws_url=ws_url) as session:
        await session.subscribe("openOrders")
        await session.subscribe("ownTrades")
        watcher = asyncio.create_task(watch(session))
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
            await session.cancel_order(txid=(placed.txid,), timeout=30)
            final = session.orders.get(placed.txid)  # the table shows the cancel already
            print("final", final.describe() if final else "?")
        print(session.orders)
    await watcher  # it ends with the session's last event
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kraken", action="store_true", help="trade on Kraken (validate only)")
    live: bool = parser.parse_args(argv).kraken
    try:
        with exchange(live) as (credentials, rest_url, ws_url):
            return asyncio.run(trade(credentials, rest_url, ws_url, live))
    except MissingCredentialError as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
