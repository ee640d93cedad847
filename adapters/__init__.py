"""I/O adapters for kraken_proto: everything that touches sockets, TLS, clocks or threads.

Installed as ``kraken_proto.adapters``. Adapters only move bytes and read the clock; protocol
policy lives in the pure core. The errors the adapters raise are importable from here.
"""

from ._session_common import (
    OutcomeUnknownError,
    RequestNotAppliedError,
    RequestRefusedError,
    TradingRequestError,
)
from ._ws import (
    DEFAULT_MAX_MESSAGE_SIZE,
    HandshakeError,
    HandshakeTimeout,
    MessageTooLarge,
    WebSocketClosed,
)
from .http import HttpResponseError

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "HandshakeError",
    "HandshakeTimeout",
    "HttpResponseError",
    "MessageTooLarge",
    "OutcomeUnknownError",
    "RequestNotAppliedError",
    "RequestRefusedError",
    "TradingRequestError",
    "WebSocketClosed",
]
