"""Regressions found by the adversarial review of the core (one test per finding)."""

from __future__ import annotations

import json
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import (
    AddOrder,
    CancelOrder,
    LocalProtocolError,
    OrderTable,
    RemoteProtocolError,
    decode,
    encode,
)
from kraken_proto.v1 import (
    ChannelSnapshot,
    ChannelUpdate,
    Connection,
    OpenOrders,
    OrderRecord,
    OwnTrades,
    SequenceGap,
    Subscribe,
    SubscriptionState,
)

TOKEN = "tok3nSECRETvalue0123456789"
SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)


def _opened() -> Connection:
    conn = Connection()
    conn.connection_made(0.0)
    conn.provide_token(TOKEN, 0.0)
    conn.data_to_send()
    return conn


# --- a lone surrogate in the token or a text field -------------------------------------------


@given(prefix=st.text("abcXYZ019+/=", min_size=1, max_size=20), bad=SURROGATES)
def test_token_with_a_lone_surrogate_is_refused_without_echo(prefix: str, bad: str) -> None:
    # Before the fix encode raised UnicodeEncodeError whose ``.object`` (and repr) held the
    # whole token, and Connection.send raised it instead of LocalProtocolError.
    token = "Zq9" + prefix + bad  # "Zq9" is in no error message
    with pytest.raises(LocalProtocolError) as caught:
        encode(Subscribe(name="ownTrades"), token=token, reqid=1)
    assert "Zq9" not in repr(caught.value)
    assert caught.value.__context__ is None
    conn = Connection()
    conn.connection_made(0.0)
    with pytest.raises(LocalProtocolError) as caught:
        conn.provide_token(token, 0.0)
    assert "Zq9" not in repr(caught.value)
    assert caught.value.__context__ is None
    assert conn.data_to_send() == []


@given(bad=SURROGATES)
def test_text_field_with_a_lone_surrogate_is_refused_at_construction(bad: str) -> None:
    with pytest.raises(LocalProtocolError, match=r"^pair: "):
        AddOrder(ordertype="market", type="buy", pair="XBT/USD" + bad, volume=Decimal(1))
    with pytest.raises(LocalProtocolError, match=r"^txid: "):
        CancelOrder(txid=("O" + bad,))


# --- a signalling NaN in an openOrders frame -------------------------------------------------


def _orders_frame(sequence: int, **record: object) -> str:
    return json.dumps([[{"OA": record}], "openOrders", {"sequence": sequence}])


def _orders(frame: str) -> OpenOrders:
    event = decode(frame)
    assert isinstance(event, OpenOrders)
    return event


def _unchecked_orders(frame: str) -> OpenOrders:
    """``frame``'s openOrders event with its number text read by ``Decimal()`` unchecked, as
    a program building events itself could (``decode`` refuses ``NaN``/``sNaN`` text)."""
    payload, _, meta = json.loads(frame)
    orders = tuple(
        (key, msgspec.convert(record, OrderRecord, dec_hook=lambda kind, text: Decimal(text)))
        for entry in payload
        for key, record in entry.items()
    )
    return OpenOrders(orders=orders, sequence=meta["sequence"])


@pytest.mark.parametrize("sent", ["sNaN", "-snan", "NaN"])
def test_order_table_never_raises_on_a_nan_decimal(sent: str) -> None:
    # Decimal("sNaN") is a signalling NaN, and comparing two of them raised
    # decimal.InvalidOperation out of OrderTable.apply. (decode no longer lets one through.)
    table = OrderTable()
    full = {"status": "open", "price": sent, "descr": {"pair": "XBT/USD", "price": sent}}
    table.apply(_unchecked_orders(_orders_frame(1, **full)))
    again = table.apply(_unchecked_orders(_orders_frame(1, **full)))  # a re-snapshot of it
    assert "OA" in table
    assert again.vanished == ()
    table.apply(_unchecked_orders(_orders_frame(2, vol="1")))  # a delta on top of it
    table.apply(_unchecked_orders(_orders_frame(3, price=sent)))
    delta = table.apply(_unchecked_orders(_orders_frame(4, vol="1", status="canceled")))
    assert [order.txid for order in delta.finished] == ["OA"]
    several = json.dumps([[{"OB": full}, {"OB": full}], "openOrders", {"sequence": 5}])
    table.apply(_unchecked_orders(several))
    table.apply(_unchecked_orders(several), snapshot=True)
    assert table.get("OB") is not None
    with pytest.raises(RemoteProtocolError, match=r"\.price`"):
        decode(_orders_frame(1, **full))


# --- the first frame after a subscribe ack is a snapshot only if it is sequence 1 -------------


def test_first_frame_after_ack_that_is_not_sequence_1_is_not_a_snapshot() -> None:
    # A frame numbered 7 cannot be the snapshot (Kraken numbers it 1). Labelled ChannelSnapshot,
    # it made an OrderTable (fed snapshot=isinstance(item, ChannelSnapshot)) retire every
    # other open order as vanished, inviting the bot to place them again.
    conn = _opened()
    reqid = conn.send(Subscribe(name="openOrders"), 0.0)
    conn.data_to_send()
    ack = {"event": "subscriptionStatus", "status": "subscribed", "channelName": "openOrders"}
    conn.receive_message(json.dumps({**ack, "reqid": reqid}), 0.0)
    conn.events_received()
    conn.receive_message(_orders_frame(7, status="open"), 1.0)
    gap, update = conn.events_received()
    assert gap == SequenceGap(channel="openOrders", expected=1, got=7)
    assert isinstance(update, ChannelUpdate)
    assert update.after_gap
    assert not isinstance(update, ChannelSnapshot)
    assert [json.loads(m)["event"] for m in conn.data_to_send()] == ["unsubscribe", "subscribe"]
    assert conn.subscription_state("openOrders") is SubscriptionState.RESYNCING


def test_record_fields_with_a_stringly_typed_number_or_bool_still_decode() -> None:
    # Kraken documents userref as an integer and amended as a boolean. If it ever sends them
    # as strings, failing the frame would fail the connection, and on reconnect the snapshot
    # holding the same record would fail it again: the fills must keep flowing.
    event = decode(
        b'[[{"OGTT3Y-C6I3P-XRI6HX":{"userref":"123","amended":"true","vol_exec":"0.50"}}],'
        b'"openOrders",{"sequence":2}]'
    )
    assert isinstance(event, OpenOrders)
    ((_, record),) = event.orders
    assert record.userref == 123
    assert record.amended is True
    assert record.vol_exec == Decimal("0.50")
    trades = decode(b'[[{"TDLH43-DVQXD-2KHVYY":{"userref":"-5","vol":"1"}}],"ownTrades"]')
    assert isinstance(trades, OwnTrades)
    assert trades.trades[0][1].userref == -5
