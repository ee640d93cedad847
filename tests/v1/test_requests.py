"""Request construction: every validation branch raises LocalProtocolError naming the field,
floats are refused wherever money is expected, and encode never leaks the token."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    LocalProtocolError,
    Request,
    encode,
)
from kraken_proto.v1 import Ping, Subscribe, Unsubscribe
from kraken_proto.v1._requests import ORDER_TYPES

D = Decimal
TOKEN = "sEcReT-tOkEn/+abc123=="


def add(**overrides: Any) -> AddOrder:
    fields: dict[str, Any] = {
        "ordertype": "limit",
        "type": "buy",
        "pair": "XBT/USD",
        "volume": D("1.5"),
        "price": D("9000"),
    }
    fields.update(overrides)
    return AddOrder(**fields)


def edit(**overrides: Any) -> EditOrder:
    fields: dict[str, Any] = {"orderid": "O1", "pair": "XBT/USD", "price": D("1")}
    fields.update(overrides)
    return EditOrder(**fields)


def amend(**overrides: Any) -> AmendOrder:
    fields: dict[str, Any] = {"txid": "O1", "volume": D("1")}
    fields.update(overrides)
    return AmendOrder(**fields)


def wire(request: Request, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("token", None if not request.requires_token else TOKEN)
    result: dict[str, Any] = json.loads(encode(request, **kwargs))
    return result


# (build the bad request, the field its error must name, a fragment of the message)
INVALID: list[tuple[Callable[[], object], str, str]] = [
    (lambda: Subscribe(name="trade"), "name", "one of"),  # type: ignore[arg-type]
    (lambda: Subscribe(name=["ownTrades"]), "name", "one of"),  # type: ignore[arg-type]
    (lambda: Unsubscribe(name="book"), "name", "one of"),  # type: ignore[arg-type]
    (lambda: Subscribe(name="ownTrades", snapshot="yes"), "snapshot", "bool"),  # type: ignore[arg-type]
    (lambda: Subscribe(name="openOrders", rebased=1), "rebased", "bool"),  # type: ignore[arg-type]
    (lambda: Subscribe(name="openOrders", snapshot=True), "snapshot", "ownTrades option"),
    (
        lambda: Subscribe(name="openOrders", consolidate_taker=False),
        "consolidate_taker",
        "ownTrades option",
    ),
    (lambda: Subscribe(name="ownTrades", ratecounter=True), "ratecounter", "openOrders option"),
    (lambda: add(ordertype="iceberg"), "ordertype", "one of"),
    (lambda: add(ordertype={"limit"}), "ordertype", "one of"),
    (lambda: add(type="long"), "type", "buy"),
    (lambda: add(pair=""), "pair", "non-empty"),
    (lambda: add(pair="XBT USD"), "pair", "whitespace"),
    (lambda: add(pair=b"XBT/USD"), "pair", "must be a str"),
    (lambda: add(volume=1.5), "volume", "float"),
    (lambda: add(volume="1.5"), "volume", "decimal.Decimal"),
    (lambda: add(volume=True), "volume", "decimal.Decimal"),
    (lambda: add(volume=D(0)), "volume", "greater than zero"),
    (lambda: add(volume=D("-1")), "volume", "greater than zero"),
    (lambda: add(volume=D("NaN")), "volume", "finite"),
    (lambda: add(volume=D("Infinity")), "volume", "finite"),
    (lambda: add(price=9000.5), "price", "float"),
    (lambda: add(price="9000"), "price", "relative"),
    (lambda: add(price="5%"), "price", "relative"),
    (lambda: add(price="+1.5%%"), "price", "relative"),
    (lambda: add(price="+"), "price", "relative"),
    (lambda: add(price=None), "price", "required for limit"),
    (lambda: add(price2=D(1)), "price2", "not used by limit"),
    (lambda: add(ordertype="market"), "price", "not used by market"),
    (lambda: add(ordertype="stop-loss-limit", price2=None), "price2", "required"),
    (lambda: add(ordertype="stop-loss-limit", price2="#5"), "price2", "relative"),
    (lambda: add(ordertype="stop-loss-limit", price2=0.5), "price2", "float"),
    (lambda: add(ordertype="trailing-stop", price=D(50)), "price", "+ prefix"),
    (lambda: add(ordertype="trailing-stop", price="-50"), "price", "+ prefix"),
    (lambda: add(ordertype="trailing-stop-limit", price="+50"), "price2", "required"),
    (lambda: add(leverage=0), "leverage", ">= 1"),
    (lambda: add(leverage=True), "leverage", ">= 1"),
    (lambda: add(leverage="2"), "leverage", ">= 1"),
    (lambda: add(leverage=2.0), "leverage", ">= 1"),
    (lambda: add(margin="true"), "margin", "bool"),
    (lambda: add(reduce_only=1), "reduce_only", "bool"),
    (lambda: add(validate="true"), "validate", "bool"),
    (lambda: add(oflags={"post", "hidden"}), "oflags", "unknown flag 'hidden'"),
    (lambda: add(oflags=[["post"]]), "oflags", "unknown flag"),
    (lambda: add(oflags="post,bogus"), "oflags", "unknown flag 'bogus'"),
    (lambda: add(oflags=7), "oflags", "set of flags"),
    (lambda: add(oflags={"fcib", "fciq"}), "oflags", "mutually exclusive"),
    (lambda: add(ordertype="market", price=None, oflags={"post"}), "oflags", "limit orders"),
    (lambda: add(starttm=-1), "starttm", "unix timestamp"),
    (lambda: add(starttm="-5"), "starttm", "unix timestamp"),
    (lambda: add(starttm="now"), "starttm", "unix timestamp"),
    (lambda: add(starttm=1.5), "starttm", "unix timestamp"),
    (lambda: add(expiretm=True), "expiretm", "unix timestamp"),
    (lambda: add(expiretm="+1.5"), "expiretm", "unix timestamp"),
    (lambda: add(deadline="2022-12-25 09:30:59"), "deadline", "RFC3339"),
    (lambda: add(deadline=1671960659), "deadline", "RFC3339"),
    (lambda: add(userref=2**31), "userref", "32-bit"),
    (lambda: add(userref=-(2**31) - 1), "userref", "32-bit"),
    (lambda: add(userref="123"), "userref", "must be an int"),
    (lambda: add(userref=False), "userref", "must be an int"),
    (lambda: add(cl_ord_id="x" * 19), "cl_ord_id", "UUID"),
    (lambda: add(cl_ord_id="caf\u00e9"), "cl_ord_id", "UUID"),
    (lambda: add(cl_ord_id=123), "cl_ord_id", "must be a str"),
    (lambda: add(userref=1, cl_ord_id="abc"), "cl_ord_id", "mutually exclusive"),
    (lambda: add(timeinforce="gtc"), "timeinforce", "one of"),
    (lambda: add(timeinforce="GTD"), "expiretm", "GTD orders need"),
    (lambda: add(timeinforce="GTD", expiretm=0), "expiretm", "GTD orders need"),
    (lambda: add(timeinforce="GTD", expiretm="0"), "expiretm", "GTD orders need"),
    (lambda: add(stp_type="cancel_all"), "stp_type", "one of"),
    (lambda: add(sender_sub_id=""), "sender_sub_id", "non-empty"),
    (lambda: add(close_price=D(1)), "close_ordertype", "required when"),
    (lambda: add(close_price2=D(1)), "close_ordertype", "required when"),
    (lambda: add(close_ordertype="market"), "close_ordertype", "one of"),
    (lambda: add(close_ordertype="limit"), "close_price", "required for limit"),
    (lambda: add(close_ordertype="limit", close_price=9.5), "close_price", "float"),
    (
        lambda: add(close_ordertype="stop-loss-limit", close_price=D(1), close_price2=1.0),
        "close_price2",
        "float",
    ),
    (
        lambda: add(close_ordertype="limit", close_price=D(1), close_price2=D(2)),
        "close_price2",
        "not used",
    ),
    (lambda: edit(orderid=2**31), "orderid", "32-bit"),
    (lambda: edit(orderid=""), "orderid", "non-empty"),
    (lambda: edit(orderid=True), "orderid", "must be a str"),
    (lambda: edit(pair=None), "pair", "must be a str"),
    (lambda: edit(price=1.0), "price", "float"),
    (lambda: edit(price="+1"), "price", "decimal.Decimal"),
    (lambda: edit(price2=0.5), "price2", "float"),
    (lambda: edit(volume=2.0), "volume", "float"),
    (lambda: edit(oflags={"nope"}), "oflags", "unknown flag"),
    (lambda: edit(newuserref="1"), "newuserref", "must be an int"),
    (lambda: edit(validate="yes"), "validate", "bool"),
    (lambda: EditOrder(orderid="O1", pair="XBT/USD"), "editOrder", "at least one"),
    (lambda: AmendOrder(volume=D(1)), "txid", "exactly one"),
    (lambda: amend(cl_ord_id="abc"), "txid", "exactly one"),
    (lambda: amend(txid=" "), "txid", "whitespace"),
    (lambda: AmendOrder(cl_ord_id="a" * 40, volume=D(1)), "cl_ord_id", "UUID"),
    (lambda: amend(volume=0.1), "volume", "float"),
    (lambda: amend(display_volume=0.1), "display_volume", "float"),
    (lambda: amend(limit_price=1.5), "limit_price", "float"),
    (lambda: amend(limit_price="#1"), "limit_price", "relative"),
    (lambda: amend(trigger_price=1.5), "trigger_price", "float"),
    (lambda: amend(post_only="no"), "post_only", "bool"),
    (lambda: amend(pair="XBT USD"), "pair", "whitespace"),
    (lambda: amend(deadline="tomorrow"), "deadline", "RFC3339"),
    (lambda: AmendOrder(txid="O1"), "amendOrder", "at least one"),
    (lambda: CancelOrder(), "cancelOrder", "at least one"),
    (lambda: CancelOrder(txid=("O1", "")), "txid", "non-empty"),
    (lambda: CancelOrder(txid=5), "txid", "must be a str"),  # type: ignore[arg-type]
    (lambda: CancelOrder(txid=None), "txid", "an id or a list"),  # type: ignore[arg-type]
    (lambda: CancelOrder(userref=("1",)), "userref", "must be an int"),  # type: ignore[arg-type]
    (lambda: CancelOrder(userref=2**40), "userref", "32-bit"),  # type: ignore[arg-type]
    (lambda: CancelOrder(cl_ord_id=("ok", "x" * 50)), "cl_ord_id", "UUID"),
    (lambda: CancelAllOrdersAfter(timeout=60.0), "timeout", "int"),  # type: ignore[arg-type]
    (lambda: CancelAllOrdersAfter(timeout=True), "timeout", "int"),
    (lambda: CancelAllOrdersAfter(timeout=-1), "timeout", "0 (disarm)"),
    (lambda: CancelAllOrdersAfter(timeout=86400), "timeout", "0 (disarm)"),
]


@pytest.mark.parametrize(("build", "field", "fragment"), INVALID)
def test_invalid_request_names_the_field(
    build: Callable[[], object], field: str, fragment: str
) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        build()
    message = str(caught.value)
    assert message.startswith(f"{field}: ")
    assert fragment in message


@pytest.mark.parametrize(
    "build",
    [
        lambda: add(volume=0.1),
        lambda: add(price=0.1),
        lambda: add(ordertype="stop-loss-limit", price2=0.1),
        lambda: add(close_ordertype="limit", close_price=0.1),
        lambda: edit(price=0.1),
        lambda: edit(price2=0.1),
        lambda: edit(volume=0.1),
        lambda: amend(volume=0.1),
        lambda: amend(display_volume=0.1),
        lambda: amend(limit_price=0.1),
        lambda: amend(trigger_price=0.1),
    ],
)
def test_a_float_where_money_is_expected_is_refused(build: Callable[[], object]) -> None:
    with pytest.raises(LocalProtocolError, match=r"float.*decimal\.Decimal"):
        build()


def test_every_documented_order_type_is_accepted() -> None:
    prices: dict[str, dict[str, Any]] = {
        "market": {"price": None},
        "settle-position": {"price": None},
        "trailing-stop": {"price": "+50"},
        "trailing-stop-limit": {"price": "+50", "price2": "-1%"},
    }
    documented = (
        "market limit stop-loss take-profit stop-loss-limit take-profit-limit trailing-stop "
        "trailing-stop-limit stop-loss-profit stop-loss-profit-limit stop-loss-and-limit "
        "settle-position"
    )
    for ordertype in documented.split():
        assert ordertype in ORDER_TYPES
        extra = prices.get(ordertype, {"price": D("10"), "price2": D("11")})
        if ordertype in ("limit", "stop-loss", "take-profit"):
            extra = {"price": D("10")}
        request = add(ordertype=ordertype, **extra)
        assert wire(request)["ordertype"] == ordertype
    assert wire(add(ordertype="settle-position", price=D(3)))["price"] == "3"


def test_add_order_with_every_option_encodes_kraken_wire_types() -> None:
    request = add(
        ordertype="stop-loss-limit",
        type="sell",
        volume=D("0.00010000"),
        price="#2.5%",
        price2="-10",
        leverage=3,
        margin=True,
        reduce_only=False,
        oflags={"fcib", "nompp"},
        starttm="+60",
        expiretm=1700000000,
        deadline="2022-12-25T09:30:59.123Z",
        userref=-7,
        validate=True,
        timeinforce="GTD",
        stp_type="cancel_both",
        sender_sub_id="desk-1",
        close_ordertype="take-profit-limit",
        close_price=D("1E+4"),
        close_price2="+5%",
    )
    assert wire(request, reqid=2**64 - 1) == {
        "event": "addOrder",
        "token": TOKEN,
        "reqid": 2**64 - 1,
        "ordertype": "stop-loss-limit",
        "type": "sell",
        "pair": "XBT/USD",
        "volume": "0.00010000",
        "price": "#2.5%",
        "price2": "-10",
        "leverage": "3",
        "margin": True,
        "reduce_only": False,
        "oflags": "fcib,nompp",
        "starttm": "+60",
        "expiretm": "1700000000",
        "deadline": "2022-12-25T09:30:59.123Z",
        "userref": "-7",
        "validate": "true",
        "timeinforce": "GTD",
        "stp_type": "cancel_both",
        "sender_sub_id": "desk-1",
        "close[ordertype]": "take-profit-limit",
        "close[price]": "10000",
        "close[price2]": "+5%",
    }


def test_add_order_defaults_and_normalisation() -> None:
    request = add(volume=2, oflags="post,,fciq", cl_ord_id="906bcc85-1866-4b4b-9d0d-880bbcbe7447")
    assert request.volume == D(2)
    assert isinstance(request.volume, Decimal)
    assert request.oflags == frozenset({"post", "fciq"})
    body = wire(request)
    assert body["volume"] == "2"
    assert body["oflags"] == "fciq,post"
    assert body["cl_ord_id"] == "906bcc85-1866-4b4b-9d0d-880bbcbe7447"
    assert "validate" not in body
    assert "userref" not in body
    plain = wire(add(oflags=()))
    assert "oflags" not in plain
    assert wire(add(cl_ord_id="0123456789abcdef0123456789ABCDEF"))["cl_ord_id"]
    assert wire(add(starttm=0, expiretm="0"))["starttm"] == "0"


def test_requests_are_frozen_and_keyword_only() -> None:
    request = add()
    with pytest.raises(AttributeError):
        request.volume = D(2)  # type: ignore[misc]
    with pytest.raises(TypeError):
        AddOrder("limit", "buy", "XBT/USD", D(1))  # type: ignore[call-arg]


def test_subscribe_options_are_json_booleans_and_token_goes_inside() -> None:
    trades = Subscribe(name="ownTrades", snapshot=False, consolidate_taker=True, rebased=False)
    assert wire(trades, reqid=0) == {
        "event": "subscribe",
        "reqid": 0,
        "subscription": {
            "name": "ownTrades",
            "snapshot": False,
            "consolidate_taker": True,
            "rebased": False,
            "token": TOKEN,
        },
    }
    orders = Subscribe(name="openOrders", ratecounter=True, rebased=True)
    assert wire(orders)["subscription"] == {
        "name": "openOrders",
        "ratecounter": True,
        "rebased": True,
        "token": TOKEN,
    }
    assert wire(Unsubscribe(name="openOrders")) == {
        "event": "unsubscribe",
        "subscription": {"name": "openOrders", "token": TOKEN},
    }


def test_edit_order_wire_types() -> None:
    assert wire(
        EditOrder(orderid=42, pair="XBT/USD", volume=D("1.0"), price2=D(3), validate=True)
    ) == {
        "event": "editOrder",
        "token": TOKEN,
        "orderid": "42",
        "pair": "XBT/USD",
        "price2": "3",
        "volume": "1.0",
        "validate": True,
    }
    assert wire(edit(oflags={"post"}))["oflags"] == "post"
    assert "oflags" not in wire(edit())


def test_amend_order_wire_types() -> None:
    request = AmendOrder(
        cl_ord_id="my-order-1",
        display_volume=D("0.5"),
        limit_price="+1.5%",
        trigger_price=D("100.25"),
        post_only=True,
        pair="AAPLx/USD",
        deadline="2024-01-01T00:00:00+01:00",
    )
    assert wire(request) == {
        "event": "amendOrder",
        "token": TOKEN,
        "cl_ord_id": "my-order-1",
        "display_volume": "0.5",
        "limit_price": "+1.5%",
        "trigger_price": "100.25",
        "post_only": True,
        "pair": "AAPLx/USD",
        "deadline": "2024-01-01T00:00:00+01:00",
    }


def test_cancel_order_by_one_or_many_ids() -> None:
    single = CancelOrder(txid="OGTT3Y-C6I3P-XRI6HX")  # type: ignore[arg-type]
    assert single.txid == ("OGTT3Y-C6I3P-XRI6HX",)
    assert single.expected_replies == 1
    assert wire(single)["txid"] == ["OGTT3Y-C6I3P-XRI6HX"]
    by_ref = CancelOrder(userref=7)  # type: ignore[arg-type]
    assert wire(by_ref) == {"event": "cancelOrder", "token": TOKEN, "txid": ["7"]}
    by_client_id = CancelOrder(cl_ord_id="abc")  # type: ignore[arg-type]
    assert wire(by_client_id) == {"event": "cancelOrder", "token": TOKEN, "cl_ord_id": ["abc"]}
    many = CancelOrder(txid=["O1", "O2"], userref=(1, -2), cl_ord_id=iter(["c1"]))  # type: ignore[arg-type]
    assert many.expected_replies == 5
    assert wire(many) == {
        "event": "cancelOrder",
        "token": TOKEN,
        "txid": ["O1", "O2", "1", "-2"],
        "cl_ord_id": ["c1"],
    }


def test_cancel_all_after_timeout_is_an_integer() -> None:
    assert wire(CancelAllOrdersAfter(timeout=0))["timeout"] == 0
    assert wire(CancelAllOrdersAfter(timeout=86399))["timeout"] == 86399
    assert wire(CancelAll()) == {"event": "cancelAll", "token": TOKEN}


def test_request_metadata() -> None:
    assert (Ping.event, Ping.response_event, Ping.requires_token) == ("ping", "pong", False)
    assert CancelOrder.response_event == "cancelOrderStatus"
    assert add().expected_replies == 1
    assert all(
        cls.requires_token
        for cls in (Subscribe, Unsubscribe, AddOrder, EditOrder, AmendOrder, CancelOrder, CancelAll)
    )


# --- encode arguments ---------------------------------------------------------------------------


def test_ping_takes_no_token_and_optional_reqid() -> None:
    assert json.loads(encode(Ping())) == {"event": "ping"}
    assert json.loads(encode(Ping(), reqid=0)) == {"event": "ping", "reqid": 0}
    with pytest.raises(LocalProtocolError, match="token: ping takes no token") as caught:
        encode(Ping(), token=TOKEN)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("reqid", [-1, 2**64, True, 1.0, "1"])
def test_bad_reqid_is_refused(reqid: Any) -> None:
    with pytest.raises(LocalProtocolError, match=r"^reqid: "):
        encode(CancelAll(), token=TOKEN, reqid=reqid)


@pytest.mark.parametrize(
    "token", [None, "", "has space", "line\nbreak", 12345, b"bytes-token", TOKEN + " "]
)
def test_bad_or_missing_token_is_refused_without_showing_it(token: Any) -> None:
    for request in (CancelAll(), Subscribe(name="ownTrades"), add()):
        with pytest.raises(LocalProtocolError, match=r"^token: ") as caught:
            encode(request, token=token)
        if isinstance(token, str) and token:
            assert token.strip() not in str(caught.value)
            assert repr(token) not in str(caught.value)


def test_no_encode_error_ever_contains_the_token() -> None:
    attempts: list[Callable[[], object]] = [
        lambda: encode(Ping(), token=TOKEN),
        lambda: encode(CancelAll(), token=TOKEN, reqid=-1),
        lambda: encode(CancelAll(), token=TOKEN + "\n"),
        lambda: encode("not a request", token=TOKEN),  # type: ignore[arg-type]
        lambda: encode(Request(), token=TOKEN),
    ]
    for attempt in attempts:
        with pytest.raises(LocalProtocolError) as caught:
            attempt()
        assert TOKEN not in str(caught.value)
        assert TOKEN not in repr(caught.value)


def test_encode_refuses_things_that_are_not_requests() -> None:
    with pytest.raises(LocalProtocolError, match=r"^request: .*got dict"):
        encode({"event": "ping"})  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match=r"^request: .*got Request"):
        encode(Request())


def test_requests_never_hold_the_token() -> None:
    request = add()
    encode(request, token=TOKEN)
    assert TOKEN not in repr(request)
    assert not hasattr(request, "token")
