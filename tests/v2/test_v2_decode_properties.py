"""Properties of ``kraken_proto.v2.decode``: every valid frame decodes to its event; whatever else
comes in, it returns an Event or raises RemoteProtocolError; the fast and careful paths agree;
JSON numbers in Decimal fields become Decimals equal to the digits sent, never passing through a
float. The strategies are ``kraken_proto.testing``'s."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import RemoteProtocolError, testing
from kraken_proto._numbers import KrakenNumber
from kraken_proto.v2 import (
    Balances,
    Event,
    Execution,
    Executions,
    Heartbeat,
    MethodReply,
    Status,
    decode,
)
from kraken_proto.v2._decode import _decode_carefully

from tests.v2.fixtures_v2 import REAL_FRAMES


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
    assert type(outcome) is type(careful)
    if isinstance(outcome, Event):
        assert msgspec.to_builtins(outcome) == msgspec.to_builtins(careful)


KEYS = ["channel", "method", "type", "data", "sequence", "req_id", "success", "error", "result"]
json_values = testing.json_values(keys=KEYS)
names = st.sampled_from(
    [
        "executions",
        "balances",
        "status",
        "heartbeat",
        "subscribe",
        "unsubscribe",
        "add_order",
        "amend_order",
        "edit_order",
        "cancel_order",
        "cancel_all",
        "cancel_all_orders_after",
        "batch_add",
        "batch_cancel",
        "pong",
        "ping",
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


@given(names, names, st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6))
def test_arbitrary_channel_and_method_shapes(
    channel: str, method: str, rest: dict[str, Any]
) -> None:
    for head in ({"channel": channel}, {"method": method}, {"channel": channel, "method": method}):
        frame = {**head, **{k: v for k, v in rest.items() if k not in head}}
        assert_paths_agree(json.dumps(frame))
        assert_paths_agree(json.dumps(frame).encode())


# Each strategy of valid frames and the events its frames must decode to.
VALID: list[tuple[str, st.SearchStrategy[bytes], tuple[type[Event], ...]]] = [
    ("executions", testing.v2_executions_frames(), (Executions,)),
    ("balances", testing.v2_balances_frames(), (Balances,)),
    ("heartbeat", testing.v2_heartbeat_frames(), (Heartbeat,)),
    ("status", testing.v2_status_frames(), (Status,)),
    ("replies", testing.v2_reply_frames(), (MethodReply,)),
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


@given(testing.mutated_frames(testing.v2_frames()))
def test_every_mutated_frame_decodes_or_raises_remote_protocol_error(frame: bytes) -> None:
    decode_or_error(frame)
    decode_or_error(frame.decode("utf-8", "surrogateescape"))


@given(
    testing.structural_mutations(real_frames)
    | testing.type_swaps(real_frames)
    | testing.huge_numbers(real_frames)
    | testing.duplicate_keys(real_frames)
)
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


# --- exact numbers ------------------------------------------------------------------------------

json_number = st.from_regex(
    r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,20})?([eE][+\-]?[0-9]{1,3})?", fullmatch=True
)
special_numbers = st.sampled_from(
    ["0.1", "1e-8", "12345678901234567890", "1.2345678901234567890", "-0", "-0.0", "26500.0"]
)
EXECUTION_DECIMALS = sorted(
    field.encode_name
    for field in msgspec.inspect.type_info(Execution).fields  # type: ignore[attr-defined]
    if any(getattr(t, "cls", None) is KrakenNumber for t in field.type.types)
)


def assert_exact(value: Decimal | None, sent: str) -> None:
    """``value`` equals the digits sent; only an integer ``-0`` loses its sign (ints have none)."""
    assert isinstance(value, Decimal)
    reference = Decimal(sent)
    assert value == reference
    integer_zero = reference.is_zero() and not any(c in sent for c in ".eE")
    if not integer_zero:
        assert value.as_tuple() == reference.as_tuple()


@given(
    st.dictionaries(st.sampled_from(EXECUTION_DECIMALS), json_number | special_numbers, min_size=1),
    json_number | special_numbers,
    st.booleans(),
)
def test_execution_numbers_are_exact(sent: dict[str, str], fee: str, careful: bool) -> None:
    fields = ",".join(f'"{name}":{digits}' for name, digits in sent.items())
    frame = (
        '{"channel":"executions","type":"update","data":[{' + fields + ',"fees":[{"asset":"USD",'
        '"qty":' + fee + '}],"triggers":{"price":' + fee + '}}],"sequence":2}'
    )
    event = _decode_carefully(frame) if careful else decode(frame)
    assert isinstance(event, Executions)
    execution = event.data[0]
    for name, digits in sent.items():
        assert_exact(getattr(execution, name), digits)
    assert execution.fees is not None
    assert_exact(execution.fees[0].qty, fee)
    assert execution.triggers is not None
    assert_exact(execution.triggers.price, fee)


@given(json_number | special_numbers, json_number | special_numbers)
def test_balance_numbers_are_exact(amount: str, balance: str) -> None:
    frame = (
        '{"channel":"balances","type":"update","data":[{"amount":'
        + amount
        + ',"balance":'
        + balance
        + ',"wallets":[{"balance":'
        + balance
        + '}]}],"sequence":3}'
    )
    for event in (decode(frame), _decode_carefully(frame)):
        assert isinstance(event, Balances)
        assert_exact(event.data[0].amount, amount)
        assert_exact(event.data[0].balance, balance)
        assert event.data[0].wallets is not None
        assert_exact(event.data[0].wallets[0].balance, balance)
