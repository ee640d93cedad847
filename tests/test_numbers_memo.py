"""``number_hook``'s memo of number texts: a hit gives exactly what a miss would have, only
checked text is remembered, and the memo stays small (it starts over when full, and long
texts are never kept)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import kraken_proto
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kraken_proto import _numbers
from kraken_proto._numbers import (
    NUMBER_TEXT,
    OUT_OF_RANGE,
    KrakenFreshNumber,
    KrakenNumber,
    json_number,
    json_number_hook,
    memo_hook,
    number_hook,
)


@pytest.fixture(autouse=True)
def _empty_memo() -> Iterator[None]:
    _numbers._cache.clear()
    yield
    _numbers._cache.clear()


def test_a_repeated_text_gives_the_same_decimal_from_the_memo() -> None:
    first = number_hook(Decimal, "0.00000000")  # written 0E-8: the exact test's path
    again = number_hook(Decimal, "0.00000000")
    assert again is first
    assert str(first) == "0E-8"
    assert _numbers._cache == {"0.00000000": first}


@pytest.mark.parametrize("text", ["NaN", " 1", "+1", ".5", "5.", "1_000", "1e5", "\u0661"])
def test_rejected_text_is_never_remembered_and_stays_rejected(text: str) -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="Kraken's number text"):
            number_hook(Decimal, text)
    assert _numbers._cache == {}


def test_the_memo_starts_over_when_full() -> None:
    for number in range(_numbers._CACHE_SIZE):
        number_hook(Decimal, str(number))
    assert len(_numbers._cache) == _numbers._CACHE_SIZE
    assert number_hook(Decimal, "1.5") == Decimal("1.5")
    assert _numbers._cache == {"1.5": Decimal("1.5")}


def test_long_texts_are_not_remembered() -> None:
    text = "1" * (_numbers._CACHE_TEXT + 1)
    assert number_hook(Decimal, text) == Decimal(text)
    assert _numbers._cache == {}


_TEXTS = st.one_of(
    st.from_regex(NUMBER_TEXT, fullmatch=True),
    st.text(alphabet="0123456789.-+_eE nN\u0661", max_size=12),
)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(_TEXTS, max_size=6))
def test_the_memo_never_changes_an_answer(texts: list[str]) -> None:
    def answer(text: str) -> tuple[str, str]:
        try:
            number = number_hook(Decimal, text)
        except ValueError as error:
            return ("rejected", str(error))
        return ("accepted", repr(number))

    for text in texts + texts:  # the second pass finds the accepted ones in the memo
        memo = answer(text)
        _numbers._cache.pop(text, None)
        assert answer(text) == memo
        assert (memo[0] == "accepted") == (NUMBER_TEXT.fullmatch(text) is not None)


_VALUES = st.one_of(
    _TEXTS,
    st.decimals(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.just(OUT_OF_RANGE),
    st.floats(),
    st.none(),
)


@settings(max_examples=200, deadline=None)
@given(value=_VALUES)
def test_the_json_number_hook_answers_as_number_hook(value: object) -> None:
    def answer(hook: object) -> tuple[str, str]:
        try:
            return ("ok", repr(hook(Decimal, value)))  # type: ignore[operator]
        except (ValueError, TypeError) as error:
            return (type(error).__name__, str(error))

    assert answer(json_number_hook) == answer(number_hook)


@settings(max_examples=300, deadline=None)
@given(value=_VALUES.filter(lambda v: not (isinstance(v, Decimal) and v.is_snan())))
def test_the_memo_hook_answers_as_number_hook(value: object) -> None:
    # memo_hook is KrakenNumber[value]: a C lookup in the memo, Python only on a miss. A
    # signaling NaN cannot be hashed, but no decoder hands one over (float_hook builds Decimals
    # from JSON number text, which never spells one).
    def answer(hook: object) -> tuple[str, str]:
        try:
            return ("ok", repr(hook(KrakenNumber, value)))  # type: ignore[operator]
        except (ValueError, TypeError) as error:
            return (type(error).__name__, str(error))

    first = answer(memo_hook)
    assert answer(memo_hook) == first  # the second time, a remembered text comes from the memo
    assert first == answer(number_hook)


@settings(max_examples=300, deadline=None)
@given(value=_VALUES.filter(lambda v: not (isinstance(v, Decimal) and v.is_snan())))
def test_a_fresh_number_field_answers_as_number_hook_and_leaves_the_memo_alone(
    value: object,
) -> None:
    # KrakenFreshNumber fields (timestamps) read text with their own copy of the memo's check;
    # the answers and errors must stay the memo's, and nothing they read is remembered.
    def answer(hook: object, kind: type) -> tuple[str, str]:
        try:
            return ("ok", repr(hook(kind, value)))  # type: ignore[operator]
        except (ValueError, TypeError) as error:
            return (type(error).__name__, str(error))

    _numbers._cache.clear()  # (the fixture runs once for all the examples)
    fresh = answer(memo_hook, KrakenFreshNumber)
    assert len(_numbers._cache) == 0
    assert fresh == answer(number_hook, KrakenNumber)
    assert fresh == answer(memo_hook, KrakenFreshNumber)
    assert isinstance(Decimal(1), KrakenFreshNumber)
    assert not isinstance("1", KrakenFreshNumber)


def test_timestamps_are_fresh_numbers_and_decode_exactly() -> None:
    from kraken_proto.v1 import OpenOrders, OwnTrades, decode
    from kraken_proto.v1._events import OrderRecord, Trade

    def kinds(record: type) -> set[str]:
        return {
            name
            for name, kind in record.__annotations__.items()
            if "KrakenFreshNumber" in str(kind)
        }

    assert kinds(Trade) == {"time"}
    assert kinds(OrderRecord) == {"opentm", "starttm", "expiretm", "lastupdated"}
    orders = decode(
        b'[[{"OA":{"lastupdated":"1700220123.114325","opentm":"1700220000.1"}}],'
        b'"openOrders",{"sequence":2}]'
    )
    assert isinstance(orders, OpenOrders)
    record = orders.orders[0][1]
    assert record.lastupdated == Decimal("1700220123.114325")
    assert record.lastupdated.as_tuple() == Decimal("1700220123.114325").as_tuple()
    assert str(record.opentm) == "1700220000.1"
    trades = decode(b'[[{"TA":{"time":"1699987300.892228"}}],"ownTrades",{"sequence":2}]')
    assert isinstance(trades, OwnTrades)
    assert str(trades.trades[0][1].time) == "1699987300.892228"
    assert len(_numbers._cache) == 0  # texts of fresh fields are never remembered
    for bad in (b'"NaN"', b'"1e5"', b'" 1"', b'"1_000"'):
        frame = b'[[{"TA":{"time":' + bad + b'}}],"ownTrades",{"sequence":2}]'
        with pytest.raises(kraken_proto.RemoteProtocolError, match="time"):
            decode(frame)


@pytest.mark.parametrize("value", [[], {}, ["1"]])
def test_the_memo_hook_refuses_what_cannot_be_looked_up(value: object) -> None:
    with pytest.raises(TypeError):
        memo_hook(KrakenNumber, value)


def test_json_number_texts_are_remembered_apart_and_cleared_with_the_memo() -> None:
    first = json_number("26599.90")
    assert json_number("26599.90") is first
    assert repr(first) == "Decimal('26599.90')"
    assert json_number("1e5") == Decimal("1E+5")
    long_text = "1" * _numbers._CACHE_TEXT + ".5"
    assert json_number(long_text) == Decimal(long_text)
    assert _numbers._json_cache == {"26599.90": first, "1e5": Decimal("1E+5")}
    assert _numbers._cache == {}  # a JSON number's text never passes for checked Kraken text
    with pytest.raises(ValueError, match="Kraken's number text"):
        number_hook(Decimal, "1e5")
    _numbers._cache.clear()
    assert _numbers._json_cache == {}


def test_the_json_number_memo_starts_over_when_full() -> None:
    for number in range(_numbers._CACHE_SIZE):
        json_number(f"{number}.5")
    assert len(_numbers._json_cache) == _numbers._CACHE_SIZE
    assert json_number("0.25") == Decimal("0.25")
    assert _numbers._json_cache == {"0.25": Decimal("0.25")}


def test_an_exponent_past_decimals_range_is_refused_by_json_number() -> None:
    with pytest.raises(ArithmeticError):
        json_number("1e99999999999999999999")
    assert _numbers._json_cache == {}
