"""Fuzz the session's handling of REST answers (``Session.rest_response`` with any status and
body), in every place the session makes REST calls: the token call, the TradesHistory
backfill after a reconnect, the OpenOrders/ClosedOrders reconciliation of an AddOrder whose
answer was lost, and QueryOrders for cancels in doubt and for vanished orders.

The session runs against the simulator's exchange model in memory (``tests/session_wire.py``,
the session's own test wire): every REST call is answered by the simulator, except that the
k-th call gets the input's k-th answer instead.

Input layout: byte 0 picks a scenario (``SCENARIOS``); the rest is split on ``\\n--\\n`` into
answers, each a status byte (``_STATUSES[byte % 8]``, mostly 200) and the body; an empty
answer lets the simulator answer that call.

Invariants:

* no call into the session raises, whatever the answers;
* the session ends: after two simulated minutes and ``close``, it is CLOSED or FAILED, and
  every submitted request has exactly one final outcome;
* each trade id is reported once (``FillReceived``);
* no token (from any answer) and not the API secret appears in any event's repr or log line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``fuzz`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kraken_proto as kp
import kraken_proto.v1 as kp_v1
from kraken_proto.adapters.simulator.model.exchange import SimulatorConfig
from tests.session.session_wire import Wire

from fuzz._harness import Target, run

__all__ = ["SCENARIOS", "TARGET", "check", "main", "seeds"]

SEPARATOR = b"\n--\n"
_STATUSES = (200, 200, 200, 200, 200, 500, 502, 404)
_SECRET = SimulatorConfig().api_secret
_FINAL = (
    kp.RequestAccepted,
    kp.RequestRefused,
    kp.RequestApplied,
    kp.RequestNotApplied,
    kp.RequestUnresolved,
)


class _Captured(logging.Handler):
    """Keeps the session's log lines (checked for tokens, not printed)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


_LOG = _Captured()
logging.getLogger("kraken_proto").addHandler(_LOG)


class FuzzWire(Wire):
    """The session's test wire, with the k-th REST answer taken from the input."""

    def __init__(self, answers: list[bytes]) -> None:
        super().__init__()
        self.answers = answers
        self.calls = 0
        self.tokens: set[str] = set()
        self.submit_handles: list[int] = []
        self.simulated: list[tuple[int, bytes]] = []  # the simulator's answers, in order

    def answer(self, call: kp.HttpCall) -> None:
        index, self.calls = self.calls, self.calls + 1
        fuzzed = self.answers[index] if index < len(self.answers) else b""
        if not fuzzed:
            self._remember_tokens(self._simulated(call))
            return
        status, body = _STATUSES[fuzzed[0] % len(_STATUSES)], fuzzed[1:]
        self._remember_tokens(body)
        self.session.rest_response(call.call, status, body, self.now)

    def _simulated(self, call: kp.HttpCall) -> bytes:
        request = call.request
        reply = self.exchange.handle_rest(
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            body=request.body,
            now=self.now,
        )
        self.simulated.append((reply.status, reply.body))
        self.session.rest_response(call.call, reply.status, reply.body, self.now)
        return reply.body

    def _remember_tokens(self, body: bytes) -> None:
        def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            self.tokens.update(
                v for k, v in pairs if k == "token" and isinstance(v, str) and len(v) >= 6
            )
            return dict(pairs)

        with contextlib.suppress(ValueError, RecursionError):
            json.loads(body, object_pairs_hook=hook)


def _order(price: str = "20000.0", **extra: Any) -> kp.AddOrder:
    return kp.AddOrder(
        ordertype="limit",
        type="buy",
        pair="XBT/USD",
        volume=Decimal("0.5"),
        price=Decimal(price),
        **extra,
    )


def _subscribed(wire: FuzzWire) -> None:
    wire.session.subscribe(kp_v1.Subscribe(name="openOrders"), wire.now)
    wire.session.subscribe(kp_v1.Subscribe(name="ownTrades"), wire.now)


def _start(wire: FuzzWire) -> None:
    """The first calls are the token call and (once live) nothing else."""
    _subscribed(wire)
    wire.session.start(wire.now)
    wire.pump()


def _reconnect_backfill(wire: FuzzWire) -> None:
    """Live with a fill, then a drop: token call, then TradesHistory backfill."""
    _answer_later(wire, lambda: _live_with_a_fill(wire))
    wire.drop()


def _sent_then_dropped(wire: FuzzWire, make: Callable[[], kp.Request]) -> None:
    """Live with a fill; then ``make()`` is submitted and reaches the exchange, and the
    connection drops before any reply or channel frame comes back: its outcome is in doubt."""

    def setup() -> None:
        _live_with_a_fill(wire)
        wire.submit_handles.append(wire.session.submit(make(), wire.now))
        for action in wire.session.actions():
            wire._do(action)  # the exchange handles it; its frames stay queued

    _answer_later(wire, setup)
    wire.drop()  # the queued frames are lost with the connection


def _add_order_in_doubt(wire: FuzzWire) -> None:
    """An AddOrder (a market order: filled at once, so no openOrders snapshot shows it) in
    doubt: after the reconnect, OpenOrders and ClosedOrders look for its cl_ord_id."""
    market = kp.AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal("0.1"))
    _sent_then_dropped(wire, lambda: market)


def _cancel_in_doubt(wire: FuzzWire) -> None:
    """A cancel in doubt: the order is gone from the next snapshot, so QueryOrders asks."""
    _sent_then_dropped(
        wire, lambda: kp.CancelOrder(txid=(next(iter(wire.exchange.open_orders())),))
    )


def _live_with_a_fill(wire: FuzzWire) -> None:
    _start(wire)
    wire.settle(60.0)
    for price in ("20000.0", "29000.0"):
        wire.submit_handles.append(wire.session.submit(_order(price), wire.now))
    wire.pump()
    wire.exchange.set_reference_price("XBT/USD", Decimal("28500.0"), wire.now)
    wire.pump()
    wire.advance(1.0)


def _answer_later(wire: FuzzWire, setup: Callable[[], None]) -> None:
    """Run ``setup`` with every REST call answered by the simulator, then restart counting."""
    answers, wire.answers = wire.answers, []
    setup()
    wire.answers, wire.calls = answers, 0


SCENARIOS: tuple[tuple[str, Callable[[FuzzWire], None]], ...] = (
    ("start: the token call", _start),
    ("reconnect: token, then TradesHistory backfill", _reconnect_backfill),
    ("AddOrder in doubt: OpenOrders/ClosedOrders", _add_order_in_doubt),
    ("cancel in doubt: QueryOrders", _cancel_in_doubt),
)


def check(data: bytes) -> None:
    """Run a scenario with the input's REST answers; check the invariants."""
    if not data:
        return
    _, scenario = SCENARIOS[data[0] % len(SCENARIOS)]
    wire = FuzzWire(data[1:].split(SEPARATOR, 15))
    _LOG.lines.clear()
    scenario(wire)
    wire.advance(120.0)
    wire.session.close(wire.now)
    wire.pump()
    wire.advance(60.0)
    state = wire.session.state
    if state not in (kp.SessionState.CLOSED, kp.SessionState.FAILED):
        raise AssertionError(f"the session did not end: {state}")
    finals: dict[int, str] = {}
    fills: set[str] = set()
    secrets = [_SECRET, *wire.tokens]
    for line in _LOG.lines:
        for secret in secrets:
            if secret in line:
                raise AssertionError(f"a token or the secret in a log line: {line[:300]!r}")
    for event in wire.events:
        shown = repr(event)
        for secret in secrets:
            if secret in shown:
                raise AssertionError(f"a token or the secret in {shown[:300]!r}")
        if isinstance(event, _FINAL):
            if event.handle in finals:
                raise AssertionError(
                    f"handle {event.handle} ended twice: {finals[event.handle]}, then "
                    f"{type(event).__name__}"
                )
            finals[event.handle] = type(event).__name__
        elif isinstance(event, kp.FillReceived):
            if event.trade_id in fills:
                raise AssertionError(f"fill {event.trade_id} reported twice")
            fills.add(event.trade_id)
    missing = [handle for handle in wire.submit_handles if handle not in finals]
    if missing:
        raise AssertionError(f"requests without a final outcome: {missing}")


# --- seeds ---------------------------------------------------------------------------------

_TOKEN_ANSWER = (
    b'{"error":[],"result":{"token":"1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw","expires":900}}'
)
_ANSWERS: tuple[bytes, ...] = (
    b"",  # the simulator's own answer
    b"\x00" + b'{"error":["EAPI:Invalid nonce"]}',
    b"\x00" + b'{"error":["EGeneral:Temporary lockout"]}',
    b"\x00" + b'{"error":["EAPI:Rate limit exceeded"]}',
    b"\x00" + b'{"error":["EService:Unavailable"]}',
    b"\x00" + b'{"error":["EAPI:Invalid key"]}',
    b"\x00" + b'{"error":[],"result":{"open":{}}}',
    b"\x00" + b'{"error":[],"result":{"closed":{},"count":0}}',
    b"\x00" + b'{"error":[],"result":{"trades":{},"count":3}}',
    b"\x00" + b'{"error":[],"result":{}}',
    b"\x00" + _TOKEN_ANSWER,
    b"\x05" + b"Internal Server Error\n",
    b"\x00<html>The service is temporarily unavailable.</html>",
)


def _recorded(index: int) -> list[bytes]:
    """The simulator's own answers to the scenario's calls, as input answers."""
    wire = FuzzWire([])
    SCENARIOS[index][1](wire)
    wire.simulated.clear()
    wire.advance(120.0)
    return [
        bytes([_STATUSES.index(status) if status in _STATUSES else 0]) + body
        for status, body in wire.simulated
    ]


def seeds() -> list[bytes]:
    """Per scenario: the simulator's answers written out (to mutate), and each canned answer
    in place of each of the scenario's first calls."""
    out = []
    for index in range(len(SCENARIOS)):
        recorded = _recorded(index)
        out.append(bytes([index]) + SEPARATOR.join(recorded))
        out.extend(
            bytes([index]) + SEPARATOR.join([b""] * position + [answer])
            for position in range(len(recorded))
            for answer in _ANSWERS[1:]
        )
    return out


TARGET = Target(
    "session_rest",
    check,
    seeds,
    (
        SEPARATOR,
        b'{"error":[],"result":{',
        b'"open":{',
        b'"closed":{',
        b'"trades":{',
        b'"count":',
        b'"token":"',
        b'"cl_ord_id":"',
        b'"status":"closed"',
        b'"vol_exec":"',
        b'"EAPI:Invalid signature"',
    ),
    max_len=8192,
)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
