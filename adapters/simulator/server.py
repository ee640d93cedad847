"""The simulator's I/O: one loopback port serving Kraken's REST token call and the v1 WebSocket.

Thin by design: every exchange decision (and almost every fault) belongs to the pure model in
``exchange``; this module moves bytes, reads the clock and runs the model's timers.

* HTTP/1.1 via h11. Each connection carries ONE request: REST replies are sent with
  ``Connection: close`` (no keep-alive), and an upgrade request on ``/`` turns the connection
  into a WebSocket session. Other upgrade targets get 404; every non-upgrade request goes to
  ``Exchange.handle_rest`` (which answers 404 for unknown paths).
* WebSocket via wsproto: the request bytes h11 has sniffed are replayed into a server-side
  ``WSConnection``, which performs and validates the handshake itself.
* After every model call the server drains every session's outgoing queue, and a timer task
  sleeps until ``Exchange.next_deadline()`` and then calls ``Exchange.advance(now)``.
* ``Faults.close_after_frames`` is enforced here: after the session has been sent that many
  model frames the transport is dropped without a WebSocket close frame.
* ``/_sim/...`` requests go to the control API (``_control``), loopback clients only.
* Bounds (``_bounds``): a connection must deliver its whole HTTP request (or WebSocket upgrade
  request) within ``handshake_timeout`` seconds, a WebSocket message larger than
  ``max_message_size`` bytes is refused with close code 1009, and a session whose unsent
  frames pass ``max_backlog`` characters (a client that does not read) is dropped.
* Replay (``_replay``): with a script, the first WebSocket client that subscribes is served
  the recorded frames instead of the model.

A network failure ends only its own connection. An exception raised by the model is a bug in
the model and is not swallowed: it stops the server and ``open_simulator`` (or, on exit,
``run_in_thread``) re-raises it, inside a trio ``ExceptionGroup``.

Entry points: ``open_simulator`` (async context manager, for trio code and tests) and
``run_in_thread`` (blocking context manager running the same server in a background thread).
"""

from __future__ import annotations

import base64
import functools
import json
import math
import queue
import random
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager, suppress
from decimal import Decimal
from typing import TypeVar

import h11
import trio
from kraken_proto.adapters.simulator.model.exchange import (
    Exchange,
    Faults,
    OrderView,
    SimulatorConfig,
    TradeView,
)
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.frame_protocol import CloseReason
from wsproto.utilities import RemoteProtocolError as WebSocketProtocolError

from ._bounds import DEFAULT_LIMITS, MessageAssembler, MessageTooBig, ServerLimits
from ._control import handle_control, is_control_path
from ._faultspec import FaultSpecError, apply_fault, parse_fault
from ._replay import ReplayScript, load_replay
from .tls import server_ssl_context, temporary_tls_files

__all__ = [
    "FaultSpecError",
    "ReplayScript",
    "ServerLimits",
    "SimulatorServer",
    "SimulatorThread",
    "load_replay",
    "make_config",
    "open_simulator",
    "run_in_thread",
]

T = TypeVar("T")

_RECEIVE_SIZE = 65536
# The token call's body is a nonce and maybe an otp; anything near this is not a real client.
_MAX_REST_BODY = 65536
_WEBSOCKET_PATH = b"/"
_WEBSOCKET_PROTOCOLS = {_WEBSOCKET_PATH: "v1", b"/v2": "v2"}  # path -> protocol spoken there
# After the replay's close frame, how long the client gets to answer it before the drop.
_CLOSE_GRACE = 2.0


def make_config(seed: int = 0) -> SimulatorConfig:
    """The default simulator configuration with throw-away credentials derived from ``seed``.

    The key looks like a Kraken API key (56 base64 characters) and the secret like a Kraken
    private key (base64 of 64 bytes). The same seed always yields the same credentials.
    """
    rng = random.Random(f"kraken-proto-simulator-credentials:{seed}")
    return SimulatorConfig(
        api_key=base64.b64encode(rng.randbytes(42)).decode("ascii"),
        api_secret=base64.b64encode(rng.randbytes(64)).decode("ascii"),
    )


class _Session:
    """One open WebSocket: the model's session id and the queue its writer task drains."""

    def __init__(self, session_id: int, outgoing: trio.MemorySendChannel[str]) -> None:
        self.session_id = session_id
        self.outgoing = outgoing
        self.frames_sent = 0
        self.replaying = False  # detached from the model, serving a replay script
        self.backlog = 0  # characters queued in ``outgoing``, not yet taken by the writer
        self.scope: trio.CancelScope | None = None  # cancelling it ends the session


def _is_websocket_upgrade(request: h11.Request) -> bool:
    connection_tokens: set[bytes] = set()
    upgrade = b""
    for name, value in request.headers:
        if name == b"connection":
            connection_tokens.update(token.strip().lower() for token in value.split(b","))
        elif name == b"upgrade":
            upgrade = value.strip().lower()
    return b"upgrade" in connection_tokens and upgrade == b"websocket"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _peer_host(stream: trio.abc.Stream) -> str | None:
    """The client's address literal, or None when the stream is not a TCP socket."""
    while isinstance(stream, trio.SSLStream):
        stream = stream.transport_stream
    if not isinstance(stream, trio.SocketStream):
        return None
    try:
        name = stream.socket.getpeername()
    except OSError:  # pragma: no cover - the peer vanished between accept and here
        return None
    return str(name[0]) if isinstance(name, tuple) else None


def _is_subscribe(text: str) -> bool:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("event") == "subscribe"


class SimulatorServer:
    """A running simulator, as yielded by ``open_simulator``. Use it from the trio thread only.

    Attributes: ``rest_url`` (base URL; the token call is ``rest_url + "/0/private/
    GetWebSocketsToken"``), ``ws_url`` (the WebSocket endpoint, like ``wss://ws-auth.kraken.com``
    it has no path), ``api_key``, ``api_secret``, ``ca_file`` (path of the CA to verify against
    in TLS mode, else ``None``) and ``exchange`` (the pure model).

    Drive it with its methods (``set_reference_price``, ``set_system_status``, ``set_fault``,
    ``invalidate_tokens``; read ``orders``, ``open_orders``, ``trades``, ``fills``,
    ``balances``, ``session_ids``). They take no ``now`` and send the frames they cause. The
    model's own methods need ``now`` and only queue frames: call them through ``apply``.
    """

    def __init__(
        self,
        exchange: Exchange,
        *,
        rest_url: str,
        ws_url: str,
        api_key: str,
        api_secret: str,
        ca_file: str | None,
        limits: ServerLimits = DEFAULT_LIMITS,
        replay: ReplayScript | None = None,
    ) -> None:
        self.exchange = exchange
        self.limits = limits
        self._replay = replay
        self.rest_url = rest_url
        self.ws_url = ws_url
        self.api_key = api_key
        self.api_secret = api_secret
        self.ca_file = ca_file
        self._sessions: dict[int, _Session] = {}
        self._wakeup = trio.Event()

    def __repr__(self) -> str:
        return f"<SimulatorServer rest_url={self.rest_url!r} ws_url={self.ws_url!r}>"

    # -- control -------------------------------------------------------------------------------

    def apply(self, action: Callable[[Exchange, float], T]) -> T:
        """Call ``action(exchange, now)``, then send every frame it queued; return its result."""
        now = time.time()
        result = action(self.exchange, now)
        self._after_model_call(now)
        return result

    def set_reference_price(self, pair: str, price: Decimal) -> None:
        """Move ``pair``'s market price (may fill resting orders) and send the resulting frames."""
        self.apply(lambda exchange, now: exchange.set_reference_price(pair, price, now))

    def set_system_status(self, status: str) -> None:
        """Change the engine status and broadcast ``systemStatus`` to every session."""
        self.apply(lambda exchange, now: exchange.set_system_status(status, now))

    def set_fault(self, spec: str, *, session: int | None = None) -> None:
        """Inject one fault, written as for ``--fault`` (``"skip-sequence=1"``, ``"no-heartbeats"``,
        ``"clear"``, ``"rest=http_500"``...); raises ``FaultSpecError`` for a bad spec.

        With ``session``, only that open session changes (``KeyError`` if there is none);
        without, every open session and every later one. ``close-after=N`` on an open session
        counts the N frames from now.
        """
        change = parse_fault(spec)
        if change.rest:
            if session is not None:
                raise FaultSpecError("the rest fault applies to every token request, not a session")
            self.exchange.rest_fault = change.rest_fault
            return
        if session is not None and session not in self.session_ids():
            raise KeyError(session)
        if session is None:
            apply_fault(self.exchange.default_faults, change)
        for session_id in self.session_ids() if session is None else [session]:
            faults = self.exchange.faults(session_id)
            apply_fault(faults, change)
            counted = "close_after_frames" in change.session_fields
            if counted and faults.close_after_frames is not None:
                faults.close_after_frames += self._sessions[session_id].frames_sent
        self._after_model_call(time.time())  # the heartbeat fault moves the next deadline

    def invalidate_tokens(self) -> None:
        """Make every issued token invalid, as after a Kraken service upgrade."""
        self.exchange.invalidate_tokens()

    def orders(self) -> dict[str, OrderView]:
        """Every order placed so far, finished ones included, txid -> order."""
        return self.exchange.orders()

    def open_orders(self) -> dict[str, OrderView]:
        """The pending and open orders, txid -> order."""
        return self.exchange.open_orders()

    def trades(self) -> dict[str, TradeView]:
        """Every trade so far (taker fills consolidated), trade id -> trade."""
        return self.exchange.trades()

    def fills(self) -> dict[str, TradeView]:
        """Every individual fill, trade id -> fill."""
        return self.exchange.fills()

    def balances(self) -> dict[str, Decimal]:
        """Total balance per asset."""
        return self.exchange.balances()

    def session_ids(self) -> list[int]:
        """The model's session ids of the currently open WebSockets, oldest first."""
        return [key for key, session in self._sessions.items() if not session.replaying]

    # -- plumbing ------------------------------------------------------------------------------

    def _after_model_call(self, now: float) -> None:
        # Any model call may queue frames for any session (fills are broadcast) and may move
        # the next deadline, so drain every queue and let the timer task recompute.
        for session in list(self._sessions.values()):
            for frame in self.exchange.take_outgoing(session.session_id, now):
                session.outgoing.send_nowait(frame)
                session.backlog += len(frame)
            if session.backlog > self.limits.max_backlog and session.scope is not None:
                # A client that sends requests but never reads the replies: drop it rather
                # than hold its replies without end (it cannot read a close frame either).
                session.scope.cancel()
        self._wakeup.set()

    async def _run_timers(self) -> None:
        while True:
            self._wakeup = trio.Event()
            deadline = self.exchange.next_deadline()
            delay = math.inf if deadline is None else max(0.0, deadline - time.time())
            with trio.move_on_after(delay):
                await self._wakeup.wait()
            now = time.time()
            if deadline is not None and now >= deadline:
                self.exchange.advance(now)
                self._after_model_call(now)

    async def _handle_connection(self, stream: trio.abc.Stream) -> None:
        # A vanished peer (or a failed TLS handshake) leaves nothing to answer. ``except*``
        # because a WebSocket session's reader and writer run in a nursery.
        try:
            await self._serve_connection(stream)
        except* (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    async def _serve_connection(self, stream: trio.abc.Stream) -> None:
        http = h11.Connection(h11.SERVER)
        raw = bytearray()  # the exact bytes read, replayed into wsproto on an upgrade
        upgrade: h11.Request | None = None
        try:
            # The whole request must arrive within the timeout; a client that sends nothing or
            # trickles bytes is dropped without an answer (it is not reading one anyway).
            with trio.move_on_after(self.limits.handshake_timeout):
                request = await self._read_request(stream, http, raw)
                if isinstance(request, tuple):
                    await self._answer(stream, http, *request)
                else:  # a WebSocket upgrade, or None (client gone, or 404/413 sent)
                    upgrade = request
        except h11.RemoteProtocolError as exc:
            # Raised only while reading, i.e. before we answered: h11 lets us send an error.
            code = exc.error_status_hint
            await self._send_http(stream, http, code, "text/plain", b"Bad Request\n")
        if upgrade is not None:
            protocol = _WEBSOCKET_PROTOCOLS[upgrade.target]
            await self._serve_websocket(stream, bytes(raw), protocol)

    async def _read_request(
        self, stream: trio.abc.Stream, http: h11.Connection, raw: bytearray
    ) -> h11.Request | tuple[h11.Request, bytes] | None:
        """A WebSocket upgrade request (bare), a whole REST request (head, body), or None."""
        request = await self._next_http_event(stream, http, raw)
        if not isinstance(request, h11.Request):
            return None  # the client closed before sending a request
        if _is_websocket_upgrade(request):
            if request.target in _WEBSOCKET_PROTOCOLS:
                return request
            await self._send_http(stream, http, 404, "text/plain", b"Not Found\n")
            return None
        body = bytearray()
        event: h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED] = request
        while not isinstance(event, h11.EndOfMessage):
            event = await self._next_http_event(stream, http, raw)
            # h11 yields only Data and EndOfMessage here; an early EOF raises instead.
            if isinstance(event, h11.Data):
                body += event.data
                if len(body) > _MAX_REST_BODY:
                    await self._send_http(stream, http, 413, "text/plain", b"Too Large\n")
                    return None
        return request, bytes(body)

    async def _answer(
        self, stream: trio.abc.Stream, http: h11.Connection, request: h11.Request, body: bytes
    ) -> None:
        request_now = time.time()
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in request.headers
        }
        method = request.method.decode("ascii")
        path = request.target.decode("ascii")
        if is_control_path(path):
            reply = handle_control(
                self, method=method, path=path, headers=headers, body=body, peer=_peer_host(stream)
            )
        else:
            reply = self.exchange.handle_rest(
                method=method, path=path, headers=headers, body=body, now=request_now
            )
            self._after_model_call(request_now)
        body_allowed = request.method != b"HEAD"
        await self._send_http(
            stream, http, reply.status, reply.content_type, reply.body if body_allowed else b""
        )

    async def _next_http_event(
        self, stream: trio.abc.Stream, http: h11.Connection, raw: bytearray
    ) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        """The next h11 event, reading more bytes (and recording them in ``raw``) as needed."""
        while True:
            event = http.next_event()
            if event is h11.NEED_DATA:
                data = bytes(await stream.receive_some(_RECEIVE_SIZE))
                raw += data
                http.receive_data(data)
            else:
                return event

    async def _send_http(
        self,
        stream: trio.abc.Stream,
        http: h11.Connection,
        status: int,
        content_type: str,
        body: bytes,
    ) -> None:
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ]
        data = http.send(h11.Response(status_code=status, headers=headers)) or b""
        if body:  # h11 refuses body bytes in a reply to HEAD, so callers pass b"" for it
            data += http.send(h11.Data(data=body)) or b""
        data += http.send(h11.EndOfMessage()) or b""
        await stream.send_all(data)

    async def _serve_websocket(
        self, stream: trio.abc.Stream, handshake: bytes, protocol: str = "v1"
    ) -> None:
        ws = WSConnection(ConnectionType.SERVER)
        try:
            ws.receive_data(handshake)
            events = list(ws.events())
        except WebSocketProtocolError as exc:  # a bad handshake: answer it (wsproto says 400)
            await stream.send_all(ws.send(exc.event_hint or RejectConnection()))
            return
        # h11 already saw a complete request head, so wsproto's first event is the Request.
        if not events or not isinstance(events[0], Request):  # pragma: no cover
            return
        await stream.send_all(ws.send(AcceptConnection()))

        now = time.time()
        session_id = self.exchange.open_session(now, protocol=protocol)
        outgoing, frames = trio.open_memory_channel[str](math.inf)
        session = _Session(session_id, outgoing)
        self._sessions[session_id] = session
        send_lock = trio.Lock()
        try:
            self._after_model_call(now)
            async with trio.open_nursery() as nursery:
                session.scope = nursery.cancel_scope
                nursery.start_soon(
                    self._write_frames, stream, ws, session, frames, send_lock, nursery.cancel_scope
                )
                await self._read_frames(stream, ws, session, send_lock, nursery)
                nursery.cancel_scope.cancel()
        finally:
            del self._sessions[session_id]
            outgoing.close()
            closed_at = time.time()
            self.exchange.close_session(session_id, closed_at)
            self._after_model_call(closed_at)

    def _close_due(self, session: _Session) -> bool:
        if session.replaying:  # pragma: no cover - only frames queued before the claim race here
            return False  # the model no longer knows the session
        limit = self.exchange.faults(session.session_id).close_after_frames
        return limit is not None and session.frames_sent >= limit

    async def _write_frames(
        self,
        stream: trio.abc.Stream,
        ws: WSConnection,
        session: _Session,
        frames: trio.MemoryReceiveChannel[str],
        send_lock: trio.Lock,
        cancel_scope: trio.CancelScope,
    ) -> None:
        while True:
            text = await frames.receive()
            session.backlog -= len(text)
            if self._close_due(session):
                break
            async with send_lock:
                if ws.state is not ConnectionState.OPEN:
                    continue  # closing: the model's frames no longer have anywhere to go
                await stream.send_all(ws.send(Message(data=text)))
            session.frames_sent += 1
            if self._close_due(session):
                break
        # Only the close_after_frames fault gets here. Ending the session drops the transport
        # (serve_listeners closes the stream forcefully once the handler returns): no close
        # frame, just a TCP FIN, as when a real server dies.
        cancel_scope.cancel()

    async def _read_frames(
        self,
        stream: trio.abc.Stream,
        ws: WSConnection,
        session: _Session,
        send_lock: trio.Lock,
        nursery: trio.Nursery,
    ) -> None:
        message = MessageAssembler(self.limits.max_message_size)
        while True:
            for event in ws.events():
                if isinstance(event, TextMessage):
                    try:
                        text = message.add(event.data, event.message_finished)
                    except MessageTooBig:
                        await self._refuse(stream, ws, send_lock, CloseReason.MESSAGE_TOO_BIG)
                        return
                    if text is not None:
                        self._on_message(stream, ws, session, send_lock, nursery, text)
                        if self.exchange.connection_dropped(session.session_id):
                            return  # drop_after_request: the reply never leaves
                elif isinstance(event, Ping):
                    async with send_lock:
                        await stream.send_all(ws.send(event.response()))
                elif isinstance(event, CloseConnection):
                    async with send_lock:
                        if ws.state is ConnectionState.REMOTE_CLOSING:
                            await stream.send_all(ws.send(event.response()))
                        elif ws.state is ConnectionState.OPEN:  # wsproto rejected a frame
                            await stream.send_all(ws.send(CloseConnection(code=event.code)))
                    return
                elif isinstance(event, BytesMessage):
                    # Kraken speaks JSON text only; refuse binary like a strict server would.
                    await self._refuse(stream, ws, send_lock, CloseReason.UNSUPPORTED_DATA)
                    return
                # Unsolicited Pong frames are allowed by RFC 6455 and need no answer.
            data = bytes(await stream.receive_some(_RECEIVE_SIZE))
            ws.receive_data(data or None)

    def _on_message(
        self,
        stream: trio.abc.Stream,
        ws: WSConnection,
        session: _Session,
        send_lock: trio.Lock,
        nursery: trio.Nursery,
        text: str,
    ) -> None:
        now = time.time()
        if self._replay is not None and _is_subscribe(text):
            # This client gets the recording: the model forgets the session (no heartbeats,
            # no fills) and never sees this or any later message of it.
            script, self._replay = self._replay, None
            session.replaying = True
            self.exchange.close_session(session.session_id, now)
            nursery.start_soon(self._play, script, stream, ws, send_lock, nursery.cancel_scope)
        elif not session.replaying:
            self.exchange.receive(session.session_id, text, now)
        self._after_model_call(now)

    async def _play(
        self,
        script: ReplayScript,
        stream: trio.abc.Stream,
        ws: WSConnection,
        send_lock: trio.Lock,
        cancel_scope: trio.CancelScope,
    ) -> None:
        start = trio.current_time()
        for frame in script.frames:
            await trio.sleep_until(start + frame.delay)
            async with send_lock:
                if ws.state is not ConnectionState.OPEN:  # pragma: no cover - the reader's
                    return  # close handling ends the session first, cancelling this task
                await stream.send_all(ws.send(Message(data=frame.text)))
        async with send_lock:
            if ws.state is ConnectionState.OPEN:
                await stream.send_all(
                    ws.send(CloseConnection(CloseReason.NORMAL_CLOSURE, "replay finished"))
                )
        # The reader ends the session when the client answers the close; do not wait forever.
        await trio.sleep(_CLOSE_GRACE)
        cancel_scope.cancel()

    async def _refuse(
        self, stream: trio.abc.Stream, ws: WSConnection, send_lock: trio.Lock, code: CloseReason
    ) -> None:
        """Close with ``code``, then discard what the client still sends for a moment.

        Dropping the socket while the client's bytes sit unread would make the kernel send a
        reset, which can destroy our close frame before the client reads it.
        """
        size = self.limits.max_message_size
        reasons = {
            CloseReason.MESSAGE_TOO_BIG: f"message larger than {size} bytes",
            CloseReason.UNSUPPORTED_DATA: "text frames only",
        }
        async with send_lock:
            if ws.state is ConnectionState.OPEN:  # pragma: no branch - a replay's close raced it
                await stream.send_all(ws.send(CloseConnection(code, reasons[code])))
        with trio.move_on_after(_CLOSE_GRACE):
            while await stream.receive_some(_RECEIVE_SIZE):
                pass


@asynccontextmanager
async def open_simulator(
    config: SimulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: bool = False,
    seed: int = 0,
    default_faults: Faults | None = None,
    rest_fault: str | None = None,
    limits: ServerLimits = DEFAULT_LIMITS,
    replay: ReplayScript | None = None,
) -> AsyncIterator[SimulatorServer]:
    """Serve a simulator on ``host:port`` (0 = any free port) until the block exits.

    ``config`` defaults to ``make_config(seed)``; ``seed`` also seeds the model's randomness
    (token and order ids, connection ids). With ``tls=True`` a throw-away CA and ``localhost``
    certificate are generated and the URLs use ``https``/``wss``; ``ca_file`` names the CA.
    ``default_faults`` is copied into every new WebSocket session, ``rest_fault`` (``None``,
    ``"http_500"`` or ``"non_json"``) applies to every token request. ``limits`` bounds what
    one connection may cost (``ServerLimits``: message size, handshake timeout). With
    ``replay`` (a script from ``load_replay(path)``) the first WebSocket client to send a
    subscribe gets the recorded frames instead of the model's answers. On exit every
    connection is dropped and the certificate directory removed.
    """
    if config is None:
        config = make_config(seed)
    exchange = Exchange(config, rng=random.Random(seed), now=time.time())
    if default_faults is not None:
        exchange.default_faults = default_faults
    exchange.rest_fault = rest_fault
    with ExitStack() as stack:
        ca_file: str | None = None
        context: ssl.SSLContext | None = None
        if tls:
            files = stack.enter_context(temporary_tls_files())
            context = server_ssl_context(files)
            ca_file = str(files.ca_file)
        tcp_listeners = list(await trio.open_tcp_listeners(port, host=host))
        bound_port: int = tcp_listeners[0].socket.getsockname()[1]
        # A name with several addresses and port 0 gets one random port per address; the URLs
        # can name only one, so serve only the listeners on that port.
        for listener in tcp_listeners[1:]:
            if listener.socket.getsockname()[1] != bound_port:
                tcp_listeners.remove(listener)
                await listener.aclose()
        listeners: list[trio.abc.Listener[trio.abc.Stream]]
        if context is not None:
            listeners = [
                trio.SSLListener(listener, context, https_compatible=True)
                for listener in tcp_listeners
            ]
        else:
            listeners = list(tcp_listeners)
        address = f"{_url_host(host)}:{bound_port}"
        server = SimulatorServer(
            exchange,
            rest_url=f"{'https' if tls else 'http'}://{address}",
            ws_url=f"{'wss' if tls else 'ws'}://{address}",
            api_key=config.api_key,
            api_secret=config.api_secret,
            ca_file=ca_file,
            limits=limits,
            replay=replay,
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(trio.serve_listeners, server._handle_connection, listeners)
            nursery.start_soon(server._run_timers)
            try:
                yield server
            finally:
                nursery.cancel_scope.cancel()


class SimulatorThread:
    """A simulator served from a background thread, as yielded by ``run_in_thread``.

    Same attributes and control methods as ``SimulatorServer`` (``set_reference_price``,
    ``set_system_status``, ``set_fault``, ``invalidate_tokens``, ``orders``, ``open_orders``,
    ``trades``, ``fills``, ``balances``, ``session_ids``); each runs in the server thread and
    returns its result there. The model lives in that thread: do not call ``exchange``
    methods directly; go through ``apply``. Plain reads of settings are fine.
    """

    def __init__(
        self,
        server: SimulatorServer,
        token: trio.lowlevel.TrioToken,
        stop: Callable[[], None],
    ) -> None:
        self.rest_url = server.rest_url
        self.ws_url = server.ws_url
        self.api_key = server.api_key
        self.api_secret = server.api_secret
        self.ca_file = server.ca_file
        self.exchange = server.exchange
        self._server = server
        self._token = token
        self._stop = stop

    def __repr__(self) -> str:
        return f"<SimulatorThread rest_url={self.rest_url!r} ws_url={self.ws_url!r}>"

    def apply(self, action: Callable[[Exchange, float], T]) -> T:
        """Run ``SimulatorServer.apply(action)`` in the server thread and return its result."""
        result: T = trio.from_thread.run_sync(self._server.apply, action, trio_token=self._token)
        return result

    def _call(self, method: Callable[..., T], *args: object, **kwargs: object) -> T:
        call = functools.partial(method, *args, **kwargs)
        result: T = trio.from_thread.run_sync(call, trio_token=self._token)
        return result

    def set_reference_price(self, pair: str, price: Decimal) -> None:
        """Move ``pair``'s market price (may fill resting orders) and send the resulting frames."""
        self._call(self._server.set_reference_price, pair, price)

    def set_system_status(self, status: str) -> None:
        """Change the engine status and broadcast ``systemStatus`` to every session."""
        self._call(self._server.set_system_status, status)

    def set_fault(self, spec: str, *, session: int | None = None) -> None:
        """``SimulatorServer.set_fault``: inject a ``--fault``-style fault."""
        self._call(self._server.set_fault, spec, session=session)

    def invalidate_tokens(self) -> None:
        """Make every issued token invalid, as after a Kraken service upgrade."""
        self._call(self._server.invalidate_tokens)

    def orders(self) -> dict[str, OrderView]:
        """Every order placed so far, finished ones included, txid -> order."""
        return self._call(self._server.orders)

    def open_orders(self) -> dict[str, OrderView]:
        """The pending and open orders, txid -> order."""
        return self._call(self._server.open_orders)

    def trades(self) -> dict[str, TradeView]:
        """Every trade so far (taker fills consolidated), trade id -> trade."""
        return self._call(self._server.trades)

    def fills(self) -> dict[str, TradeView]:
        """Every individual fill, trade id -> fill."""
        return self._call(self._server.fills)

    def balances(self) -> dict[str, Decimal]:
        """Total balance per asset."""
        return self._call(self._server.balances)

    def session_ids(self) -> list[int]:
        """The model's session ids of the currently open WebSockets, oldest first."""
        return self._call(self._server.session_ids)


@contextmanager
def run_in_thread(
    config: SimulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: bool = False,
    seed: int = 0,
    default_faults: Faults | None = None,
    rest_fault: str | None = None,
    limits: ServerLimits = DEFAULT_LIMITS,
    replay: ReplayScript | None = None,
    startup_timeout: float = 10.0,
) -> Iterator[SimulatorThread]:
    """Blocking twin of ``open_simulator``: serve from a daemon thread until the block exits.

    Arguments are those of ``open_simulator``. Returns once the port is listening. On exit the
    server is stopped and the thread joined; an exception that stopped the server early is
    re-raised then (or at start-up, if it happened before the server was ready).
    """
    handoff: queue.Queue[SimulatorThread | BaseException] = queue.Queue()
    failures: list[BaseException] = []

    async def serve() -> None:
        async with open_simulator(
            config,
            host=host,
            port=port,
            tls=tls,
            seed=seed,
            default_faults=default_faults,
            rest_fault=rest_fault,
            limits=limits,
            replay=replay,
        ) as server:
            stopped = trio.Event()
            handoff.put(SimulatorThread(server, trio.lowlevel.current_trio_token(), stopped.set))
            await stopped.wait()

    def thread_main() -> None:
        try:
            trio.run(serve)
        except BaseException as exc:  # handed to the owning thread, which re-raises it
            failures.append(exc)
            handoff.put(exc)

    thread = threading.Thread(target=thread_main, name="kraken-proto-simulator", daemon=True)
    thread.start()
    started = handoff.get(timeout=startup_timeout)
    if isinstance(started, BaseException):
        thread.join()
        raise started
    try:
        yield started
    finally:
        # RunFinishedError: the server already stopped on its own; its failure is raised below.
        with suppress(trio.RunFinishedError):
            trio.from_thread.run_sync(started._stop, trio_token=started._token)
        thread.join()
        if failures:
            raise failures[0]
