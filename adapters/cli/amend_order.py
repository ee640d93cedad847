"""``kraken-proto amend-order``: change an order in place (it keeps its txid and priority).

    kraken-proto amend-order --order-id OABCDE-FGHIJ-KLMNOP --limit-price 29050 --volume 0.2

Every ``AmendOrder`` field is an option; its ``txid`` is ``--order-id``, as in every command.
Exit codes as for ``add-order``.
"""

from __future__ import annotations

import argparse

from kraken_proto import AmendOrder

from ._common import guarded
from ._request_options import add_request_options, request_from_args
from ._session import add_session_options, run_request

__all__ = ["NAMES", "configure", "run"]

NAMES = {"txid": "order_id"}
HELPS = {
    "txid": "the order's id (txid; or give --cl-ord-id)",
    "cl_ord_id": "client order id of the order (or give --order-id)",
    "volume": "new total volume",
    "display_volume": "new visible volume of an iceberg order",
    "limit_price": "new limit price; relative forms allowed",
    "trigger_price": "new trigger price; relative forms allowed",
    "post_only": "refuse the amend if the new price would take liquidity",
    "pair": "the order's pair (needed for some relative prices)",
    "deadline": "RFC 3339 time after which the amend is rejected",
}


def configure(parser: argparse.ArgumentParser) -> None:
    """One option per ``AmendOrder`` field, plus ``--json``, ``--timeout`` and the network."""
    add_request_options(parser.add_argument_group("amend"), AmendOrder, helps=HELPS, names=NAMES)
    add_session_options(parser)


def run(args: argparse.Namespace) -> int:
    """Amend the order and print the outcome."""
    return guarded(
        "amend-order",
        lambda: run_request("amend-order", args, request_from_args(AmendOrder, args, names=NAMES)),
    )
