"""A small blocking bot on a Session: place a limit buy, watch it open, cancel it.

    python examples/blocking_bot.py            # against the in-process simulator
    python examples/blocking_bot.py --kraken   # against Kraken, KRAKEN_API_KEY/KRAKEN_API_SECRET

The session reconnects by itself, reports every fill once, and if a reply is lost it
reconciles instead of sending the order again. Against Kraken the order is sent with
``validate=True``: Kraken checks it and places nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from decimal import Decimal

from kraken_proto import (
    Credentials,
    FillReceived,
    MissingCredentialError,
    OrdersChanged,
    SessionEvent,
)
from kraken_proto.adapters import RequestRefusedError, TradingRequestError
from kraken_proto.adapters.runners.blocking import BlockingSession, open_session
from kraken_proto.adapters.simulator.server import run_in_thread

KRAKEN = ("https://api.kraken.com", "wss://ws-auth.kraken.com")


@contextlib.contextmanager
def exchange(live: bool) -> Iterator[tuple[Credentials, str, str]]:
    """Credentials, REST URL and WebSocket URL: Kraken's, or a simulator's for the block."""
    if live:
        yield Credentials.from_env(), *KRAKEN
        return
    with run_in_thread() as sim:
        yield Credentials(api_key=sim.api_key, api_secret=sim.api_secret), sim.rest_url, sim.ws_url


def show(event: SessionEvent) -> None:
    if isinstance(event, OrdersChanged):
        for order in event.changes.added + event.changes.updated:
            print("order", order.describe())
    elif isinstance(event, FillReceived):
        trade = event.trade
        print("fill ", event.trade_id, trade.type, trade.vol, trade.pair, "@", trade.price)


def wait_for(session: BlockingSession, txid: str, status: str) -> None:
    """Run the session (printing its events) until order ``txid`` has ``status``."""
    for event in session.events(timeout=0):  # what arrived during the last call
        show(event)
    while (order := session.orders.get(txid)) is None or order.status != status:
        for event in session.events(timeout=10.0):
            show(event)


def trade(credentials: Credentials, rest_url: str, ws_url: str, live: bool) -> int:
    with open_session(credentials, rest_url=rest_url, ws_url=ws_url) as session:
        session.subscribe("openOrders")
        session.subscribe("ownTrades")
        try:
            placed = session.add_order(
                ordertype="limit",
                type="buy",
                pair="XBT/USD",
                volume=Decimal("0.01"),
                price=Decimal("1000.0"),  # far below the market: it rests
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
            wait_for(session, placed.txid, "open")
            session.cancel_order(txid=(placed.txid,))
            wait_for(session, placed.txid, "canceled")
            final = session.orders.get(placed.txid)
            print("final", final.describe() if final else "?")
        print(session.orders)
        print(session.fills)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kraken", action="store_true", help="trade on Kraken (validate only)")
    live: bool = parser.parse_args(argv).kraken
    try:
        with exchange(live) as (credentials, rest_url, ws_url):
            return trade(credentials, rest_url, ws_url, live)
    except MissingCredentialError as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
