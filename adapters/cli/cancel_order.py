"""``kraken-proto cancel-order [--order-id ID]... [--userref N]... [--cl-ord-id ID]...``.

Cancels orders: give at least one order id (txid), userref or cl_ord_id, each repeatable.
``--order-id`` names an order the same way in every command. Exit codes as for ``add-order``.
"""

from __future__ import annotations

import argparse

from kraken_proto import CancelOrder

from ._common import guarded
from ._session import add_session_options, run_request

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """``--order-id``, ``--userref``, ``--cl-ord-id``, plus ``--json``, the timeouts and the
    network options."""
    parser.add_argument(
        "--order-id",
        action="append",
        default=[],
        metavar="ID",
        help="cancel the order with this id (txid)",
    )
    parser.add_argument(
        "--userref", type=int, action="append", default=[], help="cancel orders with this userref"
    )
    parser.add_argument(
        "--cl-ord-id", action="append", default=[], help="cancel the order with this cl_ord_id"
    )
    add_session_options(parser)


def run(args: argparse.Namespace) -> int:
    """Cancel the orders and print the outcome."""

    def cancel() -> int:
        request = CancelOrder(
            txid=tuple(args.order_id),
            userref=tuple(args.userref),
            cl_ord_id=tuple(args.cl_ord_id),
        )
        return run_request("cancel-order", args, request)

    return guarded("cancel-order", cancel)
