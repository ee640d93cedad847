"""``kraken-proto add-order``: place one order; every ``AddOrder`` field is an option.

    kraken-proto add-order --pair XBT/USD --type buy --ordertype limit --volume 0.1 \\
        --price 29000 --oflags post --cl-ord-id my-first-order

Runs through a ``Session``: if the connection drops before Kraken answers, the session
reconnects and reconciles, and the outcome printed says so; the order is never sent twice.
Exit 0 placed, 1 refused (Kraken's message) or not placed, 2 bad usage, 3 outcome unknown.
"""

from __future__ import annotations

import argparse

from kraken_proto import AddOrder

from ._common import guarded
from ._request_options import add_request_options, request_from_args
from ._session import add_session_options, run_request

__all__ = ["HELPS", "configure", "run"]

HELPS = {
    "ordertype": "limit, market, iceberg, stop-loss, take-profit, stop-loss-limit, "
    "take-profit-limit, trailing-stop, trailing-stop-limit, settle-position",
    "type": "side of the order",
    "pair": "e.g. XBT/USD",
    "volume": "order volume in the base asset (exact decimal)",
    "price": "limit or trigger price; relative forms +N, -N, #N and N%% allowed "
    "(write a leading minus as --price=-N)",
    "price2": "second price (limit of a stop-limit); +N or -N allowed (--price2=-N)",
    "leverage": "leverage for a margin order",
    "margin": "fund the order on margin",
    "reduce_only": "only reduce an open margin position",
    "oflags": "comma-separated: post, fcib, fciq, nompp, viqc",
    "starttm": "scheduled start: 0 (now), +SECONDS or a unix time",
    "expiretm": "expiry: 0 (never), +SECONDS or a unix time",
    "deadline": "RFC 3339 time after which the matching engine rejects the order",
    "userref": "your signed 32-bit reference (exclusive with --cl-ord-id; the session "
    "needs a cl_ord_id to find the order after a disconnect, so prefer --cl-ord-id)",
    "cl_ord_id": "your client order id (default: one is generated)",
    "validate": "have Kraken validate the order without placing it",
    "timeinforce": "time in force",
    "stp_type": "self-trade prevention",
    "sender_sub_id": "sub-account id",
    "close_ordertype": "conditional close order type",
    "close_price": "conditional close price",
    "close_price2": "conditional close second price",
}


def configure(parser: argparse.ArgumentParser) -> None:
    """One option per ``AddOrder`` field, plus ``--json``, ``--timeout`` and the network."""
    add_request_options(parser.add_argument_group("order"), AddOrder, helps=HELPS)
    add_session_options(parser)


def run(args: argparse.Namespace) -> int:
    """Place the order and print the outcome."""
    return guarded(
        "add-order", lambda: run_request("add-order", args, request_from_args(AddOrder, args))
    )
