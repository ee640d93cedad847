"""``kraken_proto.testing.fuzz``: the pure targets hold on their seeds and a short mutation run,
their checks catch what they promise to catch, and the loop is reproducible and bounded."""

from __future__ import annotations

import dataclasses
import random
import runpy
import sys
from collections.abc import Iterator
from typing import Any

import kraken_proto
import msgspec
import pytest
from kraken_proto.testing import fuzz
from kraken_proto.testing.fuzz import _connection, _rest
from kraken_proto.testing.fuzz._connection import TOKEN, Run

NAMES = ["connection", "connection_v2", "decode", "decode_v2", "rest"]


def test_every_pure_target_is_registered_by_name() -> None:
    assert sorted(fuzz.TARGETS) == NAMES
    for name, target in fuzz.TARGETS.items():
        assert target.name == name


@pytest.mark.parametrize("name", NAMES)
def test_each_target_holds_on_its_seeds_and_a_short_run(name: str) -> None:
    target = fuzz.TARGETS[name]
    seeds = list(target.seeds())
    ran = fuzz.fuzz_loop(target, seeds, random.Random(4), iterations=100)
    assert ran == len(seeds) + 100


# --- the loop -------------------------------------------------------------------------------


class Clock:
    """A clock that moves one second per reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_the_loop_stops_after_seconds_of_the_given_clock() -> None:
    seen: list[bytes] = []
    target = fuzz.FuzzTarget("quiet", seen.append, lambda: [])
    # Read at the start, then every 64th input: the deadline (2 s on) passes at the third read.
    assert fuzz.fuzz_loop(target, [b"a"], random.Random(1), seconds=2.5, clock=Clock()) == 129
    assert seen[0] == b"a"
    with pytest.raises(ValueError, match="needs a clock"):
        fuzz.fuzz_loop(target, [b"a"], random.Random(1), seconds=1)


def test_an_empty_pool_starts_from_no_bytes_and_inputs_are_cut_to_max_len() -> None:
    seen: list[bytes] = []
    target = fuzz.FuzzTarget("short", seen.append, lambda: [], max_len=3)
    assert fuzz.fuzz_loop(target, [], random.Random(2), iterations=200) == 201
    assert seen[0] == b""
    assert max(len(data) for data in seen) <= 3


def test_a_broken_invariant_is_a_finding_with_its_input_and_cause() -> None:
    def check(data: bytes) -> None:
        fuzz.require(b"!" not in data, "bang in %r", data)

    target = fuzz.FuzzTarget("broken", check, lambda: [])
    with pytest.raises(fuzz.FuzzFinding) as finding:
        fuzz.fuzz_loop(target, [b"a", b"b!"], random.Random(1), iterations=5)
    assert finding.value.data == b"b!"
    assert finding.value.target == "broken"
    assert isinstance(finding.value.__cause__, AssertionError)
    assert str(finding.value.__cause__) == "bang in b'b!'"


def test_require_formats_only_on_failure() -> None:
    fuzz.require(True, "%s %s", 1)  # formatting it would raise TypeError: one value for two
    with pytest.raises(AssertionError, match=r"^plain$"):
        fuzz.require(False, "plain")


def test_the_same_seed_gives_the_same_mutations() -> None:
    pool, tokens = [b'{"a":1}', b"[1,2]"], [b"null"]
    first = [fuzz.mutate(pool[0], random.Random(5), pool, tokens) for _ in range(3)]
    again = [fuzz.mutate(pool[0], random.Random(5), pool, tokens) for _ in range(3)]
    assert first == again
    assert fuzz.split_frames(b"a\nb\nc", limit=2) == [b"a", b"b\nc"]


def test_python_dash_m_runs_the_fuzz_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["kraken_proto.testing.fuzz", "decode", "--iterations", "20"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("kraken_proto.testing.fuzz", run_name="__main__")
    assert exited.value.code == 0
    assert "ok: decode" in capsys.readouterr().out


# --- the decode targets ----------------------------------------------------------------------


def test_the_decode_check_catches_a_decoder_that_returns_something_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kraken_proto, "decode", lambda frame: "not an event")
    with pytest.raises(AssertionError, match="decode returned str"):
        fuzz.DECODE.check(b"{}")


# --- the connection targets -----------------------------------------------------------------


def test_inputs_that_end_early_or_time_out_a_failed_connection() -> None:
    _connection.check_connection(b"")
    # Scenario 4 (streaming) fails on garbage; the timeouts after it are skipped.
    _connection.check_connection(b"\x04garbage\nT\nt")
    fuzz.CONNECTION_V2.check(b"\x03garbage\nT")


class FakeConnection:
    """Just enough of a Connection for ``Run``, misbehaving as told."""

    def __init__(self, *, sent: list[str], events: list[Any]) -> None:
        self.state = "OPEN"
        self.sent = sent
        self.events = events

    def data_to_send(self) -> list[str]:
        sent, self.sent = self.sent, []
        return sent

    def events_received(self) -> list[Any]:
        events, self.events = self.events, []
        return events

    def __repr__(self) -> str:
        return "<FakeConnection>"


def test_messages_without_a_request_id_are_not_counted() -> None:
    run = Run(connection=FakeConnection(sent=['{"event":"ping"}', '{"reqid":5}'], events=[]))
    run.drain()
    assert run.sent == [5]


def test_the_connection_checks_catch_what_they_promise() -> None:
    leaky = kraken_proto.v1.UnknownMessage(data={"token": TOKEN})
    with pytest.raises(AssertionError, match="the token appears in an event's repr"):
        Run(connection=FakeConnection(sent=[], events=[leaky])).drain()
    with pytest.raises(AssertionError, match="events_received gave str"):
        Run(connection=FakeConnection(sent=[], events=["no event"])).drain()
    error = kraken_proto.KrakenError.parse("EGeneral:Internal error")
    failed = kraken_proto.v1.RequestFailed(
        reqid=3, request=kraken_proto.v1.Ping(), replies=(), error=error
    )
    twice = [failed, failed]
    with pytest.raises(AssertionError, match="reqid 3 ended twice"):
        Run(connection=FakeConnection(sent=[], events=twice)).drain()


# --- the REST target -------------------------------------------------------------------------


@dataclasses.dataclass
class _Pair:
    left: object
    right: object


def _leaves(value: object) -> Iterator[object]:
    yield from _rest._values(value)


class _Box(msgspec.Struct):
    inside: object


def test_rest_values_walks_dataclasses_structs_mappings_and_sequences() -> None:
    nested = _Pair(left={"k": (1, [2])}, right=_Box(inside=frozenset({3})))
    assert list(_leaves(nested)) == ["k", 1, 2, 3]


def test_rest_body_numbers_of_a_body_that_is_not_json_are_none() -> None:
    assert _rest._body_numbers(b"{") == set()
    assert _rest._body_numbers(b'{"a":"1.50","b":2}') == {(0, (1, 5, 0), -2), (0, (2,), 0)}
