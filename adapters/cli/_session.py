"""What the trading commands share: run one request through a ``Session`` and print its outcome.

The session does the work a careful trader would: it fetches a token, connects, sends the
request once, and if the connection drops before the answer it reconnects and reconciles
(snapshot, then REST) instead of guessing or sending it again. The command prints the final
outcome:

* accepted: Kraken's reply (exit 0);
* applied: the reply was lost, reconciliation found it took effect (exit 0);
* refused: Kraken's error message (exit 1);
* not applied: the reply was lost, reconciliation found it did not take effect (exit 1; safe
  to send again);
* not sent: no connection in ``--timeout`` seconds, the request was withdrawn (exit 1);
* unknown: neither could be established in ``--timeout`` seconds (exit 3; look at
  ``kraken-proto orders`` before sending it again).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Event,
    LocalProtocolError,
    Request,
    RequestAccepted,
    RequestApplied,
    SessionConfig,
    SessionFailed,
    SessionState,
)
from kraken_proto.adapters.runners._common import (
    OutcomeUnknownError,
    RequestNotAppliedError,
    RequestRefusedError,
)
from kraken_proto.adapters.runners.blocking import BlockingSession, open_session
from kraken_proto.v1 import (
    AddOrderStatus,
    AmendOrderStatus,
    CancelAllOrdersAfterStatus,
    CancelAllStatus,
    CancelOrderStatus,
    ConnectionConfig,
    EditOrderStatus,
)

from ._common import (
    OK,
    REFUSED,
    UNKNOWN,
    USAGE,
    CliError,
    add_network_options,
    credentials_from_env,
    print_json,
    protocol_option,
    reaching,
    ssl_context_for,
    url_option,
)

__all__ = ["add_session_options", "check_not_failed", "describe_outcome", "run_request"]


def add_session_options(parser: argparse.ArgumentParser) -> None:
    """``--json``, ``--timeout`` and the network options."""
    parser.add_argument("--json", action="store_true", help="print the outcome as one JSON line")
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="longest wait for the final outcome, reconnects included (default 60)",
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for Kraken's reply before reconciling (default 10)",
    )
    add_network_options(parser)


def _reply_text(reply: Event) -> str:
    if isinstance(reply, AddOrderStatus):
        return f"placed {reply.txid}: {reply.descr or ''}".rstrip(": ")
    if isinstance(reply, EditOrderStatus):
        return f"edited {reply.originaltxid} -> new order {reply.txid}: {reply.descr or ''}".rstrip(
            ": "
        )
    if isinstance(reply, AmendOrderStatus):
        return f"amended {reply.txid or reply.cl_ord_id} (amend_id {reply.amend_id})"
    if isinstance(reply, CancelOrderStatus):
        return "cancelled"
    if isinstance(reply, CancelAllStatus):
        return f"cancelled {reply.count} orders"
    if isinstance(reply, CancelAllOrdersAfterStatus):
        if reply.trigger_time in (None, "0"):
            return "dead man's switch disarmed"
        return (
            f"dead man's switch armed: every order is cancelled at {reply.trigger_time} "
            f"unless it is re-armed (server time now {reply.current_time})"
        )
    return repr(reply)


def describe_outcome(outcome: RequestAccepted | RequestApplied) -> list[str]:
    """Lines for people describing a successful outcome."""
    if isinstance(outcome, RequestApplied):
        what = f": txid {outcome.txid}" if outcome.txid else ""
        return [
            f"{outcome.request.event} took effect{what} (its reply was lost; reconciled via "
            f"{outcome.via})"
        ]
    lines = [_reply_text(reply) for reply in outcome.replies]
    return lines or [f"{outcome.request.event} accepted"]


def _open(args: argparse.Namespace) -> Any:
    rest_url = url_option(args, "rest_url")
    ws_url = url_option(args, "ws_url")
    try:
        config = SessionConfig(connection=ConnectionConfig(request_timeout=args.request_timeout))
    except LocalProtocolError as error:
        raise CliError(f"--request-timeout: {error}", USAGE) from None
    return open_session(
        credentials_from_env(),
        rest_url=rest_url,
        ws_url=ws_url,
        ssl_context=ssl_context_for(args),
        config=config,
        protocol=protocol_option(args),
    )


def run_request(name: str, args: argparse.Namespace, request: Request) -> int:
    """Send ``request`` through a session, print its final outcome, return the exit code.

    ``name`` is the command's name, for messages on stderr.
    """
    as_json: bool = args.json
    try:
        with reaching(args.ws_url), _open(args) as session:
            try:
                outcome = _call(session, request, args.timeout)
            except OutcomeUnknownError as error:
                if error.outcome is None and session.session.withdraw(error.handle, time.time()):
                    # Never sent: the session had no connection in time. Nothing happened.
                    raise CliError(
                        f"not sent: no connection to {args.ws_url} within {args.timeout:g} s "
                        "(see the session's messages above); nothing was placed or changed"
                    ) from None
                raise
    except RequestRefusedError as error:
        _failed(name, as_json, error, f"refused by Kraken: {error.error.text}")
        return REFUSED
    except RequestNotAppliedError as error:
        message = f"did not take effect (reconciled via {error.via}); safe to send again"
        _failed(name, as_json, error, message)
        return REFUSED
    except OutcomeUnknownError as error:
        why = f"no final outcome within {args.timeout:g} s" if error.outcome is None else error
        message = (
            f"OUTCOME UNKNOWN ({why}): it may or may not have happened; check "
            "`kraken-proto orders` before sending it again"
        )
        _failed(name, as_json, error, message)
        return UNKNOWN
    if as_json:
        print_json(outcome)
    else:
        for line in describe_outcome(outcome):
            print(line)
    return OK


def check_not_failed(session: BlockingSession) -> None:
    """Raise ``CliError`` (exit 1) with the reason when the session failed for good (a bad
    key, signature or permission: Kraken's message is in the reason)."""
    if session.state is not SessionState.FAILED:
        return
    reasons = [e.reason for e in session.events(timeout=0) if isinstance(e, SessionFailed)]
    raise CliError(f"the session failed: {reasons[0] if reasons else 'permanent error'}")


def _call(session: BlockingSession, request: Request, timeout: float) -> Any:
    check_not_failed(session)
    if isinstance(request, AddOrder):
        return session.add_order(request, timeout=timeout)
    if isinstance(request, EditOrder):
        return session.edit_order(request, timeout=timeout)
    if isinstance(request, AmendOrder):
        return session.amend_order(request, timeout=timeout)
    if isinstance(request, CancelOrder):
        return session.cancel_order(request, timeout=timeout)
    if isinstance(request, CancelAll):
        return session.cancel_all(timeout=timeout)
    if isinstance(request, CancelAllOrdersAfter):
        return session.cancel_all_orders_after(request.timeout, timeout=timeout)
    raise CliError(f"{request.event}: not a trading request")  # pragma: no cover


def _failed(name: str, as_json: bool, error: Exception, message: str) -> None:
    outcome = getattr(error, "outcome", None)
    if as_json and outcome is not None:
        print_json(outcome)
    print(f"kraken-proto {name}: {message}", file=sys.stderr, flush=True)
