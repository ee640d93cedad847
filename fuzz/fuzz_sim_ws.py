"""Fuzz the simulator's WebSocket request handling (``Exchange.receive``) with client messages.

Input layout: byte 0 holds flags: bit 0 first subscribes both channels and places orders
(resting, filled, canceled: ``fuzz._sim.SETUP_MESSAGES``), so requests meet a live book;
bit 1 advances the clock 30 s between messages (expiry, the dead man's switch, heartbeats);
bit 2 opens a WebSocket v2 session instead (``/v2``: v2 requests, frames checked with
``kraken_proto.v2.decode``).
The rest is split on ``\\n`` into client text messages; ``$T`` in a message is replaced by a
valid session token.

Invariants:

* ``receive`` never raises;
* every message gets at least one frame back (a reply, an error reply, or a snapshot);
* every frame the simulator sends is one our own ``decode`` (v1 or v2) accepts: the simulator
  speaks Kraken's protocol even to a client speaking nonsense.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``fuzz`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kraken_proto as kp
from kraken_proto import v2
from tests.v1.fixtures_v1 import OUTBOUND
from tests.v2.fixtures_v2 import OUTBOUND as OUTBOUND_V2

from fuzz._harness import Target, run, split_frames
from fuzz._sim import SETUP_MESSAGES, SimRun, new_exchange

__all__ = ["TARGET", "check", "main", "seeds"]

_TOKEN_MARK = b"$T"


_SETUP_V2 = (
    '{"method":"subscribe","params":{"channel":"executions","token":"$T","snap_orders":true,'
    '"snap_trades":true},"req_id":1}',
    '{"method":"subscribe","params":{"channel":"balances","token":"$T"},"req_id":2}',
    '{"method":"add_order","params":{"order_type":"limit","side":"buy","limit_price":20000.0,'
    '"order_qty":0.5,"symbol":"BTC/USD","token":"$T"},"req_id":3}',
    '{"method":"add_order","params":{"order_type":"market","side":"sell","order_qty":0.25,'
    '"symbol":"BTC/USD","token":"$T"},"req_id":4}',
)


def _frames_ok(sim: SimRun, session: int, what: str) -> int:
    """Decode every frame due; return how many there were."""
    frames = sim.exchange.take_outgoing(session, sim.now)
    decode = v2.decode if sim.protocol == "v2" else kp.decode
    for text in frames:
        try:
            decode(text)
        except kp.RemoteProtocolError as error:
            raise AssertionError(f"after {what}: the simulator sent {text!r}: {error}") from None
    return len(frames)


def _receive(sim: SimRun, session: int, message: bytes) -> None:
    text = message.replace(_TOKEN_MARK, sim.token.encode()).decode("utf-8", "replace")
    sim.exchange.receive(session, text, sim.now)
    if _frames_ok(sim, session, f"receive({text[:200]!r})") == 0:
        raise AssertionError(f"no reply to {text[:300]!r}")


def check(data: bytes) -> None:
    """Open a session, optionally trade a little, then send the fuzzed messages."""
    if not data:
        return
    flags = data[0]
    sim = new_exchange()
    sim.protocol = "v2" if flags & 4 else "v1"
    session = sim.exchange.open_session(sim.now, protocol=sim.protocol)
    _frames_ok(sim, session, "open_session")
    if flags & 1:
        for setup_message in _SETUP_V2 if flags & 4 else SETUP_MESSAGES:
            _receive(sim, session, setup_message.encode())
    step = 30.0 if flags & 2 else 0.01
    for message in split_frames(data[1:]):
        sim.now += step
        sim.exchange.advance(sim.now)
        _frames_ok(sim, session, "advance")
        _receive(sim, session, message)
    sim.now += 120.0
    sim.exchange.advance(sim.now)
    _frames_ok(sim, session, "the last advance")


def seeds() -> list[bytes]:
    """Every documented client frame (token replaced by ``$T``), with and without setup, plus
    messages Kraken answers with errors."""
    documented = []
    for text, _, _request, kwargs in OUTBOUND:
        token = kwargs.get("token")
        documented.append(text.replace(token, "$T").encode() if token else text.encode())
    bad = [
        b"not json",
        b"[]",
        b'{"event":"nope"}',
        b'{"reqid":1}',
        b'{"event":"ping","reqid":"a"}',
        b'{"event":"ping","reqid":18446744073709551616}',
        b'{"event":"subscribe","subscription":{"name":"ownTrades"}}',
        b'{"event":"subscribe","pair":["XBT/USD"],"subscription":{"name":"ownTrades","token":"$T"}}',
        b'{"event":"addOrder","token":"$T","ordertype":"limit","pair":"XBT/USD","type":"buy",'
        b'"volume":"abc","price":"1"}',
        b'{"event":"addOrder","token":"bad","ordertype":"limit","pair":"XBT/USD","type":"buy",'
        b'"volume":"1","price":"1"}',
        b'{"event":"cancelOrder","token":"$T","txid":"OAAAAA-BBBBB-CCCCCC"}',
        b'{"event":"editOrder","token":"$T","orderid":"OAAAAA-BBBBB-CCCCCC","pair":"XBT/USD"}',
        b'{"event":"amendOrder","token":"$T","cl_ord_id":"x","limit_price":"1e999"}',
        b'{"event":"cancelAllOrdersAfter","token":"$T","timeout":"x"}',
    ]
    out = [bytes([flags]) + message for message in documented for flags in (0, 1)]
    out += [b"\x00" + message for message in bad]
    out.append(b"\x03" + b"\n".join(documented))
    out.append(b"\x01" + b"\n".join(bad))
    documented_v2 = []
    for text, _, _request, kwargs in OUTBOUND_V2:
        token = kwargs.get("token")
        documented_v2.append(text.replace(token, "$T").encode() if token else text.encode())
    out += [bytes([flags]) + message for message in documented_v2 for flags in (4, 5)]
    out.append(b"\x07" + b"\n".join(documented_v2))
    out += [b"\x04" + message for message in bad]
    return out


TARGET = Target(
    "sim_ws",
    check,
    seeds,
    (
        b'"token":"$T"',
        b'"event":"addOrder"',
        b'"event":"editOrder"',
        b'"event":"amendOrder"',
        b'"event":"cancelOrder"',
        b'"event":"cancelAll"',
        b'"event":"cancelAllOrdersAfter"',
        b'"event":"subscribe"',
        b'"event":"unsubscribe"',
        b'"ordertype":"stop-loss-limit"',
        b'"oflags":"post,fciq"',
        b'"timeinforce":"IOC"',
        b'"starttm":"+5"',
        b'"expiretm":"+10"',
        b'"reqid":',
        b'"pair":"ETH/USD"',
    ),
    max_len=8192,
)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
