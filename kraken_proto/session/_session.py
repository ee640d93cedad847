"""``Session``: the public class of the session, the calls users and adapters make.

How an adapter drives a session and what it guarantees: the ``kraken_proto.session`` package
docstring. The parts it is made of and how they make progress: ``_engine``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from decimal import Decimal

from kraken_proto._errors import LocalProtocolError, RemoteProtocolError
from kraken_proto._fills import FillLog
from kraken_proto._orders import OrderTable
from kraken_proto._redacted import RedactedBytes
from kraken_proto._request_base import Request
from kraken_proto.v1._events import OpenOrders, OwnTrades
from kraken_proto.v1._requests import AddOrder
from kraken_proto.v2._events import Executions

from ._actions import SessionAction
from ._balances import SessionSubscribe, channel_of, check_subscribe
from ._config import SessionState
from ._engine import SessionEngine
from ._events import SessionEvent
from ._lifecycle import SessionTrigger
from ._link import Link
from ._link_events import NOT_HELD
from ._submissions import batch_rows, check_trading, with_cl_ord_id

__all__ = ["Session"]


class Session(SessionEngine):
    """A Kraken private session (v1, or v2 with ``SessionConfig(protocol="v2")``) across any
    number of connections, without I/O.

    ``credentials`` sign the REST calls (token, reconciliation). ``seed`` (bytes, at least
    8; pass ``os.urandom(16)``) is the only source of randomness: backoff jitter and
    generated ``cl_ord_id`` values. ``nonces`` is the key's nonce source (one per API key;
    a new ``NonceSource()`` by default). ``rest_counter`` is the key's REST call counter
    (``RestCallCounter(config.rest_tier)`` by default; its own tier counts): sessions on one
    key, in one process or several, share one (``SharedRestCallCounter``), since Kraken
    keeps one per key. Nothing happens before ``start``.

    ``journal``: the state folded from the session's journal (``fold(store.load())``), or
    None for no journal. With one, the session writes ahead: ``PersistRecords`` actions
    (carry each out before the next action) record every trading request before the
    ``SendMessages`` that carries it, outcomes, fills, acknowledgements, subscriptions and
    nonces; and it starts from the state: requests sent without a known outcome are
    reconciled (never re-sent; outcomes with ``recovered=True``) before new ones go out, fills
    not acknowledged are delivered again (``redelivered=True``), fills delivered are not
    reported again, and ``TradesHistory`` backfills from the fill cursor. A fill is
    acknowledged by ``ack``, or with ``auto_ack`` when ``events()`` is called again after the
    call that returned it (runners set ``auto_ack`` False and acknowledge for the user).

    ``fill_ledger``: the API key's ``FillLedger``, shared with the key's other sessions (the
    runners open one beside the journals): the session publishes the fills it receives live,
    and a backfill takes what the ledger covers from there (``source="peer"``) before it asks
    REST, so sessions on one key do not spend the key's REST budget on the same trades.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return (
            f"<Session state={self._life.state.name} connection={self._life.conn_num} "
            f"pending={len(self._requests.tracked)} open_orders={len(self._orders.table)}>"
        )

    # --- queries ------------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """Where the session is (see ``SessionState``)."""
        return self._life.state

    @property
    def orders(self) -> OrderTable:
        """The account's orders, kept across connections (read it; do not apply to it)."""
        return self._orders.table

    @property
    def fills(self) -> FillLog:
        """The trade ids reported so far (bounded window)."""
        return self._fills.log

    @property
    def connection_attempts(self) -> int:
        """How many WebSocket connections the session has asked for so far."""
        return self._life.attempts

    @property
    def connection(self) -> Link | None:
        """The current connection's core, for inspection (None between connections): a
        ``Connection``, or over v2 a ``V2Link`` around its ``V2Connection``."""
        return self._life.link

    def pending(self) -> dict[int, Request]:
        """The submitted requests without a final outcome yet, by handle."""
        return {handle: tracked.request for handle, tracked in self._requests.tracked.items()}

    # --- user calls -----------------------------------------------------------------------

    def start(self, now: float, *, wall: float | None = None) -> None:
        """Begin: fetch a token and open the first connection. ``wall``: the unix time at
        ``now`` when ``now`` is not unix time (a monotonic clock; see ``set_wall_clock``).
        Raises ``LocalProtocolError`` unless the session is IDLE."""
        if self._life.state is not SessionState.IDLE:
            raise LocalProtocolError(f"start: the session is {self._life.state.value}, not idle")
        if wall is not None:
            self._wall.set(now, wall)
        self._fills.started_at = Decimal(repr(self._wall.wall(now)))
        self._backfill_journal()
        self._life.begin_attempt(SessionTrigger.START, now)
        self._settle(now)

    def set_wall_clock(self, now: float, wall: float) -> None:
        """At ``now`` (the clock every other call's ``now`` comes from) the wall clock reads
        ``wall`` (unix seconds). Deadlines follow ``now`` alone, so pass a monotonic ``now``
        and refresh this as often as you like: only nonces and the ``start`` of Kraken's
        history queries read wall time. Raises ``LocalProtocolError`` for a non-finite
        value."""
        self._wall.set(now, wall)

    def subscribe(self, request: SessionSubscribe, now: float) -> None:
        """Subscribe to a private channel now (if connected) and after every reconnect, with
        the same options. Subscribing again to the same channel replaces its options (they
        take effect from the next connection). A v2 session also takes
        ``v2.Subscribe(channel="balances")`` (``BalancesReceived`` events). Raises
        ``LocalProtocolError`` after close or failure, for something other than a
        ``Subscribe``, and for balances on a v1 session."""
        request = check_subscribe(request, self._protocol)
        self._life.require_running("subscribe")
        name = channel_of(request)
        self._subscriptions[name] = request
        self._wire.subscribed(request, now)
        self._backfill_journal()
        link = self._life.link
        if link is not None and link.subscription_state(name) in NOT_HELD:
            # Without a usable token the send raises; the next connection subscribes.
            with contextlib.suppress(LocalProtocolError):
                link.send(request, now)
            self._after_link_call(link, now)
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
        check_trading(request)
        self._life.require_running("submit")
        (handle,) = self._queue([with_cl_ord_id(request, self._random, "submit")], now)
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
        self._life.require_running("submit_batch")
        prepared = batch_rows(orders, self._random)
        return self._queue(prepared, now, batch=True)

    def _queue(
        self, requests: list[Request], now: float, *, batch: bool = False
    ) -> tuple[int, ...]:
        handles = self._requests.queue(requests, batch=batch)
        self._send_queued(now)
        self._settle(now)
        return handles

    def withdraw(self, handle: int, now: float) -> bool:
        """Drop a submitted request that has not been sent yet; it ends as
        ``RequestNotApplied(via="withdrawn")``. Returns False (and changes nothing) when the
        request was already sent or has ended. Raises ``LocalProtocolError`` for a handle
        ``submit`` never returned."""
        withdrawn = self._requests.withdraw(handle)
        self._wire.scan(now)
        return withdrawn

    def ack(
        self,
        trade_ids: Iterable[str] | None = None,
        *,
        handles: Iterable[int] | None = None,
        now: float,
    ) -> None:
        """Acknowledge fills (``trade_ids``) and request outcomes (``handles``) handed out
        (both None: all of them): with a journal, neither is delivered again after a restart
        (a ``PersistRecords`` to carry out). Unknown or already acknowledged ones are
        skipped; without a journal, does nothing."""
        self._wire.ack(trade_ids, now, handles)

    @property
    def auto_ack(self) -> bool:
        """Acknowledge what one ``events()`` call returned at the next call (default True;
        a runner sets it False and acknowledges what the user took)."""
        return self._wire.auto_ack

    @auto_ack.setter
    def auto_ack(self, value: bool) -> None:
        self._wire.auto_ack = value

    def close(self, now: float) -> None:
        """Stop: disarm the dead man's switch if armed, close the connection; requests without
        an outcome end as ``RequestUnresolved`` (sent) or ``RequestNotApplied`` (never sent);
        then ``SessionClosed``. Idempotent."""
        if self._life.stopped:
            return
        self._stop(now, failed=None)

    # --- adapter inputs -------------------------------------------------------------------

    def connection_made(self, conn: int, now: float) -> None:
        """The WebSocket ``conn`` (from ``OpenConnection``) is open."""
        link = self._life.connection_made(conn, now, self._subscriptions.values())
        if link is None:
            return
        self._requests.forget_link()
        if "openOrders" not in self._subscriptions:
            self._reconciler.release_doubts()
        self._after_link_call(link, now)
        self._settle(now)

    def connection_failed(self, conn: int, reason: str, now: float) -> None:
        """Opening ``conn`` failed (``reason``: for the logs; must not hold secrets)."""
        self._life.connection_failed(conn, reason, now)
        self._settle(now)

    def connection_lost(self, conn: int, now: float, code: int | None = None) -> None:
        """The WebSocket ``conn`` is closed (by either side); ``code`` is the close code, if
        any. Also the answer to ``CloseConnection``."""
        if not self._life.socket_closed(conn, now) and conn == self._life.conn_num:
            detail = "" if code is None else f" (close code {code})"
            self._lose(f"connection lost{detail}", now, close=False)
        self._settle(now)

    def receive_message(self, conn: int, text: str | bytes, now: float) -> None:
        """One complete WebSocket text message arrived on ``conn``. An invalid frame does not
        raise: the session closes that connection and reconnects."""
        life = self._life
        link = life.link
        if conn != life.conn_num or link is None:
            return
        try:
            data = link.receive_data(text, now)
        except RemoteProtocolError as error:
            self._router.route(link.events_received(), now)
            self._lose(f"invalid frame from Kraken ({error})", now, close=True)
        else:
            if data is None:
                self._after_link_call(link, now)
            else:
                # The usual frame: the link reported nothing else and queued nothing.
                # ``LinkEventRouter.data`` written out: a Python call less per frame.
                if isinstance(data, OpenOrders):
                    self._orders.apply(data, snapshot=False)
                    if self._requests.doubts:
                        self._reconciler.resolve_seen_orders()
                elif isinstance(data, OwnTrades):
                    self._fills.deliver(data, "live")
                elif isinstance(data, Executions):  # v2: the push's order changes
                    self._orders.apply_update(data)
                    if self._requests.doubts:
                        self._reconciler.resolve_seen_orders()
                else:  # v2: an order change and its fill, in one push
                    self._orders.apply_update(data[0])
                    if self._requests.doubts:
                        self._reconciler.resolve_seen_orders()
                    self._fills.deliver(data[1], "live")
                if self._requests.queued:
                    self._send_queued(now)
        self._settle(now)

    def rest_response(self, call: int, status: int, body: bytes, now: float) -> None:
        """The HTTP response to ``HttpCall(call, ...)``: status code and body bytes (pass
        ``response.body`` without binding it to a local: a token answer holds the token)."""
        body = RedactedBytes(body)  # every frame below shows its length only
        if self._life.stopped:
            return
        error = self._rest.answer(call, status, body, now)
        if error is not None:
            self._stop(now, failed=error)
            return
        self._settle(now)

    def rest_failed(self, call: int, reason: str, now: float) -> None:
        """``HttpCall(call, ...)`` got no response at all (connect error, timeout)."""
        if self._life.stopped:
            return
        self._rest.failed(call, reason, now)
        self._settle(now)

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline at or before ``now`` (backoff over, request timeouts,
        liveness, dead man's switch re-arm, REST counter room, paced requests that fit)."""
        life = self._life
        if life.stopped:
            return
        life.retry_if_due(now)
        link = life.link
        if link is not None:
            link.handle_timeout(now)
            self._after_link_call(link, now)
        for tracked in self._requests.due(now):
            self._reconciler.reconcile(tracked)
        if self._pacer is not None:
            self._pacer.expire(now)
        self._settle(now)

    # --- outputs ------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When ``handle_timeout`` should next be called, or None when nothing is timed."""
        life = self._life
        if life.stopped:
            return None
        # Called once per socket read: compared in place, no list or generator to build.
        best = life.next_deadline()
        wake = self._rest.wake_at
        if wake is not None and (best is None or wake < best):
            best = wake
        pacer = self._pacer
        if pacer is not None:
            wake = pacer.wake_at
            if wake is not None and (best is None or wake < best):
                best = wake
        for tracked in self._requests.doubts.values():  # usually empty
            wake = tracked.reconcile_at
            if wake is not None and (best is None or wake < best):
                best = wake
        return best

    def actions(self) -> list[SessionAction]:
        """Return and forget the actions asked for so far, in order."""
        actions = self._actions[:]
        self._actions.clear()
        return actions

    def events(self) -> list[SessionEvent]:
        """Return and forget the events produced so far, in order."""
        produced = self._events  # the list every part appends to: copied, then emptied
        events = produced[:]
        wire = self._wire
        if wire.enabled:  # without a journal there is nothing to record or acknowledge
            wire.scan()
            produced.clear()
            wire.drained(events)
            return events
        produced.clear()
        return events
