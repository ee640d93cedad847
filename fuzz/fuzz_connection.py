"""Fuzz ``Connection.receive_message`` in every state the connection can reach.

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
import sys
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``fuzz`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kraken_proto as kp
import kraken_proto.v1 as kp_v1
from tests.v1.fixtures_v1 import REAL_FRAMES

from fuzz._harness import Target, run, split_frames

__all__ = ["SCENARIOS", "TARGET", "TOKEN", "check", "main", "seeds"]

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
        if deadline is not None and deadline <= self.now:
            raise AssertionError(f"next_deadline {deadline} not after handle_timeout({self.now})")

    def drain(self) -> None:
        """Collect what went out and what came in; check the events."""
        for text in self.conn.data_to_send():
            if not isinstance(text, str):
                raise AssertionError(f"data_to_send gave {type(text).__name__}")
            reqid = json.loads(text).get(self.reqid_key)
            if reqid is not None:
                self.sent.append(reqid)
        for event in self.conn.events_received():
            if not isinstance(event, kp.Event):
                raise AssertionError(f"events_received gave {type(event).__name__}")
            _no_token(repr(event), "an event's repr")
            if isinstance(event, _ENDS):
                if event.reqid in self.ended:
                    raise AssertionError(
                        f"reqid {event.reqid} ended twice: {self.ended[event.reqid].__name__}, "
                        f"then {type(event).__name__}"
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
            if before not in _OPEN_STATES:
                raise AssertionError(f"RemoteProtocolError in state {before}") from error
            if self.conn.state is not kp_v1.ConnectionState.FAILED:
                raise AssertionError(f"after RemoteProtocolError: {self.conn.state}") from None
            self.drain()
            self.stays_failed()
            return
        except kp.LocalProtocolError as error:
            _no_token(f"{error} {error!r}", "a LocalProtocolError")
            if before in _OPEN_STATES:
                raise AssertionError(f"LocalProtocolError in state {before}: {error}") from None
            if self.conn.state is not before:
                raise AssertionError(f"refused frame moved {before} to {self.conn.state}") from None
            self.drain()
            return
        if before not in _OPEN_STATES:
            raise AssertionError(f"receive_message accepted a frame in state {before}")
        if self.conn.state is not before:
            raise AssertionError(f"receive_message moved {before} to {self.conn.state}")
        self.drain()

    def stays_failed(self) -> None:
        calls: list[tuple[str, Callable[[], object]]] = [
            ("receive_message", lambda: self.conn.receive_message('{"event":"pong"}', self.now)),
            ("send", lambda: self.conn.send(self.ping(), self.now)),
            ("handle_timeout", lambda: self.conn.handle_timeout(self.now)),
            ("provide_token", lambda: self.conn.provide_token(TOKEN, self.now)),
            ("connection_made", lambda: self.conn.connection_made(self.now)),
        ]
        for name, call in calls:
            try:
                call()
            except kp.LocalProtocolError as error:
                _no_token(str(error), "a LocalProtocolError")
            else:
                raise AssertionError(f"{name} did not raise on a failed connection")
            if self.conn.state is not kp_v1.ConnectionState.FAILED:
                raise AssertionError(f"{name} moved a failed connection to {self.conn.state}")
        self.conn.close(self.now)
        if self.conn.state is not kp_v1.ConnectionState.FAILED or self.conn.next_deadline():
            raise AssertionError("close() revived a failed connection")
        self.drain()

    def finish(self) -> None:
        """Lose the connection; every request that went out must have ended exactly once."""
        self.conn.connection_lost(self.now)
        self.drain()
        if self.conn.pending_requests():
            raise AssertionError(f"pending after connection_lost: {self.conn.pending_requests()}")
        missing = [reqid for reqid in self.sent if reqid not in self.ended]
        if missing:
            raise AssertionError(f"requests that never ended: {missing}")
        unknown = set(self.ended) - set(self.sent)
        if unknown:
            raise AssertionError(f"ends for reqids never sent: {sorted(unknown)}")


def _no_token(text: str, where: str) -> None:
    if TOKEN in text:
        raise AssertionError(f"the token appears in {where}: {text[:300]!r}")


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


def check(data: bytes) -> None:
    """Run the scenario the first byte picks, feed the rest as frames, check the invariants."""
    if not data:
        return
    _, setup = SCENARIOS[(data[0] & 0x7F) % len(SCENARIOS)]
    as_text = bool(data[0] & 0x80)
    r = setup()
    for frame in split_frames(data[1:]):
        if frame == b"T":
            if r.conn.state is not kp_v1.ConnectionState.FAILED:
                r.timeout(11.0)
            continue
        if frame == b"t":
            if r.conn.state is not kp_v1.ConnectionState.FAILED:
                r.timeout(1.0)
            continue
        r.receive(frame.decode("utf-8", "surrogateescape") if as_text else frame)
    r.finish()


# --- seeds ---------------------------------------------------------------------------------

_REQID = re.compile(rb'"reqid":\d+')


def _frames_for(pending: Sequence[int]) -> Iterator[bytes]:
    """Every fixture frame, its reqid rewritten to one of ``pending`` in turn."""
    for index, frame in enumerate(REAL_FRAMES):
        if pending:
            reqid = pending[index % len(pending)]
            frame = _REQID.sub(b'"reqid":%d' % reqid, frame)
        yield frame


def seeds() -> list[bytes]:
    """Per scenario: the fixture frames (reqids aimed at its requests) in groups of eight,
    plus a timeout between frames."""
    out: list[bytes] = []
    for index, (_, setup) in enumerate(SCENARIOS):
        pending = sorted(set(setup().sent)) or [1, 2]
        frames = list(_frames_for(pending))
        out.extend(
            bytes([index]) + b"\n".join(frames[start : start + 8])
            for start in range(0, len(frames), 8)
        )
        out.append(bytes([index | 0x80]) + b"\n".join([frames[0], b"T", frames[1]]))
    return out


TARGET = Target(
    "connection",
    check,
    seeds,
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


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
