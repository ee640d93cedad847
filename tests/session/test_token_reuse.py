"""The session keeps its WebSocket token across connections while it is safely young
(``SessionConfig.token_reuse_for``): a reconnect then costs no ``GetWebSocketsToken`` call.

A token is young while it was fetched less than ``token_reuse_for`` seconds ago (and its
connection, if it had one, got its private subscription acknowledged). A reused token
the server rejects is dropped and the next attempt fetches a fresh one; so is one that a
connection held without its subscription being acknowledged. After an auth or permission
failure no token is reused again.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kraken_proto import (
    HttpCall,
    LocalProtocolError,
    OpenConnection,
    Reconnecting,
    SendMessages,
    SessionConfig,
    SessionState,
)
from kraken_proto.v1 import ConnectionConfig, Subscribe

from tests.session.session_wire import Wire
from tests.session.test_session import limit, live, of

TOKEN_CALL = "GetWebSocketsToken"


def fetches(wire: Wire) -> int:
    return wire.rest_calls.count(TOKEN_CALL)


def test_a_reconnect_within_the_age_reuses_the_token() -> None:
    wire = live()
    assert (fetches(wire), wire.opens) == (1, 1)
    for _ in range(3):
        wire.drop()
        wire.settle()
        assert wire.session.state is SessionState.LIVE
    assert (fetches(wire), wire.opens) == (1, 4)


def test_the_reused_token_opens_the_connection_at_once() -> None:
    wire = live()
    wire.exchange.close_session(wire.current_sid() or 0, wire.now)
    (conn,) = wire.sid_of
    del wire.sid_of[conn]
    wire.session.connection_lost(conn, wire.now)
    # Retry 1 starts at once: with a young token the attempt asks for the socket, no REST.
    wire.session.handle_timeout(wire.now)
    actions = wire.session.actions()
    assert any(isinstance(a, OpenConnection) for a in actions)
    assert not any(isinstance(a, HttpCall) and a.purpose == TOKEN_CALL for a in actions)
    for action in actions:
        wire._do(action)
    wire.pump()
    wire.settle()
    assert wire.session.state is SessionState.LIVE
    assert fetches(wire) == 1


def test_a_token_older_than_the_age_is_fetched_again() -> None:
    # The connection ends at t0; opening fails twice, so the third attempt starts ~6 s later,
    # when the kept token is older than token_reuse_for.
    wire = live(SessionConfig(token_reuse_for=2.0))
    wire.fail_opens = 2
    wire.drop()
    wire.settle()
    assert wire.session.state is SessionState.LIVE
    # Attempts 1 and 2 (at once, then ~1 s) reused the token; attempt 3 (~6 s) fetched.
    assert (wire.opens, fetches(wire)) == (4, 2)
    assert wire.attempt_times[-1] - wire.attempt_times[1] > 2.0


def test_a_bound_token_ages_from_its_fetch_not_from_its_connection() -> None:
    """Kraken documents a token as usable for 15 minutes from its creation; that a connection
    held it says nothing once the connection is gone."""
    wire = live(SessionConfig(token_reuse_for=20.0))
    wire.advance(30.0)  # held by a live connection, but fetched 30 s ago: too old
    wire.drop()
    wire.settle()
    assert wire.session.state is SessionState.LIVE
    assert fetches(wire) == 2


def test_a_rejected_reused_token_is_dropped_and_a_fresh_one_fetched() -> None:
    wire = live()
    wire.exchange.invalidate_tokens()
    wire.drop()
    wire.settle()
    assert wire.session.state is SessionState.LIVE
    assert fetches(wire) == 2
    reasons = [event.reason for event in of(wire, Reconnecting)]
    assert len(reasons) == 2
    assert "rejected the session token" in reasons[1]
    # The fresh token is kept in turn.
    wire.drop()
    wire.settle()
    assert (wire.session.state, fetches(wire)) == (SessionState.LIVE, 2)


def test_a_rejected_fresh_token_follows_the_usual_path() -> None:
    wire = live()
    wire.exchange.invalidate_tokens()
    handle = wire.session.submit(limit(), wire.now)
    wire.pump()
    wire.settle()
    assert wire.session.state is SessionState.LIVE
    assert handle is not None
    # The rejected token (held, bound) is not kept: the reconnect fetched once.
    assert fetches(wire) == 2


def test_a_reused_token_never_bound_on_its_connection_is_not_reused_again() -> None:
    wire = live()
    wire.drop()
    wire.session.handle_timeout(wire.now)  # retry 1: at once, with the kept token
    (opening,) = [a for a in wire.session.actions() if isinstance(a, OpenConnection)]
    # The socket opens but nothing answers its subscriptions before it is lost: the reused
    # token was never bound there (it may have been refused, for all the session knows).
    wire.session.connection_made(opening.conn, wire.now)
    assert any(isinstance(a, SendMessages) for a in wire.session.actions())
    wire.session.connection_lost(opening.conn, wire.now)
    assert fetches(wire) == 1
    wire.settle()
    assert wire.session.state is SessionState.LIVE
    assert fetches(wire) == 2


def test_a_fetched_token_whose_connection_never_opened_is_used_by_the_next_attempt() -> None:
    wire = Wire()
    wire.fail_opens = 1
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    wire.settle()
    assert wire.session.state is SessionState.LIVE
    assert (fetches(wire), wire.opens) == (1, 2)


def test_zero_disables_reuse() -> None:
    wire = live(SessionConfig(token_reuse_for=0))
    wire.drop()
    wire.settle()
    wire.fail_opens = 1
    wire.drop()
    wire.settle()
    assert wire.session.state is SessionState.LIVE
    assert fetches(wire) == 4  # the first, one per reconnect, one after the failed open


def test_the_age_is_capped_by_the_connection_token_ttl() -> None:
    config = SessionConfig(
        token_reuse_for=600.0, connection=ConnectionConfig(token_ttl=2.0, request_timeout=1.0)
    )
    wire = Wire(config=config)
    wire.fail_opens = 3  # the fourth attempt starts ~6 s after the token was fetched
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    wire.settle()
    assert wire.session.state is SessionState.LIVE
    assert fetches(wire) == 2


def _permission_denied(wire: Wire) -> None:
    """An order refused with ``EGeneral:Permission denied`` on the WebSocket."""
    faults = wire.exchange.faults(wire.current_sid() or 0)
    faults.drop_replies = 1
    wire.session.submit(limit(), wire.now)
    actions = wire.session.actions()
    (send,) = [a for a in actions if isinstance(a, SendMessages)]
    reqid = json.loads(str(send.messages[-1]))["reqid"]
    for action in actions:
        wire._do(action)
    wire.pump()
    reply = {
        "errorMessage": "EGeneral:Permission denied",
        "event": "addOrderStatus",
        "reqid": reqid,
        "status": "error",
    }
    wire.session.receive_message(send.conn, json.dumps(reply), wire.now)
    wire.pump()


def test_no_token_is_reused_after_a_permission_failure() -> None:
    wire = live()
    _permission_denied(wire)
    wire.drop()
    wire.settle()
    assert fetches(wire) == 2
    wire.drop()
    wire.settle()
    assert wire.session.state is SessionState.LIVE
    assert fetches(wire) == 3  # nor the ones fetched after it


@pytest.mark.parametrize("value", [-1.0, float("inf"), float("nan"), True, "600"])
def test_token_reuse_for_must_be_a_finite_number_at_least_zero(value: Any) -> None:
    with pytest.raises(LocalProtocolError, match="token_reuse_for"):
        SessionConfig(token_reuse_for=value)
