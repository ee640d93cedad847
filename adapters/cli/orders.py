"""``kraken-proto orders [--closed] [--json]``: the account's open (or closed) orders, via REST.

Open orders come from ``OpenOrders``, closed ones from ``ClosedOrders`` (newest first, one
page of up to 50; the total is reported on stderr). Prints a table, or with ``--json`` one
JSON object per order (``"txid"`` first, Decimals as exact strings). Credentials from
``KRAKEN_API_KEY``/``KRAKEN_API_SECRET``. Exit 0 listed, 1 Kraken refused (its message on
stderr) or unreachable, 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping

from kraken_proto.rest import (
    RestOrder,
    build_closed_orders_request,
    build_open_orders_request,
    parse_closed_orders_response,
    parse_open_orders_response,
)

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

__all__ = ["configure", "print_orders", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``--closed``, ``--json``, the filters and the network options."""
    parser.add_argument("--closed", action="store_true", help="closed orders instead of open ones")
    parser.add_argument("--json", action="store_true", help="one JSON object per order")
    parser.add_argument("--userref", type=int, default=None, help="only orders with this userref")
    parser.add_argument("--cl-ord-id", default=None, help="only the order with this cl_ord_id")
    parser.add_argument(
        "--since",
        default=None,
        metavar="TIME",
        help="with --closed: closed after TIME (unix seconds, ISO time, 30m/2h/7d, or a txid)",
    )
    parser.add_argument("--trades", action="store_true", help="include each order's trade ids")
    add_network_options(parser, websocket=False)


def print_orders(orders: Mapping[str, RestOrder], *, as_json: bool, closed: bool) -> None:
    """Print ``orders`` as a table or JSON lines."""
    if as_json:
        for txid, order in orders.items():
            print_json({"txid": txid, **jsonable(order)})
        return
    headers = ["TXID", "STATUS", "SIDE", "TYPE", "VOLUME", "EXECUTED", "PAIR", "PRICE"]
    headers += ["AVG PRICE", "CLOSED", "REASON"] if closed else ["OPENED"]
    rows: list[list[object]] = []
    for txid, order in orders.items():
        descr = order.descr
        row: list[object] = [
            txid,
            order.status,
            descr.type,
            descr.ordertype,
            order.vol,
            order.vol_exec,
            descr.pair,
            descr.price,
        ]
        if closed:
            row += [order.price, unix_time_text(order.closetm), order.reason]
        else:
            row.append(unix_time_text(order.opentm))
        rows.append(row)
    if rows:
        print_table(headers, rows)
    else:
        print("no closed orders" if closed else "no open orders")


def _orders(args: argparse.Namespace) -> int:
    credentials = credentials_from_env()
    if args.closed:
        start = None if args.since is None else since_option(args.since, time.time())
        status, body = rest_call(
            args,
            lambda nonce: build_closed_orders_request(
                credentials,
                nonce=nonce,
                trades=args.trades,
                userref=args.userref,
                cl_ord_id=args.cl_ord_id,
                start=start,
            ),
        )
        closed = parse_closed_orders_response(status, body)
        print_orders(closed.closed, as_json=args.json, closed=True)
        if closed.count > len(closed.closed):
            print(
                f"kraken-proto orders: {len(closed.closed)} of {closed.count} closed orders "
                "shown (newest first); narrow with --since",
                file=sys.stderr,
            )
        return OK
    status, body = rest_call(
        args,
        lambda nonce: build_open_orders_request(
            credentials,
            nonce=nonce,
            trades=args.trades,
            userref=args.userref,
            cl_ord_id=args.cl_ord_id,
        ),
    )
    print_orders(parse_open_orders_response(status, body).open, as_json=args.json, closed=False)
    return OK


def run(args: argparse.Namespace) -> int:
    """List the orders."""
    return guarded("orders", lambda: _orders(args))
