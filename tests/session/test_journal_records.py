"""The journal's records and their codec: validation, exact round trips (Decimals digit for
digit), a clear error for anything damaged, the PersistRecords action, records from events.

The hypothesis strategies here (``records``, ``requests``, ``trades``) are shared with the
other journal tests.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import LocalProtocolError, replace_request
from kraken_proto._event_base import KrakenError
from kraken_proto._request_base import Request
from kraken_proto.session._actions import SessionAction
from kraken_proto.session._events import (
    FillReceived,
    RequestAccepted,
    RequestApplied,
    RequestNotApplied,
    RequestOutcome,
    RequestRefused,
    RequestUnresolved,
)
from kraken_proto.session._journal import (
    DURABLE_RECORDS,
    JOURNAL_FORMAT,
    Checkpoint,
    FillAcknowledged,
    FillCursor,
    FillDelivered,
    IntentRecorded,
    JournalCorruptError,
    JournalRecord,
    NonceRecorded,
    OutcomeRecorded,
    PersistRecords,
    SubscriptionRecorded,
    decode_record,
    encode_record,
    fill_record,
    needs_sync,
    outcome_record,
)
from kraken_proto.session._journal_records import MAX_NONCE
from kraken_proto.v1 import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Ping,
    Subscribe,
    Trade,
)

from tests.v1.test_encode_properties import (
    add_orders,
    amend_orders,
    cancel_orders,
    edit_orders,
    subscribes,
)

# --- strategies ---------------------------------------------------------------------------

# Any exponent and digit count, trailing zeros kept: "1.50000000", "1E-8", "1.2E+5".
positive_decimals = st.builds(
    lambda digits, exponent: Decimal((0, digits, exponent)),
    st.lists(st.integers(0, 9), min_size=1, max_size=30).filter(any).map(tuple),
    st.integers(-30, 12),
)
# What a trade may carry off the wire: also zero, negative zero, NaN and infinities.
any_decimals = st.one_of(
    positive_decimals,
    st.builds(
        lambda sign, digits, exponent: Decimal((sign, digits, exponent)),
        st.integers(0, 1),
        st.lists(st.integers(0, 9), min_size=1, max_size=30).map(tuple),
        st.integers(-40, 40),
    ),
    st.sampled_from([Decimal("NaN"), Decimal("-Infinity"), Decimal("Infinity"), Decimal("-0")]),
)
times = st.one_of(st.integers(0, 2**40), st.floats(0, 2e9, allow_nan=False))
texts = st.text(min_size=1, max_size=12)
optional_texts = st.one_of(st.none(), st.text(max_size=12))


def _exotic(request: Request, volume: Decimal) -> Request:
    """``request`` with an exotic-exponent volume where it has one."""
    if isinstance(request, AddOrder | EditOrder | AmendOrder):
        return replace_request(request, volume=volume)
    return request


trading_requests = st.one_of(
    st.builds(_exotic, add_orders(), positive_decimals),
    st.builds(_exotic, edit_orders(), positive_decimals),
    st.builds(_exotic, amend_orders(), positive_decimals),
    cancel_orders(),
    st.just(CancelAll()),
    st.builds(CancelAllOrdersAfter, timeout=st.integers(0, 86399)),
)
trades = st.builds(
    Trade,
    ordertxid=optional_texts,
    postxid=optional_texts,
    pair=optional_texts,
    time=st.one_of(st.none(), any_decimals),
    type=optional_texts,
    ordertype=optional_texts,
    price=st.one_of(st.none(), any_decimals),
    cost=st.one_of(st.none(), any_decimals),
    fee=st.one_of(st.none(), any_decimals),
    vol=st.one_of(st.none(), any_decimals),
    margin=st.one_of(st.none(), any_decimals),
    margin_borrow=st.one_of(st.none(), st.booleans()),
    userref=st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
    cl_ord_id=optional_texts,
    ext_exec_id=optional_texts,
)
cursors = st.builds(
    FillCursor,
    trade_id=texts,
    time=any_decimals.filter(lambda d: d.is_finite()),
)
records: st.SearchStrategy[JournalRecord] = st.one_of(
    st.builds(
        IntentRecorded,
        at=times,
        handle=st.integers(1, 2**63),
        request=trading_requests,
        open_at_send=st.lists(texts, max_size=3).map(tuple),
    ),
    st.builds(
        OutcomeRecorded,
        at=times,
        handle=st.integers(1, 2**63),
        result=st.sampled_from(["accepted", "applied", "not_applied", "refused", "unresolved"]),
        txid=optional_texts,
        error=optional_texts,
        detail=optional_texts,
    ),
    st.builds(
        FillDelivered,
        at=times,
        trade_id=texts,
        trade=trades,
        source=st.sampled_from(["live", "snapshot", "rest"]),
    ),
    st.builds(FillAcknowledged, at=times, trade_id=texts),
    st.one_of(
        st.builds(
            lambda at, request: SubscriptionRecorded(at=at, name=request.name, request=request),
            times,
            subscribes,
        ),
        st.builds(
            SubscriptionRecorded,
            at=times,
            name=st.sampled_from(["ownTrades", "openOrders"]),
            request=st.none(),
        ),
    ),
    st.builds(NonceRecorded, at=times, nonce=st.integers(0, MAX_NONCE)),
    st.builds(
        Checkpoint,
        at=times,
        next_handle=st.integers(1, 2**63),
        nonce_high_water=st.integers(0, MAX_NONCE),
        cursor=st.one_of(st.none(), cursors),
    ),
)


def exact(value: Any) -> Any:
    """A comparable image of ``value`` in which a Decimal is its sign, digits and exponent
    (so ``1.5 != 1.50`` and ``NaN == NaN``)."""
    if isinstance(value, Decimal):
        return ("decimal", value.as_tuple())
    if isinstance(value, msgspec.Struct):
        return (type(value), tuple(exact(getattr(value, f)) for f in value.__struct_fields__))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value),
            tuple(exact(getattr(value, f.name)) for f in dataclasses.fields(value)),
        )
    if isinstance(value, tuple | list):
        return (type(value), *(exact(item) for item in value))
    if isinstance(value, frozenset):
        return frozenset(exact(item) for item in value)
    return (type(value), value)


# --- round trips ------------------------------------------------------------------------------


@given(records)
def test_every_record_round_trips_exactly(record: JournalRecord) -> None:
    data = encode_record(record)
    back = decode_record(data)
    assert exact(back) == exact(record)
    assert encode_record(back) == data
    assert decode_record(data.decode()) is not None  # text works as well as bytes


@given(positive_decimals)
def test_a_decimal_volume_keeps_every_digit(volume: Decimal) -> None:
    order = AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=volume)
    back = decode_record(encode_record(IntentRecorded(at=1.0, handle=1, request=order)))
    assert isinstance(back, IntentRecorded)
    assert isinstance(back.request, AddOrder)
    assert back.request.volume.as_tuple() == volume.as_tuple()
    assert str(back.request.volume) == str(volume)


def test_a_relative_price_stays_a_string_and_a_decimal_price_a_decimal() -> None:
    relative = AmendOrder(txid="OABCDE-FGHIJ-KLMNOP", limit_price="-1.5")
    absolute = AmendOrder(txid="OABCDE-FGHIJ-KLMNOP", limit_price=Decimal("1.5"))
    for request in (relative, absolute):
        back = decode_record(encode_record(IntentRecorded(at=0, handle=1, request=request)))
        assert isinstance(back, IntentRecorded)
        assert back.request == request
        assert type(back.request.limit_price) is type(request.limit_price)


EVERY_REQUEST_SHAPE: list[Request] = [
    AddOrder(
        ordertype="stop-loss-limit",
        type="sell",
        pair="XBT/USD",
        volume=Decimal("2.000"),
        price="#5%",
        price2=Decimal("0.1E-3"),
        leverage=2,
        margin=False,
        reduce_only=True,
        oflags=frozenset({"fciq", "nompp"}),
        starttm="+30",
        expiretm=1_900_000_000,
        userref=-7,
        validate=True,
        timeinforce="GTD",
        close_ordertype="limit",
        close_price=Decimal("99.5"),
    ),
    EditOrder(orderid=1234, pair="XBT/USD", oflags=frozenset(), newuserref=5),
    EditOrder(orderid="OABCDE-FGHIJ-KLMNOP", pair="XBT/USD", oflags=frozenset({"post"})),
    AmendOrder(cl_ord_id="x", trigger_price="+1.5%", post_only=False, deadline=None),
    CancelOrder(txid=("A", "B"), userref=(1, -2), cl_ord_id=("c",)),
    CancelAll(),
    CancelAllOrdersAfter(timeout=0),
]


@pytest.mark.parametrize("request_", EVERY_REQUEST_SHAPE)
def test_every_request_shape_round_trips(request_: Request) -> None:
    record = IntentRecorded(at=1, handle=1, request=request_, open_at_send=("OX",))
    back = decode_record(encode_record(record))
    assert exact(back) == exact(record)


def test_an_empty_set_stays_apart_from_no_set() -> None:
    # EditOrder(oflags=frozenset()) clears the flags; oflags=None leaves them alone.
    cleared = EditOrder(orderid="O", pair="XBT/USD", oflags=frozenset())
    untouched = EditOrder(orderid="O", pair="XBT/USD", volume=Decimal(1))
    for request in (cleared, untouched):
        back = decode_record(encode_record(IntentRecorded(at=0, handle=1, request=request)))
        assert isinstance(back, IntentRecorded)
        assert back.request == request


def test_the_format_is_plain_json_with_decimals_as_text() -> None:
    order = AddOrder(
        ordertype="limit",
        type="sell",
        pair="XBT/USD",
        volume=Decimal("0.50000000"),
        price=Decimal("1E+5"),
        cl_ord_id="abc",
    )
    document = json.loads(encode_record(IntentRecorded(at=5.25, handle=3, request=order)))
    assert document == {
        "k": "intent",
        "at": 5.25,
        "handle": 3,
        "request": {
            "class": "AddOrder",
            "fields": {
                "ordertype": "limit",
                "type": "sell",
                "pair": "XBT/USD",
                "volume": {"decimal": "0.50000000"},
                "price": {"decimal": "1E+5"},
                "cl_ord_id": "abc",
            },
        },
        "open_at_send": [],
    }
    assert JOURNAL_FORMAT == 1


def test_a_request_the_format_cannot_hold_is_refused() -> None:
    # IntentRecorded refuses a Ping itself; the codec refuses one smuggled in anyway.
    with pytest.raises(LocalProtocolError, match="trading request"):
        IntentRecorded(at=0, handle=1, request=Ping())
    smuggled = IntentRecorded(at=0, handle=1, request=CancelAll())
    msgspec.structs.force_setattr(smuggled, "request", Ping())
    with pytest.raises(LocalProtocolError, match="cannot record a Ping"):
        encode_record(smuggled)


def test_a_float_inside_a_request_is_refused() -> None:
    order = AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal(1))
    msgspec.structs.force_setattr(order, "volume", 1.5)  # past the constructor's check
    with pytest.raises(LocalProtocolError, match="cannot record a float"):
        encode_record(IntentRecorded(at=0, handle=1, request=order))


# --- damaged records --------------------------------------------------------------------------

_INTENT = json.loads(
    encode_record(IntentRecorded(at=1, handle=1, request=CancelOrder(txid=("A",))))
)


def _with(**changes: Any) -> bytes:
    document = json.loads(json.dumps(_INTENT))
    document.update(changes)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not json", "cannot be read"),
        (b"[1, 2]", "JSON object"),
        (b'{"k": "bogus", "at": 1}', "unknown record kind 'bogus'"),
        (b'{"at": 1}', "unknown record kind None"),
        (b'{"k": 5, "at": 1}', "unknown record kind 5"),
        (b'{"k": "ack", "at": 1}', "trade_id"),
        (b'{"k": "ack", "at": 1, "trade_id": "T", "extra": 1}', "extra"),
        (b'{"k": "ack", "at": "1", "trade_id": "T"}', "at must be"),
        (b'{"k": "ack", "at": 1, "trade_id": {"x": 1}}', "unexpected object"),
        (_with(request=None), "trading request"),
        (_with(request=[1]), "class and fields"),
        (_with(request={"class": "Ping", "fields": {}}), "unknown class 'Ping'"),
        (_with(request={"class": 7, "fields": {}}), "unknown class 7"),
        (_with(request={"class": "CancelOrder", "fields": []}), "fields must be an object"),
        (_with(request={"class": "CancelOrder", "fields": {"bogus": 1}}), "bogus"),
        (_with(request={"class": "CancelOrder", "fields": {"txid": [{"x": 1}]}}), "unexpected"),
        (_with(request={"class": "CancelOrder", "fields": {"txid": [1.5]}}), "float"),
        (
            _with(request={"class": "CancelAllOrdersAfter", "fields": {"timeout": -1}}),
            "timeout",
        ),
        (
            _with(
                request={
                    "class": "AddOrder",
                    "fields": {
                        "ordertype": "market",
                        "type": "buy",
                        "pair": "XBT/USD",
                        "volume": {"decimal": "x"},
                    },
                }
            ),
            "cannot be read",
        ),
        (b'{"k": "fill", "at": 1, "trade_id": "T", "trade": 5, "source": "live"}', "trade"),
        (
            b'{"k": "fill", "at": 1, "trade_id": "T", "trade": {"bogus": 1}, "source": "live"}',
            "unknown fields",
        ),
        (
            b'{"k": "fill", "at": 1, "trade_id": "T", "trade": {"price": 1.5}, "source": "live"}',
            "exact text",
        ),
        (
            b'{"k": "fill", "at": 1, "trade_id": "T", "trade": {"price": "x"}, "source": "live"}',
            "price",
        ),
        (
            b'{"k": "fill", "at": 1, "trade_id": "T", "trade": {"price": 7}, "source": "live"}',
            "a number as text",
        ),
        (
            b'{"k": "fill", "at": 1, "trade_id": "T", "trade": {}, "source": "mail"}',
            "source must be",
        ),
        (b'{"k": "checkpoint", "at": 1, "cursor": 5}', "cursor"),
        (b'{"k": "checkpoint", "at": 1, "cursor": {"trade_id": "T", "time": 5}}', "text"),
        (b'{"k": "checkpoint", "at": 1, "cursor": {"trade_id": "T", "time": "NaN"}}', "finite"),
        (b'{"k": "nonce", "at": 1, "nonce": -1}', "nonce must be"),
    ],
)
def test_a_damaged_record_is_a_clear_error(data: bytes, reason: str) -> None:
    with pytest.raises(JournalCorruptError, match="journal record cannot be read") as raised:
        decode_record(data)
    assert reason in str(raised.value)
    assert raised.value.__cause__ is None  # nothing chained: the message says it all


# --- validation at construction ---------------------------------------------------------------

_TRADE = Trade(time=Decimal("1700000000.5"))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: FillAcknowledged(at=float("nan"), trade_id="T"), "at must be"),
        (lambda: FillAcknowledged(at=True, trade_id="T"), "at must be"),
        (lambda: FillAcknowledged(at=1, trade_id=""), "trade_id must be"),
        (lambda: IntentRecorded(at=1, handle=0, request=CancelAll()), "handle must be"),
        (lambda: IntentRecorded(at=1, handle=True, request=CancelAll()), "handle must be"),
        (
            lambda: IntentRecorded(at=1, handle=1, request=CancelAll(), open_at_send=["A"]),  # type: ignore[arg-type]
            "open_at_send",
        ),
        (
            lambda: IntentRecorded(at=1, handle=1, request=CancelAll(), open_at_send=(1,)),  # type: ignore[arg-type]
            "open_at_send",
        ),
        (lambda: OutcomeRecorded(at=1, handle=1, result="maybe"), "result must be"),  # type: ignore[arg-type]
        (lambda: OutcomeRecorded(at=1, handle=1, result="refused", error=5), "error must be"),  # type: ignore[arg-type]
        (lambda: FillDelivered(at=1, trade_id="T", trade=5, source="live"), "Trade"),  # type: ignore[arg-type]
        (lambda: FillDelivered(at=1, trade_id="T", trade=_TRADE, source="x"), "source"),  # type: ignore[arg-type]
        (lambda: SubscriptionRecorded(at=1, name="", request=None), "name must be"),
        (
            lambda: SubscriptionRecorded(
                at=1, name="openOrders", request=Subscribe(name="ownTrades")
            ),
            "Subscribe to openOrders",
        ),
        (
            lambda: SubscriptionRecorded(at=1, name="ownTrades", request=CancelAll()),  # type: ignore[arg-type]
            "Subscribe to ownTrades",
        ),
        (lambda: NonceRecorded(at=1, nonce=2**64), "nonce must be"),
        (lambda: NonceRecorded(at=1, nonce=False), "nonce must be"),
        (lambda: Checkpoint(at=1, next_handle=0), "handle must be"),
        (lambda: Checkpoint(at=1, cursor="T"), "cursor must be"),  # type: ignore[arg-type]
        (lambda: FillCursor(trade_id="T", time=Decimal("Infinity")), "finite"),
        (lambda: FillCursor(trade_id="T", time=1), "finite"),  # type: ignore[arg-type]
        (lambda: FillCursor(trade_id="", time=Decimal(1)), "trade_id"),
    ],
)
def test_a_record_with_a_bad_value_is_refused(build: Any, message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        build()


def test_intent_cl_ord_id_is_the_placed_orders() -> None:
    order = AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal(1))
    assert IntentRecorded(at=0, handle=1, request=order).cl_ord_id is None
    tagged = replace_request(order, cl_ord_id="mine")
    assert IntentRecorded(at=0, handle=1, request=tagged).cl_ord_id == "mine"
    amend = AmendOrder(cl_ord_id="theirs", volume=Decimal(2))
    assert IntentRecorded(at=0, handle=1, request=amend).cl_ord_id is None


def test_a_fill_without_a_finite_time_has_no_cursor() -> None:
    for time in (None, Decimal("NaN")):
        fill = FillDelivered(at=1, trade_id="T", trade=Trade(time=time), source="rest")
        assert fill.cursor() is None
    fill = FillDelivered(at=1, trade_id="T", trade=_TRADE, source="rest")
    assert fill.cursor() == FillCursor(trade_id="T", time=Decimal("1700000000.5"))


# --- the action and the builders --------------------------------------------------------------


def test_persist_records_is_a_session_action_and_syncs_what_must_be_durable() -> None:
    fill = FillDelivered(at=1, trade_id="T", trade=_TRADE, source="live")
    ack = FillAcknowledged(at=2, trade_id="T")
    intent = IntentRecorded(at=3, handle=1, request=CancelAll())
    nonce = NonceRecorded(at=4, nonce=7)
    outcome = OutcomeRecorded(at=5, handle=1, result="accepted")
    action = PersistRecords.of(iter([fill, outcome]))
    assert isinstance(action, SessionAction)
    assert action == PersistRecords(records=(fill, outcome), sync=False)
    for durable in (ack, intent, nonce):
        assert PersistRecords.of([fill, durable]).sync
        assert needs_sync([durable])
    assert not needs_sync([])
    assert set(DURABLE_RECORDS) == {IntentRecorded, FillAcknowledged, NonceRecorded}
    assert (
        repr(PersistRecords.of([intent, fill]))
        == "PersistRecords(records=<intent,fill>, sync=True)"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        action.sync = True  # type: ignore[misc]


def test_outcome_record_maps_every_final_outcome() -> None:
    request = CancelAll()
    cases: list[tuple[RequestOutcome, OutcomeRecorded]] = [
        (
            RequestAccepted(handle=1, request=request, replies=(), txid="OTX"),
            OutcomeRecorded(at=9, handle=1, result="accepted", txid="OTX"),
        ),
        (
            RequestApplied(handle=2, request=request, txid=None, via="snapshot"),
            OutcomeRecorded(at=9, handle=2, result="applied", detail="snapshot"),
        ),
        (
            RequestNotApplied(handle=3, request=request, via="withdrawn"),
            OutcomeRecorded(at=9, handle=3, result="not_applied", detail="withdrawn"),
        ),
        (
            RequestRefused(
                handle=4,
                request=request,
                replies=(),
                error=KrakenError.parse("EOrder:Insufficient funds"),
            ),
            OutcomeRecorded(at=9, handle=4, result="refused", error="EOrder:Insufficient funds"),
        ),
        (
            RequestUnresolved(handle=5, request=request, reason="closed"),
            OutcomeRecorded(at=9, handle=5, result="unresolved", detail="closed"),
        ),
    ]
    for event, record in cases:
        assert outcome_record(event, 9) == record
    with pytest.raises(LocalProtocolError, match="not a final outcome"):
        outcome_record(RequestOutcome(handle=6, request=request), 9)


def test_fill_record_keeps_the_trade_and_its_source() -> None:
    event = FillReceived(trade_id="TID", trade=_TRADE, source="snapshot")
    assert fill_record(event, 3.5) == FillDelivered(
        at=3.5, trade_id="TID", trade=_TRADE, source="snapshot"
    )
