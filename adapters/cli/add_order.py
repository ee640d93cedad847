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
from kraken_proto.v1._requests import CLOSE_ORDER_TYPES, ORDER_TYPES
from kraken_proto.v2 import ORDER_TYPES as V2_ORDER_TYPES

from ._common import guarded
from ._request_options import add_request_options, request_from_args
from ._session import add_session_options, run_request

__all__ = ["CHOICES", "HELPS", "configure", "run"]

# The order types AddOrder accepts (iceberg is v2-only: the v1 addOrder the session sends,
# translated for v2, has no display volume, so it is not offered). A few are v1's alone.
CHOICES = {"ordertype": ORDER_TYPES, "close_ordertype": CLOSE_ORDER_TYPES}
_V1_ONLY = sorted(ORDER_TYPES - V2_ORDER_TYPES)

HELPS = {
    "ordertype": "the order type" + (f" ({', '.join(_V1_ONLY)}: v1 only)" if _V1_ONLY else ""),
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
    "cl_ord_id": "your client order id (default: one is generated and shown if the outcome "
    "stays unknown, so the order can be looked up)",
    "validate": "have Kraken validate the order without placing it",
    "timeinforce": "time in force",
    "stp_type": "self-trade prevention",
    "sender_sub_id": "sub-account id",
    "close_ordertype": "the conditional close's order type",
    "close_price": "conditional close price",
    "close_price2": "conditional close second price",
}


def configure(parser: argparse.ArgumentParser) -> None:
    """One option per ``AddOrder`` field, plus ``--json``, ``--timeout`` and the network."""
    add_request_options(parser.add_argument_group("order"), AddOrder, helps=HELPS, choices=CHOICES)
    add_session_options(parser)


def run(args: argparse.Namespace) -> int:
    """Place the order and print the outcome."""
    return guarded(
        "add-order", lambda: run_request("add-order", args, request_from_args(AddOrder, args))
    )
