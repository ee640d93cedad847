"""I/O adapters for kraken_proto: everything that touches sockets, TLS, clocks or threads.

Installed as ``kraken_proto.adapters``. Adapters only move bytes and read the clock; protocol
policy lives in the pure core. The session runners (``open_session`` blocking,
``open_trio_session``, ``open_asyncio_session``; one API, see docs/runners.md) and the errors
they raise are importable from here.

The folders: ``transport/`` (WebSocket and HTTP over sockets), ``runners/`` (the session
runners), ``clients/`` (the low-level connection clients), ``cli/`` (the ``kraken-proto``
command) and ``simulator/`` (the local exchange: ``model/`` is pure, the rest serves it).

Names are loaded on first use, so that a command which needs no event loop (``sign``, say)
does not pay for importing trio or asyncio.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kraken_proto.adapters.runners._common import (
        OutcomeUnknownError,
        RequestNotAppliedError,
        RequestRefusedError,
        TradingRequestError,
    )
    from kraken_proto.adapters.runners.asyncio_runner import AsyncioSession, open_asyncio_session
    from kraken_proto.adapters.runners.blocking import BlockingSession, open_session
    from kraken_proto.adapters.runners.trio_runner import TrioSession, open_trio_session
    from kraken_proto.adapters.transport._ws import (
        DEFAULT_MAX_MESSAGE_SIZE,
        HandshakeError,
        HandshakeTimeout,
        MessageTooLarge,
        WebSocketClosed,
    )
    from kraken_proto.adapters.transport.http import HttpResponseError

# Each exported name and the module that defines it.
_HOMES = {
    "BlockingSession": "runners.blocking",
    "open_session": "runners.blocking",
    "TrioSession": "runners.trio_runner",
    "open_trio_session": "runners.trio_runner",
    "AsyncioSession": "runners.asyncio_runner",
    "open_asyncio_session": "runners.asyncio_runner",
    "OutcomeUnknownError": "runners._common",
    "RequestNotAppliedError": "runners._common",
    "RequestRefusedError": "runners._common",
    "TradingRequestError": "runners._common",
    "DEFAULT_MAX_MESSAGE_SIZE": "transport._ws",
    "HandshakeError": "transport._ws",
    "HandshakeTimeout": "transport._ws",
    "MessageTooLarge": "transport._ws",
    "WebSocketClosed": "transport._ws",
    "HttpResponseError": "transport.http",
}

__all__ = [
    "AsyncioSession",
    "BlockingSession",
    "TrioSession",
    "open_asyncio_session",
    "open_session",
    "open_trio_session",
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


def __getattr__(name: str) -> Any:
    """Import an exported name from its module on first access (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
