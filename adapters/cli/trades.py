"""``kraken-proto trades [--since TIME] [--json]``: the account's trades, via REST.

From ``TradesHistory`` (newest first, one page of up to 50; the total is reported on stderr).
``--since`` takes unix seconds, an ISO time, an age (``30m``, ``2h``, ``7d``) or a trade txid.
Prints a table, or with ``--json`` one JSON object per trade (``"txid"`` first, Decimals as
exact strings). Exit 0 listed, 1 Kraken refused or unreachable, 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
import time

from kraken_proto.rest import build_trades_history_request, parse_trades_history_response

from ._common import (
    OK,
    add_network_options,
    credentials_from_env,
    guarded,
    jsonable,
    print_json,
    print_table,
    since_option,
    unix_time_text,
)
from ._rest import rest_call

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``--since``, ``--json`` and the network options."""
    parser.add_argument(
        "--since",
        default=None,
        metavar="TIME",
        help="trades after TIME: unix seconds, ISO time, an age (30m, 2h, 7d) or a trade txid",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per trade")
    add_network_options(parser, websocket=False)


def _trades(args: argparse.Namespace) -> int:
    credentials = credentials_from_env()
    start = None if args.since is None else since_option(args.since, time.time())
    status, body = rest_call(
        args,
        lambda nonce: build_trades_history_request(credentials, nonce=nonce, start=start),
    )
    result = parse_trades_history_response(status, body)
    if args.json:
        for txid, trade in result.trades.items():
            print_json({"txid": txid, **jsonable(trade)})
    elif result.trades:
        headers = ["TXID", "TIME", "SIDE", "TYPE", "VOLUME", "PAIR", "PRICE", "COST", "FEE"]
        headers.append("ORDER")
        rows = [
            [
                txid,
                unix_time_text(trade.time),
                trade.type,
                trade.ordertype,
                trade.vol,
                trade.pair,
                trade.price,
                trade.cost,
                trade.fee,
                trade.ordertxid,
            ]
            for txid, trade in result.trades.items()
        ]
        print_table(headers, rows)
    else:
        print("no trades")
    if result.count > len(result.trades):
        print(
            f"kraken-proto trades: {len(result.trades)} of {result.count} trades shown "
            "(newest first); narrow with --since",
            file=sys.stderr,
        )
    return OK


def run(args: argparse.Namespace) -> int:
    """List the trades."""
    return guarded("trades", lambda: _trades(args))
