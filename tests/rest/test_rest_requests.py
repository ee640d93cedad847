"""The private REST request builders and the one signing path (pure)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import kraken_proto.rest
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import Credentials, LocalProtocolError
from kraken_proto.rest import (
    CLOSED_ORDERS_PATH,
    OPEN_ORDERS_PATH,
    QUERY_ORDERS_PATH,
    QUERY_TRADES_PATH,
    TOKEN_PATH,
    TRADES_HISTORY_PATH,
    RestRequest,
    TokenRequest,
    build_closed_orders_request,
    build_open_orders_request,
    build_private_request,
    build_query_orders_request,
    build_query_trades_request,
    build_token_request,
    build_trades_history_request,
    call_cost,
)

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
CREDENTIALS = Credentials(api_key="PUBLICKEY1234", api_secret=SECRET)
NONCE = 1616492376594
TXID = "OQCLML-BW3P3-BUCMWZ"
TRADE = "THVRQM-33VKH-UCI7BS"


def reference_sign(path: str, body: bytes) -> str:
    nonce = dict(parse_qsl(body.decode()))["nonce"]
    inner = hashlib.sha256(nonce.encode() + body).digest()
    mac = hmac.new(base64.b64decode(SECRET), path.encode() + inner, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def fields(request: RestRequest) -> list[tuple[str, str]]:
    return parse_qsl(request.body.decode(), keep_blank_values=True)


def test_official_vector_through_the_generic_path() -> None:
    request = build_private_request(
        CREDENTIALS,
        path="/0/private/AddOrder",
        nonce=NONCE,
        params=[
            ("ordertype", "limit"),
            ("pair", "XBTUSD"),
            ("price", "37500"),
            ("type", "buy"),
            ("volume", "1.25"),
        ],
    )
    assert request.body == (
        b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
    )
    assert request.header("API-Sign") == (
        "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
    )
    assert request.cost == 0  # AddOrder is on the trading limiter, not the REST counter
    assert request.call == "AddOrder"


def test_token_request_is_a_rest_request() -> None:
    assert TokenRequest is RestRequest
    request = build_token_request(CREDENTIALS, nonce=NONCE)
    assert isinstance(request, RestRequest)
    assert request.cost == 1
    assert request.path == TOKEN_PATH
    assert request.header("API-Sign") == reference_sign(TOKEN_PATH, request.body)


def test_mapping_params_and_explicit_cost() -> None:
    request = build_private_request(
        CREDENTIALS, path="/0/private/Ledgers", nonce=7, params={"asset": "XBT"}, cost=5
    )
    assert request.body == b"nonce=7&asset=XBT"
    assert request.cost == 5
    assert call_cost("Ledgers") == 2
    assert call_cost("Balance") == 1
    assert call_cost("CancelOrder") == 0


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"path": "/0/public/Time"}, "path: must start with '/0/private/'"),
        ({"path": 7}, "path: must start"),
        ({"path": "/0/private/Open/Orders"}, "does not name one API method"),
        ({"path": "/0/private/"}, "does not name one API method"),
        ({"params": [("nonce", "1")]}, "bad field name 'nonce'"),
        ({"params": [("a b", "1")]}, "bad field name 'a b'"),
        ({"params": [(1, "1")]}, "bad field name 1"),
        ({"params": [("x", 1)]}, "params['x']: must be str, got int"),
        ({"cost": -1}, "cost: must be a non-negative int"),
        ({"cost": True}, "cost: must be a non-negative int"),
        ({"nonce": -1}, "nonce: must be in 0..2**64-1"),
    ],
)
def test_private_request_validation(kwargs: dict[str, Any], needle: str) -> None:
    arguments: dict[str, Any] = {"path": OPEN_ORDERS_PATH, "nonce": NONCE, **kwargs}
    with pytest.raises(LocalProtocolError) as caught:
        build_private_request(CREDENTIALS, **arguments)
    assert needle in str(caught.value)


def test_private_request_needs_credentials() -> None:
    with pytest.raises(TypeError, match="expected Credentials, got str"):
        build_private_request("key", path=OPEN_ORDERS_PATH, nonce=1)  # type: ignore[arg-type]


def test_repr_hides_signature_and_body() -> None:
    request = build_query_orders_request(CREDENTIALS, nonce=NONCE, txids=[TXID])
    shown = repr(request)
    assert str(request) == shown
    assert request.header("API-Sign") not in shown  # type: ignore[operator]
    assert TXID not in shown
    assert shown.endswith(f"body=<{len(request.body)} bytes>, cost=1)")


def test_open_orders_defaults_and_filters() -> None:
    plain = build_open_orders_request(CREDENTIALS, nonce=NONCE)
    assert plain.path == OPEN_ORDERS_PATH
    assert plain.body == b"nonce=1616492376594"
    assert plain.cost == 1
    full = build_open_orders_request(
        CREDENTIALS, nonce=NONCE, trades=True, userref=-5, cl_ord_id="my-order-1"
    )
    assert fields(full) == [
        ("nonce", str(NONCE)),
        ("trades", "true"),
        ("userref", "-5"),
        ("cl_ord_id", "my-order-1"),
    ]
    assert full.header("API-Sign") == reference_sign(OPEN_ORDERS_PATH, full.body)
    uuid = build_open_orders_request(
        CREDENTIALS, nonce=NONCE, cl_ord_id="6d1b345e-2821-40e2-ad83-4ecb18a06876"
    )
    assert fields(uuid)[1] == ("cl_ord_id", "6d1b345e-2821-40e2-ad83-4ecb18a06876")


def test_closed_orders_every_parameter() -> None:
    request = build_closed_orders_request(
        CREDENTIALS,
        nonce=NONCE,
        trades=True,
        userref=3,
        cl_ord_id="abc",
        start=Decimal("1688666559.8974"),
        end=TXID,
        ofs=50,
        closetime="close",
    )
    assert request.cost == 2
    assert fields(request) == [
        ("nonce", str(NONCE)),
        ("trades", "true"),
        ("userref", "3"),
        ("cl_ord_id", "abc"),
        ("start", "1688666559.8974"),
        ("end", TXID),
        ("ofs", "50"),
        ("closetime", "close"),
    ]
    assert request.header("API-Sign") == reference_sign(CLOSED_ORDERS_PATH, request.body)
    default = build_closed_orders_request(CREDENTIALS, nonce=NONCE, start=1688666559, end="17")
    assert fields(default)[1:] == [("start", "1688666559"), ("end", "17")]


def test_trades_history_every_parameter() -> None:
    request = build_trades_history_request(
        CREDENTIALS, nonce=NONCE, start=TRADE, end=Decimal("1700000000.5"), ofs=100, trades=True
    )
    assert request.path == TRADES_HISTORY_PATH
    assert request.cost == 2
    assert fields(request)[1:] == [
        ("start", TRADE),
        ("end", "1700000000.5"),
        ("ofs", "100"),
        ("trades", "true"),
    ]
    assert build_trades_history_request(CREDENTIALS, nonce=1).body == b"nonce=1"
    split = build_trades_history_request(CREDENTIALS, nonce=1, consolidate_taker=False)
    assert split.body == b"nonce=1&consolidate_taker=false"


def test_query_orders_and_trades() -> None:
    orders = build_query_orders_request(
        CREDENTIALS, nonce=NONCE, txids=(TXID, "O37652-RJWRT-IMO74O"), trades=True, userref=9
    )
    assert orders.path == QUERY_ORDERS_PATH
    assert fields(orders)[1:] == [
        ("txid", f"{TXID},O37652-RJWRT-IMO74O"),
        ("trades", "true"),
        ("userref", "9"),
    ]
    trades = build_query_trades_request(CREDENTIALS, nonce=NONCE, txids=[TRADE])
    assert trades.path == QUERY_TRADES_PATH
    assert trades.cost == 1
    assert fields(trades)[1:] == [("txid", TRADE)]
    assert build_query_orders_request(CREDENTIALS, nonce=1, txids=[TXID] * 50).cost == 1
    assert build_query_trades_request(CREDENTIALS, nonce=1, txids=[TRADE] * 20).cost == 1


@pytest.mark.parametrize(
    ("build", "kwargs", "needle"),
    [
        (build_open_orders_request, {"trades": 1}, "trades: must be a bool, got int"),
        (build_open_orders_request, {"userref": 2**31}, "userref: must be an int32"),
        (build_open_orders_request, {"userref": True}, "userref: must be an int32"),
        (build_open_orders_request, {"cl_ord_id": "has space"}, "cl_ord_id: must be a UUID"),
        (build_open_orders_request, {"cl_ord_id": "x" * 19}, "cl_ord_id: must be a UUID"),
        (build_open_orders_request, {"cl_ord_id": 5}, "cl_ord_id: must be a UUID"),
        (build_closed_orders_request, {"start": 1.5}, "start: floats are refused"),
        (build_closed_orders_request, {"end": Decimal("NaN")}, "end: must be a finite"),
        (build_closed_orders_request, {"end": Decimal("-1")}, "end: must be a finite"),
        (build_closed_orders_request, {"start": Decimal("1E+20")}, "start: time out of range"),
        (build_closed_orders_request, {"start": Decimal("1.0000000001")}, "too precise"),
        (build_closed_orders_request, {"start": -3}, "start: must be non-negative unix"),
        (build_closed_orders_request, {"start": "yesterday"}, "start: must be non-negative"),
        (build_closed_orders_request, {"start": b"1"}, "start: must be a Decimal, int or str"),
        (build_closed_orders_request, {"start": True}, "start: must be a Decimal, int or str"),
        (build_closed_orders_request, {"ofs": -1}, "ofs: must be an int in 0..2**31-1"),
        (build_closed_orders_request, {"ofs": False}, "ofs: must be an int"),
        (build_closed_orders_request, {"closetime": "never"}, "closetime: must be one of"),
        (build_trades_history_request, {"end": 2.0}, "end: floats are refused"),
        (build_trades_history_request, {"trades": "yes"}, "trades: must be a bool"),
        (build_trades_history_request, {"consolidate_taker": 0}, "consolidate_taker: must be"),
        (build_query_orders_request, {"txids": TXID}, "txids: must be a sequence"),
        (build_query_orders_request, {"txids": {TXID}}, "txids: must be a sequence"),
        (build_query_orders_request, {"txids": []}, "txids: must hold 1..50 txids, got 0"),
        (build_query_orders_request, {"txids": [TXID] * 51}, "must hold 1..50 txids, got 51"),
        (build_query_orders_request, {"txids": ["o1,o2"]}, "not a Kraken txid: 'o1,o2'"),
        (build_query_orders_request, {"txids": [7]}, "not a Kraken txid: 7"),
        (build_query_trades_request, {"txids": [TRADE] * 21}, "must hold 1..20 txids, got 21"),
    ],
)
def test_builder_validation(build: Any, kwargs: dict[str, Any], needle: str) -> None:
    if build in (build_query_orders_request, build_query_trades_request):
        kwargs = {"txids": [TXID], **kwargs}
    with pytest.raises(LocalProtocolError) as caught:
        build(CREDENTIALS, nonce=NONCE, **kwargs)
    assert needle in str(caught.value)


times = st.decimals(min_value=0, max_value=10**11, places=6, allow_nan=False)


@given(start=times, ofs=st.integers(0, 2**31 - 1), nonce=st.integers(0, 2**64 - 1))
def test_history_body_round_trips_and_signs(start: Decimal, ofs: int, nonce: int) -> None:
    request = build_trades_history_request(CREDENTIALS, nonce=nonce, start=start, ofs=ofs)
    parsed = dict(fields(request))
    assert next(iter(fields(request))) == ("nonce", str(nonce))  # nonce first
    assert Decimal(parsed["start"]) == start
    assert parsed["start"] == format(start, "f")
    assert int(parsed["ofs"]) == ofs
    assert request.header("API-Sign") == reference_sign(TRADES_HISTORY_PATH, request.body)


def test_exported_names() -> None:
    for name in (
        "RestRequest",
        "build_private_request",
        "RestCallCounter",
        "Secret",
        "parse_query_trades_response",
    ):
        assert name in kraken_proto.rest.__all__
