"""The simulator's control API (``/_sim/...``) and the server object's control methods."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import trio
import trio.testing
from kraken_proto.adapters.simulator._control import handle_control, is_loopback
from kraken_proto.adapters.simulator._faultspec import FaultSpecError, parse_fault
from kraken_proto.adapters.simulator.model.exchange import Faults
from kraken_proto.adapters.simulator.server import (
    SimulatorServer,
    _peer_host,
    open_simulator,
    run_in_thread,
)
from kraken_proto.v1 import AddOrderStatus, OpenOrders, OwnTrades, SubscriptionStatus, SystemStatus

from tests.simulator.test_sim_server import (
    TOKEN_PATH,
    WsClient,
    fetch_token,
    http_request,
    run,
    signed_token_request,
    subscribe_private,
    ws_connect,
)

JSON = [("Content-Type", "application/json")]


async def control(
    sim: SimulatorServer, method: str, name: str, body: Any = None, **options: Any
) -> tuple[int, Any]:
    """One control request; returns the status and the decoded JSON answer."""
    data = b"" if body is None else json.dumps(body).encode()
    headers = options.pop("headers", JSON if method == "POST" else [])
    status, reply_headers, reply = await http_request(
        sim.rest_url, method, f"/_sim/{name}", headers=headers, body=data, **options
    )
    assert reply_headers["content-type"] == "application/json"
    return status, json.loads(reply) if reply else None


async def place_resting_buy(client: WsClient, token: str, price: str = "29500.0") -> str:
    await client.send(
        {
            "event": "addOrder",
            "token": token,
            "reqid": 7,
            "ordertype": "limit",
            "type": "buy",
            "pair": "XBT/USD",
            "price": price,
            "volume": "0.01000000",
        }
    )
    reply, _ = await client.receive_until(AddOrderStatus)
    assert isinstance(reply, AddOrderStatus)
    assert reply.status == "ok", reply
    assert reply.txid is not None
    return reply.txid


def test_price_over_http_fills_a_resting_order_and_book_and_trades_show_it() -> None:
    async def main() -> None:
        async with open_simulator(seed=5) as sim:
            token = await fetch_token(sim)
            async with ws_connect(sim.ws_url) as client:
                assert isinstance(await client.receive(), SystemStatus)
                await subscribe_private(client, token)
                txid = await place_resting_buy(client, token)

                status, book = await control(sim, "GET", "book")
                assert status == 200
                order = book["result"]["open_orders"][txid]
                assert order["price"] == "29500.0"  # Decimals as exact strings
                assert order["status"] == "open"
                assert book["result"]["balances"]["USD"] == "10000000"

                status, answer = await control(
                    sim, "POST", "price", {"pair": "XBT/USD", "price": "29000"}
                )
                assert (status, answer) == (200, {"result": {"pair": "XBT/USD", "price": "29000"}})
                fill, _ = await client.receive_until(OwnTrades)
                assert isinstance(fill, OwnTrades)
                assert fill.trades[0][1].ordertxid == txid

                status, book = await control(sim, "GET", "book")
                assert book["result"]["open_orders"] == {}
                status, trades = await control(sim, "GET", "trades")
                assert status == 200
                (trade,) = trades["result"]["trades"].values()
                assert trade["ordertxid"] == txid
                assert trade["price"] == "29500.0"
                assert trade["vol"] == "0.01000000"
                assert set(trades["result"]["trades"]) == set(sim.trades())

    run(main)


def test_status_is_broadcast_and_bad_status_is_refused() -> None:
    async def main() -> None:
        async with open_simulator() as sim, ws_connect(sim.ws_url) as client:
            assert isinstance(await client.receive(), SystemStatus)
            status, answer = await control(sim, "POST", "status", {"status": "maintenance"})
            assert (status, answer) == (200, {"result": {"status": "maintenance"}})
            event = await client.receive()
            assert isinstance(event, SystemStatus)
            assert event.status == "maintenance"
            status, answer = await control(sim, "POST", "status", {"status": "sleeping"})
            assert status == 400
            assert "status must be one of" in answer["error"]

    run(main)


def test_fault_for_one_session_and_for_all() -> None:
    async def main() -> None:
        async with (
            open_simulator() as sim,
            ws_connect(sim.ws_url) as first,
            ws_connect(sim.ws_url) as second,
        ):
            assert isinstance(await first.receive(), SystemStatus)
            assert isinstance(await second.receive(), SystemStatus)
            status, answer = await control(sim, "GET", "sessions")
            assert (status, answer) == (200, {"result": {"sessions": [1, 2]}})

            status, answer = await control(
                sim, "POST", "fault", {"fault": "skip-sequence=2", "session": 2}
            )
            assert (status, answer) == (
                200,
                {"result": {"fault": "skip-sequence=2", "session": 2}},
            )
            assert sim.exchange.faults(1).skip_sequence == 0
            assert sim.exchange.faults(2).skip_sequence == 2
            assert sim.exchange.default_faults.skip_sequence == 0

            status, answer = await control(sim, "POST", "fault", {"fault": "no-heartbeats"})
            assert status == 400  # the scope must be said
            assert "say which sessions" in answer["error"]
            assert sim.exchange.faults(1).heartbeats

            status, _ = await control(
                sim, "POST", "fault", {"fault": "no-heartbeats", "scope": "all"}
            )
            assert status == 200
            assert not sim.exchange.faults(1).heartbeats
            assert not sim.exchange.faults(2).heartbeats
            assert not sim.exchange.default_faults.heartbeats

            status, _ = await control(sim, "POST", "fault", {"fault": "clear", "session": 2})
            assert sim.exchange.faults(2) == Faults()
            assert not sim.exchange.faults(1).heartbeats

    run(main)


def test_close_after_on_a_live_session_counts_from_now() -> None:
    async def main() -> None:
        async with open_simulator() as sim, ws_connect(sim.ws_url) as client:
            assert isinstance(await client.receive(), SystemStatus)
            (session,) = sim.session_ids()
            await trio.testing.wait_all_tasks_blocked()  # the writer has counted the greeting
            sim.set_fault("close-after=1", session=session)
            assert sim.exchange.faults(session).close_after_frames == 2  # 1 sent + 1
            await client.send({"event": "ping", "reqid": 1})
            await client.receive()  # the pong is the one frame still allowed
            sim.set_system_status("maintenance")  # the next frame: dropped instead
            with trio.fail_after(5):
                while True:
                    data = await client.stream.receive_some(65536)
                    if not data:
                        break
            assert sim.session_ids() == []

    run(main)


def test_rest_fault_through_the_control_api() -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            status, answer = await control(sim, "POST", "fault", {"fault": "rest=http_500"})
            assert (status, answer) == (200, {"result": {"fault": "rest=http_500", "scope": "all"}})
            headers, body = signed_token_request(sim)
            status, _, _ = await http_request(
                sim.rest_url, "POST", TOKEN_PATH, headers=headers, body=body
            )
            assert status == 500
            status, answer = await control(
                sim, "POST", "fault", {"fault": "rest=http_500", "session": 1}
            )
            assert status == 400
            assert "every token request" in answer["error"]
            await control(sim, "POST", "fault", {"fault": "rest=off"})
            assert sim.exchange.rest_fault is None
            await fetch_token(sim)

    run(main)


def test_invalidate_tokens_makes_the_next_subscribe_fail() -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            token = await fetch_token(sim)
            status, answer = await control(sim, "POST", "invalidate-tokens", {})
            assert (status, answer) == (200, {"result": {"invalidated": True}})
            async with ws_connect(sim.ws_url) as client:
                assert isinstance(await client.receive(), SystemStatus)
                await client.send(
                    {"event": "subscribe", "subscription": {"name": "ownTrades", "token": token}}
                )
                ack = await client.receive()
                assert isinstance(ack, SubscriptionStatus)
                assert ack.error_message == "ESession:Invalid session"

    run(main)


@pytest.mark.parametrize(
    ("method", "name", "body", "headers", "status", "complaint"),
    [
        ("POST", "price", {"pair": "XBT/USD", "price": "1"}, [], 415, "Content-Type"),
        ("GET", "price", None, [], 405, "use POST"),
        ("POST", "book", {}, JSON, 405, "use GET"),
        ("GET", "nothing", None, [], 404, "no control endpoint"),
        ("POST", "price", {"pair": "XBT/USD", "price": 29000.5}, JSON, 400, "JSON string"),
        ("POST", "price", {"pair": "XBT/USD"}, JSON, 400, "'price' must be a JSON string"),
        ("POST", "price", {"pair": "XBT/USD", "price": "cheap"}, JSON, 400, "not a decimal"),
        ("POST", "price", {"pair": "XBT/USD", "price": "-1"}, JSON, 400, "positive"),
        ("POST", "price", {"pair": "XBT/USD", "price": "NaN"}, JSON, 400, "positive"),
        ("POST", "price", {"pair": "XBT/USD", "price": "29000.55"}, JSON, 400, "1 decimals"),
        ("POST", "price", {"pair": "DOGE/USD", "price": "1"}, JSON, 404, "unknown pair"),
        ("POST", "price", [1], JSON, 400, "not a JSON object"),
        ("POST", "fault", {"fault": "explode"}, JSON, 400, "unknown fault"),
        ("POST", "fault", {"fault": "close-after=-1"}, JSON, 400, "non-negative"),
        ("POST", "fault", {"fault": "no-heartbeats", "session": 9}, JSON, 404, "no open"),
        ("POST", "fault", {"fault": "no-heartbeats", "session": "1"}, JSON, 400, "positive"),
        ("POST", "fault", {"fault": "no-heartbeats", "session": True}, JSON, 400, "positive"),
        ("POST", "fault", {"fault": "rest=maybe"}, JSON, 400, "rest needs one of"),
    ],
)
def test_bad_control_requests_are_refused_with_a_reason(
    method: str,
    name: str,
    body: Any,
    headers: list[tuple[str, str]],
    status: int,
    complaint: str,
) -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            got, answer = await control(sim, method, name, body, headers=headers)
            assert got == status, answer
            assert complaint in answer["error"]
            assert sim.exchange.default_faults == Faults()  # nothing changed

    run(main)


def test_raw_bodies_that_are_not_json_objects_are_refused() -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            for body in (b"{", b"NaN", b"x" * 5000):
                status, _, reply = await http_request(
                    sim.rest_url, "POST", "/_sim/status", headers=JSON, body=body
                )
                assert status == 400
                assert "error" in json.loads(reply)
            # HEAD of a GET endpoint: the status without a body
            status, _, reply = await http_request(sim.rest_url, "HEAD", "/_sim/book")
            assert (status, reply) == (200, b"")

    run(main)


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:80", "[2001:db8::1]:80", "10.0.0.1", "[::1", None]
)
def test_a_host_header_that_is_not_loopback_is_refused(host: str | None) -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            # h11 sends our Host header as given; the http_request helper adds "localhost" first,
            # so build the request by hand through handle_control for exact control.
            headers = {} if host is None else {"host": host}
            reply = handle_control(
                sim, method="GET", path="/_sim/book", headers=headers, body=b"", peer="::1"
            )
            assert reply.status == 403
            assert b"Host header" in reply.body

    run(main)


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:9", "127.0.0.1:80", "[::1]:8"])
def test_loopback_host_headers_are_served(host: str) -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            reply = handle_control(
                sim,
                method="GET",
                path="/_sim/sessions?x=1",
                headers={"host": host},
                body=b"",
                peer="127.0.0.1",
            )
            assert reply.status == 200, reply

    run(main)


@pytest.mark.parametrize(
    "peer", ["10.0.0.7", "192.168.1.2", "::ffff:10.0.0.1", "2001:db8::2", None]
)
def test_non_loopback_peers_get_403(peer: str | None) -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            body = b'{"status": "maintenance"}'
            headers = {"host": "127.0.0.1", "content-type": "application/json"}
            reply = handle_control(
                sim, method="POST", path="/_sim/status", headers=headers, body=body, peer=peer
            )
            assert reply.status == 403
            assert json.loads(reply.body) == {
                "error": "the control API serves loopback clients only"
            }
            assert sim.exchange.config.system_status == "online"

    run(main)


def test_is_loopback() -> None:
    for address in ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1"):
        assert is_loopback(address), address
    outsiders: tuple[str | None, ...] = ("10.0.0.1", "::ffff:10.0.0.1", "0.0.0.0", "", None)
    for outsider in (*outsiders, "localhost"):  # a name is not an address
        assert not is_loopback(outsider), outsider


def test_the_peer_address_of_a_real_connection_is_loopback() -> None:
    async def main() -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]
        async with listeners[0], await trio.open_tcp_stream("127.0.0.1", port) as client:
            server_side = await listeners[0].accept()
            async with server_side:
                assert _peer_host(server_side) == "127.0.0.1"
                assert _peer_host(trio.testing.memory_stream_pair()[0]) is None
                del client

    run(main)


def test_the_thread_twin_has_the_same_control_methods() -> None:
    with run_in_thread(seed=2) as sim:
        sim.set_fault("drop-replies=3")
        assert sim.exchange.default_faults.drop_replies == 3
        sim.set_fault("clear")
        sim.invalidate_tokens()
        sim.set_reference_price("XBT/USD", Decimal("25000.0"))
        sim.set_system_status("post_only")
        assert sim.orders() == {}
        assert sim.open_orders() == {}
        assert sim.trades() == {}
        assert sim.fills() == {}
        assert sim.balances()["XBT"] == Decimal("1000")
        assert sim.session_ids() == []
        with pytest.raises(KeyError):
            sim.set_fault("no-heartbeats", session=4)
        with pytest.raises(FaultSpecError):
            sim.set_fault("nonsense")


def test_fault_specs_parse_into_changes() -> None:
    assert parse_fault("skip-sequence=3").session_fields == {"skip_sequence": 3}
    assert parse_fault("reply-delay=0.5").session_fields == {"reply_delay": 0.5}
    assert parse_fault("heartbeats").session_fields == {"heartbeats": True}
    assert parse_fault("clear").session_fields == vars(Faults())
    change = parse_fault("rest=non_json")
    assert (change.rest, change.rest_fault, change.session_fields) == (True, "non_json", {})
    for bad in ("reply-delay=-1", "reply-delay=x", "heartbeats=1", "rest", "close-after"):
        with pytest.raises(FaultSpecError):
            parse_fault(bad)


def test_open_orders_views_in_the_book_are_the_models() -> None:
    async def main() -> None:
        async with open_simulator(seed=9) as sim:
            token = await fetch_token(sim)
            async with ws_connect(sim.ws_url) as client:
                assert isinstance(await client.receive(), SystemStatus)
                await subscribe_private(client, token)
                txid = await place_resting_buy(client, token, price="20000.0")
                assert list(sim.open_orders()) == [txid]
                assert list(sim.orders()) == [txid]
                _, book = await control(sim, "GET", "book")
                assert list(book["result"]["open_orders"]) == [txid]
                event, _ = await client.receive_until(OpenOrders)
                assert isinstance(event, OpenOrders)

    run(main)
