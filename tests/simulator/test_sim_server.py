"""The simulator's server over loopback, driven by raw h11 and wsproto clients.

The clients here are deliberately independent of the library's own adapters: any HTTP client
and any WebSocket client must work against the simulator.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlsplit

import h11
import kraken_proto
import kraken_proto.v1
import pytest
import trio
from kraken_proto import Event, decode
from kraken_proto.adapters.simulator.model.exchange import Faults
from kraken_proto.adapters.simulator.server import (
    _MAX_REST_BODY,
    make_config,
    open_simulator,
    run_in_thread,
)
from kraken_proto.rest import sign
from kraken_proto.v1 import (
    AddOrderStatus,
    Heartbeat,
    OpenOrders,
    OwnTrades,
    SubscriptionStatus,
    SystemStatus,
    UnknownMessage,
)
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    Pong,
    RejectConnection,
    Request,
    TextMessage,
)

TOKEN_PATH = "/0/private/GetWebSocketsToken"
STEP = 5.0  # generous per-step timeout; every step takes milliseconds on loopback


def run(test: Callable[[], Awaitable[None]]) -> None:
    trio.run(test)


# -- a raw HTTP client -------------------------------------------------------------------------


async def _connect(
    url: str, ssl_context: ssl.SSLContext | None, server_hostname: str = "localhost"
) -> trio.abc.Stream:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    stream: trio.abc.Stream = await trio.open_tcp_stream(parts.hostname, parts.port)
    if ssl_context is not None:
        stream = trio.SSLStream(stream, ssl_context, server_hostname=server_hostname)
    return stream


async def http_request(
    url: str,
    method: str,
    path: str,
    *,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    ssl_context: ssl.SSLContext | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection; returns status, headers and the whole body."""
    client = h11.Connection(h11.CLIENT)
    all_headers = [("Host", "localhost"), ("User-Agent", "test"), *(headers or [])]
    if method != "GET":
        all_headers.append(("Content-Length", str(len(body))))
    stream = await _connect(url, ssl_context)
    async with stream:
        with trio.fail_after(STEP):
            await stream.send_all(
                client.send(h11.Request(method=method, target=path, headers=all_headers))
                + client.send(h11.Data(data=body))
                + client.send(h11.EndOfMessage())
            )
            status = 0
            reply_headers: dict[str, str] = {}
            reply_body = bytearray()
            while True:
                event = client.next_event()
                if event is h11.NEED_DATA:
                    client.receive_data(bytes(await stream.receive_some(65536)))
                elif isinstance(event, h11.Response):
                    status = event.status_code
                    reply_headers = {k.decode(): v.decode() for k, v in event.headers}
                elif isinstance(event, h11.Data):
                    reply_body += event.data
                else:
                    assert isinstance(event, h11.EndOfMessage)
                    return status, reply_headers, bytes(reply_body)


class Endpoint(Protocol):
    """Where and how to ask for a token: a ``SimulatorServer`` or the CLI's announcement."""

    @property
    def rest_url(self) -> str: ...
    @property
    def api_key(self) -> str: ...
    @property
    def api_secret(self) -> str: ...


def signed_token_request(
    sim: Endpoint, *, nonce: int | None = None, secret: str | None = None
) -> tuple[list[tuple[str, str]], bytes]:
    nonce = time.time_ns() if nonce is None else nonce
    body = f"nonce={nonce}"
    signature = sign(
        secret=sim.api_secret if secret is None else secret,
        urlpath=TOKEN_PATH,
        nonce=nonce,
        postdata=body,
    )
    headers = [
        ("API-Key", sim.api_key),
        ("API-Sign", signature),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ]
    return headers, body.encode()


async def fetch_token(sim: Endpoint, ssl_context: ssl.SSLContext | None = None) -> str:
    headers, body = signed_token_request(sim)
    status, _, reply = await http_request(
        sim.rest_url, "POST", TOKEN_PATH, headers=headers, body=body, ssl_context=ssl_context
    )
    assert status == 200
    document = json.loads(reply)
    assert document["error"] == []
    token = document["result"]["token"]
    assert isinstance(token, str)
    return token


# -- a raw WebSocket client --------------------------------------------------------------------


class WsClient:
    """A minimal wsproto client: JSON text out, decoded and checked frames in."""

    def __init__(self, stream: trio.abc.Stream, ws: WSConnection) -> None:
        self.stream = stream
        self.ws = ws
        self.pending: list[Any] = []
        self.closed: CloseConnection | None = None
        self.pongs: list[bytes] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.stream.send_all(self.ws.send(Message(data=json.dumps(message))))

    async def _fill(self) -> None:
        try:
            data = bytes(await self.stream.receive_some(65536))
        except trio.BrokenResourceError:
            # A reset (an abrupt close while our last frame was unread) is an EOF here too.
            data = b""
        self.ws.receive_data(data or None)
        await self.absorb(list(self.ws.events()))

    async def absorb(self, events: list[object]) -> None:
        for event in events:
            if isinstance(event, CloseConnection):
                self.closed = event
                if self.ws.state is ConnectionState.REMOTE_CLOSING:
                    await self.stream.send_all(self.ws.send(event.response()))
            elif isinstance(event, Pong):
                self.pongs.append(bytes(event.payload))
            else:
                self.pending.append(event)

    async def receive_raw(self) -> TextMessage | BytesMessage:
        with trio.fail_after(STEP):
            while not self.pending:
                assert self.closed is None, f"connection closed: {self.closed}"
                await self._fill()
        event = self.pending.pop(0)
        assert isinstance(event, TextMessage | BytesMessage)
        return event

    async def receive(self) -> Event:
        """The next frame, which must be a complete text frame that decodes to a known event."""
        raw = await self.receive_raw()
        assert isinstance(raw, TextMessage)
        assert raw.message_finished
        event = decode(raw.data)
        assert not isinstance(event, UnknownMessage), raw.data
        return event

    async def receive_until(self, wanted: type[Event]) -> tuple[Event, list[Event]]:
        """Frames up to the first of type ``wanted``; returns it and the frames before it."""
        skipped: list[Event] = []
        while True:
            event = await self.receive()
            if isinstance(event, wanted):
                return event, skipped
            skipped.append(event)

    async def wait_closed(self) -> CloseConnection:
        with trio.fail_after(STEP):
            while self.closed is None:
                await self._fill()
        return self.closed


@asynccontextmanager
async def ws_connect(
    url: str, *, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[WsClient]:
    stream = await _connect(url, ssl_context)
    async with stream:
        ws = WSConnection(ConnectionType.CLIENT)
        await stream.send_all(ws.send(Request(host="localhost", target="/")))
        events: list[object] = []
        with trio.fail_after(STEP):
            while not any(isinstance(event, AcceptConnection) for event in events):
                ws.receive_data(bytes(await stream.receive_some(65536)))
                events += ws.events()
        client = WsClient(stream, ws)
        # The first frames may arrive in the same read as the 101 response.
        await client.absorb(events[1:])
        yield client


async def subscribe_private(client: WsClient, token: str) -> tuple[OpenOrders, OwnTrades]:
    """Subscribe to both private channels; return their snapshots after checking the acks."""
    await client.send(
        {"event": "subscribe", "reqid": 1, "subscription": {"name": "openOrders", "token": token}}
    )
    await client.send(
        {"event": "subscribe", "reqid": 2, "subscription": {"name": "ownTrades", "token": token}}
    )
    acks: dict[str, SubscriptionStatus] = {}
    snapshots: dict[str, Event] = {}
    with trio.fail_after(STEP):
        while len(acks) < 2 or len(snapshots) < 2:
            event = await client.receive()
            if isinstance(event, SubscriptionStatus):
                assert event.channel_name is not None
                acks[event.channel_name] = event
            elif isinstance(event, OpenOrders | OwnTrades):
                assert event.channel_name in acks, "a snapshot must follow its ack"
                snapshots[event.channel_name] = event
            else:
                assert isinstance(event, Heartbeat), event
    assert acks["openOrders"].status == "subscribed"
    assert acks["openOrders"].reqid == 1
    assert acks["ownTrades"].status == "subscribed"
    assert acks["ownTrades"].reqid == 2
    orders, trades = snapshots["openOrders"], snapshots["ownTrades"]
    assert isinstance(orders, OpenOrders)
    assert isinstance(trades, OwnTrades)
    assert orders.sequence == 1
    assert trades.sequence == 1
    return orders, trades


# -- REST --------------------------------------------------------------------------------------


def test_signed_token_request_gets_a_token() -> None:
    async def main() -> None:
        async with open_simulator(seed=7) as sim:
            headers, body = signed_token_request(sim)
            status, reply_headers, reply = await http_request(
                sim.rest_url, "POST", TOKEN_PATH, headers=headers, body=body
            )
            assert status == 200
            assert reply_headers["content-type"].startswith("application/json")
            assert reply_headers["connection"] == "close"
            document = json.loads(reply)
            assert document["error"] == []
            assert document["result"]["expires"] == 900
            assert len(document["result"]["token"]) >= 20

    run(main)


def test_bad_signature_is_refused() -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            other_secret = make_config(seed=99).api_secret
            headers, body = signed_token_request(sim, secret=other_secret)
            status, _, reply = await http_request(
                sim.rest_url, "POST", TOKEN_PATH, headers=headers, body=body
            )
            assert status == 200
            assert json.loads(reply)["error"] == ["EAPI:Invalid signature"]

    run(main)


@pytest.mark.parametrize("fault", ["http_500", "non_json"])
def test_rest_faults_are_visible_over_the_wire(fault: str) -> None:
    async def main() -> None:
        async with open_simulator(rest_fault=fault) as sim:
            headers, body = signed_token_request(sim)
            status, _, reply = await http_request(
                sim.rest_url, "POST", TOKEN_PATH, headers=headers, body=body
            )
            if fault == "http_500":
                assert status == 500
            else:
                assert status == 200
                with pytest.raises(ValueError, match="Expecting value"):
                    json.loads(reply)

    run(main)


def test_other_paths_get_404() -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            headers, body = signed_token_request(sim)
            status, _, _ = await http_request(
                sim.rest_url, "POST", "/0/private/Balance", headers=headers, body=body
            )
            assert status == 404
            status, _, _ = await http_request(sim.rest_url, "GET", "/")
            assert status == 404
            status, _, reply = await http_request(sim.rest_url, "HEAD", "/elsewhere")
            assert status == 404
            assert reply == b""
            # A WebSocket upgrade anywhere but "/" (v1) and "/v2" is refused before any handshake.
            stream = await _connect(sim.ws_url, None)
            async with stream:
                ws = WSConnection(ConnectionType.CLIENT)
                await stream.send_all(ws.send(Request(host="localhost", target="/v3")))
                with trio.fail_after(STEP):
                    rejections: list[RejectConnection] = []
                    while not rejections:
                        ws.receive_data(bytes(await stream.receive_some(65536)))
                        rejections = [e for e in ws.events() if isinstance(e, RejectConnection)]
                assert rejections[0].status_code == 404

    run(main)


def test_malformed_and_oversized_http_requests() -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            parts = urlsplit(sim.rest_url)
            assert parts.port is not None
            async with await trio.open_tcp_stream("127.0.0.1", parts.port) as stream:
                await stream.send_all(b"NOT HTTP AT ALL\r\n\r\n")
                with trio.fail_after(STEP):
                    reply = await stream.receive_some(65536)
                assert reply.startswith(b"HTTP/1.1 400 ")

            # The body goes over the limit with its last byte, so the server has read all of it
            # when it answers (closing with unread bytes would reset the connection).
            big = b"n" * (_MAX_REST_BODY + 1)
            status, _, _ = await http_request(sim.rest_url, "POST", TOKEN_PATH, body=big)
            assert status == 413

            # A client that hangs up mid-body, or before a request, leaves the server serving.
            async with await trio.open_tcp_stream("127.0.0.1", parts.port) as stream:
                await stream.send_all(
                    b"POST /0/private/GetWebSocketsToken HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Length: 100\r\n\r\nnonce="
                )
            async with await trio.open_tcp_stream("127.0.0.1", parts.port):
                pass
            assert (await fetch_token(sim)) != ""

    run(main)


# -- WebSocket ---------------------------------------------------------------------------------


def test_subscribe_place_order_and_fill_over_a_raw_websocket() -> None:
    async def main() -> None:
        async with open_simulator(seed=3) as sim:
            token = await fetch_token(sim)
            async with ws_connect(sim.ws_url) as client:
                status = await client.receive()
                assert isinstance(status, SystemStatus)
                assert status.status == "online"
                assert status.connection_id is not None

                orders, trades = await subscribe_private(client, token)
                assert orders.orders == ()
                assert trades.trades == ()

                await client.send(
                    {
                        "event": "addOrder",
                        "token": token,
                        "reqid": 10,
                        "ordertype": "limit",
                        "type": "buy",
                        "pair": "XBT/USD",
                        "price": "29000.0",
                        "volume": "0.01000000",
                    }
                )
                reply, before = await client.receive_until(AddOrderStatus)
                assert isinstance(reply, AddOrderStatus)
                assert reply.status == "ok", reply
                assert reply.reqid == 10
                assert reply.txid is not None
                txid = reply.txid
                deltas = [e for e in before if isinstance(e, OpenOrders)]
                while not any(
                    oid == txid and record.status == "open"
                    for delta in deltas
                    for oid, record in delta.orders
                ):
                    event = await client.receive()
                    if isinstance(event, OpenOrders):
                        deltas.append(event)
                first = deltas[0].orders[0][1]
                assert first.descr is not None
                assert first.descr.pair == "XBT/USD"
                assert first.descr.price == Decimal("29000.0")
                assert first.vol == Decimal("0.01000000")
                sequences = [delta.sequence for delta in deltas]
                assert sequences == list(range(2, 2 + len(deltas)))
                assert txid in sim.exchange.open_orders()

                # The market falls through the limit: a fill on both channels.
                sim.set_reference_price("XBT/USD", Decimal("28000.0"))
                fill, _ = await client.receive_until(OwnTrades)
                assert isinstance(fill, OwnTrades)
                assert fill.sequence == 2
                (trade_id, trade), *_ = fill.trades
                assert trade.ordertxid == txid
                assert trade.vol is not None
                assert Decimal(0) < trade.vol <= Decimal("0.01")  # the model may fill in parts
                assert trade_id in sim.exchange.trades()

    run(main)


def test_heartbeats_come_from_the_timer_task() -> None:
    async def main() -> None:
        config = make_config(seed=1)
        config.heartbeat_interval = 0.1
        async with open_simulator(config) as sim:
            token = await fetch_token(sim)
            async with ws_connect(sim.ws_url) as client:
                assert isinstance(await client.receive(), SystemStatus)
                await subscribe_private(client, token)
                started = time.monotonic()
                for _ in range(3):
                    heartbeat, _ = await client.receive_until(Heartbeat)
                    assert isinstance(heartbeat, Heartbeat)
                assert time.monotonic() - started < STEP

    run(main)


def test_websocket_ping_fragmented_text_and_clean_close() -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            async with ws_connect(sim.ws_url) as client:
                assert isinstance(await client.receive(), SystemStatus)
                await client.stream.send_all(client.ws.send(Ping(payload=b"are you there")))
                # An application ping split across two frames must still reach the model whole.
                await client.stream.send_all(
                    client.ws.send(Message(data='{"event":"ping",', message_finished=False))
                    + client.ws.send(Message(data='"reqid":5}', message_finished=True))
                )
                pong = await client.receive()
                assert isinstance(pong, kraken_proto.v1.Pong)
                assert pong.reqid == 5
                assert client.pongs == [b"are you there"]
                assert len(sim.session_ids()) == 1

                await client.stream.send_all(client.ws.send(CloseConnection(code=1000)))
                closed = await client.wait_closed()
                assert closed.code == 1000
            with trio.fail_after(STEP):
                while sim.session_ids():
                    await trio.sleep(0.01)

    run(main)


def test_binary_frames_and_protocol_violations_close_the_session() -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            async with ws_connect(sim.ws_url) as client:
                assert isinstance(await client.receive(), SystemStatus)
                await client.stream.send_all(client.ws.send(Message(data=b"\x00binary")))
                closed = await client.wait_closed()
                assert closed.code == 1003

            async with ws_connect(sim.ws_url) as client:
                assert isinstance(await client.receive(), SystemStatus)
                # An unmasked frame from a client violates RFC 6455 section 5.1.
                await client.stream.send_all(b"\x81\x02hi")
                closed = await client.wait_closed()
                assert closed.code == 1002

            # The server is still serving after both.
            async with ws_connect(sim.ws_url) as client:
                assert isinstance(await client.receive(), SystemStatus)

    run(main)


def test_bad_websocket_handshake_gets_400() -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            headers = [("Connection", "Upgrade"), ("Upgrade", "websocket")]  # no key, no version
            status, _, _ = await http_request(sim.rest_url, "GET", "/", headers=headers)
            assert status == 400

    run(main)


def test_abrupt_client_disconnect_closes_the_session() -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            async with ws_connect(sim.ws_url) as client:
                assert isinstance(await client.receive(), SystemStatus)
                assert len(sim.session_ids()) == 1
            with trio.fail_after(STEP):
                while sim.session_ids():
                    await trio.sleep(0.01)

    run(main)


def test_close_after_frames_drops_the_tcp_connection_without_a_close_frame() -> None:
    async def main() -> None:
        async with open_simulator(default_faults=Faults(close_after_frames=1)) as sim:
            async with ws_connect(sim.ws_url) as client:
                assert isinstance(await client.receive(), SystemStatus)
                closed = await client.wait_closed()
                assert closed.code == 1006  # wsproto's "transport closed with no close frame"

            # Set on a live session: the next frame is never sent.
            sim.exchange.default_faults = Faults()
            async with ws_connect(sim.ws_url) as client:
                assert isinstance(await client.receive(), SystemStatus)
                (session,) = sim.session_ids()
                sim.exchange.faults(session).close_after_frames = 1
                await client.send({"event": "ping", "reqid": 1})
                closed = await client.wait_closed()
                assert closed.code == 1006
                assert client.pending == []

    run(main)


def test_close_after_zero_frames_sends_nothing() -> None:
    async def main() -> None:
        async with (
            open_simulator(default_faults=Faults(close_after_frames=0)) as sim,
            ws_connect(sim.ws_url) as client,
        ):
            closed = await client.wait_closed()
            assert closed.code == 1006
            assert client.pending == []

    run(main)


def test_frames_queued_behind_a_client_close_are_dropped() -> None:
    async def main() -> None:
        async with open_simulator() as sim, ws_connect(sim.ws_url) as client:
            assert isinstance(await client.receive(), SystemStatus)
            # The request and the close arrive together: the model's reply is queued while
            # the close handshake is under way and must not be sent after it.
            await client.stream.send_all(
                client.ws.send(Message(data='{"event":"ping","reqid":9}'))
                + client.ws.send(CloseConnection(code=1000))
            )
            closed = await client.wait_closed()
            assert closed.code == 1000
            with trio.fail_after(STEP):
                while sim.session_ids():
                    await trio.sleep(0.01)

    run(main)


def test_unsolicited_pong_frames_are_ignored() -> None:
    async def main() -> None:
        async with open_simulator() as sim, ws_connect(sim.ws_url) as client:
            assert "api_secret" not in repr(sim)
            assert sim.api_secret not in repr(sim)
            assert isinstance(await client.receive(), SystemStatus)
            await client.stream.send_all(client.ws.send(Pong(payload=b"unsolicited")))
            await client.send({"event": "ping", "reqid": 3})
            pong = await client.receive()
            assert isinstance(pong, kraken_proto.v1.Pong)
            assert pong.reqid == 3

    run(main)


def test_a_client_reset_mid_request_leaves_the_server_serving() -> None:
    async def main() -> None:
        async with open_simulator() as sim:
            parts = urlsplit(sim.rest_url)
            assert parts.port is not None
            stream = await trio.open_tcp_stream("127.0.0.1", parts.port)
            await stream.send_all(b"POST /0/private/GetWebSocketsToken HTTP/1.1\r\n")
            # SO_LINGER with a zero timeout turns close() into a TCP reset.
            stream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            await stream.aclose()
            assert (await fetch_token(sim)) != ""

    run(main)


def test_default_faults_apply_to_new_sessions() -> None:
    async def main() -> None:
        async with (
            open_simulator(default_faults=Faults(malformed_frames=1)) as sim,
            ws_connect(sim.ws_url) as client,
        ):
            raw = await client.receive_raw()
            assert isinstance(raw, TextMessage)
            with pytest.raises(kraken_proto.RemoteProtocolError):
                decode(raw.data)

    run(main)


def test_system_status_broadcast_reaches_every_session() -> None:
    async def main() -> None:
        async with (
            open_simulator() as sim,
            ws_connect(sim.ws_url) as first,
            ws_connect(sim.ws_url) as second,
        ):
            for client in (first, second):
                assert isinstance(await client.receive(), SystemStatus)
            sim.set_system_status("maintenance")
            for client in (first, second):
                event = await client.receive()
                assert isinstance(event, SystemStatus)
                assert event.status == "maintenance"
            assert sim.apply(lambda exchange, now: exchange.open_orders()) == {}

    run(main)


def test_the_core_connection_drives_the_simulator_over_real_sockets() -> None:
    """The sans-IO ``kraken_proto.v1.Connection`` end to end, with this file's wsproto transport."""

    async def main() -> None:
        async with open_simulator(seed=11) as sim:
            token = await fetch_token(sim)
            async with ws_connect(sim.ws_url) as client:
                connection = kraken_proto.v1.Connection()
                connection.connection_made(time.time())
                connection.provide_token(token, time.time())
                events: list[Event] = []

                async def pump(done: Callable[[], bool]) -> None:
                    """Move frames both ways until ``done()``; every frame must be understood."""
                    with trio.fail_after(STEP):
                        while True:
                            for text in connection.data_to_send():
                                await client.stream.send_all(client.ws.send(Message(data=text)))
                            events.extend(connection.events_received())
                            if done():
                                return
                            raw = await client.receive_raw()
                            assert isinstance(raw, TextMessage)
                            connection.receive_message(raw.data, time.time())

                def seen(kind: type[Event], test: Callable[[Any], bool] = bool) -> bool:
                    return any(isinstance(event, kind) and test(event) for event in events)

                await pump(lambda: connection.system_status == "online")
                connection.send(kraken_proto.v1.Subscribe(name="openOrders"), time.time())
                connection.send(kraken_proto.v1.Subscribe(name="ownTrades"), time.time())
                await pump(
                    lambda: sum(isinstance(e, kraken_proto.v1.ChannelSnapshot) for e in events) == 2
                )
                order = kraken_proto.AddOrder(
                    ordertype="limit",
                    type="buy",
                    pair="XBT/USD",
                    volume=Decimal("0.01"),
                    price=Decimal("29000.0"),
                )
                reqid = connection.send(order, time.time())
                await pump(
                    lambda: seen(kraken_proto.v1.RequestCompleted, lambda e: e.reqid == reqid)
                )
                sim.set_reference_price("XBT/USD", Decimal("28000.0"))
                await pump(
                    lambda: seen(kraken_proto.v1.ChannelUpdate, lambda e: e.channel == "ownTrades")
                )
                assert not seen(UnknownMessage)
                assert not seen(kraken_proto.v1.SequenceGap)
                assert not seen(kraken_proto.v1.RequestFailed)

    run(main)


def test_listeners_on_other_ports_are_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    # What a name resolving to two addresses gives with port 0: two listeners, two ports.
    real_open = trio.open_tcp_listeners
    opened: list[trio.SocketListener] = []

    async def two_addresses(port: int, *, host: str) -> list[trio.SocketListener]:
        opened.extend([*await real_open(port, host=host), *await real_open(port, host=host)])
        return list(opened)

    monkeypatch.setattr(trio, "open_tcp_listeners", two_addresses)

    async def main() -> None:
        async with open_simulator() as sim:
            first, second = opened
            assert sim.ws_url.endswith(f":{first.socket.getsockname()[1]}")
            assert second.socket.fileno() == -1
            assert (await fetch_token(sim)) != ""

    run(main)


# -- TLS ---------------------------------------------------------------------------------------


def test_tls_with_the_generated_ca() -> None:
    async def main() -> None:
        async with open_simulator(tls=True) as sim:
            assert sim.rest_url.startswith("https://")
            assert sim.ws_url.startswith("wss://")
            assert sim.ca_file is not None
            context = ssl.create_default_context(cafile=sim.ca_file)
            token = await fetch_token(sim, context)
            async with ws_connect(sim.ws_url, ssl_context=context) as client:
                assert isinstance(await client.receive(), SystemStatus)
                await subscribe_private(client, token)

            # A client that does not trust the run's CA fails its handshake; the server lives on.
            with pytest.raises(trio.BrokenResourceError):
                await http_request(
                    sim.rest_url, "GET", "/", ssl_context=ssl.create_default_context()
                )
            assert (await fetch_token(sim, context)) != ""

    run(main)


# -- the thread runner -------------------------------------------------------------------------


def test_run_in_thread_serves_blocking_clients() -> None:
    with run_in_thread(seed=5) as sim:
        assert "api_secret" not in repr(sim)
        assert sim.api_secret not in repr(sim)
        nonce = time.time_ns()
        body = f"nonce={nonce}"
        request = urllib.request.Request(
            sim.rest_url + TOKEN_PATH,
            data=body.encode(),
            method="POST",
            headers={
                "API-Key": sim.api_key,
                "API-Sign": sign(
                    secret=sim.api_secret, urlpath=TOKEN_PATH, nonce=nonce, postdata=body
                ),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        with urllib.request.urlopen(request, timeout=STEP) as response:
            document = json.loads(response.read())
        assert document["error"] == []
        assert sim.session_ids() == []
        sim.set_reference_price("XBT/USD", Decimal("31000.0"))
        sim.set_system_status("post_only")
        assert sim.apply(lambda exchange, now: exchange.open_orders()) == {}


def test_run_in_thread_reports_startup_failures() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match="in use"), run_in_thread(port=port):
            pass


def _crash_a_threaded_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def model_bug(now: float) -> None:
        raise RuntimeError("model bug")

    with run_in_thread() as sim:
        # The timer task will find a deadline due at once and run the broken ``advance``.
        monkeypatch.setattr(sim.exchange, "advance", model_bug)
        monkeypatch.setattr(sim.exchange, "next_deadline", time.time)
        sim.apply(lambda exchange, now: None)  # wakes the timer task
        deadline = time.monotonic() + STEP
        while time.monotonic() < deadline:
            try:
                sim.session_ids()
            except trio.RunFinishedError:
                return  # the server thread has died; leaving the block re-raises its error
            time.sleep(0.01)
        raise AssertionError("the server survived a failing model")


def test_run_in_thread_reraises_a_server_failure_on_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BaseExceptionGroup) as failure:
        _crash_a_threaded_server(monkeypatch)
    assert failure.group_contains(RuntimeError, match="model bug")
