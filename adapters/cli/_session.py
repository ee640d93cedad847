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
* not sent: no connection within ``--connect-timeout`` seconds (default 10), or in
  ``--timeout`` seconds, the request was withdrawn (exit 1; the message says why);
* unknown: neither could be established in ``--timeout`` seconds, or Ctrl-C stopped the
  command after the request went out (exit 3; the message says how to look it up, e.g.
  ``kraken-proto orders --cl-ord-id ID``, before sending it again).

An ``add-order`` without ``--cl-ord-id`` (or ``--userref``) gets a generated one, printed
with any outcome that is not final, so the order can always be found.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import uuid
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
    Reconnecting,
    Request,
    RequestAccepted,
    RequestApplied,
    SessionConfig,
    SessionFailed,
    SessionState,
    replace_request,
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

__all__ = [
    "add_session_options",
    "check_not_failed",
    "describe_outcome",
    "lookup_hint",
    "run_request",
    "wait_until_connected",
]

_CONNECTED = (SessionState.SYNCING, SessionState.LIVE)
# The runner's own per-attempt limits (BlockingSession's connect_timeout and http_timeout).
_ATTEMPT_LIMIT = 10.0


def add_session_options(parser: argparse.ArgumentParser) -> None:
    """``--json``, ``--timeout``, ``--connect-timeout``, ``--request-timeout`` and the network
    options."""
    parser.add_argument("--json", action="store_true", help="print the outcome as one JSON line")
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="longest wait for the final outcome, reconnects included (default 60)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="give up, sending nothing, when no connection (token and WebSocket) is up within "
        "this long; also caps each connection attempt and REST call (default 10)",
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


def _open(args: argparse.Namespace, rest_url: str, ws_url: str) -> Any:
    try:
        config = SessionConfig(connection=ConnectionConfig(request_timeout=args.request_timeout))
    except LocalProtocolError as error:
        raise CliError(f"--request-timeout: {error}", USAGE) from None
    budget = _connect_budget(args)
    return open_session(
        credentials_from_env(),
        rest_url=rest_url,
        ws_url=ws_url,
        ssl_context=ssl_context_for(args),
        config=config,
        protocol=protocol_option(args, ws_url),
        # One attempt may not outlast the whole budget (a host that drops packets would hold
        # the first attempt for the runner's full 10 s).
        connect_timeout=max(1.0, min(_ATTEMPT_LIMIT, budget)),
        http_timeout=max(1.0, min(_ATTEMPT_LIMIT, budget)),
    )


def _connect_budget(args: argparse.Namespace) -> float:
    """Seconds to wait for a connection: ``--connect-timeout``, at most ``--timeout``."""
    budget: float = args.connect_timeout
    if not budget > 0:
        raise CliError("--connect-timeout must be a number of seconds > 0", USAGE)
    timeout: float = args.timeout
    return min(budget, timeout)


def wait_until_connected(session: BlockingSession, budget: float, where: str) -> None:
    """Run ``session`` until it is connected (SYNCING or LIVE); raise ``CliError`` (exit 1,
    nothing sent) when ``budget`` seconds pass first, with the last reason an attempt failed,
    or when the session fails for good (a bad key: Kraken's message)."""
    deadline = time.monotonic() + budget
    reason = ""
    while session.state not in _CONNECTED:
        check_not_failed(session)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            # The reason names the URL that failed (the REST one, for the token).
            what = f"(last attempt: {reason})" if reason else f"to {where}"
            raise CliError(
                f"not sent: no connection within {budget:g} s {what}; nothing was placed or "
                "changed (--connect-timeout sets how long to try)"
            )
        for event in session.events(timeout=min(remaining, 0.5)):
            if isinstance(event, Reconnecting):
                reason = event.reason
            elif isinstance(event, SessionFailed):
                detail = event.reason + (f": {event.error}" if event.error else "")
                raise CliError(f"the session failed: {detail}")


def lookup_hint(request: Request) -> str:
    """How to find out what became of ``request`` (``kraken-proto orders`` filtered by its
    client order id when it has one), for messages about an unknown outcome."""
    cl_ord_id = getattr(request, "cl_ord_id", None)
    if isinstance(cl_ord_id, str):
        return (
            f"its cl_ord_id is {cl_ord_id}: look it up with `kraken-proto orders --cl-ord-id "
            f"{cl_ord_id}` (and `--closed`), or REST QueryOrders/ClosedOrders with that "
            "cl_ord_id, before sending it again"
        )
    if isinstance(request, CancelAllOrdersAfter):
        return "run it again to be sure: arming or disarming twice does no harm"
    return "check `kraken-proto orders` (and `--closed`) before sending it again"


def _with_cl_ord_id(request: Request) -> Request:
    """An ``AddOrder`` as it will be sent: with a client order id (generated when it has
    neither one nor a ``userref``), so an unknown outcome can name what to look up."""
    if isinstance(request, AddOrder) and request.cl_ord_id is None and request.userref is None:
        return replace_request(request, cl_ord_id=str(uuid.uuid4()))
    return request


@dataclasses.dataclass
class _Progress:
    """How far ``run_request`` got, for when Ctrl-C stops it."""

    submitted: bool = False
    outcome: Any = None


def run_request(name: str, args: argparse.Namespace, request: Request) -> int:
    """Send ``request`` through a session, print its final outcome, return the exit code.

    ``name`` is the command's name, for messages on stderr. Ctrl-C before the request was
    handed to the session propagates (nothing was sent: the dispatcher exits 130); after, it
    ends the command with exit 3 and how to look the request up.
    """
    as_json: bool = args.json
    request = _with_cl_ord_id(request)
    progress = _Progress()
    try:
        outcome = _send(args, request, progress)
    except KeyboardInterrupt:
        if progress.outcome is None:
            if not progress.submitted:
                raise
            print(
                f"kraken-proto {name}: OUTCOME UNKNOWN (interrupted before Kraken's answer): "
                f"it may or may not have happened; {lookup_hint(request)}",
                file=sys.stderr,
                flush=True,
            )
            return UNKNOWN
        outcome = progress.outcome  # the answer came; Ctrl-C only cut the goodbye short
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
            f"OUTCOME UNKNOWN ({why}): it may or may not have happened; {lookup_hint(request)}"
        )
        _failed(name, as_json, error, message)
        return UNKNOWN
    if as_json:
        print_json(outcome)
    else:
        for line in describe_outcome(outcome):
            print(line)
    return OK


def _send(args: argparse.Namespace, request: Request, progress: _Progress) -> Any:
    """Open the session, wait for a connection, send ``request`` and return its outcome."""
    rest_url = url_option(args, "rest_url")
    ws_url = url_option(args, "ws_url")
    with reaching(ws_url), _open(args, rest_url, ws_url) as session:
        wait_until_connected(session, _connect_budget(args), ws_url)
        progress.submitted = True  # from here on the request may be on its way
        try:
            progress.outcome = _call(session, request, args.timeout)
        except OutcomeUnknownError as error:
            if error.outcome is None and session.session.withdraw(error.handle, time.monotonic()):
                # Never sent: the connection went away before it could go out. Nothing happened.
                raise CliError(
                    f"not sent: no connection to {ws_url} within {args.timeout:g} s "
                    "(see the session's messages above); nothing was placed or changed"
                ) from None
            raise
    return progress.outcome


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
