"""The ``POST /0/private/GetWebSocketsToken`` call, without the I/O.

``build_token_request`` produces the method, path, headers and form body to send;
``parse_token_response`` turns the HTTP status and body that came back into a ``WebSocketToken``
or a typed ``TokenRequestError``. Moving the bytes (TLS, HTTP/1.1 framing) is an adapter's job;
``kraken_proto.adapters.http`` frames them with h11.

Error hierarchy (all carry ``status``, ``errors`` and ``error``; none carry the secret)::

    ProtocolError
    └── TokenRequestError                     Kraken said no; unknown error strings land here
        ├── InvalidKeyError                   EAPI:Invalid key
        ├── InvalidSignatureError             EAPI:Invalid signature
        ├── InvalidNonceError                 EAPI:Invalid nonce
        ├── PermissionDeniedError             EGeneral:Permission denied
        ├── TemporaryLockoutError             EGeneral:Temporary lockout
        ├── RateLimitExceededError            EAPI:Rate limit exceeded
        ├── ServiceUnavailableError           EService:Unavailable
        ├── TokenHTTPError                    HTTP status other than 200
        └── MalformedTokenResponseError       not JSON / not the documented shape
                                              (also a RemoteProtocolError)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlencode

from ._errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from ._events import KrakenError
from ._signing import Credentials, _nonce_text

__all__ = [
    "TOKEN_PATH",
    "InvalidKeyError",
    "InvalidNonceError",
    "InvalidSignatureError",
    "MalformedTokenResponseError",
    "PermissionDeniedError",
    "RateLimitExceededError",
    "ServiceUnavailableError",
    "TemporaryLockoutError",
    "TokenHTTPError",
    "TokenRequest",
    "TokenRequestError",
    "WebSocketToken",
    "build_token_request",
    "parse_token_response",
]

TOKEN_PATH = "/0/private/GetWebSocketsToken"
_EXCERPT_CHARS = 120
_TOKEN_VALUE = re.compile(r'"token"\s*:\s*"[^"]*"?')
_NOT_JSON = object()


# --- errors -------------------------------------------------------------------------------


def _first_failure(errors: tuple[str, ...]) -> str | None:
    """The first string in Kraken's ``error`` list that fails the call, or ``None``.

    Anything that is not a ``W`` warning fails, even text without a severity prefix: guessing
    that an unknown string was harmless could hide a real refusal.
    """
    return next((text for text in errors if not text.startswith("W")), None)


class TokenRequestError(ProtocolError):
    """``GetWebSocketsToken`` did not return a token.

    ``errors`` holds every error/warning string Kraken sent, verbatim; ``error`` the first
    string that is not a ``W`` warning, parsed (``None`` for HTTP and format errors);
    ``status`` the HTTP status. A Kraken error string with no dedicated subclass is raised as
    this class, its text kept verbatim.
    """

    prefix: ClassVar[str] = ""
    hint: ClassVar[str] = ""

    def __init__(
        self, message: str, *, status: int | None = None, errors: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors
        first = _first_failure(errors)
        self.error: KrakenError | None = None if first is None else KrakenError.parse(first)


class InvalidKeyError(TokenRequestError):
    """``EAPI:Invalid key``: Kraken does not know the API key."""

    prefix = "EAPI:Invalid key"
    hint = "check the API key (KRAKEN_API_KEY): it is unknown, mistyped or was deleted"


class InvalidSignatureError(TokenRequestError):
    """``EAPI:Invalid signature``: ``API-Sign`` did not match."""

    prefix = "EAPI:Invalid signature"
    hint = (
        "check that the secret belongs to this key and that the signed body, nonce and path "
        "are byte-identical to what was sent; `kraken-proto sign` recomputes API-Sign"
    )


class InvalidNonceError(TokenRequestError):
    """``EAPI:Invalid nonce``: the nonce was not above the last one Kraken accepted."""

    prefix = "EAPI:Invalid nonce"
    hint = (
        "the nonce must exceed every nonce used before with this key: use one NonceSource per "
        "key, do not share a key between processes, and never mix nonce units on a key "
        "(a key used with larger, e.g. nanosecond, nonces needs a larger units_per_second "
        "or a new key)"
    )


class PermissionDeniedError(TokenRequestError):
    """``EGeneral:Permission denied``: the key lacks the WebSocket permission."""

    prefix = "EGeneral:Permission denied"
    hint = (
        'the API key needs the "WebSocket interface" permission (shown as "Access WebSockets '
        "API\" in Kraken's API key settings); edit the key or create one with it"
    )


class TemporaryLockoutError(TokenRequestError):
    """``EGeneral:Temporary lockout``: too many failed calls; Kraken locks the key for a while."""

    prefix = "EGeneral:Temporary lockout"
    hint = "too many invalid key/nonce/signature errors; wait about 15 minutes before retrying"


class RateLimitExceededError(TokenRequestError):
    """``EAPI:Rate limit exceeded``: the key's REST call counter is exhausted."""

    prefix = "EAPI:Rate limit exceeded"
    hint = "the key's REST call rate limit is exhausted; back off before retrying"


class ServiceUnavailableError(TokenRequestError):
    """``EService:Unavailable``: Kraken's API is down or in maintenance."""

    prefix = "EService:Unavailable"
    hint = "Kraken's service is unavailable (maintenance or outage); retry later"


class TokenHTTPError(TokenRequestError):
    """The HTTP status was not 200: the request did not reach Kraken's API layer."""


class MalformedTokenResponseError(TokenRequestError, RemoteProtocolError):
    """The body is not JSON or not the documented ``{"error": [...], "result": {...}}``."""


_KRAKEN_ERRORS: tuple[type[TokenRequestError], ...] = (
    InvalidKeyError,
    InvalidSignatureError,
    InvalidNonceError,
    PermissionDeniedError,
    TemporaryLockoutError,
    RateLimitExceededError,
    ServiceUnavailableError,
)


# --- request ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, repr=False)
class TokenRequest:
    """A signed ``GetWebSocketsToken`` request, ready to frame as HTTP/1.1.

    ``headers`` are ordered ``(name, value)`` pairs without ``Host``, ``Content-Length`` or
    ``Connection`` (the HTTP layer adds those); ``body`` is the exact signed form body. The
    ``repr`` lists header names only and the body's length (the body may hold a 2FA code).
    """

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def __repr__(self) -> str:
        names = ", ".join(name for name, _ in self.headers)
        return (
            f"TokenRequest(method={self.method!r}, path={self.path!r}, headers=[{names}], "
            f"body=<{len(self.body)} bytes>)"
        )


def _user_agent() -> str:
    # Imported at call time: the package's __init__ imports this module before __version__.
    from . import __version__

    return f"kraken_proto/{__version__}"


def build_token_request(
    credentials: Credentials, *, nonce: int, otp: str | None = None
) -> TokenRequest:
    """Sign a ``POST /0/private/GetWebSocketsToken`` with a form body ``nonce=N[&otp=...]``.

    ``nonce`` must exceed every nonce used before with this key (see ``NonceSource``); ``otp``
    is the key's 2FA password when it has one. Raises ``LocalProtocolError`` for a nonce that is
    not an unsigned 64-bit int or an empty ``otp``, and ``TypeError`` for non-``Credentials``.
    """
    if not isinstance(credentials, Credentials):
        raise TypeError(f"credentials: expected Credentials, got {type(credentials).__name__}")
    fields = [("nonce", _nonce_text(nonce))]
    if otp is not None:
        if not isinstance(otp, str) or not otp:
            raise LocalProtocolError("otp: must be a non-empty string")
        fields.append(("otp", otp))
    body = urlencode(fields).encode("ascii")
    signature = credentials.sign(urlpath=TOKEN_PATH, nonce=nonce, postdata=body)
    headers = (
        ("API-Key", credentials.api_key),
        ("API-Sign", signature),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("User-Agent", _user_agent()),
    )
    return TokenRequest(method="POST", path=TOKEN_PATH, headers=headers, body=body)


# --- response -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, repr=False)
class WebSocketToken:
    """A session token for ``wss://ws-auth.kraken.com``.

    ``token`` is the value to hand to the connection; ``expires`` the seconds Kraken gives to
    use it (900: it must be used within 15 minutes of issue, after which an active private
    subscription keeps it valid); ``warnings`` any ``W`` strings that came with the result.
    ``repr``/``str`` never show the token.
    """

    token: str
    expires: int
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        extra = f", warnings={self.warnings!r}" if self.warnings else ""
        return f"WebSocketToken(token=<redacted>, expires={self.expires}{extra})"

    __str__ = __repr__


def _excerpt(body: bytes) -> str:
    """A short, printable rendering of a response body for an error message.

    Any ``"token": "..."`` value is redacted first, so even a truncated success body cannot
    leak a session token into a log line.
    """
    text = body[: _EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    text = _TOKEN_VALUE.sub('"token":<redacted>', text)
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    if len(text) > _EXCERPT_CHARS:
        text = text[:_EXCERPT_CHARS] + "…"
    return repr(text)


def _malformed(problem: str) -> MalformedTokenResponseError:
    # No body excerpt: a body that parsed as JSON may hold the token next to the bad field.
    return MalformedTokenResponseError(f"GetWebSocketsToken response: {problem}", status=200)


def _kraken_error(first: str, errors: tuple[str, ...]) -> TokenRequestError:
    for cls in _KRAKEN_ERRORS:
        if first.startswith(cls.prefix):
            return cls(
                f"GetWebSocketsToken failed: {first} ({cls.hint})", status=200, errors=errors
            )
    return TokenRequestError(f"GetWebSocketsToken failed: {first}", status=200, errors=errors)


def parse_token_response(status: int, body: bytes) -> WebSocketToken:
    """Turn the HTTP status and body of a ``GetWebSocketsToken`` call into a token.

    Raises ``TokenHTTPError`` for a status other than 200 (message: the status and a short
    excerpt of the body), ``MalformedTokenResponseError`` for a body that is not JSON or not
    the documented shape, and the ``TokenRequestError`` subclass matching the first error
    string (matched by prefix, since Kraken may append ``:detail``; unknown strings raise the
    base class with the text verbatim). ``W`` warnings next to a valid result do not fail.
    """
    if status != 200:
        raise TokenHTTPError(
            f"GetWebSocketsToken: HTTP status {status} (the request did not reach Kraken's API);"
            f" body starts {_excerpt(body)}",
            status=status,
        )
    document = _json_or_sentinel(body)
    if document is _NOT_JSON:
        raise MalformedTokenResponseError(
            f"GetWebSocketsToken response: body is not JSON; it starts {_excerpt(body)}",
            status=200,
        )
    if not isinstance(document, dict):
        raise _malformed(f"expected a JSON object, got {_json_type(document)}")
    raw_errors = document.get("error", [])
    if not isinstance(raw_errors, list) or not all(isinstance(e, str) for e in raw_errors):
        raise _malformed('"error" is not a list of strings')
    errors = tuple(raw_errors)
    failure = _first_failure(errors)
    if failure is not None:
        raise _kraken_error(failure, errors)
    result = document.get("result")
    if not isinstance(result, dict):
        raise _malformed(f'"result" should be an object, got {_json_type(result)}')
    token = result.get("token")
    if not isinstance(token, str) or not token:
        raise _malformed(f'"result.token" should be a non-empty string, got {_json_type(token)}')
    expires = result.get("expires")
    if isinstance(expires, bool) or not isinstance(expires, int) or expires <= 0:
        raise _malformed(
            f'"result.expires" should be a positive integer, got {_json_type(expires)}'
        )
    return WebSocketToken(token=token, expires=expires, warnings=errors)


def _json_or_sentinel(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return _NOT_JSON


def _json_type(value: object) -> str:
    """Name a JSON value's kind without showing the value (it may be the token)."""
    if value is None:
        return "null/missing"
    if isinstance(value, bool):
        return "a boolean"
    if value == "":
        return "an empty string"
    if isinstance(value, int) and value <= 0:
        return "a non-positive integer"
    names = {str: "a string", int: "an integer", float: "a number", list: "an array"}
    return names.get(type(value), "an object")
