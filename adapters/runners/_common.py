"""What the three session runners (blocking, trio, asyncio) share.

* :class:`SessionRunner`: the public face they all offer (properties, ``subscribe`` and the
  order calls, in a sync or async form) and the bookkeeping between a ``Session`` and the
  pure :class:`~kraken_proto.session.Waiters`: route the session's events after every input,
  serve both deadlines. A runner subclass adds only I/O: carry out the session's actions,
  feed the results back, wait (the async runners' part is ``_async.AsyncSessionRunner``,
  the reading plumbing ``_reading``);
* the typed exceptions an order call raises (defined in the core, next to ``Waiters``);
* :func:`build_request`, so that each call accepts a request object or its fields.

No policy lives here: every decision (reconnect, reconcile, time out) is the Session's, and
which call an outcome completes, and how, is the ``Waiters``'.
"""

from __future__ import annotations

import math
import ssl
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

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
    SessionState,
)
from kraken_proto.adapters.journal import (
    SharedNonceSource,
    SharedRestCallCounter,
    SqliteFillLedger,
)
from kraken_proto.adapters.transport._endpoint import parse_endpoint, parse_ws_endpoint
from kraken_proto.adapters.transport._ws import DEFAULT_MAX_MESSAGE_SIZE
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
    "BatchResult",
    "Outcome",
    "OutcomeUnknownError",
    "RequestNotAppliedError",
    "RequestRefusedError",
    "SessionRunner",
    "TradingRequestError",
    "build_request",
    "result_of",
]

R = TypeVar("R", bound=Request)
OutcomeT = TypeVar("OutcomeT")  # what an order call returns: Outcome, or Awaitable[Outcome]
NoneT = TypeVar("NoneT")  # what subscribe returns: None, or Awaitable[None]
_STOPPED = (SessionState.CLOSED, SessionState.FAILED)
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
        journal_ledger: SqliteFillLedger | None = None,
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
        self._journal_init(journal_store, journal_nonces, journal_counter, journal_ledger)

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
