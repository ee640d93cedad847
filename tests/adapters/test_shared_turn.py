"""The key's turn to send (``SharedNonceSource.acquire``/``release``): two sessions on one API
key never have a request overtaken on the way to Kraken, so neither gets ``EAPI:Invalid
nonce`` (found by ``benchmarks/soak.py --processes``; Kraken checks nonces in arrival order)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from kraken_proto import Credentials, HttpCall, Session
from kraken_proto.adapters.journal import SharedNonceSource, SharedStateError
from kraken_proto.adapters.simulator.model.exchange import Exchange, SimulatorConfig

pytestmark = pytest.mark.timeout(30)

START = 1_700_000_000.0
SIM = SimulatorConfig()
CREDENTIALS = Credentials(api_key=SIM.api_key, api_secret=SIM.api_secret)


def test_one_source_at_a_time_holds_the_turn(tmp_path: Path) -> None:
    with (
        SharedNonceSource(tmp_path, SIM.api_key) as first,
        SharedNonceSource(tmp_path, SIM.api_key) as second,
    ):
        assert first.acquire()
        assert first.acquire()  # held already
        assert not second.acquire()
        second.release()  # not held: nothing to give back
        assert not second.acquire()
        first.release()
        assert second.acquire()
        assert not first.acquire()
        second.close()  # dying with the turn gives it back
        assert first.acquire()
        with pytest.raises(SharedStateError):
            second.acquire()
    assert (tmp_path / first.path.with_suffix(".turn").name).exists()


def test_another_key_has_its_own_turn(tmp_path: Path) -> None:
    with (
        SharedNonceSource(tmp_path, SIM.api_key) as first,
        SharedNonceSource(tmp_path, "another-key") as other,
    ):
        assert first.acquire()
        assert other.acquire()


def _http(session: Session) -> list[HttpCall]:
    return [a for a in session.actions() if isinstance(a, HttpCall)]


def _answer(exchange: Exchange, session: Session, call: HttpCall, now: float) -> bytes:
    request = call.request
    reply = exchange.handle_rest(
        method=request.method,
        path=request.path,
        headers=dict(request.headers),
        body=request.body,
        now=now,
    )
    session.rest_response(call.call, reply.status, reply.body, now)
    return reply.body


def _two_sessions(tmp_path: Path, source: type[SharedNonceSource]) -> tuple[Session, Session]:
    sessions = []
    for n in range(2):
        nonces = source(tmp_path, SIM.api_key)
        sessions.append(Session(CREDENTIALS, seed=b"turn-session-%d" % n, nonces=nonces))
    return sessions[0], sessions[1]


def test_the_second_session_waits_for_the_first_answer(tmp_path: Path) -> None:
    exchange = Exchange(SIM, rng=random.Random(0), now=START)
    first, second = _two_sessions(tmp_path, SharedNonceSource)
    first.start(START)
    (token_a,) = _http(first)
    second.start(START)
    assert not _http(second)  # the first one's request is out: no nonce drawn yet
    wake = second.next_deadline()
    assert wake is not None
    assert wake == pytest.approx(START + 0.02)
    second.handle_timeout(wake)
    assert not _http(second)
    assert b'"error":[]' in _answer(exchange, first, token_a, START + 0.05)
    second.handle_timeout(START + 0.07)
    (token_b,) = _http(second)
    assert b'"error":[]' in _answer(exchange, second, token_b, START + 0.08)


def test_without_the_turn_a_request_can_be_overtaken(tmp_path: Path) -> None:
    # What the turn prevents: both draw in order, the later nonce arrives first.
    class NoTurn(SharedNonceSource):
        def acquire(self) -> bool:
            return True

    exchange = Exchange(SIM, rng=random.Random(0), now=START)
    first, second = _two_sessions(tmp_path, NoTurn)
    first.start(START)
    second.start(START)
    (token_a,) = _http(first)
    (token_b,) = _http(second)
    assert b'"error":[]' in _answer(exchange, second, token_b, START + 0.01)
    assert b"EAPI:Invalid nonce" in _answer(exchange, first, token_a, START + 0.02)
