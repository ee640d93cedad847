"""One signed REST call for the ``kraken-proto`` commands: nonce, sign, POST, status + body.

The commands are one-shot processes, but a process may make several calls: nonces come from
the adapters' process-wide source, so they strictly increase per API key as Kraken requires.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from kraken_proto.adapters.transport.rest_call import call_rest_blocking
from kraken_proto.adapters.transport.tokens import _nonce_lock, _process_nonces
from kraken_proto.rest import RestRequest

from ._common import reaching, ssl_context_for, url_option

__all__ = ["next_nonce", "rest_call"]


def next_nonce() -> int:
    """The next nonce of the process-wide source (the one the token calls use)."""
    with _nonce_lock:
        return _process_nonces.next(time.time())


def rest_call(args: argparse.Namespace, build: Callable[[int], RestRequest]) -> tuple[int, bytes]:
    """Sign ``build(nonce)`` and POST it to ``--rest-url``; return the HTTP status and body.

    A network failure becomes ``CliError("cannot talk to URL: ...")`` (exit 1).
    """
    rest_url = url_option(args, "rest_url")
    context = ssl_context_for(args)
    request = build(next_nonce())
    with reaching(rest_url):
        response = call_rest_blocking(request, rest_url=rest_url, ssl_context=context)
    return response.status, response.body
