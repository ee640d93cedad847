"""The session's parts on their own: the lifecycle's transition table, the request tracker
waiting for a usable token, the link interface's answers over v1 and v2, and no secret in any
part."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest
from kraken_proto import (
    AddOrder,
    CancelOrder,
    CloseConnection,
    LocalProtocolError,
    RequestInDoubt,
    RequestRefused,
    Session,
    SessionConfig,
    SessionFailed,
    SessionState,
)
from kraken_proto._orders import OrderTable
from kraken_proto.rest import Credentials, NonceSource, RestCallCounter
from kraken_proto.session import V1Link, V2Link, open_link
from kraken_proto.session._context import SessionContext
from kraken_proto.session._lifecycle import SESSION_TRANSITIONS, Lifecycle, SessionTrigger
from kraken_proto.session._requests import RequestTracker
from kraken_proto.session._rest import RestQueue
from kraken_proto.session._seed import SeededStream
from kraken_proto.v1 import ConnectionConfig, Subscribe, TokenState

from tests.session.session_wire import Wire
from tests.state import fields

NOW = 1_700_000_000.0
TOKEN = "G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY"


def context() -> SessionContext:
    rest = RestQueue(
        counter=RestCallCounter("starter"), nonces=NonceSource(), retry_delay=1.0, retry_max=2.0
    )
    credentials = Credentials(api_key="key", api_secret=base64.b64encode(bytes(64)).decode())
    return SessionContext(
        config=SessionConfig(), credentials=credentials, rest=rest, actions=[], events=[]
    )


def limit(**fields: Any) -> AddOrder:
    base: dict[str, Any] = {
        "ordertype": "limit",
        "type": "buy",
        "pair": "XBT/USD",
        "volume": Decimal("0.01"),
        "price": Decimal("29000.0"),
    }
    return AddOrder(**{**base, **fields})


def state(holder: Session | Lifecycle) -> SessionState:
    """The state now (a call, so the type checker does not carry a narrowed one along)."""
    return holder.state


# --- the lifecycle ----------------------------------------------------------------------------


def test_the_table_reaches_every_state_and_nothing_leaves_closed_or_failed() -> None:
    reached = {SessionState.IDLE} | set(SESSION_TRANSITIONS.values())
    assert reached == set(SessionState)
    left = {state for state, _ in SESSION_TRANSITIONS}
    assert SessionState.CLOSED not in left
    assert SessionState.FAILED not in left


def test_an_illegal_transition_is_a_clear_error_and_changes_nothing() -> None:
    life = Lifecycle(context(), SeededStream(b"lifecycle-seed"))
    with pytest.raises(LocalProtocolError, match="subscribed_and_reconciled is not allowed"):
        life.fire(SessionTrigger.SYNCED)
    assert life.state is SessionState.IDLE
    assert not life.stopped
    life.fire(SessionTrigger.CLOSE)
    assert (life.state, life.stopped) == (SessionState.CLOSING, True)
    with pytest.raises(
        LocalProtocolError, match="start is not allowed when the session is closing"
    ):
        life.begin_attempt(SessionTrigger.START, NOW)
    assert state(life) is SessionState.CLOSING


def test_a_failed_session_stays_failed_when_an_old_socket_closes() -> None:
    """An attempt waiting for a closing socket must not start once the session has failed."""
    wire = Wire(config=SessionConfig(connection=ConnectionConfig(liveness_timeout=60.0)))
    session = wire.session
    session.start(wire.now)
    session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    assert state(session) is SessionState.LIVE
    wire.exchange.faults(next(iter(wire.sid_of.values()))).reply_delay = 60.0
    session.submit(CancelOrder(txid=("OUNKNO-WNORD-ERXXXX",)), wire.now)
    wire.pump()
    wire.hold_rest = True
    wire.advance(21)  # timed out, then the grace is over: a REST lookup is held
    assert any(isinstance(event, RequestInDoubt) for event in wire.events)
    (lookup,) = wire.held
    (conn,) = wire.sid_of
    session.receive_message(conn, "not json", wire.now)  # invalid frame: close and reconnect
    closes = [a for a in session.actions() if isinstance(a, CloseConnection)]
    assert [a.conn for a in closes] == [conn]  # the adapter has not closed it yet
    session.handle_timeout(wire.now)  # the first retry is at once: it waits for the close
    assert state(session) is SessionState.CONNECTING
    assert session.actions() == []
    invalid_key = json.dumps({"error": ["EAPI:Invalid key"], "result": {}}).encode()
    session.rest_response(lookup.call, 200, invalid_key, wire.now)
    assert state(session) is SessionState.FAILED
    assert any(isinstance(event, SessionFailed) for event in session.events())
    session.actions()
    session.connection_lost(conn, wire.now)
    assert state(session) is SessionState.FAILED
    assert session.actions() == []
    assert session.next_deadline() is None


# --- the request tracker ----------------------------------------------------------------------


def test_a_queued_request_waits_while_the_link_has_no_usable_token() -> None:
    shared = context()
    tracker = RequestTracker(shared, OrderTable())
    (handle,) = tracker.queue([limit(cl_ord_id="wait-for-token")], batch=False)
    link = V1Link()
    link.connection_made(NOW)
    assert link.token_state is TokenState.NONE
    assert tracker.send_queued(link, NOW) is False
    assert list(tracker.queued) == [handle]
    assert link.data_to_send() == []
    assert shared.events == []


# --- the link interface -----------------------------------------------------------------------


def status_frame(status: str) -> str:
    return json.dumps(
        {"event": "systemStatus", "status": status, "connectionID": 1, "version": "1.9.1"}
    )


def test_v1_sends_a_batch_row_by_row_and_refuses_only_the_rows_it_cannot_send() -> None:
    link = open_link("v1")
    assert isinstance(link, V1Link)
    link.connection_made(NOW)
    link.provide_token(TOKEN, NOW)
    link.receive_message(status_frame("post_only"), NOW)
    post = limit(oflags=frozenset({"post"}), cl_ord_id="row-post")
    market = AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal("0.01"))
    placed, refused = link.send_batch([post, market], NOW)
    assert isinstance(placed, int)
    assert isinstance(refused, LocalProtocolError)
    assert "post_only" in str(refused)
    (message,) = link.data_to_send()
    assert json.loads(message)["event"] == "addOrder"


def test_a_v1_batch_in_post_only_places_the_post_only_row_and_refuses_the_other() -> None:
    wire = Wire()
    session = wire.session
    session.start(wire.now)
    session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    wire.exchange.set_system_status("post_only", wire.now)
    wire.pump()
    post = limit(oflags=frozenset({"post"}), price=Decimal("1000"))
    market = AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal("0.01"))
    first, second = session.submit_batch([post, market], wire.now)
    refused = [e for e in session.events() if isinstance(e, RequestRefused)]
    assert [e.handle for e in refused] == [second]
    assert "refused before sending" in refused[0].error.text
    assert list(session.pending()) == [first]


def test_each_link_says_whether_it_reports_every_fill() -> None:
    v1 = open_link("v1")
    assert v1.reports_unconsolidated_fills is False  # no ownTrades yet
    v1.connection_made(NOW)
    v1.provide_token(TOKEN, NOW)
    v1.send(Subscribe(name="ownTrades"), NOW)
    assert v1.reports_unconsolidated_fills is False  # Kraken consolidates by default
    every = V1Link()
    every.connection_made(NOW)
    every.provide_token(TOKEN, NOW)
    every.send(Subscribe(name="ownTrades", consolidate_taker=False), NOW)
    assert every.reports_unconsolidated_fills is True
    v2 = open_link("v2")
    assert isinstance(v2, V2Link)
    assert v2.reports_unconsolidated_fills is True


# --- secrets ----------------------------------------------------------------------------------


def test_no_secret_or_token_in_any_part_of_a_session() -> None:
    wire = Wire()
    session = wire.session
    session.start(wire.now)
    session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.pump()
    secret = wire.exchange.config.api_secret
    parts = [
        part
        for part in fields(session).values()
        if hasattr(part, "__dict__") or type(part).__module__.startswith("kraken_proto.session")
    ]
    assert len(parts) >= 6
    text = " ".join(repr(fields(part)) for part in parts)
    assert secret not in text
    assert secret[:20] not in text
    for token in wire.exchange._tokens._tokens:
        assert token not in text
