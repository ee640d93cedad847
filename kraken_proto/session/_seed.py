"""Deterministic randomness from the session's seed: jitter and client order ids.

The core never draws random numbers itself; everything that must look random (backoff
jitter, generated ``cl_ord_id`` values) is derived from the ``seed`` the caller passed, by
SHA-256 over ``seed || purpose || counter``. The same seed replays the same session; seeds
from ``os.urandom(16)`` make ids unique across processes.
"""

from __future__ import annotations

import hashlib

from kraken_proto._errors import LocalProtocolError

__all__ = ["SeededStream"]


class SeededStream:
    """Numbers and ids derived from a seed; each call advances its own counter."""

    __slots__ = ("_counters", "_seed")

    def __init__(self, seed: bytes) -> None:
        if not isinstance(seed, bytes | bytearray) or len(seed) < 8:
            raise LocalProtocolError("seed: must be bytes, at least 8 of them (os.urandom(16))")
        self._seed = bytes(seed)
        self._counters: dict[bytes, int] = {}

    def __repr__(self) -> str:
        return "<SeededStream>"

    def _digest(self, purpose: bytes) -> bytes:
        count = self._counters.get(purpose, 0)
        self._counters[purpose] = count + 1
        return hashlib.sha256(
            self._seed + b"\x00" + purpose + b"\x00" + count.to_bytes(8, "big")
        ).digest()

    def unit(self) -> float:
        """A number in [0, 1) (for jitter)."""
        return int.from_bytes(self._digest(b"jitter")[:7], "big") / float(1 << 56)

    def token(self, purpose: bytes) -> str:
        """32 hex digits of its own stream for ``purpose`` (a name unique to the session)."""
        return self._digest(purpose)[:16].hex()

    def client_order_id(self) -> str:
        """A fresh UUID (version 4 layout) for an AddOrder's ``cl_ord_id``."""
        raw = bytearray(self._digest(b"cl_ord_id")[:16])
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        text = raw.hex()
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
