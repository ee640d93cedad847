"""A ``str`` or ``int`` subclass (a user's own id or pair type) passes a request's checks and
goes on the wire as the plain value, on v1, v2 and in the journal: never a ``TypeError`` from
the JSON encoder after the request was accepted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from kraken_proto import AddOrder, CancelOrder
from kraken_proto._request_base import plain_value
from kraken_proto.session._journal import IntentRecorded
from kraken_proto.session._journal_codec import decode_record, encode_record
from kraken_proto.v1 import encode as encode_v1
from kraken_proto.v2 import AddOrder as V2AddOrder
from kraken_proto.v2 import encode as encode_v2


class Pair(str):
    """A user's pair type."""


class Ref(int):
    """A user's reference number type."""


def test_v1_encodes_subclassed_values_as_plain_ones() -> None:
    fields = {"ordertype": "limit", "type": "buy", "volume": Decimal("1"), "price": Decimal("2")}
    mine = AddOrder(pair=Pair("XBT/USD"), userref=Ref(7), **fields)  # type: ignore[arg-type]
    plain = AddOrder(pair="XBT/USD", userref=7, **fields)  # type: ignore[arg-type]
    token = Pair("tok")
    assert encode_v1(mine, token=token, reqid=Ref(3)) == encode_v1(plain, token="tok", reqid=3)
    cancel = CancelOrder(txid=(Pair("OABCDE-FGHIJ-KLMNOP"),))
    assert encode_v1(cancel, token="tok") == encode_v1(
        CancelOrder(txid=("OABCDE-FGHIJ-KLMNOP",)), token="tok"
    )


def test_v2_encodes_subclassed_values_as_plain_ones() -> None:
    fields = {
        "order_type": "limit",
        "side": "buy",
        "order_qty": Decimal("1"),
        "limit_price": Decimal("2"),
    }
    mine = V2AddOrder(symbol=Pair("BTC/USD"), cl_ord_id=Pair("abc"), **fields)  # type: ignore[arg-type]
    plain = V2AddOrder(symbol="BTC/USD", cl_ord_id="abc", **fields)  # type: ignore[arg-type]
    assert encode_v2(mine, token="tok", req_id=5) == encode_v2(plain, token="tok", req_id=5)


def test_the_journal_keeps_subclassed_values_as_plain_ones() -> None:
    order = AddOrder(
        ordertype="market",
        type="sell",
        pair=Pair("XBT/USD"),
        volume=Decimal("1"),
        cl_ord_id=Pair("abc"),
    )
    record = IntentRecorded(at=1.0, handle=1, request=order)
    back = decode_record(encode_record(record))
    assert isinstance(back, IntentRecorded)
    assert back.request == order
    assert type(back.request.pair) is str


def test_anything_else_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="cannot encode a object in a request"):
        plain_value(object())
