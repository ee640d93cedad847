"""Properties of ``decode``: every valid frame decodes to its event; whatever else comes in, it
returns an Event or raises RemoteProtocolError; the fast and careful paths agree; Decimal fields
keep the digits sent. The strategies are ``kraken_proto.testing``'s."""

from __future__ import annotations

import importlib.util
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import kraken_proto
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import Event, RemoteProtocolError, decode, testing
from kraken_proto.v1 import (
    ErrorEvent,
    Heartbeat,
    OpenOrders,
    OwnTrades,
    Pong,
    StatusEvent,
    SubscriptionStatus,
    SystemStatus,
)
from kraken_proto.v1._decode import _decode_carefully

from tests.v1.fixtures_v1 import REAL_FRAMES


def decode_or_error(frame: Any) -> Event | RemoteProtocolError:
    """The invariant: an Event, or a RemoteProtocolError; anything else fails the test."""
    return testing.decode_or_error(decode, frame)


def assert_paths_agree(frame: str | bytes) -> None:
    """When the fast path produces an event, the careful path produces the same one."""
    outcome = decode_or_error(frame)
    try:
        careful: Event | RemoteProtocolError = _decode_carefully(frame)
    except RemoteProtocolError as error:
        careful = error
    if isinstance(outcome, Event) and isinstance(careful, Event):
        assert msgspec.to_builtins(outcome) == msgspec.to_builtins(careful)
        assert type(outcome) is type(careful)
    else:
        assert type(outcome) is type(careful)


json_values = testing.json_values(
    keys=["event", "status", "reqid", "sequence", "count", "x", "price"]
)
names = st.sampled_from(
    [
        "ownTrades",
        "openOrders",
        "heartbeat",
        "pong",
        "systemStatus",
        "subscriptionStatus",
        "addOrderStatus",
        "cancelAllStatus",
        "error",
        "pingStatus",
        "trade",
        "",
    ]
)
real_frames = st.sampled_from(REAL_FRAMES)


@given(st.text(max_size=200))
def test_arbitrary_text(frame: str) -> None:
    decode_or_error(frame)
    decode_or_error(frame.encode("utf-8", "surrogatepass"))


@given(st.binary(max_size=200))
def test_arbitrary_bytes(frame: bytes) -> None:
    decode_or_error(frame)


@given(json_values)
def test_arbitrary_json(value: Any) -> None:
    assert_paths_agree(json.dumps(value))


@given(json_values, names, json_values)
def test_arbitrary_channel_and_event_shapes(payload: Any, name: str, meta: Any) -> None:
    assert_paths_agree(json.dumps([payload, name, meta]))
    assert_paths_agree(json.dumps([payload, name]))
    if isinstance(meta, dict):
        meta["event"] = name
        assert_paths_agree(json.dumps(meta))


# Each strategy of valid frames and the events its frames must decode to.
VALID: list[tuple[str, st.SearchStrategy[bytes], tuple[type[Event], ...]]] = [
    ("ownTrades", testing.v1_own_trades_frames(), (OwnTrades,)),
    ("openOrders", testing.v1_open_orders_frames(), (OpenOrders,)),
    ("heartbeat", testing.v1_heartbeat_frames(), (Heartbeat,)),
    ("systemStatus", testing.v1_system_status_frames(), (SystemStatus,)),
    ("subscriptionStatus", testing.v1_subscription_status_frames(), (SubscriptionStatus,)),
    ("replies", testing.v1_request_reply_frames(), (StatusEvent, Pong, ErrorEvent)),
]


@pytest.mark.parametrize(("name", "frames", "kind"), VALID, ids=[name for name, _, _ in VALID])
def test_every_valid_frame_decodes(
    name: str, frames: st.SearchStrategy[bytes], kind: tuple[type[Event], ...]
) -> None:
    @given(frames)
    def decodes(frame: bytes) -> None:
        event = decode(frame)
        assert isinstance(event, kind), (frame, event)
        assert_paths_agree(frame)

    decodes()


@given(testing.mutated_frames(testing.v1_frames()))
def test_every_mutated_frame_decodes_or_raises_remote_protocol_error(frame: bytes) -> None:
    # Only the contract: the two paths may disagree on bytes that are not UTF-8 inside a member
    # the fast path skips (it does not read them), so agreement is checked on JSON-level
    # mutations only, below.
    decode_or_error(frame)
    decode_or_error(frame.decode("utf-8", "surrogateescape"))


@given(testing.structural_mutations(real_frames) | testing.type_swaps(real_frames))
def test_structurally_mutated_real_frames(frame: bytes) -> None:
    assert_paths_agree(frame)
    assert_paths_agree(frame.decode())


@given(
    testing.truncations(real_frames)
    | testing.insertions(real_frames)
    | testing.byte_flips(real_frames)
)
def test_textually_mutated_real_frames(frame: bytes) -> None:
    decode_or_error(frame)


@given(testing.duplicate_keys(real_frames))
def test_duplicate_keys_in_real_frames(frame: bytes) -> None:
    assert_paths_agree(frame)


@given(testing.huge_numbers(real_frames))
def test_huge_numbers_in_real_frames(frame: bytes) -> None:
    assert_paths_agree(frame)


# --- exact decimals -----------------------------------------------------------------------------

plain_decimal = st.from_regex(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,18})?", fullmatch=True)
exponent_decimal = st.from_regex(r"-?[1-9](\.[0-9]{1,8})?E[+\-][0-9]{1,3}", fullmatch=True)
TRADE_DECIMALS = ("time", "price", "cost", "fee", "vol", "margin")
ORDER_DECIMALS = [
    "opentm",
    "starttm",
    "expiretm",
    "lastupdated",
    "display_volume",
    "display_volume_remain",
    "vol",
    "vol_exec",
    "cost",
    "fee",
    "avg_price",
    "price",
    "stopprice",
    "limitprice",
    "ratecount",
]


def assert_exact(value: Decimal | None, sent: str) -> None:
    assert isinstance(value, Decimal)
    reference = Decimal(sent)
    assert str(value) == str(reference)
    assert value.as_tuple() == reference.as_tuple()


@given(
    st.dictionaries(st.sampled_from(TRADE_DECIMALS), plain_decimal, min_size=1),
    st.booleans(),
)
def test_trade_decimals_round_trip_exactly(sent: dict[str, str], careful: bool) -> None:
    frame = json.dumps([[{"T1": sent}], "ownTrades", {"sequence": 3}])
    event = _decode_carefully(frame) if careful else decode(frame)
    assert isinstance(event, OwnTrades)
    trade = event.trades[0][1]
    for name, digits in sent.items():
        assert_exact(getattr(trade, name), digits)
        assert format(getattr(trade, name), "f") == digits


@given(st.sampled_from(TRADE_DECIMALS), exponent_decimal, st.booleans())
def test_exponent_text_is_not_kraken_number_text(name: str, sent: str, careful: bool) -> None:
    """Kraken writes no exponent in number text; only a JSON number may have one."""
    frame = json.dumps([[{"T1": {name: sent}}], "ownTrades", {"sequence": 3}])
    with pytest.raises(RemoteProtocolError, match=rf"\$\[0\]\[0\]\['T1'\]\.{name}`"):
        _decode_carefully(frame) if careful else decode(frame)


@given(
    st.dictionaries(st.sampled_from(ORDER_DECIMALS), plain_decimal, min_size=1),
    plain_decimal,
    plain_decimal,
    st.booleans(),
)
def test_order_decimals_round_trip_exactly(
    sent: dict[str, str], descr_price: str, close_price: str, careful: bool
) -> None:
    record: dict[str, Any] = dict(sent)
    record["descr"] = {"price": descr_price, "price2": ""}
    record["contingent"] = {"price": close_price}
    frame = json.dumps([[{"O1": record}], "openOrders"])
    event = _decode_carefully(frame) if careful else decode(frame)
    assert isinstance(event, OpenOrders)
    assert event.sequence is None
    order = event.orders[0][1]
    for name, digits in sent.items():
        assert_exact(getattr(order, name), digits)
        assert format(getattr(order, name), "f") == digits
    assert order.descr is not None
    assert order.contingent is not None
    assert_exact(order.descr.price, descr_price)
    assert order.descr.price2 is None
    assert_exact(order.contingent.price, close_price)


# --- the fuzz harness's own loop, briefly -------------------------------------------------------


def _load_fuzz_harness() -> Any:
    path = Path(__file__).resolve().parents[2] / "fuzz" / "fuzz_decode.py"
    spec = importlib.util.spec_from_file_location("fuzz_decode", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fuzz_harness_loop_holds_the_invariant(capsys: pytest.CaptureFixture[str]) -> None:
    harness = _load_fuzz_harness()
    assert harness.main(["--iterations", "500", "--seed", "3"]) == 0
    assert "ok: decode" in capsys.readouterr().out


def test_fuzz_harness_check_reports_a_broken_invariant(monkeypatch: pytest.MonkeyPatch) -> None:
    harness = _load_fuzz_harness()
    monkeypatch.setattr(kraken_proto, "decode", lambda frame: "not an event")
    with pytest.raises(AssertionError, match="decode returned str"):
        harness.check(b"{}")
