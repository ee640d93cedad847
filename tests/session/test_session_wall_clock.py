"""The session's deadlines follow its ``now`` (a monotonic clock); the wall clock, handed in
with ``start(now, wall=...)`` and ``set_wall_clock``, moves only what Kraken reads as unix
time: REST nonces (still strictly increasing when it steps back) and the ``start`` of
``TradesHistory``/``ClosedOrders``."""

from __future__ import annotations

import base64
import itertools
import math
import re
from decimal import Decimal

import pytest
from kraken_proto import (
    AddOrder,
    Credentials,
    HttpCall,
    LocalProtocolError,
    RequestInDoubt,
    RequestNotApplied,
    Session,
)
from kraken_proto.session._wall import WallClock

from tests.session.test_session import SLOW, limit, live, of, outcome, sid

KEY = Credentials(api_key="k" * 56, api_secret=base64.b64encode(bytes(64)).decode())


def _nonces(bodies: list[tuple[str, bytes]]) -> list[int]:
    found = []
    for _purpose, body in bodies:
        match = re.search(rb"nonce=(\d+)", body)
        assert match is not None
        found.append(int(match.group(1)))
    return found


def test_a_wall_clock_step_back_of_1000_s_does_not_delay_a_request_timeout() -> None:
    wire = live(SLOW)
    # The wall clock jumps back 1000 s; the session's now (monotonic) goes on as before.
    wire.session.set_wall_clock(wire.now, wire.now - 1000.0)
    wire.exchange.faults(sid(wire)).reply_delay = 60.0
    sent = wire.now
    handle = wire.session.submit(limit(), wire.now)
    wire.pump()
    deadline = wire.session.next_deadline()
    assert deadline is not None
    assert deadline <= sent + 10.0  # request_timeout, not request_timeout + 1000
    wire.advance(10.5)
    assert [e.handle for e in of(wire, RequestInDoubt)] == [handle]


def test_nonces_keep_increasing_when_the_wall_clock_steps_back() -> None:
    wire = live()
    before = _nonces(wire.rest_bodies)
    wire.session.set_wall_clock(wire.now, wire.now - 1000.0)
    wire.drop()  # the reconnect fetches a token (and reconciles): more REST calls
    wire.advance(30)
    after = _nonces(wire.rest_bodies)
    assert len(after) > len(before)
    assert all(b > a for a, b in itertools.pairwise(after))


def test_start_reads_the_wall_clock_for_nonces_and_the_trades_backfill() -> None:
    session = Session(KEY, seed=b"wall-clock-seed-0")
    session.start(5.0, wall=1_700_000_000.0)
    assert session._fills.started_at == Decimal("1700000000.0")
    (token,) = [a for a in session.actions() if isinstance(a, HttpCall)]
    assert _nonces([("token", token.request.body)]) == [1_700_000_000_000_000]
    deadline = session.next_deadline()
    assert deadline is None or deadline < 1000  # on the session's (monotonic) clock


def test_closed_orders_start_is_wall_time_at_send() -> None:
    wire = live()
    wire.session.set_wall_clock(wire.now, wire.now - 1000.0)
    wire.exchange.faults(sid(wire)).drop_replies = 1
    sent = wire.now
    refused = AddOrder(
        ordertype="limit",
        type="buy",
        pair="XBT/USD",
        volume=Decimal("100000"),
        price=Decimal("29000.0"),
    )
    handle = wire.session.submit(refused, wire.now)
    wire.pump()
    wire.advance(25)
    assert isinstance(outcome(wire, handle), RequestNotApplied)
    (closed,) = [body for purpose, body in wire.rest_bodies if purpose == "ClosedOrders"]
    start = re.search(rb"start=(\d+)", closed)
    assert start is not None
    assert int(start.group(1)) == round(sent - 1000.0 - 300.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf, True, "1"])
def test_a_non_finite_wall_clock_reading_is_refused(bad: object) -> None:
    clock = WallClock()
    with pytest.raises(LocalProtocolError):
        clock.set(0.0, bad)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        clock.set(bad, 0.0)  # type: ignore[arg-type]
    assert clock.wall(2.0) == 2.0
    session = Session(KEY, seed=b"wall-clock-seed-0")
    with pytest.raises(LocalProtocolError):
        session.set_wall_clock(0.0, bad)  # type: ignore[arg-type]
