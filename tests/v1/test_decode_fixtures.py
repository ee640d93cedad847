"""Every frame from the protocol doc and the seed page decodes (or encodes) exactly as expected,
plus the lenient repairs and the error paths of ``decode``, each named by its JSON path."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import kraken_proto
import msgspec
import pytest
from kraken_proto import Event, KrakenError, RemoteProtocolError, Request, Trade, decode, encode
from kraken_proto.v1 import (
    AddOrderStatus,
    CancelAllStatus,
    ErrorEvent,
    Heartbeat,
    OpenOrders,
    OrderRecord,
    OwnTrades,
    PingStatus,
    Pong,
    SubscriptionStatus,
    SystemStatus,
    UnknownMessage,
)
from kraken_proto.v1._decode import _decode_carefully

from tests.v1.fixtures_v1 import INBOUND, OUTBOUND


def exact(event: Event) -> Any:
    """A comparable form in which Decimals keep their exponent (str(Decimal) does)."""
    return (type(event).__name__, msgspec.to_builtins(event))


@pytest.mark.parametrize(("frame", "name", "expected"), INBOUND, ids=[i[1] for i in INBOUND])
def test_documented_frame_decodes_to_expected_event(frame: str, name: str, expected: Event) -> None:
    for given in (frame, frame.encode()):
        event = decode(given)
        assert event == expected
        assert exact(event) == exact(expected)
        # the careful path agrees with the fast path on every documented frame
        assert exact(_decode_carefully(given)) == exact(expected)


@pytest.mark.parametrize(
    ("text", "name", "request_", "kwargs"), OUTBOUND, ids=[o[1] for o in OUTBOUND]
)
def test_documented_request_is_reproduced(
    text: str, name: str, request_: Request, kwargs: dict[str, Any]
) -> None:
    encoded = encode(request_, **kwargs)
    assert json.loads(encoded) == json.loads(text)


def test_connection_id_is_exact_at_and_above_the_64_bit_limit() -> None:
    for value in (2**63 + 1, 2**64 - 1, 2**64):
        event = decode(f'{{"event":"systemStatus","status":"online","connectionID":{value}}}')
        assert event == SystemStatus(status="online", connection_id=value)


def test_decimal_fields_keep_the_digits_sent() -> None:
    event = decode(
        '[[{"T1":{"vol":"0.00010000","price":"100000.00000"}}],"ownTrades",{"sequence":1}]'
    )
    assert isinstance(event, OwnTrades)
    trade = event.trades[0][1]
    assert str(trade.vol) == "0.00010000"
    assert trade.vol is not None
    assert trade.vol.as_tuple() == Decimal("0.00010000").as_tuple()
    assert str(trade.price) == "100000.00000"


def test_json_numbers_in_decimal_fields_keep_their_digits_on_both_paths() -> None:
    fast = decode('[[{"T":{"price":1.50}}],"ownTrades",{"sequence":1}]')
    slow = decode(' [[{"T":{"price":1.50,"fee":""}}],"ownTrades",{"sequence":1}]')
    for event in (fast, slow):
        assert isinstance(event, OwnTrades)
        assert str(event.trades[0][1].price) == "1.50"


@pytest.mark.parametrize("prefix", ["", " "])  # a leading space forces the careful path
def test_elements_after_the_sequence_are_ignored_like_unknown_fields(prefix: str) -> None:
    event = decode(prefix + '[[],"ownTrades",{"sequence":1},4]')
    assert event == OwnTrades(trades=(), sequence=1)


@pytest.mark.parametrize("channel", ["openOrders", "ownTrades"])
def test_entries_with_no_key_or_several_keys_keep_every_pair_in_order(channel: str) -> None:
    frame = '[[{"A":{},"B":{}},{},{"C":{}}],"' + channel + '",{"sequence":2}]'
    event = decode(frame)
    assert isinstance(event, OpenOrders | OwnTrades)
    pairs = event.orders if isinstance(event, OpenOrders) else event.trades
    assert [key for key, _ in pairs] == ["A", "B", "C"]
    assert event.sequence == 2
    several = decode('[[{"A":{},"B":{}},{"C":{}}],"' + channel + '"]')
    assert isinstance(several, OpenOrders | OwnTrades)
    several_pairs = several.orders if isinstance(several, OpenOrders) else several.trades
    assert [key for key, _ in several_pairs] == ["A", "B", "C"]
    single = decode('[[{"A":{},"B":{}}],"' + channel + '"]')
    assert isinstance(single, OpenOrders | OwnTrades)
    single_pairs = single.orders if isinstance(single, OpenOrders) else single.trades
    assert [key for key, _ in single_pairs] == ["A", "B"]
    empty_only = decode('[[{}],"' + channel + '"]')
    assert isinstance(empty_only, OpenOrders | OwnTrades)
    assert (empty_only.orders if isinstance(empty_only, OpenOrders) else empty_only.trades) == ()


def test_order_ids_stay_in_wire_order_across_entries() -> None:
    event = decode(
        '[[{"B":{"status":"open"}},{"A":{"status":"open"}},{"C":{"status":"closed"}}],'
        '"openOrders",{"sequence":9}]'
    )
    assert isinstance(event, OpenOrders)
    assert [oid for oid, _ in event.orders] == ["B", "A", "C"]


# --- lenient repairs (slow path) ---------------------------------------------------------------


def test_blank_numbers_booleans_and_objects_mean_absent() -> None:
    frame = (
        '[[{"O1":{"price":"","userref":"","amended":"","contingent":"","descr":{"price":"",'
        '"margin":"","price2":"1.5"}}},{"O2":{"contingent":{"price":"","ordertype":"limit"}}}],'
        '"openOrders",{"sequence":1}]'
    )
    event = decode(frame)
    assert isinstance(event, OpenOrders)
    first = event.orders[0][1]
    assert first.price is None
    assert first.userref is None
    assert first.amended is None
    assert first.contingent is None
    assert first.descr is not None
    assert first.descr.price is None
    assert first.descr.margin is None
    assert first.descr.price2 == Decimal("1.5")
    second = event.orders[1][1]
    assert second.contingent is not None
    assert second.contingent.price is None
    assert second.contingent.ordertype == "limit"


def test_blank_fields_in_trades_mean_absent() -> None:
    event = decode('[[{"T":{"fee":"","margin_borrow":"","pair":""}}],"ownTrades"]')
    assert isinstance(event, OwnTrades)
    trade = event.trades[0][1]
    assert trade.fee is None
    assert trade.margin_borrow is None
    assert trade.pair == ""  # a blank string field stays what Kraken sent


def test_count_sent_as_numeric_string_is_accepted() -> None:
    event = decode('{"count":"3","event":"cancelAllStatus","status":"ok"}')
    assert event == CancelAllStatus(status="ok", count=3)


@pytest.mark.parametrize("count", ['"\u00b2"', '"1' + "0" * 5000 + '"', '"-1"', '""', "1.5"])
def test_count_that_is_not_a_plain_number_is_refused(count: str) -> None:
    with pytest.raises(RemoteProtocolError, match=r"cancelAllStatus.*\$\.count"):
        decode('{"count":' + count + ',"event":"cancelAllStatus","status":"ok"}')


@pytest.mark.parametrize("reqid", ['"a"', "1.5", "true", "[1]", "-1.0"])
def test_unparsable_reqid_echoed_in_a_status_is_dropped(reqid: str) -> None:
    event = decode(
        '{"event":"addOrderStatus","status":"error","errorMessage":"x","reqid":' + reqid + "}"
    )
    assert event == AddOrderStatus(status="error", error_message="x")


def test_error_events_keep_a_string_reqid_and_drop_other_shapes() -> None:
    assert decode('{"event":"error","errorMessage":"x","reqid":"a"}') == ErrorEvent(
        error_message="x", reqid="a"
    )
    assert decode('{"event":"error","errorMessage":"x","reqid":1.5}') == ErrorEvent(
        error_message="x"
    )
    assert decode('{"event":"pingStatus","errorMessage":"x","reqid":{"a":1}}') == PingStatus(
        error_message="x"
    )


# --- unknown but valid JSON ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        '{"event":"subscribe"}',
        '{"event":5}',
        '{"event":["pong"]}',
        '{"no":"event"}',
        "[]",
        "[1, [], 3]",
        '[[], [], {"sequence": 1}]',
        '[[],"trade",{"sequence":1}]',
        '[1,[],"book-10","XBT/USD"]',
        '"text"',
        "42",
        "null",
        "true",
        "1" * 19,
    ],
)
def test_valid_json_that_is_not_a_known_message_is_unknown(frame: str) -> None:
    event = decode(frame)
    assert isinstance(event, UnknownMessage)
    assert msgspec.to_builtins(event.data) == json.loads(frame)


# --- malformed input: RemoteProtocolError naming the path ---------------------------------------


@pytest.mark.parametrize(
    ("frame", "path"),
    [
        ('{"event":"systemStatus"}', "status"),
        ('{"event":"systemStatus","status":"online","connectionID":-1.5}', r"\$\.connectionID"),
        ('{"event":"pong","reqid":1,"extra":{},"status":1}', None),
        ('{"event":"subscriptionStatus","status":"ok","subscription":[]}', r"\$\.subscription"),
        ('[[],"openOrders",{"sequence":"1"}]', r"\$\[2\]\.sequence"),
        ('[[],"openOrders",null]', r"\$\[2\]"),
        ('[{},"openOrders",{"sequence":1}]', r"\$\[0\]"),
        ('[[5],"ownTrades",{"sequence":1}]', r"\$\[0\]\[0\]"),
        ('[[{"T":5}],"ownTrades",{"sequence":1}]', r"\$\[0\]\[0\]\['T'\]"),
        ('[[{"T":{"price":"abc"}}],"ownTrades"]', r"\$\[0\]\[0\]\['T'\]\.price"),
        (
            '[[{"T":{"price":"1e4950811667203285981"}}],"ownTrades"]',
            r"\$\[0\]\[0\]\['T'\]\.price",
        ),
        ('[[{"T":{"userref":"seven"}}],"ownTrades"]', r"\$\[0\]\[0\]\['T'\]\.userref"),
        ('[[{"O":{"descr":{"price":"x"}}}],"openOrders"]', r"\$\[0\]\[0\]\['O'\]\.descr\.price"),
        ('[[{"O":{},"P":{"vol":[]}}],"openOrders"]', r"\$\[0\]\[0\]\['P'\]\.vol"),
    ],
)
def test_malformed_known_message_names_the_json_path(frame: str, path: str | None) -> None:
    if path is None:  # a wrong-typed field the event does not have is ignored
        assert decode(frame) == Pong(reqid=1)
        return
    with pytest.raises(RemoteProtocolError, match=path):
        decode(frame)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"", "not JSON"),
        (b"{", "not JSON"),
        (b'{"event":"heartbeat"} x', "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (
            b'{"event":"systemStatus","status":"online","connectionID":1e4950811667203285981}',
            "too large",
        ),
        (b"[1e99999999999999999999]", "too large"),  # valid JSON, but past what the parser takes
        ("\ud800", "UTF-8"),
        ('{"event":"pong","reqid":"\ud800"}', "UTF-8"),
        ('[[],"openOrders\ud800"]', "UTF-8"),
        ("[" * 100_000, "nested too deeply"),
        ("[" * 2_000 + "]" * 2_000, "nested too deeply"),
        ('[[{"T":' * 3_000 + "1" + "}]" * 3_000 + ',"ownTrades"]', "nested too deeply"),
    ],
)
def test_undecodable_input_is_a_remote_protocol_error(frame: str | bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message):
        decode(frame)


@pytest.mark.parametrize("frame", [None, 42, 1.5, ["[]"], object()])
def test_non_text_input_is_a_remote_protocol_error(frame: Any) -> None:
    with pytest.raises(RemoteProtocolError, match="must be str or bytes"):
        decode(frame)


def test_bytearray_and_memoryview_are_accepted() -> None:
    frame = b'[[],"openOrders",{"sequence":1}]'
    expected = OpenOrders(orders=(), sequence=1)
    assert decode(bytearray(frame)) == expected  # type: ignore[arg-type]
    assert decode(memoryview(frame)) == expected  # type: ignore[arg-type]


def test_subscription_ack_mentioning_a_channel_near_its_end_decodes() -> None:
    # "openOrders" in the tail sends the fast path to the channel decoder first; it must recover.
    event = decode(
        '{"event":"subscriptionStatus","status":"subscribed","channelName":"openOrders",'
        '"subscription":{"name":"openOrders"}}'
    )
    assert isinstance(event, SubscriptionStatus)
    assert event.channel_name == "openOrders"
    trades = decode(
        '{"event":"subscriptionStatus","status":"subscribed","channelName":"ownTrades"}'
    )
    assert isinstance(trades, SubscriptionStatus)
    assert trades.channel_name == "ownTrades"


# --- event helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected_type"),
    [
        # The route is guessed from the first id's letter; these ids mislead the guess.
        ([[{"OTRADE-XXXXX-XXXXXX": {"price": "1.5", "vol": "2"}}], "ownTrades"], OwnTrades),
        ([[{"TORDER-XXXXX-XXXXXX": {"status": "open"}}], "openOrders"], OpenOrders),
        ({"abO": 1, "event": "heartbeat"}, Heartbeat),
        ({"abT": 1, "event": "heartbeat"}, Heartbeat),
    ],
)
def test_a_frame_that_misleads_the_route_guess_decodes_the_same(
    payload: Any, expected_type: type[Event]
) -> None:
    text = json.dumps(payload, separators=(",", ":"))
    for given in (text, text.encode()):
        event = decode(given)
        assert type(event) is expected_type
        assert exact(event) == exact(_decode_carefully(given))


def test_status_event_ok_and_error_split_the_kraken_error() -> None:
    ok = decode('{"event":"addOrderStatus","status":"ok","txid":"O1","reqid":5}')
    assert isinstance(ok, AddOrderStatus)
    assert ok.ok
    assert ok.error is None
    assert ok.reqid == 5
    failed = decode(
        '{"event":"addOrderStatus","status":"error","reqid":6,'
        '"errorMessage":"EGeneral:Invalid arguments:volume"}'
    )
    assert isinstance(failed, AddOrderStatus)
    assert not failed.ok
    assert failed.error == KrakenError(
        text="EGeneral:Invalid arguments:volume",
        severity="E",
        category="General",
        message="Invalid arguments:volume",
    )


def test_kraken_error_without_a_category_keeps_the_whole_text() -> None:
    error = KrakenError.parse("Malformed request")
    assert (error.severity, error.category, error.message) == (None, None, "Malformed request")
    warning = KrakenError.parse("WGeneral:Something")
    assert (warning.severity, warning.category, warning.message) == ("W", "General", "Something")


def test_subscription_status_ok_reflects_status_and_error() -> None:
    for status, ok in (
        ("subscribed", True),
        ("unsubscribed", True),
        ("ok", True),
        ("error", False),
    ):
        event = decode('{"event":"subscriptionStatus","status":"' + status + '"}')
        assert isinstance(event, SubscriptionStatus)
        assert event.ok is ok
        assert event.error is None
    failed = decode(
        '{"event":"subscriptionStatus","status":"error","errorMessage":"EAPI:Invalid token"}'
    )
    assert isinstance(failed, SubscriptionStatus)
    assert not failed.ok
    assert failed.error is not None
    assert failed.error.category == "API"


def test_error_event_error_property() -> None:
    event = decode('{"event":"error","errorMessage":"Exceeded msg rate"}')
    assert isinstance(event, ErrorEvent)
    assert event.error == KrakenError.parse("Exceeded msg rate")
    assert ErrorEvent().error is None


def test_events_are_frozen() -> None:
    event = decode('{"event":"systemStatus","status":"online","connectionID":1}')
    assert isinstance(event, SystemStatus)
    with pytest.raises(AttributeError):
        event.status = "maintenance"  # type: ignore[misc]
    record = OrderRecord(status="open")
    with pytest.raises(AttributeError):
        record.status = "closed"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Trade().price = Decimal(1)  # type: ignore[misc]


def test_decode_is_exported() -> None:
    assert kraken_proto.decode is decode
