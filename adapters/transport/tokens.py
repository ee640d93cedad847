"""What both adapters share about getting a session token: endpoints and nonces.

Nonces must strictly increase per API key across the whole process, so the adapters share
one ``NonceSource`` guarded by a lock unless the caller brings its own.
"""

from __future__ import annotations

import threading

from kraken_proto import Credentials
from kraken_proto.rest import NonceSource, TokenRequest, build_token_request

__all__ = ["KRAKEN_REST_URL", "KRAKEN_WS_URL", "next_token_request"]

KRAKEN_REST_URL = "https://api.kraken.com"
KRAKEN_WS_URL = "wss://ws-auth.kraken.com"

_process_nonces = NonceSource()
_nonce_lock = threading.Lock()


def next_token_request(
    credentials: Credentials, *, nonces: NonceSource | None, otp: str | None, now: float
) -> TokenRequest:
    """Sign a token request with the next nonce (from ``nonces`` or the process-wide source)."""
    if nonces is None:
        with _nonce_lock:
            nonce = _process_nonces.next(now)
    else:
        nonce = nonces.next(now)
    return build_token_request(credentials, nonce=nonce, otp=otp)
