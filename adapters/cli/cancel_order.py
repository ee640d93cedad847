"""``kraken-proto cancel-order TXID... [--userref N]... [--cl-ord-id ID]...``: cancel orders.

Give at least one txid, userref or cl_ord_id (each repeatable). Exit codes as for
``add-order``.
"""

from __future__ import annotations

import argparse

from kraken_proto import CancelOrder

from ._common import guarded
from ._session import add_session_options, run_request

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """``TXID...``, ``--userref``, ``--cl-ord-id``, plus ``--json``, ``--timeout``, network."""
    parser.add_argument("txid", nargs="*", metavar="TXID", help="txids of the orders to cancel")
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
            txid=tuple(args.txid), userref=tuple(args.userref), cl_ord_id=tuple(args.cl_ord_id)
        )
        return run_request("cancel-order", args, request)

    return guarded("cancel-order", cancel)
