"""The blocking and trio adapters, end to end against the simulator over loopback."""

from __future__ import annotations

import io
import socket
import ssl
from collections.abc import Callable
from decimal import Decimal

import pytest
import trio
from kraken_proto import AddOrder, Credentials, Event, RemoteProtocolError
from kraken_proto.adapters import demo
from kraken_proto.adapters.clients.blocking_client import BlockingClient, fetch_token
from kraken_proto.adapters.clients.trio_client import fetch_token_trio, open_trio_client
from kraken_proto.adapters.simulator.model.exchange import Faults
from kraken_proto.adapters.simulator.server import open_simulator, run_in_thread
from kraken_proto.adapters.transport._endpoint import parse_endpoint
from kraken_proto.adapters.transport._ws import (
    HandshakeError,
    WebSocketClosed,
    WebSocketSession,
)
from kraken_proto.rest import InvalidSignatureError, TokenHTTPError, WebSocketToken
from kraken_proto.v1 import (
    ChannelSnapshot,
    ChannelUpdate,
    ConnectionConfig,
    ConnectionStale,
    OpenOrders,
    Ping,
    Pong,
    RequestCompleted,
    RequestLost,
    Subscribe,
    SubscriptionStatus,
    SystemStatus,
)

PAIR = "XBT/USD"


def _wait_for(
    client: BlockingClient, seen: list[Event], condition: Callable[[Event], bool]
) -> Event:
    """Read whole batches into ``seen`` until any event seen so far matches."""
    for _ in range(40):
        match = next((event for event in seen if condition(event)), None)
        if match is not None:
            return match
        seen.extend(client.next_events(timeout=0.5))
    raise AssertionError(f"condition never met; saw {seen!r}")


def _read_until_closed(read: Callable[[], list[Event]]) -> list[Event]:
    """Collect events until the client reports the WebSocket closed (bounded)."""
    seen: list[Event] = []
    for _ in range(100):
        try:
            seen.extend(read())
        except WebSocketClosed:
            return seen
    raise AssertionError(f"the connection never closed; saw {seen!r}")


# --- blocking adapter -------------------------------------------------------------------------


def test_blocking_client_subscribes_trades_and_sees_its_order() -> None:
    with run_in_thread(seed=3) as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        token = fetch_token(credentials, rest_url=sim.rest_url)
        assert isinstance(token, WebSocketToken)
        assert token.token not in repr(token)
        seen: list[Event] = []
        with BlockingClient(sim.ws_url) as client:
            assert "open" in repr(client)
            client.provide_token(token)
            client.send(Subscribe(name="openOrders"))
            _wait_for(client, seen, lambda e: isinstance(e, ChannelSnapshot))
            reqid = client.send(
                AddOrder(
                    ordertype="limit",
                    type="buy",
                    pair=PAIR,
                    volume=Decimal("0.01000000"),
                    price=Decimal("1000.0"),
                )
            )
            done = _wait_for(
                client, seen, lambda e: isinstance(e, RequestCompleted) and e.reqid == reqid
            )
            assert isinstance(done, RequestCompleted)
            txid = done.replies[0].txid  # type: ignore[attr-defined]
            pending = _wait_for(
                client,
                seen,
                lambda e: (
                    isinstance(e, ChannelUpdate)
                    and isinstance(e.event, OpenOrders)
                    and any(oid == txid for oid, _ in e.event.orders)
                ),
            )
            assert isinstance(pending, ChannelUpdate)
            assert client.connection.subscription_state("openOrders").name == "ACTIVE"
        assert isinstance(seen[0], SystemStatus)
        assert "not connected" in repr(client)
        client.close()  # idempotent


def test_blocking_client_reports_lost_requests_when_the_server_drops_it() -> None:
    # The simulator closes the socket abruptly after the systemStatus frame and one reply.
    with (
        run_in_thread(seed=4, default_faults=Faults(close_after_frames=1)) as sim,
        BlockingClient(sim.ws_url) as client,
    ):
        client.send(Ping())
        seen = _read_until_closed(lambda: client.next_events(timeout=5.0))
        assert any(isinstance(e, RequestLost) for e in seen)


def test_blocking_client_serves_core_timers_while_waiting() -> None:
    config = ConnectionConfig(liveness_timeout=0.2, request_timeout=5.0)
    with run_in_thread(seed=5, default_faults=Faults(heartbeats=False)) as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        token = fetch_token(credentials, rest_url=sim.rest_url)
        with BlockingClient(sim.ws_url, config=config) as client:
            client.provide_token(token.token)
            client.send(Subscribe(name="openOrders"))
            seen: list[Event] = []
            # Without heartbeats the core pings after 0.2 s of silence; the pong keeps it alive.
            _wait_for(client, seen, lambda e: isinstance(e, Pong))
            assert not client.connection.should_close


def test_blocking_client_needs_connect_and_reports_token_errors() -> None:
    client = BlockingClient("ws://127.0.0.1:9")
    with pytest.raises(WebSocketClosed, match="not connected"):
        client.next_events(timeout=0)
    with run_in_thread(seed=6) as sim:
        wrong = Credentials(api_key=sim.api_key, api_secret="A" * 86 + "==")
        with pytest.raises(InvalidSignatureError):
            fetch_token(wrong, rest_url=sim.rest_url)
    with run_in_thread(seed=6, rest_fault="http_500") as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        with pytest.raises(TokenHTTPError):
            fetch_token(credentials, rest_url=sim.rest_url)


def test_blocking_client_over_tls_verifies_the_simulator_certificate() -> None:
    with run_in_thread(seed=8, tls=True) as sim:
        assert sim.ca_file is not None
        context = ssl.create_default_context(cafile=sim.ca_file)
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        rest_url = sim.rest_url.replace("127.0.0.1", "localhost")
        token = fetch_token(credentials, rest_url=rest_url, ssl_context=context)
        with BlockingClient(
            sim.ws_url.replace("127.0.0.1", "localhost"), ssl_context=context
        ) as client:
            client.provide_token(token)
            client.send(Subscribe(name="ownTrades"))
            seen: list[Event] = []
            _wait_for(client, seen, lambda e: isinstance(e, SubscriptionStatus))


# --- trio adapter -----------------------------------------------------------------------------


def test_trio_client_subscribes_and_places_an_order() -> None:
    async def main() -> None:
        async with open_simulator(seed=9) as sim:
            credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
            token = await fetch_token_trio(credentials, rest_url=sim.rest_url)
            async with open_trio_client(sim.ws_url) as client:
                assert "open=True" in repr(client)
                await client.provide_token(token)
                await client.send(Subscribe(name="openOrders"))
                reqid = await client.send(
                    AddOrder(ordertype="market", type="buy", pair=PAIR, volume=Decimal("0.5"))
                )
                seen: list[Event] = []
                with trio.fail_after(10):
                    while not any(
                        isinstance(e, RequestCompleted) and e.reqid == reqid for e in seen
                    ):
                        seen.extend(await client.next_events(timeout=1.0))
                assert client.connection.token_state.name == "BOUND"
                assert await client.next_events(timeout=0) == []

    trio.run(main)


def test_trio_client_sees_stale_connection_and_close() -> None:
    config = ConnectionConfig(liveness_timeout=0.2)

    async def main() -> None:
        async with open_simulator(seed=10, default_faults=Faults(heartbeats=False)) as sim:
            credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
            token = await fetch_token_trio(credentials, rest_url=sim.rest_url)
            async with open_trio_client(sim.ws_url, config=config) as client:
                await client.provide_token(token.token)
                await client.send(Subscribe(name="openOrders"))
                seen: list[Event] = []
                with trio.fail_after(10):
                    while not any(isinstance(e, ChannelSnapshot) for e in seen):
                        seen.extend(await client.next_events())
                    # From now on the server stays silent: the core's liveness ping goes
                    # unanswered and the connection is declared stale and closed.
                    (session,) = sim.session_ids()
                    sim.exchange.faults(session).drop_replies = 10
                    while True:
                        try:
                            seen.extend(await client.next_events())
                        except WebSocketClosed:
                            break
                assert any(isinstance(e, ConnectionStale) for e in seen)
                assert client.connection.should_close

    trio.run(main)


# --- the sans-IO WebSocket session ------------------------------------------------------------


def test_parse_endpoint_defaults_and_errors() -> None:
    assert parse_endpoint("wss://ws-auth.kraken.com").port == 443
    assert parse_endpoint("wss://ws-auth.kraken.com").host_header == "ws-auth.kraken.com"
    endpoint = parse_endpoint("ws://127.0.0.1:8080/x?y=1")
    assert (endpoint.port, endpoint.target, endpoint.host_header) == (
        8080,
        "/x?y=1",
        "127.0.0.1:8080",
    )
    with pytest.raises(ValueError, match="unsupported URL"):
        parse_endpoint("ftp://example")


def test_session_refused_upgrade_raises_handshake_error() -> None:
    session = WebSocketSession(parse_endpoint("ws://127.0.0.1:1"))
    session.handshake()
    with pytest.raises(HandshakeError):
        session.receive_data(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")


def _server_pair() -> tuple[WebSocketSession, object]:
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection

    client = WebSocketSession(parse_endpoint("ws://127.0.0.1:1"))
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(client.handshake())
    list(server.events())
    client.receive_data(server.send(AcceptConnection()))
    return client, server


def test_session_answers_pings_and_reassembles_fragments() -> None:
    from wsproto import WSConnection
    from wsproto.events import BytesMessage, CloseConnection, TextMessage
    from wsproto.events import Ping as WsPing
    from wsproto.events import Pong as WsPong

    client, server = _server_pair()
    assert isinstance(server, WSConnection)
    assert client.is_open
    data = server.send(WsPing(payload=b"hi"))
    data += server.send(TextMessage(data='{"event":', message_finished=False))
    data += server.send(TextMessage(data='"heartbeat"}', message_finished=True))
    data += server.send(BytesMessage(data=b"ignored"))
    assert client.receive_data(data) == ['{"event":"heartbeat"}']
    server.receive_data(client.bytes_to_send())
    assert any(isinstance(e, WsPong) for e in server.events())
    assert client.bytes_to_send() == b""
    # The server closes: the client acknowledges and later calls report the close.
    messages = client.receive_data(server.send(CloseConnection(code=1001, reason="bye")))
    assert messages == []
    assert client.bytes_to_send() != b""
    with pytest.raises(WebSocketClosed) as closed:
        client.receive_data(b"")
    assert closed.value.code == 1001
    with pytest.raises(WebSocketClosed):
        client.send_text("x")
    assert client.close() == b""


def test_session_close_and_eof() -> None:
    client, _ = _server_pair()
    assert client.close(1000, "done") != b""
    assert not client.is_open
    unopened = WebSocketSession(parse_endpoint("ws://127.0.0.1:1"))
    assert unopened.close() == b""
    eof, _ = _server_pair()
    assert eof.receive_data(None) == []
    assert not eof.is_open


def test_blocking_client_against_a_refusing_server() -> None:
    # A plain TCP server that answers the upgrade with 404 and closes.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")

    import threading

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        client = BlockingClient(f"ws://127.0.0.1:{port}", connect_timeout=5)
        with pytest.raises(HandshakeError):
            client.connect()
        client.close()
    finally:
        thread.join()
        listener.close()


# --- the demo ---------------------------------------------------------------------------------


def test_demo_runs_the_scripted_session_successfully() -> None:
    out = io.StringIO()
    assert trio.run(demo.run_demo, out) == 0
    text = out.getvalue()
    assert "demo OK" in text
    assert "bought 1.00000000 XBT" in text
    assert "redacted" in text


def test_demo_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    from kraken_proto.adapters.cli import main

    assert main(["demo", "--seed", "11"]) == 0
    assert "demo OK" in capsys.readouterr().out


def test_token_requests_use_the_callers_nonce_source_when_given() -> None:
    from kraken_proto.adapters.transport.tokens import next_token_request
    from kraken_proto.rest import NonceSource

    credentials = Credentials(api_key="key", api_secret="A" * 86 + "==")
    nonces = NonceSource(last=10**15)
    request = next_token_request(credentials, nonces=nonces, otp=None, now=1.0)
    assert request.body == f"nonce={10**15 + 1}".encode()


def test_blocking_client_closes_on_an_invalid_frame_and_raises_it() -> None:
    with run_in_thread(seed=12) as sim, BlockingClient(sim.ws_url) as client:
        seen = client.next_events(timeout=5.0)  # systemStatus: the session now exists
        (session,) = sim.session_ids()
        sim.exchange.faults(session).malformed_frames = 1
        reqid = client.send(Ping())
        failure: list[RemoteProtocolError] = []

        def read() -> list[Event]:
            try:
                return client.next_events(timeout=0.5)
            except RemoteProtocolError as exc:
                failure.append(exc)
                raise WebSocketClosed(None, "failed") from exc

        seen += _read_until_closed(read)
        assert len(failure) == 1
        assert [e.reqid for e in seen if isinstance(e, RequestLost)] == [reqid]
        assert client.connection.state.name == "FAILED"


def test_trio_client_closes_on_an_invalid_frame_and_raises_it() -> None:
    async def main() -> None:
        async with open_simulator(seed=13) as sim, open_trio_client(sim.ws_url) as client:
            seen = await client.next_events(timeout=5.0)
            (session,) = sim.session_ids()
            sim.exchange.faults(session).malformed_frames = 1
            await client.send(Ping())
            with trio.fail_after(10):
                while True:
                    try:
                        seen.extend(await client.next_events())
                    except RemoteProtocolError:
                        break
            assert any(isinstance(e, RequestLost) for e in seen)

    trio.run(main)


def test_driver_closes_with_1002_on_an_invalid_frame() -> None:
    from kraken_proto.adapters.clients._driver import CoreDriver
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, CloseConnection, TextMessage

    driver = CoreDriver(parse_endpoint("ws://127.0.0.1:1"))
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(driver.handshake())
    list(server.events())
    driver.on_bytes(server.send(AcceptConnection()), now=0.0)
    reqid, request_bytes = driver.send(Ping(), now=0.0)
    server.receive_data(request_bytes)
    list(server.events())
    reply = driver.on_bytes(server.send(TextMessage(data="not json")), now=1.0)
    server.receive_data(reply)
    (close,) = [e for e in server.events() if isinstance(e, CloseConnection)]
    assert close.code == 1002
    assert [e.reqid for e in driver.events() if isinstance(e, RequestLost)] == [reqid]
    with pytest.raises(RemoteProtocolError):
        driver.check_open()


def test_blocking_client_reports_a_failed_write_as_lost_requests() -> None:
    with run_in_thread(seed=14) as sim, BlockingClient(sim.ws_url) as client:
        client.next_events(timeout=5.0)  # systemStatus
        sock = client._sock
        assert sock is not None
        sock.shutdown(socket.SHUT_WR)  # the next write fails with EPIPE
        reqid = client.send(Ping())
        seen = _read_until_closed(lambda: client.next_events(timeout=2.0))
        assert [e.reqid for e in seen if isinstance(e, RequestLost)] == [reqid]


def test_trio_client_reports_a_failed_write_as_lost_requests() -> None:
    async def main() -> None:
        async with open_simulator(seed=15) as sim, open_trio_client(sim.ws_url) as client:
            await client.next_events(timeout=5.0)  # systemStatus
            stream = client._stream
            assert isinstance(stream, trio.SocketStream)
            await stream.send_eof()  # the next write fails
            reqid = await client.send(Ping())
            seen: list[Event] = []
            with trio.fail_after(10):
                while True:
                    try:
                        seen.extend(await client.next_events())
                    except WebSocketClosed:
                        break
            assert [e.reqid for e in seen if isinstance(e, RequestLost)] == [reqid]

    trio.run(main)


def test_trio_client_write_survives_the_callers_cancellation() -> None:
    async def main() -> None:
        async with open_simulator(seed=16) as sim, open_trio_client(sim.ws_url) as client:
            await client.next_events(timeout=5.0)
            with trio.CancelScope() as scope:
                scope.cancel()  # already cancelled when send starts writing
                reqid = await client.send(Ping())
            # The frame went out whole: the pong arrives and the request completes.
            seen: list[Event] = []
            with trio.fail_after(10):
                while not any(isinstance(e, RequestCompleted) for e in seen):
                    seen.extend(await client.next_events())
            assert any(isinstance(e, Pong) and e.reqid == reqid for e in seen)

    trio.run(main)
