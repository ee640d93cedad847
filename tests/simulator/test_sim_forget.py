"""``Exchange.forget_settled``: the model forgets settled history older than a horizon, so a
long simulation (``tests/session/million.py``) runs in bounded memory and time, while what is
live and recent is served exactly as before."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kraken_proto.rest import (
    build_closed_orders_request,
    build_private_request,
    build_query_trades_request,
    build_trades_history_request,
    parse_closed_orders_response,
    parse_query_trades_response,
    parse_trades_history_response,
)
from kraken_proto.v2 import decode as decode_v2

from tests.simulator.test_sim_rest_queries import T0, Sim

pytestmark = pytest.mark.timeout(60)


def test_forget_settled_drops_old_history_and_keeps_the_rest() -> None:
    sim = Sim()
    session, token = sim.trading_session()
    resting = sim.add(session, token, cl_ord_id="resting", price="1000.0")  # never fills
    old = sim.add(session, token, type="sell", ordertype="market", volume="0.25")
    canceled = sim.add(session, token, cl_ord_id="canceled", price="2000.0")
    sim.send(session, {"event": "cancelOrder", "token": token, "txid": [canceled]})
    old_trades = dict(sim.ex.trades())
    old_fills = dict(sim.ex.fills())
    assert old_trades
    assert old_fills
    sim.now = T0 + 100
    recent = sim.add(session, token, type="sell", ordertype="market", volume="0.5")
    recent_trades = set(sim.ex.trades()) - set(old_trades)
    assert recent_trades

    forgotten = sim.ex.forget_settled(T0 + 50)

    assert set(forgotten.orders) == {old, canceled}
    assert forgotten.orders[canceled].status == "canceled"
    assert forgotten.orders[old].status == "closed"
    assert forgotten.trades == old_trades
    assert forgotten.fills == old_fills
    assert list(sim.ex.orders()) == [resting, recent]
    assert set(sim.ex.trades()) == recent_trades
    assert not set(sim.ex.fills()) & set(old_fills)
    # REST shows only what is kept: closed orders, trade history, the trade ids' numbers.
    status, body = sim.call(
        build_closed_orders_request(sim.credentials, nonce=sim.next_nonce(), trades=True)
    )
    closed = parse_closed_orders_response(status, body)
    assert list(closed.closed) == [recent]
    assert closed.count == 1
    status, body = sim.call(build_trades_history_request(sim.credentials, nonce=sim.next_nonce()))
    history = parse_trades_history_response(status, body)
    assert set(history.trades) == recent_trades
    numbers = {t.trade_id for t in history.trades.values() if t.trade_id is not None}
    # A trade made after forgetting gets a new REST number, never one already handed out.
    sim.now = T0 + 200
    sim.add(session, token, type="buy", ordertype="market", volume="0.1")
    status, body = sim.call(build_trades_history_request(sim.credentials, nonce=sim.next_nonce()))
    newer = parse_trades_history_response(status, body)
    fresh = {
        t.trade_id
        for tid, t in newer.trades.items()
        if tid not in history.trades and t.trade_id is not None
    }
    assert fresh
    assert not fresh & numbers
    assert min(fresh) > max(numbers)
    # A forgotten trade is unknown to QueryTrades, as any id it never made.
    status, body = sim.call(
        build_query_trades_request(
            sim.credentials, nonce=sim.next_nonce(), txids=[next(iter(old_trades))]
        )
    )
    with pytest.raises(Exception, match="Invalid arguments"):
        parse_query_trades_response(status, body)
    # Forgetting again drops nothing more; live orders are never forgotten.
    again = sim.ex.forget_settled(T0 + 50)
    assert (again.orders, again.trades, again.fills) == ({}, {}, {})
    everything = sim.ex.forget_settled(T0 + 10_000)
    assert resting not in everything.orders
    assert list(sim.ex.orders()) == [resting]
    assert sim.ex.trades() == {}


def test_forget_settled_drops_idle_expired_tokens_only() -> None:
    sim = Sim()
    session, held = sim.trading_session()  # held by a subscription: never forgotten
    idle = sim.token()
    sim.now = T0 + sim.config.token_ttl + 10
    fresh = sim.token()
    sim.ex.forget_settled(sim.now)

    def usable(token: str) -> bool:
        sent = sim.send(
            session,
            {
                "event": "addOrder",
                "token": token,
                "pair": "XBT/USD",
                "type": "buy",
                "ordertype": "limit",
                "price": "1000.0",
                "volume": "0.01",
            },
        )
        return all(getattr(event, "status", "ok") == "ok" for event in sent)

    assert usable(held)
    assert usable(fresh)
    assert not usable(idle)  # expired before, unknown now: refused the same way
    assert sim.ex._tokens.forget_idle(sim.now) == 0  # nothing left to forget


def test_v2_trade_numbers_are_never_reused_after_forgetting() -> None:
    sim = Sim()
    token = sim.token()
    session = sim.ex.open_session(sim.now, protocol="v2")

    def send(message: dict[str, Any]) -> list[Any]:
        sim.ex.receive(session, json.dumps(message), sim.now)
        return [decode_v2(frame) for frame in sim.ex.take_outgoing(session, sim.now)]

    def trade_numbers(events: list[Any]) -> set[int]:
        return {
            record.trade_id
            for event in events
            for record in getattr(event, "data", ())
            if getattr(record, "trade_id", None) is not None
        }

    send({"method": "subscribe", "params": {"channel": "executions", "token": token}})
    market = {"order_type": "market", "side": "buy", "order_qty": 0.1, "symbol": "BTC/USD"}
    first = trade_numbers(send({"method": "add_order", "params": {**market, "token": token}}))
    assert first
    sim.now = T0 + 100
    forgotten = sim.ex.forget_settled(sim.now)
    assert forgotten.fills
    second = trade_numbers(send({"method": "add_order", "params": {**market, "token": token}}))
    assert second
    assert min(second) > max(first)
    # The executions snapshot of a new subscription lists only the fills kept.
    other = sim.ex.open_session(sim.now, protocol="v2")
    sim.ex.receive(
        other,
        json.dumps(
            {
                "method": "subscribe",
                "params": {"channel": "executions", "token": token, "snap_trades": True},
            }
        ),
        sim.now,
    )
    snapshot = [decode_v2(frame) for frame in sim.ex.take_outgoing(other, sim.now)]
    assert trade_numbers(snapshot) == second


def test_forget_settled_keeps_rest_private_calls_working() -> None:
    # A TradesHistory page over what is left after forgetting everything: empty, not an error.
    sim = Sim()
    session, token = sim.trading_session()
    sim.add(session, token, type="sell", ordertype="market", volume="0.25")
    sim.now = T0 + 10
    sim.ex.forget_settled(sim.now)
    request = build_private_request(
        sim.credentials,
        path="/0/private/TradesHistory",
        nonce=sim.next_nonce(),
        params=[("consolidate_taker", "false")],
    )
    status, body = sim.call(request)
    assert parse_trades_history_response(status, body).trades == {}
