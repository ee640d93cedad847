"""The decoder contract, as a check a property test or a fuzz target can call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kraken_proto._errors import RemoteProtocolError
from kraken_proto._event_base import Event

__all__ = ["decode_or_error"]


def decode_or_error(decode: Callable[[Any], object], frame: object) -> Event | RemoteProtocolError:
    """Call ``decode(frame)`` and check the contract of ``kraken_proto.decode`` and
    ``kraken_proto.v2.decode``: it returns an ``Event``, or raises ``RemoteProtocolError``
    whose message says what was wrong.

    Returns the event, or the ``RemoteProtocolError`` raised. Raises ``AssertionError`` when
    ``decode`` returns something that is not an ``Event`` or raises a ``RemoteProtocolError``
    with an empty message; any other exception ``decode`` raises propagates unchanged (that is
    the bug being looked for).
    """
    try:
        event = decode(frame)
    except RemoteProtocolError as error:
        if not str(error):
            raise AssertionError(
                f"RemoteProtocolError without a message for {frame!r:.200}"
            ) from error
        return error
    if not isinstance(event, Event):
        raise AssertionError(f"decode returned {type(event).__name__} for {frame!r:.200}")
    return event
