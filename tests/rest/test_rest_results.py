"""The private REST parsers: doc examples, exact Decimals, round trips, hostile bodies."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import RemoteProtocolError, RestError
from kraken_proto.rest import (
    CancelOnlyModeError,
    ClosedOrdersResult,
    DeadlineElapsedError,
    InternalError,
    InvalidArgumentsError,
    InvalidKeyError,
    InvalidNonceError,
    InvalidSignatureError,
    MalformedRestResponseError,
    MalformedTokenResponseError,
    MarketModeError,
    OpenOrdersResult,
    OrderRateLimitExceededError,
    PermissionDeniedError,
    PostOnlyModeError,
    RateLimitExceededError,
    RestHTTPError,
    RestOrder,
    RestOrderDescr,
    RestTrade,
    ServiceBusyError,
    ServiceUnavailableError,
    TemporaryLockoutError,
    ThrottledError,
    TokenHTTPError,
    TokenRequestError,
    TradesHistoryResult,
    UnknownOrderError,
    parse_closed_orders_response,
    parse_open_orders_response,
    parse_query_orders_response,
    parse_query_trades_response,
    parse_token_response,
    parse_trades_history_response,
)

# --- the REST doc's examples (kraken-rest-private.md §2.6, §2.7) ---------------------------

OPEN_EXAMPLE = b"""{"error":[],"result":{"open":{"OQCLML-BW3P3-BUCMWZ":{"refid":null,"userref":0,"status":"open","opentm":1688666559.8974,"starttm":0,"expiretm":0,"descr":{"pair":"XBTUSD","type":"buy","ordertype":"limit","price":"30010.0","price2":"0","leverage":"none","order":"buy 1.25000000 XBTUSD @ limit 30010.0","close":""},"vol":"1.25000000","vol_exec":"0.37500000","cost":"11253.7","fee":"0.00000","price":"30010.0","stopprice":"0.00000","limitprice":"0.00000","misc":"","oflags":"fciq","trades":["TCCCTY-WE2O6-P3NB37"]}}}}"""  # noqa: E501
CLOSED_EXAMPLE = b"""{"error":[],"result":{"closed":{"O37652-RJWRT-IMO74O":{"refid":"None","userref":1,"status":"canceled","reason":"User requested","opentm":1688148493.7708,"closetm":1688148610.0482,"starttm":0,"expiretm":0,"descr":{"pair":"XBTGBP","type":"buy","ordertype":"stop-loss-limit","price":"23667.0","price2":"0","leverage":"none","order":"buy 0.00100000 XBTGBP @ limit 23667.0","close":""},"vol":"0.00100000","vol_exec":"0.00000000","cost":"0.00000","fee":"0.00000","price":"0.00000","stopprice":"0.00000","limitprice":"0.00000","misc":"","oflags":"fciq","trigger":"index"}},"count":2}}"""  # noqa: E501
QUERY_EXAMPLE = b"""{"error":[],"result":{"OBCMZD-JIEE7-77TH3F":{"refid":null,"userref":0,"status":"closed","reason":null,"opentm":1688665496.7808,"closetm":1688665499.1922,"starttm":0,"expiretm":0,"descr":{"pair":"XBTUSD","type":"buy","ordertype":"stop-loss-limit","price":"27500.0","price2":"0","leverage":"none","order":"buy 1.25000000 XBTUSD @ limit 27500.0","close":""},"vol":"1.25000000","vol_exec":"1.25000000","cost":"27526.2","fee":"26.2","price":"27500.0","stopprice":"0.00000","limitprice":"0.00000","misc":"","oflags":"fciq","trigger":"index","trades":["TZX2WP-XSEOP-FP7WYR"]}}}"""  # noqa: E501
HISTORY_EXAMPLE = b"""{"error":[],"result":{"trades":{"THVRQM-33VKH-UCI7BS":{"ordertxid":"OQCLML-BW3P3-BUCMWZ","postxid":"TKH2SE-M7IF5-CFI7LT","pair":"XXBTZUSD","time":1688667796.8802,"type":"buy","ordertype":"limit","price":"30010.00000","cost":"600.20000","fee":"0.00000","vol":"0.02000000","margin":"0.00000","misc":"","trade_id":40274859,"maker":true}},"count":9760}}"""  # noqa: E501
QUERY_TRADES_EXAMPLE = b"""{"error":[],"result":{"THVRQM-33VKH-UCI7BS":{"ordertxid":"OQCLML-BW3P3-BUCMWZ","postxid":"TKH2SE-M7IF5-CFI7LT","pair":"XXBTZUSD","time":1688667796.8802,"type":"buy","ordertype":"limit","price":"30010.00000","cost":"600.20000","fee":"0.00000","vol":"0.02000000","margin":"0.00000","misc":"","trade_id":93748276,"maker":true}}}"""  # noqa: E501

PARSERS: list[Callable[[int, bytes], Any]] = [
    parse_open_orders_response,
    parse_closed_orders_response,
    parse_query_orders_response,
    parse_trades_history_response,
    parse_query_trades_response,
    parse_token_response,
]


def exact(value: Decimal | None) -> tuple[Any, ...] | None:
    return None if value is None else value.as_tuple()


def test_open_orders_example() -> None:
    result = parse_open_orders_response(200, OPEN_EXAMPLE)
    assert isinstance(result, OpenOrdersResult)
    order = result.open["OQCLML-BW3P3-BUCMWZ"]
    assert order == RestOrder(
        refid=None,
        userref=0,
        status="open",
        opentm=Decimal("1688666559.8974"),
        starttm=Decimal(0),
        expiretm=Decimal(0),
        descr=RestOrderDescr(
            pair="XBTUSD",
            type="buy",
            ordertype="limit",
            price=Decimal("30010.0"),
            price2=Decimal("0"),
            leverage="none",
            order="buy 1.25000000 XBTUSD @ limit 30010.0",
            close="",
        ),
        vol=Decimal("1.25000000"),
        vol_exec=Decimal("0.37500000"),
        cost=Decimal("11253.7"),
        fee=Decimal("0.00000"),
        price=Decimal("30010.0"),
        stopprice=Decimal("0.00000"),
        limitprice=Decimal("0.00000"),
        misc="",
        oflags="fciq",
        trades=("TCCCTY-WE2O6-P3NB37",),
    )
    assert exact(order.vol) == Decimal("1.25000000").as_tuple()
    assert exact(order.opentm) == Decimal("1688666559.8974").as_tuple()
    assert result.warnings == ()
    with pytest.raises(TypeError):
        result.open["x"] = order  # type: ignore[index]


def test_closed_orders_example_and_paging() -> None:
    result = parse_closed_orders_response(200, CLOSED_EXAMPLE)
    order = result.closed["O37652-RJWRT-IMO74O"]
    assert (order.status, order.reason, order.refid, order.trigger) == (
        "canceled",
        "User requested",
        "None",
        "index",
    )
    assert order.closetm == Decimal("1688148610.0482")
    assert exact(order.vol_exec) == Decimal("0.00000000").as_tuple()
    assert result.count == 2
    assert result.next_ofs(0) == 1  # one order on this page, two in all
    assert result.next_ofs(1) is None
    assert ClosedOrdersResult().next_ofs() is None  # an empty page ends paging


def test_query_orders_example() -> None:
    result = parse_query_orders_response(200, QUERY_EXAMPLE)
    order = result.orders["OBCMZD-JIEE7-77TH3F"]
    assert order.reason is None
    assert order.fee == Decimal("26.2")
    assert order.trades == ("TZX2WP-XSEOP-FP7WYR",)


def test_trades_history_example() -> None:
    result = parse_trades_history_response(200, HISTORY_EXAMPLE)
    trade = result.trades["THVRQM-33VKH-UCI7BS"]
    assert trade == RestTrade(
        ordertxid="OQCLML-BW3P3-BUCMWZ",
        postxid="TKH2SE-M7IF5-CFI7LT",
        pair="XXBTZUSD",
        time=Decimal("1688667796.8802"),
        type="buy",
        ordertype="limit",
        price=Decimal("30010.00000"),
        cost=Decimal("600.20000"),
        fee=Decimal("0.00000"),
        vol=Decimal("0.02000000"),
        margin=Decimal("0.00000"),
        misc="",
        trade_id=40274859,
        maker=True,
    )
    assert result.count == 9760
    assert result.next_ofs(50) == 51
    assert TradesHistoryResult(count=5).next_ofs() is None


def test_query_trades_example() -> None:
    result = parse_query_trades_response(200, QUERY_TRADES_EXAMPLE)
    assert result.trades["THVRQM-33VKH-UCI7BS"].trade_id == 93748276


def test_loose_forms_kraken_sends() -> None:
    record = json.loads(QUERY_TRADES_EXAMPLE)["result"]["THVRQM-33VKH-UCI7BS"]
    record.update(time="1688667796.880200", trade_id="17", maker="false", margin="", ledgers=["L1"])
    body = json.dumps({"error": ["WGeneral:Slow"], "result": {"T1-A": record}}).encode()
    trade = parse_query_trades_response(200, body).trades["T1-A"]
    assert exact(trade.time) == Decimal("1688667796.880200").as_tuple()
    assert (trade.trade_id, trade.maker, trade.margin, trade.ledgers) == (17, False, None, ("L1",))
    order = json.loads(QUERY_EXAMPLE)["result"]["OBCMZD-JIEE7-77TH3F"]
    order.update(userref=None, margin="true", cl_ord_id="abc", extra_field={"new": 1})
    order["descr"].pop("price2")
    body = json.dumps({"error": [], "result": {"O1-B": order}}).encode()
    parsed = parse_query_orders_response(200, body).orders["O1-B"]
    assert (parsed.userref, parsed.margin, parsed.cl_ord_id) == (None, True, "abc")
    assert parsed.descr.price2 is None
    order["margin"] = None
    body = json.dumps({"error": [], "result": {"O1-B": order}}).encode()
    assert parse_query_orders_response(200, body).orders["O1-B"].margin is None
    order["margin"] = False
    body = json.dumps({"error": [], "result": {"O1-B": order}}).encode()
    assert parse_query_orders_response(200, body).orders["O1-B"].margin is False


def test_empty_results_and_warnings() -> None:
    empty = b'{"error":["WAPI:note"],"result":{"open":{}}}'
    assert parse_open_orders_response(200, empty) == OpenOrdersResult(warnings=("WAPI:note",))
    assert parse_query_orders_response(200, b'{"result":{}}').orders == {}
    assert parse_trades_history_response(200, b'{"result":{"trades":{},"count":0}}').count == 0


# --- errors ---------------------------------------------------------------------------------

KRAKEN_ERRORS = [
    ("EAPI:Invalid key", InvalidKeyError, True),
    ("EAPI:Invalid signature", InvalidSignatureError, True),
    ("EAPI:Invalid nonce", InvalidNonceError, False),
    ("EAPI:Rate limit exceeded", RateLimitExceededError, False),
    ("EService: Throttled: 1700000000", ThrottledError, False),
    ("EGeneral:Permission denied", PermissionDeniedError, True),
    ("EGeneral:Invalid arguments", InvalidArgumentsError, False),
    ("EGeneral:Invalid arguments:txid", InvalidArgumentsError, False),
    ("EGeneral:Temporary lockout", TemporaryLockoutError, False),
    ("EService:Unavailable", ServiceUnavailableError, False),
    ("EService:Busy", ServiceBusyError, False),
    ("EService:Market in cancel_only mode", CancelOnlyModeError, False),
    ("EService:Market in post_only mode", PostOnlyModeError, False),
    ("EService:Market in limit_only mode", MarketModeError, False),
    ("EService:Deadline elapsed", DeadlineElapsedError, False),
    ("EGeneral:Internal error:12", InternalError, False),
    ("EOrder:Unknown order", UnknownOrderError, False),
    ("EOrder:Rate limit exceeded", OrderRateLimitExceededError, False),
    ("EQuery:Unknown asset pair", RestError, False),
]


@pytest.mark.parametrize(("text", "cls", "permanent"), KRAKEN_ERRORS)
@pytest.mark.parametrize("parse", PARSERS)
def test_one_error_mapping_for_every_call(
    parse: Callable[[int, bytes], Any], text: str, cls: type[RestError], permanent: bool
) -> None:
    body = json.dumps({"error": ["WGeneral:first a warning", text]}).encode()
    with pytest.raises(RestError) as caught:
        parse(200, body)
    assert type(caught.value) is cls
    assert caught.value.permanent is permanent
    assert caught.value.errors == ("WGeneral:first a warning", text)
    assert caught.value.error is not None
    assert caught.value.error.text == text
    assert caught.value.status == 200
    assert text in str(caught.value)
    assert str(caught.value).startswith(f"{caught.value.call} failed: ")


def test_aliases_and_bases() -> None:
    assert TokenRequestError is RestError
    assert TokenHTTPError is RestHTTPError
    assert MalformedTokenResponseError is MalformedRestResponseError
    assert issubclass(MalformedRestResponseError, RemoteProtocolError)
    assert issubclass(ServiceBusyError, ServiceUnavailableError)


def test_throttled_names_the_retry_time() -> None:
    body = b'{"error":["EService: Throttled: 1700000000.25"]}'
    with pytest.raises(ThrottledError) as caught:
        parse_open_orders_response(200, body)
    assert caught.value.retry_at == Decimal("1700000000.25")
    with pytest.raises(ThrottledError) as bare:
        parse_open_orders_response(200, b'{"error":["EService:Throttled"]}')
    assert bare.value.retry_at is None
    assert ThrottledError("x").retry_at is None


@pytest.mark.parametrize("parse", PARSERS)
def test_http_status_and_non_json(parse: Callable[[int, bytes], Any]) -> None:
    with pytest.raises(RestHTTPError) as http:
        parse(502, b"<html>Bad gateway</html>")
    assert http.value.status == 502
    assert "HTTP status 502" in str(http.value)
    assert "Bad gateway" in str(http.value)
    with pytest.raises(MalformedRestResponseError, match="body is not JSON"):
        parse(200, b"<html>maintenance</html>")
    with pytest.raises(MalformedRestResponseError, match="not JSON"):
        parse(200, b"[" * 100_000)
    with pytest.raises(MalformedRestResponseError, match="expected a JSON object, got an array"):
        parse(200, b"[]")
    with pytest.raises(MalformedRestResponseError, match='"error" is not a list of strings'):
        parse(200, b'{"error":[1]}')
    with pytest.raises(MalformedRestResponseError, match='"error" is not a list of strings'):
        parse(200, b'{"error":"EAPI:Invalid key"}')
    with pytest.raises(MalformedRestResponseError, match='"result" is missing'):
        parse(200, b'{"error":[]}')


@pytest.mark.parametrize(
    ("parse", "body", "needle"),
    [
        (parse_open_orders_response, {"result": []}, '"result" should be an object, got an array'),
        (parse_open_orders_response, {"result": {}}, "result.open should be an object, got null"),
        (parse_closed_orders_response, {"result": 5}, "got an integer"),
        (parse_trades_history_response, {"result": "x"}, "got a string"),
        (
            parse_open_orders_response,
            {"result": {"open": {"O-1": []}}},
            "result.open['O-1'] should be an object, got an array",
        ),
        (parse_query_orders_response, {"result": {"O-1": {}}}, "result['O-1'].status: missing"),
        (
            parse_closed_orders_response,
            {"result": {"closed": {}, "count": -1}},
            '"result.count" should be a non-negative integer, got a negative integer',
        ),
        (
            parse_closed_orders_response,
            {"result": {"closed": {}}},
            '"result.count" should be a non-negative integer, got null',
        ),
        (
            parse_trades_history_response,
            {"result": {"trades": {}, "count": True}},
            "got a boolean",
        ),
        (parse_query_trades_response, {"result": None}, "result should be an object, got null"),
    ],
)
def test_malformed_shapes_name_the_path(
    parse: Callable[[int, bytes], Any], body: dict[str, Any], needle: str
) -> None:
    with pytest.raises(MalformedRestResponseError) as caught:
        parse(200, json.dumps(body).encode())
    assert needle in str(caught.value)


def order_with(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = json.loads(QUERY_EXAMPLE)["result"]["OBCMZD-JIEE7-77TH3F"]
    for name, value in changes.items():
        if name.startswith("descr_"):
            order["descr"][name[6:]] = value
        else:
            order[name] = value
    return order


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"vol": "1e5"}, ".vol: expected a decimal, got a string"),
        ({"vol": "NaN"}, ".vol: expected a decimal, got a string"),
        ({"vol": "  1"}, ".vol: expected a decimal"),
        ({"vol": True}, ".vol: expected a decimal, got a boolean"),
        ({"vol": ""}, ".vol: expected a decimal, got an empty string"),
        ({"stopprice": []}, ".stopprice: expected a decimal, got an array"),
        ({"status": 1}, ".status: expected a string, got an integer"),
        ({"reason": {}}, ".reason: expected a string, got an object"),
        ({"userref": 1.0}, ".userref: expected an integer, got a number"),
        ({"userref": "1x"}, ".userref: expected an integer, got a string"),
        ({"margin": "yes"}, ".margin: expected a boolean, got a string"),
        ({"trades": "T1"}, ".trades: expected an array of strings, got a string"),
        ({"trades": [1]}, ".trades: expected an array of strings, got an array"),
        ({"descr": "buy"}, ".descr: expected an object, got a string"),
        ({"descr_pair": None}, ".descr.pair: expected a string, got null"),
        ({"descr_price": "x"}, ".descr.price: expected a decimal, got a string"),
    ],
)
def test_malformed_fields_name_field_and_kind(changes: dict[str, Any], needle: str) -> None:
    order = order_with(**changes)
    with pytest.raises(MalformedRestResponseError) as caught:
        parse_query_orders_response(200, json.dumps({"result": {"O-1": order}}).encode())
    assert f"result['O-1']{needle}" in str(caught.value)


def test_amount_sent_as_a_json_number_keeps_its_digits() -> None:
    body = json.dumps({"result": {"O-1": order_with(vol="@")}}).replace('"@"', "1.50")
    assert exact(parse_query_orders_response(200, body.encode()).orders["O-1"].vol) == (
        Decimal("1.50").as_tuple()
    )


def test_missing_descr_field() -> None:
    order = order_with()
    del order["descr"]["type"]
    with pytest.raises(MalformedRestResponseError, match=r"\.descr\.type: missing"):
        parse_query_orders_response(200, json.dumps({"result": {"O-1": order}}).encode())


# --- round trips ---------------------------------------------------------------------------

amounts = st.from_regex(r"-?[0-9]{1,12}(\.[0-9]{1,10})?", fullmatch=True).map(Decimal)
times = st.from_regex(r"[0-9]{1,10}(\.[0-9]{1,6})?", fullmatch=True).map(Decimal)
texts = st.text(st.characters(codec="utf-8"), max_size=12)
ids = st.from_regex(r"[A-Z0-9]{6}-[A-Z0-9]{5}-[A-Z0-9]{6}", fullmatch=True)
maybe = st.none

descrs = st.builds(
    RestOrderDescr,
    pair=st.sampled_from(["XBTUSD", "ETHUSD", "XXBTZUSD"]),
    type=st.sampled_from(["buy", "sell"]),
    ordertype=st.sampled_from(["limit", "market", "stop-loss-limit"]),
    price=maybe() | amounts,
    price2=maybe() | amounts,
    leverage=maybe() | st.just("none"),
    order=maybe() | texts,
    close=maybe() | texts,
)
orders = st.builds(
    RestOrder,
    status=st.sampled_from(["pending", "open", "closed", "canceled", "expired"]),
    opentm=times,
    descr=descrs,
    vol=amounts,
    vol_exec=amounts,
    cost=amounts,
    fee=amounts,
    price=amounts,
    refid=maybe() | ids,
    userref=maybe() | st.integers(-(2**31), 2**31 - 1),
    cl_ord_id=maybe() | texts,
    starttm=maybe() | times,
    expiretm=maybe() | times,
    closetm=maybe() | times,
    reason=maybe() | texts,
    stopprice=maybe() | amounts,
    limitprice=maybe() | amounts,
    trigger=maybe() | st.sampled_from(["last", "index"]),
    margin=maybe() | st.booleans(),
    misc=maybe() | texts,
    oflags=maybe() | st.just("fciq,post"),
    trades=maybe() | st.lists(ids, max_size=3).map(tuple),
    sender_sub_id=maybe() | texts,
)
trades = st.builds(
    RestTrade,
    ordertxid=ids,
    pair=st.sampled_from(["XXBTZUSD", "XETHZUSD"]),
    time=times,
    type=st.sampled_from(["buy", "sell"]),
    ordertype=st.sampled_from(["limit", "market"]),
    price=amounts,
    cost=amounts,
    fee=amounts,
    vol=amounts,
    postxid=maybe() | ids,
    margin=maybe() | amounts,
    leverage=maybe() | st.just("0"),
    misc=maybe() | texts,
    ledgers=maybe() | st.lists(ids, max_size=2).map(tuple),
    trade_id=maybe() | st.integers(0, 2**63),
    maker=maybe() | st.booleans(),
    posstatus=maybe() | st.just("open"),
    cprice=maybe() | amounts,
    ccost=maybe() | amounts,
    cfee=maybe() | amounts,
    cvol=maybe() | amounts,
    cmargin=maybe() | amounts,
    net=maybe() | amounts,
    trades=maybe() | st.lists(ids, max_size=2).map(tuple),
)

_TIME_FIELDS = {"opentm", "starttm", "expiretm", "closetm", "time"}


def render_record(record: Any) -> str:
    """Kraken's wire form: amounts as strings, times as JSON numbers, ``null`` for None
    (or the field left out), digits exactly as held."""
    parts = []
    for name in record.__slots__:
        value = getattr(record, name)
        if value is None:
            if len(name) % 2:  # both forms of "absent" occur (deterministically)
                parts.append(f'"{name}":null')
            continue
        if isinstance(value, Decimal):
            text = format(value, "f")
            parts.append(f'"{name}":{text}' if name in _TIME_FIELDS else f'"{name}":"{text}"')
        elif isinstance(value, RestOrderDescr):
            parts.append(f'"{name}":{render_record(value)}')
        elif isinstance(value, tuple):
            parts.append(f'"{name}":{json.dumps(list(value))}')
        else:
            parts.append(f'"{name}":{json.dumps(value)}')
    return "{" + ",".join(parts) + "}"


def render_records(records: dict[str, Any]) -> str:
    return "{" + ",".join(f"{json.dumps(k)}:{render_record(v)}" for k, v in records.items()) + "}"


def assert_exact(left: Any, right: Any) -> None:
    assert left == right
    for name in left.__slots__:
        a, b = getattr(left, name), getattr(right, name)
        if isinstance(a, Decimal):
            assert a.as_tuple() == b.as_tuple(), name
        elif isinstance(a, RestOrderDescr):
            assert_exact(a, b)


@given(records=st.dictionaries(ids, orders, max_size=4), count=st.integers(0, 10**6))
def test_orders_round_trip_exactly(records: dict[str, RestOrder], count: int) -> None:
    inner = render_records(records)
    open_result = parse_open_orders_response(
        200, f'{{"error":[],"result":{{"open":{inner}}}}}'.encode()
    )
    closed = parse_closed_orders_response(
        200, f'{{"error":[],"result":{{"closed":{inner},"count":{count}}}}}'.encode()
    )
    queried = parse_query_orders_response(200, f'{{"error":[],"result":{inner}}}'.encode())
    for parsed in (open_result.open, closed.closed, queried.orders):
        assert list(parsed) == list(records)  # Kraken's order kept
        for key, record in records.items():
            assert_exact(parsed[key], record)
    assert closed.count == count


@given(records=st.dictionaries(ids, trades, max_size=4), count=st.integers(0, 10**6))
def test_trades_round_trip_exactly(records: dict[str, RestTrade], count: int) -> None:
    inner = render_records(records)
    history = parse_trades_history_response(
        200, f'{{"error":[],"result":{{"trades":{inner},"count":{count}}}}}'.encode()
    )
    queried = parse_query_trades_response(200, f'{{"error":[],"result":{inner}}}'.encode())
    for parsed in (history.trades, queried.trades):
        assert list(parsed) == list(records)
        for key, record in records.items():
            assert_exact(parsed[key], record)


# --- hostile bodies -------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@given(body=st.binary(max_size=300), status=st.sampled_from([200, 200, 500]))
def test_arbitrary_bytes_raise_only_documented_errors(body: bytes, status: int) -> None:
    for parse in PARSERS:
        with contextlib.suppress(RestError):
            parse(status, body)


@given(
    result=json_values,
    errors=st.lists(st.text(max_size=10), max_size=2),
    wrap=st.sampled_from(["open", "closed", "trades", None]),
)
def test_arbitrary_json_raises_only_documented_errors(
    result: Any, errors: list[str], wrap: str | None
) -> None:
    document = {"error": errors, "result": result if wrap is None else {wrap: result}}
    body = json.dumps(document).encode()
    for parse in PARSERS:
        with contextlib.suppress(RestError):
            parse(200, body)
