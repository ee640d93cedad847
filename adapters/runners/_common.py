"""What the three session runners (blocking, trio, asyncio) share.

* :class:`SessionRunner`: the public face they all offer (properties, ``subscribe`` and the
  order calls, in a sync or async form) and the bookkeeping between a ``Session`` and the
  pure :class:`~kraken_proto.session.Waiters`: route the session's events after every input,
  serve both deadlines. A runner subclass adds only I/O: carry out the session's actions,
  feed the results back, wait.
* the typed exceptions an order call raises (defined in the core, next to ``Waiters``);
* :func:`build_request`, so that each call accepts a request object or its fields;
* :func:`feed_websocket`, which carries received bytes from a ``WebSocketSession`` into the
  ``Session`` (messages, then the close with its code).

No policy lives here: every decision (reconnect, reconcile, time out) is the Session's, and
which call an outcome completes, and how, is the ``Waiters``'.
"""

from __future__ import annotations

import math
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Generic, Protocol, TypeVar

from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    FillLog,
    OrderTable,
    Request,
    Session,
    SessionAction,
    SessionEvent,
    SessionState,
)
from kraken_proto.adapters.journal import SharedNonceSource, SharedRestCallCounter
from kraken_proto.adapters.transport._ws import (
    DEFAULT_MAX_MESSAGE_SIZE,
    WebSocketSession,
    parse_endpoint,
    parse_ws_endpoint,
)
from kraken_proto.session._balances import SessionSubscribe
from kraken_proto.session._call_errors import (
    OutcomeUnknownError,
    RequestNotAppliedError,
    RequestRefusedError,
    TradingRequestError,
    result_of,
)
from kraken_proto.session._journal import JournalStore
from kraken_proto.session._waiters import Waiters
from kraken_proto.v1 import Subscribe
from kraken_proto.v2 import Subscribe as V2Subscribe

from ._batch import BatchCalls, BatchResult, BatchT, Outcome
from ._journal import JournalPlumbing

__all__ = [
    "AsyncSessionRunner",
    "BatchResult",
    "Outcome",
    "OutcomeUnknownError",
    "RequestNotAppliedError",
    "RequestRefusedError",
    "SessionRunner",
    "TradingRequestError",
    "build_request",
    "feed_websocket",
    "reason_of",
    "result_of",
]

R = TypeVar("R", bound=Request)
OutcomeT = TypeVar("OutcomeT")  # what an order call returns: Outcome, or Awaitable[Outcome]
NoneT = TypeVar("NoneT")  # what subscribe returns: None, or Awaitable[None]
_STOPPED = (SessionState.CLOSED, SessionState.FAILED)
READ_SIZE = 65536
_WALL_SLACK = 1e-3  # seconds the session's view of the wall clock may lag a reading


def build_request(kind: type[R], request: R | None, fields: dict[str, Any]) -> R:
    """``request`` itself, or a ``kind`` built from keyword ``fields`` (not both)."""
    if request is None:
        return kind(**fields)
    if fields:
        raise TypeError(f"pass a {kind.__name__} or its fields, not both")
    if not isinstance(request, kind):
        raise TypeError(f"expected a {kind.__name__}, got {type(request).__name__}")
    return request


class SessionRunner(
    BatchCalls[OutcomeT, BatchT], JournalPlumbing, Generic[OutcomeT, NoneT, BatchT]
):
    """A running ``Session`` as a runner offers it: one API, sync or async.

    Order calls submit the request and wait for its final outcome, at most ``timeout``
    seconds (``None``: no limit), and return only once ``orders`` shows it (see
    ``kraken_proto.session.Waiters``). They return ``RequestAccepted`` (Kraken's status
    replies, ``txid``) or ``RequestApplied`` (the answer was lost; reconciliation found it
    took effect), and raise ``RequestRefusedError`` (Kraken refused it, or the session's
    credentials: ``error``), ``RequestNotAppliedError`` (reconciled: did not take effect;
    safe to send again) or ``OutcomeUnknownError`` (the timeout ended first, or the session
    could not tell). After ``close`` they raise ``LocalProtocolError``. Each accepts a request
    object or its fields as keywords.

    ``options`` (seconds; characters): ``ssl_context`` (for ``wss``/``https``; a default
    context when None), ``connect_timeout`` (one deadline for TCP, TLS and the upgrade),
    ``http_timeout`` (one REST call), ``write_timeout`` (one write; a write that does not
    finish ends the connection), ``max_message_size`` (one incoming message),
    ``reflect_timeout`` (how long a known outcome waits for ``orders`` to show it),
    ``clock`` (every deadline; ``time.monotonic``), ``wall_clock`` (unix time, for nonces and
    Kraken's history queries only; ``time.time`` when None).
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
        reflect_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] | None = None,
        journal_store: JournalStore | None = None,
        journal_nonces: SharedNonceSource | None = None,
        journal_counter: SharedRestCallCounter | None = None,
    ) -> None:
        parse_endpoint(rest_url, schemes=("http", "https"))
        self.session = session
        """The ``Session`` being run (read it; drive it only through this runner)."""
        self._endpoint = parse_ws_endpoint(ws_url)
        self._rest_url = rest_url
        self._ssl_context = ssl_context
        self._connect_timeout = connect_timeout
        self._http_timeout = http_timeout
        self._write_timeout = write_timeout
        self._max_message_size = max_message_size
        self._monotonic = clock
        self._wall_clock = wall_clock
        self._wall_offset = math.nan  # the offset last given to the session
        self._waiters = Waiters(session, reflect_timeout=reflect_timeout)
        self._journal_init(journal_store, journal_nonces, journal_counter)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._endpoint.url} {self.session.state.value}>"

    @property
    def orders(self) -> OrderTable:
        """The account's orders, kept across connections (with openOrders subscribed)."""
        return self.session.orders

    @property
    def fills(self) -> FillLog:
        """The trade ids reported so far."""
        return self.session.fills

    @property
    def state(self) -> SessionState:
        """Where the session is (``SessionState``)."""
        return self.session.state

    # --- the calls ----------------------------------------------------------------------------

    def subscribe(self, request: SessionSubscribe | str, **options: Any) -> NoneT:
        """Subscribe now and after every reconnect (``"ownTrades"``, ``"openOrders"``, on v2
        ``"balances"``, or a ``Subscribe``). Raises ``LocalProtocolError`` once the session
        has stopped, and for balances on a v1 session."""
        if request == "balances":
            return self._subscribe(V2Subscribe(channel="balances", **options))
        if isinstance(request, str):
            request = Subscribe(name=request, **options)  # type: ignore[arg-type]
        if isinstance(request, V2Subscribe):
            return self._subscribe(request)
        return self._subscribe(build_request(Subscribe, request, {}))

    def add_order(
        self, request: AddOrder | None = None, /, *, timeout: float | None = 60.0, **fields: Any
    ) -> OutcomeT:
        """Place an order (a ``cl_ord_id`` is generated when none is given); returns once
        ``orders`` holds it."""
        return self._call(build_request(AddOrder, request, fields), timeout)

    def edit_order(
        self, request: EditOrder | None = None, /, *, timeout: float | None = 60.0, **fields: Any
    ) -> OutcomeT:
        """Replace an order (new ``txid``); returns once ``orders`` holds the replacement and
        no longer shows the original open."""
        return self._call(build_request(EditOrder, request, fields), timeout)

    def amend_order(
        self, request: AmendOrder | None = None, /, *, timeout: float | None = 60.0, **fields: Any
    ) -> OutcomeT:
        """Change an order in place (same ``txid``); returns once ``orders`` shows the new
        values."""
        return self._call(build_request(AmendOrder, request, fields), timeout)

    def cancel_order(
        self, request: CancelOrder | None = None, /, *, timeout: float | None = 60.0, **fields: Any
    ) -> OutcomeT:
        """Cancel orders by ``txid``, ``cl_ord_id`` or ``userref``; returns once none of them
        is open in ``orders``."""
        return self._call(build_request(CancelOrder, request, fields), timeout)

    def cancel_all(self, *, timeout: float | None = 60.0) -> OutcomeT:
        """Cancel every open order; returns once none of the orders open at the call is."""
        return self._call(CancelAll(), timeout)

    def cancel_all_orders_after(self, seconds: int, *, timeout: float | None = 60.0) -> OutcomeT:
        """Arm (``seconds`` > 0) or disarm (0) Kraken's dead man's switch."""
        return self._call(CancelAllOrdersAfter(timeout=seconds), timeout)

    # --- for the runner subclass ------------------------------------------------------------

    def _call(self, request: Request, timeout: float | None) -> OutcomeT:
        raise NotImplementedError

    def _subscribe(self, request: SessionSubscribe) -> NoneT:
        raise NotImplementedError

    def _changed(self) -> None:
        """The waiters or the user's events changed: wake whoever waits (async runners)."""

    def _clock(self) -> float:
        """The runners' one clock: monotonic ``now`` for every deadline; the wall clock's
        reading goes to the session (a step moves nonces and history starts, no timeout)."""
        now = self._monotonic()
        wall = time.time() if self._wall_clock is None else self._wall_clock()
        # Told only when the offset moved (a step, or drift past 1 ms): the session's check
        # of every reading costs more than the read itself, on every input.
        if not abs(wall - now - self._wall_offset) < _WALL_SLACK:
            self.session.set_wall_clock(now, wall)
            self._wall_offset = wall - now
        return now

    def _route(self, now: float | None = None) -> None:
        """Give the session's new events to the waiters. Call after every session input
        (``now``: that input's clock reading, read again when None).

        With a journal, the records the input produced are persisted first (earlier than
        their turn among the actions, which is safe: a record may always be written sooner),
        so the user never sees a fill the journal could lose."""
        events = self.session.events()
        if self._journal is not None:
            for action in self.session.actions():
                if not self._persist(action):
                    self._backlog.append(action)
        if events:
            self._waiters.feed(events, self._clock() if now is None else now)
            self._changed()

    def _submit(self, request: Request) -> int:
        handle = self._waiters.submit(request, self._clock())
        self._route()
        return handle

    def _subscribe_now(self, request: SessionSubscribe) -> None:
        self.session.subscribe(request, self._clock())
        self._route()

    def _start_close(self) -> bool:
        """Ask the session to close (unless it has stopped); True if it was still running."""
        if self.session.state in _STOPPED:
            return False
        self.session.close(self._clock())
        self._route()
        return True

    def _next_deadline(self) -> float | None:
        """When to call ``_serve_deadlines`` next (clock time), or None."""
        due, held = self.session.next_deadline(), self._waiters.next_deadline()
        if due is None or held is None:
            return held if due is None else due
        return min(due, held)

    def _serve_deadlines(self) -> None:
        """Act on every deadline passed: the session's timers and the waiters' holds."""
        now = self._clock()
        due = self.session.next_deadline()
        if due is not None and due <= now:
            self.session.handle_timeout(now)
            self._route()
        if self._waiters.expire(now):
            self._changed()


class _Event(Protocol):
    def set(self) -> None: ...

    def wait(self) -> Awaitable[object]: ...


class AsyncSessionRunner(
    SessionRunner[Awaitable[Outcome], Awaitable[None], Awaitable[BatchResult]]
):
    """What the trio and asyncio runners share: the awaitable calls, waking whoever waits
    when the waiters change, and the driver task that carries out the session's actions.

    A subclass supplies two primitives of its event loop (``_new_event``, ``_move_on_after``)
    and the I/O: ``_do`` (one action), the connection and HTTP tasks. Every task that gives
    the session a result calls ``_input_done`` right after.
    """

    def __init__(self, session: Session, **options: Any) -> None:
        super().__init__(session, **options)
        self._wake = self._new_event()  # the session has actions or a new deadline
        self._sleep_until = -math.inf  # the deadline the idle driver waits for (-inf: busy)
        self._change: _Event | None = None  # set and dropped whenever the waiters change:
        # a change with nobody waiting then costs nothing
        self._stopped = False  # the runner has exited: nothing will change any more
        self._crash: BaseException | None = None  # a background task's bug, raised at exit

    # --- the event loop's primitives ----------------------------------------------------

    def _new_event(self) -> _Event:
        raise NotImplementedError

    def _move_on_after(self, seconds: float | None) -> AbstractAsyncContextManager[None]:
        """A block that silently stops after ``seconds`` (None: never)."""
        raise NotImplementedError

    async def _do(self, action: SessionAction) -> None:
        raise NotImplementedError

    async def _idle(self, seconds: float | None) -> None:
        """The driver's wait: until ``_wake`` is set or ``seconds`` pass (None: no limit)."""
        async with self._move_on_after(seconds):
            await self._wake.wait()

    # --- the calls ----------------------------------------------------------------------------

    async def events(self, timeout: float | None = None) -> AsyncIterator[SessionEvent]:
        """Every session event, in order, as it comes; ends after the terminal
        ``SessionClosed``/``SessionFailed``, or once ``timeout`` seconds have passed (None: no
        limit). Ends at once after the terminal event (or once the runner has exited)."""
        end = None if timeout is None else time.monotonic() + timeout
        waiters = self._waiters
        while not waiters.exhausted:
            if not waiters:  # kept events go out at once: no timer scope per event
                if end is None:
                    await self._until(waiters.__bool__)
                else:
                    async with self._move_on_after(max(0.0, end - time.monotonic())):
                        await self._until(waiters.__bool__)
                if not waiters:
                    return
            yield self._take_one()

    async def next_events(self, timeout: float | None = None) -> list[SessionEvent]:
        """Wait until there are events or ``timeout`` seconds pass; return them (``[]``
        then). Returns ``[]`` at once after the terminal event was returned."""
        async with self._move_on_after(timeout):
            await self._until(lambda: bool(self._waiters) or self._waiters.exhausted)
        return self._take()

    async def close(self, timeout: float = 5.0) -> None:
        """Close the session (disarming the dead man's switch if armed), waiting at most
        ``timeout`` seconds for ``SessionClosed``; requests without an outcome end as the
        session says. Idempotent."""
        if self._start_close():
            self._wake.set()
        async with self._move_on_after(timeout):
            await self._until(lambda: self._waiters.ended is not None)

    async def _subscribe(self, request: SessionSubscribe) -> None:
        self._subscribe_now(request)
        self._wake.set()

    async def _call(self, request: Request, timeout: float | None) -> Outcome:
        handle = self._submit(request)
        await self._wait_for((handle,), timeout)
        return self._result(handle, timeout)

    async def _call_batch(self, orders: list[AddOrder], timeout: float | None) -> BatchResult:
        handles = self._submit_batch(orders)
        await self._wait_for(handles, timeout)
        return self._batch_results(handles, timeout)

    async def _wait_for(self, handles: tuple[int, ...], timeout: float | None) -> None:
        """Wait until every call of ``handles`` is done or ``timeout`` passes; a cancelled
        wait forgets them."""
        self._wake.set()
        try:
            async with self._move_on_after(timeout):
                await self._until(lambda: all(map(self._waiters.done, handles)))
        except BaseException:
            self._waiters.forget(*handles)
            raise

    # --- the plumbing -------------------------------------------------------------------------

    async def _until(self, ready: Callable[[], bool]) -> None:
        """Wait until ``ready()`` (checked whenever the waiters change) or the runner exits."""
        while not ready() and not self._stopped:
            if self._change is None:  # made when first waited for: an idle runner holds none
                self._change = self._new_event()
            await self._change.wait()

    def _changed(self) -> None:
        # Wake every waiter (calls, events() consumers, close); later waits use a fresh event.
        if self._change is not None:
            self._change.set()
            self._change = None

    def _acked(self) -> None:
        self._wake.set()

    def _input_done(self, now: float | None = None) -> None:
        """A result was given to the session (at ``now``): route its events; wake the driver
        only when it has work: actions, or a deadline earlier than the one it waits for.
        Most reads produce neither, and then the user's task is the only one woken."""
        self._route(now)
        self._backlog += self.session.actions()
        if self._backlog:
            self._wake.set()
        elif self._sleep_until != -math.inf:
            deadline = self._next_deadline()
            if deadline is not None and deadline < self._sleep_until:
                self._wake.set()

    def _exited(self) -> None:
        """The runner's block has exited: wake every waiter for good."""
        self._stopped = True
        self._close_journal()
        self._changed()

    async def _drive(self) -> None:
        """The main background task: carry out actions in order, wake at deadlines."""
        while True:
            self._wake = self._new_event()
            actions = self._next_actions()
            for action in actions:
                if not self._persist(action):
                    await self._do(action)
                self._route()
            if actions:
                continue
            deadline = self._next_deadline()
            wait = None if deadline is None else max(0.0, deadline - self._clock())
            self._sleep_until = math.inf if deadline is None else deadline
            try:
                await self._idle(wait)
            finally:
                self._sleep_until = -math.inf
            self._serve_deadlines()


def feed_websocket(
    session: Session, conn: int, websocket: WebSocketSession, data: bytes | None, now: float
) -> bool:
    """Give received bytes (``None`` at EOF) to ``websocket`` and its messages to the session.

    Returns False once the WebSocket is closed; the session has then been told
    (``connection_lost`` with the close code). Write ``websocket.bytes_to_send()`` after it.
    """
    try:
        messages = websocket.receive_data(data)
    except ConnectionError:
        messages = []
    for text in messages:
        session.receive_message(conn, text, now)
    if websocket.is_open:
        return True
    closed = websocket.closed
    session.connection_lost(conn, now, code=None if closed is None else closed.code)
    return False


def reason_of(exc: BaseException) -> str:
    """A short reason for the session's logs (adapter exceptions carry no secrets)."""
    return f"{type(exc).__name__}: {exc}"[:300]
