"""trio session runner: a pure ``Session`` carried out by background tasks.

Every decision is the Session's; this module only performs its actions (open or close a
WebSocket, write messages, make one HTTP call), feeds the results back and wakes up at the
session's next deadline. Randomness is the session's seed (``os.urandom``).

    async with open_trio_session(credentials, rest_url=..., ws_url=...) as session:
        await session.subscribe("ownTrades")
        placed = await session.add_order(ordertype="limit", type="buy", pair="XBT/USD",
                                         volume=Decimal("0.01"), price=Decimal("1000"))
        async for event in session.events(): ...

Errors reach the caller as the documented exception, never inside an ``ExceptionGroup``:
the background tasks report failures to the session instead of raising, and an exception
from the ``async with`` body leaves the block as itself.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import trio
from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    CloseConnection,
    Credentials,
    EditOrder,
    FillLog,
    HttpCall,
    OpenConnection,
    OrderTable,
    Request,
    RequestAccepted,
    RequestApplied,
    SendMessages,
    Session,
    SessionAction,
    SessionClosed,
    SessionConfig,
    SessionEvent,
    SessionFailed,
    SessionState,
)
from kraken_proto.adapters.transport._net import open_trio_stream
from kraken_proto.adapters.transport._ws import (
    DEFAULT_MAX_MESSAGE_SIZE,
    Endpoint,
    HandshakeTimeout,
    WebSocketSession,
    parse_endpoint,
    parse_ws_endpoint,
)
from kraken_proto.adapters.transport.rest_call import call_rest_trio
from kraken_proto.rest import RestRequest
from kraken_proto.v1 import Subscribe

from ._common import EventRouter, build_request, feed_websocket, reason_of, result_of
from ._common import timed_out as outcome_timed_out
from ._link import choose_protocol

__all__ = ["TrioSession", "open_trio_session", "run_trio_session"]

_READ_SIZE = 65536
Outcome = RequestAccepted | RequestApplied


@dataclass
class _Conn:
    stream: trio.abc.Stream
    websocket: WebSocketSession
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    lock: trio.Lock = field(default_factory=trio.Lock)
    reported: bool = False  # connection_lost already told to the session


class TrioSession:
    """A running ``Session`` (create it with :func:`open_trio_session`).

    The order calls are awaitable versions of ``BlockingSession``'s: they return
    ``RequestAccepted`` or ``RequestApplied`` and raise ``RequestRefusedError``,
    ``RequestNotAppliedError`` or ``OutcomeUnknownError``. ``events()`` is an async iterator
    that ends after ``SessionClosed`` or ``SessionFailed``. Use it from one trio run.
    """

    def __init__(
        self,
        session: Session,
        nursery: trio.Nursery,
        *,
        endpoint: Endpoint,
        rest_url: str,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout: float = 10.0,
        http_timeout: float = 10.0,
        write_timeout: float = 10.0,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        self.session = session
        self._nursery = nursery
        self._endpoint = endpoint
        self._rest_url = rest_url
        self._ssl_context = ssl_context
        self._connect_timeout = connect_timeout
        self._http_timeout = http_timeout
        self._write_timeout = write_timeout
        self._max_message_size = max_message_size
        self._router = EventRouter()
        self._conns: dict[int, _Conn] = {}
        self._opening: set[int] = set()  # handshakes in progress
        self._given_up: set[int] = set()  # of those, closed by the session meanwhile
        self._wake = trio.Event()
        self._new_events = trio.Event()
        self._resolved: dict[int, trio.Event] = {}
        self.crash: BaseException | None = None

    def __repr__(self) -> str:
        return f"<TrioSession {self._endpoint.url} {self.session.state.value}>"

    @property
    def orders(self) -> OrderTable:
        return self.session.orders

    @property
    def fills(self) -> FillLog:
        return self.session.fills

    @property
    def state(self) -> SessionState:
        return self.session.state

    # --- user calls -------------------------------------------------------------------------

    async def subscribe(self, request: Subscribe | str, **options: Any) -> None:
        """Subscribe now and after every reconnect (``"ownTrades"`` or a ``Subscribe``)."""
        if isinstance(request, str):
            request = Subscribe(name=request, **options)  # type: ignore[arg-type]
        self.session.subscribe(build_request(Subscribe, request, {}), time.time())
        self._kick()
        await trio.lowlevel.checkpoint()

    async def add_order(
        self, request: AddOrder | None = None, /, *, timeout: float | None = 60.0, **fields: Any
    ) -> Outcome:
        return await self._call(build_request(AddOrder, request, fields), timeout)

    async def edit_order(
        self, request: EditOrder | None = None, /, *, timeout: float | None = 60.0, **fields: Any
    ) -> Outcome:
        return await self._call(build_request(EditOrder, request, fields), timeout)

    async def amend_order(
        self, request: AmendOrder | None = None, /, *, timeout: float | None = 60.0, **fields: Any
    ) -> Outcome:
        return await self._call(build_request(AmendOrder, request, fields), timeout)

    async def cancel_order(
        self, request: CancelOrder | None = None, /, *, timeout: float | None = 60.0, **fields: Any
    ) -> Outcome:
        return await self._call(build_request(CancelOrder, request, fields), timeout)

    async def cancel_all(self, *, timeout: float | None = 60.0) -> Outcome:
        return await self._call(CancelAll(), timeout)

    async def cancel_all_orders_after(
        self, seconds: int, *, timeout: float | None = 60.0
    ) -> Outcome:
        return await self._call(CancelAllOrdersAfter(timeout=seconds), timeout)

    async def events(self) -> AsyncIterator[SessionEvent]:
        """Every session event, in order, as it comes; ends after the terminal event."""
        while True:
            while self._router:
                event = self._router.take_one()
                yield event
                if isinstance(event, SessionClosed | SessionFailed):
                    return
            await self._new_events.wait()

    async def aclose(self, timeout: float = 5.0) -> None:
        """Close the session (disarming the dead man's switch if armed). Idempotent."""
        if self.session.state not in (SessionState.CLOSED, SessionState.FAILED):
            self.session.close(time.time())
            self._kick()
        with trio.move_on_after(timeout):
            while self._router.ended is None:
                await self._new_events.wait()

    # --- the loop ---------------------------------------------------------------------------

    async def _call(self, request: Request, timeout: float | None) -> Outcome:
        handle = self.session.submit(request, time.time())
        self._router.watch(handle)
        resolved = self._resolved[handle] = trio.Event()
        self._kick()
        try:
            with trio.move_on_after(float("inf") if timeout is None else timeout):
                await resolved.wait()
        finally:
            del self._resolved[handle]
            outcome = self._router.forget(handle)
        if outcome is None:
            raise outcome_timed_out(handle, self.session.pending().get(handle, request), timeout)
        return result_of(outcome)

    def _kick(self) -> None:
        """Something was given to the session: let the driver carry out its actions."""
        self._wake.set()

    async def guarded(self, task: Callable[..., Awaitable[None]], *args: object) -> None:
        """Run a background task; an exception from it is a bug: stop the session and raise
        it from the ``async with`` (not inside an ExceptionGroup)."""
        try:
            await task(*args)
        except Exception as exc:
            if self.crash is None:
                self.crash = exc
            self._nursery.cancel_scope.cancel()

    async def drive(self) -> None:
        """The main background task: carry out actions in order, wake at deadlines."""
        while True:
            self._wake = trio.Event()
            actions = self.session.actions()
            for action in actions:
                await self._do(action)
                self._route()
            self._route()
            if actions:
                continue
            deadline = self.session.next_deadline()
            wake_at = float("inf")
            if deadline is not None:
                wake_at = trio.current_time() + max(0.0, deadline - time.time())
            with trio.move_on_at(wake_at):
                await self._wake.wait()
            if deadline is not None and time.time() >= deadline:
                self.session.handle_timeout(time.time())

    def _route(self) -> None:
        events = self.session.events()
        if events:
            for handle in self._router.route(events):
                self._resolved[handle].set()
            # Wake every waiter (events() consumers, aclose); later waits use a fresh Event.
            self._new_events.set()
            self._new_events = trio.Event()

    async def _do(self, action: SessionAction) -> None:
        if isinstance(action, OpenConnection):
            self._opening.add(action.conn)
            self._nursery.start_soon(self.guarded, self._connection, action.conn)
        elif isinstance(action, SendMessages):
            conn = self._conns.get(action.conn)
            if conn is not None and conn.websocket.is_open:
                data = b"".join(conn.websocket.send_text(text) for text in action.messages)
                await self._write(conn, data)
        elif isinstance(action, CloseConnection):
            conn = self._conns.pop(action.conn, None)
            if conn is None and action.conn in self._opening:
                self._given_up.add(action.conn)
            elif conn is not None:
                conn.reported = True
                with trio.move_on_after(1.0):
                    await self._write(conn, conn.websocket.close())
                conn.scope.cancel()
                await trio.aclose_forcefully(conn.stream)
            self.session.connection_lost(action.conn, time.time())
        elif isinstance(action, HttpCall):  # pragma: no branch - the four actions
            self._nursery.start_soon(self.guarded, self._http, action.call, action.request)

    async def _http(self, call: int, request: RestRequest) -> None:
        try:
            with trio.fail_after(self._http_timeout):
                response = await call_rest_trio(
                    request,
                    rest_url=self._rest_url,
                    ssl_context=self._ssl_context,
                    timeout=self._http_timeout,
                )
        except Exception as exc:  # any failure is "no answer" to the session
            self.session.rest_failed(call, reason_of(exc), time.time())
        else:
            self.session.rest_response(call, response.status, response.body, time.time())
        self._kick()

    async def _connection(self, number: int) -> None:
        try:
            conn, messages = await self._handshake()
        except Exception as exc:
            self.session.connection_failed(number, reason_of(exc), time.time())
            self._kick()
            return
        finally:
            self._opening.discard(number)
        if number in self._given_up:  # the session no longer wants it
            self._given_up.discard(number)
            await trio.aclose_forcefully(conn.stream)
            return
        self._conns[number] = conn
        try:
            await self._serve(number, conn, messages)
        finally:
            self._conns.pop(number, None)
            await trio.aclose_forcefully(conn.stream)

    async def _serve(self, number: int, conn: _Conn, messages: list[str]) -> None:
        now = time.time()
        self.session.connection_made(number, now)
        for text in messages:
            self.session.receive_message(number, text, now)
        self._kick()
        with conn.scope:
            while conn.websocket.is_open:
                try:
                    data = bytes(await conn.stream.receive_some(_READ_SIZE))
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    data = b""
                if conn.reported:
                    break
                feed_websocket(self.session, number, conn.websocket, data or None, time.time())
                conn.reported = not conn.websocket.is_open
                await self._write(conn, conn.websocket.bytes_to_send())
                self._kick()
        if not conn.reported:  # the upgrade, its frames and a close came in one read
            feed_websocket(self.session, number, conn.websocket, b"", time.time())
            self._kick()

    async def _handshake(self) -> tuple[_Conn, list[str]]:
        websocket = WebSocketSession(self._endpoint, max_message_size=self._max_message_size)
        messages: list[str] = []
        with trio.move_on_after(self._connect_timeout):
            stream = await open_trio_stream(self._endpoint, self._ssl_context)
            try:
                await stream.send_all(websocket.handshake())
                while not websocket.accepted:
                    data = bytes(await stream.receive_some(_READ_SIZE))
                    messages += websocket.receive_data(data or None)
            except BaseException:
                await trio.aclose_forcefully(stream)
                raise
            return _Conn(stream, websocket), messages
        raise HandshakeTimeout(
            f"{self._endpoint.url}: connect and handshake did not complete within "
            f"{self._connect_timeout:g} s"
        )

    async def _write(self, conn: _Conn, data: bytes) -> None:
        if not data:
            return
        # A frame the session counts as sent is written whole or the stream is given up;
        # the reader then reports the loss to the session.
        with trio.CancelScope(shield=True):
            async with conn.lock:
                written = False
                with trio.move_on_after(self._write_timeout):
                    try:
                        await conn.stream.send_all(data)
                        written = True
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        pass
                if not written:
                    await trio.aclose_forcefully(conn.stream)


@asynccontextmanager
async def open_trio_session(
    credentials: Credentials,
    *,
    rest_url: str,
    ws_url: str,
    ssl_context: ssl.SSLContext | None = None,
    config: SessionConfig | None = None,
    protocol: str | None = None,
    **options: Any,
) -> AsyncIterator[TrioSession]:
    """Start a ``Session`` run by background tasks; close it when the block exits.

    Arguments as for the blocking ``open_session`` (``protocol``: ``"v1"``/``"v2"``, or implied
    by a ``ws_url`` ending in ``/v2``; ``options``: ``connect_timeout``,
    ``http_timeout``, ``write_timeout``, ``max_message_size``). An exception raised in the
    block leaves it as itself (not wrapped in an ``ExceptionGroup``).
    """
    ws_url, config = choose_protocol(ws_url, config, protocol)
    session = Session(credentials, config=config, seed=os.urandom(16))
    async with run_trio_session(
        session, rest_url=rest_url, ws_url=ws_url, ssl_context=ssl_context, **options
    ) as runner:
        yield runner


@asynccontextmanager
async def run_trio_session(
    session: Session, *, rest_url: str, ws_url: str, **options: Any
) -> AsyncIterator[TrioSession]:
    """Like :func:`open_trio_session`, for a ``Session`` you built yourself (not started)."""
    endpoint = parse_ws_endpoint(ws_url)
    parse_endpoint(rest_url, schemes=("http", "https"))
    error: BaseException | None = None
    runner: TrioSession | None = None
    async with trio.open_nursery() as nursery:
        runner = TrioSession(session, nursery, endpoint=endpoint, rest_url=rest_url, **options)
        session.start(time.time())
        nursery.start_soon(runner.guarded, runner.drive)
        try:
            yield runner
        except BaseException as exc:  # re-raised below, outside the nursery
            error = exc
        finally:
            if runner.crash is None:
                with trio.CancelScope(shield=True):
                    await runner.aclose()
            nursery.cancel_scope.cancel()
    if runner is not None and runner.crash is not None:
        raise runner.crash
    if error is not None:
        raise error
