"""Number fields take only Kraken's number text (issue 19, item 2).

Every text ``Decimal()`` takes but Kraken never writes is a ``RemoteProtocolError`` naming the
field, on the fast and the careful path, as ``str`` and as ``bytes``. A number this decoder
cannot hold (an integer past ``int()``'s 4,300 digits, an exponent past ``Decimal``'s range) is
ignored in an unknown field, like anything there. And a frame decodes the same as text and as
its UTF-8 bytes, whatever unknown fields it carries.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import Event, RemoteProtocolError, decode
from kraken_proto.v1 import Heartbeat, OpenOrders, OwnTrades, SystemStatus, UnknownMessage
from kraken_proto.v1._decode import _decode_carefully

from tests.number_texts import (
    BAD_TEXTS,
    GOOD_TEXTS,
    HUGE_EXPONENT,
    HUGE_INTEGER,
    unknown_keys,
    unknown_values,
)
from tests.v1.fixtures_v1 import REAL_FRAMES

TRADE_FIELDS = ["time", "price", "cost", "fee", "vol", "margin"]
ORDER_FIELDS = ["opentm", "lastupdated", "vol", "vol_exec", "avg_price", "stopprice", "ratecount"]
TXID = "TDLH43-DVQXD-2KHVYY"
OID = "OAVY7T-MV5VK-KHDF5X"


def outcomes(frame: str) -> list[tuple[str, Any]]:
    """What the fast path (as text and as bytes) and the careful path make of ``frame``."""
    results: list[tuple[str, Any]] = []
    for path in (decode, _decode_carefully):
        for given_ in (frame, frame.encode()):
            try:
                event = path(given_)
            except RemoteProtocolError as error:
                results.append(("error", str(error)))
            else:
                results.append(("event", (type(event).__name__, msgspec.to_builtins(event))))
    return results


def assert_refused(frame: str, path: str) -> None:
    """Every way of decoding ``frame`` raises ``RemoteProtocolError`` naming ``path``."""
    results = outcomes(frame)
    pattern = re.escape(f"{path}`")
    for kind, detail in results:
        assert kind == "error", detail
        assert re.search(pattern, detail), detail
        assert "number text" in detail


def trade_frame(record: dict[str, Any]) -> str:
    return json.dumps([[{TXID: record}], "ownTrades", {"sequence": 2}], ensure_ascii=False)


def raw_trade(fields: str, meta: str = "") -> str:
    """An ownTrades frame whose record holds ``fields``, JSON text as given (so numbers keep
    any form), and whose trailing object holds ``meta`` before ``sequence``."""
    return '[[{"' + TXID + '":{' + fields + '}}],"ownTrades",{' + meta + '"sequence":2}]'


@pytest.mark.parametrize("text", BAD_TEXTS)
@pytest.mark.parametrize("field", TRADE_FIELDS)
def test_trade_number_that_is_not_kraken_text_is_refused(field: str, text: str) -> None:
    assert_refused(trade_frame({"pair": "XBT/EUR", field: text}), f"$[0][0]['{TXID}'].{field}")


@pytest.mark.parametrize("text", BAD_TEXTS)
@pytest.mark.parametrize("field", ORDER_FIELDS)
def test_order_number_that_is_not_kraken_text_is_refused(field: str, text: str) -> None:
    frame = json.dumps([[{OID: {field: text}}], "openOrders", {"sequence": 3}])
    assert_refused(frame, f"$[0][0]['{OID}'].{field}")


@pytest.mark.parametrize("text", BAD_TEXTS)
@pytest.mark.parametrize(("nested", "field"), [("descr", "price"), ("contingent", "price2")])
def test_nested_number_that_is_not_kraken_text_is_refused(
    nested: str, field: str, text: str
) -> None:
    frame = json.dumps([[{OID: {"status": "open", nested: {field: text}}}], "openOrders"])
    assert_refused(frame, f"$[0][0]['{OID}'].{nested}.{field}")


def test_a_fill_priced_snan_never_reaches_the_user() -> None:
    """The bug that opened item 2: ``sNaN`` became a Decimal that raises on comparison."""
    frame = trade_frame({"ordertxid": OID, "price": "sNaN", "vol": "0.1", "time": "1.5"})
    with pytest.raises(RemoteProtocolError, match=r"\.price`"):
        decode(frame)


@pytest.mark.parametrize("text", GOOD_TEXTS)
def test_kraken_number_text_keeps_its_digits(text: str) -> None:
    frame = trade_frame(dict.fromkeys(TRADE_FIELDS, text))
    for kind, detail in outcomes(frame):
        assert kind == "event", detail
    event = decode(frame)
    assert isinstance(event, OwnTrades)
    trade = event.trades[0][1]
    for field in TRADE_FIELDS:
        value = getattr(trade, field)
        assert type(value) is Decimal
        assert value.as_tuple() == Decimal(text).as_tuple()


@pytest.mark.parametrize(
    ("number", "expected"),
    [("1.50", "1.50"), ("1e5", "1E+5"), ("-2.5E-3", "-0.0025"), ("0", "0"), ("12", "12")],
)
def test_a_json_number_in_a_number_field_keeps_its_digits(number: str, expected: str) -> None:
    """JSON numbers follow JSON's grammar, exponent included; Kraken v1 sends text, but a
    number is still a number."""
    frame = raw_trade(f'"price":{number}')
    for kind, detail in outcomes(frame):
        assert kind == "event", detail
    event = decode(frame)
    assert isinstance(event, OwnTrades)
    price = event.trades[0][1].price
    assert price is not None
    assert price.as_tuple() == Decimal(expected).as_tuple()


@pytest.mark.parametrize(("value", "kind"), [("true", "bool"), ("[]", "list"), ("{}", "dict")])
def test_a_value_that_is_no_number_is_refused(value: str, kind: str) -> None:
    frame = raw_trade(f'"price":{value}')
    for result, detail in outcomes(frame):
        assert result == "error"
        assert f"Expected a number, got `{kind}`" in detail
        assert f"$[0][0]['{TXID}'].price`" in detail


# --- numbers past what the decoder holds --------------------------------------------------------


@pytest.mark.parametrize(
    "number", [HUGE_INTEGER, "-" + HUGE_INTEGER, HUGE_EXPONENT, "-1e-99999999999999999999"]
)
def test_a_number_past_the_limits_in_an_unknown_field_is_ignored(number: str) -> None:
    frames = {
        '{"event":"heartbeat","x":' + number + "}": Heartbeat(),
        '{"event":"systemStatus","status":"online","x":[' + number + "]}": SystemStatus(
            status="online"
        ),
        # a fast-path frame, and one the careful path must mend ("" for an absent number)
        raw_trade(f'"vol":"1.5","x":{number}'): None,
        raw_trade(f'"vol":"1.5","fee":"","x":{number}', meta=f'"y":{number},'): None,
    }
    for frame, expected in frames.items():
        results = outcomes(frame)
        assert len(set(map(repr, results))) == 1, results
        event = decode(frame)
        if expected is not None:
            assert event == expected
        else:
            assert isinstance(event, OwnTrades)
            assert event.trades[0][1].vol == Decimal("1.5")


def test_an_integer_past_ints_digit_limit_is_an_exact_decimal() -> None:
    """In a number field, and in a message this decoder does not know (valid JSON, so an
    ``UnknownMessage``): ``Decimal`` holds any integer exactly."""
    frame = raw_trade(f'"vol":{HUGE_INTEGER}')
    for kind, _ in outcomes(frame):
        assert kind == "event"
    event = decode(frame)
    assert isinstance(event, OwnTrades)
    assert event.trades[0][1].vol == Decimal(HUGE_INTEGER)
    for unknown, expected in (
        (HUGE_INTEGER, Decimal(HUGE_INTEGER)),
        (
            '{"event":"news","n":' + HUGE_INTEGER + "}",
            {"event": "news", "n": Decimal(HUGE_INTEGER)},
        ),
    ):
        for given_ in (unknown, unknown.encode()):
            message = decode(given_)
            assert message == UnknownMessage(data=expected)
            assert HUGE_INTEGER in repr(message)  # an int this long has no repr


def test_an_exponent_past_decimals_range_in_a_number_field_is_refused() -> None:
    frame = raw_trade(f'"price":{HUGE_EXPONENT}')
    for kind, detail in outcomes(frame):
        assert kind == "error"
        assert f"a number too large to represent - at `$[0][0]['{TXID}'].price`" in detail
    # in a known field that is no number field, msgspec names the placeholder
    frame = '{"event":"systemStatus","status":"online","connectionID":' + HUGE_EXPONENT + "}"
    for kind, detail in outcomes(frame):
        assert kind == "error"
        assert "connectionID" in detail
        assert "too large to represent" in detail


@pytest.mark.parametrize(
    "frame", [HUGE_EXPONENT, '{"event":"news","x":' + HUGE_EXPONENT + "}", f"[1,{HUGE_EXPONENT}]"]
)
def test_an_exponent_past_decimals_range_in_an_unknown_message_is_refused(frame: str) -> None:
    """``UnknownMessage`` would have to hold it; JSON lets a parser limit numbers' range."""
    for kind, detail in outcomes(frame):
        assert kind == "error"
        assert detail == "frame holds a number too large to represent"


# --- the same frame as text and as bytes ----------------------------------------------------------


def _object_starts(text: str) -> list[int]:
    return [i for i, char in enumerate(text) if char == "{" and text[i + 1 : i + 2] == '"']


def _insert(text: str, at: int, field: str) -> str:
    return text[: at + 1] + field + "," + text[at + 1 :]


def _outcome(frame: str | bytes) -> tuple[str, Any]:
    try:
        event: Event = decode(frame)
    except RemoteProtocolError as error:
        return ("error", str(error))
    return ("event", (type(event).__name__, msgspec.to_builtins(event)))


@given(st.sampled_from(REAL_FRAMES), st.data())
def test_a_frame_decodes_the_same_as_text_and_as_bytes(frame: bytes, data: st.DataObject) -> None:
    """Every documented frame, with unknown fields holding non-ASCII text and numbers past the
    limits inserted anywhere, and record ids that do not tell the channel."""
    text = frame.decode()
    if data.draw(st.booleans()):
        text = re.sub(
            r'^\[\[\{"[OT]', lambda m: m[0][:-1] + data.draw(st.sampled_from("X1 ")), text
        )
    for _ in range(data.draw(st.integers(0, 3))):
        starts = _object_starts(text)
        if starts:
            field = f"{data.draw(unknown_keys)}:{data.draw(unknown_values)}"
            text = _insert(text, data.draw(st.sampled_from(starts)), field)
    assert _outcome(text) == _outcome(text.encode())


@given(
    st.sampled_from(["O", "T", "X", " "]),
    st.sampled_from(["openOrders", "ownTrades"]),
    unknown_values,
    st.text(st.characters(min_codepoint=0x80, exclude_categories=["Cs"]), max_size=40),
)
def test_a_channel_frame_decodes_the_same_as_text_and_as_bytes(
    first: str, channel: str, unknown: str, tail: str
) -> None:
    """The route guess reads the fifth character (byte) and the last 64 characters (bytes):
    an id that does not tell the channel, and non-ASCII text after the channel name, make text
    and bytes guess differently unless the decoder routes both alike."""
    filler = json.dumps(tail, ensure_ascii=False)
    text = (
        f'[[{{"{first}1":{{"status":"open","x":{unknown}}}}}],"{channel}",'
        f'{{"n":{filler},"sequence":2}}]'
    )
    assert _outcome(text) == _outcome(text.encode())


@pytest.mark.parametrize("filler", ["\u00e9" * 20, "\u20ac" * 14, "\U0001f600" * 10])
def test_non_ascii_near_the_channel_name_routes_text_and_bytes_alike(filler: str) -> None:
    """The regression: ``"openOrders"`` sits within the last 64 characters but not the last 64
    bytes, and an unknown field holds an exponent the careful path used to choke on."""
    frame = (
        f'[[{{"X1":{{"status":"open","e":{HUGE_EXPONENT}}}}}],"openOrders",'
        f'{{"sequence":2,"n":"{filler}"}}]'
    )
    channel_at = frame.index('"openOrders"')
    assert len(frame) - channel_at < 64 < len(frame.encode()) - len(frame[:channel_at].encode())
    for given_ in (frame, frame.encode()):
        event = decode(given_)
        assert isinstance(event, OpenOrders)
        assert event.sequence == 2


@pytest.mark.parametrize("number", [HUGE_INTEGER, HUGE_EXPONENT])
def test_a_number_past_the_limits_does_not_hide_invalid_utf8(number: str) -> None:
    """The slow reading of such numbers checks the encoding the way msgspec does."""
    frame = b"[" + number.encode() + b',"\xff"]'
    for path in (decode, _decode_carefully):
        with pytest.raises(RemoteProtocolError, match="Invalid UTF-8"):
            path(frame)


_NUMBER_TEXTS = st.sampled_from(GOOD_TEXTS + BAD_TEXTS)


@given(
    trades=st.lists(
        st.dictionaries(st.sampled_from(TRADE_FIELDS), _NUMBER_TEXTS, max_size=6),
        min_size=1,
        max_size=30,
    )
)
def test_an_ownTrades_frame_decodes_alike_short_and_long(trades: list[dict[str, str]]) -> None:
    # decode reads a short ownTrades frame (an update) with read_trade_update (numbers as
    # text, checked in one pass) and a long one (a snapshot) through the memo: the text reader
    # must give the memo decoder's event, or None (the careful path then judges) where that
    # decoder refuses or the frame holds a number it does not take; and decode must agree with
    # the careful path on either side of the length that picks one.
    from kraken_proto.v1 import _decode as module
    from kraken_proto.v1._trade_text import read_trade_update

    entries = [{f"T{index:05d}-AAAAA-AAAAAA": trade} for index, trade in enumerate(trades)]
    frame = json.dumps([entries, "ownTrades", {"sequence": 2}]).encode()
    try:
        memo_frame = module._decode_own_trades(frame)
    except msgspec.ValidationError:
        memo_event = None
    else:
        memo_event = OwnTrades(
            trades=tuple(entry.popitem() for entry in memo_frame.payload),
            sequence=memo_frame.meta.sequence,
        )
    try:
        text_event = read_trade_update(frame)
    except ArithmeticError:  # Decimal() refused a text: decode's careful path then judges
        text_event = None
    assert text_event is None or text_event == memo_event
    if memo_event is not None:
        assert text_event == memo_event  # a frame of Kraken text never leaves the fast path
    results = outcomes(frame.decode())
    assert all(result == results[-1] for result in results)


def test_decode_picks_the_trade_decoder_by_length() -> None:
    from kraken_proto.v1 import _decode as module

    trade = {"time": "1699987300.892228", "price": "26000.00001", "margin": "0.00000"}
    for count in (1, 40):
        entries = [{f"T{index:05d}-AAAAA-AAAAAA": trade} for index in range(count)]
        frame = json.dumps([entries, "ownTrades", {"sequence": 2}]).encode()
        assert (len(frame) <= module._TRADE_UPDATE_BYTES) == (count == 1)
        event = decode(frame)
        assert isinstance(event, OwnTrades)
        assert len(event.trades) == count
        assert event == _decode_carefully(frame)
