"""Regression: a resubscribe sent with a second token, then data on the channel.

Hypothesis found a run of ``tests/test_v2_connection_machine.py`` where the fake server sent a
``snapshot`` on a subscription that had already pushed an update. Kraken sends the snapshot only
as a subscription's first push, so a snapshot while the resubscribe is in flight is the new
subscription's: the core counts it as the resubscribe's answer and binds the token it was sent
with (right), while the model still held the old subscription (the model was wrong, and now sends
updates only once a subscription pushed anything). These tests pin both sides.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from kraken_proto import LocalProtocolError
from kraken_proto.v1 import SubscriptionState, TokenExpired, TokenState
from kraken_proto.v2 import V2Connection, V2ConnectionConfig

from tests.v2.test_v2_connection import LIMIT, push, sent, subscribed
from tests.v2.test_v2_connection_machine import V2ConnectionMachine

SECOND = "SeCrEtSeCoNd/xyz=="


def _resyncing_with_a_second_token() -> tuple[V2Connection, list[dict[str, Any]]]:
    conn = V2Connection(V2ConnectionConfig(token_ttl=25.0))
    conn.connection_made(0.0)
    conn.provide_token("SeCrEtFiRsT/abc==", 0.0)
    subscribed(conn)
    conn.provide_token(SECOND, 0.0)  # fresh: not bound until a subscription made with it holds
    push(conn, "executions", "update", 2)  # the snapshot (1) missed: gap, resync queued
    resync = sent(conn)
    assert [m["method"] for m in resync] == ["unsubscribe", "subscribe"]
    assert all(m["params"]["token"] == SECOND for m in resync)
    conn.events_received()
    return conn, resync


def test_updates_of_the_old_subscription_do_not_bind_the_new_token() -> None:
    conn, _ = _resyncing_with_a_second_token()
    push(conn, "executions", "update", 3, now=30.0)
    push(conn, "executions", "update", 5, now=30.0)  # still after the gap: no second resync
    assert sent(conn) == []
    assert conn.subscription_state("executions") is SubscriptionState.RESYNCING
    assert conn.token_state is TokenState.FRESH
    with pytest.raises(LocalProtocolError, match="none is usable"):
        conn.send(LIMIT, 30.0)
    conn.handle_timeout(30.0)
    assert any(isinstance(e, TokenExpired) for e in conn.events_received())


def test_the_new_subscriptions_snapshot_binds_the_token_it_was_sent_with() -> None:
    conn, _ = _resyncing_with_a_second_token()
    push(conn, "executions", "snapshot", 1, now=1.0)  # before the acks: the server subscribed
    assert conn.subscription_state("executions") is SubscriptionState.ACTIVE
    assert conn.token_state is TokenState.BOUND
    conn.send(LIMIT, 30.0)  # past the ttl: a bound token does not expire
    (order,) = [json.loads(text) for text in conn.data_to_send()]
    assert order["params"]["token"] == SECOND


@pytest.mark.parametrize("last_step", ["skip", "send", "handle_timeout"])
def test_the_recorded_machine_run(last_step: str) -> None:
    """The steps Hypothesis shrank to (three endings), replayed against the machine."""
    machine = V2ConnectionMachine()
    machine.configure(dead_mans_switch=last_step == "handle_timeout", open_first=True)
    steps: list[Callable[[], object]] = [
        machine.provide_token,
        lambda: machine.server_sends_data(channel="executions", shape="skip"),
        lambda: machine.advance_time(seconds=30.0),
        lambda: machine.server_sends_data(channel="executions", shape="next"),
        {
            "skip": lambda: machine.server_sends_data(channel="executions", shape="skip"),
            "send": lambda: machine.send(request=LIMIT, answer="ok"),
            "handle_timeout": machine.handle_timeout,
        }[last_step],
    ]
    for step in steps:
        machine.token_state_matches_model()
        step()
    machine.teardown()
