"""``kraken-proto sign``: print the ``API-Sign`` value for a request (debugs "invalid signature").

The secret comes only from ``KRAKEN_API_SECRET``, never from an argument, so it stays out of
shell history and process listings; it is never printed, not even in error messages.
Exit codes: 0 printed, 2 missing variable, bad secret or bad argument.
"""

from __future__ import annotations

import argparse
import os
import sys

from kraken_proto import LocalProtocolError
from kraken_proto.rest import sign
from kraken_proto.rest._signing import API_SECRET_ENV

from ._common import describe_environment

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``--path``, ``--nonce`` and ``--data``; name ``KRAKEN_API_SECRET`` in ``--help``."""
    describe_environment(parser, API_SECRET_ENV)
    parser.add_argument(
        "--path", required=True, help="URL path that is signed, e.g. /0/private/AddOrder"
    )
    parser.add_argument("--nonce", required=True, help="the nonce, exactly as sent in the body")
    parser.add_argument(
        "--data",
        default=None,
        help="the exact POST body that is sent (default: nonce=NONCE, the token request's body)",
    )


def run(args: argparse.Namespace) -> int:
    """Print ``API-Sign`` for ``KRAKEN_API_SECRET``, ``--path``, ``--nonce`` and ``--data``."""
    secret = os.environ.get(API_SECRET_ENV, "")
    if not secret.strip():
        print(
            f"kraken-proto sign: {API_SECRET_ENV} is not set (or empty); export the API "
            "secret in it",
            file=sys.stderr,
        )
        return 2
    nonce: str = args.nonce
    data: str = f"nonce={nonce}" if args.data is None else args.data
    try:
        signature = sign(secret=secret, urlpath=args.path, nonce=nonce, postdata=data)
    except LocalProtocolError as error:  # InvalidSecretError included; messages omit the secret
        print(f"kraken-proto sign: {error}", file=sys.stderr)
        return 2
    if nonce not in data:
        # The most common cause of "EAPI:Invalid signature": a body whose nonce differs.
        print(
            f"kraken-proto sign: warning: the body does not contain nonce {nonce}; Kraken signs "
            "the body's own nonce",
            file=sys.stderr,
        )
    print(signature)
    return 0
