"""Property tests: the fault-spec language and the control API never fail but cleanly."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import event, given
from hypothesis import strategies as st
from kraken_proto.adapters.simulator._control import handle_control
from kraken_proto.adapters.simulator._faultspec import (
    FaultChange,
    FaultSpecError,
    apply_fault,
    parse_fault,
)
from kraken_proto.adapters.simulator._replay import ReplayFormatError, ReplayScript, parse_replay
from kraken_proto.adapters.simulator.model._views import OrderView, TradeView
from kraken_proto.adapters.simulator.model.exchange import Faults

_COUNTS = ["close-after", "skip-sequence", "repeat-sequence", "drop-replies", "malformed"]


@given(st.sampled_from(_COUNTS), st.integers(min_value=0, max_value=10**9))
def test_count_faults_round_trip(name: str, count: int) -> None:
    change = parse_fault(f"{name}={count}")
    faults = Faults()
    apply_fault(faults, change)
    assert list(change.session_fields.values()) == [count]
    assert getattr(faults, next(iter(change.session_fields))) == count


@given(st.text(max_size=30))
def test_any_spec_parses_or_is_refused_with_fault_spec_error(spec: str) -> None:
    change: FaultChange | FaultSpecError
    try:
        change = parse_fault(spec)
    except FaultSpecError as refused:
        change = refused
    if isinstance(change, FaultSpecError):
        assert str(change)
    else:
        apply_fault(Faults(), change)


class _Recorder:
    """A ControlTarget that records calls and refuses like the model does."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def set_reference_price(self, pair: str, price: Decimal) -> None:
        if pair != "XBT/USD":
            raise KeyError(f"unknown pair {pair!r}")
        if not price.is_finite() or price <= 0:
            raise ValueError("price must be positive")
        self.calls.append(("price", price))

    def set_system_status(self, status: str) -> None:
        if status not in ("online", "maintenance"):
            raise ValueError("status must be one of ...")
        self.calls.append(("status", status))

    def set_fault(self, spec: str, *, session: int | None = None) -> None:
        parse_fault(spec)
        if session is not None:
            raise KeyError(session)
        self.calls.append(("fault", spec))

    def invalidate_tokens(self) -> None:
        self.calls.append(("invalidate", None))

    def open_orders(self) -> dict[str, OrderView]:
        return {}

    def trades(self) -> dict[str, TradeView]:
        return {}

    def balances(self) -> dict[str, Decimal]:
        return {"USD": Decimal("1.50")}

    def session_ids(self) -> list[int]:
        return [1]


_VALID = [
    b'{"pair": "XBT/USD", "price": "29000"}',
    b'{"status": "maintenance"}',
    b'{"fault": "no-heartbeats"}',
    b"{}",
]
_names = st.sampled_from(
    ["price", "status", "fault", "invalidate-tokens", "book", "trades", "sessions", "x", ""]
)
_values = st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.floats()
_documents = st.dictionaries(
    st.sampled_from(["pair", "price", "status", "fault", "session", "other"]), _values, max_size=4
)


@given(
    method=st.sampled_from(["GET", "POST", "HEAD", "PUT"]),
    name=_names,
    body=st.sampled_from(_VALID)
    | _documents.map(lambda d: json.dumps(d).encode())
    | st.binary(max_size=40),
    content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", ""]),
    host=st.sampled_from(["127.0.0.1:1", "localhost", "evil.example", ""]),
    peer=st.sampled_from(["127.0.0.1", "::1", "10.0.0.1", None]),
)
def test_any_request_gets_a_json_answer_and_only_valid_ones_change_anything(
    method: str, name: str, body: bytes, content_type: str, host: str, peer: str | None
) -> None:
    target = _Recorder()
    headers = {"host": host, "content-type": content_type}
    reply = handle_control(
        target, method=method, path=f"/_sim/{name}", headers=headers, body=body, peer=peer
    )
    document = json.loads(reply.body)
    assert reply.content_type == "application/json"
    event(f"status {reply.status}")
    assert reply.status in (200, 400, 403, 404, 405, 415)
    if reply.status == 200:
        assert set(document) == {"result"}
        assert peer in ("127.0.0.1", "::1")
        assert host != "evil.example"
    else:
        assert set(document) == {"error"}
        assert isinstance(document["error"], str)
        assert target.calls == []  # a refused request changed nothing


@given(st.text(max_size=200))
def test_any_replay_text_parses_or_is_refused_with_replay_format_error(text: str) -> None:
    outcome: ReplayScript | ReplayFormatError
    try:
        outcome = parse_replay(text)
    except ReplayFormatError as refused:
        outcome = refused
    if isinstance(outcome, ReplayFormatError):
        assert str(outcome).startswith("replay:")
    else:
        assert all(frame.delay >= 0 for frame in outcome.frames)
