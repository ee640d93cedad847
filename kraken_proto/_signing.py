"""Request signing for Kraken's private REST API: ``API-Sign``, credentials and nonces.

``API-Sign = base64(HMAC-SHA512(base64decode(secret), urlpath + SHA256(str(nonce) + postdata)))``
computed with ``cryptography``'s primitives. Pure: no clock (``NonceSource`` takes ``now``) and no
implicit environment access (``Credentials.from_env`` reads only the mapping it is given, or
``os.environ`` when called without one).

Secrets never appear in a ``repr``, ``str`` or exception message produced here, and errors about
a bad secret are raised outside any ``except`` block so no chained exception can carry it either.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from ._errors import LocalProtocolError

__all__ = [
    "API_KEY_ENV",
    "API_SECRET_ENV",
    "SECRET_LENGTH",
    "CredentialsError",
    "Credentials",
    "InvalidSecretError",
    "MissingCredentialError",
    "NonceSource",
    "sign",
]

API_KEY_ENV = "KRAKEN_API_KEY"
API_SECRET_ENV = "KRAKEN_API_SECRET"
SECRET_LENGTH = 64
"""Bytes in a decoded Kraken API secret (88 base64 characters)."""

_MAX_NONCE = 2**64 - 1  # Kraken nonces are unsigned 64-bit integers


class CredentialsError(LocalProtocolError, ValueError):
    """The API key or secret is missing or unusable. Messages never contain the secret."""


class InvalidSecretError(CredentialsError):
    """The API secret is not base64 text that decodes to a Kraken secret (64 bytes)."""


class MissingCredentialError(CredentialsError):
    """An environment variable holding the API key or secret is unset or empty.

    ``variables`` names the missing variables, in the order they were looked up.
    """

    def __init__(self, variables: tuple[str, ...]) -> None:
        self.variables = variables
        names = " and ".join(variables)
        verb = "is" if len(variables) == 1 else "are"
        super().__init__(f"{names} {verb} not set (or empty); export the Kraken API credentials")


def _decode_secret(secret: str | bytes) -> bytes:
    """Decode a base64 API secret, raising ``InvalidSecretError`` that never echoes it."""
    if not isinstance(secret, str | bytes):
        raise InvalidSecretError(f"API secret must be str or bytes, got {type(secret).__name__}")
    decoded = _b64decode_or_none(secret.strip())
    if decoded is None:
        raise InvalidSecretError(
            "API secret is not valid base64 (expected the 88-character secret Kraken shows once "
            "when the key is created)"
        )
    if len(decoded) != SECRET_LENGTH:
        raise InvalidSecretError(
            f"API secret decodes to {len(decoded)} bytes, expected {SECRET_LENGTH} (88 base64 "
            "characters); was the API key passed as the secret?"
        )
    return decoded


def _b64decode_or_none(text: str | bytes) -> bytes | None:
    # Returning None (instead of raising inside ``except``) keeps the decoder's exception out of
    # the ``__context__`` of the error we raise.
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _nonce_text(nonce: int | str) -> str:
    """The decimal text of a nonce, validated as an unsigned 64-bit integer."""
    if isinstance(nonce, bool) or not isinstance(nonce, int | str):
        raise LocalProtocolError(
            f"nonce: must be an int or a string of digits, got {type(nonce).__name__}"
        )
    if isinstance(nonce, str):
        if not (nonce.isascii() and nonce.isdigit()):
            raise LocalProtocolError(f"nonce: must be a string of ASCII digits, got {nonce!r}")
        value = int(nonce)
    else:
        value = nonce
    if not 0 <= value <= _MAX_NONCE:
        raise LocalProtocolError(f"nonce: must be in 0..2**64-1, got {value}")
    # The signed text must be byte-identical to the body's; keep a string nonce as given.
    return nonce if isinstance(nonce, str) else str(nonce)


def sign(*, secret: str | bytes, urlpath: str, nonce: int | str, postdata: str | bytes) -> str:
    """Return the ``API-Sign`` header value for one private REST request.

    ``secret`` is the base64 API secret (surrounding whitespace is ignored); ``urlpath`` the path
    starting at ``/0/private`` (no host, no query); ``nonce`` the same nonce that appears in
    ``postdata``; ``postdata`` the exact body bytes sent (``str`` is encoded as UTF-8).

    Raises ``InvalidSecretError`` (a ``ValueError``) for a secret that is not base64 or does not
    decode to 64 bytes, and ``LocalProtocolError`` for a nonce that is not an unsigned 64-bit
    integer or a path that does not start with ``/``.
    """
    key = _decode_secret(secret)
    if not isinstance(urlpath, str) or not urlpath.startswith("/"):
        raise LocalProtocolError(
            f"urlpath: must be the URL path starting with '/', e.g. /0/private/GetWebSocketsToken;"
            f" got {urlpath!r}"
        )
    if not isinstance(postdata, str | bytes):
        raise LocalProtocolError(f"postdata: must be str or bytes, got {type(postdata).__name__}")
    body = postdata.encode() if isinstance(postdata, str) else postdata
    inner = hashes.Hash(hashes.SHA256())
    inner.update(_nonce_text(nonce).encode() + body)
    mac = crypto_hmac.HMAC(key, hashes.SHA512())
    mac.update(urlpath.encode() + inner.finalize())
    return base64.b64encode(mac.finalize()).decode("ascii")


@dataclass(frozen=True, kw_only=True, repr=False)
class Credentials:
    """A Kraken API key and its secret, validated at construction.

    Keyword-only so key and secret cannot be swapped silently. ``repr``/``str`` show the first
    four characters of the key and never the secret:
    ``Credentials(api_key='AbCd…', api_secret=<redacted>)``.

    Raises ``CredentialsError`` for an empty key or one with whitespace or non-ASCII characters
    (a trailing newline from a file is the usual cause), and ``InvalidSecretError`` for a bad
    secret.
    """

    api_key: str
    api_secret: str

    def __post_init__(self) -> None:
        key = self.api_key
        if not isinstance(key, str) or not key or not all("!" <= c <= "~" for c in key):
            raise CredentialsError(
                "api_key: must be a non-empty string of printable ASCII without whitespace"
            )
        if not isinstance(self.api_secret, str):
            raise InvalidSecretError(
                f"api_secret: must be str, got {type(self.api_secret).__name__}"
            )
        _decode_secret(self.api_secret)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """Build credentials from ``KRAKEN_API_KEY`` and ``KRAKEN_API_SECRET``.

        ``environ`` defaults to ``os.environ`` (read at call time, never at import). Raises
        ``MissingCredentialError`` naming every unset or empty variable.
        """
        env = os.environ if environ is None else environ
        values = {name: env.get(name, "").strip() for name in (API_KEY_ENV, API_SECRET_ENV)}
        missing = tuple(name for name, value in values.items() if not value)
        if missing:
            raise MissingCredentialError(missing)
        return cls(api_key=values[API_KEY_ENV], api_secret=values[API_SECRET_ENV])

    def sign(self, *, urlpath: str, nonce: int | str, postdata: str | bytes) -> str:
        """``sign(secret=self.api_secret, ...)``: the ``API-Sign`` value for one request."""
        return sign(secret=self.api_secret, urlpath=urlpath, nonce=nonce, postdata=postdata)

    def __repr__(self) -> str:
        shown = self.api_key[:4] + "…" if len(self.api_key) > 4 else "…"
        return f"Credentials(api_key={shown!r}, api_secret=<redacted>)"

    __str__ = __repr__


class NonceSource:
    """Strictly increasing nonces derived from the time passed in.

    ``next(now)`` returns ``int(now * units_per_second)`` (microseconds since the epoch by
    default) or, when the clock stood still or stepped back, one more than the previous nonce.
    Use one source per API key and never mix units on a key: Kraken rejects any nonce not greater
    than the last one it accepted. ``last`` seeds the source, e.g. with a nonce persisted by a
    previous process. Not thread-safe: an adapter sharing one across threads must lock it.
    """

    __slots__ = ("_last", "_units_per_second")

    def __init__(self, *, units_per_second: int = 1_000_000, last: int = 0) -> None:
        if isinstance(units_per_second, bool) or not isinstance(units_per_second, int):
            raise LocalProtocolError("units_per_second: must be a positive int")
        if units_per_second <= 0:
            raise LocalProtocolError("units_per_second: must be a positive int")
        if isinstance(last, bool) or not isinstance(last, int) or not 0 <= last <= _MAX_NONCE:
            raise LocalProtocolError("last: must be an int in 0..2**64-1")
        self._units_per_second = units_per_second
        self._last = last

    @property
    def last(self) -> int:
        """The most recent nonce returned (or the seed when none was returned yet)."""
        return self._last

    @property
    def units_per_second(self) -> int:
        """Nonce units per second of ``now`` (1_000_000: microseconds)."""
        return self._units_per_second

    def next(self, now: float) -> int:
        """Return a nonce greater than every nonce this source returned before.

        ``now`` is seconds since the epoch. Raises ``LocalProtocolError`` (leaving the source
        unchanged) for a non-finite ``now`` or when the nonce would exceed 2**64-1.
        """
        if isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now):
            raise LocalProtocolError(f"now: must be a finite number of seconds, got {now!r}")
        nonce = max(int(now * self._units_per_second), self._last + 1)
        if nonce > _MAX_NONCE:
            raise LocalProtocolError("nonce: would exceed 2**64-1; check now and units_per_second")
        self._last = nonce
        return nonce

    def __repr__(self) -> str:
        return f"NonceSource(units_per_second={self._units_per_second}, last={self._last})"
