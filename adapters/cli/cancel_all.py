"""``kraken-proto cancel-all``: cancel every open order of the account.

Prints how many orders Kraken cancelled. Exit codes as for ``add-order``.
"""

from __future__ import annotations

import argparse

from kraken_proto import CancelAll

from ._common import guarded
from ._session import add_session_options, run_request

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """``--json``, ``--timeout`` and the network options."""
    add_session_options(parser)


def run(args: argparse.Namespace) -> int:
    """Cancel all orders and print the outcome."""
    return guarded("cancel-all", lambda: run_request("cancel-all", args, CancelAll()))
