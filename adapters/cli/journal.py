"""``kraken-proto journal PATH [--json] [--limit N]``: what a session journal holds.

Reads the SQLite journal at PATH read-only and without its lock, so it works while the
session that owns it runs. Prints the marks (next handle, nonce high-water mark, fill cursor,
subscriptions), the open intents (requests that may have reached Kraken with no outcome
recorded), the latest outcomes and the latest fills (acknowledged or not). ``--json`` prints
one JSON object instead (Decimals as exact strings). ``--limit N``: at most N outcomes and
N fills (default 20; 0 for all). No credentials needed; the journal holds none.

Exit 0 shown, 1 the file is damaged or of another format, 2 no journal at PATH.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Sequence
from typing import Any, TypeVar

from kraken_proto.adapters.journal import (
    JournalCorruptError,
    JournalError,
    JournalVersionError,
    read_journal,
)
from kraken_proto.session._journal import JournalState
from kraken_proto.v1 import AddOrder, Request

from ._common import OK, REFUSED, USAGE, CliError, guarded, jsonable, print_json, print_table

__all__ = ["configure", "journal_document", "print_journal", "run"]

_T = TypeVar("_T")


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare PATH, ``--json`` and ``--limit``."""
    parser.add_argument("path", metavar="PATH", help="the session's journal file")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument(
        "--limit",
        type=int,
        default=20,
        metavar="N",
        help="show the latest N outcomes and fills (default 20; 0: all)",
    )


def _latest(items: Sequence[_T], limit: int) -> Sequence[_T]:
    return items if limit <= 0 else items[-limit:]


def _time(at: float) -> str:
    moment = datetime.datetime.fromtimestamp(at, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _request_name(request: Request) -> str:
    return str(getattr(type(request), "event", type(request).__name__))


def journal_document(path: str, state: JournalState, limit: int) -> dict[str, Any]:
    """The ``--json`` object for ``state`` (read from ``path``)."""
    cursor = state.cursor
    outcomes = _latest(list(state.outcomes.values()), limit)
    fills = _latest(list(state.fills.values()), limit)
    return {
        "journal": path,
        "next_handle": state.next_handle,
        "nonce_high_water": state.nonce_high_water,
        "cursor": None if cursor is None else jsonable(cursor),
        "subscriptions": [jsonable(request) for request in state.subscriptions.values()],
        "open_intents": [
            {
                "handle": intent.handle,
                "at": intent.at,
                "cl_ord_id": intent.cl_ord_id,
                "request": jsonable(intent.request),
                "open_at_send": list(intent.open_at_send),
            }
            for intent in state.open_intents.values()
        ],
        "outcomes_total": len(state.outcomes),
        "outcomes": [
            {
                **jsonable(outcome),
                "request": (
                    None
                    if outcome.handle not in state.intents
                    else _request_name(state.intents[outcome.handle].request)
                ),
            }
            for outcome in outcomes
        ],
        "fills_total": len(state.fills),
        "fills": [
            {
                "trade_id": fill.trade_id,
                "at": fill.at,
                "source": fill.source,
                "acknowledged": fill.trade_id in state.acked,
                "trade": jsonable(fill.trade),
            }
            for fill in fills
        ],
        "unacknowledged": list(state.unacked),
    }


def print_journal(path: str, state: JournalState, limit: int) -> None:
    """The text view of ``state``: marks, then open intents, outcomes and fills as tables."""
    out = sys.stdout
    subscriptions = ", ".join(state.subscriptions) or "none"
    out.write(f"journal {path}\n")
    out.write(
        f"next handle {state.next_handle}, nonce high-water {state.nonce_high_water}, "
        f"subscriptions: {subscriptions}\n"
    )
    cursor = state.cursor
    if cursor is None:
        out.write("fill cursor: none\n")
    else:
        out.write(f"fill cursor: {cursor.trade_id} at {cursor.time:f}\n")

    open_intents = state.open_intents
    out.write(f"\nopen intents ({len(open_intents)}): may have reached Kraken, no outcome yet\n")
    if open_intents:
        print_table(
            ["HANDLE", "RECORDED", "REQUEST", "PAIR", "SIDE", "VOLUME", "CL_ORD_ID"],
            [
                [
                    intent.handle,
                    _time(intent.at),
                    _request_name(intent.request),
                    getattr(intent.request, "pair", None),
                    intent.request.type if isinstance(intent.request, AddOrder) else None,
                    getattr(intent.request, "volume", None),
                    intent.cl_ord_id,
                ]
                for intent in open_intents.values()
            ],
        )

    outcomes = _latest(list(state.outcomes.values()), limit)
    out.write(f"\noutcomes (latest {len(outcomes)} of {len(state.outcomes)})\n")
    if outcomes:
        print_table(
            ["HANDLE", "RECORDED", "REQUEST", "RESULT", "TXID", "DETAIL"],
            [
                [
                    outcome.handle,
                    _time(outcome.at),
                    (
                        _request_name(state.intents[outcome.handle].request)
                        if outcome.handle in state.intents
                        else None
                    ),
                    outcome.result,
                    outcome.txid,
                    outcome.error or outcome.detail,
                ]
                for outcome in outcomes
            ],
        )

    fills = _latest(list(state.fills.values()), limit)
    unacked = len(state.unacked)
    out.write(f"\nfills (latest {len(fills)} of {len(state.fills)}; {unacked} not acknowledged)\n")
    if fills:
        print_table(
            ["TRADE ID", "TIME", "PAIR", "SIDE", "VOLUME", "PRICE", "SOURCE", "ACKED"],
            [
                [
                    fill.trade_id,
                    fill.trade.time,
                    fill.trade.pair,
                    fill.trade.type,
                    fill.trade.vol,
                    fill.trade.price,
                    fill.source,
                    "yes" if fill.trade_id in state.acked else "no",
                ]
                for fill in fills
            ],
        )
    out.flush()


def _show(args: argparse.Namespace) -> int:
    path: str = args.path
    try:
        state = read_journal(path)
    except (JournalCorruptError, JournalVersionError) as error:
        raise CliError(str(error), REFUSED) from None
    except JournalError as error:
        raise CliError(str(error), USAGE) from None
    if args.json:
        print_json(journal_document(path, state, args.limit))
    else:
        print_journal(path, state, args.limit)
    return OK


def run(args: argparse.Namespace) -> int:
    """Show the journal at PATH."""
    return guarded("journal", lambda: _show(args))
