"""Fuzz target ``connection``: ``Connection.receive_message`` in every state it can reach.

Input layout: the first byte picks a scenario (``SCENARIOS[byte % len]``, bit 7 set: frames
are fed as ``str`` decoded with ``surrogateescape`` rather than ``bytes``); the rest is split on
``\\n`` into frames, fed in order 10 ms apart. A frame that is exactly ``T`` calls
``handle_timeout`` 11 s later (every request times out), ``t`` 1 s later.

Invariants:

* in OPEN or CLOSING, ``receive_message`` returns or raises ``RemoteProtocolError``; after the
  error the connection is FAILED and stays FAILED: every later call but ``close``,
  ``connection_lost`` and the drains raises ``LocalProtocolError``;
* in IDLE or CLOSED it raises ``LocalProtocolError`` and changes nothing;
* only ``Event`` objects come out, and the token is in no exception message, event repr or the
  connection's repr;
* every request that went out (the caller's and the connection's own) ends exactly once, at
  the latest with ``connection_lost``;
* after ``handle_timeout(now)``, ``next_deadline()`` is None or later than ``now``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import kraken_proto as kp
import kraken_proto.v1 as kp_v1
from kraken_proto.testing._examples import V1_EXAMPLE_FRAMES

from ._core import FuzzTarget, require, split_frames

__all__ = [
    "CONNECTION",
    "SCENARIOS",
    "TOKEN",
    "Run",
    "check_connection",
    "connection_seeds",
    "run_scenario",
    "scenario_seeds",
]

TOKEN = "FuzzSessionTokenQ7zV3kLm9xW2pR8tY4uB6nC1dE5"
_OPEN_STATES = (kp_v1.ConnectionState.OPEN, kp_v1.ConnectionState.CLOSING)
_ENDS = (kp_v1.RequestCompleted, kp_v1.RequestFailed, kp_v1.RequestOutcomeUnknown)


class Run:
    """One connection under test plus the bookkeeping the invariants need."""

    def __init__(
        self,
        config: kp_v1.ConnectionConfig | None = None,
        *,
        connection: Any = None,
        reqid_key: str = "reqid",
        ping: Callable[[], Any] = kp_v1.Ping,
    ) -> None:
        # ``connection``/``reqid_key``/``ping``: the v2 target drives a ``V2Connection``.
        self.conn = connection if connection is not None else kp_v1.Connection(config)
        self.reqid_key = reqid_key
        self.ping = ping
        self.now = 1_000.0
        self.sent: list[int] = []  # reqid of every request that went out, in order
        self.ended: dict[int, type[kp.Event]] = {}
        self.subscribe_reqids: dict[str, int] = {}

    # --- driving ------------------------------------------------------------------------

    def step(self, seconds: float = 0.01) -> None:
        self.now += seconds

    def send(self, request: kp.Request) -> int:
        reqid = self.conn.send(request, self.now)
        self.drain()
        return reqid

    def feed(self, frame: str | bytes) -> None:
        """Feed one frame in a scenario's setup (must be accepted)."""
        self.step()
        self.conn.receive_message(frame, self.now)
        self.drain()

    def timeout(self, seconds: float) -> None:
        self.step(seconds)
        self.conn.handle_timeout(self.now)
        self.drain()
        deadline = self.conn.next_deadline()
        require(
            deadline is None or deadline > self.now,
            "next_deadline %s not after handle_timeout(%s)",
            deadline,
            self.now,
        )

    def drain(self) -> None:
        """Collect what went out and what came in; check the events."""
        for text in self.conn.data_to_send():
            require(isinstance(text, str), "data_to_send gave %s", type(text).__name__)
            reqid = json.loads(text).get(self.reqid_key)
            if reqid is not None:
                self.sent.append(reqid)
        for event in self.conn.events_received():
            require(isinstance(event, kp.Event), "events_received gave %s", type(event).__name__)
            _no_token(repr(event), "an event's repr")
            if isinstance(event, _ENDS):
                require(
                    event.reqid not in self.ended,
                    "reqid %s ended twice: %s, then %s",
                    event.reqid,
                    self.ended.get(event.reqid),
                    type(event).__name__,
                )
                self.ended[event.reqid] = type(event)
        _no_token(repr(self.conn), "the connection's repr")

    # --- the fuzzed part ----------------------------------------------------------------

    def receive(self, frame: str | bytes) -> None:
        """Feed one fuzzed frame and check what the state allows."""
        before = self.conn.state
        self.step()
        try:
            self.conn.receive_message(frame, self.now)
        except kp.RemoteProtocolError as error:
            _no_token(f"{error} {error!r}", "a RemoteProtocolError")
            require(before in _OPEN_STATES, "RemoteProtocolError in state %s", before)
            failed = self.conn.state is kp_v1.ConnectionState.FAILED
            require(failed, "after RemoteProtocolError: %s", self.conn.state)
            self.drain()
            self.stays_failed()
            return
        except kp.LocalProtocolError as error:
            _no_token(f"{error} {error!r}", "a LocalProtocolError")
            require(before not in _OPEN_STATES, "LocalProtocolError in state %s: %s", before, error)
            unmoved = self.conn.state is before
            require(unmoved, "refused frame moved %s to %s", before, self.conn.state)
            self.drain()
            return
        require(before in _OPEN_STATES, "receive_message accepted a frame in state %s", before)
        unmoved = self.conn.state is before
        require(unmoved, "receive_message moved %s to %s", before, self.conn.state)
        self.drain()

    def stays_failed(self) -> None:
        """Every call but ``close``, ``connection_lost`` and the drains refuses a failed
        connection, and none of them revives it."""
        calls: list[tuple[str, Callable[[], object]]] = [
            ("receive_message", lambda: self.conn.receive_message('{"event":"pong"}', self.now)),
            ("send", lambda: self.conn.send(self.ping(), self.now)),
            ("handle_timeout", lambda: self.conn.handle_timeout(self.now)),
            ("provide_token", lambda: self.conn.provide_token(TOKEN, self.now)),
            ("connection_made", lambda: self.conn.connection_made(self.now)),
        ]
        for name, call in calls:
            refused = False
            try:
                call()
            except kp.LocalProtocolError as error:
                _no_token(str(error), "a LocalProtocolError")
                refused = True
            require(refused, "%s did not raise on a failed connection", name)
            failed = self.conn.state is kp_v1.ConnectionState.FAILED
            require(failed, "%s moved a failed connection to %s", name, self.conn.state)
        self.conn.close(self.now)
        failed = self.conn.state is kp_v1.ConnectionState.FAILED
        require(failed and not self.conn.next_deadline(), "close() revived a failed connection")
        self.drain()

    def finish(self) -> None:
        """Lose the connection; every request that went out must have ended exactly once."""
        self.conn.connection_lost(self.now)
        self.drain()
        pending = self.conn.pending_requests()
        require(not pending, "pending after connection_lost: %s", pending)
        missing = [reqid for reqid in self.sent if reqid not in self.ended]
        require(not missing, "requests that never ended: %s", missing)
        unknown = set(self.ended) - set(self.sent)
        require(not unknown, "ends for reqids never sent: %s", sorted(unknown))


def _no_token(text: str, where: str) -> None:
    require(TOKEN not in text, "the token appears in %s: %.300r", where, text)


# --- scenarios: each drives a fresh connection into one state --------------------------------

_ACK = (
    '{{"channelName":"{name}","event":"subscriptionStatus","reqid":{reqid},'
    '"status":"subscribed","subscription":{{"name":"{name}"}}}}'
)
_EMPTY_SNAPSHOT = '[[],"{name}",{{"sequence":1}}]'


def _open(config: kp_v1.ConnectionConfig | None = None, *, token: bool = True) -> Run:
    r = Run(config)
    r.conn.connection_made(r.now)
    r.feed(
        '{"connectionID":8628615390848610222,"event":"systemStatus","status":"online",'
        '"version":"1.0.0"}'
    )
    if token:
        r.conn.provide_token(TOKEN, r.now)
        r.drain()
    return r


def _subscribing(config: kp_v1.ConnectionConfig | None = None) -> Run:
    r = _open(config)
    for name in ("openOrders", "ownTrades"):
        r.subscribe_reqids[name] = r.send(kp_v1.Subscribe(name=name))
    return r


def _subscribed(config: kp_v1.ConnectionConfig | None = None) -> Run:
    r = _subscribing(config)
    for name, reqid in r.subscribe_reqids.items():
        r.feed(_ACK.format(name=name, reqid=reqid))
    return r


def _streaming(config: kp_v1.ConnectionConfig | None = None) -> Run:
    r = _subscribed(config)
    for name in ("openOrders", "ownTrades"):
        r.feed(_EMPTY_SNAPSHOT.format(name=name))
    return r


def _orders_pending(r: Run | None = None) -> Run:
    r = r or _streaming()
    volume = Decimal("0.5")
    r.send(
        kp.AddOrder(
            ordertype="limit", type="buy", pair="XBT/USD", volume=volume, price=Decimal("9000")
        )
    )
    r.send(kp.EditOrder(orderid="O26VH7-COEPR-YFYXLK", pair="XBT/USD", price=Decimal("9001")))
    r.send(kp.AmendOrder(txid="OB54AL-OBWL7-YOYRZI", volume=Decimal("0.011")))
    r.send(kp.CancelOrder(txid=("OGTT3Y-C6I3P-XRI6HX", "OGTT3Y-C6I3P-X2I6HX")))
    r.send(kp.CancelAll())
    r.send(kp.CancelAllOrdersAfter(timeout=60))
    r.send(kp_v1.Ping())
    return r


def _idle() -> Run:
    return Run()


def _token_rejected() -> Run:
    r = _subscribing()
    r.feed(
        '{"errorMessage":"ESession:Invalid session","event":"subscriptionStatus","reqid":1,'
        '"status":"error"}'
    )
    return r


def _subscribe_failed() -> Run:
    r = _subscribing()
    r.feed(
        '{"channelName":"ownTrades","errorMessage":"Subscription name invalid",'
        '"event":"subscriptionStatus","reqid":2,"status":"error"}'
    )
    return r


def _subscribe_asked_again() -> Run:
    r = _subscribing()
    r.timeout(11.0)  # no answer: each subscribe is asked once more
    return r


def _subscribe_given_up() -> Run:
    r = _subscribe_asked_again()
    r.timeout(11.0)  # still no answer: FAILED; late acks may still come
    return r


def _timed_out() -> Run:
    r = _orders_pending()
    r.timeout(11.0)  # every request times out; replies now arrive late
    return r


def _resyncing() -> Run:
    r = _streaming()
    r.feed('[[],"openOrders",{"sequence":5}]')  # gap: unsubscribe + subscribe queued
    return r


def _resync_waiting_for_token() -> Run:
    r = _streaming()
    r.feed('{"errorMessage":"EAPI:Invalid token","event":"error"}')  # token dropped
    r.feed('[[],"ownTrades",{"sequence":9}]')  # gap with no token: resync waits
    return r


def _unsubscribing() -> Run:
    r = _streaming()
    r.send(kp_v1.Unsubscribe(name="openOrders"))
    return r


def _closing() -> Run:
    r = _orders_pending()
    r.conn.close(r.now)
    r.drain()
    return r


def _stale() -> Run:
    r = _streaming()
    r.timeout(5.0)  # liveness ping
    r.timeout(5.0)  # no answer: stale, CLOSING
    return r


def _dead_mans_switch() -> Run:
    config = kp_v1.ConnectionConfig(dead_mans_switch_timeout=60, dead_mans_switch_interval=20.0)
    r = _streaming(config)
    r.timeout(20.0)  # re-armed once
    return r


def _maintenance() -> Run:
    r = _streaming()
    r.feed(
        '{"connectionID":8628615390848610222,"event":"systemStatus","status":"maintenance",'
        '"version":"1.0.0"}'
    )
    return r


def _closed() -> Run:
    r = _orders_pending()
    r.conn.connection_lost(r.now)
    r.drain()
    return r


SCENARIOS: tuple[tuple[str, Callable[[], Run]], ...] = (
    ("open, no token", lambda: _open(token=False)),
    ("open, fresh token", _open),
    ("subscriptions pending", _subscribing),
    ("subscribed, awaiting snapshots", _subscribed),
    ("streaming", _streaming),
    ("trading requests pending", _orders_pending),
    ("requests timed out", _timed_out),
    ("resyncing after a gap", _resyncing),
    ("resync waiting for a token", _resync_waiting_for_token),
    ("unsubscribing", _unsubscribing),
    ("closing with requests pending", _closing),
    ("stale", _stale),
    ("dead man's switch armed", _dead_mans_switch),
    ("maintenance", _maintenance),
    ("token rejected", _token_rejected),
    ("subscription failed", _subscribe_failed),
    ("subscribe unanswered, asked again", _subscribe_asked_again),
    ("subscribe unanswered twice", _subscribe_given_up),
    ("closed", _closed),
    ("idle (never opened)", _idle),
)


def run_scenario(scenarios: Sequence[tuple[str, Callable[[], Run]]], data: bytes) -> None:
    """Run the scenario the first byte of ``data`` picks, feed the rest as frames (``T``/``t``:
    a timeout 11 s/1 s later), lose the connection, and check the invariants throughout."""
    if not data:
        return
    _, setup = scenarios[(data[0] & 0x7F) % len(scenarios)]
    as_text = bool(data[0] & 0x80)
    r = setup()
    for frame in split_frames(data[1:]):
        if frame in (b"T", b"t"):
            if r.conn.state is not kp_v1.ConnectionState.FAILED:
                r.timeout(11.0 if frame == b"T" else 1.0)
            continue
        r.receive(frame.decode("utf-8", "surrogateescape") if as_text else frame)
    r.finish()


def check_connection(data: bytes) -> None:
    """The ``connection`` target's check: ``run_scenario`` over the v1 ``SCENARIOS``."""
    run_scenario(SCENARIOS, data)


# --- seeds ---------------------------------------------------------------------------------


def scenario_seeds(
    scenarios: Sequence[tuple[str, Callable[[], Run]]],
    frames: Sequence[bytes],
    request_id: re.Pattern[bytes],
    replacement: bytes,
) -> list[bytes]:
    """Per scenario: ``frames`` in groups of eight, each frame's request id (``request_id``,
    rewritten as ``replacement % id``) aimed in turn at the requests the scenario sent, plus
    two frames with a timeout between them (as text)."""
    out: list[bytes] = []
    for index, (_, setup) in enumerate(scenarios):
        sent = sorted(set(setup().sent)) or [1, 2]
        aimed = [
            request_id.sub(replacement % sent[number % len(sent)], frame)
            for number, frame in enumerate(frames)
        ]
        out.extend(
            bytes([index]) + b"\n".join(aimed[start : start + 8])
            for start in range(0, len(aimed), 8)
        )
        out.append(bytes([index | 0x80]) + b"\n".join([aimed[0], b"T", aimed[1]]))
    return out


def connection_seeds() -> list[bytes]:
    """The ``connection`` target's seeds: ``scenario_seeds`` with the v1 example frames."""
    return scenario_seeds(SCENARIOS, V1_EXAMPLE_FRAMES, re.compile(rb'"reqid":\d+'), b'"reqid":%d')


CONNECTION = FuzzTarget(
    "connection",
    check_connection,
    connection_seeds,
    (
        b'"reqid":1',
        b'"reqid":3',
        b'"reqid":9',
        b'"sequence":2',
        b'"status":"ok"',
        b'"status":"error"',
        b'"status":"unsubscribed"',
        b'"errorMessage":"ESession:Invalid session"',
        b'"channelName":"openOrders"',
        b"\nT\n",
        b"\nt\n",
    ),
    max_len=16384,
)
"""``Connection.receive_message`` in 20 states: the invariants of this module's docstring."""
