"""Fuzz ``kraken_proto.v2.V2Connection.receive_message`` in the states it can reach.

The same input layout and invariants as ``fuzz_connection.py`` (v1), which this target reuses:
byte 0 picks a scenario (bit 7: frames as ``str``), the rest is frames split on ``\\n``
(``T``/``t``: ``handle_timeout`` 11 s/1 s later). In OPEN or CLOSING, ``receive_message``
returns or raises ``RemoteProtocolError``; a failed connection stays failed; only ``Event``
objects come out; the token is in no exception message or repr; every request that went out
(``req_id``) ends exactly once.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Literal

if __package__ in (None, ""):  # run as a script: make ``fuzz`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kraken_proto.v1 as kp_v1
from kraken_proto import v2
from tests.v2.fixtures_v2 import REAL_FRAMES

from fuzz._harness import Target, run, split_frames
from fuzz.fuzz_connection import TOKEN, Run

__all__ = ["SCENARIOS", "TARGET", "check", "main", "seeds"]

_STATUS = (
    '{"channel":"status","data":[{"api_version":"v2","connection_id":1383477438020003277,'
    '"system":"online","version":"2.0.0"}],"type":"update"}'
)
_ACK = '{{"method":"subscribe","req_id":{reqid},"result":{{"channel":"{name}"}},"success":true}}'
_SNAPSHOT = '{{"channel":"{name}","type":"snapshot","data":[],"sequence":1}}'
_CHANNELS: tuple[Literal["executions", "balances"], ...] = ("executions", "balances")


def _new(config: v2.V2ConnectionConfig | None = None) -> Run:
    return Run(connection=v2.V2Connection(config), reqid_key="req_id", ping=v2.Ping)


def _open(*, token: bool = True, config: v2.V2ConnectionConfig | None = None) -> Run:
    r = _new(config)
    r.conn.connection_made(r.now)
    r.feed(_STATUS)
    if token:
        r.conn.provide_token(TOKEN, r.now)
        r.drain()
    return r


def _subscribing(config: v2.V2ConnectionConfig | None = None) -> Run:
    r = _open(config=config)
    for name in _CHANNELS:
        r.subscribe_reqids[name] = r.send(v2.Subscribe(channel=name))
    return r


def _streaming(config: v2.V2ConnectionConfig | None = None) -> Run:
    r = _subscribing(config)
    for name, reqid in r.subscribe_reqids.items():
        r.feed(_ACK.format(name=name, reqid=reqid))
        r.feed(_SNAPSHOT.format(name=name))
    return r


def _orders_pending(r: Run | None = None) -> Run:
    r = r or _streaming()
    r.send(
        v2.AddOrder(
            order_type="limit",
            side="buy",
            symbol="BTC/USD",
            order_qty=Decimal("0.5"),
            limit_price=Decimal("9000"),
        )
    )
    r.send(v2.CancelOrder(order_id=("OLUMT4-UTEGU-ZYM7E9", "OM5CRX-N2HAL-GFGWE9")))
    r.send(v2.CancelAll())
    r.send(v2.CancelAllOrdersAfter(timeout=60))
    r.send(v2.Ping())
    return r


def _timed_out() -> Run:
    r = _orders_pending()
    r.timeout(11.0)
    return r


def _resyncing() -> Run:
    r = _streaming()
    r.feed('{"channel":"executions","type":"update","data":[],"sequence":5}')
    return r


def _closing() -> Run:
    r = _orders_pending()
    r.conn.close(r.now)
    r.drain()
    return r


def _stale() -> Run:
    r = _streaming()
    r.timeout(5.0)
    r.timeout(5.0)
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
    ("streaming", _streaming),
    ("trading requests pending", _orders_pending),
    ("requests timed out", _timed_out),
    ("resyncing after a gap", _resyncing),
    ("closing with requests pending", _closing),
    ("stale", _stale),
    ("closed", _closed),
    ("idle (never opened)", _new),
)


def check(data: bytes) -> None:
    """Run the scenario the first byte picks, feed the rest as frames, check the invariants."""
    if not data:
        return
    _, setup = SCENARIOS[(data[0] & 0x7F) % len(SCENARIOS)]
    as_text = bool(data[0] & 0x80)
    r = setup()
    for frame in split_frames(data[1:]):
        if frame in (b"T", b"t"):
            if r.conn.state is not kp_v1.ConnectionState.FAILED:
                r.timeout(11.0 if frame == b"T" else 1.0)
            continue
        r.receive(frame.decode("utf-8", "surrogateescape") if as_text else frame)
    r.finish()


_REQID = re.compile(rb'"req_id":\d+')


def _frames_for(sent: Sequence[int]) -> Iterator[bytes]:
    for index, frame in enumerate(REAL_FRAMES):
        if sent:
            frame = _REQID.sub(b'"req_id":%d' % sent[index % len(sent)], frame)
        yield frame


def seeds() -> list[bytes]:
    """Per scenario: the v2 fixture frames (req_ids aimed at its requests) in groups of eight,
    plus a timeout between frames."""
    out: list[bytes] = []
    for index, (_, setup) in enumerate(SCENARIOS):
        frames = list(_frames_for(sorted(set(setup().sent)) or [1, 2]))
        out.extend(
            bytes([index]) + b"\n".join(frames[start : start + 8])
            for start in range(0, len(frames), 8)
        )
        out.append(bytes([index | 0x80]) + b"\n".join([frames[0], b"T", frames[1]]))
    return out


TARGET = Target(
    "connection_v2",
    check,
    seeds,
    (
        b'"req_id":1',
        b'"req_id":3',
        b'"sequence":2',
        b'"success":true',
        b'"success":false',
        b'"error":"ESession:Invalid session"',
        b'"type":"snapshot"',
        b'"channel":"executions"',
        b'"method":"unsubscribe"',
        b"\nT\n",
    ),
    max_len=16384,
)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
