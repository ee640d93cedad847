"""Kraken's numbers: the text a money, quantity or time field may hold, and where numbers the
peer sent become ``Decimal`` (pure).

Kraken writes a number either as text (every v1 field, REST amounts: ``"34.50000"``) or as a
JSON number (v2, REST times: ``34.5``). Text must be Kraken's form, ``NUMBER_TEXT``: an optional
leading ``-``, ASCII digits, and an optional ``.`` followed by at least one digit. ``Decimal()``
takes far more (``NaN``, ``sNaN``, ``Infinity``, ``inf``, ``" 1"``, ``"1_000"``, ``"+1"``,
``".5"``, ``"5."``, ``"1e5"``, Arabic-Indic or fullwidth digits), so peer text reaches it only
through ``NUMBER_TEXT``. A JSON number has already passed JSON's grammar (which adds an
exponent) when msgspec hands it over; it becomes a ``Decimal`` with exactly its digits.

A leading ``-`` is allowed in every field: fees, ledger amounts, REST ``net`` and v2 trigger
offsets can be negative, and ``-`` is valid JSON and Kraken text alike.

Event fields that hold numbers are declared ``KrakenNumber``: ``decimal.Decimal`` to a type
checker, and at runtime a marker type for which msgspec calls a hook on each value
(``number_hook``, or on the v1 fast path ``memo_hook``, its answer looked up in C), so the typed
fast path checks the text exactly where it becomes a ``Decimal``. Short texts that passed the
check are remembered with their ``Decimal`` in a small memo (bounded, started over when full):
Kraken repeats them across frames, and a dict hit costs less than ``Decimal()``. The texts of
JSON numbers get a memo of their own (``json_number``, the typed decoders' ``float_hook``).
Equal texts may therefore give the very same (immutable) ``Decimal`` object. Timestamps, which
never repeat, are declared ``KrakenFreshNumber``: the same check, without the memo.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import msgspec

__all__ = [
    "NUMBER_TEXT",
    "OUT_OF_RANGE",
    "KrakenFreshNumber",
    "KrakenNumber",
    "NumberOutOfRange",
    "json_number_hook",
    "load_json",
    "json_number",
    "memo_hook",
    "number_hook",
]

NUMBER_TEXT: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
"""Kraken's number text (use ``fullmatch``)."""

_NOT_TEXT = "expected Kraken's number text (ASCII digits, an optional leading '-' and '.digits')"


class NumberOutOfRange:
    """Stands for a JSON number whose exponent is past what ``Decimal`` can hold
    (``1e99999999999999999999``): ``load_json`` returns ``OUT_OF_RANGE`` in its place."""

    __slots__ = ()


OUT_OF_RANGE: Final = NumberOutOfRange()


_CACHE_SIZE: Final = 1024
"""At most this many number texts are remembered (then the memo starts over)."""
_CACHE_TEXT: Final = 12
"""Texts longer than this are not remembered: a memo of peer text stays small, and Kraken's
timestamps ("1700220123.114325"), which never repeat, skip the insert (a miss costs ~150 ns more
than no memo; a hit saves ~300 ns)."""


class _Memo(dict):  # type: ignore[type-arg]  # a dict[str, Decimal]
    """Text that passed the check -> its Decimal. Kraken repeats the same texts across frames
    ("0.00000000" in every new order, the same prices and volumes); a dict hit costs less than
    Decimal() alone, and a Decimal is immutable, so events may share one. The memo never
    changes a result: only text that passed the check is stored, with the Decimal it gave.

    ``memo[value]`` is ``number_hook``'s answer for any value: a hit is one dict lookup in C,
    and only a miss runs Python (``__missing__``, which reads, checks and maybe remembers it).
    ``clear`` empties the memo of JSON number texts too.
    """

    __slots__ = ()

    def clear(self, _clear: Any = dict.clear) -> None:
        _clear(self)
        _json_cache_clear()

    def __missing__(
        self,
        value: Any,
        /,
        _str: type[str] = str,
        _decimal: type[Decimal] = Decimal,
        _finite: Any = Decimal.is_finite,
        _match: Any = NUMBER_TEXT.fullmatch,
        _longest: int = _CACHE_TEXT,
        _most: int = _CACHE_SIZE,
    ) -> Decimal:
        # (The defaulted parameters are local names for the hot path.)
        if type(value) is _str:
            try:
                number = _decimal(value)
            except ArithmeticError:  # InvalidOperation: not a number at all
                raise ValueError(_NOT_TEXT) from None
            # Cheap test first: a finite Decimal writes itself without exponent exactly as
            # Kraken text, so text equal to that is valid. The rest (Kraken's "0.00000000" is
            # written 0E-8) takes the exact test.
            if (_str(number) == value and "E" not in value and _finite(number)) or _match(value):
                if len(value) <= _longest:
                    if len(self) >= _most:
                        self.clear()  # start over: the texts in use come back in at once
                    self[value] = number
                return number
            raise ValueError(_NOT_TEXT)
        if type(value) is _decimal:
            return value
        if type(value) is int:
            return _decimal(value)
        if value is OUT_OF_RANGE:
            raise ValueError("a number too large to represent")
        raise TypeError(f"Expected a number, got `{type(value).__name__}`")


class _JsonMemo(dict):  # type: ignore[type-arg]  # a dict[str, Decimal]
    """The text of a JSON number with a fraction or exponent -> its exact Decimal, for
    ``json_number``. JSON's grammar has already checked the text, so a miss only reads it (no
    Kraken-text check) and remembers a short one. Kept apart from the text memo: ``"1e5"`` is a
    JSON number, but not Kraken's number text."""

    __slots__ = ()

    def __missing__(
        self,
        text: str,
        /,
        _decimal: type[Decimal] = Decimal,
        _longest: int = _CACHE_TEXT,
        _most: int = _CACHE_SIZE,
    ) -> Decimal:
        number = _decimal(text)  # ArithmeticError for an exponent past Decimal's range
        if len(text) <= _longest:
            if len(self) >= _most:
                dict.clear(self)  # start over
            self[text] = number
        return number


_cache: _Memo = _Memo()
_json_cache: _JsonMemo = _JsonMemo()
_json_cache_clear = _json_cache.clear

json_number: Final[Callable[[str], Decimal]] = _json_cache.__getitem__
"""``float_hook`` for the typed decoders: ``Decimal(text)`` for the text of a JSON number with a
fraction or exponent, exactly its digits; a short text seen before gives the same (immutable)
``Decimal`` from a memo, by one lookup in C. Raises ``ArithmeticError`` as ``Decimal`` does
for an exponent past its range."""


class _DecimalCheck(type):
    # isinstance(x, KrakenNumber) is isinstance(x, Decimal). msgspec checks every value the hook
    # returns against the field's type; a bound C method answers without a Python frame.
    __instancecheck__ = Decimal.__instancecheck__
    # KrakenNumber[value] is _cache[value], number_hook's answer. With ``memo_hook``
    # (operator.getitem) as dec_hook, msgspec calls getitem(KrakenNumber, value), and the
    # metaclass slot calls this bound C method with the value alone: a text seen before costs
    # one dict lookup and no Python frame.
    __getitem__ = _cache.__getitem__


if TYPE_CHECKING:
    KrakenNumber: TypeAlias = Decimal
else:

    class KrakenNumber(metaclass=_DecimalCheck):
        """A number field of an event: holds a ``decimal.Decimal`` (never an instance of this
        class). Decoders read it with ``dec_hook=memo_hook`` (or ``number_hook``) and
        ``float_hook=json_number`` (or ``Decimal``)."""

        __slots__ = ()


def _read_fresh(
    kind: type,
    value: Any,
    /,
    _str: type[str] = str,
    _decimal: type[Decimal] = Decimal,
    _finite: Any = Decimal.is_finite,
    _match: Any = NUMBER_TEXT.fullmatch,
    _memo: Any = _cache,
) -> Decimal:
    # KrakenFreshNumber[value] (the metaclass passes the class as ``kind``): number_hook's
    # answer without the memo. The check is _Memo.__missing__'s, written out again: a call to a
    # shared helper would cost 60 ns of the 300 this takes (a test holds the two answers
    # equal). (The defaulted parameters are local names for the hot path.)
    if type(value) is _str:
        try:
            number = _decimal(value)
        except ArithmeticError:
            raise ValueError(_NOT_TEXT) from None
        if (_str(number) == value and "E" not in value and _finite(number)) or _match(value):
            return number
        raise ValueError(_NOT_TEXT)
    return _memo[value]  # type: ignore[no-any-return]  # not text: as the memo answers


class _FreshDecimalCheck(type):
    # As _DecimalCheck, but KrakenFreshNumber[value] reads the value without the memo.
    __instancecheck__ = Decimal.__instancecheck__
    __getitem__ = _read_fresh


if TYPE_CHECKING:
    KrakenFreshNumber: TypeAlias = Decimal
else:

    class KrakenFreshNumber(metaclass=_FreshDecimalCheck):
        """A ``KrakenNumber`` field whose values never repeat (Kraken's timestamps, such as
        ``"1700220123.114325"``, longer than any text the memo keeps): ``memo_hook`` reads it
        with the same check and the same answers, without looking in the memo first (a
        lookup that always misses costs ~200 ns)."""

        __slots__ = ()


def number_hook(
    kind: type,
    value: Any,
    /,
    _str: type[str] = str,
    _get: Any = _cache.get,
    _read: Any = _cache.__missing__,
) -> Decimal:
    """msgspec's ``dec_hook`` for ``KrakenNumber`` fields: ``value`` as an exact ``Decimal``.

    ``value`` is what msgspec read: text, which must match ``NUMBER_TEXT``; a ``Decimal``
    (a JSON number with a fraction or exponent, via ``float_hook=Decimal``) or an ``int``,
    both taken as they are. Raises ``ValueError``/``TypeError`` otherwise, which msgspec
    reports as a ``ValidationError`` naming the path. ``kind`` is unused. (The defaulted
    parameters are local names; pass only two arguments.) Text seen before returns the same
    (immutable) ``Decimal`` as the first time, from a small memo.
    """
    if type(value) is _str:
        number = _get(value)
        if number is not None:
            return number  # type: ignore[no-any-return]
    return _read(value)  # type: ignore[no-any-return]


memo_hook: Final[Callable[[type, Any], Decimal]] = operator.getitem  # type: ignore[assignment]
"""``number_hook`` for the typed fast paths, where every custom field is a ``KrakenNumber``:
``memo_hook(KrakenNumber, value)`` is ``KrakenNumber[value]``, a lookup in the memo that runs no
Python for a text seen before (a miss reads the value as ``number_hook`` does). The same
answers and the same ``ValueError``/``TypeError`` for refused values (the messages may differ:
an unhashable value fails its lookup), so msgspec reports the same ``ValidationError`` kinds.
Use it only where ``kind`` is ``KrakenNumber`` or ``KrakenFreshNumber`` (which it reads without
the memo)."""


def json_number_hook(
    kind: type, value: Any, /, _decimal: type[Decimal] = Decimal, _hook: Any = number_hook
) -> Decimal:
    """``number_hook`` for decoders whose numbers are mostly JSON numbers (v2): the same
    answers and errors, with the ``Decimal`` case (``float_hook=Decimal`` already made it)
    tested first. (The defaulted parameters are local names; pass only two arguments.)"""
    if type(value) is _decimal:
        return value
    return _hook(kind, value)  # type: ignore[no-any-return]


_untyped: msgspec.json.Decoder[Any] = msgspec.json.Decoder(float_hook=Decimal)


def load_json(data: str | bytes | bytearray | memoryview) -> tuple[Any, bool]:
    """Parse one JSON document; return ``(value, out_of_range)``.

    Integers become ``int``, other numbers exact ``Decimal``. An integer too long for ``int()``
    (over ``sys.get_int_max_str_digits()`` digits, 4,300 by default) becomes an integral
    ``Decimal``; a number whose exponent is past ``Decimal``'s range becomes ``OUT_OF_RANGE``,
    and ``out_of_range`` is then True. Raises ``msgspec.DecodeError`` for input that is not
    JSON or not UTF-8, ``UnicodeError`` for ``str`` input that cannot be UTF-8 (lone
    surrogates), and ``RecursionError`` for nesting too deep.
    """
    try:
        return _untyped.decode(data), False
    except (msgspec.ValidationError, ArithmeticError):
        # An integer int() refuses (msgspec: "Integer value out of range") or an exponent
        # Decimal refuses (InvalidOperation from float_hook). Rare: read it the slow way.
        return _load_past_limits(data)


def _load_past_limits(data: str | bytes | bytearray | memoryview) -> tuple[Any, bool]:
    # msgspec checks the syntax without building values, so the stdlib parser below only ever
    # sees documents msgspec accepts (it is laxer: NaN, lone surrogate escapes).
    msgspec.json.decode(data, type=msgspec.Raw)
    if isinstance(data, str):
        text = data
    else:
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise msgspec.DecodeError("Invalid UTF-8 encoded string") from None
    out_of_range = False

    def fraction(digits: str) -> Decimal | NumberOutOfRange:
        nonlocal out_of_range
        try:
            return Decimal(digits)
        except ArithmeticError:
            out_of_range = True
            return OUT_OF_RANGE

    value = json.loads(text, parse_int=_integer, parse_float=fraction)
    return value, out_of_range


def _integer(digits: str) -> int | Decimal:
    try:
        return int(digits)
    except ValueError:  # past int()'s digit limit; Decimal holds any integer exactly
        return Decimal(digits)
