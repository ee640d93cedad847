# mypy: disable-error-code="arg-type"
# (these tests pass wrongly typed arguments on purpose)
"""v2 request construction: every validation branch raises LocalProtocolError naming the
field, floats are refused wherever money is expected, and encode never leaks the token."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import kraken_proto
import pytest
from kraken_proto import LocalProtocolError
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

D = Decimal
TOKEN = "sEcReT-tOkEn/+abc123=="


def add(**overrides: Any) -> AddOrder:
    fields: dict[str, Any] = {
        "order_type": "limit",
        "side": "buy",
        "symbol": "BTC/USD",
        "order_qty": D("1.5"),
        "limit_price": D("9000"),
    }
    fields.update(overrides)
    return AddOrder(**{k: v for k, v in fields.items() if v is not ...})


STOP = {"order_type": "stop-loss", "limit_price": ..., "triggers": Triggers(price=D("100"))}

BAD: list[tuple[str, Callable[[], object], str]] = [
    # subscribe / unsubscribe
    ("channel", lambda: Subscribe(channel="ownTrades"), "channel"),
    ("bool option", lambda: Subscribe(channel="executions", snap_trades=1), "snap_trades"),
    ("users", lambda: Subscribe(channel="executions", users="some"), "users"),
    (
        "executions option on balances",
        lambda: Subscribe(channel="balances", snap_orders=True),
        "snap_orders",
    ),
    (
        "balances option on executions",
        lambda: Subscribe(channel="executions", snapshot=True),
        "snapshot",
    ),
    ("unsubscribe channel", lambda: Unsubscribe(channel="x"), "channel"),
    # add_order basics
    ("order type", lambda: add(order_type="stop-loss-profit"), "order_type"),
    ("side", lambda: add(side="long"), "side"),
    ("symbol", lambda: add(symbol="BTC USD"), "symbol"),
    ("float qty", lambda: add(order_qty=1.5), "float"),
    ("float price", lambda: add(limit_price=9000.0), "float"),
    ("zero qty", lambda: add(order_qty=D(0)), "order_qty"),
    ("nan qty", lambda: add(order_qty=D("NaN")), "order_qty"),
    ("str qty", lambda: add(order_qty="1.5"), "order_qty"),
    ("bool flag", lambda: add(post_only="yes"), "post_only"),
    ("no quantity", lambda: add(order_qty=None), "exactly one of order_qty"),
    ("both quantities", lambda: add(cash_order_qty=D(5)), "exactly one of order_qty"),
    (
        "cash qty on a limit",
        lambda: add(order_qty=None, cash_order_qty=D(5)),
        "buy market orders",
    ),
    (
        "cash qty with margin",
        lambda: add(
            order_type="market", limit_price=None, order_qty=None, cash_order_qty=D(5), margin=True
        ),
        "buy market orders",
    ),
    ("iceberg without display", lambda: add(order_type="iceberg"), "display_qty"),
    (
        "iceberg display too small",
        lambda: add(order_type="iceberg", order_qty=D(16), display_qty=D(1)),
        "1/15",
    ),
    ("display on a limit", lambda: add(display_qty=D(1)), "iceberg orders only"),
    # prices
    ("limit_price_type on a limit", lambda: add(limit_price_type="pct"), "trailing-stop-limit"),
    ("limit_price_type value", lambda: add(limit_price_type="percent"), "limit_price_type"),
    ("limit missing", lambda: add(limit_price=None), "limit_price: is required"),
    ("limit on a market", lambda: add(order_type="market"), "limit_price: is not used"),
    ("triggers type", lambda: add(**{**STOP, "triggers": {"price": 1}}), "Triggers"),
    (
        "triggers missing",
        lambda: add(order_type="stop-loss", limit_price=None),
        "triggers: is required",
    ),
    ("triggers on a limit", lambda: add(triggers=Triggers(price=D(1))), "triggers: is not used"),
    ("conditional type", lambda: add(conditional={"order_type": "limit"}), "Conditional"),
    ("negative static trigger", lambda: Triggers(price=D(-1)), "triggers.price"),
    ("zero pct trigger", lambda: Triggers(price=D(0), price_type="pct"), "non-zero"),
    ("float pct trigger", lambda: Triggers(price=-2.0, price_type="pct"), "float"),
    ("trigger reference", lambda: Triggers(price=D(1), reference="mark"), "reference"),
    ("conditional order type", lambda: Conditional(order_type="market"), "conditional.order_type"),
    (
        "conditional limit missing",
        lambda: Conditional(order_type="limit"),
        "conditional.limit_price",
    ),
    (
        "conditional limit unused",
        lambda: Conditional(order_type="stop-loss", trigger_price=D(1), limit_price=D(1)),
        "conditional.limit_price",
    ),
    (
        "conditional trigger missing",
        lambda: Conditional(order_type="stop-loss"),
        "conditional.trigger_price",
    ),
    (
        "conditional trigger on limit",
        lambda: Conditional(order_type="limit", limit_price=D(1), trigger_price=D(1)),
        "conditional.trigger_price",
    ),
    ("conditional float", lambda: Conditional(order_type="limit", limit_price=1.0), "float"),
    # timing
    ("tif", lambda: add(time_in_force="GTC"), "time_in_force"),
    (
        "fok on a market",
        lambda: add(order_type="market", limit_price=None, time_in_force="fok"),
        "fok",
    ),
    ("gtd without expiry", lambda: add(time_in_force="gtd"), "expire_time"),
    ("expiry without gtd", lambda: add(expire_time="2026-01-01T00:00:00Z"), "expire_time"),
    ("deadline format", lambda: add(deadline="tomorrow"), "deadline"),
    ("effective_time format", lambda: add(effective_time=5), "effective_time"),
    # identity
    ("userref range", lambda: add(order_userref=2**31), "order_userref"),
    ("userref bool", lambda: add(order_userref=True), "order_userref"),
    ("cl_ord_id form", lambda: add(cl_ord_id="x" * 19), "cl_ord_id"),
    ("cl_ord_id and userref", lambda: add(cl_ord_id="abc", order_userref=1), "mutually exclusive"),
    (
        "cl_ord_id with conditional",
        lambda: add(cl_ord_id="abc", conditional=Conditional(order_type="limit", limit_price=D(1))),
        "conditional",
    ),
    ("stp type", lambda: add(stp_type="cancel_all"), "stp_type"),
    ("fee preference", lambda: add(fee_preference="usd"), "fee_preference"),
    ("sender sub id", lambda: add(sender_sub_id=""), "sender_sub_id"),
    # amend_order
    ("amend no id", lambda: AmendOrder(order_qty=D(1)), "exactly one of order_id"),
    (
        "amend both ids",
        lambda: AmendOrder(order_id="O", cl_ord_id="c", order_qty=D(1)),
        "exactly one",
    ),
    ("amend order id", lambda: AmendOrder(order_id=" ", order_qty=D(1)), "order_id"),
    ("amend cl_ord_id", lambda: AmendOrder(cl_ord_id="é", order_qty=D(1)), "cl_ord_id"),
    ("amend no change", lambda: AmendOrder(order_id="O"), "at least one"),
    ("amend float", lambda: AmendOrder(order_id="O", limit_price=1.5), "float"),
    (
        "amend price type",
        lambda: AmendOrder(order_id="O", limit_price=D(1), trigger_price_type="x"),
        "trigger_price_type",
    ),
    ("amend post_only", lambda: AmendOrder(order_id="O", order_qty=D(1), post_only=1), "post_only"),
    ("amend symbol", lambda: AmendOrder(order_id="O", order_qty=D(1), symbol=""), "symbol"),
    (
        "amend deadline",
        lambda: AmendOrder(order_id="O", order_qty=D(1), deadline="now"),
        "deadline",
    ),
    # edit_order
    ("edit no change", lambda: EditOrder(order_id="O", symbol="BTC/USD"), "at least one change"),
    ("edit order id", lambda: EditOrder(order_id=5, symbol="BTC/USD", order_qty=D(1)), "order_id"),
    ("edit float", lambda: EditOrder(order_id="O", symbol="BTC/USD", order_qty=0.1), "float"),
    ("edit triggers", lambda: EditOrder(order_id="O", symbol="BTC/USD", triggers=1), "Triggers"),
    (
        "edit userref",
        lambda: EditOrder(order_id="O", symbol="BTC/USD", order_userref=2**40),
        "order_userref",
    ),
    (
        "edit fee pref",
        lambda: EditOrder(order_id="O", symbol="BTC/USD", fee_preference="x"),
        "fee_preference",
    ),
    (
        "edit validate",
        lambda: EditOrder(order_id="O", symbol="BTC/USD", order_qty=D(1), validate="1"),
        "validate",
    ),
    # cancels
    ("cancel nothing", lambda: CancelOrder(), "at least one"),
    ("cancel id type", lambda: CancelOrder(order_id=5), "order_id"),
    ("cancel ids container", lambda: CancelOrder(order_id=None), "list of ids"),
    ("cancel userref", lambda: CancelOrder(order_userref=("1",)), "order_userref"),
    ("dead man's switch type", lambda: CancelAllOrdersAfter(timeout=1.5), "timeout"),
    ("dead man's switch range", lambda: CancelAllOrdersAfter(timeout=86400), "timeout"),
    ("batch cancel one", lambda: BatchCancel(orders=("O1",)), "2 to 50"),
    ("batch cancel 51", lambda: BatchCancel(orders=tuple(f"O{i}" for i in range(51))), "2 to 50"),
    ("batch cancel id", lambda: BatchCancel(orders=("O1", 2**40)), "orders"),
    ("batch cancel bool", lambda: BatchCancel(orders=("O1", True)), "orders"),
    # batch_add
    ("batch add one", lambda: BatchAdd(orders=(add(),)), "2 to 15"),
    ("batch add 16", lambda: BatchAdd(orders=(add(),) * 16), "2 to 15"),
    ("batch add not a list", lambda: BatchAdd(orders=5), "list of AddOrder"),
    ("batch add string", lambda: BatchAdd(orders="ab"), "list of AddOrder"),
    ("batch add row type", lambda: BatchAdd(orders=(add(), {})), "orders[1]"),
    (
        "batch add two symbols",
        lambda: BatchAdd(orders=(add(), add(symbol="ETH/USD"))),
        "one symbol",
    ),
    (
        "batch add row deadline",
        lambda: BatchAdd(orders=(add(), add(deadline="2026-01-01T00:00:00Z"))),
        "belong to the batch",
    ),
    ("batch add row validate", lambda: BatchAdd(orders=(add(validate=True), add())), "orders[0]"),
    ("batch add deadline", lambda: BatchAdd(orders=(add(), add()), deadline="x"), "deadline"),
    ("batch add validate", lambda: BatchAdd(orders=(add(), add()), validate="no"), "validate"),
]


@pytest.mark.parametrize(("name", "build", "message"), BAD, ids=[b[0] for b in BAD])
def test_invalid_request_raises_naming_the_problem(
    name: str, build: Callable[[], object], message: str
) -> None:
    with pytest.raises(LocalProtocolError, match=message.replace("[", r"\[").replace("]", r"\]")):
        build()


def test_ints_become_exact_decimals_and_valid_edge_cases_are_accepted() -> None:
    order = add(order_qty=3, limit_price=7)
    assert order.order_qty == D(3)
    assert isinstance(order.order_qty, Decimal)
    # a relative trailing limit offset may be negative; a settle-position may carry a price
    add(
        order_type="trailing-stop-limit",
        limit_price=D("-1.5"),
        limit_price_type="pct",
        triggers=Triggers(price=D("2"), price_type="quote"),
    )
    add(order_type="settle-position", limit_price=None)
    add(order_type="settle-position")
    add(order_type="market", limit_price=None, order_qty=None, cash_order_qty=D(25))
    assert add(cl_ord_id="my-order-1").cl_ord_id == "my-order-1"
    only_clients = json.loads(encode(BatchCancel(cl_ord_id=("a", "b")), token=TOKEN))
    assert only_clients["params"] == {"cl_ord_id": ["a", "b"], "token": TOKEN}
    # iceberg with exactly 1/15 is fine
    add(order_type="iceberg", order_qty=D(15), display_qty=D(1))
    assert CancelOrder(order_id="O1").order_id == ("O1",)
    assert CancelOrder(order_userref=[1, 2], cl_ord_id="abc").expected_replies == 3
    assert BatchCancel(orders=("O1",), cl_ord_id=("abc",)).cl_ord_id == ("abc",)
    assert Subscribe(channel="executions", users="all").expects_snapshot is False
    assert Subscribe(channel="balances").expects_snapshot is True
    assert Subscribe(channel="balances", snapshot=False).expects_snapshot is False
    assert Subscribe(channel="executions", snap_orders=False).expects_snapshot is False
    assert Subscribe(channel="executions", snap_orders=False, snap_trades=True).expects_snapshot


def test_encode_refuses_bad_arguments_without_showing_the_token() -> None:
    with pytest.raises(LocalProtocolError, match=r"kraken_proto\.v2 request"):
        encode(object())
    with pytest.raises(LocalProtocolError, match=r"kraken_proto\.v2 request"):
        encode(kraken_proto.CancelAll(), token=TOKEN)
    with pytest.raises(LocalProtocolError, match="needs a session token"):
        encode(CancelAll())
    with pytest.raises(LocalProtocolError, match="takes no token"):
        encode(Ping(), token=TOKEN)
    for bad in (TOKEN + " x", "", "\ud800"):
        with pytest.raises(LocalProtocolError) as info:
            encode(CancelAll(), token=bad)
        assert TOKEN not in str(info.value)
    for bad_id in (0, 2**31, True, "1"):
        with pytest.raises(LocalProtocolError, match="req_id"):
            encode(Ping(), req_id=bad_id)


def test_v1_encode_refuses_a_v2_request() -> None:
    with pytest.raises(LocalProtocolError, match="kraken_proto request"):
        kraken_proto.encode(CancelAll(), token=TOKEN)
    assert isinstance(CancelAll(), kraken_proto.Request)


def test_token_and_numbers_on_the_wire() -> None:
    text = encode(add(order_qty=D("1E-8"), limit_price=D("1E+3")), token=TOKEN, req_id=1)
    assert '"order_qty":0.00000001' in text
    assert '"limit_price":1000' in text
    assert json.loads(text)["params"]["token"] == TOKEN
    assert TOKEN not in repr(add())
    assert encode(Ping()) == '{"method":"ping"}'
    every: list[V2Request] = [
        CancelAll(),
        CancelAllOrdersAfter(timeout=0),
        Unsubscribe(channel="balances"),
    ]
    for request in every:
        assert json.loads(encode(request, token=TOKEN))["params"]["token"] == TOKEN
