"""The ``POST /0/private/GetWebSocketsToken`` call, without the I/O.

``build_token_request`` signs the request through ``build_private_request`` (the one signing
and nonce path of every private call); ``parse_token_response`` turns the HTTP status and body
into a ``WebSocketToken`` or raises the shared ``RestError`` family (``TokenRequestError`` is
the same class; see ``kraken_proto.rest._errors`` for the hierarchy). Moving the bytes is an
adapter's job; ``kraken_proto.adapters.transport.http`` frames them with h11.
"""

from __future__ import annotations

from typing import Any

from kraken_proto._errors import LocalProtocolError
from kraken_proto._request_checks import _NO_SPACE as _TOKEN_TEXT
from kraken_proto._secret import Secret

from ._envelope import Envelope, json_kind, malformed, open_envelope, unwrap
from ._errors import (
    InvalidKeyError,
    InvalidNonceError,
    InvalidSignatureError,
    MalformedTokenResponseError,
    PermissionDeniedError,
    RateLimitExceededError,
    RestError,
    ServiceUnavailableError,
    TemporaryLockoutError,
    TokenHTTPError,
    TokenRequestError,
)
from ._request import PRIVATE_PREFIX, RestRequest, build_private_request
from ._signing import Credentials

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

TOKEN_PATH = PRIVATE_PREFIX + "GetWebSocketsToken"
_CALL = "GetWebSocketsToken"

TokenRequest = RestRequest
"""The token request is a ``RestRequest`` like every private call (the old name stays)."""


def build_token_request(
    credentials: Credentials, *, nonce: int, otp: str | None = None
) -> RestRequest:
    """Sign a ``POST /0/private/GetWebSocketsToken`` with a form body ``nonce=N[&otp=...]``.

    ``nonce`` must exceed every nonce used before with this key (see ``NonceSource``); ``otp``
    is the key's 2FA password when it has one. Raises ``LocalProtocolError`` for a nonce that is
    not an unsigned 64-bit int or an empty ``otp``, and ``TypeError`` for non-``Credentials``.
    """
    params: list[tuple[str, str]] = []
    if otp is not None:
        if not isinstance(otp, str) or not otp:
            raise LocalProtocolError("otp: must be a non-empty string")
        params.append(("otp", otp))
    return build_private_request(credentials, path=TOKEN_PATH, nonce=nonce, params=params)


class WebSocketToken:
    """A session token for ``wss://ws-auth.kraken.com``.

    ``token`` is the value to hand to the connection (``secret`` the same value held in a
    ``Secret``); ``expires`` the seconds Kraken gives to use it (900: it must be used within 15
    minutes of issue, after which an active private subscription keeps it valid);
    ``warnings`` any ``W`` strings that came with the result. Immutable. ``repr``/``str`` and
    tracebacks with captured locals never show the token.
    """

    __slots__ = ("_secret", "expires", "warnings")
    _secret: Secret

    def __init__(
        self, *, token: str | Secret, expires: int, warnings: tuple[str, ...] = ()
    ) -> None:
        token = Secret(token)  # rebinding keeps the plain text out of this frame's locals
        object.__setattr__(self, "_secret", token)
        object.__setattr__(self, "expires", expires)
        object.__setattr__(self, "warnings", warnings)

    expires: int
    warnings: tuple[str, ...]

    @property
    def token(self) -> str:
        """The token text (what ``Connection.provide_token`` takes)."""
        return self._secret.reveal()

    @property
    def secret(self) -> Secret:
        """The token in a ``Secret``."""
        return self._secret

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("WebSocketToken is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WebSocketToken):
            return NotImplemented
        return (self._secret, self.expires, self.warnings) == (
            other._secret,
            other.expires,
            other.warnings,
        )

    def __hash__(self) -> int:
        return hash((self._secret, self.expires, self.warnings))

    def __repr__(self) -> str:
        # getattr: a traceback may render a half-built instance from ``__init__``'s locals.
        warnings = getattr(self, "warnings", ())
        extra = f", warnings={warnings!r}" if warnings else ""
        return f"WebSocketToken(token=<redacted>, expires={getattr(self, 'expires', None)}{extra})"

    __str__ = __repr__


def _token_of(envelope: Envelope) -> WebSocketToken | RestError:
    # Problems name the kind of value only: the value may be the token.
    result: Any = envelope.result
    if not isinstance(result, dict):
        return malformed(_CALL, f'"result" should be an object, got {json_kind(result)}')
    token = result.get("token")
    if not isinstance(token, str) or not token:
        return malformed(
            _CALL, f'"result.token" should be a non-empty string, got {json_kind(token)}'
        )
    if not _TOKEN_TEXT.fullmatch(token):  # Connection.provide_token would refuse it
        return malformed(_CALL, '"result.token" holds whitespace or lone surrogates')
    expires = result.get("expires")
    if isinstance(expires, bool) or not isinstance(expires, int) or expires <= 0:
        kind = "a non-positive integer" if type(expires) is int else json_kind(expires)
        return malformed(_CALL, f'"result.expires" should be a positive integer, got {kind}')
    return WebSocketToken(token=token, expires=expires, warnings=envelope.warnings)


def _token_outcome(status: int, body: bytes) -> WebSocketToken | RestError:
    envelope = open_envelope(_CALL, status, body)
    return envelope if isinstance(envelope, RestError) else _token_of(envelope)


def parse_token_response(status: int, body: bytes) -> WebSocketToken:
    """Turn the HTTP status and body of a ``GetWebSocketsToken`` call into a token.

    Raises ``TokenHTTPError`` for a status other than 200 (message: the status and a short,
    redacted excerpt of the body), ``MalformedTokenResponseError`` for a body that is not JSON
    or not the documented shape, and the ``TokenRequestError`` subclass matching the first
    error string (matched by prefix, since Kraken may append ``:detail``; unknown strings raise
    the base class). ``W`` warnings next to a valid result do not fail. No exception message
    carries a token-shaped value from the body, and the frames an error passes through hold
    no local with the body or the token.
    """
    outcome = _token_outcome(status, body)
    del body
    return unwrap(outcome)
