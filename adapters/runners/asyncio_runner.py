"""asyncio session runner: a pure ``Session`` carried out by background tasks, on asyncio
streams with wsproto and h11 (no other dependency).

Every decision is the Session's, and which call an outcome completes is the ``Waiters``';
this module only performs the session's actions (open or close a WebSocket, write messages,
make one HTTP call), feeds the results back and wakes up at the next deadline. Randomness is
the session's seed (``os.urandom``). docs/runners.md walks through it.

    async with open_asyncio_session(credentials, rest_url=..., ws_url=...) as session:
        await session.subscribe("ownTrades")
        placed = await session.add_order(ordertype="limit", type="buy", pair="XBT/USD",
                                         volume=Decimal("0.01"), price=Decimal("1000"))
        async for event in session.events(): ...

Errors reach the caller as the documented exception: the background tasks report failures to
the session instead of raising, and an exception from the ``async with`` body leaves the block
as itself. A bug in a background task cancels the block and is raised from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from kraken_proto import (
    CloseConnection,
    Credentials,
    HttpCall,
    OpenConnection,
    SendMessages,
    Session,
    SessionAction,
    SessionConfig,
)
from kraken_proto.adapters.transport._net import open_asyncio_stream, timed_out
from kraken_proto.adapters.transport._ws import WebSocketSession
from kraken_proto.adapters.transport.rest_call import call_rest_asyncio
from kraken_proto.adapters.transport.tokens import KRAKEN_REST_URL, next_token_request
from kraken_proto.rest import NonceSource, RestRequest, WebSocketToken, parse_token_response

from ._async import AsyncSessionRunner
from ._journal import build_session
from ._link import choose_protocol
from ._reading import READ_SIZE, feed_websocket, reason_of
from ._wakeup import AsyncioWakeup

__all__ = ["AsyncioSession", "fetch_token", "open_asyncio_session", "run_asyncio_session"]


async def fetch_token(
    credentials: Credentials,
    *,
    rest_url: str = KRAKEN_REST_URL,
    nonces: NonceSource | None = None,
    otp: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 10.0,
) -> WebSocketToken:
    """The blocking ``fetch_token``, awaited: call ``GetWebSocketsToken``, return the token."""
    request = next_token_request(credentials, nonces=nonces, otp=otp, now=time.time())
    response = await call_rest_asyncio(
        request, rest_url=rest_url, ssl_context=ssl_context, timeout=timeout
    )
    return parse_token_response(response.status, response.body)


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    websocket: WebSocketSession
    task: asyncio.Task[Any]  # the one reading it
    reported: bool = False  # connection_lost already told to the session


class AsyncioSession(AsyncSessionRunner):
    """A running ``Session`` (create it with :func:`open_asyncio_session`); the calls,
    results and exceptions are ``SessionRunner``'s, awaited (``events`` is an async
    iterator). Use it from the event loop that opened it."""

    def __init__(self, session: Session, **options: Any) -> None:
        super().__init__(session, **options)
        self._conns: dict[int, _Conn] = {}
        self._opening: dict[int, asyncio.Task[None]] = {}  # handshakes in progress
        self._tasks: set[asyncio.Task[None]] = set()
        self._host: asyncio.Task[Any] | None = None  # runs the block: cancelled on a crash
        self._host_cancelled = False

    def _new_event(self) -> AsyncioWakeup:
        return AsyncioWakeup()

    @asynccontextmanager
    async def _move_on_after(self, seconds: float | None) -> AsyncIterator[None]:
        scope = asyncio.timeout(seconds)
        try:
            async with scope:
                yield
        except TimeoutError:
            if not scope.expired():
                raise  # not ours

    async def _idle(self, seconds: float | None) -> None:
        # A timer handle that sets the wakeup: no timeout context per idle wait.
        wake, loop = self._wake, asyncio.get_running_loop()
        handle = None if seconds is None else loop.call_later(seconds, wake.set)
        try:
            await wake.wait()
        finally:
            if handle is not None:
                handle.cancel()

    def _spawn(self, work: Callable[..., Awaitable[None]], *args: object) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._guarded(work, *args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guarded(self, work: Callable[..., Awaitable[None]], *args: object) -> None:
        """Run a background task; an exception from it is a bug: stop the session and raise
        it from the ``async with``."""
        try:
            await work(*args)
        except Exception as exc:
            if self._crash is None:
                self._crash = exc
                if self._host is not None and not self._stopped:
                    self._host.cancel()
                    self._host_cancelled = True

    async def _stop_tasks(self) -> None:
        """Cancel every background task and wait for them (their sockets are aborted)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if self._host_cancelled and self._host is not None:
            # The cancel a crash sent to the block may still be pending: take it here.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0)
            self._host.uncancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- the actions --------------------------------------------------------------------------

    async def _do(self, action: SessionAction) -> None:
        if isinstance(action, OpenConnection):
            self._opening[action.conn] = self._spawn(self._connection, action.conn)
        elif isinstance(action, SendMessages):
            conn = self._conns.get(action.conn)
            if conn is not None and conn.websocket.is_open:
                data = b"".join(conn.websocket.send_text(text) for text in action.messages)
                await self._write(conn, data)
        elif isinstance(action, CloseConnection):
            conn = self._conns.pop(action.conn, None)
            opening = self._opening.pop(action.conn, None)
            if opening is not None:  # still opening: give the handshake up at once
                opening.cancel()
            elif conn is not None:
                conn.reported = True
                async with self._move_on_after(1.0):
                    await self._write(conn, conn.websocket.close())
                conn.task.cancel()
                conn.writer.transport.abort()
            self.session.connection_lost(action.conn, self._clock())
        elif isinstance(action, HttpCall):  # pragma: no branch - the four actions
            self._spawn(self._http, action.call, action.request)

    async def _http(self, call: int, request: RestRequest) -> None:
        try:
            response = await call_rest_asyncio(
                request,
                rest_url=self._rest_url,
                ssl_context=self._ssl_context,
                timeout=self._http_timeout,
            )
        except Exception as exc:  # any failure is "no answer" to the session
            self.session.rest_failed(call, reason_of(exc), self._clock())
        else:
            self.session.rest_response(call, response.status, response.body, self._clock())
        self._input_done()

    async def _connection(self, number: int) -> None:
        # A CloseConnection while this task is opening cancels it (CancelledError is not an
        # Exception): the session was told then, nothing is left to report.
        try:
            reader, writer, websocket, messages = await self._handshake()
        except Exception as exc:
            self._opening.pop(number, None)
            self.session.connection_failed(number, reason_of(exc), self._clock())
            self._input_done()
            return
        self._opening.pop(number, None)
        task = asyncio.current_task()
        assert task is not None
        conn = self._conns[number] = _Conn(reader, writer, websocket, task)
        try:
            await self._serve(number, conn, messages)
        finally:
            self._conns.pop(number, None)
            writer.transport.abort()

    async def _serve(self, number: int, conn: _Conn, messages: list[str]) -> None:
        now = self._clock()
        self.session.connection_made(number, now)
        for text in messages:
            self.session.receive_message(number, text, now)
        messages.clear()  # the frames that came with the upgrade: not kept while reading
        self._input_done(now)
        while conn.websocket.is_open:
            try:
                data: bytes | None = await conn.reader.read(READ_SIZE)
            except OSError:  # reset, TLS failure: the connection is gone
                data = b""
            if conn.reported:
                return
            now = self._clock()
            feed_websocket(self.session, number, conn.websocket, data or None, now)
            data = None  # the read's bytes are not kept while waiting for the next one
            conn.reported = not conn.websocket.is_open
            self._input_done(now)
            await self._write(conn, conn.websocket.bytes_to_send())
        if not conn.reported:  # the upgrade, its frames and a close came in one read
            feed_websocket(self.session, number, conn.websocket, b"", self._clock())
            self._input_done()

    async def _handshake(
        self,
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, WebSocketSession, list[str]]:
        """TCP, TLS and the upgrade under one ``connect_timeout``."""
        websocket = WebSocketSession(self._endpoint, max_message_size=self._max_message_size)
        messages: list[str] = []
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await open_asyncio_stream(self._endpoint, self._ssl_context)
                try:
                    writer.write(websocket.handshake())
                    while not websocket.accepted:
                        messages += websocket.receive_data(await reader.read(READ_SIZE) or None)
                except BaseException:
                    writer.transport.abort()
                    raise
        except TimeoutError:
            raise timed_out(self._endpoint.url, self._connect_timeout) from None
        return reader, writer, websocket, messages

    async def _write(self, conn: _Conn, data: bytes) -> None:
        if not data or conn.writer.transport.is_closing():
            return
        # write() queues the whole frame at once, so no cancellation can cut one in half.
        # A write that does not drain in time ends the connection; the reader then reports
        # the loss to the session.
        conn.writer.write(data)
        try:
            async with asyncio.timeout(self._write_timeout):
                await conn.writer.drain()
        except OSError:  # TimeoutError included
            conn.writer.transport.abort()


@asynccontextmanager
async def open_asyncio_session(
    credentials: Credentials,
    *,
    rest_url: str,
    ws_url: str,
    config: SessionConfig | None = None,
    protocol: str | None = None,
    **options: Any,
) -> AsyncIterator[AsyncioSession]:
    """Start a ``Session`` run by background tasks; close it when the block exits.

    Arguments as for the blocking ``open_session`` (``protocol``: ``"v1"``/``"v2"``, or implied
    by a ``ws_url`` ending in ``/v2``; ``options``: see ``SessionRunner``). An exception raised
    in the block leaves it as itself.
    """
    ws_url, config = choose_protocol(ws_url, config, protocol)
    session = build_session(credentials, config, options)
    async with run_asyncio_session(session, rest_url=rest_url, ws_url=ws_url, **options) as run:
        yield run


@asynccontextmanager
async def run_asyncio_session(
    session: Session, *, rest_url: str, ws_url: str, **options: Any
) -> AsyncIterator[AsyncioSession]:
    """Like :func:`open_asyncio_session`, for a ``Session`` you built yourself (not started)."""
    runner = AsyncioSession(session, ws_url=ws_url, rest_url=rest_url, **options)
    session.start(runner._clock())
    runner._route()
    runner._host = asyncio.current_task()
    runner._spawn(runner._drive)
    error: BaseException | None = None
    try:
        yield runner
    except BaseException as exc:  # re-raised below, unless a crash caused it
        error = exc
    try:
        if runner._crash is None:
            await runner.close()
    except asyncio.CancelledError:
        if runner._crash is None:
            raise  # a cancellation from outside, during close
    finally:
        runner._exited()
        await runner._stop_tasks()
    if runner._crash is not None:
        raise runner._crash
    if error is not None:
        raise error
