"""``read_trade_update``: a short ownTrades frame read with its numbers as text, then checked
and made ``Decimal`` in one pass per record. It must take exactly Kraken's number text, give
the event the typed decoders give, and leave everything else to the careful path."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import RemoteProtocolError
from kraken_proto._numbers import NUMBER_TEXT
from kraken_proto.v1 import OwnTrades, Trade, decode
from kraken_proto.v1 import _trade_text as module
from kraken_proto.v1._decode import _decode_carefully
from kraken_proto.v1._trade_text import NUMBER_FIELDS, read_trade_update

from tests.number_texts import BAD_TEXTS, GOOD_TEXTS

TXID = "TDLH43-DVQXD-2KHVYY"


def frame_of(*records: dict[str, Any]) -> bytes:
    entries = [{f"T{index:05d}-DVQXD-2KHVYY": record} for index, record in enumerate(records)]
    return json.dumps([entries, "ownTrades", {"sequence": 7}]).encode()


def refused(frame: bytes) -> bool:
    """Whether the text reader leaves ``frame`` to the careful path: it answers None, or
    ``Decimal()`` refused a text first (decode catches that ArithmeticError alike)."""
    try:
        return read_trade_update(frame) is None
    except ArithmeticError:
        return True


def test_the_number_fields_are_trades_and_the_text_struct_has_every_field() -> None:
    assert NUMBER_FIELDS == ("cost", "fee", "margin", "price", "time", "vol")
    names = [field.name for field in msgspec.structs.fields(Trade)]
    assert [field.name for field in msgspec.structs.fields(module._TradeText)] == names


def test_every_field_reaches_the_trade() -> None:
    """A record with every field set gives a Trade with every field, as the careful path."""
    record: dict[str, Any] = {}
    for field in msgspec.structs.fields(Trade):
        if field.name in NUMBER_FIELDS:
            record[field.name] = f"{len(record) + 1}.5"
        elif field.name == "userref":
            record[field.name] = 42
        elif field.name == "margin_borrow":
            record[field.name] = True
        else:
            record[field.name] = f"text-{field.name}"
    frame = frame_of(record)
    event = read_trade_update(frame)
    assert event is not None
    assert event == _decode_carefully(frame)
    trade = event.trades[0][1]
    assert msgspec.structs.asdict(trade) == {
        name: Decimal(value) if name in NUMBER_FIELDS else value for name, value in record.items()
    }


def test_a_fill_keeps_its_digits_and_its_sequence() -> None:
    record = {"time": "1699987300.892228", "price": "26000.00000", "cost": "1000.00000"}
    record |= {"fee": "0.00000", "vol": "0.03846154", "margin": "0.00000", "pair": "XBT/USD"}
    event = read_trade_update(frame_of(record, record | {"price": "26001.5"}))
    assert isinstance(event, OwnTrades)
    assert event.sequence == 7
    assert [trade_id for trade_id, _ in event.trades] == [
        "T00000-DVQXD-2KHVYY",
        "T00001-DVQXD-2KHVYY",
    ]
    first = event.trades[0][1]
    assert str(first.fee) == "0.00000"
    assert str(first.time) == "1699987300.892228"
    assert str(event.trades[1][1].price) == "26001.5"


def test_absent_numbers_stay_none() -> None:
    event = read_trade_update(frame_of({"price": "1.5"}, {"pair": "XBT/USD"}))
    assert event is not None
    first, second = (trade for _, trade in event.trades)
    assert first.price == Decimal("1.5")
    assert first.vol is None
    assert second.price is None
    assert second.pair == "XBT/USD"


@pytest.mark.parametrize("text", BAD_TEXTS)
@pytest.mark.parametrize("others", [{}, {"time": "1.5", "vol": "2"}])
def test_text_that_is_not_krakens_is_left_to_the_careful_path(
    text: str, others: dict[str, str]
) -> None:
    frame = frame_of(others | {"price": text})
    assert refused(frame)
    with pytest.raises(RemoteProtocolError, match="number text"):
        decode(frame)


@pytest.mark.parametrize("number", ["26000.5", "7", "1e5"])
def test_a_json_number_is_left_to_the_careful_path(number: str) -> None:
    frame = ('[[{"' + TXID + '":{"price":' + number + '}}],"ownTrades",{"sequence":2}]').encode()
    with pytest.raises(msgspec.ValidationError):
        read_trade_update(frame)
    event = decode(frame)
    assert isinstance(event, OwnTrades)
    assert event.trades[0][1].price == Decimal(number)


def test_an_empty_text_is_left_to_the_careful_path() -> None:
    """Kraken's ``""`` for an absent number: the careful path repairs it to None."""
    frame = frame_of({"price": "", "vol": "1"})
    assert refused(frame)
    event = decode(frame)
    assert isinstance(event, OwnTrades)
    assert event.trades[0][1].price is None


def test_a_lone_surrogate_is_left_to_the_careful_path() -> None:
    frame = b'[[{"' + TXID.encode() + b'":{"price":"1\\ud800"}}],"ownTrades",{"sequence":2}]'
    with pytest.raises(msgspec.DecodeError):  # msgspec refuses it: decode's careful path then
        read_trade_update(frame)
    with pytest.raises(RemoteProtocolError, match="not JSON"):
        decode(frame)


def test_the_shape_memo_is_bounded_and_starts_over(monkeypatch: pytest.MonkeyPatch) -> None:
    shapes: set[bytes] = set()
    monkeypatch.setattr(module, "_MOST_SHAPES", 3)
    for digits in range(1, 8):
        assert module._learn_shape(b"0" * digits, _known=shapes)
        assert b"0" * digits in shapes
        assert len(shapes) <= 3
    assert not module._learn_shape(b"0.", _known=shapes)
    assert b"0." not in shapes
    long_shape = b",".join([b"0.0"] * 40)
    assert module._learn_shape(long_shape, _known=shapes)  # valid, checked each time
    assert long_shape not in shapes


def test_a_known_shape_is_read_without_the_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = frame_of({"price": "12.5", "vol": "3"})
    assert read_trade_update(frame) is not None  # remembers the shape "00.0,0"
    monkeypatch.setattr(module, "_VALID_SHAPE", lambda shape: None)
    event = read_trade_update(frame_of({"price": "98.1", "vol": "4"}))
    assert event is not None
    assert event.trades[0][1].price == Decimal("98.1")


texts = st.text(alphabet=st.sampled_from("0123456789-.,eE+_ \u0661\uff11Na"), max_size=8)


@given(st.lists(st.sampled_from(GOOD_TEXTS + BAD_TEXTS) | texts, min_size=1, max_size=6))
def test_the_batch_check_takes_exactly_krakens_text(numbers: list[str]) -> None:
    """Decimal() on each text plus the joined shape accept exactly when every text matches
    NUMBER_TEXT, whatever the texts (commas and exponents included)."""
    record = dict(zip(NUMBER_FIELDS, numbers, strict=False))
    frame = frame_of(record)
    want = all(NUMBER_TEXT.fullmatch(number) for number in numbers)
    assert refused(frame) != want
    if want:
        event = read_trade_update(frame)
        assert event is not None
        trade = event.trades[0][1]
        for name, number in record.items():
            assert getattr(trade, name).as_tuple() == Decimal(number).as_tuple()
