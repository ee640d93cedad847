"""Unit tests of ``Session``: one behaviour each, against the exchange model in memory."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pytest
from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    CloseConnection,
    Connected,
    EditOrder,
    FillReceived,
    HttpCall,
    LocalProtocolError,
    OpenConnection,
    OrdersChanged,
    Reconnected,
    Reconnecting,
    RequestAccepted,
    RequestApplied,
    RequestInDoubt,
    RequestNotApplied,
    RequestRefused,
    RequestUnresolved,
    SendMessages,
    Session,
    SessionClosed,
    SessionConfig,
    SessionEvent,
    SessionFailed,
    SessionState,
    SubscriptionReady,
    SystemStatusChanged,
)
from kraken_proto.v1 import ConnectionConfig, Ping, Subscribe

from tests.session.session_wire import Wire
from tests.state import fields

PRICE = Decimal("30000.0")


def limit(side: str = "buy", price: Decimal = Decimal("29000.0"), **extra: Any) -> AddOrder:
    return AddOrder(
        ordertype="limit",
        type="buy" if side == "buy" else "sell",
        pair="XBT/USD",
        volume=Decimal("0.01"),
        price=price,
        **extra,
    )


def live(config: SessionConfig | None = None, *, snapshot: bool = True) -> Wire:
    wire = Wire(config=config)
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="ownTrades", snapshot=snapshot), wire.now)
    wire.session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    assert wire.session.state is SessionState.LIVE
    return wire


def of(wire: Wire, cls: type[SessionEvent]) -> list[Any]:
    return [event for event in wire.events if isinstance(event, cls)]


def outcome(wire: Wire, handle: int) -> Any:
    (found,) = [
        e
        for e in wire.events
        if getattr(e, "handle", None) == handle and not isinstance(e, RequestInDoubt)
    ]
    return found


def sid(wire: Wire) -> int:
    current = wire.current_sid()
    assert current is not None
    return current


# --- lifecycle and misuse ---------------------------------------------------------------------


def test_start_subscribe_and_go_live() -> None:
    wire = live()
    session = wire.session
    assert [type(e) for e in wire.events] == [
        SystemStatusChanged,
        SubscriptionReady,
        SubscriptionReady,
        Connected,
    ]
    assert session.connection_attempts == 1
    assert session.connection is not None
    assert "state=LIVE" in repr(session)
    assert len(session.orders) == 0
    assert len(session.fills) == 0
    assert session.pending() == {}


def test_misuse_raises() -> None:
    wire = Wire()
    session = wire.session
    with pytest.raises(LocalProtocolError):
        Session("key", seed=b"12345678")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="Subscribe"):
        session.subscribe(Ping(), 0.0)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="trading request"):
        session.submit(Subscribe(name="ownTrades"), 0.0)
    with pytest.raises(LocalProtocolError, match="userref"):
        session.submit(limit(userref=5), 0.0)
    for handle in (0, 1, True, "1"):
        with pytest.raises(LocalProtocolError, match="unknown handle"):
            session.withdraw(handle, 0.0)  # type: ignore[arg-type]
    session.start(wire.now)
    with pytest.raises(LocalProtocolError, match="not idle"):
        session.start(wire.now)


def test_requests_wait_for_a_connection_and_may_be_withdrawn() -> None:
    wire = Wire()
    session = wire.session
    kept = session.submit(limit(), wire.now)
    dropped = session.submit(limit(cl_ord_id="mine-1"), wire.now)
    assert session.pending()[dropped].cl_ord_id == "mine-1"  # type: ignore[attr-defined]
    assert session.withdraw(dropped, wire.now)
    assert not session.withdraw(dropped, wire.now)
    wire.events.extend(session.events())
    assert outcome(wire, dropped) == (
        RequestNotApplied(handle=dropped, request=limit(cl_ord_id="mine-1"), via="withdrawn")
    )
    session.start(wire.now)
    session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    assert isinstance(outcome(wire, kept), RequestAccepted)
    assert not session.withdraw(kept, wire.now)


def test_close_ends_requests_and_closes_the_connection() -> None:
    wire = live(SessionConfig(connection=ConnectionConfig(dead_mans_switch_timeout=60)))
    session = wire.session
    wire.exchange.faults(sid(wire)).reply_delay = 5.0
    sent = session.submit(limit(), wire.now)
    wire.pump()
    session.withdraw(sent, wire.now)
    session.close(wire.now)
    actions = session.actions()
    assert isinstance(actions[0], SendMessages)
    assert json.loads(actions[0].messages[-1])["timeout"] == 0  # the switch is disarmed
    assert isinstance(actions[1], CloseConnection)
    assert session.state is SessionState.CLOSING
    for action in actions:
        wire._do(action)
    wire.events.extend(session.events())
    assert isinstance(outcome(wire, sent), RequestUnresolved)
    assert session.state.value == "closed"
    assert isinstance(wire.events[-1], SessionClosed)
    session.close(wire.now)
    assert session.next_deadline() is None
    with pytest.raises(LocalProtocolError, match="closed"):
        session.subscribe(Subscribe(name="ownTrades"), wire.now)
    with pytest.raises(LocalProtocolError, match="closed"):
        session.submit(limit(), wire.now)
    # Inputs after the end are ignored.
    session.handle_timeout(wire.now + 100)
    session.rest_response(1, 200, b"{}", wire.now)
    session.rest_failed(1, "x", wire.now)
    assert session.actions() == []


def test_close_before_start_and_while_connecting() -> None:
    idle = Wire().session
    idle.close(0.0)
    assert idle.state is SessionState.CLOSED
    assert isinstance(idle.events()[-1], SessionClosed)
    wire = Wire()
    session = wire.session
    queued = session.submit(limit(), wire.now)
    session.start(wire.now)
    (token_call,) = session.actions()
    assert isinstance(token_call, HttpCall)
    wire.answer(token_call)
    (open_action,) = session.actions()
    assert isinstance(open_action, OpenConnection)
    session.close(wire.now)
    assert session.actions() == [CloseConnection(conn=open_action.conn)]
    assert isinstance(session.events()[0], RequestNotApplied)
    session.connection_made(open_action.conn, wire.now)  # too late: ignored
    session.connection_lost(open_action.conn, wire.now)
    assert session.state is SessionState.CLOSED
    assert queued not in session.pending()


def test_permanent_rest_error_fails_the_session() -> None:
    wire = Wire()
    wire.exchange.config.websocket_permission = False
    session = wire.session
    handle = session.submit(limit(), wire.now)
    session.start(wire.now)
    wire.pump()
    assert session.state is SessionState.FAILED
    failed = of(wire, SessionFailed)
    assert failed[0].error == "EGeneral:Permission denied"
    assert isinstance(outcome(wire, handle), RequestNotApplied)
    with pytest.raises(LocalProtocolError, match="failed"):
        session.submit(limit(), wire.now)


def test_stale_connection_inputs_are_ignored() -> None:
    wire = live()
    session = wire.session
    session.connection_made(99, wire.now)
    session.connection_failed(99, "x", wire.now)
    session.connection_lost(99, wire.now)
    session.receive_message(99, "{}", wire.now)
    assert session.state is SessionState.LIVE
    assert session.actions() == []


# --- reconnecting -----------------------------------------------------------------------------


def test_reconnect_backoff_and_warning_log(caplog: pytest.LogCaptureFixture) -> None:
    wire = live()
    wire.fail_opens = 3
    with caplog.at_level(logging.WARNING, logger="kraken_proto.session"):
        wire.drop()
        wire.advance(30)
    delays = [(e.attempt, e.delay) for e in of(wire, Reconnecting)]
    assert [attempt for attempt, _ in delays] == [1, 2, 3, 4]
    assert delays[0][1] == 0.0
    assert 1.0 <= delays[1][1] <= 1.25
    assert delays[2][1] >= 5.0
    assert delays[3][1] >= 5.0
    assert of(wire, Reconnected)[0].downtime > 0
    assert wire.session.state is SessionState.LIVE
    text = caplog.text
    assert "reconnect attempt 1 in 0.00 s" in text
    assert "connection failed: refused" in text
    assert wire.exchange.config.api_secret not in text


def test_a_healthy_connection_resets_the_backoff() -> None:
    wire = live()
    wire.fail_opens = 2
    wire.drop()
    wire.advance(20)
    wire.advance(40)  # live longer than healthy_after
    wire.drop()
    assert of(wire, Reconnecting)[-1].delay == 0.0


def test_invalid_frame_closes_and_reconnects() -> None:
    wire = live()
    wire.exchange.faults(sid(wire)).malformed_frames = 1
    wire.exchange.set_reference_price("XBT/USD", PRICE, wire.now)
    handle = wire.session.submit(limit(), wire.now)
    wire.pump()
    wire.advance(2)
    reasons = [e.reason for e in of(wire, Reconnecting)]
    assert reasons
    assert reasons[0].startswith("invalid frame from Kraken")
    assert wire.session.state is SessionState.LIVE
    assert isinstance(outcome(wire, handle), RequestAccepted | RequestApplied | RequestNotApplied)


def test_new_attempt_waits_for_the_old_connection_to_close() -> None:
    wire = live()
    session = wire.session
    old = next(iter(wire.sid_of))
    session.receive_message(old, "not json at all", wire.now)
    (close,) = session.actions()
    assert close == CloseConnection(conn=old)
    session.handle_timeout(wire.now)
    assert session.state is SessionState.CONNECTING
    assert session.actions() == []  # nothing until the old one is gone
    wire._do(close)
    # The token outlives the invalid frame's connection: it opens the next one (no fetch).
    assert session.actions()[0] == OpenConnection(conn=old + 1)


def test_token_rejected_reconnects_and_refuses_the_order() -> None:
    wire = live()
    wire.exchange.invalidate_tokens()
    handle = wire.session.submit(limit(), wire.now)
    wire.pump()
    wire.advance(1)
    assert isinstance(outcome(wire, handle), RequestRefused)
    assert "rejected the session token" in of(wire, Reconnecting)[0].reason
    assert wire.session.state is SessionState.LIVE


def test_stale_connection_reconnects() -> None:
    wire = live()
    faults = wire.exchange.faults(sid(wire))
    faults.heartbeats = False
    faults.drop_replies = 100
    wire.advance(20)
    assert "silent" in of(wire, Reconnecting)[0].reason
    assert wire.session.state is SessionState.LIVE


def test_expired_token_reconnects() -> None:
    config = SessionConfig(connection=ConnectionConfig(token_ttl=1.0, request_timeout=30.0))
    wire = Wire(config=config)
    wire.exchange.default_faults.reply_delay = 5.0
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="ownTrades", snapshot=False), wire.now)
    wire.pump()
    wire.exchange.default_faults.reply_delay = 0.0
    wire.advance(3)
    assert "expired" in of(wire, Reconnecting)[0].reason


def test_failed_subscription_reconnects() -> None:
    wire = live(SessionConfig(connection=ConnectionConfig(liveness_timeout=60.0)))
    wire.exchange.default_faults.drop_replies = 5
    wire.exchange.default_faults.heartbeats = False
    wire.session.subscribe(Subscribe(name="ownTrades", snapshot=False), wire.now)
    wire.drop()
    wire.advance(0.01)  # the retry starts: the new connection has the faults
    wire.exchange.default_faults.drop_replies = 0
    wire.advance(30)
    assert any("subscription is failed" in e.reason for e in of(wire, Reconnecting))
    assert wire.session.state is SessionState.LIVE


def test_subscribing_while_live_subscribes_now() -> None:
    wire = Wire()
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.pump()
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)  # already: next connection
    wire.pump()
    assert wire.session.connection is not None
    assert wire.session.connection.subscription_state("ownTrades").value == "active"


def test_rest_failures_are_retried() -> None:
    wire = Wire()
    wire.fail_rest = 1
    wire.lose_rest = 1
    wire.session.start(wire.now)
    wire.pump()
    assert [e.reason for e in of(wire, Reconnecting)] == [
        "token request failed: RestHTTPError",
    ] or of(wire, Reconnecting)
    wire.advance(30)
    assert wire.session.state is SessionState.LIVE


# --- requests and their outcomes --------------------------------------------------------------


def test_accepted_and_refused() -> None:
    wire = live()
    ok = wire.session.submit(limit(), wire.now)
    poor = wire.session.submit(
        limit(price=Decimal("29000.0")).__class__(
            ordertype="limit",
            type="buy",
            pair="XBT/USD",
            volume=Decimal("100000"),
            price=Decimal("29000.0"),
        ),
        wire.now,
    )
    wire.pump()
    accepted = outcome(wire, ok)
    assert isinstance(accepted, RequestAccepted)
    assert accepted.txid in wire.exchange.orders()
    refused = outcome(wire, poor)
    assert isinstance(refused, RequestRefused)
    assert refused.error.text == "EOrder:Insufficient funds"


def test_system_status_gate_refuses_before_sending() -> None:
    wire = live()
    wire.exchange.set_system_status("maintenance", wire.now)
    wire.pump()
    handle = wire.session.submit(limit(), wire.now)
    wire.pump()
    refused = outcome(wire, handle)
    assert isinstance(refused, RequestRefused)
    assert refused.error.text.startswith("refused before sending")
    assert of(wire, SystemStatusChanged)[-1].status == "maintenance"


SLOW = SessionConfig(connection=ConnectionConfig(liveness_timeout=60.0))


def test_timed_out_then_late_reply() -> None:
    wire = live(SLOW)
    wire.exchange.faults(sid(wire)).reply_delay = 15.0
    good = wire.session.submit(limit(), wire.now)
    bad = wire.session.submit(
        AddOrder(
            ordertype="limit",
            type="buy",
            pair="XBT/USD",
            volume=Decimal("100000"),
            price=Decimal("29000.0"),
        ),
        wire.now,
    )
    wire.pump()
    wire.advance(16)
    assert [e.handle for e in of(wire, RequestInDoubt)] == [good, bad]
    assert isinstance(outcome(wire, good), RequestAccepted | RequestApplied)
    assert isinstance(outcome(wire, bad), RequestRefused)


def test_lost_answer_found_placed_in_open_orders_channel() -> None:
    wire = live()
    wire.exchange.faults(sid(wire)).drop_replies = 1
    handle = wire.session.submit(limit(), wire.now)
    wire.pump()
    wire.advance(25)
    applied = outcome(wire, handle)
    assert isinstance(applied, RequestApplied)
    assert applied.via == "openOrders"


def test_lost_answer_of_a_refused_order_is_not_applied_via_rest() -> None:
    wire = live()
    wire.exchange.faults(sid(wire)).drop_replies = 1
    handle = wire.session.submit(
        AddOrder(
            ordertype="limit",
            type="buy",
            pair="XBT/USD",
            volume=Decimal("100000"),
            price=Decimal("29000.0"),
        ),
        wire.now,
    )
    wire.pump()
    wire.advance(25)
    assert outcome(wire, handle) == RequestNotApplied(
        handle=handle, request=outcome(wire, handle).request, via="ClosedOrders"
    )
    assert wire.rest_calls[-2:] == ["OpenOrders", "ClosedOrders"]


def _in_flight(wire: Wire, request: Any, *, reached: bool = True) -> int:
    """Submit, write to the exchange (or not), then drop before any answer."""
    while wire.session.state is not SessionState.LIVE:
        wire.advance(1)
    handle = wire.session.submit(request, wire.now)
    for action in wire.session.actions():
        if isinstance(action, SendMessages):
            if reached:
                for message in action.messages:
                    wire.exchange.receive(sid(wire), message, wire.now)
        else:
            wire._do(action)
    wire.drop()
    for _ in range(120):
        if handle not in wire.session.pending():
            break
        wire.advance(1)
    return handle


def test_order_placed_and_filled_while_dropping_is_found_by_rest() -> None:
    wire = live()
    handle = _in_flight(wire, limit(price=Decimal("31000.0")))  # marketable: fills at once
    applied = outcome(wire, handle)
    assert isinstance(applied, RequestApplied)
    assert applied.via == "ClosedOrders"
    assert applied.txid is not None
    order = wire.session.orders.get(applied.txid)
    assert order is not None
    assert order.status == "closed"
    fills = of(wire, FillReceived)
    assert [f.trade.ordertxid for f in fills] == [applied.txid]
    # The new link's openOrders snapshot left it out, so it is not open: REST OpenOrders
    # would only repeat the snapshot (1 unit of the key's shared budget); ClosedOrders alone.
    assert "OpenOrders" not in wire.rest_calls
    assert wire.rest_calls.count("ClosedOrders") == 1


def test_order_never_sent_before_the_drop_is_not_applied() -> None:
    wire = live(snapshot=False)
    handle = _in_flight(wire, limit(), reached=False)
    not_applied = outcome(wire, handle)
    assert isinstance(not_applied, RequestNotApplied)
    assert not_applied.via == "ClosedOrders"
    assert "OpenOrders" not in wire.rest_calls


def test_cancel_by_unseen_cl_ord_id_after_a_drop_asks_closed_orders_only() -> None:
    wire = live()
    handle = _in_flight(wire, CancelOrder(cl_ord_id=("never-placed",)))
    not_applied = outcome(wire, handle)
    assert isinstance(not_applied, RequestNotApplied)
    assert not_applied.via == "ClosedOrders"
    assert "OpenOrders" not in wire.rest_calls


def test_a_snapshot_too_big_for_the_cl_ord_id_memory_keeps_rest_open_orders() -> None:
    # max_finished=1 remembers 2 cl_ord_ids: a snapshot of 3 open orders may have pushed the
    # in-doubt order's out, so the table cannot vouch that it is not open.
    wire = live(SessionConfig(max_finished=1))
    for offset in range(3):
        _placed(wire, limit(price=Decimal("28000.0") - offset))
    handle = _in_flight(wire, limit(price=Decimal("31000.0")))  # marketable: fills at once
    applied = outcome(wire, handle)
    assert isinstance(applied, RequestApplied)
    assert applied.via == "ClosedOrders"
    assert wire.rest_calls[-2:] == ["OpenOrders", "ClosedOrders"]


def test_open_order_placed_while_dropping_is_found_in_the_snapshot() -> None:
    wire = live()
    handle = _in_flight(wire, limit())
    applied = outcome(wire, handle)
    assert isinstance(applied, RequestApplied)
    assert applied.via == "openOrders"


def _placed(wire: Wire, request: AddOrder | None = None) -> str:
    while wire.session.state is not SessionState.LIVE:
        wire.advance(1)
    handle = wire.session.submit(request or limit(), wire.now)
    wire.pump()
    accepted = outcome(wire, handle)
    assert isinstance(accepted, RequestAccepted)
    assert accepted.txid is not None
    return accepted.txid


def test_cancel_in_doubt_is_reconciled_by_query_orders() -> None:
    wire = live()
    first, second = _placed(wire), _placed(wire)
    done = _in_flight(wire, CancelOrder(txid=(first,)))
    lost = _in_flight(wire, CancelOrder(txid=(second,)), reached=False)
    assert outcome(wire, done).__class__ is RequestApplied
    assert outcome(wire, lost).__class__ is RequestNotApplied
    assert wire.session.orders.get(first).status == "canceled"  # type: ignore[union-attr]


def test_cancel_by_cl_ord_id_and_userref_in_doubt() -> None:
    wire = live()
    _placed(wire, limit(cl_ord_id="known-1"))
    known = _in_flight(wire, CancelOrder(cl_ord_id=("known-1",)))
    unknown = _in_flight(wire, CancelOrder(cl_ord_id=("never-seen",)), reached=False)
    by_ref = _in_flight(wire, CancelOrder(userref=(5,)), reached=False)
    assert isinstance(outcome(wire, known), RequestApplied)
    # No order carries that cl_ord_id, open or closed since just before the cancel was sent:
    # the cancel cannot have closed one.
    not_applied = outcome(wire, unknown)
    assert isinstance(not_applied, RequestNotApplied)
    assert not_applied.via == "ClosedOrders"
    assert "userref" in outcome(wire, by_ref).reason


def test_edit_and_amend_in_doubt() -> None:
    wire = live()
    txid = _placed(wire, limit(cl_ord_id="amend-me"))
    edit_ref = _in_flight(
        wire, EditOrder(orderid=5, pair="XBT/USD", volume=Decimal("0.02")), reached=False
    )
    amended = _in_flight(wire, AmendOrder(txid=txid, volume=Decimal("0.02")))
    not_amended = _in_flight(
        wire, AmendOrder(cl_ord_id="amend-me", volume=Decimal("0.03")), reached=False
    )
    unknown_amend = _in_flight(
        wire, AmendOrder(cl_ord_id="nobody", volume=Decimal("0.03")), reached=False
    )
    relative = _in_flight(wire, AmendOrder(txid=txid, limit_price="+5"), reached=False)
    gone = _in_flight(
        wire, AmendOrder(txid="OUNKNO-WNORD-ERXXXX", volume=Decimal(1)), reached=False
    )
    edit = _in_flight(wire, EditOrder(orderid=txid, pair="XBT/USD", volume=Decimal("0.05")))
    assert "userref" in outcome(wire, edit_ref).reason
    assert outcome(wire, amended).__class__ is RequestApplied
    assert outcome(wire, amended).txid == txid
    assert outcome(wire, not_amended).__class__ is RequestNotApplied
    assert "not known" in outcome(wire, unknown_amend).reason
    assert outcome(wire, relative).__class__ is RequestUnresolved
    assert outcome(wire, gone).__class__ is RequestNotApplied
    assert isinstance(outcome(wire, edit), RequestApplied | RequestNotApplied)


def test_cancel_all_and_dead_mans_switch_in_doubt() -> None:
    wire = live()
    nothing_open = _in_flight(wire, CancelAll())
    _placed(wire)
    cancelled = _in_flight(wire, CancelAll())
    _placed(wire)
    not_cancelled = _in_flight(wire, CancelAll(), reached=False)
    switch = _in_flight(wire, CancelAllOrdersAfter(timeout=60))
    assert outcome(wire, nothing_open).via == "snapshot"
    assert outcome(wire, cancelled).__class__ is RequestApplied
    assert outcome(wire, not_cancelled).__class__ is RequestNotApplied
    assert "cancelAllOrdersAfter" in outcome(wire, switch).reason


def test_reconcile_result_after_a_late_reply_is_ignored() -> None:
    wire = live(SLOW)
    wire.exchange.faults(sid(wire)).reply_delay = 21.0
    handle = wire.session.submit(
        AddOrder(
            ordertype="limit",
            type="buy",
            pair="XBT/USD",
            volume=Decimal("100000"),
            price=Decimal("29000.0"),
        ),
        wire.now,
    )
    wire.pump()
    wire.hold_rest = True
    wire.advance(20.5)  # timed out and the grace is over: REST lookups start, held
    wire.hold_rest = False
    wire.advance(1)  # the late reply comes first
    for call in wire.held:
        wire.answer(call)
    wire.pump()
    assert isinstance(outcome(wire, handle), RequestRefused)


# --- fills and orders -------------------------------------------------------------------------


def test_fills_once_across_a_drop_with_many_fills() -> None:
    wire = live()
    for offset in range(60):
        wire.session.submit(limit(price=PRICE - Decimal("0.1") * (offset + 1)), wire.now)
    wire.pump()
    wire.fail_opens = 1
    wire.drop()
    wire.exchange.set_reference_price("XBT/USD", PRICE - 100, wire.now)
    wire.advance(20)
    fills = of(wire, FillReceived)
    assert sorted(f.trade_id for f in fills) == sorted(wire.exchange.trades())
    sources = {f.source for f in fills}
    assert sources == {"snapshot", "rest"}
    rest = next(f for f in fills if f.source == "rest")
    assert rest.trade.pair == "XXBTZUSD"  # REST's pair name, as Kraken sends it


def test_vanished_orders_get_their_final_state() -> None:
    wire = live()
    txid = _placed(wire)
    wire.fail_opens = 1
    wire.drop()
    wire.exchange.set_reference_price("XBT/USD", Decimal("28000.0"), wire.now)
    wire.advance(10)
    order = wire.session.orders.get(txid)
    assert order is not None
    assert order.status == "closed"
    assert not order.vanished
    assert any(e.source == "rest" for e in of(wire, OrdersChanged))


def test_orders_vanishing_while_the_lookup_waits_for_budget_share_its_call() -> None:
    wire = live()
    first = _placed(wire, limit(price=Decimal("29000.0")))
    second = _placed(wire, limit(price=Decimal("28500.0")))
    wire.session._rest._counter.saturate(wire.now)  # the key's REST budget is spent
    for price in (Decimal("28900.0"), Decimal("28400.0")):
        # Each drop fills one order while away; the next snapshot leaves it out.
        wire.drop()
        wire.exchange.set_reference_price("XBT/USD", price, wire.now)
        wire.advance(3)
    assert "QueryOrders" not in wire.rest_calls  # still waiting for the budget
    wire.advance(120)
    queries = [body for purpose, body in wire.rest_bodies if purpose == "QueryOrders"]
    assert len(queries) == 1  # one call for both, taken when it went out
    assert first.encode() in queries[0]
    assert second.encode() in queries[0]
    for txid in (first, second):
        order = wire.session.orders.get(txid)
        assert order is not None
        assert order.status == "closed"
        assert not order.vanished


def test_sequence_gap_on_own_trades_backfills() -> None:
    wire = live()
    txid = _placed(wire)
    wire.exchange.faults(sid(wire)).skip_sequence = 3
    wire.exchange.set_reference_price("XBT/USD", Decimal("28000.0"), wire.now)
    wire.advance(5)
    assert "TradesHistory" in wire.rest_calls
    fills = of(wire, FillReceived)
    assert {f.trade.ordertxid for f in fills} == {txid}
    assert sorted(f.trade_id for f in fills) == sorted(wire.exchange.trades())


# --- corners ----------------------------------------------------------------------------------


def test_reply_error_reads_status_and_error_events() -> None:
    from kraken_proto.session._tracked import reply_error as _reply_error
    from kraken_proto.v1 import AddOrderStatus, ErrorEvent, Pong

    assert _reply_error(AddOrderStatus(status="ok", txid="OA")) is None
    assert _reply_error(AddOrderStatus(status="error")).text == "status error"  # type: ignore[union-attr]
    assert _reply_error(ErrorEvent(error_message="EGeneral:Busy")).text == "EGeneral:Busy"  # type: ignore[union-attr]
    assert _reply_error(ErrorEvent()).text == "error"  # type: ignore[union-attr]
    assert _reply_error(Pong()) is None


def test_without_subscriptions_only_the_token_is_timed() -> None:
    wire = Wire()
    wire.session.start(wire.now)
    wire.pump()
    assert wire.session.state is SessionState.LIVE
    # Nothing binds the token: it expires unused (a reconnect then fetches a new one).
    assert wire.session.next_deadline() == wire.now + 900.0
    wire.drop()  # no ownTrades: no backfill wanted
    wire.advance(1)
    assert wire.session.state is SessionState.LIVE
    assert "TradesHistory" not in wire.rest_calls


def test_connection_lost_while_opening_is_a_failed_attempt() -> None:
    wire = Wire()
    session = wire.session
    session.start(wire.now)
    (token_call,) = session.actions()
    assert isinstance(token_call, HttpCall)
    wire.answer(token_call)
    (open_action,) = session.actions()
    assert isinstance(open_action, OpenConnection)
    session.connection_lost(open_action.conn, wire.now)
    assert session.state is SessionState.WAITING
    wire.pump()
    wire.advance(2)
    assert session.state.value == "live"


def test_cl_ord_id_memory_is_bounded() -> None:
    wire = live(SessionConfig(max_finished=1))
    for n in range(4):
        _placed(wire, limit(cl_ord_id=f"bounded-{n}"))
    assert len(wire.session._orders.cl_ord_ids) <= 2


def test_order_without_openorders_is_found_by_rest_open_orders() -> None:
    wire = Wire()
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.pump()
    handle = _in_flight(wire, limit())
    applied = outcome(wire, handle)
    assert isinstance(applied, RequestApplied)
    assert applied.via == "OpenOrders"


def test_multi_id_cancel_with_an_unknown_txid_is_asked_per_txid() -> None:
    wire = live()
    first = _placed(wire)
    handle = _in_flight(wire, CancelOrder(txid=(first, "OUNKNO-WNORD-ERXXXX")))
    assert isinstance(outcome(wire, handle), RequestNotApplied)  # the unknown one: not canceled
    assert wire.rest_calls.count("QueryOrders") >= 3
    assert wire.session.orders.get(first).status == "canceled"  # type: ignore[union-attr]


@pytest.mark.parametrize("stage", ["OpenOrders", "ClosedOrders", "QueryOrders"])
def test_a_late_reply_wins_over_reconciliation_in_progress(stage: str) -> None:
    wire = live(SLOW)
    txid = _placed(wire)
    wire.exchange.faults(sid(wire)).reply_delay = 21.0
    poor = AddOrder(
        ordertype="limit",
        type="buy",
        pair="XBT/USD",
        volume=Decimal("100000"),
        price=Decimal("29000.0"),
    )
    request = CancelOrder(txid=(txid,)) if stage == "QueryOrders" else poor
    handle = wire.session.submit(request, wire.now)
    wire.pump()
    wire.hold_rest = True
    wire.advance(20.5)  # timed out and the grace is over: the REST lookup is held
    if stage == "ClosedOrders":
        (held,) = wire.held
        wire.held = []
        wire.answer(held)  # OpenOrders: not there; ClosedOrders is asked next (held)
        wire.pump()
    wire.hold_rest = False
    wire.advance(1)  # the late reply comes first
    assert [call.purpose for call in wire.held] == [stage]
    for call in wire.held:
        wire.answer(call)
    wire.pump()
    assert isinstance(outcome(wire, handle), RequestAccepted | RequestRefused)


def _fields(part: object) -> dict[str, object]:
    """Every attribute of ``part`` (a ``Session`` has ``__slots__``, no ``__dict__``)."""
    names = [name for cls in type(part).__mro__ for name in getattr(cls, "__slots__", ())]
    return {name: getattr(part, name) for name in names if hasattr(part, name)}


def test_internal_corners() -> None:
    """Paths the exchange model cannot easily reach: a late reply to a request the session
    does not track, a doubt already being reconciled when a snapshot arrives, a REST order
    without cl_ord_id (placed by another client)."""
    from kraken_proto.rest._results import RestOrder as Rest
    from kraken_proto.rest._results import RestOrderDescr
    from kraken_proto.session._tracked import Phase as _Phase
    from kraken_proto.session._tracked import Tracked as _Tracked
    from kraken_proto.v1 import LateReply, Pong

    wire = live()
    session = wire.session
    session._requests.late_reply(LateReply(reqid=999, request=Ping(), reply=Pong(reqid=999)))
    busy = _Tracked(handle=99, request=limit(), phase=_Phase.RECONCILING)
    session._requests.doubts = {99: busy}  # its own dict: doubts start as NO_ENTRIES
    session._reconciler.release_doubts()
    assert busy.phase is _Phase.RECONCILING
    del session._requests.doubts[99]
    other = Rest(
        status="open",
        opentm=Decimal(1),
        descr=RestOrderDescr(pair="XBTUSD", type="buy", ordertype="limit"),
        vol=Decimal(1),
        vol_exec=Decimal(0),
        cost=Decimal(0),
        fee=Decimal(0),
        price=Decimal(0),
    )
    session._orders.absorb({"OOTHER-CLIEN-TORDER": other})
    assert session.orders.get("OOTHER-CLIEN-TORDER") is not None


def test_timed_out_request_then_drop_is_reconciled_after_reconnecting() -> None:
    wire = live(SLOW)
    wire.exchange.faults(sid(wire)).reply_delay = 40.0
    handle = wire.session.submit(limit(), wire.now)
    wire.pump()
    wire.advance(11)  # timed out, waiting for a late reply
    wire.drop()
    wire.advance(5)
    assert isinstance(outcome(wire, handle), RequestApplied)


def test_backfill_keeps_the_earliest_start() -> None:
    wire = live()
    session = wire.session
    session._fills.want_backfill()
    first = session._fills.backfill_from
    session._fills.cursor = Decimal("1800000000")
    session._fills.want_backfill()
    assert session._fills.backfill_from == first


def test_dead_mans_switch_is_armed_on_every_connection() -> None:
    config = SessionConfig(connection=ConnectionConfig(dead_mans_switch_timeout=60))
    wire = Wire(config=config)
    sent: list[dict[str, Any]] = []
    original = wire.exchange.receive

    def spy(session: int, text: str, now: float) -> None:
        sent.append(json.loads(text))
        original(session, text, now)

    wire.exchange.receive = spy  # type: ignore[method-assign]
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    wire.drop()
    wire.advance(1)
    arms = [m for m in sent if m["event"] == "cancelAllOrdersAfter"]
    assert [m["timeout"] for m in arms] == [60, 60]
    assert wire.exchange._book.dead_man_at is not None


def test_no_token_or_secret_in_reprs_events_or_actions() -> None:
    wire = live()
    session = wire.session
    secret = wire.exchange.config.api_secret
    session.submit(limit(), wire.now)
    wire.drop()
    session.handle_timeout(wire.now)
    actions = session.actions()
    wire.exchange.invalidate_tokens()
    connection = repr(fields(session.connection)) if session.connection else ""
    text = " ".join(
        [repr(_fields(session)), repr(session), repr(actions), repr(wire.events), connection]
    )
    assert secret not in text
    assert secret[:20] not in text
    for token in wire.exchange._tokens._tokens:
        assert token not in text


def test_unconsolidated_own_trades_backfill_the_same_trade_ids() -> None:
    wire = Wire()
    wire.session.start(wire.now)
    own_trades = Subscribe(name="ownTrades", consolidate_taker=False)
    wire.session.subscribe(own_trades, wire.now)
    wire.pump()
    for offset in range(55):
        wire.session.submit(limit(price=PRICE - Decimal("0.1") * (offset + 1)), wire.now)
    wire.pump()
    wire.fail_opens = 1
    wire.drop()
    wire.exchange.set_reference_price("XBT/USD", PRICE - 100, wire.now)
    wire.advance(20)
    history = [body for purpose, body in wire.rest_bodies if purpose == "TradesHistory"]
    assert history
    assert all(b"consolidate_taker=false" in body for body in history)
    fills = sorted(e.trade_id for e in of(wire, FillReceived))
    assert fills == sorted(wire.exchange.fills())
