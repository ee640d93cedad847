"""``kraken_proto.testing`` itself: its strategies generate what their docstrings promise, its
mutations damage what they say and leave alone what they cannot parse, and the package says
what to install when Hypothesis is missing. (That valid frames decode and mutated ones decode
or raise ``RemoteProtocolError`` is checked in ``tests/v1`` and ``tests/v2``.)"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import kraken_proto
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kraken_proto import RemoteProtocolError, testing, v2
from kraken_proto.testing._json import encode_frame, node_paths, parse_frame, replace_at
from kraken_proto.testing._mutations import PROTOCOL_KEYS
from kraken_proto.v1 import OpenOrders, OwnTrades, UnknownMessage

ROOT = Path(__file__).resolve().parents[2]
# What a frame strategy generates is checked on fewer examples than the decoders' properties
# (tests/v1, tests/v2), which draw from the same strategies on the full profile.
SHAPES = settings(max_examples=40)


def test_without_hypothesis_the_import_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "kraken_proto.testing")
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # what `import` sees when it is absent
    with pytest.raises(ImportError, match=r"pip install 'kraken_proto\[testing\]'"):
        importlib.import_module("kraken_proto.testing")


def test_the_extra_brings_hypothesis_and_the_plain_install_does_not() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["optional-dependencies"]["testing"] == ["hypothesis>=6.100"]
    assert not [dep for dep in project["dependencies"] if dep.startswith("hypothesis")]
    assert "kraken_proto[io,testing]" in project["optional-dependencies"]["dev"]


def test_every_public_name_says_what_it_is() -> None:
    for name in testing.__all__:
        value = getattr(testing, name)
        if callable(value):
            assert value.__doc__, f"{name} has no docstring"
    assert testing.__doc__ is not None
    assert "pip install 'kraken_proto[testing]'" in testing.__doc__


def test_the_examples_are_the_documented_frames() -> None:
    for examples, frames in (
        (testing.V1_EXAMPLES, testing.V1_EXAMPLE_FRAMES),
        (testing.V2_EXAMPLES, testing.V2_EXAMPLE_FRAMES),
    ):
        descriptions = [description for description, _ in examples]
        assert len(set(descriptions)) == len(descriptions)
        assert frames == tuple(text.encode() for _, text in examples)
    # v1's examples are v1 frames, but for the REST and v2 frames a v1 client must survive;
    # v2's are all v2 frames.
    unknown = [
        description
        for description, text in testing.V1_EXAMPLES
        if isinstance(kraken_proto.decode(text), UnknownMessage)
    ]
    assert unknown == [
        "REST token reply",
        "REST error",
        "v2 heartbeat",
        "v2 status",
        "v2 cancel_all",
        "v2 executions (numbers keep their digits)",
    ]
    assert all(
        not isinstance(v2.decode(frame), v2.UnknownMessage) for frame in testing.V2_EXAMPLE_FRAMES
    )


# --- the decoder contract --------------------------------------------------------------------


def test_decode_or_error_returns_the_event_or_the_error() -> None:
    assert isinstance(
        testing.decode_or_error(kraken_proto.decode, b'{"event":"heartbeat"}'), kraken_proto.Event
    )
    error = testing.decode_or_error(kraken_proto.decode, b"{")
    assert isinstance(error, RemoteProtocolError)


def test_decode_or_error_fails_on_a_broken_decoder() -> None:
    def silent(frame: object) -> object:
        raise RemoteProtocolError("")

    with pytest.raises(AssertionError, match="without a message"):
        testing.decode_or_error(silent, b"x")
    with pytest.raises(AssertionError, match="decode returned int"):
        testing.decode_or_error(lambda frame: 7, b"x")

    def crashing(frame: object) -> object:
        raise KeyError("boom")

    with pytest.raises(KeyError):  # any other exception is the bug: it propagates
        testing.decode_or_error(crashing, b"x")


# --- building blocks --------------------------------------------------------------------------


@given(testing.json_values(keys=["event"]))
def test_json_values_are_json(value: Any) -> None:
    assert json.loads(json.dumps(value)) == value


@given(testing.decimal_texts(places=8, signed=True))
def test_decimal_texts_have_exact_padded_digits(text: str) -> None:
    whole, point, fraction = text.lstrip("-").partition(".")
    assert point == "."
    assert len(fraction) == 8
    assert whole.isdigit()
    assert format(Decimal(text), "f") == text


@given(testing.decimal_texts())
def test_decimal_texts_without_places(text: str) -> None:
    assert not text.startswith("-")
    assert format(Decimal(text), "f") == text


def test_frames_keep_their_digits_through_parse_and_encode() -> None:
    frame = b'{"a":[26500.0,0.00010000,7,"1.50"],"b":{"c":null}}'
    tree = parse_frame(frame)
    assert encode_frame(tree) == frame
    assert node_paths(tree) == [
        ("a",),
        ("a", 0),
        ("a", 1),
        ("a", 2),
        ("a", 3),
        ("b",),
        ("b", "c"),
    ]
    assert replace_at(tree, ("a", 2), "x") == {
        "a": [Decimal("26500.0"), Decimal("0.00010000"), "x", "1.50"],
        "b": {"c": None},
    }
    assert replace_at(tree, (), 1) == 1
    assert encode_frame({"a": 1}, pretty=True) == b'{\n  "a": 1\n}'


@pytest.mark.parametrize("frame", [b"{", b"[" * 5000, b"[1e4950811667203285981]"])
def test_parse_frame_refuses_what_it_cannot_read_with_value_error(frame: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError: malformed, deep or huge
        parse_frame(frame)


# --- valid frames: the shapes their docstrings promise ----------------------------------------


@SHAPES
@given(testing.v1_own_trades_frames(snapshot=True))
def test_own_trades_snapshots(frame: bytes) -> None:
    event = kraken_proto.decode(frame)
    assert isinstance(event, OwnTrades)
    assert event.sequence in (1, None)
    assert len(event.trades) <= 4
    for trade_id, trade in event.trades:
        assert trade_id[0] == "T"
        assert len(trade_id) == 19
        assert trade.ordertxid is not None
        assert trade.ordertxid[0] == "O"


@SHAPES
@given(testing.v1_own_trades_frames(snapshot=False), testing.v1_open_orders_frames(snapshot=False))
def test_channel_updates(trades_frame: bytes, orders_frame: bytes) -> None:
    trades = kraken_proto.decode(trades_frame)
    orders = kraken_proto.decode(orders_frame)
    assert isinstance(trades, OwnTrades)
    assert isinstance(orders, OpenOrders)
    for event in (trades, orders):
        assert event.sequence is None or event.sequence >= 2
    assert 1 <= len(trades.trades) <= 2
    assert 1 <= len(orders.orders) <= 3


@SHAPES
@given(testing.v1_open_orders_frames(snapshot=True))
def test_open_orders_snapshots(frame: bytes) -> None:
    event = kraken_proto.decode(frame)
    assert isinstance(event, OpenOrders)
    assert event.sequence in (1, None)
    assert all(record.descr is not None for _, record in event.orders)
    assert all(record.status in ("pending", "open") for _, record in event.orders)


@SHAPES
@given(
    testing.v2_executions_frames(snapshot=True),
    testing.v2_executions_frames(snapshot=False),
    testing.v2_balances_frames(snapshot=True),
    testing.v2_balances_frames(snapshot=False),
)
def test_v2_snapshots_and_updates(
    executions: bytes, exec_update: bytes, balances: bytes, balance_update: bytes
) -> None:
    for frame, kind, snapshot in (
        (executions, v2.Executions, True),
        (exec_update, v2.Executions, False),
        (balances, v2.Balances, True),
        (balance_update, v2.Balances, False),
    ):
        event = v2.decode(frame)
        assert isinstance(event, kind)
        assert event.is_snapshot is snapshot
        assert (event.sequence == 1) is snapshot


@SHAPES
@given(testing.v2_frames())
def test_v2_frames_are_v2(frame: bytes) -> None:
    assert not isinstance(v2.decode(frame), v2.UnknownMessage)


@SHAPES
@given(testing.v1_frames())
def test_v1_frames_are_v1_or_documented(frame: bytes) -> None:
    event = kraken_proto.decode(frame)
    if isinstance(event, UnknownMessage):
        assert frame in testing.V1_EXAMPLE_FRAMES  # the doc's REST and v2 frames


# --- mutations --------------------------------------------------------------------------------

ORIGINAL = b'{"event":"addOrderStatus","status":"ok","count":"12","x":[1,2.5]}'
ONE = st.just(ORIGINAL)


@given(testing.byte_flips(ONE))
def test_byte_flips_change_up_to_four_bytes(frame: bytes) -> None:
    changed = sum(a != b for a, b in zip(frame, ORIGINAL, strict=True))
    assert 1 <= changed <= 4


@given(testing.truncations(ONE))
def test_truncations_keep_a_head_or_a_tail(frame: bytes) -> None:
    assert ORIGINAL.startswith(frame) or ORIGINAL.endswith(frame)


@given(testing.insertions(ONE))
def test_insertions_add_bytes(frame: bytes) -> None:
    assert 1 <= len(frame) - len(ORIGINAL) <= 8


@given(testing.type_swaps(ONE))
def test_type_swaps_keep_json(frame: bytes) -> None:
    parse_frame(frame)
    assert frame != ORIGINAL


@given(testing.structural_mutations(ONE))
def test_structural_mutations_keep_json(frame: bytes) -> None:
    parse_frame(frame)


@given(testing.duplicate_keys(ONE))
def test_duplicate_keys_repeat_a_key(frame: bytes) -> None:
    keys = [json.loads(frame, object_pairs_hook=lambda pairs: [k for k, _ in pairs])]
    assert frame.endswith(ORIGINAL[1:])
    assert keys[0][0] in PROTOCOL_KEYS or keys[0][0] in ("event", "status", "count", "x")


@given(testing.huge_numbers(ONE))
def test_huge_numbers_replace_a_number(frame: bytes) -> None:
    assert frame != ORIGINAL
    assert b'"event":"addOrderStatus"' in frame


@given(testing.huge_numbers(st.just(b"12")))
def test_huge_numbers_may_replace_the_whole_frame(frame: bytes) -> None:
    assert frame != b"12"


NOT_JSON = st.just(b"\xff{not json")
NOTHING_TO_DO = st.just(b'"text"')


@given(
    st.one_of(
        testing.type_swaps(NOT_JSON),
        testing.structural_mutations(NOT_JSON),
        testing.huge_numbers(NOT_JSON),
        testing.duplicate_keys(st.just(b"[1,2]")),
    )
)
def test_json_mutations_leave_what_they_cannot_parse_alone(frame: bytes) -> None:
    assert frame in (b"\xff{not json", b"[1,2]")


@given(
    testing.structural_mutations(NOTHING_TO_DO)
    | testing.huge_numbers(NOTHING_TO_DO)
    | testing.byte_flips(st.just(b""))
)
def test_mutations_with_nothing_to_change_return_the_frame(frame: bytes) -> None:
    assert frame in (b'"text"', b"")


@given(testing.structural_mutations(st.sampled_from([b"[]", b"{}"])))
def test_structural_mutations_of_empty_containers_add(frame: bytes) -> None:
    assert len(parse_frame(frame)) == 1


@SHAPES
@given(testing.mutated_frames(testing.v1_frames()) | testing.mutated_frames(testing.v2_frames()))
def test_mutated_frames_are_bytes(frame: bytes) -> None:
    assert isinstance(frame, bytes)


def test_the_fixtures_expect_an_event_for_every_example_and_no_other() -> None:
    from tests.v1 import fixtures_v1
    from tests.v2 import fixtures_v2

    assert set(fixtures_v1._EXPECTED) == {description for description, _ in testing.V1_EXAMPLES}
    assert set(fixtures_v2._EXPECTED) == {description for description, _ in testing.V2_EXAMPLES}


def test_a_first_run_with_default_settings_passes_the_health_checks(tmp_path: Path) -> None:
    # A fresh directory (no .hypothesis cache) and Hypothesis's default settings, as a user
    # trying the package has: no draw may be slow enough to fail the health check.
    probe = (
        "from hypothesis import given\n"
        "import kraken_proto, kraken_proto.testing as T\n"
        "from kraken_proto import v2\n"
        "@given(T.mutated_frames(T.v1_frames()) | T.mutated_frames(T.v2_frames()))\n"
        "def test(frame):\n"
        "    T.decode_or_error(kraken_proto.decode, frame)\n"
        "    T.decode_or_error(v2.decode, frame)\n"
        "test()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    return type(value).__name__


@given(st.sampled_from([b"null", b"true", b"1.5", b'"x"', b"[]", b"{}"]), st.data())
def test_type_swaps_change_the_type_of_any_json_value(original: bytes, data: st.DataObject) -> None:
    frame = data.draw(testing.type_swaps(st.just(original)))
    assert _json_type(parse_frame(frame)) != _json_type(parse_frame(original))
