"""Field validators shared by the v1 and v2 requests (``v1/_request_fields`` and its v2 twin).

Each raises ``LocalProtocolError`` naming the bad field (``name``) and what was wrong; the
ones that return a value return it normalised (``_decimal``: an exact ``Decimal``). The
``_is_*`` predicates are the requests' fast paths: True only for values the matching check
accepts unchanged, exact types only, and never a message built; False leaves the value to the
check. ``_decimal_text`` writes a Decimal for both wire formats.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import msgspec

from ._errors import LocalProtocolError
from ._repr import decimal_text

_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+\-][0-9]{2}:[0-9]{2})"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]{1,18}")
# No whitespace, and no lone surrogate: one cannot be encoded as UTF-8, so encode would raise
# UnicodeEncodeError carrying the whole string (the token, for a token).
_NO_SPACE = re.compile(r"[^\s\ud800-\udfff]+")


def _no_space(text: str) -> bool:
    """``_NO_SPACE.fullmatch(text)``, with a fast path for the usual printable ASCII text: every
    printable ASCII character but the space is neither whitespace nor a surrogate."""
    if text.isascii() and text.isprintable() and text and " " not in text:
        return True
    return _NO_SPACE.fullmatch(text) is not None


_INT32 = (-(2**31), 2**31 - 1)
_INT32_MIN, _INT32_MAX = _INT32
_MAX_DEAD_MANS_TIMEOUT = 86399
_ZERO = Decimal(0)
"""Compared with a Decimal, a Decimal zero is cheaper than the int 0 (no conversion)."""


# Tuples, not ``A | B``: isinstance with a union builds the union object on every call.
_DECIMAL_OR_INT = (Decimal, int)


def _decimal_text(value: Decimal) -> str:
    """``format(value, "f")``: the digits without exponent notation, which Kraken does not
    parse. ``str`` gives the same text, about three times faster, whenever it has no exponent
    (Decimal's plain notation is the same digits either way). The context's ``capitals``
    decides whether ``str`` writes the exponent as E or e. (A wire writer, not a check; here
    because the v1 and v2 writers share it.)"""
    text = str(value)
    if "E" in text or "e" in text:
        return format(value, "f")
    return text


def _fail(name: str, problem: str) -> LocalProtocolError:
    return LocalProtocolError(f"{name}: {problem}")


def _type_name(value: object) -> str:
    return type(value).__name__


def _check_bool(name: str, value: object) -> None:
    if value is not None and not isinstance(value, bool):
        raise _fail(name, f"must be a bool, not {_type_name(value)}")


def _is_text(value: object) -> bool:
    """Whether ``_check_text`` accepts ``value`` by its fast path, for the requests' fast
    paths: an exact ``str`` of printable ASCII without a space (anything else, valid or not,
    is left to ``_check_text``)."""
    return (
        type(value) is str
        and value.isascii()
        and value.isprintable()
        and value != ""
        and " " not in value
    )


def _check_text(name: str, value: object) -> None:
    """A non-empty string without whitespace or lone surrogates (pairs, ids)."""
    if not isinstance(value, str):
        raise _fail(name, f"must be a str, not {_type_name(value)}")
    if not _no_space(value):
        raise _fail(name, "must be a non-empty string without whitespace or lone surrogates")


def _decimal(name: str, value: object) -> Decimal:
    """An exact, finite, positive Decimal from a Decimal or int; floats are refused."""
    if isinstance(value, float):
        raise _fail(
            name,
            "got a float; floats cannot hold prices or volumes exactly, "
            "pass decimal.Decimal('...') instead",
        )
    if type(value) is Decimal:  # the usual case: already exact, nothing to convert
        number = value
    elif isinstance(value, bool) or not isinstance(value, _DECIMAL_OR_INT):
        raise _fail(name, f"must be a decimal.Decimal, not {_type_name(value)}")
    else:
        number = Decimal(value)
    if not number.is_finite() or number <= 0:
        # Positional digits: Decimal("0.00000000") reads "0E-8" through str().
        raise _fail(name, f"must be a finite number greater than zero, got {decimal_text(number)}")
    return number


def _check_choice(name: str, value: object, choices: frozenset[str]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise _fail(name, f"must be one of {', '.join(sorted(choices))}, got {value!r}")


def _int32(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(name, f"must be an int, not {_type_name(value)}")
    if not _INT32[0] <= value <= _INT32[1]:
        raise _fail(name, f"must fit a signed 32-bit integer, got {value}")


def _is_int32(value: object) -> bool:
    """Whether ``_int32`` accepts ``value`` (an ``int``, not a subclass: bools are refused)."""
    return type(value) is int and _INT32_MIN <= value <= _INT32_MAX


def _deadline(name: str, value: object) -> None:
    if value is not None and not (isinstance(value, str) and _RFC3339.fullmatch(value)):
        raise _fail(name, "must be an RFC3339 timestamp string such as 2022-12-25T09:30:59.123Z")


def _is_cl_ord_id(value: object) -> bool:
    """Whether ``_cl_ord_id`` accepts ``value``, for the requests' fast paths: a ``str`` (not a
    subclass, which is left to ``_cl_ord_id``) that is a UUID, 32 hex digits, or 1 to 18
    printable ASCII characters. A UUID (36) or 32 hex digits cannot be 18 characters or
    fewer, and for ASCII text ``isprintable`` is exactly the range ``\\x20-\\x7e``."""
    if type(value) is not str:
        return False
    if len(value) <= 18:
        return value.isascii() and value.isprintable() and value != ""
    return _UUID.fullmatch(value) is not None or _HEX32.fullmatch(value) is not None


def _cl_ord_id(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise _fail(name, f"must be a str, not {_type_name(value)}")
    if not (_UUID.fullmatch(value) or _HEX32.fullmatch(value) or _PRINTABLE_ASCII.fullmatch(value)):
        raise _fail(name, "must be a UUID, 32 hex digits, or at most 18 printable ASCII characters")


def _ids(name: str, value: object, check: Any) -> tuple[Any, ...]:
    """One id or an iterable of ids, as a tuple, each passing ``check``."""
    if isinstance(value, str | int):
        items: tuple[Any, ...] = (value,)
    elif isinstance(value, Iterable):
        items = tuple(value)
    else:
        raise _fail(name, f"must be an id or a list of ids, not {_type_name(value)}")
    for item in items:
        check(name, item)
    return items


# Normalise a field of a frozen request (a msgspec Struct) during __post_init__.
_set = msgspec.structs.force_setattr


def check_token(token: object) -> str:
    """Return ``token`` if it looks like a session token; the error never shows the token."""
    if not isinstance(token, str) or not _no_space(token):
        raise LocalProtocolError(
            "token: must be a non-empty string without whitespace or lone surrogates"
        )
    return token


def _dead_mans_timeout(name: str, value: object) -> None:
    """A dead man's switch timeout: 0 (disarm) to 86399 seconds."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(name, f"must be an int of seconds, not {_type_name(value)}")
    if not 0 <= value <= _MAX_DEAD_MANS_TIMEOUT:
        raise _fail(name, f"must be 0 (disarm) to {_MAX_DEAD_MANS_TIMEOUT} seconds")
