"""Blocking session runner: a pure ``Session`` carried out over sockets, from one thread.

Every decision (when to connect, what to send, reconnect, reconcile, back off) is the
Session's, and which call an outcome completes is the ``Waiters``'; this module only performs
the session's actions (open or close a WebSocket, write messages, make one HTTP call) and
feeds the results back, reading the clock and waiting for the next deadline. Randomness is
the session's seed (``os.urandom``).

    with open_session(credentials, rest_url=..., ws_url=...) as session:
        session.subscribe("ownTrades")
        session.subscribe("openOrders")
        placed = session.add_order(ordertype="limit", type="buy", pair="XBT/USD",
                                   volume=Decimal("0.01"), price=Decimal("1000"))
        for event in session.events(timeout=1.0): ...

The session progresses only inside your calls (call ``events`` regularly); connects and REST
calls run on worker threads, so no call overstays its timeout. Not thread-safe.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from functools import partial
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
    SessionEvent,
    SessionState,
)
from kraken_proto.adapters.clients.blocking_client import fetch_token
from kraken_proto.adapters.transport._ws import WebSocketSession
from kraken_proto.adapters.transport.http import HttpResponse
from kraken_proto.adapters.transport.rest_call import call_rest_blocking
from kraken_proto.session._balances import SessionSubscribe

from ._batch import BatchResult, Outcome, SyncCalls
from ._blocking_io import Attempts, connect_websocket
from ._common import SessionRunner
from ._journal import build_session
from ._link import choose_protocol
from ._reading import READ_SIZE, feed_websocket, reason_of

__all__ = ["BlockingSession", "connect_websocket", "fetch_token", "open_session", "run_session"]


class BlockingSession(SyncCalls, SessionRunner[Outcome, None, BatchResult]):
    """A running ``Session`` (create it with :func:`open_session`); the calls, results and
    exceptions are ``SessionRunner``'s, each blocking until it is done. ``options``: as
    for ``SessionRunner``."""

    def __init__(self, session: Session, **options: Any) -> None:
        super().__init__(session, **options)
        self._conn: int | None = None
        self._sock: socket.socket | None = None
        self._websocket: WebSocketSession | None = None
        self._sock_timeout: float | None = None  # the socket's timeout, as last set
        self._io = Attempts()  # connects and REST calls, on worker threads

    # --- the calls not in SessionRunner ----------------------------------------------------

    def events(self, timeout: float | None = None) -> Iterator[SessionEvent]:
        """Every session event, in order, as it comes (the session runs while you iterate);
        ends after the terminal ``SessionClosed``/``SessionFailed``, or once ``timeout``
        seconds have passed (None: no limit). Ends at once after the terminal event."""
        until = None if timeout is None else self._clock() + timeout
        waiters = self._waiters
        while not waiters.exhausted:
            # While events are kept the loop would only carry out actions and take finished
            # attempts; without a journal taking an event queues no action, so with no attempt
            # under way kept events go out at once.
            if not waiters or self._journal is not None or self._io.busy:
                self._pump(until, waiters.__bool__)
                if not waiters:
                    return
            yield self._take_one()

    def next_events(self, timeout: float | None = None) -> list[SessionEvent]:
        """Run the session until it has events or ``timeout`` seconds pass; return them
        (``[]`` then). Returns ``[]`` at once after the terminal event was returned."""
        if not self._waiters.exhausted:
            until = None if timeout is None else self._clock() + timeout
            self._pump(until, lambda: bool(self._waiters))
        return self._take()

    def close(self, timeout: float = 5.0) -> None:
        """Close the session (disarming the dead man's switch if armed), waiting at most
        ``timeout`` seconds for ``SessionClosed``; requests without an outcome end as the
        session says. Idempotent."""
        if self._start_close():
            self._pump(self._clock() + timeout, lambda: self._waiters.ended is not None)
        self._drop()
        self._io.close()
        self._close_journal()

    # --- the loop ---------------------------------------------------------------------------

    def _subscribe(self, request: SessionSubscribe) -> None:
        self._subscribe_now(request)
        self._run_actions()

    def _wait_for(self, handles: tuple[int, ...], timeout: float | None) -> None:
        until = None if timeout is None else self._clock() + timeout
        try:
            self._pump(until, lambda: all(map(self._waiters.done, handles)))
        except BaseException:
            self._waiters.forget(*handles)
            raise

    def _pump(self, until: float | None, done: Callable[[], bool]) -> None:
        """Carry out actions and wait for input until ``done()`` or the clock reaches
        ``until``. Connects and REST calls run on worker threads: the wait keeps ``until``."""
        while True:
            self._run_actions()
            if self._collect():
                continue
            if done():
                return
            now = self._clock()
            deadline = self._next_deadline()
            if deadline is not None and deadline <= now:
                self._serve_deadlines()
                continue
            if until is not None and now >= until:
                return
            wait = None if deadline is None else deadline - now
            if until is not None and (wait is None or until - now < wait):
                wait = until - now
            if self._sock is None and not self._io.busy:
                if wait is None:
                    return  # nothing will ever happen: the session has stopped
                time.sleep(wait)
                continue
            self._wait(wait)

    def _wait(self, wait: float | None) -> None:
        """Wait at most ``wait`` seconds for WebSocket bytes (read them) or a finished attempt."""
        sock = self._sock
        if isinstance(sock, ssl.SSLSocket) and sock.pending():  # buffered: select cannot see it
            return self._read(wait)
        if sock is not None and not self._io.busy:  # the socket's own timeout waits for it
            return self._read(wait)
        waited: list[Any] = [self._io] if sock is None else [sock, self._io]
        ready, _, _ = select.select(waited, [], [], wait)
        if sock is not None and sock in ready:
            self._read(wait)

    def _read(self, wait: float | None) -> None:
        sock, websocket, conn = self._sock, self._websocket, self._conn
        assert sock is not None
        assert websocket is not None
        assert conn is not None
        timeout = self._sock_timeout
        if timeout != wait and (wait is None or timeout is None or not wait / 2 <= timeout <= wait):
            # settimeout is a syscall: the timeout set stays while it is at most the wait
            # and not much shorter (waking up early only costs one more turn of the loop).
            sock.settimeout(wait)
            self._sock_timeout = wait
        try:
            data = sock.recv(READ_SIZE)
        except (TimeoutError, BlockingIOError):  # nothing came in time: not an EOF
            return
        except OSError:
            data = b""
        now = self._clock()
        still_open = feed_websocket(self.session, conn, websocket, data or None, now)
        self._route(now)
        self._write(websocket.bytes_to_send())
        if not still_open:
            self._drop()

    def _collect(self) -> bool:
        """Give the session the attempts finished on the worker threads; True if any."""
        finished = self._io.take()
        for (kind, number), future in finished:
            if kind == "open":
                self._opened(number, future)
            else:
                self._answered(number, future)
            self._route()
        return bool(finished)

    def _run_actions(self) -> None:
        while actions := self._next_actions():
            for action in actions:
                if not self._persist(action):
                    self._do(action)
                self._route()

    def _do(self, action: SessionAction) -> None:
        if isinstance(action, OpenConnection):
            options = (self._endpoint, self._ssl_context, self._connect_timeout)
            self._io.start(
                ("open", action.conn), partial(connect_websocket, *options, self._max_message_size)
            )
        elif isinstance(action, SendMessages):
            if action.conn == self._conn and self._websocket is not None:
                for text in action.messages:
                    self._write(self._websocket.send_text(text))
        elif isinstance(action, CloseConnection):
            self._io.abandon(("open", action.conn))  # still connecting: never reported
            if action.conn == self._conn and self._websocket is not None:
                with contextlib.suppress(OSError):
                    self._write(self._websocket.close(), timeout=1.0)
                self._drop()
            self.session.connection_lost(action.conn, self._clock())
        elif isinstance(action, HttpCall):  # pragma: no branch - the four actions
            work = partial(
                call_rest_blocking,
                action.request,
                rest_url=self._rest_url,
                ssl_context=self._ssl_context,
                timeout=self._http_timeout,
            )
            self._io.start(("http", action.call), work)

    def _answered(self, call: int, future: Future[HttpResponse]) -> None:
        try:
            response = future.result()
        except Exception as exc:  # any failure is "no answer" to the session
            self.session.rest_failed(call, reason_of(exc), self._clock())
        else:
            self.session.rest_response(call, response.status, response.body, self._clock())

    def _opened(
        self, conn: int, future: Future[tuple[socket.socket, WebSocketSession, list[str]]]
    ) -> None:
        try:
            sock, websocket, messages = future.result()
        except (OSError, ValueError) as exc:
            self.session.connection_failed(conn, reason_of(exc), self._clock())
            return
        self._conn, self._sock, self._websocket = conn, sock, websocket
        self._sock_timeout = sock.gettimeout()
        now = self._clock()
        self.session.connection_made(conn, now)
        for text in messages:
            self.session.receive_message(conn, text, now)
        if not websocket.is_open:  # the upgrade, its frames and a close came in one read
            feed_websocket(self.session, conn, websocket, b"", now)
            self._drop()

    def _write(self, data: bytes, timeout: float | None = None) -> None:
        if not data or self._sock is None:
            return
        self._sock.settimeout(timeout or self._write_timeout)
        self._sock_timeout = timeout or self._write_timeout
        try:
            self._sock.sendall(data)
        except OSError:
            # Half a frame may be on the wire: shut the stream down; the next read reports it.
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._conn, self._sock, self._websocket = None, None, None


@contextmanager
def open_session(
    credentials: Credentials,
    *,
    rest_url: str,
    ws_url: str,
    config: SessionConfig | None = None,
    protocol: str | None = None,
    **options: Any,
) -> Iterator[BlockingSession]:
    """Start a ``Session`` and run it from this thread; close it when the block exits.

    ``rest_url`` (``http(s)://``) serves the token and the reconciliation calls, ``ws_url``
    (``ws(s)://``) the WebSocket. ``protocol``: ``"v1"`` or ``"v2"``; by default a ``ws_url``
    ending in ``/v2`` means v2, else ``config.protocol``; over v2 ``/v2`` is appended to a URL
    without it. ``options``: see ``SessionRunner`` (``ssl_context``, ``connect_timeout``,
    ``http_timeout``, ``write_timeout``, ``max_message_size``, ``reflect_timeout``). On entry
    the first token fetch and connection are attempted (a permanent error such as a bad key
    leaves the session FAILED at once); later failures are the session's to retry (watch
    ``events()`` for ``Reconnecting`` and ``SessionFailed``). ``journal``: see ``build_session``.
    """
    ws_url, config = choose_protocol(ws_url, config, protocol)
    session = build_session(credentials, config, options)
    with run_session(session, rest_url=rest_url, ws_url=ws_url, **options) as runner:
        yield runner


@contextmanager
def run_session(
    session: Session, *, rest_url: str, ws_url: str, **options: Any
) -> Iterator[BlockingSession]:
    """Like :func:`open_session`, for a ``Session`` you built yourself (not started yet)."""
    runner = BlockingSession(session, ws_url=ws_url, rest_url=rest_url, **options)
    session.start(runner._clock())
    try:
        runner._route()
        # The first token fetch and connection, so bad keys show at once.
        first = runner._clock() + runner._http_timeout + runner._connect_timeout
        runner._pump(first, lambda: runner.session.state is not SessionState.CONNECTING)
        yield runner
    finally:
        runner.close()
