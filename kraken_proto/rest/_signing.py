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
from typing import NoReturn

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from kraken_proto._errors import LocalProtocolError
from kraken_proto._secret import Secret

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


def _decode_secret(secret: object) -> bytes:
    """Decode a base64 API secret, raising ``InvalidSecretError`` that never echoes it.

    Raised errors leave no local variable holding the secret (or its bytes) behind, so a
    traceback rendered with its locals cannot show it.
    """
    # Callers hand plain text over in a ``Secret`` (``sign`` and ``Credentials`` wrap it).
    if isinstance(secret, Secret):
        decoded = _b64decode_or_none(secret.reveal().strip())
    else:
        raise InvalidSecretError(f"API secret must be str or bytes, got {type(secret).__name__}")
    del secret
    if decoded is None:
        raise InvalidSecretError(
            "API secret is not valid base64 (expected the 88-character secret Kraken shows once "
            "when the key is created)"
        )
    length = len(decoded)
    if length != SECRET_LENGTH:
        del decoded
        raise InvalidSecretError(
            f"API secret decodes to {length} bytes, expected {SECRET_LENGTH} (88 base64 "
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


def sign(
    *, secret: str | bytes | Secret, urlpath: str, nonce: int | str, postdata: str | bytes
) -> str:
    """Return the ``API-Sign`` header value for one private REST request.

    ``secret`` is the base64 API secret (surrounding whitespace is ignored), plain or in a
    ``Secret``; ``urlpath`` the path starting at ``/0/private`` (no host, no query); ``nonce``
    the same nonce that appears in ``postdata``; ``postdata`` the exact body bytes sent (``str``
    is encoded as UTF-8).

    Raises ``InvalidSecretError`` (a ``ValueError``) for a secret that is not base64 or does not
    decode to 64 bytes, and ``LocalProtocolError`` for a nonce that is not an unsigned 64-bit
    integer or a path that does not start with ``/``.
    """
    # Rebinding the parameter keeps the plain text out of this frame's locals. Bytes that are
    # not ASCII cannot be base64, so replacing them keeps the outcome (InvalidSecretError).
    if isinstance(secret, bytes):
        secret = Secret(secret.decode("ascii", "replace"))
    elif isinstance(secret, str):
        secret = Secret(secret)
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
    return _hmac_b64(secret, urlpath.encode() + inner.finalize())


class _KeyBytes(bytes):
    """The decoded key: bytes whose ``repr`` (e.g. in a traceback's locals) hides them."""

    def __repr__(self) -> str:
        return "<API secret bytes redacted>"


def _hmac_b64(secret: object, message: bytes) -> str:
    # The decoded key lives only in this frame, which raises nothing once it holds the key
    # (and shows as redacted should an interrupt land here).
    key = _KeyBytes(_decode_secret(secret))
    mac = crypto_hmac.HMAC(key, hashes.SHA512())
    mac.update(message)
    return base64.b64encode(mac.finalize()).decode("ascii")


class Credentials:
    """A Kraken API key and its secret, validated at construction.

    Keyword-only so key and secret cannot be swapped silently. ``api_secret`` may be given as
    ``str`` or ``Secret`` and is held as a ``Secret``: ``repr``/``str``, logs, exceptions and
    tracebacks with captured locals never show it (``credentials.api_secret.reveal()`` does).
    ``repr`` shows the first four characters of the key:
    ``Credentials(api_key='AbCd…', api_secret=<redacted>)``. Immutable, hashable, compared by
    value.

    Raises ``CredentialsError`` for an empty key or one with whitespace or non-ASCII characters
    (a trailing newline from a file is the usual cause), and ``InvalidSecretError`` for a bad
    secret.
    """

    __slots__ = ("_api_key", "_api_secret")
    _api_key: str
    _api_secret: Secret

    def __init__(self, *, api_key: str, api_secret: str | Secret) -> None:
        if not isinstance(api_secret, str | Secret):
            raise InvalidSecretError(f"api_secret: must be str, got {type(api_secret).__name__}")
        # From here on the plain text is out of this frame's locals.
        api_secret = Secret(api_secret)
        key = api_key
        if not isinstance(key, str) or not key or not all("!" <= c <= "~" for c in key):
            raise CredentialsError(
                "api_key: must be a non-empty string of printable ASCII without whitespace"
            )
        _decode_secret(api_secret)
        object.__setattr__(self, "_api_key", key)
        object.__setattr__(self, "_api_secret", api_secret)

    @property
    def api_key(self) -> str:
        """The public API key (sent as the ``API-Key`` header)."""
        return self._api_key

    @property
    def api_secret(self) -> Secret:
        """The base64 API secret, redacted; ``.reveal()`` gives the text."""
        return self._api_secret

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Credentials are immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return self._api_key == other._api_key and self._api_secret == other._api_secret

    def __hash__(self) -> int:
        return hash((Credentials, self._api_key))

    def __reduce__(self) -> NoReturn:
        raise TypeError("Credentials: refusing to pickle an API secret")

    def __copy__(self) -> Credentials:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, object]) -> Credentials:
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """Build credentials from ``KRAKEN_API_KEY`` and ``KRAKEN_API_SECRET``.

        ``environ`` defaults to ``os.environ`` (read at call time, never at import). Raises
        ``MissingCredentialError`` naming every unset or empty variable.
        """
        env = os.environ if environ is None else environ
        key = env.get(API_KEY_ENV, "").strip()
        secret = Secret(env.get(API_SECRET_ENV, "").strip())
        # The mapping's repr would show every variable, the secret's included.
        del env, environ
        missing = tuple(
            name for name, value in ((API_KEY_ENV, key), (API_SECRET_ENV, secret)) if not value
        )
        if missing:
            raise MissingCredentialError(missing)
        return cls(api_key=key, api_secret=secret)

    def sign(self, *, urlpath: str, nonce: int | str, postdata: str | bytes) -> str:
        """``sign(secret=self.api_secret, ...)``: the ``API-Sign`` value for one request."""
        return sign(secret=self._api_secret, urlpath=urlpath, nonce=nonce, postdata=postdata)

    def __repr__(self) -> str:
        # getattr: a traceback may render a half-built instance from ``__init__``'s locals.
        key: str = getattr(self, "_api_key", "")
        shown = key[:4] + "…" if len(key) > 4 else "…"
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

    def acquire(self) -> bool:
        """Take the key's turn to send, before drawing the nonce of a request: True when taken
        (or already held), False when another sender on the key holds it (ask again soon).

        Kraken checks nonces in the order requests *arrive*, so two senders on one key that
        draw nonces in order can still be refused when their requests overtake each other on
        the way. A sender that holds the turn from drawing a nonce until the answer to that
        request (``release``) cannot be overtaken. This source has one sender, which sends one
        request at a time (the session's REST queue): always True. ``SharedNonceSource``
        (``kraken_proto.adapters.journal``) shares the turn between processes."""
        return True

    def release(self) -> None:
        """The request signed with the last nonce has its answer (or failed): give the turn
        back. Does nothing here."""

    def __repr__(self) -> str:
        return f"NonceSource(units_per_second={self._units_per_second}, last={self._last})"
