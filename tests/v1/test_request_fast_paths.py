"""The plain-order fast paths of ``AddOrder`` (checks and ``encode``) say exactly what the full
paths say: same wire keys in the same order, same refusals."""

from __future__ import annotations

import json
from decimal import Decimal, localcontext
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import AddOrder, CancelOrder, LocalProtocolError, encode

TOKEN = "WW91ciBhdXRoZW50aWNhdGlvbiB0b2tlbiBnb2VzIGhlcmUu"

decimals = st.decimals(
    min_value=Decimal("0.00000001"), max_value=Decimal("1000000"), places=8, allow_nan=False
)
ids: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.none().map(lambda _: {}),
    st.integers(-(2**31), 2**31 - 1).map(lambda ref: {"userref": ref}),
    st.text("abcdefXYZ0123456789-", min_size=1, max_size=18).map(lambda i: {"cl_ord_id": i}),
)


@given(volume=decimals, price=decimals, ident=ids, side=st.sampled_from(["buy", "sell"]))
def test_a_plain_limit_order_encodes_in_krakens_key_order(
    volume: Decimal, price: Decimal, ident: dict[str, Any], side: Any
) -> None:
    order = AddOrder(
        ordertype="limit", type=side, pair="XBT/USD", volume=volume, price=price, **ident
    )
    text = encode(order, token=TOKEN, reqid=3)
    expected: dict[str, object] = {
        "event": "addOrder",
        "reqid": 3,
        "token": TOKEN,
        "ordertype": "limit",
        "type": side,
        "pair": "XBT/USD",
        "volume": format(volume, "f"),
        "price": format(price, "f"),
    }
    if "userref" in ident:
        expected["userref"] = str(ident["userref"])
    if "cl_ord_id" in ident:
        expected["cl_ord_id"] = ident["cl_ord_id"]
    assert list(json.loads(text).items()) == list(expected.items())


@given(volume=decimals, ident=ids)
def test_a_plain_order_and_the_same_order_with_an_option_share_every_other_key(
    volume: Decimal, ident: dict[str, Any]
) -> None:
    plain = json.loads(
        encode(
            AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=volume, **ident),
            token=TOKEN,
        )
    )
    full = json.loads(
        encode(
            AddOrder(
                ordertype="market",
                type="buy",
                pair="XBT/USD",
                volume=volume,
                timeinforce="IOC",
                **ident,
            ),
            token=TOKEN,
        )
    )
    assert full.pop("timeinforce") == "IOC"
    assert list(full.items()) == list(plain.items())


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"userref": 2**31}, "userref"),
        ({"userref": True}, "userref"),
        ({"cl_ord_id": "x" * 19}, "cl_ord_id"),
        ({"userref": 1, "cl_ord_id": "abc"}, "cl_ord_id"),
        ({"volume": 1.5}, "volume"),
        ({"volume": Decimal("NaN")}, "volume"),
        ({"price": None}, "price"),
        ({"price2": Decimal(1)}, "price2"),
    ],
)
def test_a_plain_order_is_still_checked(fields: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {
        "ordertype": "limit",
        "type": "buy",
        "pair": "XBT/USD",
        "volume": Decimal("1"),
        "price": Decimal("100"),
        **fields,
    }
    with pytest.raises(LocalProtocolError, match=field):
        AddOrder(**arguments)


@given(
    st.decimals(allow_nan=False, allow_infinity=True)
    | st.builds(
        lambda digits, exponent: Decimal(digits).scaleb(exponent),
        st.integers(-(10**30), 10**30),
        st.integers(-40, 40),
    )
)
def test_decimal_text_is_format_f(value: Decimal) -> None:
    from kraken_proto._request_checks import _decimal_text

    assert _decimal_text(value) == format(value, "f")
    with localcontext() as context:
        context.capitals = 0  # str() then writes a lowercase exponent
        assert _decimal_text(value) == format(value, "f")


@given(
    st.text()
    | st.text(st.characters(max_codepoint=127))
    | st.sampled_from(["", " ", "a b", "\x00", "\x1c", "ok"])
)
def test_the_no_space_fast_path_agrees_with_the_pattern(text: str) -> None:
    from kraken_proto._request_checks import _NO_SPACE, _no_space

    assert _no_space(text) == (_NO_SPACE.fullmatch(text) is not None)


class _Text(str):
    """A str subclass: valid wherever a str is, but never taken by a fast path."""


class _Int(int):
    """An int subclass, likewise."""


def _mostly(usual: st.SearchStrategy[Any], *others: object) -> st.SearchStrategy[Any]:
    """``usual`` about nine times in ten, else one of ``others`` (valid or not)."""
    return st.integers(0, 9).flatmap(lambda roll: usual if roll else st.sampled_from(others))


_numbers = _mostly(
    decimals,
    *(Decimal("0"), Decimal("-1"), Decimal("NaN"), Decimal("Infinity"), Decimal("1E-8")),
    *(Decimal("1E+2"), 3, True, 1.5, "+5", "-1%", "#2", "5", None),
)
_ids = [
    "6d1b345e-2821-40e2-ad83-4ecb18a06876",
    "0123456789abcdef0123456789ABCDEF",
    "abc",
    "x" * 18,
    "x" * 19,
    "",
    "a\x7f",
    "6d1b345e-2821-40e2-ad83-4ecb18a0687g",
    _Text("abc"),
]
_add_order_arguments = st.fixed_dictionaries(
    {
        "ordertype": _mostly(
            st.sampled_from(["limit", "market", "settle-position", "stop-loss"]),
            *("stop-loss-limit", "trailing-stop", "x", 1, _Text("limit")),
        ),
        "type": _mostly(st.sampled_from(["buy", "sell"]), "hold", _Text("buy")),
        "pair": _mostly(st.just("XBT/USD"), "", " ", "a b", "é", "x\x00", _Text("XBT/USD")),
        "volume": _numbers,
        "price": _numbers,
        "price2": _mostly(st.none(), Decimal(1), "+1"),
    },
    optional={
        "userref": _mostly(st.integers(-(2**31), 2**31 - 1), 2**31, _Int(3), True),
        "cl_ord_id": st.sampled_from(_ids),
        "validate": st.sampled_from([False, True, 0]),
        "timeinforce": st.sampled_from(["IOC", "GTC"]),
        "oflags": st.sampled_from([frozenset(), set(), "post", ()]),
    },
)


@given(_add_order_arguments)
def test_what_the_fast_path_accepts_the_full_checks_accept_unchanged(
    arguments: dict[str, Any],
) -> None:
    """An AddOrder the constructor accepts (fast path or not) passes every check again, and
    those checks change no field, not even a type: the fast path takes nothing they refuse
    or would normalise."""
    try:
        order = AddOrder(**arguments)
    except LocalProtocolError:
        return
    before = [(type(value), value) for value in msgspec.structs.astuple(order)]
    order._check()
    assert [(type(value), value) for value in msgspec.structs.astuple(order)] == before


def test_a_reqid_encode_does_not_take_inline_is_checked() -> None:
    from kraken_proto.v1._requests import check_reqid

    assert check_reqid(_Int(9)) == 9  # encode takes only an exact int inline
    order = AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal(1))
    for reqid in (-1, 2**64, True):
        with pytest.raises(LocalProtocolError, match="reqid"):
            encode(order, token=TOKEN, reqid=reqid)


_cancel_ids = _mostly(
    st.lists(st.sampled_from(["OGTT3Y-C6I3P-XRI6HX", "O2"]), min_size=1, max_size=3).map(tuple),
    (),
    ("a b",),
    ("",),
    ("é",),
    (_Text("O1"),),
    ["O1"],
    "O1",
    (1,),
)


@given(
    st.fixed_dictionaries(
        {"txid": _cancel_ids},
        optional={"userref": st.sampled_from([(), (1,), [], 5]), "cl_ord_id": st.just(("c",))},
    )
)
def test_what_the_cancel_fast_path_accepts_the_full_checks_accept_unchanged(
    arguments: dict[str, Any],
) -> None:
    try:
        request = CancelOrder(**arguments)
    except LocalProtocolError:
        return
    before = [(type(value), value) for value in msgspec.structs.astuple(request)]
    request._check()
    assert [(type(value), value) for value in msgspec.structs.astuple(request)] == before


def test_replace_request_checks_and_normalises_the_copy() -> None:
    from kraken_proto import replace_request

    order = AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal(1))
    copy = replace_request(order, volume=2, oflags="viqc")
    assert copy.volume == Decimal(2)
    assert type(copy.volume) is Decimal
    assert copy.oflags == frozenset({"viqc"})
    assert (order.volume, order.oflags) == (Decimal(1), frozenset())  # untouched
    with pytest.raises(LocalProtocolError, match="volume: got a float"):
        replace_request(order, volume=1.5)
    with pytest.raises(LocalProtocolError, match="cl_ord_id"):
        replace_request(replace_request(order, userref=1), cl_ord_id="abc")
    with pytest.raises(TypeError):
        replace_request(order, no_such_field=1)
