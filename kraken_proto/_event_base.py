"""What every decoded event shares, whichever protocol it came from: the ``Event`` base, a
Kraken error string split into its parts, and the catch-all for valid JSON this library does
not know."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from kraken_proto._repr import struct_repr

__all__ = ["Event", "KrakenError", "UnknownMessage"]

_ERROR_TEXT = re.compile(r"([EW])([A-Za-z]+):(.*)", re.DOTALL)


class KrakenError(msgspec.Struct, frozen=True, kw_only=True):
    """A Kraken error string split into its parts.

    ``"EOrder:Insufficient funds"`` -> severity ``"E"``, category ``"Order"``, message
    ``"Insufficient funds"``. Text without the ``E<Category>:`` prefix (``"Malformed request"``)
    keeps ``severity`` and ``category`` as ``None`` and the whole text as ``message``.
    """

    text: str
    severity: str | None
    category: str | None
    message: str

    @classmethod
    def parse(cls, text: str) -> KrakenError:
        """Split ``text`` into severity, category and message."""
        match = _ERROR_TEXT.fullmatch(text)
        if match is None:
            return cls(text=text, severity=None, category=None, message=text)
        return cls(text=text, severity=match[1], category=match[2], message=match[3])


class Event(msgspec.Struct, frozen=True, kw_only=True, repr_omit_defaults=True):
    """Base class of every event ``decode`` returns."""

    __repr__ = struct_repr  # exact Decimal digits: Decimal('0.00000000'), never Decimal('0E-8')


class UnknownMessage(Event, frozen=True, kw_only=True):
    """Valid JSON that is not a Kraken private message this library knows.

    Returned instead of raising, so new Kraken events never crash a client. ``data`` is the
    parsed JSON value.
    """

    data: Any
