"""The ``drop_after_request`` fault: the order is placed, the reply never leaves."""

from __future__ import annotations

import json
import random
import time
from decimal import Decimal

import pytest
from kraken_proto import AddOrder, Credentials, Event, decode
from kraken_proto.adapters.clients.blocking_client import BlockingClient, fetch_token
from kraken_proto.adapters.simulator import Exchange, SimulatorConfig
from kraken_proto.adapters.simulator.model.exchange import Faults
from kraken_proto.adapters.simulator.server import run_in_thread
from kraken_proto.adapters.transport.rest_call import call_rest_blocking
from kraken_proto.rest import NonceSource, build_open_orders_request, parse_open_orders_response
from kraken_proto.v1 import ChannelSnapshot, RequestLost, Subscribe

T0 = 1_700_000_000.0


def model_session() -> tuple[Exchange, int, str]:
    ex = Exchange(SimulatorConfig(), rng=random.Random(4), now=T0)
    session = ex.open_session(T0)
    ex.take_outgoing(session, T0)
    token = ex._tokens.issue(random.Random(1), T0)
    ex.receive(
        session,
        json.dumps({"event": "subscribe", "subscription": {"name": "openOrders", "token": token}}),
        T0,
    )
    ex.take_outgoing(session, T0)
    return ex, session, token


def add(ex: Exchange, session: int, token: str, **fields: str) -> None:
    order = {"event": "addOrder", "token": token, "pair": "XBT/USD", "type": "buy"}
    order.update({"ordertype": "limit", "price": "29000.0", "volume": "0.5", **fields})
    ex.receive(session, json.dumps(order), T0)


def test_model_processes_the_request_and_takes_back_its_frames() -> None:
    ex, session, token = model_session()
    ex.faults(session).drop_after_request = 1
    add(ex, session, token)
    assert ex.take_outgoing(session, T0) == []  # no reply, no openOrders frame
    assert ex.connection_dropped(session)
    assert len(ex.open_orders()) == 1  # but the order exists
    assert ex.faults(session).drop_after_request == 0


def test_refusals_are_taken_back_too_and_the_count_runs_down() -> None:
    ex, session, token = model_session()
    ex.faults(session).drop_after_request = 2
    add(ex, session, token, pair="NOPE/USD")
    assert ex.take_outgoing(session, T0) == []
    assert ex.faults(session).drop_after_request == 1
    other = ex.open_session(T0)
    ex.take_outgoing(other, T0)
    assert not ex.connection_dropped(other)
    assert not ex.connection_dropped(999)


def test_unarmed_sessions_reply_as_before() -> None:
    ex, session, token = model_session()
    add(ex, session, token)
    add(ex, session, token, pair="NOPE/USD")
    events = [decode(frame) for frame in ex.take_outgoing(session, T0)]
    kinds = [type(event).__name__ for event in events]
    assert "AddOrderStatus" in kinds
    assert not ex.connection_dropped(session)


def read_until_closed(client: BlockingClient, seen: list[Event], deadline: float) -> None:
    while time.monotonic() < deadline:
        seen.extend(client.next_events(timeout=1.0))


def test_over_a_socket_the_client_never_hears_but_the_order_exists() -> None:
    with run_in_thread(seed=41, default_faults=Faults(drop_after_request=1)) as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        nonces = NonceSource()
        token = fetch_token(credentials, rest_url=sim.rest_url, nonces=nonces)
        seen: list[Event] = []
        with BlockingClient(sim.ws_url) as client:
            client.provide_token(token.token)
            client.send(Subscribe(name="openOrders"))
            deadline = time.monotonic() + 10
            while not any(isinstance(e, ChannelSnapshot) for e in seen):
                assert time.monotonic() < deadline
                seen.extend(client.next_events(timeout=1.0))
            reqid = client.send(
                AddOrder(
                    ordertype="limit",
                    type="buy",
                    pair="XBT/USD",
                    volume=Decimal("0.5"),
                    price=Decimal("29000.0"),
                    cl_ord_id="dropped-1",
                )
            )
            with pytest.raises(ConnectionError):
                read_until_closed(client, seen, deadline)
            lost = [e for e in client.connection.events_received() if isinstance(e, RequestLost)]
            seen.extend(lost)
        assert any(isinstance(e, RequestLost) and e.reqid == reqid for e in seen), seen
        # The order was placed all the same: REST finds it by cl_ord_id.
        response = call_rest_blocking(
            build_open_orders_request(
                credentials, nonce=nonces.next(time.time()), cl_ord_id="dropped-1"
            ),
            rest_url=sim.rest_url,
        )
        found = parse_open_orders_response(response.status, response.body).open
        assert [order.cl_ord_id for order in found.values()] == ["dropped-1"]


def test_the_fault_language_names_it() -> None:
    from kraken_proto.adapters.simulator._faultspec import FAULT_FORMS, parse_fault

    assert parse_fault("drop-after-request=2").session_fields == {"drop_after_request": 2}
    assert "drop-after-request=N" in FAULT_FORMS
