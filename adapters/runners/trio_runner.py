"""trio session runner: a pure ``Session`` carried out by background tasks.

Every decision is the Session's, and which call an outcome completes is the ``Waiters``';
this module only performs the session's actions (open or close a WebSocket, write messages,
make one HTTP call), feeds the results back and wakes up at the next deadline. Randomness is
the session's seed (``os.urandom``).

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

import math
import os
import ssl
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import trio
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
from kraken_proto._no_entries import NO_ENTRIES, writable
from kraken_proto.adapters.transport._net import open_trio_stream
from kraken_proto.adapters.transport._ws import HandshakeTimeout, WebSocketSession
from kraken_proto.adapters.transport.rest_call import call_rest_trio
from kraken_proto.adapters.transport.tokens import KRAKEN_REST_URL, next_token_request
from kraken_proto.rest import NonceSource, RestRequest, WebSocketToken, parse_token_response

from ._async import AsyncSessionRunner
from ._bare import bare
from ._journal import build_session
from ._link import choose_protocol
from ._reading import READ_SIZE, feed_websocket, reason_of
from ._wakeup import TrioWakeup, wake_at

__all__ = ["TrioSession", "fetch_token", "open_trio_session", "run_trio_session"]

# Task names, shared: trio otherwise builds a name string for every task it starts.
_DRIVER, _READER, _HTTP = "kraken_proto.driver", "kraken_proto.connection", "kraken_proto.http"


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
    response = await call_rest_trio(
        request, rest_url=rest_url, ssl_context=ssl_context, timeout=timeout
    )
    return parse_token_response(response.status, response.body)


_POSIX = os.name == "posix"  # os.read reads a socket


def _read_ready(fd: int) -> bytes | None:
    """Read a non-blocking socket found readable: None if it had nothing after all; b"" at
    EOF, once it failed, or when it is closed (``fd`` < 0), as ``receive_some`` ends then."""
    if fd < 0:
        return b""
    try:
        return os.read(fd, READ_SIZE)
    except BlockingIOError:
        return None
    except OSError:
        return b""


@dataclass(slots=True)
class _Conn:
    stream: trio.abc.Stream
    websocket: WebSocketSession
    writing: trio.Event | None = None  # set when the write under way ends (a lock, made per write)
    reported: bool = False  # connection_lost already told to the session


class TrioSession(AsyncSessionRunner):
    """A running ``Session`` (create it with :func:`open_trio_session`); the calls, results
    and exceptions are ``SessionRunner``'s, awaited (``events`` is an async iterator). Use it
    from one trio run."""

    _nursery: trio.Nursery  # the runner's, set when its block is entered

    def __init__(self, session: Session, **options: Any) -> None:
        super().__init__(session, **options)
        self._conns: dict[int, _Conn] = {}
        self._opening: dict[int, trio.CancelScope] = NO_ENTRIES  # handshakes in progress

    def _init_driver(self) -> None:
        # No driver task while the session has nothing to do (a parked trio task and its
        # awaits cost about 2 KiB a session): one is started for each run of actions or due
        # deadlines and ends when none is left. An idle session's next deadline is an entry
        # in the run's shared timer.
        self._driving = True  # a driver task runs (or the runner's block has not started one)
        self._due = False  # the timer fired: the driver serves the deadlines
        self._timer_for = math.inf  # the deadline (runner clock) of this runner's timer entry
        self._timer_at = math.inf  # the same deadline in trio time (the entry's key)

    def _new_event(self) -> TrioWakeup:
        return TrioWakeup()

    @asynccontextmanager
    async def _move_on_after(self, seconds: float | None) -> AsyncIterator[None]:
        with trio.move_on_after(math.inf if seconds is None else seconds):
            yield

    def _wake_driver(self) -> None:
        """Start a driver task unless one runs (it will see the new work before it ends)."""
        if not self._driving and not self._stopped and self._crash is None:
            self._driving = True
            self._nursery.start_soon(self._guarded, self._drive, name=_DRIVER)

    def _input_done(self, now: float | None = None) -> None:
        """A result was given to the session (at ``now``): route its events; start a driver
        only for actions. A deadline that moved earlier gets a timer entry (a running driver
        sets it when it ends). Most reads need neither: only the user's task is woken."""
        self._route(now)
        self._backlog += self.session.actions()
        if self._backlog:
            self._wake_driver()
        elif not self._driving:
            self._arm_timer()

    def _arm_timer(self) -> None:
        # The run's shared timer wakes the runner at its next deadline (no cancel scope per
        # session), one entry at a time: a later deadline waits for the earlier entry to fire.
        deadline = self._next_deadline()
        if deadline is not None and deadline < self._timer_for:
            when = trio.current_time() + max(0.0, deadline - self._clock())
            self._timer_for, self._timer_at = deadline, when
            wake_at(when, weakref.ref(self))

    def _timer_due(self, when: float) -> None:
        """The shared timer's call at ``when``: a driver serves what is due (an entry
        superseded by an earlier one is ignored: that one's driver set the next entry)."""
        if when == self._timer_at:
            self._timer_for = self._timer_at = math.inf
            self._due = True
            self._wake_driver()

    async def _drive(self) -> None:
        """A driver task: carry out the actions in order and serve the due deadlines until
        neither is left, then set the timer for the next deadline and end."""
        try:
            while True:
                actions = self._next_actions()
                if actions:
                    for action in actions:
                        if not self._persist(action):
                            await self._do(action)
                        self._route()
                    del action, actions
                elif self._due:
                    self._due = False
                    self._serve_deadlines()
                else:
                    break
        finally:
            self._driving = False
        self._arm_timer()

    async def _guarded(self, task: Callable[..., Awaitable[None]], *args: object) -> None:
        """Run a background task; an exception from it is a bug: stop the session and raise
        it from the ``async with`` (not inside an ExceptionGroup)."""
        try:
            await task(*args)
        except Exception as exc:
            self._crashed(exc)

    def _crashed(self, exc: Exception) -> None:
        if self._crash is None:
            self._crash = exc
        self._nursery.cancel_scope.cancel()

    async def _do(self, action: SessionAction) -> None:
        if isinstance(action, OpenConnection):
            self._opening = writable(self._opening)
            self._opening[action.conn] = trio.CancelScope()
            self._nursery.start_soon(self._connection, action.conn, name=_READER)
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
                with trio.move_on_after(1.0):
                    await self._write(conn, conn.websocket.close())
                # Closing the stream ends the reader's receive (ClosedResourceError): no
                # cancel scope per connection is needed.
                await trio.aclose_forcefully(conn.stream)
            self.session.connection_lost(action.conn, self._clock())
        elif isinstance(action, HttpCall):  # pragma: no branch - the four actions
            self._nursery.start_soon(
                self._guarded, self._http, action.call, action.request, name=_HTTP
            )

    async def _http(self, call: int, request: RestRequest) -> None:
        try:
            response = await call_rest_trio(
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
        """The reader task of connection ``number``: open it, then read until it ends. It is
        one coroutine deep while it waits (its own guard, the reading inlined): an idle
        connection keeps every level of awaits alive, about 0.25 KiB each."""
        try:
            opened = await self._open(number)
            if opened is None:
                return
            conn, messages = opened
            del opened  # nothing of the opening stays referenced while the connection lives
            self._conns[number] = conn
            try:
                now = self._clock()
                self.session.connection_made(number, now)
                for text in messages:
                    self.session.receive_message(number, text, now)
                del messages  # the frames that came with the upgrade: not kept while reading
                self._input_done(now)
                # A plain TCP stream (ws://) is read from its socket directly: parked in
                # trio's receive_some, an idle connection holds about 1.5 KiB of nested awaits
                # (and the failed first recv's exception); here it waits in wait_readable
                # only. Closing the stream wakes that wait (ClosedResourceError), as it ends
                # a receive_some.
                stream = conn.stream
                sock = stream.socket if type(stream) is trio.SocketStream and _POSIX else None
                while conn.websocket.is_open:
                    data: bytes | None = None
                    if sock is None:
                        try:
                            data = bytes(await stream.receive_some(READ_SIZE))
                        except (trio.BrokenResourceError, trio.ClosedResourceError):
                            data = b""
                    while data is None:
                        assert sock is not None
                        fd = sock.fileno()
                        try:
                            if fd >= 0:
                                await trio.lowlevel.wait_readable(fd)
                        except trio.ClosedResourceError:
                            fd = -1
                        data = _read_ready(fd)
                    if conn.reported:
                        break
                    now = self._clock()
                    feed_websocket(self.session, number, conn.websocket, data or None, now)
                    data = None  # the read's bytes are not kept while waiting for the next one
                    conn.reported = not conn.websocket.is_open
                    self._input_done(now)
                    await self._write(conn, conn.websocket.bytes_to_send())
                if not conn.reported:  # the upgrade, its frames and a close came in one read
                    feed_websocket(self.session, number, conn.websocket, b"", self._clock())
                    self._input_done()
            finally:
                self._conns.pop(number, None)
                await trio.aclose_forcefully(conn.stream)
        except Exception as exc:
            self._crashed(exc)

    async def _open(self, number: int) -> tuple[_Conn, list[str]] | None:
        """Open connection ``number`` (None: it failed, and the session was told, or the
        session gave it up)."""
        scope = self._opening.get(number)
        if scope is None:  # given up before this task started
            return None
        try:
            with scope:
                return await self._handshake()
        except Exception as exc:
            self.session.connection_failed(number, reason_of(exc), self._clock())
            self._input_done()
        finally:
            self._opening.pop(number, None)
            if not self._opening:  # an emptied dict keeps its table: ~0.2 KiB a session
                self._opening = NO_ENTRIES
        return None  # the session gave it up while it was opening (and was told)

    async def _handshake(self) -> tuple[_Conn, list[str]]:
        websocket = WebSocketSession(self._endpoint, max_message_size=self._max_message_size)
        messages: list[str] = []
        with trio.move_on_after(self._connect_timeout):
            stream = await open_trio_stream(self._endpoint, self._ssl_context)
            try:
                await stream.send_all(websocket.handshake())
                while not websocket.accepted:
                    data = bytes(await stream.receive_some(READ_SIZE))
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
        # At most two tasks write (the driver and the reader), each one write at a time: no
        # fairness is needed, and an idle connection holds no lock object.
        with trio.CancelScope(shield=True):
            while conn.writing is not None:
                await conn.writing.wait()
            conn.writing = done = trio.Event()
            try:
                written = False
                with trio.move_on_after(self._write_timeout):
                    try:
                        await conn.stream.send_all(data)
                        written = True
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        pass
                if not written:
                    await trio.aclose_forcefully(conn.stream)
            finally:
                conn.writing = None
                done.set()


def open_trio_session(
    credentials: Credentials,
    *,
    rest_url: str,
    ws_url: str,
    config: SessionConfig | None = None,
    protocol: str | None = None,
    **options: Any,
) -> AbstractAsyncContextManager[TrioSession]:
    """Start a ``Session`` run by background tasks; close it when the block exits.

    Arguments as for the blocking ``open_session`` (``protocol``: ``"v1"``/``"v2"``, or implied
    by a ``ws_url`` ending in ``/v2``; ``options``: see ``SessionRunner``). An exception raised
    in the block leaves it as itself (not wrapped in an ``ExceptionGroup``).
    """
    ws_url, config = choose_protocol(ws_url, config, protocol)
    session = build_session(credentials, config, options)
    return run_trio_session(session, rest_url=rest_url, ws_url=ws_url, **options)


def run_trio_session(
    session: Session, *, rest_url: str, ws_url: str, **options: Any
) -> AbstractAsyncContextManager[TrioSession]:
    """Like :func:`open_trio_session`, for a ``Session`` you built yourself (not started)."""
    return _SessionBlock(session, dict(options, rest_url=rest_url, ws_url=ws_url))


class _SessionBlock:
    """The ``async with`` of a trio session. A class, not an ``@asynccontextmanager``: the
    generator's frame and its tracking by trio would be kept for the session's life (~0.5 KiB
    each, twice through ``open_trio_session``)."""

    __slots__ = ("_manager", "_options", "_runner", "_session")

    def __init__(self, session: Session, options: dict[str, Any]) -> None:
        self._session = session
        self._options = options
        self._runner: TrioSession | None = None
        self._manager: AbstractAsyncContextManager[trio.Nursery] | None = None

    async def __aenter__(self) -> TrioSession:
        session = self._session
        runner = TrioSession(session, **self._options)
        del self._session, self._options
        session.start(runner._clock())
        runner._route()
        manager = trio.open_nursery()
        nursery = await manager.__aenter__()
        self._runner, self._manager = runner, manager
        runner._nursery = nursery
        nursery.start_soon(runner._guarded, runner._drive, name=_DRIVER)
        return runner

    async def __aexit__(self, *exc_info: object) -> bool:
        # An exception from the block leaves it as itself (the nursery does not see it).
        runner, manager = self._runner, self._manager
        assert runner is not None  # entered
        assert manager is not None
        try:
            if runner._crash is None:
                with trio.CancelScope(shield=True):
                    await runner.close()
        finally:
            runner._exited()
            runner._nursery.cancel_scope.cancel()
            try:
                await manager.__aexit__(None, None, None)
            except BaseExceptionGroup as group:  # a KeyboardInterrupt in a background task
                raise bare(group) from None
        if runner._crash is not None:
            raise runner._crash
        return False
