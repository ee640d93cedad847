"""Properties of ``decode``: whatever the input, it returns an Event or raises
RemoteProtocolError; the fast and careful paths agree; Decimal fields keep the digits sent."""

from __future__ import annotations

import importlib.util
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import Event, RemoteProtocolError, decode
from kraken_proto.v1 import OpenOrders, OwnTrades
from kraken_proto.v1._decode import _decode_carefully

from tests.v1.fixtures_v1 import REAL_FRAMES


def decode_or_error(frame: Any) -> Event | RemoteProtocolError:
    """The invariant: an Event, or a RemoteProtocolError; anything else fails the test."""
    try:
        event = decode(frame)
    except RemoteProtocolError as error:
        message = str(error)
        assert message  # always says what was wrong
        return error
    assert isinstance(event, Event)
    return event


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


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["event", "status", "reqid", "sequence", "count", "x", "price"])
            | st.text(max_size=6),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
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


def _mutate(value: Any, data: st.DataObject) -> Any:
    """Apply one structural mutation somewhere inside a parsed JSON value."""
    if isinstance(value, dict) and value and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(value)))
        action = data.draw(st.sampled_from(["drop", "alter", "recurse", "add"]))
        copy = dict(value)
        if action == "drop":
            del copy[key]
        elif action == "alter":
            copy[key] = data.draw(json_values)
        elif action == "add":
            copy[data.draw(st.text(max_size=8))] = data.draw(json_values)
        else:
            copy[key] = _mutate(copy[key], data)
        return copy
    if isinstance(value, list) and value and data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(value) - 1))
        action = data.draw(st.sampled_from(["drop", "alter", "recurse", "duplicate"]))
        items = list(value)
        if action == "drop":
            del items[index]
        elif action == "alter":
            items[index] = data.draw(json_values)
        elif action == "duplicate":
            items.insert(index, items[index])
        else:
            items[index] = _mutate(items[index], data)
        return items
    # change the type of this node
    return data.draw(json_values)


@given(st.sampled_from(REAL_FRAMES), st.data())
def test_structurally_mutated_real_frames(frame: bytes, data: st.DataObject) -> None:
    mutated = json.dumps(_mutate(json.loads(frame), data), separators=(",", ":"))
    assert_paths_agree(mutated)
    assert_paths_agree(mutated.encode())


@given(st.sampled_from(REAL_FRAMES), st.data())
def test_textually_mutated_real_frames(frame: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(frame)))
    decode_or_error(frame[:cut])  # truncated
    decode_or_error(frame[cut:])
    position = data.draw(st.integers(0, len(frame)))
    insert = data.draw(st.binary(max_size=8) | st.sampled_from([b'"', b"{", b"]", b",", b"\\"]))
    decode_or_error(frame[:position] + insert + frame[position:])
    flip = data.draw(st.integers(0, max(0, len(frame) - 1)))
    if frame:
        decode_or_error(frame[:flip] + bytes([frame[flip] ^ 0xFF]) + frame[flip + 1 :])


@given(st.sampled_from(REAL_FRAMES), st.data())
def test_duplicate_keys_in_real_frames(frame: bytes, data: st.DataObject) -> None:
    text = frame.decode()
    starts = [i for i, char in enumerate(text) if char == "{" and text[i + 1 : i + 2] == '"']
    if not starts:
        return
    at = data.draw(st.sampled_from(starts))
    key = data.draw(st.sampled_from(["event", "status", "reqid", "sequence", "price", "count"]))
    value = json.dumps(data.draw(json_values))
    assert_paths_agree(text[: at + 1] + f'"{key}":{value},' + text[at + 1 :])


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
    monkeypatch.setattr(harness.kraken_proto, "decode", lambda frame: "not an event")
    with pytest.raises(AssertionError, match="decode returned str"):
        harness.check(b"{}")
