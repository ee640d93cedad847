"""``kraken-proto token``: fetch a WebSocket session token with a signed REST call and print it.

The token goes to stdout alone (``--json``: ``{"token": ..., "expires": ...}``), so a script can
capture it; Kraken's warnings go to stderr. Credentials come from ``KRAKEN_API_KEY`` and
``KRAKEN_API_SECRET``. Exit 0 printed, 1 Kraken refused (its message on stderr) or the exchange
could not be reached, 2 bad usage or missing credentials.
"""

from __future__ import annotations

import argparse
import json
import sys

from kraken_proto.adapters.clients.blocking_client import fetch_token

from ._common import (
    OK,
    add_network_options,
    credentials_from_env,
    guarded,
    reaching,
    ssl_context_for,
    url_option,
)

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``--json`` and the network options."""
    parser.add_argument("--json", action="store_true", help="print a JSON object, not the token")
    add_network_options(parser, websocket=False)


def _token(args: argparse.Namespace) -> int:
    rest_url = url_option(args, "rest_url")
    context = ssl_context_for(args)
    credentials = credentials_from_env()
    with reaching(rest_url):
        token = fetch_token(credentials, rest_url=rest_url, ssl_context=context)
    for warning in token.warnings:
        print(f"kraken-proto token: Kraken warns: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps({"token": token.token, "expires": token.expires}))
    else:
        print(token.token)
    return OK


def run(args: argparse.Namespace) -> int:
    """Fetch and print a token."""
    return guarded("token", lambda: _token(args))
