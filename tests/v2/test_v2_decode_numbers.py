"""v2 number fields (issue 19, item 2): a JSON number follows JSON's grammar; a number sent as
text must be Kraken's number text, or the frame is a ``RemoteProtocolError`` naming the field,
on the fast and the careful path, as ``str`` and as ``bytes``. A number this decoder cannot hold
is ignored in an unknown field. A frame decodes the same as text and as its UTF-8 bytes."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import RemoteProtocolError
from kraken_proto.v2 import Balances, Event, Executions, Pong, UnknownMessage, decode
from kraken_proto.v2._decode import _decode_carefully

from tests.number_texts import (
    BAD_TEXTS,
    GOOD_TEXTS,
    HUGE_EXPONENT,
    HUGE_INTEGER,
    unknown_keys,
    unknown_values,
)
from tests.v2.fixtures_v2 import REAL_FRAMES


def outcomes(frame: str) -> list[tuple[str, Any]]:
    """What the fast path (as text and as bytes) and the careful path make of ``frame``."""
    results: list[tuple[str, Any]] = []
    for path in (decode, _decode_carefully):
        for given_ in (frame, frame.encode()):
            try:
                event = path(given_)
            except RemoteProtocolError as error:
                results.append(("error", str(error)))
            else:
                results.append(("event", (type(event).__name__, msgspec.to_builtins(event))))
    return results


def execution(fields: str) -> str:
    """An executions update with one record holding ``fields`` (JSON text as given)."""
    return (
        '{"channel":"executions","type":"update","data":[{"order_id":"OK4GJX-KSTLS-7DZZO5",'
        '"exec_type":"trade",' + fields + '}],"sequence":10}'
    )


def balance(fields: str) -> str:
    return '{"channel":"balances","type":"update","data":[{"asset":"USD",' + fields + "}]}"


# Each number field the fast path reads: the frame around a value, where the error names it,
# and where the event holds it.
PLACES = [
    (
        lambda v: execution(f'"last_price":{v}'),
        "$.data[0].last_price",
        lambda e: e.data[0].last_price,
    ),
    (lambda v: execution(f'"cum_qty":{v}'), "$.data[0].cum_qty", lambda e: e.data[0].cum_qty),
    (
        lambda v: execution(f'"fees":[{{"asset":"USD","qty":{v}}}]'),
        "$.data[0].fees[0].qty",
        lambda e: e.data[0].fees[0].qty,
    ),
    (
        lambda v: execution(f'"triggers":{{"price":{v}}}'),
        "$.data[0].triggers.price",
        lambda e: e.data[0].triggers.price,
    ),
    (lambda v: balance(f'"amount":{v}'), "$.data[0].amount", lambda e: e.data[0].amount),
    (
        lambda v: balance(f'"wallets":[{{"type":"spot","balance":{v}}}]'),
        "$.data[0].wallets[0].balance",
        lambda e: e.data[0].wallets[0].balance,
    ),
]


@pytest.mark.parametrize("text", BAD_TEXTS)
@pytest.mark.parametrize(("place", "path", "read"), PLACES)
def test_number_text_that_is_not_kraken_text_is_refused(
    place: Any, path: str, read: Any, text: str
) -> None:
    frame = place(json.dumps(text, ensure_ascii=False))
    for kind, detail in outcomes(frame):
        assert kind == "error", detail
        assert re.search(re.escape(f"{path}`"), detail), detail
        assert "number text" in detail


@pytest.mark.parametrize("text", GOOD_TEXTS)
@pytest.mark.parametrize(("place", "path", "read"), PLACES)
def test_kraken_number_text_keeps_its_digits(place: Any, path: str, read: Any, text: str) -> None:
    frame = place(json.dumps(text))
    for kind, detail in outcomes(frame):
        assert kind == "event", detail
    for given_ in (frame, frame.encode()):
        for path_ in (decode, _decode_carefully):
            value = read(path_(given_))
            assert type(value) is Decimal
            assert value.as_tuple() == Decimal(text).as_tuple()


@pytest.mark.parametrize(
    "number", ["26599.9", "0.005", "-0.0", "1e-8", "1.5E+3", "12345678901234567890123", "0"]
)
def test_a_json_number_keeps_its_digits(number: str) -> None:
    frame = execution(f'"last_price":{number}')
    for kind, detail in outcomes(frame):
        assert kind == "event", detail
    event = decode(frame)
    assert isinstance(event, Executions)
    assert event.data[0].last_price is not None
    assert event.data[0].last_price.as_tuple() == Decimal(number).as_tuple()


@pytest.mark.parametrize(("value", "kind"), [("true", "bool"), ("[]", "list"), ("{}", "dict")])
def test_a_value_that_is_no_number_is_refused(value: str, kind: str) -> None:
    for result, detail in outcomes(execution(f'"last_price":{value}')):
        assert result == "error"
        assert f"Expected a number, got `{kind}` - at `$.data[0].last_price`" in detail


@pytest.mark.parametrize(
    "number", [HUGE_INTEGER, "-" + HUGE_INTEGER, HUGE_EXPONENT, "-1e-99999999999999999999"]
)
def test_a_number_past_the_limits_in_an_unknown_field_is_ignored(number: str) -> None:
    for frame, expected in (
        ('{"method":"pong","req_id":3,"x":' + number + "}", Pong(req_id=3)),
        (execution(f'"cum_qty":1.5,"x":[{number}]'), None),
        # the careful path mends "" for an absent number, and must skip the unknown field too
        (execution(f'"cum_qty":1.5,"cost":"","x":{number}'), None),
    ):
        results = outcomes(frame)
        assert len(set(map(repr, results))) == 1, results
        event = decode(frame)
        if expected is not None:
            assert event == expected
        else:
            assert isinstance(event, Executions)
            assert event.data[0].cum_qty == Decimal("1.5")


def test_an_integer_past_ints_digit_limit_is_an_exact_decimal() -> None:
    frame = balance(f'"balance":{HUGE_INTEGER}')
    for kind, _ in outcomes(frame):
        assert kind == "event"
    event = decode(frame)
    assert isinstance(event, Balances)
    assert event.data[0].balance == Decimal(HUGE_INTEGER)
    unknown = '{"method":"news","n":' + HUGE_INTEGER + "}"
    for given_ in (unknown, unknown.encode()):
        expected = UnknownMessage(data={"method": "news", "n": Decimal(HUGE_INTEGER)})
        assert decode(given_) == expected


def test_an_exponent_past_decimals_range_is_refused_where_it_is_read() -> None:
    for kind, detail in outcomes(execution(f'"last_price":{HUGE_EXPONENT}')):
        assert kind == "error"
        assert "a number too large to represent - at `$.data[0].last_price`" in detail
    for kind, detail in outcomes('{"method":"pong","req_id":1,"time_in":' + HUGE_EXPONENT + "}"):
        assert kind == "error"
        assert "time_in" in detail
        assert "too large to represent" in detail
    for frame in (HUGE_EXPONENT, '{"channel":"news","x":' + HUGE_EXPONENT + "}"):
        for kind, detail in outcomes(frame):
            assert (kind, detail) == ("error", "frame holds a number too large to represent")


# --- the same frame as text and as bytes ----------------------------------------------------------


def _outcome(frame: str | bytes) -> tuple[str, Any]:
    try:
        event: Event = decode(frame)
    except RemoteProtocolError as error:
        return ("error", str(error))
    return ("event", (type(event).__name__, msgspec.to_builtins(event)))


@given(st.sampled_from(REAL_FRAMES), st.data())
def test_a_frame_decodes_the_same_as_text_and_as_bytes(frame: bytes, data: st.DataObject) -> None:
    """Every documented frame, with unknown fields holding non-ASCII text and numbers past the
    limits inserted anywhere."""
    text = frame.decode()
    for _ in range(data.draw(st.integers(1, 3))):
        starts = [i for i, char in enumerate(text) if char == "{" and text[i + 1 : i + 2] == '"']
        if not starts:
            break
        at = data.draw(st.sampled_from(starts))
        field = f"{data.draw(unknown_keys)}:{data.draw(unknown_values)},"
        text = text[: at + 1] + field + text[at + 1 :]
    assert _outcome(text) == _outcome(text.encode())


@given(
    st.one_of(
        st.integers(),
        st.integers(-20, 1100),
        st.decimals(allow_nan=False, allow_infinity=False),
        st.sampled_from(GOOD_TEXTS),
    )
)
def test_the_v2_number_hook_answers_as_number_hook(value: object) -> None:
    """The v2 decoders' hook (integers from a table) gives ``number_hook``'s answer, digits
    and all, for every value it is handed."""
    from kraken_proto._numbers import KrakenNumber, number_hook
    from kraken_proto.v2._decode import _number_hook

    got = _number_hook(KrakenNumber, value)
    want = number_hook(KrakenNumber, value)
    assert str(got) == str(want)
    assert got == want


def test_integers_in_a_push_decode_as_decimals_of_their_digits() -> None:
    frame = (
        '{"channel":"executions","type":"update","sequence":2,"data":[{"exec_type":"canceled",'
        '"order_id":"O1","cum_qty":0,"cum_cost":-3,"avg_price":1024,"fee_usd_equiv":123456789}]}'
    )
    event = decode(frame)
    assert isinstance(event, Executions)
    (record,) = event.data
    assert [str(record.cum_qty), str(record.cum_cost), str(record.avg_price)] == ["0", "-3", "1024"]
    assert str(record.fee_usd_equiv) == "123456789"
