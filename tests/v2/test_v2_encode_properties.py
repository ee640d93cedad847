"""Property: any valid v2 request encodes to JSON whose ``params``, parsed back, equal the
request's fields in v2 wire types: Decimals as bare JSON numbers with exactly their digits
(fixed-point, never quoted, never through a float), booleans as booleans, ids as arrays where
Kraken wants them, the token in ``params.token`` and ``req_id`` as an integer."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kraken_proto.v2 import (
    AddOrder,
    AmendOrder,
    BatchAdd,
    BatchCancel,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    Conditional,
    EditOrder,
    Ping,
    Subscribe,
    Triggers,
    Unsubscribe,
    V2Request,
    encode,
)
from kraken_proto.v2._request_fields import (
    LIMIT_TYPES,
    NO_LIMIT_TYPES,
    ORDER_TYPES,
    TRIGGERED_TYPES,
)

money = st.decimals(
    min_value=Decimal("1e-12"), max_value=Decimal("1e12"), allow_nan=False, allow_infinity=False
)
# Values whose text form is unusual: exponents, trailing zeros, 20 significant digits.
awkward_money = st.sampled_from(
    [
        Decimal("0.1"),
        Decimal("1e-8"),
        Decimal("1E+3"),
        Decimal("12345678901234567890"),
        Decimal("1.2345678901234567890"),
        Decimal("26500.0"),
        Decimal("0.00000000100"),
    ]
)
amount = money | awkward_money
offset = (money | awkward_money).flatmap(lambda m: st.sampled_from([m, -m]))
ident = st.from_regex(r"[A-Z0-9]{6}-[A-Z0-9]{5}-[A-Z0-9]{6}", fullmatch=True)
symbol = st.sampled_from(["BTC/USD", "ETH/EUR", "AAPLx/USD"])
int32 = st.integers(-(2**31), 2**31 - 1)
cl_ord_id = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: u.hex),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=18),
)
rfc3339 = st.from_regex(
    r"20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]{3,9})?Z",
    fullmatch=True,
)
token = st.from_regex(r"[A-Za-z0-9/+=]{10,60}", fullmatch=True)
req_id = st.one_of(st.none(), st.integers(1, 2**31 - 1))
maybe_bool = st.one_of(st.none(), st.booleans())
price_type: st.SearchStrategy[Any] = st.sampled_from(["static", "pct", "quote"])


@st.composite
def triggers(draw: st.DrawFn) -> Triggers:
    kind = draw(st.one_of(st.none(), price_type))
    price = draw(offset if kind in ("pct", "quote") else amount)
    return Triggers(
        price=price,
        reference=draw(st.one_of(st.none(), st.sampled_from(["last", "index"]))),
        price_type=kind,
    )


@st.composite
def conditionals(draw: st.DrawFn) -> Conditional:
    order_type = draw(st.sampled_from(sorted(TRIGGERED_TYPES | {"limit"})))
    fields: dict[str, Any] = {"order_type": order_type}
    if order_type in LIMIT_TYPES:
        fields["limit_price"] = draw(amount)
    if order_type in TRIGGERED_TYPES:
        fields["trigger_price"] = draw(amount)
    return Conditional(**fields)


@st.composite
def add_orders(draw: st.DrawFn, *, row: bool = False, symbol_: str | None = None) -> AddOrder:
    order_type = draw(st.sampled_from(sorted(ORDER_TYPES)))
    side = draw(st.sampled_from(["buy", "sell"]))
    fields: dict[str, Any] = {
        "order_type": order_type,
        "side": side,
        "symbol": symbol_ or draw(symbol),
        "margin": draw(maybe_bool),
        "post_only": draw(maybe_bool),
        "reduce_only": draw(maybe_bool),
        "stp_type": draw(
            st.one_of(st.none(), st.sampled_from(["cancel_newest", "cancel_oldest", "cancel_both"]))
        ),
        "fee_preference": draw(st.one_of(st.none(), st.sampled_from(["base", "quote"]))),
        "effective_time": draw(st.one_of(st.none(), rfc3339)),
        "sender_sub_id": draw(
            st.one_of(st.none(), st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True))
        ),
    }
    if not row:
        fields["deadline"] = draw(st.one_of(st.none(), rfc3339))
        fields["validate"] = draw(maybe_bool)
    if order_type == "market" and side == "buy" and not fields["margin"] and draw(st.booleans()):
        fields["cash_order_qty"] = draw(amount)
    else:
        fields["order_qty"] = draw(amount)
    if order_type == "iceberg":
        fields["display_qty"] = fields["order_qty"]
    if order_type == "trailing-stop-limit":
        fields["limit_price_type"] = draw(st.one_of(st.none(), price_type))
    if order_type in LIMIT_TYPES:
        fields["limit_price"] = draw(
            offset if fields.get("limit_price_type") in ("pct", "quote") else amount
        )
    elif order_type not in NO_LIMIT_TYPES and draw(st.booleans()):
        fields["limit_price"] = draw(amount)
    if order_type in TRIGGERED_TYPES:
        fields["triggers"] = draw(triggers())
    tif = draw(st.one_of(st.none(), st.sampled_from(["gtc", "gtd", "ioc", "fok"])))
    if tif == "fok" and order_type != "limit":
        tif = "ioc"
    fields["time_in_force"] = tif
    if tif == "gtd":
        fields["expire_time"] = draw(rfc3339)
    identity = draw(st.sampled_from(["none", "userref", "cl_ord_id", "conditional"]))
    if identity == "userref":
        fields["order_userref"] = draw(int32)
    elif identity == "cl_ord_id":
        fields["cl_ord_id"] = draw(cl_ord_id)
    elif identity == "conditional":
        fields["conditional"] = draw(conditionals())
    return AddOrder(**fields)


@st.composite
def batch_adds(draw: st.DrawFn) -> BatchAdd:
    shared = draw(symbol)
    rows = draw(st.lists(add_orders(row=True, symbol_=shared), min_size=2, max_size=15))
    return BatchAdd(
        orders=tuple(rows), deadline=draw(st.one_of(st.none(), rfc3339)), validate=draw(maybe_bool)
    )


@st.composite
def amend_orders(draw: st.DrawFn) -> AmendOrder:
    limit_type = draw(st.one_of(st.none(), price_type))
    trigger_type = draw(st.one_of(st.none(), price_type))
    changes: dict[str, Any] = {
        "order_qty": draw(st.one_of(st.none(), amount)),
        "display_qty": draw(st.one_of(st.none(), amount)),
        "limit_price": draw(
            st.one_of(st.none(), offset if limit_type in ("pct", "quote") else amount)
        ),
        "trigger_price": draw(
            st.one_of(st.none(), offset if trigger_type in ("pct", "quote") else amount)
        ),
    }
    if all(value is None for value in changes.values()):
        changes["order_qty"] = draw(amount)
    which = draw(st.sampled_from(["order_id", "cl_ord_id"]))
    identity: dict[str, Any] = {which: draw(ident if which == "order_id" else cl_ord_id)}
    return AmendOrder(
        **identity,
        limit_price_type=limit_type,
        trigger_price_type=trigger_type,
        post_only=draw(maybe_bool),
        deadline=draw(st.one_of(st.none(), rfc3339)),
        symbol=draw(st.one_of(st.none(), symbol)),
        **changes,
    )


@st.composite
def edit_orders(draw: st.DrawFn) -> EditOrder:
    changes: dict[str, Any] = {
        "order_qty": draw(st.one_of(st.none(), amount)),
        "limit_price": draw(st.one_of(st.none(), amount)),
        "display_qty": draw(st.one_of(st.none(), amount)),
        "triggers": draw(st.one_of(st.none(), triggers())),
        "post_only": draw(maybe_bool),
        "reduce_only": draw(maybe_bool),
        "order_userref": draw(st.one_of(st.none(), int32)),
        "fee_preference": draw(st.one_of(st.none(), st.sampled_from(["base", "quote"]))),
    }
    if all(value is None for value in changes.values()):
        changes["order_qty"] = draw(amount)
    return EditOrder(
        order_id=draw(ident),
        symbol=draw(symbol),
        deadline=draw(st.one_of(st.none(), rfc3339)),
        validate=draw(maybe_bool),
        **changes,
    )


@st.composite
def cancel_orders(draw: st.DrawFn) -> CancelOrder:
    ids = draw(st.lists(ident, max_size=4))
    client_ids = draw(st.lists(cl_ord_id, max_size=3))
    refs = draw(st.lists(int32, max_size=3))
    if not (ids or client_ids or refs):
        ids = [draw(ident)]
    return CancelOrder(order_id=tuple(ids), cl_ord_id=tuple(client_ids), order_userref=tuple(refs))


@st.composite
def batch_cancels(draw: st.DrawFn) -> BatchCancel:
    orders = draw(st.lists(ident | int32, max_size=25))
    client_ids = draw(st.lists(cl_ord_id, min_size=max(0, 2 - len(orders)), max_size=25))
    return BatchCancel(orders=tuple(orders), cl_ord_id=tuple(client_ids))


subscribes = st.one_of(
    st.builds(
        Subscribe,
        channel=st.just("executions"),
        snap_orders=maybe_bool,
        snap_trades=maybe_bool,
        order_status=maybe_bool,
        ratecounter=maybe_bool,
        rebased=maybe_bool,
        users=st.one_of(st.none(), st.just("all")),
    ),
    st.builds(
        Subscribe,
        channel=st.just("balances"),
        snapshot=maybe_bool,
        rebased=maybe_bool,
        users=st.one_of(st.none(), st.just("all")),
    ),
)
requests = st.one_of(
    subscribes,
    st.builds(Unsubscribe, channel=st.sampled_from(["executions", "balances"])),
    add_orders(),
    batch_adds(),
    amend_orders(),
    edit_orders(),
    cancel_orders(),
    batch_cancels(),
    st.just(CancelAll()),
    st.builds(CancelAllOrdersAfter, timeout=st.integers(0, 86399)),
    st.just(Ping()),
)


def _wire(value: Any) -> Any:
    """The expected wire value, written from the doc independently of the encoder."""
    if isinstance(value, Triggers | Conditional):
        return {
            key: _wire(getattr(value, key))
            for key in value.__struct_fields__
            if getattr(value, key) is not None
        }
    return value


_ORDER_KEYS = (
    "order_type",
    "side",
    "order_qty",
    "cash_order_qty",
    "limit_price",
    "limit_price_type",
    "triggers",
    "time_in_force",
    "effective_time",
    "expire_time",
    "margin",
    "post_only",
    "reduce_only",
    "stp_type",
    "cl_ord_id",
    "order_userref",
    "conditional",
    "display_qty",
    "fee_preference",
    "sender_sub_id",
)


def _fields(request: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: _wire(getattr(request, key)) for key in keys if getattr(request, key) is not None}


def _expected(request: V2Request) -> dict[str, Any]:
    if isinstance(request, Subscribe):
        keys = (
            "channel",
            "snap_orders",
            "snap_trades",
            "order_status",
            "ratecounter",
            "snapshot",
            "rebased",
            "users",
        )
        return _fields(request, keys)
    if isinstance(request, Unsubscribe):
        return {"channel": request.channel}
    if isinstance(request, AddOrder):
        return _fields(request, (*_ORDER_KEYS, "symbol", "deadline", "validate"))
    if isinstance(request, BatchAdd):
        out = {"symbol": request.orders[0].symbol}
        out["orders"] = [_fields(row, _ORDER_KEYS) for row in request.orders]  # type: ignore[assignment]
        return {**out, **_fields(request, ("deadline", "validate"))}
    if isinstance(request, AmendOrder):
        return _fields(request, tuple(request.__struct_fields__))
    if isinstance(request, EditOrder):
        return _fields(request, tuple(request.__struct_fields__))
    if isinstance(request, CancelOrder):
        return {
            key: list(getattr(request, key))
            for key in request.__struct_fields__
            if getattr(request, key)
        }
    if isinstance(request, BatchCancel):
        out2: dict[str, Any] = {}
        if request.orders:
            out2["orders"] = [str(item) for item in request.orders]
        if request.cl_ord_id:
            out2["cl_ord_id"] = list(request.cl_ord_id)
        return out2
    if isinstance(request, CancelAllOrdersAfter):
        return {"timeout": request.timeout}
    return {}


def _numbers_as_text(text: str) -> Any:
    return json.loads(text, parse_float=lambda s: ("number", s), parse_int=lambda s: ("number", s))


def _check_numbers(sent: Any, expected: Any) -> None:
    """Each Decimal went out as a bare JSON number with its exact digits in fixed point."""
    if isinstance(expected, Decimal):
        assert isinstance(sent, tuple), f"{expected} was not sent as a JSON number"
        text = sent[1]
        assert re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text), text
        assert Decimal(text) == expected
        if expected.as_tuple().exponent <= 0:  # type: ignore[operator]
            assert Decimal(text).as_tuple() == expected.as_tuple()
    elif isinstance(expected, dict):
        assert sorted(sent) == sorted(expected)
        for key, value in expected.items():
            _check_numbers(sent[key], value)
    elif isinstance(expected, list):
        assert len(sent) == len(expected)
        for sent_item, item in zip(sent, expected, strict=True):
            _check_numbers(sent_item, item)
    elif isinstance(expected, bool | str):
        assert sent == expected
    else:  # int
        assert sent == ("number", str(expected))


@given(request=requests, token=token, req_id=req_id)
def test_any_valid_request_encodes_its_fields_in_v2_wire_types(
    request: V2Request, token: str, req_id: int | None
) -> None:
    text = encode(request, token=token if request.requires_token else None, req_id=req_id)
    message = _numbers_as_text(text)
    assert message.pop("method") == request.method
    if req_id is not None:
        assert message.pop("req_id") == ("number", str(req_id))
    assert "req_id" not in message
    params = message.pop("params", {})
    assert message == {}
    if request.requires_token:
        assert params.pop("token") == token
    assert "token" not in params
    _check_numbers(params, _expected(request))


@given(value=amount | offset)
def test_decimal_price_is_sent_exactly(value: Decimal) -> None:
    request = AmendOrder(order_id="OB54AL-OBWL7-YOYRZI", limit_price=value, limit_price_type="pct")
    sent = json.loads(encode(request, token="t0k3n"), parse_float=Decimal)["params"]["limit_price"]
    assert sent == value
    assert isinstance(sent, Decimal | int)
