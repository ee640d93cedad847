"""``kraken-proto edit-order``: replace an order with a new one (Kraken gives it a new txid).

    kraken-proto edit-order --order-id OABCDE-FGHIJ-KLMNOP --pair XBT/USD --price 29100

Every ``EditOrder`` field is an option; its ``orderid`` is ``--order-id``, as in every command.
Exit codes as for ``add-order``.
"""

from __future__ import annotations

import argparse

from kraken_proto import EditOrder

from ._common import guarded
from ._request_options import add_request_options, request_from_args
from ._session import add_session_options, run_request

__all__ = ["NAMES", "configure", "run"]

NAMES = {"orderid": "order_id"}
HELPS = {
    "orderid": "the id (txid) of the order to replace, or its userref",
    "pair": "the order's pair, e.g. XBT/USD",
    "price": "new price",
    "price2": "new second price",
    "volume": "new volume",
    "oflags": "new comma-separated order flags",
    "newuserref": "userref of the replacement order",
    "validate": "have Kraken validate the edit without applying it",
}


def configure(parser: argparse.ArgumentParser) -> None:
    """One option per ``EditOrder`` field, plus ``--json``, ``--timeout`` and the network."""
    add_request_options(parser.add_argument_group("edit"), EditOrder, helps=HELPS, names=NAMES)
    add_session_options(parser)


def run(args: argparse.Namespace) -> int:
    """Edit the order and print the outcome."""
    return guarded(
        "edit-order",
        lambda: run_request("edit-order", args, request_from_args(EditOrder, args, names=NAMES)),
    )
