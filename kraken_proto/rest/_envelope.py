"""Kraken's REST response envelope, shared by every private call (pure).

``{"error": [...], "result": {...}}`` with HTTP 200; any other status means the request did
not reach Kraken's API. ``open_envelope`` returns the decoded ``result`` (numbers with a
fraction or exponent as exact ``Decimal``, read by ``kraken_proto._numbers.load_json``) and the
warnings, or the typed error to raise; it never raises itself, so the public parsers can drop
the body from their frame before raising (a traceback rendered with locals then cannot show a
token the body held). A number past what ``Decimal`` holds stands as ``OUT_OF_RANGE``: harmless
in a field no parser reads, an error (``json_kind`` names it) in one they do.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from kraken_proto._numbers import OUT_OF_RANGE, load_json

from ._errors import (
    MalformedRestResponseError,
    RestError,
    RestHTTPError,
    body_excerpt,
    envelope_failure,
)

__all__ = ["Envelope", "json_kind", "malformed", "open_envelope", "unwrap"]

T = TypeVar("T")


class Envelope(msgspec.Struct, frozen=True):
    """A successful envelope: the ``result`` value (any JSON) and the ``W`` warnings."""

    result: Any
    warnings: tuple[str, ...]


def json_kind(value: object) -> str:
    """Name a JSON value's kind without showing the value (it may be a token)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if value == "":
        return "an empty string"
    if value is OUT_OF_RANGE:
        return "a number out of Decimal's range"
    names = {str: "a string", int: "an integer", Decimal: "a number", list: "an array"}
    return names.get(type(value), "an object")


def open_envelope(call: str, status: int, body: bytes) -> Envelope | RestError:
    """Check the status and envelope of ``call``'s response; never raises.

    Gives ``RestHTTPError`` for a status other than 200 (its message: the status and a short
    redacted excerpt of the body), ``MalformedRestResponseError`` for a body that is not a JSON
    object with an ``error`` list of strings and (on success) a ``result``, and the typed error
    of the first Kraken error string.
    """
    if status != 200:
        return RestHTTPError(
            f"{call}: HTTP status {status} (the request did not reach Kraken's API);"
            f" body starts {body_excerpt(body)}",
            status=status,
            call=call,
        )
    try:
        document, _ = load_json(body)
    except (msgspec.DecodeError, RecursionError):
        return MalformedRestResponseError(
            f"{call} response: body is not JSON; it starts {body_excerpt(body)}",
            status=200,
            call=call,
        )
    if not isinstance(document, dict):
        return malformed(call, f"expected a JSON object, got {json_kind(document)}")
    raw_errors = document.get("error", [])
    if not isinstance(raw_errors, list) or not all(isinstance(e, str) for e in raw_errors):
        return malformed(call, '"error" is not a list of strings')
    errors = tuple(raw_errors)
    failure = envelope_failure(call, errors)
    if failure is not None:
        return failure
    if "result" not in document:
        return malformed(call, '"result" is missing')
    return Envelope(document["result"], errors)


def malformed(call: str, problem: str) -> MalformedRestResponseError:
    """The error for a body of the wrong shape. ``problem`` must hold no body text, or only
    text passed through ``body_fragment``: a body that parsed as JSON may hold a token."""
    return MalformedRestResponseError(f"{call} response: {problem}", status=200, call=call)


def unwrap(outcome: T | RestError) -> T:
    """Return ``outcome``, or raise it if it is an error (from this small frame)."""
    if isinstance(outcome, RestError):
        raise outcome
    return outcome
