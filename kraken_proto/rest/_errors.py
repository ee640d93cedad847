"""The errors of Kraken's private REST calls, and the one mapping from Kraken's error strings.

Every private call (``GetWebSocketsToken``, ``OpenOrders``, ``ClosedOrders``, ...) fails
through ``envelope_failure``: one table maps Kraken's error strings to typed errors, so the
token call and the reconciliation calls raise the same classes.

Error hierarchy (all carry ``status``, ``errors``, ``error`` and ``call``; none the secret)::

    ProtocolError
    └── RestError (= TokenRequestError)       Kraken said no; unknown error strings land here
        ├── InvalidKeyError            [permanent]  EAPI:Invalid key
        ├── InvalidSignatureError      [permanent]  EAPI:Invalid signature
        ├── InvalidNonceError                       EAPI:Invalid nonce
        ├── PermissionDeniedError      [permanent]  EGeneral:Permission denied
        ├── InvalidArgumentsError                   EGeneral:Invalid arguments[:detail]
        ├── TemporaryLockoutError                   EGeneral:Temporary lockout
        ├── InternalError                           EGeneral:Internal error[:code]
        ├── RateLimitExceededError                  EAPI:Rate limit exceeded
        ├── ThrottledError                          EService: Throttled: <unix time>
        ├── ServiceUnavailableError                 EService:Unavailable
        │   └── ServiceBusyError                    EService:Busy
        ├── MarketModeError                         EService:Market in ... mode
        │   ├── CancelOnlyModeError                 EService:Market in cancel_only mode
        │   └── PostOnlyModeError                   EService:Market in post_only mode
        ├── DeadlineElapsedError                    EService:Deadline elapsed
        ├── UnknownOrderError                       EOrder:Unknown order
        ├── OrderRateLimitExceededError             EOrder:Rate limit exceeded
        ├── RestHTTPError (= TokenHTTPError)        HTTP status other than 200
        └── MalformedRestResponseError            not JSON / not the documented shape
            (= MalformedTokenResponseError)         (also a RemoteProtocolError)

``permanent`` is True where retrying the same key can never succeed (the session stops).
Messages never carry a token-shaped value taken from a response body: every piece of body
text that goes into a message passes ``redact_body_text`` first. ``errors`` keeps Kraken's
strings verbatim for programs that need them.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import ClassVar

from kraken_proto._errors import ProtocolError, RemoteProtocolError
from kraken_proto._event_base import KrakenError

__all__ = [
    "CancelOnlyModeError",
    "DeadlineElapsedError",
    "InternalError",
    "InvalidArgumentsError",
    "InvalidKeyError",
    "InvalidNonceError",
    "InvalidSignatureError",
    "MalformedRestResponseError",
    "MalformedTokenResponseError",
    "MarketModeError",
    "OrderRateLimitExceededError",
    "PermissionDeniedError",
    "PostOnlyModeError",
    "RateLimitExceededError",
    "RestError",
    "RestHTTPError",
    "ServiceBusyError",
    "ServiceUnavailableError",
    "TemporaryLockoutError",
    "ThrottledError",
    "TokenHTTPError",
    "TokenRequestError",
    "UnknownOrderError",
    "body_excerpt",
    "body_fragment",
    "error_class",
    "envelope_failure",
    "first_failure",
    "redact_body_text",
]

EXCERPT_CHARS = 120
_SCANNED_BYTES = 4096
# A token, an API key or secret, or any base64 blob is a long run of these characters. Kraken's
# ids (``OQCLML-BW3P3-BUCMWZ``, 19 characters) and its error strings stay below the length.
_TOKEN_CHARS = "A-Za-z0-9+/=_-"
_TOKEN_SHAPED = re.compile(f"[{_TOKEN_CHARS}]{{20,}}")
_TRAILING_TOKEN_CHARS = re.compile(f"[{_TOKEN_CHARS}]+$")
REDACTED = "<redacted>"
_TOKEN_VALUE = re.compile(r'"token"\s*:\s*"[^"]*"?')
# ``EService: Throttled: 1700000000`` as sent; Kraken puts a space after some colons.
_COLON_SPACES = re.compile(r":\s+")
_THROTTLED_AT = re.compile(r"EService:Throttled:([0-9]{1,20}(?:\.[0-9]{1,20})?)")


def redact_body_text(text: str) -> str:
    """``text`` with every token-shaped run (20+ base64/url-safe characters) redacted, and the
    value of any ``"token": "..."`` whatever its length (even cut short).

    Applied to every fragment of a response body that reaches an exception message.
    """
    return _TOKEN_SHAPED.sub(REDACTED, _TOKEN_VALUE.sub('"token":' + REDACTED, text))


def body_fragment(text: str, limit: int = EXCERPT_CHARS) -> str:
    """One piece of body text (an error string, a key) made safe for a message: printable,
    redacted, at most ``limit`` characters (then ``…``)."""
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    text = redact_body_text(text)
    return text if len(text) <= limit else text[:limit] + "…"


def body_excerpt(body: bytes) -> str:
    """A short, printable, redacted rendering of a response body, quoted, for a message.

    Only the start of the body is read; a token-shaped run cut by that limit is dropped
    whole, so not even a prefix of a token survives. Non-printable characters become spaces.
    """
    scanned = body[:_SCANNED_BYTES]
    text = scanned.decode("utf-8", errors="replace")
    if len(body) > _SCANNED_BYTES:
        text = _TRAILING_TOKEN_CHARS.sub("", text)
    return repr(body_fragment(text))


def first_failure(errors: tuple[str, ...]) -> str | None:
    """The first string in Kraken's ``error`` list that fails the call, or ``None``.

    Anything that is not a ``W`` warning fails, even text without a severity prefix: guessing
    that an unknown string was harmless could hide a real refusal.
    """
    return next((text for text in errors if not text.startswith("W")), None)


class RestError(ProtocolError):
    """A private REST call did not return its result.

    ``errors`` holds every error/warning string Kraken sent, verbatim; ``error`` the first
    string that is not a ``W`` warning, parsed (``None`` for HTTP and format errors);
    ``status`` the HTTP status; ``call`` the method (``"OpenOrders"``). A Kraken error string
    with no dedicated subclass is raised as this class. ``permanent`` (class attribute) is True
    when retrying with the same credentials cannot succeed.
    """

    prefix: ClassVar[str] = ""
    hint: ClassVar[str] = ""
    permanent: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: tuple[str, ...] = (),
        call: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors
        self.call = call
        first = first_failure(errors)
        self.error: KrakenError | None = None if first is None else KrakenError.parse(first)


TokenRequestError = RestError
"""The name the token call's errors had before the other private calls shared them."""


class InvalidKeyError(RestError):
    """``EAPI:Invalid key``: Kraken does not know the API key."""

    prefix = "EAPI:Invalid key"
    hint = "check the API key (KRAKEN_API_KEY): it is unknown, mistyped or was deleted"
    permanent = True


class InvalidSignatureError(RestError):
    """``EAPI:Invalid signature``: ``API-Sign`` did not match."""

    prefix = "EAPI:Invalid signature"
    hint = (
        "check that the secret belongs to this key and that the signed body, nonce and path "
        "are byte-identical to what was sent; `kraken-proto sign` recomputes API-Sign"
    )
    permanent = True


class InvalidNonceError(RestError):
    """``EAPI:Invalid nonce``: the nonce was not above the last one Kraken accepted."""

    prefix = "EAPI:Invalid nonce"
    hint = (
        "the nonce must exceed every nonce used before with this key: use one NonceSource per "
        "key (processes sharing a key: a SharedNonceSource, e.g. session journals in one "
        "directory), and never mix nonce units on a key "
        "(a key used with larger, e.g. nanosecond, nonces needs a larger units_per_second "
        "or a new key)"
    )


class PermissionDeniedError(RestError):
    """``EGeneral:Permission denied``: the key lacks the permission this call needs."""

    prefix = "EGeneral:Permission denied"
    hint = (
        'the API key lacks a permission this call needs (GetWebSocketsToken: "WebSocket '
        'interface", shown as "Access WebSockets API" in Kraken\'s API key settings; '
        'OpenOrders/QueryOrders: "Query open orders & trades"; ClosedOrders/TradesHistory/'
        'QueryTrades: "Query closed orders & trades"); edit the key or create one with it'
    )
    permanent = True


class InvalidArgumentsError(RestError):
    """``EGeneral:Invalid arguments``: the payload is malformed, incorrect or ambiguous."""

    prefix = "EGeneral:Invalid arguments"
    hint = "Kraken refused a parameter of the request (often an unknown txid or a bad value)"


class TemporaryLockoutError(RestError):
    """``EGeneral:Temporary lockout``: too many failed calls; Kraken locks the key for a while."""

    prefix = "EGeneral:Temporary lockout"
    hint = "too many invalid key/nonce/signature errors; wait about 15 minutes before retrying"


class InternalError(RestError):
    """``EGeneral:Internal error``: Kraken failed internally; its code follows a colon."""

    prefix = "EGeneral:Internal error"
    hint = "Kraken reported an internal error; retry later, contact support if it persists"


class RateLimitExceededError(RestError):
    """``EAPI:Rate limit exceeded``: the key's REST call counter is exhausted."""

    prefix = "EAPI:Rate limit exceeded"
    hint = "the key's REST call counter is exhausted; back off and let it decay"


class ThrottledError(RestError):
    """``EService: Throttled: <unix time>``: too many concurrent requests.

    ``retry_at`` is the unix time Kraken named (a ``Decimal``), or ``None`` when it sent none.
    """

    prefix = "EService:Throttled"
    hint = "too many concurrent requests; retry after the time Kraken named"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: tuple[str, ...] = (),
        call: str = "",
    ) -> None:
        super().__init__(message, status=status, errors=errors, call=call)
        first = first_failure(errors)
        match = None if first is None else _THROTTLED_AT.match(_COLON_SPACES.sub(":", first))
        self.retry_at: Decimal | None = None if match is None else Decimal(match[1])


class ServiceUnavailableError(RestError):
    """``EService:Unavailable``: Kraken's matching engine or API is offline."""

    prefix = "EService:Unavailable"
    hint = "Kraken's service is unavailable (maintenance or outage); retry later"


class ServiceBusyError(ServiceUnavailableError):
    """``EService:Busy``: Kraken is overloaded; treated like ``EService:Unavailable``."""

    prefix = "EService:Busy"
    hint = "Kraken's service is busy; retry later"


class MarketModeError(RestError):
    """``EService:Market in ... mode``: the market refuses this request for now."""

    prefix = "EService:Market in"
    hint = "the market is in a restricted mode (see the SystemStatus endpoint); retry later"


class CancelOnlyModeError(MarketModeError):
    """``EService:Market in cancel_only mode``."""

    prefix = "EService:Market in cancel_only mode"


class PostOnlyModeError(MarketModeError):
    """``EService:Market in post_only mode``."""

    prefix = "EService:Market in post_only mode"


class DeadlineElapsedError(RestError):
    """``EService:Deadline elapsed``: the request's deadline passed before Kraken handled it."""

    prefix = "EService:Deadline elapsed"
    hint = "the request timed out inside Kraken; its effect is unknown, query before retrying"


class UnknownOrderError(RestError):
    """``EOrder:Unknown order``: no order with that id (or filter) exists."""

    prefix = "EOrder:Unknown order"
    hint = "Kraken knows no such order"


class OrderRateLimitExceededError(RestError):
    """``EOrder:Rate limit exceeded``: the per-pair trading limiter (not the REST counter)."""

    prefix = "EOrder:Rate limit exceeded"
    hint = "the per-pair trading rate limit is exhausted; slow down order changes"


class RestHTTPError(RestError):
    """The HTTP status was not 200: the request did not reach Kraken's API layer."""


TokenHTTPError = RestHTTPError


class MalformedRestResponseError(RestError, RemoteProtocolError):
    """The body is not JSON or not the documented ``{"error": [...], "result": {...}}``."""


MalformedTokenResponseError = MalformedRestResponseError

# Most specific first: a longer prefix wins over a shorter one it extends.
_KRAKEN_ERRORS: tuple[type[RestError], ...] = (
    InvalidKeyError,
    InvalidSignatureError,
    InvalidNonceError,
    PermissionDeniedError,
    InvalidArgumentsError,
    TemporaryLockoutError,
    InternalError,
    RateLimitExceededError,
    ThrottledError,
    ServiceBusyError,
    ServiceUnavailableError,
    CancelOnlyModeError,
    PostOnlyModeError,
    MarketModeError,
    DeadlineElapsedError,
    UnknownOrderError,
    OrderRateLimitExceededError,
)


def error_class(text: str) -> type[RestError]:
    """The class Kraken's error string ``text`` maps to (``RestError`` when unknown)."""
    normalized = _COLON_SPACES.sub(":", text)
    for cls in _KRAKEN_ERRORS:
        if normalized.startswith(cls.prefix):
            return cls
    return RestError


def envelope_failure(call: str, errors: tuple[str, ...]) -> RestError | None:
    """The typed error for Kraken's ``error`` list of a ``call``, or ``None`` if it succeeded.

    The first string that is not a ``W`` warning decides (matched by prefix, since Kraken may
    append ``:detail``). Its text goes into the message redacted, with the class's hint.
    """
    failure = first_failure(errors)
    if failure is None:
        return None
    cls = error_class(failure)
    hint = f" ({cls.hint})" if cls.hint else ""
    return cls(
        f"{call} failed: {body_fragment(failure)}{hint}", status=200, errors=errors, call=call
    )
