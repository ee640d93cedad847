"""``Session``: a pure Kraken private session (v1 or v2) that survives disconnects.

A ``Session`` sits above one :class:`Connection` at a time (over v2 a ``V2Link``, which gives a
``V2Connection`` the same interface: ``_link``) and owns, across connections: the
subscriptions asked for (and their options), one :class:`OrderTable`, one :class:`FillLog`,
the trading requests in flight, the token lifecycle, the reconnect policy and the REST
reconciliation. It does no I/O, reads no clock and draws no random numbers: time is the
``now`` argument of every call (unix seconds), randomness comes from ``seed``.

How an adapter drives it (the whole adapter is this loop plus moving bytes)::

    session = Session(credentials, config=SessionConfig(), seed=os.urandom(16))
    session.start(now)
    session.subscribe(Subscribe(name="ownTrades"), now)
    session.subscribe(Subscribe(name="openOrders"), now)
    handle = session.submit(AddOrder(...), now)        # any time, even while disconnected
    while True:
        for action in session.actions():                # drain after EVERY call into session
            match action:
                case OpenConnection(conn=c):   open ws; later connection_made(c, now)
                                               or connection_failed(c, reason, now)
                case SendMessages(conn=c, messages=m): write each text message of m
                case CloseConnection(conn=c):  close ws; then connection_lost(c, now)
                case HttpCall(call=k, request=r):  POST r; then rest_response(k, status,
                                               body, now) or rest_failed(k, reason, now)
        for event in session.events(): ...              # FillReceived, RequestAccepted, ...
        wait for: a WebSocket message -> session.receive_message(c, text, now)
                  a socket closing      -> session.connection_lost(c, now, code=code)
                  an HTTP response      -> session.rest_response(...)
                  session.next_deadline() passing -> session.handle_timeout(now)
                  the user              -> session.submit(...) / withdraw / close
        stop once session.state is CLOSED or FAILED (after draining events)

Every input may produce actions and events; drain both after each call. Inputs about a
connection or call the session no longer cares about (an old ``conn``) are ignored, so the
adapter need not track which ones are current. No input raises because of what the network
did; ``LocalProtocolError`` only signals misuse (an unknown handle, a call after ``close``).

What the session guarantees:

* **Fills exactly once.** Each trade id is reported once as ``FillReceived``, whether it came
  live, in an ownTrades snapshot, or from REST ``TradesHistory``, which backfills after every
  reconnect and every ownTrades sequence gap, from the last fill seen minus
  ``backfill_margin`` seconds, paging through every result.
* **No order placed twice.** Every ``AddOrder`` goes out with a ``cl_ord_id`` (generated from
  the seed when the caller gave none). Nothing is ever re-sent. A request whose answer was
  lost is ``RequestInDoubt``, then resolved after reconnecting: AddOrder through REST
  ``OpenOrders``/``ClosedOrders`` filtered by its ``cl_ord_id``; cancels, edits and amends
  from the openOrders snapshot and REST ``QueryOrders``.
* **One final outcome per request**: ``RequestAccepted``, ``RequestRefused``,
  ``RequestApplied``, ``RequestNotApplied`` or (only when it cannot be known)
  ``RequestUnresolved``.
* **The order table matches Kraken**: each openOrders snapshot is authoritative; orders it
  leaves out are looked up with ``QueryOrders`` and get their final status and totals.
* **Reconnects** on a lost connection, ``ConnectionStale``, ``TokenRejected``, an invalid
  frame, and a subscription client and server disagree on; a fresh token per connection;
  backoff as ``SessionConfig`` says; at most ``max_attempts`` per ``attempt_window``.
  Invalid key, invalid signature and permission denied end the session (``SessionFailed``).
* REST calls go out one at a time, each only when Kraken's call counter has room.
* Reconnects are logged at WARNING on the ``kraken_proto.session`` logger, without tokens.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from kraken_proto._connection_events import (
    ChannelSnapshot,
    ChannelUpdate,
    ConnectionStale,
    LateReply,
    RequestCompleted,
    RequestFailed,
    RequestLost,
    RequestOutcomeUnknown,
    SequenceGap,
    TokenExpired,
    TokenRejected,
)
from kraken_proto._connection_state import SubscriptionState, TokenState
from kraken_proto._errors import LocalProtocolError, RemoteProtocolError
from kraken_proto._event_base import Event, KrakenError
from kraken_proto._fills import FillLog
from kraken_proto._orders import TERMINAL_STATUSES, OrderTable
from kraken_proto._request_base import Request
from kraken_proto.rest._calls import (
    TRADES_HISTORY_PATH,
    build_closed_orders_request,
    build_open_orders_request,
    build_query_orders_request,
    build_trades_history_request,
)
from kraken_proto.rest._counter import RestCallCounter
from kraken_proto.rest._errors import InvalidArgumentsError, RestError, UnknownOrderError
from kraken_proto.rest._request import RestRequest, build_private_request
from kraken_proto.rest._results import (
    RestOrder,
    parse_closed_orders_response,
    parse_open_orders_response,
    parse_query_orders_response,
    parse_trades_history_response,
)
from kraken_proto.rest._signing import Credentials, NonceSource
from kraken_proto.rest._token import WebSocketToken, build_token_request, parse_token_response
from kraken_proto.v1._events import (
    AddOrderStatus,
    AmendOrderStatus,
    EditOrderStatus,
    ErrorEvent,
    OpenOrders,
    OrderRecord,
    OwnTrades,
    StatusEvent,
    SystemStatus,
    Trade,
)
from kraken_proto.v1._requests import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Subscribe,
)

from ._actions import CloseConnection, HttpCall, OpenConnection, SendMessages, SessionAction
from ._backoff import ReconnectPolicy
from ._config import SessionConfig, SessionState
from ._events import (
    Connected,
    FillReceived,
    FillSource,
    OrdersChanged,
    Reconnected,
    Reconnecting,
    RequestAccepted,
    RequestApplied,
    RequestInDoubt,
    RequestNotApplied,
    RequestOutcome,
    RequestRefused,
    RequestUnresolved,
    SessionClosed,
    SessionEvent,
    SessionFailed,
    SystemStatusChanged,
)
from ._link import Link, V2Link, open_link
from ._reconcile import (
    amend_took_effect,
    cancel_took_effect,
    edit_took_effect,
    order_record,
    statuses_of,
    trade_of,
)
from ._rest import RestJob, RestQueue
from ._seed import SeededStream

__all__ = ["Session"]

LOGGER_NAME = "kraken_proto.session"


def _log(level: int, message: str, *args: object) -> None:
    """Log through ``logging`` (which does no I/O unless the application set up handlers).

    ``logging`` is imported here, not at module level: it loads ``threading``, and
    ``import kraken_proto`` stays free of it (tests/test_purity.py). No token or secret is
    ever part of ``message`` or ``args``.
    """
    import logging

    logging.getLogger(LOGGER_NAME).log(level, message, *args)


_WARNING = 30  # logging.WARNING
_ERROR = 40  # logging.ERROR

_TRADING = (AddOrder, EditOrder, AmendOrder, CancelOrder, CancelAll, CancelAllOrdersAfter)
_QUERY_BATCH = 50
# A ClosedOrders lookup by cl_ord_id looks back this far before the request was sent, so a
# cl_ord_id the caller reused long ago cannot match (generated ids are never reused).
_CLOSED_LOOKBACK = 300.0
_TERMINAL = frozenset({SessionState.CLOSING, SessionState.CLOSED, SessionState.FAILED})


class _Phase(enum.Enum):
    QUEUED = "queued"  # not sent yet
    SENT = "sent"  # on a connection, awaiting its answer
    DOUBT = "doubt"  # the answer was lost; waiting to reconcile
    RECONCILING = "reconciling"  # REST lookups in progress


@dataclass(slots=True)
class _Tracked:
    handle: int
    request: Request
    phase: _Phase = _Phase.QUEUED
    reqid: int | None = None
    sent_at: float = 0.0
    open_at_send: tuple[str, ...] = ()
    wait_for_connection: bool = False  # lost with its connection: reconcile on the next one
    reconcile_at: float | None = None  # timed out: reconcile then, unless a late reply
    batch: int | None = None  # submit_batch's group: sent together as one batch_add over v2


def _txid_of(replies: Iterable[Event]) -> str | None:
    for reply in replies:
        if isinstance(reply, AddOrderStatus | EditOrderStatus | AmendOrderStatus):
            return reply.txid
    return None


def _reply_error(reply: Event) -> KrakenError | None:
    if isinstance(reply, StatusEvent) and not reply.ok:
        return reply.error or KrakenError.parse(f"status {reply.status}")
    if isinstance(reply, ErrorEvent):
        return reply.error or KrakenError.parse("error")
    return None


class Session:
    """A Kraken private session (v1, or v2 with ``SessionConfig(protocol="v2")``) across any
    number of connections, without I/O.

    ``credentials`` sign the REST calls (token, reconciliation). ``seed`` (bytes, at least
    8; pass ``os.urandom(16)``) is the only source of randomness: backoff jitter and
    generated ``cl_ord_id`` values. ``nonces`` is the key's nonce source (one per API key;
    a new ``NonceSource()`` by default). Nothing happens before ``start``.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        config: SessionConfig | None = None,
        seed: bytes,
        nonces: NonceSource | None = None,
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise LocalProtocolError("credentials: expected kraken_proto.Credentials")
        self._credentials = credentials
        self._config = config if config is not None else SessionConfig()
        self._random = SeededStream(seed)
        self._policy = ReconnectPolicy(self._config, self._random)
        self._rest = RestQueue(
            counter=RestCallCounter(self._config.rest_tier),
            nonces=nonces if nonces is not None else NonceSource(),
            retry_delay=self._config.rest_retry_delay,
            retry_max=self._config.backoff_max,
        )
        self._state = SessionState.IDLE
        self._orders = OrderTable(max_finished=self._config.max_finished)
        self._fills = FillLog(window=self._config.fill_window)
        self._actions: list[SessionAction] = []
        self._events: list[SessionEvent] = []
        self._subscriptions: dict[str, Subscribe] = {}
        self._tracked: dict[int, _Tracked] = {}
        self._queued: dict[int, _Tracked] = {}  # not sent yet, in submit order
        self._doubts: dict[int, _Tracked] = {}
        self._next_handle = 1
        self._next_batch = 1
        self._by_reqid: dict[int, int] = {}
        self._late: dict[int, int] = {}
        self._conn: Link | None = None
        self._conn_num: int | None = None
        self._closing: set[int] = set()
        self._next_conn = 1
        self._token: WebSocketToken | None = None
        self._retry_at: float | None = None
        self._attempt_pending = False
        self._lost_at: float | None = None
        self._live_since: float | None = None
        self._ever_live = False
        self._synced: set[str] = set()
        self._system_status: str | None = None
        self._cl_ord_ids: dict[str, str] = {}
        self._fill_cursor: Decimal | None = None
        self._started_at = 0.0
        self._backfill_from: Decimal | None = None
        self._backfill_running = False
        self._vanished: dict[str, None] = {}
        self._vanished_running = False
        self._attempts = 0

    def __repr__(self) -> str:
        return (
            f"<Session state={self._state.name} connection={self._conn_num} "
            f"pending={len(self._tracked)} open_orders={len(self._orders)}>"
        )

    # --- queries ------------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """Where the session is (see ``SessionState``)."""
        return self._state

    @property
    def orders(self) -> OrderTable:
        """The account's orders, kept across connections (read it; do not apply to it)."""
        return self._orders

    @property
    def fills(self) -> FillLog:
        """The trade ids reported so far (bounded window)."""
        return self._fills

    @property
    def connection_attempts(self) -> int:
        """How many WebSocket connections the session has asked for so far."""
        return self._attempts

    @property
    def connection(self) -> Link | None:
        """The current connection's core, for inspection (None between connections): a
        ``Connection``, or over v2 a ``V2Link`` around its ``V2Connection``."""
        return self._conn

    def pending(self) -> dict[int, Request]:
        """The submitted requests without a final outcome yet, by handle."""
        return {handle: tracked.request for handle, tracked in self._tracked.items()}

    # --- user calls -----------------------------------------------------------------------

    def start(self, now: float) -> None:
        """Begin: fetch a token and open the first connection. Raises ``LocalProtocolError``
        unless the session is IDLE."""
        if self._state is not SessionState.IDLE:
            raise LocalProtocolError(f"start: the session is {self._state.value}, not idle")
        self._started_at = now
        self._begin_attempt(now)
        self._settle(now)

    def subscribe(self, request: Subscribe, now: float) -> None:
        """Subscribe to a private channel now (if connected) and after every reconnect, with
        the same options. Subscribing again to the same channel replaces its options (they
        take effect from the next connection). Raises ``LocalProtocolError`` after close or
        failure, or for something other than a ``Subscribe``."""
        untyped: object = request
        if not isinstance(untyped, Subscribe):
            raise LocalProtocolError("subscribe: expected a kraken_proto.v1.Subscribe")
        self._require_running("subscribe")
        self._subscriptions[request.name] = request
        conn = self._conn
        if conn is not None and conn.subscription_state(request.name) in (
            SubscriptionState.UNSUBSCRIBED,
            SubscriptionState.FAILED,
        ):
            # Without a usable token the send raises; the next connection subscribes.
            with contextlib.suppress(LocalProtocolError):
                conn.send(request, now)
            self._after_conn_call(conn, now)
        self._settle(now)

    def submit(self, request: Request, now: float) -> int:
        """Queue a trading request; return its handle (an int, increasing).

        Accepted: ``AddOrder``, ``EditOrder``, ``AmendOrder``, ``CancelOrder``, ``CancelAll``,
        ``CancelAllOrdersAfter``. An ``AddOrder`` without ``cl_ord_id`` gets one generated
        from the seed; the request as sent is the one in the outcome events. The request goes
        out as soon as the session is connected with a token (at once when LIVE), is never
        re-sent, and ends with exactly one ``RequestOutcome`` event for the handle. Raises
        ``LocalProtocolError`` (nothing queued) for other request types, an ``AddOrder`` with
        ``userref`` (the session needs a ``cl_ord_id`` to reconcile), or after close or
        failure.
        """
        untyped: object = request
        if not isinstance(untyped, _TRADING):
            raise LocalProtocolError(
                f"submit: expected a trading request ({', '.join(c.__name__ for c in _TRADING)})"
                f", got {type(untyped).__name__}"
            )
        self._require_running("submit")
        (handle,) = self._queue_requests([self._with_cl_ord_id(request, "submit")], None, now)
        return handle

    def submit_batch(self, orders: Sequence[AddOrder], now: float) -> tuple[int, ...]:
        """Queue 2 to 15 ``AddOrder`` on one pair to go out together; return their handles.

        Over v2 they go out as one ``batch_add``, over v1 as one ``addOrder`` each (at the same
        moment). Each order gets its own handle, its own ``cl_ord_id`` (as with ``submit``) and
        its own ``RequestOutcome``, exactly as if submitted alone: a batch whose answer was lost
        is reconciled row by row, by each row's ``cl_ord_id``. Raises ``LocalProtocolError``
        (nothing queued) for fewer than 2 or more than 15 orders, a request that is not an
        ``AddOrder``, orders on different pairs, and for what ``submit`` refuses.
        """
        self._require_running("submit_batch")
        rows = list(orders)
        if not 2 <= len(rows) <= 15:
            raise LocalProtocolError(f"submit_batch: 2 to 15 orders, got {len(rows)}")
        for row in rows:
            untyped: object = row
            if not isinstance(untyped, AddOrder):
                raise LocalProtocolError(
                    f"submit_batch: expected AddOrder rows, got {type(untyped).__name__}"
                )
        if len({row.pair for row in rows}) > 1:
            raise LocalProtocolError("submit_batch: every order of a batch must be on one pair")
        prepared = [self._with_cl_ord_id(row, "submit_batch") for row in rows]
        batch = self._next_batch
        self._next_batch += 1
        return self._queue_requests(prepared, batch, now)

    def _with_cl_ord_id(self, request: Request, call: str) -> Request:
        """``request`` as it will be sent: an AddOrder gets a generated cl_ord_id."""
        if isinstance(request, AddOrder) and request.cl_ord_id is None:
            if request.userref is not None:
                raise LocalProtocolError(
                    f"{call}: an AddOrder with userref cannot carry a cl_ord_id, and the session "
                    "needs one to find the order after a disconnect; give a cl_ord_id instead"
                )
            request = dataclasses.replace(request, cl_ord_id=self._random.client_order_id())
        return request

    def _queue_requests(
        self, requests: list[Request], batch: int | None, now: float
    ) -> tuple[int, ...]:
        handles: list[int] = []
        for request in requests:
            handle = self._next_handle
            self._next_handle += 1
            tracked = _Tracked(handle=handle, request=request, batch=batch)
            self._tracked[handle] = tracked
            self._queued[handle] = tracked
            handles.append(handle)
        self._send_queued(now)
        self._settle(now)
        return tuple(handles)

    def withdraw(self, handle: int, now: float) -> bool:
        """Drop a submitted request that has not been sent yet; it ends as
        ``RequestNotApplied(via="withdrawn")``. Returns False (and changes nothing) when the
        request was already sent or has ended. Raises ``LocalProtocolError`` for a handle
        ``submit`` never returned."""
        if (
            isinstance(handle, bool)
            or not isinstance(handle, int)
            or not (0 < handle < self._next_handle)
        ):
            raise LocalProtocolError(f"withdraw: unknown handle {handle!r}")
        tracked = self._tracked.get(handle)
        if tracked is None or tracked.phase is not _Phase.QUEUED:
            return False
        self._finish(
            tracked, RequestNotApplied(handle=handle, request=tracked.request, via="withdrawn")
        )
        return True

    def close(self, now: float) -> None:
        """Stop: disarm the dead man's switch if armed, close the connection; requests without
        an outcome end as ``RequestUnresolved`` (sent) or ``RequestNotApplied`` (never sent);
        then ``SessionClosed``. Idempotent."""
        if self._state in _TERMINAL:
            return
        self._stop(now, failed=None)

    # --- adapter inputs -------------------------------------------------------------------

    def connection_made(self, conn: int, now: float) -> None:
        """The WebSocket ``conn`` (from ``OpenConnection``) is open."""
        if conn != self._conn_num or self._conn is not None or self._token is None:
            return
        connection = open_link(self._config.protocol, self._config.connection)
        connection.connection_made(now)
        connection.provide_token(self._token.token, now)
        self._token = None
        self._conn = connection
        self._state = SessionState.SYNCING
        self._synced = set()
        self._by_reqid = {}
        self._late = {}
        for request in self._subscriptions.values():
            connection.send(request, now)
        if "openOrders" not in self._subscriptions:
            self._release_doubts(now)
        self._after_conn_call(connection, now)
        self._settle(now)

    def connection_failed(self, conn: int, reason: str, now: float) -> None:
        """Opening ``conn`` failed (``reason``: for the logs; must not hold secrets)."""
        if conn != self._conn_num or self._conn is not None:
            return
        self._conn_num = None
        self._token = None
        self._schedule_retry(f"connection failed: {reason}", now)
        self._settle(now)

    def connection_lost(self, conn: int, now: float, code: int | None = None) -> None:
        """The WebSocket ``conn`` is closed (by either side); ``code`` is the close code, if
        any. Also the answer to ``CloseConnection``."""
        if conn in self._closing:
            self._closing.discard(conn)
            if self._state is SessionState.CLOSING and not self._closing:
                self._state = SessionState.CLOSED
                self._events.append(SessionClosed())
            elif self._attempt_pending and not self._closing:
                self._attempt_pending = False
                self._begin_attempt(now)
        elif conn == self._conn_num:
            detail = "" if code is None else f" (close code {code})"
            self._lose(f"connection lost{detail}", now, close=False)
        self._settle(now)

    def receive_message(self, conn: int, text: str | bytes, now: float) -> None:
        """One complete WebSocket text message arrived on ``conn``. An invalid frame does not
        raise: the session closes that connection and reconnects."""
        connection = self._conn
        if conn != self._conn_num or connection is None:
            return
        try:
            connection.receive_message(text, now)
        except RemoteProtocolError as error:
            self._handle_conn_events(connection.events_received(), now)
            self._lose(f"invalid frame from Kraken ({error})", now, close=True)
        else:
            self._after_conn_call(connection, now)
        self._settle(now)

    def rest_response(self, call: int, status: int, body: bytes, now: float) -> None:
        """The HTTP response to ``HttpCall(call, ...)``: status code and body bytes."""
        if self._state in _TERMINAL:
            return
        error = self._rest.answer(call, status, body, now)
        if error is not None:
            self._stop(now, failed=error)
            return
        self._settle(now)

    def rest_failed(self, call: int, reason: str, now: float) -> None:
        """``HttpCall(call, ...)`` got no response at all (connect error, timeout)."""
        if self._state in _TERMINAL:
            return
        self._rest.failed(call, reason, now)
        self._settle(now)

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline at or before ``now`` (backoff over, request timeouts,
        liveness, dead man's switch re-arm, REST counter room)."""
        if self._state in _TERMINAL:
            return
        if (
            self._state is SessionState.WAITING
            and self._retry_at is not None
            and now >= self._retry_at
        ):
            self._begin_attempt(now)
        connection = self._conn
        if connection is not None:
            connection.handle_timeout(now)
            self._after_conn_call(connection, now)
        for tracked in list(self._doubts.values()):
            if tracked.reconcile_at is not None and now >= tracked.reconcile_at:
                tracked.reconcile_at = None
                self._reconcile(tracked, now)
        self._settle(now)

    # --- outputs ------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When ``handle_timeout`` should next be called, or None when nothing is timed."""
        if self._state in _TERMINAL:
            return None
        deadlines: list[float | None] = [tracked.reconcile_at for tracked in self._doubts.values()]
        if self._state is SessionState.WAITING:
            deadlines.append(self._retry_at)
        if self._conn is not None:
            deadlines.append(self._conn.next_deadline())
        deadlines.append(self._rest.wake_at)
        return min((d for d in deadlines if d is not None), default=None)

    def actions(self) -> list[SessionAction]:
        """Return and forget the actions asked for so far, in order."""
        actions, self._actions = self._actions, []
        return actions

    def events(self) -> list[SessionEvent]:
        """Return and forget the events produced so far, in order."""
        events, self._events = self._events, []
        return events

    # --- connection lifecycle -------------------------------------------------------------

    def _require_running(self, call: str) -> None:
        if self._state in _TERMINAL:
            raise LocalProtocolError(f"{call}: the session is {self._state.value}")

    def _begin_attempt(self, now: float) -> None:
        self._retry_at = None
        self._state = SessionState.CONNECTING
        if self._closing:
            self._attempt_pending = True  # the old connection must be gone first
            return

        def build(nonce: int) -> RestRequest:
            return build_token_request(self._credentials, nonce=nonce)

        def on_answer(status: int, body: bytes, now: float) -> None:
            self._token_ready(parse_token_response(status, body), now)

        def on_error(error: RestError | None, reason: str, now: float) -> None:
            self._schedule_retry(f"token request failed: {reason}", now)

        self._rest.add(
            RestJob(
                purpose="GetWebSocketsToken",
                cost=1,
                build=build,
                on_answer=on_answer,
                on_error=on_error,
            ),
            first=True,
        )

    def _token_ready(self, token: WebSocketToken, now: float) -> None:
        self._token = token
        conn = self._next_conn
        self._next_conn += 1
        self._conn_num = conn
        self._attempts += 1
        self._policy.attempt_started(now)
        self._actions.append(OpenConnection(conn=conn))

    def _lose(self, reason: str, now: float, *, close: bool) -> None:
        """The current connection is unusable: end it and plan the next attempt."""
        conn_num = self._conn_num
        connection = self._conn
        self._conn = None
        self._conn_num = None
        self._token = None
        if connection is not None:
            connection.connection_lost(now)
            self._handle_conn_events(connection.events_received(), now)
        if close and conn_num is not None:
            self._closing.add(conn_num)
            self._actions.append(CloseConnection(conn=conn_num))
        for tracked in self._doubts.values():
            if tracked.reconcile_at is not None:
                tracked.reconcile_at = None  # no late reply can come now
                tracked.wait_for_connection = True
        if (
            self._state is SessionState.LIVE
            and self._live_since is not None
            and now - self._live_since >= self._config.healthy_after
        ):
            self._policy.connection_worked()
        if self._lost_at is None:
            self._lost_at = now
        if "ownTrades" in self._subscriptions:
            self._want_backfill()
        self._live_since = None
        self._synced = set()
        self._by_reqid = {}
        self._late = {}
        self._schedule_retry(reason, now)

    def _schedule_retry(self, reason: str, now: float) -> None:
        delay = self._policy.next_delay(now)
        attempt = self._policy.failures
        self._state = SessionState.WAITING
        self._retry_at = now + delay
        self._events.append(Reconnecting(reason=reason, attempt=attempt, delay=delay))
        _log(_WARNING, "Kraken session: %s; reconnect attempt %d in %.2f s", reason, attempt, delay)

    def _stop(self, now: float, *, failed: RestError | None) -> None:
        """End the session: requests without an outcome end, the connection closes."""
        for tracked in list(self._tracked.values()):
            if tracked.phase is _Phase.QUEUED:
                outcome: RequestOutcome = RequestNotApplied(
                    handle=tracked.handle, request=tracked.request, via="never sent"
                )
            else:
                outcome = RequestUnresolved(
                    handle=tracked.handle,
                    request=tracked.request,
                    reason="the session stopped before the outcome was known",
                )
            self._finish(tracked, outcome)
        self._rest.clear()
        connection = self._conn
        if connection is not None and failed is None:
            connection.close(now)  # disarms the dead man's switch if this connection armed it
            self._flush(connection)
        if self._conn_num is not None:
            self._closing.add(self._conn_num)
            self._actions.append(CloseConnection(conn=self._conn_num))
        self._conn = None
        self._conn_num = None
        self._token = None
        self._retry_at = None
        if failed is not None:
            self._state = SessionState.FAILED
            self._events.append(
                SessionFailed(
                    reason=f"{type(failed).__name__}: {failed}",
                    error=(None if failed.error is None else failed.error.text),
                )
            )
            _log(_ERROR, "Kraken session failed for good: %s", type(failed).__name__)
        elif self._closing:
            self._state = SessionState.CLOSING
        else:
            self._state = SessionState.CLOSED
            self._events.append(SessionClosed())

    # --- the current connection -----------------------------------------------------------

    def _flush(self, connection: Link) -> None:
        messages = connection.data_to_send()
        if messages and self._conn_num is not None:
            self._actions.append(SendMessages(conn=self._conn_num, messages=tuple(messages)))

    def _after_conn_call(self, connection: Link, now: float) -> None:
        """Drain the connection after any call into it, and act on what it reported."""
        self._flush(connection)
        reason = self._handle_conn_events(connection.events_received(), now)
        if reason is None:
            reason = self._subscription_trouble(connection)
        if reason is not None:
            self._lose(reason, now, close=True)
            return
        self._send_queued(now)

    def _subscription_trouble(self, connection: Link) -> str | None:
        for name in self._subscriptions:
            state = connection.subscription_state(name)
            if state in (SubscriptionState.FAILED, SubscriptionState.UNSUBSCRIBED):
                return (
                    f"the {name} subscription is {state.value}; reconnecting so client and "
                    "server agree"
                )
        return None

    def _handle_conn_events(self, events: list[Event], now: float) -> str | None:
        """Act on a connection's events; return a reason to reconnect, if any."""
        reason: str | None = None
        for event in events:
            if type(event) is ChannelUpdate or type(event) is ChannelSnapshot:
                self._on_channel(event, now)
            elif isinstance(event, RequestCompleted | RequestFailed):
                self._on_answered(event)
            elif isinstance(event, RequestOutcomeUnknown):
                self._on_unknown(event, now)
            elif isinstance(event, LateReply):
                self._on_late_reply(event)
            elif isinstance(event, SequenceGap):
                if event.channel == "ownTrades":
                    self._want_backfill()
            elif isinstance(event, SystemStatus):
                if event.status != self._system_status:
                    self._system_status = event.status
                    self._events.append(SystemStatusChanged(status=event.status))
            elif isinstance(event, ConnectionStale):
                reason = reason or "the connection went silent (no frames, no pong)"
            elif isinstance(event, TokenRejected):
                reason = reason or f"Kraken rejected the session token ({event.error.text})"
            elif isinstance(event, TokenExpired):
                reason = reason or "the session token expired before use"
        return reason

    def _on_channel(self, item: ChannelSnapshot | ChannelUpdate, now: float) -> None:
        event = item.event
        snapshot = type(item) is ChannelSnapshot
        source: FillSource = "snapshot" if snapshot else "live"
        if isinstance(event, OpenOrders):
            changes = self._orders.apply(event, snapshot=snapshot)
            for txid, record in event.orders:
                if record.cl_ord_id is not None:
                    self._remember_cl_ord_id(record.cl_ord_id, txid)
            if changes:
                self._events.append(OrdersChanged(changes=changes, source=source))
            for order in changes.vanished:
                self._vanished[order.txid] = None
            if self._doubts:
                self._resolve_seen_orders()
            if snapshot:
                self._synced.add("openOrders")
                self._release_doubts(now)
        else:
            # Only v1 channel data arrives here: a Connection carries nothing else, and a
            # V2Link turns v2's executions into OpenOrders/OwnTrades (and drops balances).
            assert isinstance(event, OwnTrades)
            self._deliver_fills(event, source)
            if snapshot:
                self._synced.add("ownTrades")

    def _remember_cl_ord_id(self, cl_ord_id: str, txid: str) -> None:
        known = self._cl_ord_ids
        known.pop(cl_ord_id, None)
        known[cl_ord_id] = txid
        if len(known) > 2 * self._config.max_finished:
            del known[next(iter(known))]

    def _deliver_fills(self, event: OwnTrades, source: FillSource) -> None:
        for trade_id, trade in self._fills.apply(event):
            self._note_fill_time(trade)
            self._events.append(FillReceived(trade_id=trade_id, trade=trade, source=source))

    def _note_fill_time(self, trade: Trade) -> None:
        time = trade.time
        if (
            time is not None
            and time.is_finite()
            and (self._fill_cursor is None or time > self._fill_cursor)
        ):
            self._fill_cursor = time

    # --- requests -------------------------------------------------------------------------

    def _send_queued(self, now: float) -> None:
        connection = self._conn
        if (
            not self._queued
            or connection is None
            or connection.token_state not in (TokenState.FRESH, TokenState.BOUND)
        ):
            return
        for first in list(self._queued.values()):
            if first.handle not in self._queued:
                continue  # went out with its batch
            group = [first]
            if first.batch is not None and isinstance(connection, V2Link):
                group = [t for t in self._queued.values() if t.batch == first.batch]
            open_now = (
                tuple(self._orders.open_orders()) if isinstance(first.request, CancelAll) else ()
            )
            try:
                if len(group) > 1:
                    assert isinstance(connection, V2Link)
                    rows = [t.request for t in group]
                    reqids = connection.send_batch(rows, now)  # type: ignore[arg-type]
                else:
                    reqids = (connection.send(first.request, now),)
            except LocalProtocolError as error:
                for tracked in group:
                    self._finish(
                        tracked,
                        RequestRefused(
                            handle=tracked.handle,
                            request=tracked.request,
                            replies=(),
                            error=KrakenError.parse(f"refused before sending: {error}"),
                        ),
                    )
                continue
            for tracked, reqid in zip(group, reqids, strict=True):
                del self._queued[tracked.handle]
                tracked.phase = _Phase.SENT
                tracked.reqid = reqid
                tracked.sent_at = now
                tracked.open_at_send = open_now
                self._by_reqid[reqid] = tracked.handle
        self._flush(connection)

    def _finish(self, tracked: _Tracked, outcome: RequestOutcome) -> None:
        self._tracked.pop(tracked.handle, None)
        self._queued.pop(tracked.handle, None)
        self._doubts.pop(tracked.handle, None)
        self._events.append(outcome)

    def _sent(self, reqid: int) -> _Tracked | None:
        handle = self._by_reqid.pop(reqid, None)
        tracked = None if handle is None else self._tracked.get(handle)
        if tracked is None or tracked.phase is not _Phase.SENT:
            return None
        return tracked

    def _on_answered(self, event: RequestCompleted | RequestFailed) -> None:
        tracked = self._sent(event.reqid)
        if tracked is None:
            return
        if isinstance(event, RequestCompleted):
            self._finish(
                tracked,
                RequestAccepted(
                    handle=tracked.handle,
                    request=tracked.request,
                    replies=event.replies,
                    txid=_txid_of(event.replies),
                ),
            )
        else:
            self._finish(
                tracked,
                RequestRefused(
                    handle=tracked.handle,
                    request=tracked.request,
                    replies=event.replies,
                    error=event.error,
                ),
            )

    def _on_unknown(self, event: RequestOutcomeUnknown, now: float) -> None:
        tracked = self._sent(event.reqid)
        if tracked is None:
            return
        tracked.phase = _Phase.DOUBT
        self._doubts[tracked.handle] = tracked
        if isinstance(event, RequestLost):
            tracked.wait_for_connection = True
            reason = "the connection was lost before the answer came"
        else:
            # A late answer may still come; reconcile if it does not.
            self._late[event.reqid] = tracked.handle
            tracked.reconcile_at = now + self._config.connection.request_timeout
            reason = "no answer within the request timeout"
        self._events.append(
            RequestInDoubt(handle=tracked.handle, request=tracked.request, reason=reason)
        )

    def _on_late_reply(self, event: LateReply) -> None:
        handle = self._late.pop(event.reqid, None)
        tracked = None if handle is None else self._doubts.get(handle)
        if tracked is None:
            return
        error = _reply_error(event.reply)
        if error is None:
            self._finish(
                tracked,
                RequestAccepted(
                    handle=tracked.handle,
                    request=tracked.request,
                    replies=(event.reply,),
                    txid=_txid_of((event.reply,)),
                ),
            )
        else:
            self._finish(
                tracked,
                RequestRefused(
                    handle=tracked.handle,
                    request=tracked.request,
                    replies=(event.reply,),
                    error=error,
                ),
            )

    # --- reconciliation -------------------------------------------------------------------

    def _release_doubts(self, now: float) -> None:
        """The new connection's openOrders snapshot is in: reconcile what the loss left open."""
        for tracked in list(self._doubts.values()):
            if tracked.wait_for_connection and tracked.phase is _Phase.DOUBT:
                tracked.wait_for_connection = False
                self._reconcile(tracked, now)

    def _resolve_seen_orders(self) -> None:
        """An order carrying an in-doubt AddOrder's cl_ord_id appeared: it was placed."""
        for tracked in list(self._doubts.values()):
            request = tracked.request
            if isinstance(request, AddOrder) and request.cl_ord_id is not None:
                txid = self._cl_ord_ids.get(request.cl_ord_id)
                if txid is not None:
                    self._applied(tracked, txid, "openOrders")

    def _applied(self, tracked: _Tracked, txid: str | None, via: str) -> None:
        self._finish(
            tracked,
            RequestApplied(handle=tracked.handle, request=tracked.request, txid=txid, via=via),
        )

    def _not_applied(self, tracked: _Tracked, via: str) -> None:
        self._finish(
            tracked, RequestNotApplied(handle=tracked.handle, request=tracked.request, via=via)
        )

    def _unresolved(self, tracked: _Tracked, reason: str) -> None:
        self._finish(
            tracked,
            RequestUnresolved(handle=tracked.handle, request=tracked.request, reason=reason),
        )

    def _live(self, tracked: _Tracked) -> bool:
        return self._doubts.get(tracked.handle) is tracked

    def _reconcile(self, tracked: _Tracked, now: float) -> None:
        tracked.phase = _Phase.RECONCILING
        request = tracked.request
        if isinstance(request, AddOrder):
            self._reconcile_add(tracked, request)
        elif isinstance(request, CancelOrder):
            txids = list(request.txid)
            for cl_ord_id in request.cl_ord_id:
                txid = self._cl_ord_ids.get(cl_ord_id)
                if txid is None:
                    self._unresolved(tracked, f"no order with cl_ord_id {cl_ord_id} is known")
                    return
                txids.append(txid)
            if request.userref:
                self._unresolved(tracked, "a cancel by userref cannot be matched to orders")
                return
            self._query_orders(
                tracked,
                txids,
                lambda orders: self._decide(
                    tracked, cancel_took_effect(statuses_of(orders, txids)), None
                ),
            )
        elif isinstance(request, EditOrder):
            if not isinstance(request.orderid, str):
                self._unresolved(tracked, "an edit by userref cannot be matched to an order")
                return
            original = request.orderid
            self._query_orders(
                tracked,
                [original],
                lambda orders: self._decide_one(tracked, orders, original, edit_took_effect),
            )
        elif isinstance(request, AmendOrder):
            txid = request.txid
            if txid is None:
                txid = self._cl_ord_ids.get(request.cl_ord_id or "")
            if txid is None:
                self._unresolved(tracked, "the amended order's txid is not known")
                return
            amended = txid
            self._query_orders(
                tracked,
                [amended],
                lambda orders: self._decide_one(
                    tracked, orders, amended, lambda order: amend_took_effect(request, order)
                ),
            )
        elif isinstance(request, CancelAll):
            targets = list(tracked.open_at_send[:_QUERY_BATCH])
            if not targets:
                self._applied(tracked, None, "snapshot")
                return
            self._query_orders(
                tracked,
                targets,
                lambda orders: self._decide(
                    tracked,
                    all(
                        status not in ("open", "pending") for status in statuses_of(orders, targets)
                    ),
                    None,
                ),
            )
        else:
            self._unresolved(
                tracked,
                "Kraken keeps no record of cancelAllOrdersAfter; the switch may or may not "
                "be armed (set SessionConfig.connection.dead_mans_switch_timeout to keep it "
                "armed on every connection)",
            )

    def _decide(self, tracked: _Tracked, took_effect: bool | None, txid: str | None) -> None:
        if took_effect is None:
            self._unresolved(tracked, "Kraken's records cannot tell whether it took effect")
        elif took_effect:
            self._applied(tracked, txid, "QueryOrders")
        else:
            self._not_applied(tracked, "QueryOrders")

    def _decide_one(
        self,
        tracked: _Tracked,
        orders: dict[str, RestOrder],
        txid: str,
        check: Callable[[RestOrder], bool | None],
    ) -> None:
        order = orders.get(txid)
        if order is None:
            self._decide(tracked, False, None)
            return
        took_effect = check(order)
        self._decide(
            tracked, took_effect, txid if isinstance(tracked.request, AmendOrder) else None
        )

    def _query_orders(
        self,
        tracked: _Tracked,
        txids: list[str],
        then: Callable[[dict[str, RestOrder]], None],
    ) -> None:
        def decide(orders: dict[str, RestOrder]) -> None:
            if self._live(tracked):
                then(orders)

        self._lookup_orders(tuple(dict.fromkeys(txids))[:_QUERY_BATCH], decide)

    def _lookup_orders(
        self, batch: tuple[str, ...], then: Callable[[dict[str, RestOrder]], None]
    ) -> None:
        """QueryOrders for ``batch`` (<= 50 txids), then ``then(found)``. Kraken refuses the
        whole call when one txid is unknown (``EGeneral:Invalid arguments``): then each txid is
        asked alone, and an unknown one is left out of ``found``."""
        found: dict[str, RestOrder] = {}
        outstanding = [1]

        def ask(txids: tuple[str, ...]) -> None:
            def build(nonce: int) -> RestRequest:
                return build_query_orders_request(self._credentials, nonce=nonce, txids=txids)

            def on_answer(status: int, body: bytes, now: float) -> None:
                try:
                    orders = dict(parse_query_orders_response(status, body).orders)
                except (InvalidArgumentsError, UnknownOrderError):
                    if len(txids) > 1:
                        outstanding[0] += len(txids) - 1
                        for txid in txids:
                            ask((txid,))
                        return
                    orders = {}
                self._absorb(orders)
                found.update(orders)
                outstanding[0] -= 1
                if not outstanding[0]:
                    then(found)

            self._rest.add(RestJob(purpose="QueryOrders", cost=1, build=build, on_answer=on_answer))

        ask(batch)

    def _reconcile_add(self, tracked: _Tracked, request: AddOrder) -> None:
        cl_ord_id = request.cl_ord_id
        assert cl_ord_id is not None  # submit gives every AddOrder one
        txid = self._cl_ord_ids.get(cl_ord_id)
        if txid is not None:
            self._applied(tracked, txid, "openOrders")
            return
        start = Decimal(repr(tracked.sent_at - _CLOSED_LOOKBACK)).quantize(Decimal(1))

        def build_open(nonce: int) -> RestRequest:
            return build_open_orders_request(self._credentials, nonce=nonce, cl_ord_id=cl_ord_id)

        def build_closed(nonce: int) -> RestRequest:
            return build_closed_orders_request(
                self._credentials, nonce=nonce, cl_ord_id=cl_ord_id, start=start
            )

        def found(orders: dict[str, RestOrder]) -> str | None:
            mine = {txid: order for txid, order in orders.items() if order.cl_ord_id == cl_ord_id}
            self._absorb(mine)
            return next(iter(mine), None)

        def on_closed(status: int, body: bytes, now: float) -> None:
            txid = found(dict(parse_closed_orders_response(status, body).closed))
            if not self._live(tracked):
                return
            if txid is None:
                self._not_applied(tracked, "ClosedOrders")
            else:
                self._applied(tracked, txid, "ClosedOrders")

        def on_open(status: int, body: bytes, now: float) -> None:
            txid = found(dict(parse_open_orders_response(status, body).open))
            if not self._live(tracked):
                return
            if txid is not None:
                self._applied(tracked, txid, "OpenOrders")
                return
            self._rest.add(
                RestJob(purpose="ClosedOrders", cost=2, build=build_closed, on_answer=on_closed),
                first=True,
            )

        self._rest.add(RestJob(purpose="OpenOrders", cost=1, build=build_open, on_answer=on_open))

    # --- vanished orders and fill backfill --------------------------------------------------

    def _query_vanished(self) -> None:
        batch = tuple(self._vanished)[:_QUERY_BATCH]
        self._vanished_running = True

        def resolved(orders: dict[str, RestOrder]) -> None:
            for txid in batch:
                self._vanished.pop(txid, None)
            self._vanished_running = False
            self._absorb(orders, force=frozenset(batch))

        self._lookup_orders(batch, resolved)

    def _absorb(
        self, orders: Mapping[str, RestOrder], *, force: frozenset[str] = frozenset()
    ) -> None:
        """Bring REST's view of ``orders`` into the table: orders it never saw, final states,
        and (``force``) orders that vanished from a snapshot. A REST record of an order the
        table knows as still open is not applied: a live update may be newer."""
        records: list[tuple[str, OrderRecord]] = []
        for txid, order in orders.items():
            if order.cl_ord_id is not None:
                self._remember_cl_ord_id(order.cl_ord_id, txid)
            known = self._orders.get(txid)
            if known is None:
                records.append((txid, order_record(order, full=True)))
            elif txid in force or (
                order.status in TERMINAL_STATUSES
                and (known.status != order.status or known.vol_exec != order.vol_exec)
            ):
                records.append((txid, order_record(order)))
        if records:
            changes = self._orders.apply(OpenOrders(orders=tuple(records)), snapshot=False)
            if changes:
                self._events.append(OrdersChanged(changes=changes, source="rest"))

    def _want_backfill(self) -> None:
        """Fills may have been missed from here on: backfill from the last one seen."""
        cursor = self._fill_cursor
        if cursor is None:
            cursor = Decimal(repr(self._started_at))
        start = cursor - Decimal(repr(self._config.backfill_margin))
        if self._backfill_from is None or start < self._backfill_from:
            self._backfill_from = start

    def _backfill_page(self, start: Decimal, ofs: int) -> None:
        own_trades = self._subscriptions.get("ownTrades")
        # v2 reports every fill (no consolidation): ask REST for the same trade ids.
        unconsolidated = self._config.protocol == "v2" or (
            own_trades is not None and own_trades.consolidate_taker is False
        )

        def build(nonce: int) -> RestRequest:
            if unconsolidated:
                # The same trade ids as the subscription: one per fill, not per taker order.
                params = [("start", format(start, "f"))]
                if ofs:
                    params.append(("ofs", str(ofs)))
                params.append(("consolidate_taker", "false"))
                return build_private_request(
                    self._credentials, path=TRADES_HISTORY_PATH, nonce=nonce, params=params
                )
            return build_trades_history_request(
                self._credentials, nonce=nonce, start=start, ofs=ofs or None
            )

        def on_answer(status: int, body: bytes, now: float) -> None:
            result = parse_trades_history_response(status, body)
            page = sorted(result.trades.items(), key=lambda item: item[1].time)
            self._deliver_fills(
                OwnTrades(trades=tuple((tid, trade_of(trade)) for tid, trade in page)), "rest"
            )
            next_ofs = ofs + len(page)
            if page and next_ofs < result.count:
                self._backfill_page(start, next_ofs)
            else:
                self._backfill_running = False

        self._rest.add(
            RestJob(purpose="TradesHistory", cost=2, build=build, on_answer=on_answer), first=True
        )

    # --- progress -------------------------------------------------------------------------

    def _settle(self, now: float) -> None:
        """Start REST work that is due, go LIVE when synced, send the next REST call."""
        if self._state in _TERMINAL:
            return
        if self._vanished and not self._vanished_running:
            self._query_vanished()
        if (
            self._backfill_from is not None
            and not self._backfill_running
            and "ownTrades" in self._synced
        ):
            start, self._backfill_from = self._backfill_from, None
            self._backfill_running = True
            self._backfill_page(start, 0)
        self._maybe_live(now)
        ready = self._rest.pump(now)
        if ready is not None:
            call, request, purpose = ready
            self._actions.append(HttpCall(call=call, request=request, purpose=purpose))

    def _maybe_live(self, now: float) -> None:
        connection = self._conn
        if self._state is not SessionState.SYNCING or connection is None:
            return
        for name, request in self._subscriptions.items():
            if name in self._synced:
                continue
            no_snapshot = name == "ownTrades" and request.snapshot is False
            if not (
                no_snapshot and connection.subscription_state(name) is SubscriptionState.ACTIVE
            ):
                return
            self._synced.add(name)
        if any(
            tracked.wait_for_connection or tracked.phase is _Phase.RECONCILING
            for tracked in self._doubts.values()
        ):
            return
        if self._vanished or self._backfill_running or self._backfill_from is not None:
            return
        self._state = SessionState.LIVE
        self._live_since = now
        if self._ever_live:
            downtime = 0.0 if self._lost_at is None else now - self._lost_at
            self._events.append(Reconnected(downtime=downtime))
            _log(_WARNING, "Kraken session: reconnected after %.2f s", downtime)
        else:
            self._events.append(Connected())
        self._ever_live = True
        self._lost_at = None
