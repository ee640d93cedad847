# mypy: disable-error-code="arg-type"
# (these tests pass wrongly typed arguments on purpose)
"""The plain-order fast paths of the v2 ``AddOrder`` (checks and ``encode``) say exactly what
the full paths say: same refusals, same values, same wire keys in the same order."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import LocalProtocolError
from kraken_proto.v2 import AddOrder, CancelOrder, encode

TOKEN = "WW91ciBhdXRoZW50aWNhdGlvbiB0b2tlbiBnb2VzIGhlcmUu"

decimals = st.decimals(
    min_value=Decimal("0.00000001"), max_value=Decimal("1000000"), places=8, allow_nan=False
)


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
    *(Decimal("1E+2"), 3, True, 1.5, "5", None),
)
_add_order_arguments = st.fixed_dictionaries(
    {
        "order_type": _mostly(
            st.sampled_from(["limit", "market", "settle-position"]),
            *("iceberg", "stop-loss", "x", 1, _Text("limit")),
        ),
        "side": _mostly(st.sampled_from(["buy", "sell"]), "hold", _Text("buy")),
        "symbol": _mostly(st.just("BTC/USD"), "", " ", "a b", "é", "x\x00", _Text("BTC/USD")),
        "order_qty": _numbers,
        "limit_price": _numbers,
    },
    optional={
        "cash_order_qty": _numbers,
        "order_userref": _mostly(st.integers(-(2**31), 2**31 - 1), 2**31, _Int(3), True),
        "cl_ord_id": st.sampled_from(
            ["6d1b345e-2821-40e2-ad83-4ecb18a06876", "abc", "x" * 19, "", _Text("abc")]
        ),
        "validate": st.sampled_from([None, True, 0]),
        "post_only": st.sampled_from([None, True]),
        "deadline": st.sampled_from([None, "2026-01-01T00:00:00Z"]),
        "display_qty": st.sampled_from([None, Decimal(1)]),
    },
)


@given(_add_order_arguments)
def test_what_the_fast_path_accepts_the_full_checks_accept_unchanged(
    arguments: dict[str, Any],
) -> None:
    """A v2 AddOrder the constructor accepts (fast path or not) passes every check again, and
    those checks change no field, not even a type."""
    try:
        order = AddOrder(**arguments)
    except LocalProtocolError:
        return
    before = [(type(value), value) for value in msgspec.structs.astuple(order)]
    order._check()
    assert [(type(value), value) for value in msgspec.structs.astuple(order)] == before


ids: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.just({}),
    st.integers(-(2**31), 2**31 - 1).map(lambda ref: {"order_userref": ref}),
    st.text("abcdefXYZ0123456789-", min_size=1, max_size=18).map(lambda i: {"cl_ord_id": i}),
)
quantities = decimals.map(lambda q: {"order_qty": q}) | decimals.map(
    lambda q: {"cash_order_qty": q}
)
options: st.SearchStrategy[dict[str, Any]] = st.sampled_from(
    [
        {"post_only": True},
        {"validate": False},
        {"deadline": "2026-01-01T00:00:00Z"},
        {"time_in_force": "ioc"},
        {"reduce_only": True},
    ]
)


@given(quantity=quantities, ident=ids, option=options)
def test_a_plain_order_and_the_same_order_with_an_option_share_every_other_key(
    quantity: dict[str, Any], ident: dict[str, Any], option: dict[str, Any]
) -> None:
    arguments = {"order_type": "market", "side": "buy", "symbol": "BTC/USD", **quantity, **ident}
    plain = json.loads(encode(AddOrder(**arguments), token=TOKEN, req_id=3))
    full = json.loads(encode(AddOrder(**arguments, **option), token=TOKEN, req_id=3))
    ((key, value),) = option.items()
    assert full["params"].pop(key) == value
    assert list(full["params"].items()) == list(plain["params"].items())
    assert list(full.items()) == list(plain.items())
    expected = ["order_type", "side", *quantity, *ident, "symbol", "token"]
    assert list(plain["params"]) == expected


@given(price=decimals, quantity=decimals)
def test_a_plain_limit_order_writes_its_decimals_as_bare_numbers(
    price: Decimal, quantity: Decimal
) -> None:
    order = AddOrder(
        order_type="limit", side="sell", symbol="BTC/USD", order_qty=quantity, limit_price=price
    )
    text = encode(order, token=TOKEN, req_id=1)
    assert f'"order_qty":{format(quantity, "f")},' in text
    assert f'"limit_price":{format(price, "f")},' in text


def test_a_req_id_encode_does_not_take_inline_is_checked() -> None:
    from kraken_proto.v2._requests import check_req_id

    assert check_req_id(_Int(9)) == 9  # encode takes only an exact int inline
    order = AddOrder(order_type="market", side="buy", symbol="BTC/USD", order_qty=Decimal(1))
    for req_id in (0, 2**31, True):
        with pytest.raises(LocalProtocolError, match="req_id"):
            encode(order, token=TOKEN, req_id=req_id)
    with pytest.raises(LocalProtocolError, match="token"):
        encode(order, token="a b", req_id=1)
    assert CancelOrder(order_id="O1").order_id == ("O1",)
