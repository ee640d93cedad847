"""``kraken-proto simulator-ctl``: drive a running ``kraken-proto simulator`` from a shell.

Each subcommand is one request to the server's control API (``/_sim/...``, see ``_control``)
and prints the server's JSON answer on stdout::

    kraken-proto simulator-ctl --url http://127.0.0.1:8080 price XBT/USD 29000
    export KRAKEN_SIMULATOR_URL=http://127.0.0.1:8080
    kraken-proto simulator-ctl status maintenance
    kraken-proto simulator-ctl fault skip-sequence=1 --session 2
    kraken-proto simulator-ctl fault close-after=0 --scope current   # drop today's connections
    kraken-proto simulator-ctl book

Finding the server: ``--url``, else ``$KRAKEN_SIMULATOR_URL``. Either may be the ``rest_url``
(or ``ws_url``) from the simulator's first stdout line, or that whole JSON line (its
``ca_file`` is then used for TLS too). Only loopback hosts are accepted, as the server serves
only loopback clients. Exit codes: 0 done, 1 the server refused or could not be reached,
2 a usage error.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import ssl
import sys
from typing import Any
from urllib.parse import urlsplit

from ._control import CONTROL_PREFIX, is_loopback
from ._faultspec import FaultSpecError, parse_fault

__all__ = ["URL_VARIABLE", "configure", "run"]

URL_VARIABLE = "KRAKEN_SIMULATOR_URL"
CA_VARIABLE = "KRAKEN_SIMULATOR_CA_FILE"
_ENVIRONMENT = f"""environment:
  {URL_VARIABLE:<24} the simulator's URL when --url is not given
  {CA_VARIABLE:<24} the CA file when --ca-file is not given"""
_FAULT_SCOPES = """Inject one fault. A session fault needs its scope, said explicitly:

  --session ID      one open session (ids from `simulator-ctl sessions`)
  --scope current   every session open now; a client that reconnects gets a clean
                    session (e.g. close-after=0 drops today's connections once)
  --scope all       every open session and every later one, until
                    `fault clear --scope all` (close-after=0 then drops every
                    reconnect too, so a client stays cut off)

The rest=... fault is the exchange's (every token request) and takes no scope."""
_STATUSES = ("online", "maintenance", "cancel_only", "post_only")
_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


class _Failure(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the subcommand's options on ``parser``."""
    parser.add_argument(
        "--url",
        help=f"the simulator's rest_url, or its whole JSON announcement line (default: "
        f"${URL_VARIABLE})",
    )
    parser.add_argument(
        "--ca-file", help=f"CA to verify a --tls simulator with (default: ${CA_VARIABLE})"
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for the answer"
    )
    parser.epilog = _ENVIRONMENT
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    price = commands.add_parser("price", help="move a pair's reference (market) price")
    price.add_argument("pair", help="e.g. XBT/USD")
    price.add_argument("price", help="a decimal, e.g. 29000")
    status = commands.add_parser("status", help="set the engine status (broadcast)")
    status.add_argument("status", choices=_STATUSES)
    fault = commands.add_parser(
        "fault",
        help="inject a fault (the --fault language)",
        description=_FAULT_SCOPES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fault.add_argument(
        "fault",
        metavar="NAME[=VALUE]",
        help="skip-sequence=N, repeat-sequence=N, drop-replies=N, reply-delay=SECONDS, "
        "malformed=N, close-after=N, drop-after-request=N, no-heartbeats, heartbeats, clear, "
        "rest=http_500|non_json|off",
    )
    which = fault.add_mutually_exclusive_group()
    which.add_argument(
        "--session", type=int, metavar="ID", help="only this open session (see `sessions`)"
    )
    which.add_argument(
        "--scope",
        choices=("current", "all"),
        help="current: every session open now; all: those and every later one",
    )
    commands.add_parser("invalidate-tokens", help="make every issued token invalid")
    commands.add_parser("book", help="print the open orders and balances as JSON")
    commands.add_parser("trades", help="print every trade as JSON")
    commands.add_parser("sessions", help="print the ids of the open WebSocket sessions")


def _endpoint(args: argparse.Namespace) -> tuple[str, str, int | None, str | None]:
    """(scheme, host, port, ca_file) of the server, from ``--url`` or the environment."""
    value = args.url if args.url is not None else os.environ.get(URL_VARIABLE)
    ca_file = args.ca_file if args.ca_file is not None else os.environ.get(CA_VARIABLE)
    if not value:
        raise _Failure(
            f"where is the simulator? Pass --url REST_URL or set ${URL_VARIABLE} "
            "(the rest_url from the simulator's first stdout line)",
            2,
        )
    if value.lstrip().startswith("{"):
        try:
            announcement = json.loads(value)
            value = announcement["rest_url"]
        except (ValueError, KeyError, TypeError):
            raise _Failure("the URL looks like JSON but has no rest_url", 2) from None
        if ca_file is None and isinstance(announcement.get("ca_file"), str):
            ca_file = announcement["ca_file"]
    parts = urlsplit(str(value))
    scheme = _SCHEMES.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:  # a port that is not a number
        scheme, port = None, None
    if scheme is None or not parts.hostname:
        raise _Failure(f"not a simulator URL: {value!r} (expected http://127.0.0.1:PORT)", 2)
    if parts.hostname != "localhost" and not is_loopback(parts.hostname):
        raise _Failure(f"the simulator is loopback only; {parts.hostname!r} is not", 2)
    return scheme, parts.hostname, port, ca_file


def _request(args: argparse.Namespace) -> tuple[str, str, dict[str, Any] | None]:
    """(method, path, JSON body) for the chosen subcommand."""
    command: str = args.command
    path = CONTROL_PREFIX + command
    if command == "price":
        return "POST", path, {"pair": args.pair, "price": args.price}
    if command == "status":
        return "POST", path, {"status": args.status}
    if command == "fault":
        try:
            change = parse_fault(args.fault)
        except FaultSpecError as error:
            raise _Failure(str(error), 2) from None
        if not change.rest and args.session is None and args.scope is None:
            raise _Failure(
                "say which sessions the fault is for: --session ID, --scope current (the "
                "sessions open now) or --scope all (those and every later one, until "
                "`fault clear --scope all`)",
                2,
            )
        body: dict[str, Any] = {"fault": args.fault}
        if args.session is not None:
            body["session"] = args.session
        if args.scope is not None:
            body["scope"] = args.scope
        return "POST", path, body
    if command == "invalidate-tokens":
        return "POST", path, {}
    return "GET", path, None


def _call(args: argparse.Namespace) -> object:
    scheme, host, port, ca_file = _endpoint(args)
    method, path, body = _request(args)
    connection: http.client.HTTPConnection
    if scheme == "https":
        context = ssl.create_default_context(cafile=ca_file)
        connection = http.client.HTTPSConnection(host, port, timeout=args.timeout, context=context)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=args.timeout)
    where = f"{scheme}://{host}:{port}"
    data = None if body is None else json.dumps(body).encode()
    headers = {} if data is None else {"Content-Type": "application/json"}
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        status, reply = response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise _Failure(f"cannot reach the simulator at {where}: {exc}", 1) from None
    finally:
        connection.close()
    try:
        document = json.loads(reply)
    except ValueError:
        document = None
    if not isinstance(document, dict) or ("result" not in document and "error" not in document):
        raise _Failure(f"{where} answered HTTP {status} without the control API's JSON", 1)
    if status != 200 or "error" in document:
        raise _Failure(f"the simulator refused: {document.get('error')} (HTTP {status})", 1)
    return document["result"]


def run(args: argparse.Namespace) -> int:
    """Send one control request; print its result as JSON. Returns 0, 1 or 2 (see module)."""
    try:
        result = _call(args)
    except _Failure as failure:
        print(f"kraken-proto simulator-ctl: {failure.message}", file=sys.stderr)
        return failure.code
    try:
        print(json.dumps(result, indent=2, sort_keys=True), flush=True)
    except BrokenPipeError:  # the reader left early (``| head``): the request was still done
        # Point stdout at devnull so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
