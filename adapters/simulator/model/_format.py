"""Kraken-shaped identifiers and wire formatting for the simulator (pure helpers)."""

from __future__ import annotations

import datetime
import json
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

__all__ = [
    "RandomLike",
    "dumps",
    "fixed",
    "kraken_id",
    "new_token",
    "rfc3339",
    "timestamp",
]

# Real order and trade ids use base32 letters only: A-Z and 2-7 (never 0, 1, 8, 9).
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


class RandomLike(Protocol):
    """What the model needs from a random generator (``random.Random`` fits)."""

    def random(self) -> float: ...

    def randrange(self, n: int, /) -> int: ...


def _draw(rng: RandomLike, alphabet: str, count: int) -> str:
    return "".join(alphabet[rng.randrange(len(alphabet))] for _ in range(count))


def kraken_id(rng: RandomLike, prefix: str) -> str:
    """An id shaped like Kraken's: ``prefix`` + 5, ``-``, 5, ``-``, 6 of ``A-Z2-7``."""
    return f"{prefix}{_draw(rng, _ID_ALPHABET, 5)}-{_draw(rng, _ID_ALPHABET, 5)}-" + _draw(
        rng, _ID_ALPHABET, 6
    )


def new_token(rng: RandomLike) -> str:
    """A 43-character base64-like WebSocket token."""
    return _draw(rng, _TOKEN_ALPHABET, 43)


def fixed(value: Decimal, places: int) -> str:
    """``value`` as a string with exactly ``places`` decimals (rounded half up)."""
    return format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")


def timestamp(now: float) -> Decimal:
    """Unix seconds with exactly 6 decimals, as Kraken writes ``time``/``opentm``."""
    return Decimal(f"{now:.6f}")


def rfc3339(now: float) -> str:
    """RFC3339 UTC time at second precision, rounded up (``2020-12-21T09:37:09Z``)."""
    moment = datetime.datetime.fromtimestamp(math.ceil(now), tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def dumps(value: object) -> str:
    """Compact JSON text; ``Decimal`` is never passed in (callers format money as strings)."""
    return json.dumps(value, separators=(",", ":"))
