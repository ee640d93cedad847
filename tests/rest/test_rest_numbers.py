"""REST amounts and times take only Kraken's number text or a JSON number (issue 19, item 2);
a number the parser cannot hold fails only a parser that reads it."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from kraken_proto.rest import (
    MalformedRestResponseError,
    parse_closed_orders_response,
    parse_open_orders_response,
    parse_query_orders_response,
    parse_query_trades_response,
    parse_token_response,
    parse_trades_history_response,
)

from tests.number_texts import BAD_TEXTS, HUGE_EXPONENT, HUGE_INTEGER
from tests.rest.test_rest_results import (
    CLOSED_EXAMPLE,
    HISTORY_EXAMPLE,
    OPEN_EXAMPLE,
    QUERY_EXAMPLE,
    QUERY_TRADES_EXAMPLE,
)

ORDER_FIELDS = ["vol", "vol_exec", "cost", "fee", "price", "stopprice", "opentm", "closetm"]
TRADE_FIELDS = ["price", "cost", "fee", "vol", "margin", "time", "net"]


def orders_body(field: str, value: str) -> bytes:
    """OpenOrders' doc example with ``field`` (``descr.x`` for the descr) set to JSON ``value``."""
    document = json.loads(OPEN_EXAMPLE)
    order = document["result"]["open"]["OQCLML-BW3P3-BUCMWZ"]
    target, name = (order["descr"], field[6:]) if field.startswith("descr.") else (order, field)
    target[name] = "@"
    return json.dumps(document).replace('"@"', value).encode()


def trades_body(field: str, value: str) -> bytes:
    document = json.loads(HISTORY_EXAMPLE)
    document["result"]["trades"]["THVRQM-33VKH-UCI7BS"][field] = "@"
    return json.dumps(document).replace('"@"', value).encode()


@pytest.mark.parametrize("text", BAD_TEXTS)
@pytest.mark.parametrize("field", [*ORDER_FIELDS, "descr.price", "descr.price2"])
def test_an_order_number_that_is_not_kraken_text_is_malformed(field: str, text: str) -> None:
    body = orders_body(field, json.dumps(text))
    with pytest.raises(MalformedRestResponseError) as caught:
        parse_open_orders_response(200, body)
    assert f"result.open['OQCLML-BW3P3-BUCMWZ'].{field}: expected a decimal" in str(caught.value)


@pytest.mark.parametrize("text", BAD_TEXTS)
@pytest.mark.parametrize("field", TRADE_FIELDS)
def test_a_trade_number_that_is_not_kraken_text_is_malformed(field: str, text: str) -> None:
    body = trades_body(field, json.dumps(text))
    with pytest.raises(MalformedRestResponseError) as caught:
        parse_trades_history_response(200, body)
    message = str(caught.value)
    assert f"result.trades['THVRQM-33VKH-UCI7BS'].{field}: expected a decimal" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"1688667796.880200"', "1688667796.880200"),
        ('"-0.00010000"', "-0.00010000"),
        ("1688667796.8802", "1688667796.8802"),
        ("1.6886677968802E+9", "1688667796.8802"),
        (HUGE_INTEGER, HUGE_INTEGER),
    ],
)
def test_kraken_number_text_and_json_numbers_keep_their_digits(value: str, expected: str) -> None:
    result = parse_trades_history_response(200, trades_body("time", value))
    time = result.trades["THVRQM-33VKH-UCI7BS"].time
    assert time == Decimal(expected)
    if "E" not in value:
        assert time.as_tuple() == Decimal(expected).as_tuple()


PARSE_EXAMPLES: list[tuple[Callable[[int, bytes], Any], bytes]] = [
    (parse_open_orders_response, OPEN_EXAMPLE),
    (parse_closed_orders_response, CLOSED_EXAMPLE),
    (parse_query_orders_response, QUERY_EXAMPLE),
    (parse_trades_history_response, HISTORY_EXAMPLE),
    (parse_query_trades_response, QUERY_TRADES_EXAMPLE),
    (parse_token_response, b'{"error":[],"result":{"token":"abcdefghij","expires":900}}'),
]


@pytest.mark.parametrize("number", [HUGE_EXPONENT, "-1e-99999999999999999999", HUGE_INTEGER])
@pytest.mark.parametrize(("parse", "example"), PARSE_EXAMPLES)
def test_a_number_past_the_limits_in_an_unknown_field_is_ignored(
    parse: Callable[[int, bytes], Any], example: bytes, number: str
) -> None:
    """Unknown fields never break parsing, whatever number they hold."""
    unknown = b'"later":[' + number.encode() + b"],"
    body = example.replace(b'{"error":[]', b'{"extra":' + number.encode() + b',"error":[]', 1)
    for record_start in (b'{"refid":', b'{"ordertxid":', b'{"token":'):  # inside the record
        body = body.replace(record_start, record_start[:1] + unknown + record_start[1:], 1)
    assert body.count(b'"later"') == 1
    assert parse(200, body) == parse(200, example)


@pytest.mark.parametrize("number", [HUGE_EXPONENT, "-1e-99999999999999999999"])
def test_an_exponent_past_decimals_range_in_a_field_read_is_malformed(number: str) -> None:
    with pytest.raises(
        MalformedRestResponseError,
        match=r"\.time: expected a decimal, got a number out of Decimal's range",
    ):
        parse_trades_history_response(200, trades_body("time", number))
    body = b'{"error":[],"result":{"token":"abcdefghij","expires":' + number.encode() + b"}}"
    with pytest.raises(MalformedRestResponseError, match="got a number out of Decimal's range"):
        parse_token_response(200, body)


@pytest.mark.parametrize("number", [HUGE_EXPONENT, HUGE_INTEGER])
def test_a_number_past_the_limits_does_not_hide_invalid_utf8(number: str) -> None:
    body = b'{"error":[],"result":{"x":' + number.encode() + b',"y":"\xff"}}'
    with pytest.raises(MalformedRestResponseError, match="body is not JSON"):
        parse_open_orders_response(200, body)
