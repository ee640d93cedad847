"""The exception hierarchy, shaped like h11's.

``LocalProtocolError``: the caller asked for something the protocol or the current state
forbids; raised before anything is queued, leaving all state untouched.
``RemoteProtocolError``: the peer sent something that is not valid Kraken (v1, or v2 for the
``kraken_proto.v2`` codec); the message names the JSON path that was wrong.
"""

from __future__ import annotations

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class ProtocolError(Exception):
    """Base class of every error this library raises about the protocol."""


class LocalProtocolError(ProtocolError):
    """The local side misused the API (bad request field, wrong state, missing token)."""


class RemoteProtocolError(ProtocolError):
    """The remote side sent a frame that is not valid Kraken v1 (or v2, for ``kraken_proto.v2``)."""
