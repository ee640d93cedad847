"""Property: any valid request encodes to JSON whose fields, parsed back, equal the request's
fields in Kraken's wire types (numbers as strings, reqid/timeout as integers, booleans as
booleans, txid as an array, token where Kraken wants it)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Request,
    encode,
)
from kraken_proto.v1 import Ping, Subscribe, Unsubscribe
from kraken_proto.v1._request_fields import (
    _PRICE_RULES,
    CLOSE_ORDER_TYPES,
    ORDER_FLAGS,
    ORDER_TYPES,
)

money = st.decimals(
    min_value=Decimal("1e-12"), max_value=Decimal("1e12"), allow_nan=False, allow_infinity=False
)
relative_primary = st.from_regex(r"[+\-#][0-9]{1,6}(\.[0-9]{1,4})?%?", fullmatch=True)
relative_secondary = st.from_regex(r"[+\-][0-9]{1,6}(\.[0-9]{1,4})?%?", fullmatch=True)
plus_offset = st.from_regex(r"\+[0-9]{1,6}(\.[0-9]{1,4})?%?", fullmatch=True)
ident = st.from_regex(r"[A-Z0-9]{6}-[A-Z0-9]{5}-[A-Z0-9]{6}", fullmatch=True)
pair = st.sampled_from(["XBT/USD", "ETH/EUR", "AAPLx/USD", "USDC/USD"])
int32 = st.integers(-(2**31), 2**31 - 1)
cl_ord_id = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: u.hex),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=18),
)
schedule = st.one_of(
    st.just(0), st.integers(0, 2**40), st.integers(0, 10**6).map(lambda n: f"+{n}")
)
deadline = st.from_regex(
    r"20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]{3})?Z",
    fullmatch=True,
)
flags = st.sets(st.sampled_from(sorted(ORDER_FLAGS))).filter(lambda f: not {"fcib", "fciq"} <= f)
token = st.from_regex(r"[A-Za-z0-9/+=]{10,60}", fullmatch=True)
reqid = st.one_of(st.none(), st.integers(0, 2**64 - 1))


def _prices(draw: st.DrawFn, ordertype: str, primary: Any) -> tuple[Any, Any]:
    rule, rule2 = _PRICE_RULES[ordertype]
    price = {
        "none": None,
        "optional": draw(st.one_of(st.none(), money)),
        "required": draw(st.one_of(money, primary)),
        "rel+": draw(plus_offset),
    }[rule]
    price2 = None if rule2 == "none" else draw(st.one_of(money, relative_secondary))
    return price, price2


@st.composite
def add_orders(draw: st.DrawFn) -> AddOrder:
    ordertype = draw(st.sampled_from(sorted(ORDER_TYPES)))
    price, price2 = _prices(draw, ordertype, relative_primary)
    order_flags = draw(flags)
    if ordertype != "limit":
        order_flags.discard("post")
    fields: dict[str, Any] = {
        "ordertype": ordertype,
        "type": draw(st.sampled_from(["buy", "sell"])),
        "pair": draw(pair),
        "volume": draw(money),
        "price": price,
        "price2": price2,
        "leverage": draw(st.one_of(st.none(), st.integers(1, 100))),
        "margin": draw(st.one_of(st.none(), st.booleans())),
        "reduce_only": draw(st.one_of(st.none(), st.booleans())),
        "oflags": frozenset(order_flags),
        "starttm": draw(st.one_of(st.none(), schedule)),
        "deadline": draw(st.one_of(st.none(), deadline)),
        "validate": draw(st.booleans()),
        "stp_type": draw(
            st.one_of(st.none(), st.sampled_from(["cancel_newest", "cancel_oldest", "cancel_both"]))
        ),
        "sender_sub_id": draw(
            st.one_of(st.none(), st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True))
        ),
    }
    timeinforce = draw(st.one_of(st.none(), st.sampled_from(["GTC", "GTD", "IOC"])))
    fields["timeinforce"] = timeinforce
    expire = st.integers(1, 2**40) if timeinforce == "GTD" else st.one_of(st.none(), schedule)
    fields["expiretm"] = draw(expire)
    if draw(st.booleans()):
        fields["userref"] = draw(int32)
    elif draw(st.booleans()):
        fields["cl_ord_id"] = draw(cl_ord_id)
    if draw(st.booleans()):
        close_type = draw(st.sampled_from(sorted(CLOSE_ORDER_TYPES)))
        fields["close_ordertype"] = close_type
        fields["close_price"], fields["close_price2"] = _prices(draw, close_type, relative_primary)
    return AddOrder(**fields)


@st.composite
def edit_orders(draw: st.DrawFn) -> EditOrder:
    changes: dict[str, Any] = {
        "price": draw(st.one_of(st.none(), money)),
        "price2": draw(st.one_of(st.none(), money)),
        "volume": draw(st.one_of(st.none(), money)),
        "oflags": draw(st.one_of(st.none(), flags.map(frozenset))),
        "newuserref": draw(st.one_of(st.none(), int32)),
    }
    if all(value is None for value in changes.values()):
        changes["volume"] = draw(money)
    return EditOrder(
        orderid=draw(st.one_of(ident, int32)),
        pair=draw(pair),
        validate=draw(st.booleans()),
        **changes,
    )


@st.composite
def amend_orders(draw: st.DrawFn) -> AmendOrder:
    changes: dict[str, Any] = {
        "volume": draw(st.one_of(st.none(), money)),
        "display_volume": draw(st.one_of(st.none(), money)),
        "limit_price": draw(st.one_of(st.none(), money, relative_secondary)),
        "trigger_price": draw(st.one_of(st.none(), money, relative_secondary)),
    }
    if all(value is None for value in changes.values()):
        changes["limit_price"] = draw(money)
    which = draw(st.sampled_from(["txid", "cl_ord_id"]))
    identity: dict[str, Any] = {which: draw(ident if which == "txid" else cl_ord_id)}
    return AmendOrder(
        **identity,
        post_only=draw(st.one_of(st.none(), st.booleans())),
        pair=draw(st.one_of(st.none(), pair)),
        deadline=draw(st.one_of(st.none(), deadline)),
        **changes,
    )


@st.composite
def cancel_orders(draw: st.DrawFn) -> CancelOrder:
    txids = draw(st.lists(ident, max_size=4))
    userrefs = draw(st.lists(int32, max_size=3))
    client_ids = draw(st.lists(cl_ord_id, max_size=3))
    if not (txids or userrefs or client_ids):
        txids = [draw(ident)]
    return CancelOrder(txid=tuple(txids), userref=tuple(userrefs), cl_ord_id=tuple(client_ids))


subscribes = st.one_of(
    st.builds(
        Subscribe,
        name=st.just("ownTrades"),
        snapshot=st.one_of(st.none(), st.booleans()),
        consolidate_taker=st.one_of(st.none(), st.booleans()),
        rebased=st.one_of(st.none(), st.booleans()),
    ),
    st.builds(
        Subscribe,
        name=st.just("openOrders"),
        ratecounter=st.one_of(st.none(), st.booleans()),
        rebased=st.one_of(st.none(), st.booleans()),
    ),
)
requests = st.one_of(
    subscribes,
    st.builds(Unsubscribe, name=st.sampled_from(["ownTrades", "openOrders"])),
    add_orders(),
    edit_orders(),
    amend_orders(),
    cancel_orders(),
    st.just(CancelAll()),
    st.builds(CancelAllOrdersAfter, timeout=st.integers(0, 86399)),
    st.just(Ping()),
)


def _number(value: Any) -> str:
    """Kraken's wire form of a number: the digits without exponent; relative strings as is."""
    return value if isinstance(value, str) else format(value, "f")


def _expected(request: Request) -> dict[str, Any]:
    """The wire fields, written independently of the encoder from the protocol doc's types."""
    out: dict[str, Any] = {}
    if isinstance(request, Subscribe | Unsubscribe):
        sub: dict[str, Any] = {"name": request.name}
        if isinstance(request, Subscribe):
            for option in ("snapshot", "consolidate_taker", "ratecounter", "rebased"):
                if getattr(request, option) is not None:
                    sub[option] = getattr(request, option)
        return {"subscription": sub}
    if isinstance(request, AddOrder):
        out = {"ordertype": request.ordertype, "type": request.type, "pair": request.pair}
        out["volume"] = _number(request.volume)
        for key, wire_key in (
            ("price", "price"),
            ("price2", "price2"),
            ("close_price", "close[price]"),
            ("close_price2", "close[price2]"),
        ):
            if getattr(request, key) is not None:
                out[wire_key] = _number(getattr(request, key))
        for key in ("leverage", "starttm", "expiretm", "userref"):
            if getattr(request, key) is not None:
                out[key] = str(getattr(request, key))
        for key in ("margin", "reduce_only"):
            if getattr(request, key) is not None:
                out[key] = getattr(request, key)
        for key in ("deadline", "cl_ord_id", "timeinforce", "stp_type", "sender_sub_id"):
            if getattr(request, key) is not None:
                out[key] = getattr(request, key)
        if request.close_ordertype is not None:
            out["close[ordertype]"] = request.close_ordertype
        if request.oflags:
            out["oflags"] = ",".join(sorted(request.oflags))
        if request.validate:
            out["validate"] = "true"
    elif isinstance(request, EditOrder):
        out = {"orderid": str(request.orderid), "pair": request.pair}
        for key in ("price", "price2", "volume"):
            if getattr(request, key) is not None:
                out[key] = _number(getattr(request, key))
        if request.oflags is not None:
            out["oflags"] = ",".join(sorted(request.oflags))
        if request.newuserref is not None:
            out["newuserref"] = str(request.newuserref)
        if request.validate:
            out["validate"] = True
    elif isinstance(request, AmendOrder):
        for key in ("txid", "cl_ord_id", "pair", "deadline", "post_only"):
            if getattr(request, key) is not None:
                out[key] = getattr(request, key)
        for key in ("volume", "display_volume", "limit_price", "trigger_price"):
            if getattr(request, key) is not None:
                out[key] = _number(getattr(request, key))
    elif isinstance(request, CancelOrder):
        ids = [*request.txid, *(str(ref) for ref in request.userref)]
        if ids:
            out["txid"] = ids
        if request.cl_ord_id:
            out["cl_ord_id"] = list(request.cl_ord_id)
    elif isinstance(request, CancelAllOrdersAfter):
        out = {"timeout": request.timeout}
    return out


@given(request=requests, token=token, reqid=reqid)
def test_any_valid_request_encodes_its_fields_in_kraken_wire_types(
    request: Request, token: str, reqid: int | None
) -> None:
    text = encode(request, token=token if request.requires_token else None, reqid=reqid)
    message = json.loads(text)
    assert message.pop("event") == request.event
    if reqid is not None:
        assert message.pop("reqid") == reqid
        assert type(reqid) is int
    assert "reqid" not in message
    if isinstance(request, Subscribe | Unsubscribe):
        assert message["subscription"].pop("token") == token
    elif request.requires_token:
        assert message.pop("token") == token
    else:
        assert "token" not in message
    assert message == _expected(request)
    # every number travels as a string Kraken parses: no exponent, the same value
    for key, value in message.items():
        if isinstance(value, str) and key in ("volume", "price", "price2", "display_volume"):
            assert "e" not in value.lower()
            if value[0] not in "+-#":
                assert Decimal(value) == getattr(request, key)


@given(value=money)
def test_decimal_volume_is_sent_exactly(value: Decimal) -> None:
    request = AmendOrder(txid="OB54AL-OBWL7-YOYRZI", volume=value)
    sent = json.loads(encode(request, token="t0k3n"))["volume"]
    assert Decimal(sent) == value
    if value.as_tuple().exponent <= 0:  # type: ignore[operator]
        assert Decimal(sent).as_tuple() == value.as_tuple()
