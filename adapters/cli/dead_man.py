"""``kraken-proto dead-man SECONDS``: arm Kraken's dead man's switch (``0`` disarms it).

Kraken cancels every open order SECONDS from now unless the switch is re-armed (run the
command again) or disarmed (``dead-man 0``) first. The timer lives at Kraken, so it keeps
running after this command exits: that is the point. Exit codes as for ``add-order``.
"""

from __future__ import annotations

import argparse

from kraken_proto import CancelAllOrdersAfter

from ._common import guarded
from ._session import add_session_options, run_request

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """``SECONDS``, ``--json``, ``--timeout`` and the network options."""
    parser.add_argument(
        "seconds", type=int, metavar="SECONDS", help="cancel everything after this long (0: off)"
    )
    add_session_options(parser)


def run(args: argparse.Namespace) -> int:
    """Arm or disarm the switch and print the outcome."""
    return guarded(
        "dead-man",
        lambda: run_request("dead-man", args, CancelAllOrdersAfter(timeout=args.seconds)),
    )
