"""Blocking session runner: a pure ``Session`` carried out over sockets, from one thread.

Every decision (when to connect, what to send, reconnect, reconcile, back off) is the
Session's; this module only performs its actions (open or close a WebSocket, write messages,
make one HTTP call) and feeds the results back, reading the clock and sleeping until the
session's next deadline. Randomness is the session's seed (``os.urandom``).

    with open_session(credentials, rest_url=..., ws_url=...) as session:
        session.subscribe("ownTrades")
        session.subscribe("openOrders")
        placed = session.add_order(ordertype="limit", type="buy", pair="XBT/USD",
                                   volume=Decimal("0.01"), price=Decimal("1000"))
        for event in session.events(timeout=1.0): ...

Single-threaded: the session only makes progress inside its calls (``events``, the order
calls, ``subscribe``), so call ``events`` regularly. Not thread-safe.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

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
    SessionConfig,
    SessionEvent,
    SessionState,
)
from kraken_proto.adapters.transport._net import open_socket, timed_out
from kraken_proto.adapters.transport._ws import (
    DEFAULT_MAX_MESSAGE_SIZE,
    Endpoint,
    WebSocketSession,
    parse_endpoint,
    parse_ws_endpoint,
)
from kraken_proto.adapters.transport.rest_call import call_rest_blocking
from kraken_proto.v1 import Subscribe

from ._common import EventRouter, build_request, feed_websocket, reason_of, result_of
from ._common import timed_out as outcome_timed_out
from ._link import choose_protocol

__all__ = ["BlockingSession", "connect_websocket", "open_session", "run_session"]

_READ_SIZE = 65536
Outcome = RequestAccepted | RequestApplied


def connect_websocket(
    endpoint: Endpoint,
    ssl_context: ssl.SSLContext | None,
    timeout: float,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
) -> tuple[socket.socket, WebSocketSession, list[str]]:
    """Open a WebSocket within ``timeout`` seconds (one deadline for TCP, TLS and upgrade).

    Returns the socket, the ``WebSocketSession`` and the messages that arrived together with
    the upgrade (give them to the session after ``connection_made``).
    """
    deadline = time.monotonic() + timeout
    sock = open_socket(endpoint, ssl_context, timeout)
    websocket = WebSocketSession(endpoint, max_message_size=max_message_size)
    messages: list[str] = []
    try:
        sock.settimeout(max(deadline - time.monotonic(), 1e-3))
        sock.sendall(websocket.handshake())
        while not websocket.accepted:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise timed_out(endpoint.url, timeout)
            sock.settimeout(remaining)
            messages += websocket.receive_data(sock.recv(_READ_SIZE) or None)
    except TimeoutError:
        sock.close()
        raise timed_out(endpoint.url, timeout) from None
    except BaseException:
        sock.close()
        raise
    return sock, websocket, messages


class BlockingSession:
    """A running ``Session`` (create it with :func:`open_session`).

    Order calls submit the request and block until its final outcome, at most ``timeout``
    seconds (``None``: no limit). They return ``RequestAccepted`` (Kraken's status replies,
    ``txid``) or ``RequestApplied`` (the answer was lost; reconciliation found it placed,
    with its ``txid``), and raise ``RequestRefusedError`` (Kraken's ``error``),
    ``RequestNotAppliedError`` (reconciled: not placed) or ``OutcomeUnknownError`` (the
    timeout ended first, or the session could not tell). Every call accepts a request
    object or its fields as keywords.
    """

    def __init__(
        self,
        session: Session,
        *,
        ws_url: str,
        rest_url: str,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout: float = 10.0,
        http_timeout: float = 10.0,
        write_timeout: float = 10.0,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self._endpoint = parse_ws_endpoint(ws_url)
        self._rest_url = rest_url
        self._ssl_context = ssl_context
        self._connect_timeout = connect_timeout
        self._http_timeout = http_timeout
        self._write_timeout = write_timeout
        self._max_message_size = max_message_size
        self._clock = clock
        self._router = EventRouter()
        self._conn: int | None = None
        self._sock: socket.socket | None = None
        self._websocket: WebSocketSession | None = None

    def __repr__(self) -> str:
        return f"<BlockingSession {self._endpoint.url} {self.session.state.value}>"

    @property
    def orders(self) -> OrderTable:
        """The account's orders, kept across connections."""
        return self.session.orders

    @property
    def fills(self) -> FillLog:
        """The trade ids reported so far."""
        return self.session.fills

    @property
    def state(self) -> SessionState:
        return self.session.state

    # --- user calls -------------------------------------------------------------------------

    def subscribe(self, request: Subscribe | str, **options: Any) -> None:
        """Subscribe now and after every reconnect (``"ownTrades"`` or a ``Subscribe``)."""
        if isinstance(request, str):
            request = Subscribe(name=request, **options)  # type: ignore[arg-type]
        self.session.subscribe(build_request(Subscribe, request, {}), self._clock())
        self._run_actions()

    def add_order(
        self, request: AddOrder | None = None, /, *, timeout: float | None = 60.0, **fields: Any
    ) -> Outcome:
        """Place an order (a ``cl_ord_id`` is generated when none is given)."""
        return self._call(build_request(AddOrder, request, fields), timeout)

    def edit_order(
        self, request: EditOrder | None = None, /, *, timeout: float | None = 60.0, **fields: Any
    ) -> Outcome:
        return self._call(build_request(EditOrder, request, fields), timeout)

    def amend_order(
        self, request: AmendOrder | None = None, /, *, timeout: float | None = 60.0, **fields: Any
    ) -> Outcome:
        return self._call(build_request(AmendOrder, request, fields), timeout)

    def cancel_order(
        self, request: CancelOrder | None = None, /, *, timeout: float | None = 60.0, **fields: Any
    ) -> Outcome:
        return self._call(build_request(CancelOrder, request, fields), timeout)

    def cancel_all(self, *, timeout: float | None = 60.0) -> Outcome:
        return self._call(CancelAll(), timeout)

    def cancel_all_orders_after(self, seconds: int, *, timeout: float | None = 60.0) -> Outcome:
        """Arm (``seconds`` > 0) or disarm (0) Kraken's dead man's switch."""
        return self._call(CancelAllOrdersAfter(timeout=seconds), timeout)

    def events(self, timeout: float | None = None) -> list[SessionEvent]:
        """Run the session until it has events or ``timeout`` seconds pass (``[]`` then).

        After the terminal event (``SessionClosed``/``SessionFailed``) has been returned,
        later calls return ``[]`` (at once when ``timeout`` is None).
        """
        until = None if timeout is None else self._clock() + timeout
        self._pump(until, lambda: bool(self._router))
        return self._router.take()

    def close(self, timeout: float = 5.0) -> None:
        """Close the session (disarming the dead man's switch if armed); requests without an
        outcome end as the session says. Idempotent."""
        if self.session.state not in (SessionState.CLOSED, SessionState.FAILED):
            self.session.close(self._clock())
            self._pump(self._clock() + timeout, lambda: self._router.ended is not None)
        self._drop()

    # --- the loop ---------------------------------------------------------------------------

    def _call(self, request: Request, timeout: float | None) -> Outcome:
        handle = self.session.submit(request, self._clock())
        self._router.watch(handle)
        until = None if timeout is None else self._clock() + timeout
        try:
            self._pump(until, lambda: self._router.outcome(handle) is not None)
        finally:
            outcome = self._router.forget(handle)
        if outcome is None:
            raise outcome_timed_out(handle, self.session.pending().get(handle, request), timeout)
        return result_of(outcome)

    def _pump(self, until: float | None, done: Callable[[], bool]) -> None:
        """Carry out actions and wait for input until ``done()`` or the clock reaches
        ``until``."""
        while True:
            self._run_actions()
            if done():
                return
            now = self._clock()
            deadline = self.session.next_deadline()
            if deadline is not None and deadline <= now:
                self.session.handle_timeout(now)
                continue
            if until is not None and now >= until:
                return
            waits = [t - now for t in (deadline, until) if t is not None]
            wait = min(waits) if waits else None
            if self._sock is None:
                if wait is None:
                    return  # nothing will ever happen: the session has stopped
                time.sleep(wait)
                continue
            self._read(wait)

    def _read(self, wait: float | None) -> None:
        sock, websocket, conn = self._sock, self._websocket, self._conn
        assert sock is not None
        assert websocket is not None
        assert conn is not None
        sock.settimeout(wait)
        try:
            data = sock.recv(_READ_SIZE)
        except TimeoutError:
            return
        except OSError:
            data = b""
        still_open = feed_websocket(self.session, conn, websocket, data or None, self._clock())
        self._write(websocket.bytes_to_send())
        if not still_open:
            self._drop()

    def _run_actions(self) -> None:
        while actions := self.session.actions():
            for action in actions:
                self._do(action)
                self._router.route(self.session.events())
        self._router.route(self.session.events())

    def _do(self, action: SessionAction) -> None:
        if isinstance(action, OpenConnection):
            self._open(action.conn)
        elif isinstance(action, SendMessages):
            if action.conn == self._conn and self._websocket is not None:
                for text in action.messages:
                    self._write(self._websocket.send_text(text))
        elif isinstance(action, CloseConnection):
            if action.conn == self._conn and self._websocket is not None:
                with contextlib.suppress(OSError):
                    self._write(self._websocket.close(), timeout=1.0)
                self._drop()
            self.session.connection_lost(action.conn, self._clock())
        elif isinstance(action, HttpCall):  # pragma: no branch - the four actions
            try:
                response = call_rest_blocking(
                    action.request,
                    rest_url=self._rest_url,
                    ssl_context=self._ssl_context,
                    timeout=self._http_timeout,
                )
            except Exception as exc:  # any failure is "no answer" to the session
                self.session.rest_failed(action.call, reason_of(exc), self._clock())
            else:
                self.session.rest_response(
                    action.call, response.status, response.body, self._clock()
                )

    def _open(self, conn: int) -> None:
        try:
            sock, websocket, messages = connect_websocket(
                self._endpoint, self._ssl_context, self._connect_timeout, self._max_message_size
            )
        except (OSError, ValueError) as exc:
            self.session.connection_failed(conn, reason_of(exc), self._clock())
            return
        self._conn, self._sock, self._websocket = conn, sock, websocket
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
        try:
            self._sock.sendall(data)
        except OSError:
            # Half a frame may be on the wire: the stream is unusable. Shut it down so the
            # next read reports the loss to the session.
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
    ssl_context: ssl.SSLContext | None = None,
    config: SessionConfig | None = None,
    protocol: str | None = None,
    **options: Any,
) -> Iterator[BlockingSession]:
    """Start a ``Session`` and run it from this thread; close it when the block exits.

    ``rest_url`` (``http(s)://``) serves the token and the reconciliation calls, ``ws_url``
    (``ws(s)://``) the WebSocket. ``ssl_context`` is used for both (a default context when
    None). ``protocol``: ``"v1"`` or ``"v2"``; by default a ``ws_url`` ending in ``/v2``
    means v2, else ``config.protocol``; over v2 ``/v2`` is appended to a URL without it.
    ``options``: ``connect_timeout`` (one deadline for TCP, TLS and the upgrade),
    ``http_timeout``, ``write_timeout``, ``max_message_size`` (seconds; characters). On entry
    the first token fetch and connection are attempted (a permanent error such as a bad key
    leaves the session FAILED at once); later failures are the session's to retry (watch
    ``events()`` for ``Reconnecting`` and ``SessionFailed``).
    """
    ws_url, config = choose_protocol(ws_url, config, protocol)
    session = Session(credentials, config=config, seed=os.urandom(16))
    with run_session(
        session, rest_url=rest_url, ws_url=ws_url, ssl_context=ssl_context, **options
    ) as runner:
        yield runner


@contextmanager
def run_session(
    session: Session, *, rest_url: str, ws_url: str, **options: Any
) -> Iterator[BlockingSession]:
    """Like :func:`open_session`, for a ``Session`` you built yourself (not started yet).

    ``options``: ``ssl_context``, ``connect_timeout``, ``http_timeout``, ``write_timeout``,
    ``max_message_size``.
    """
    parse_endpoint(rest_url, schemes=("http", "https"))
    runner = BlockingSession(session, ws_url=ws_url, rest_url=rest_url, **options)
    session.start(runner._clock())
    try:
        runner._run_actions()  # the first token fetch and connection, so bad keys show at once
        yield runner
    finally:
        runner.close()
