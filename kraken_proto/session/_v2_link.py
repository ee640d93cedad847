"""``V2Link``: a ``V2Connection`` behind the session's protocol-neutral ``Link`` (``_link``).

The session speaks v1 requests and hears v1-shaped events, whichever protocol the link talks;
this link does the v2 side, so the session's policy (reconnect, reconciliation, exactly-once
fills, never placing an order twice) is the same code for both protocols:

* ``ownTrades`` and ``openOrders`` are both served by v2's one ``executions`` channel: the
  first of them subscribes to it (``snap_orders``, and ``snap_trades`` unless ownTrades asked
  for no snapshot; ``ratecounter`` as openOrders asks, and when it does not say, or
  ownTrades came first, True for a link opened with ``ratecounter=True``: a pacing session
  gets the counter whichever channel it subscribed first);
  a channel asked for after the executions snapshot arrived reports ``FAILED`` (its
  snapshot is gone), and the session reconnects to subscribe both together. Every v1
  subscribe ends with the executions subscribe's ack as its reply (its ``maxratecount``).
* Each ``executions`` push becomes the ``OpenOrders`` and ``OwnTrades`` frames of the channels
  asked for (:func:`kraken_proto.v2.open_orders` / :func:`~kraken_proto.v2.own_trades`): an
  order's status comes from ``exec_type`` only, never from the intermediate
  ``order_status``. (The usual update, returned by ``receive_data``, is the push itself,
  which the session applies with :func:`~kraken_proto.v2.apply_executions`: the same
  changes as its ``OpenOrders``, without building it.) v2 reports every fill
  unconsolidated (``reports_unconsolidated_fills``).
  A sequence gap on ``executions`` is reported for both v1 channels (the ``V2Connection``
  already resubscribes for a fresh snapshot).
* Trading requests are translated to v2 (``_v2_translation``); their ending events
  (``RequestCompleted``, ``RequestFailed``, ``RequestTimedOut``, ``RequestLost``,
  ``LateReply``) carry the v1 request and v1 status events, so the caller sees the same
  outcomes over both protocols. ``send_batch`` sends AddOrder rows as one ``batch_add`` and
  ends each row on its own, so a lost batch is reconciled row by row by ``cl_ord_id``.
  ``status`` pushes become ``SystemStatus``; raw replies, heartbeats and pongs are not
  passed on (the session does not use them).
* ``balances`` has no v1 counterpart: ``send`` takes a ``v2.Subscribe(channel="balances")``
  as is, its pushes come out as the ``ChannelSnapshot``/``ChannelUpdate`` of the v2
  ``Balances`` and its sequence gaps as a ``SequenceGap`` of ``balances``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Literal

from kraken_proto._connection_events import (
    ChannelSnapshot,
    ChannelUpdate,
    LateReply,
    RequestCompleted,
    RequestFailed,
    RequestOutcomeUnknown,
    RequestTimedOut,
    SequenceGap,
)
from kraken_proto._connection_state import (
    ConnectionConfig,
    ConnectionState,
    SubscriptionState,
    TokenState,
)
from kraken_proto._errors import LocalProtocolError
from kraken_proto._event_base import Event, KrakenError
from kraken_proto._no_entries import NO_ENTRIES, writable
from kraken_proto._request_base import Request
from kraken_proto.v1._events import OwnTrades, SystemStatus
from kraken_proto.v1._requests import AddOrder, Subscribe
from kraken_proto.v2._connection import V2Connection
from kraken_proto.v2._events import (
    Executions,
    Heartbeat,
    MethodReply,
    Pong,
    Status,
    StatusRecord,
)
from kraken_proto.v2._requests import Subscribe as V2Subscribe
from kraken_proto.v2._translation import open_orders, own_trades

from ._v2_translation import (
    to_v1_batch_statuses,
    to_v1_reply,
    to_v2_batch_add,
    to_v2_request,
)

__all__ = ["V2Link"]

_EXECUTIONS: Literal["executions"] = "executions"
_BALANCES = "balances"
_DROPPED = (MethodReply, Heartbeat, Pong)
_Ended = RequestCompleted | RequestFailed | RequestOutcomeUnknown
_LATE_CHANNEL = KrakenError.parse(
    "ESession:the executions snapshot was sent before this channel was asked for; "
    "subscribe to both before the snapshot (a new connection does)"
)


_NO_CHANNELS: frozenset[str] = frozenset()
"""Shared by every link with no late channel (``V2Link._late``)."""


class V2Link:
    """A ``V2Connection`` as a session ``Link`` (see the module docstring).

    Every method has the contract of the ``Connection`` method of the same name (and of
    ``Link``); ``send`` takes v1 requests (``Subscribe`` to ownTrades/openOrders and the trading
    requests) and raises ``LocalProtocolError``, sending nothing, for one v2 cannot express.
    """

    # Slots: a thousand sessions in one process each hold a link (an instance dict costs more).
    __slots__ = (
        "_batches",
        "_conn",
        "_late",
        "_next_subscribe_id",
        "_ratecounter",
        "_ready",
        "_requests",
        "_snapshot_seen",
        "_subscribe_end",
        "_subscribe_req_id",
        "_timed_out",
        "_waiting",
        "_wanted",
        "late_memory",
    )

    def __init__(
        self, config: ConnectionConfig | None = None, *, ratecounter: bool = False
    ) -> None:
        self._conn = V2Connection(config)
        self._ratecounter = ratecounter
        self.late_memory = 1000  # requests that timed out, kept (oldest forgotten) for a late reply
        self._wanted: dict[str, Subscribe] = {}
        # Channels subscribed after the snapshot went by; rare, so a set (216 bytes, even
        # empty) is made only for the first one.
        self._late: frozenset[str] | set[str] = _NO_CHANNELS
        self._snapshot_seen = False
        self._subscribe_req_id: int | None = None
        self._subscribe_end: _Ended | None = None
        self._next_subscribe_id = -1
        # The dicts start as the shared NO_ENTRIES (``writable()`` before a write): most links
        # never send a batch, and the waiting subscribes are gone once the v2 one has ended.
        self._waiting: dict[int, Subscribe] = NO_ENTRIES  # v1 subscribes waiting for the v2 one
        self._ready: list[Event] = []  # their outcomes, known at send time
        self._requests: dict[int, Request] = NO_ENTRIES
        self._batches: dict[int, tuple[tuple[int, AddOrder], ...]] = NO_ENTRIES  # req_id -> rows
        # Made at the first timeout: an empty deque takes ~600 bytes, and most links never
        # see a request time out (1,000 sessions in one process pay it for nothing).
        self._timed_out: deque[int] | None = None

    def __repr__(self) -> str:
        return f"<V2Link {self._conn!r} channels={sorted(self._wanted)}>"

    # --- queries ------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """The v2 connection's state."""
        return self._conn.state

    @property
    def should_close(self) -> bool:
        """True once the socket should be closed."""
        return self._conn.should_close

    @property
    def token_state(self) -> TokenState:
        """The session token's state."""
        return self._conn.token_state

    @property
    def system_status(self) -> str | None:
        """The last ``status`` channel ``system``, or None."""
        return self._conn.system_status

    @property
    def reports_unconsolidated_fills(self) -> bool:
        """Always True: v2 reports every fill, never one per taker order."""
        return True

    def subscription_state(self, channel: str) -> SubscriptionState:
        """The state of the v1 channel ``channel`` (that of ``executions`` once asked for)."""
        if channel == _BALANCES:
            return self._conn.subscription_state(_BALANCES)
        if channel not in self._wanted:
            return SubscriptionState.UNSUBSCRIBED
        if channel in self._late:
            return SubscriptionState.FAILED
        return self._conn.subscription_state(_EXECUTIONS)

    # --- inputs -------------------------------------------------------------------------

    def connection_made(self, now: float) -> None:
        """The WebSocket is open."""
        self._conn.connection_made(now)

    def provide_token(self, token: str, now: float) -> None:
        """Hand over a session token."""
        self._conn.provide_token(token, now)

    def send(self, request: Request, now: float) -> int:
        """Send the v2 form of the v1 ``request``; return its req_id."""
        if isinstance(request, Subscribe):
            return self._subscribe(request, now)
        if isinstance(request, V2Subscribe) and request.channel == _BALANCES:
            return self._conn.send(request, now)  # ends as the connection's own requests do
        v2_request = to_v2_request(request, now)
        req_id = self._conn.send(v2_request, now)
        self._requests = writable(self._requests)
        self._requests[req_id] = request
        return req_id

    def send_batch(self, orders: Sequence[AddOrder], now: float) -> tuple[int, ...]:
        """Send 2 to 15 v1 ``AddOrder`` rows on one pair as one ``batch_add``; return one id
        per row (negative, never a v2 req_id). Each row then ends on its own, as if sent
        alone: ``RequestCompleted``/``RequestFailed`` from its row of the reply (a row the
        reply leaves out ends as ``RequestTimedOut``: unknown), or ``RequestTimedOut`` /
        ``RequestLost`` with the batch, and a late reply as one ``LateReply`` per row.
        ``deadline`` and ``validate`` must be the same on every row (they are the batch's).
        Raises ``LocalProtocolError``, sending nothing, for what ``v2.BatchAdd`` refuses."""
        batch = to_v2_batch_add(orders, now)
        req_id = self._conn.send(batch, now)
        ids = tuple(range(self._next_subscribe_id, self._next_subscribe_id - len(orders), -1))
        self._next_subscribe_id -= len(orders)
        self._batches = writable(self._batches)
        self._batches[req_id] = tuple(zip(ids, orders, strict=True))
        return ids

    def _subscribe(self, request: Subscribe, now: float) -> int:
        """Each v1 subscribe gets its own (negative, never a v2 req_id) id and ends with the
        outcome of the one executions subscribe that serves both channels."""
        name = request.name
        if name in self._wanted:
            raise LocalProtocolError(f"send: {name} is already subscribed on this connection")
        if self._subscribe_req_id is None:
            trades = request if name == "ownTrades" else None
            ratecounter = request.ratecounter if name == "openOrders" else None
            if self._ratecounter and ratecounter is None:
                ratecounter = True
            self._subscribe_req_id = self._conn.send(
                V2Subscribe(
                    channel=_EXECUTIONS,
                    snap_orders=True,
                    snap_trades=not (trades is not None and trades.snapshot is False),
                    ratecounter=ratecounter,
                ),
                now,
            )
        self._wanted[name] = request
        reqid = self._next_subscribe_id
        self._next_subscribe_id -= 1
        if self._snapshot_seen:
            self._late = {*self._late, name}  # its snapshot has gone by: the session reconnects
            self._ready.append(
                RequestFailed(reqid=reqid, request=request, replies=(), error=_LATE_CHANNEL)
            )
        elif self._subscribe_end is not None:
            end = self._subscribe_end
            self._ready.append(_ended_as(end, reqid, request, end.replies))
        else:
            self._waiting = writable(self._waiting)
            self._waiting[reqid] = request
        return reqid

    def close(self, now: float) -> None:
        """Begin a graceful close."""
        self._conn.close(now)

    def receive_message(self, text: str | bytes, now: float) -> None:
        """Process one message (``RemoteProtocolError`` for an invalid frame)."""
        self._conn.receive_message(text, now)

    def receive_data(
        self, text: str | bytes, now: float
    ) -> Executions | OwnTrades | tuple[Executions, OwnTrades] | None:
        """``receive_message``, except that the usual frame (an in-sequence executions update
        while no channel is late) is returned instead of reported: the push itself when it
        changes orders and openOrders is wanted (to apply with ``v2.apply_executions``, as its
        ``OpenOrders`` would apply), its ``OwnTrades`` when it holds fills and ownTrades is
        wanted, both as ``(push, trades)`` when both (the order the session applies them in, as
        ``events_received`` would report them). Returns None for every other frame (its events
        are in ``events_received()`` as usual) and for an update that changes nothing wanted;
        a returned frame reported nothing else and queued nothing to send."""
        conn = self._conn
        push = conn.receive_update(text, now)
        if push is None:
            return None
        if self._ready or self._late or conn._outgoing or conn._events:
            # Not the usual moment: the update is reported after the rest, as it would be.
            conn._events.append(ChannelUpdate(event=push))
            return None
        data = push.data
        if len(data) == 1:
            # The usual push: one record. Without a fill wanted from it, ``_update_frames``
            # written out (no channel is late here): a call and a tuple less per frame.
            record = data[0]
            if record.exec_type != "trade" or "ownTrades" not in self._wanted:
                if record.order_id is not None and "openOrders" in self._wanted:
                    return push
                return None
        orders, trades = self._update_frames(push)
        if trades is None:
            return orders
        return trades if orders is None else (orders, trades)

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline at or before ``now``."""
        self._conn.handle_timeout(now)

    def connection_lost(self, now: float) -> None:
        """The socket is gone."""
        self._conn.connection_lost(now)

    # --- outputs ------------------------------------------------------------------------

    def data_to_send(self) -> list[str]:
        """The v2 text messages to write, in order."""
        return self._conn.data_to_send()

    def next_deadline(self) -> float | None:
        """When ``handle_timeout`` should next be called."""
        return self._conn.next_deadline()

    def events_received(self) -> list[Event]:
        """The events so far, in v1 shapes, in order."""
        events: list[Event] = []
        for event in self._conn.events_received():
            if type(event) is ChannelUpdate or type(event) is ChannelSnapshot:
                inner = event.event
                if type(inner) is Executions:
                    # The usual event, without _translate's chain of isinstance tests.
                    self._executions(event, inner, events)
                    continue
            events.extend(self._translate(event))
        if self._ready:
            events.extend(self._ready)
            self._ready = []
        return events

    # --- translation --------------------------------------------------------------------

    def _translate(self, event: Event) -> list[Event]:
        # (events_received handles executions data itself)
        if isinstance(event, ChannelSnapshot | ChannelUpdate):
            return [event]  # balances: passed on as v2 sent them
        if isinstance(event, Status):
            record = event.data[-1] if event.data else StatusRecord()
            return [
                SystemStatus(
                    status=record.system or "unknown",
                    connection_id=record.connection_id,
                    version=record.version,
                )
            ]
        if isinstance(event, _DROPPED):
            return []
        if isinstance(event, SequenceGap):
            if event.channel == _BALANCES:
                return [event]
            return [
                SequenceGap(channel=name, expected=event.expected, got=event.got)
                for name in self._wanted
            ]
        if isinstance(event, RequestCompleted | RequestFailed | RequestOutcomeUnknown):
            return self._ended(event)
        if isinstance(event, LateReply):
            rows = self._batches.pop(event.reqid, None)
            if rows is not None:
                return [
                    LateReply(reqid=reqid, request=order, reply=status)
                    for (reqid, order), status in zip(
                        rows, to_v1_batch_statuses(event.reply, rows), strict=True
                    )
                    if status is not None
                ]
            request = self._requests.pop(event.reqid, None)
            if request is None:
                return [event]
            return [
                LateReply(
                    reqid=event.reqid, request=request, reply=to_v1_reply(event.reply, event.reqid)
                )
            ]
        return [event]

    def _ended(self, event: _Ended) -> list[Event]:
        if event.reqid == self._subscribe_req_id:
            self._subscribe_end = event
            waiting, self._waiting = self._waiting, NO_ENTRIES
            return [
                _ended_as(event, reqid, request, event.replies)
                for reqid, request in waiting.items()
            ]
        rows = self._batches.get(event.reqid)
        if rows is not None:
            return self._batch_ended(event, rows)
        request = self._requests.get(event.reqid)
        if request is None:
            return [event]  # a request of the connection's own (ping, resubscribe, switch)
        if isinstance(event, RequestTimedOut):
            self._keep_for_late_reply(event.reqid)
        else:
            del self._requests[event.reqid]
        replies = tuple(to_v1_reply(reply, event.reqid) for reply in event.replies)
        return [_ended_as(event, event.reqid, request, replies)]

    def _keep_for_late_reply(self, req_id: int) -> None:
        """Remember a timed-out request for its late reply, within ``late_memory``."""
        timed_out = self._timed_out
        if timed_out is None:
            timed_out = self._timed_out = deque()
        timed_out.append(req_id)
        while len(timed_out) > self.late_memory:
            forgotten = timed_out.popleft()
            self._requests.pop(forgotten, None)
            self._batches.pop(forgotten, None)

    def _batch_ended(self, event: _Ended, rows: tuple[tuple[int, AddOrder], ...]) -> list[Event]:
        """One ending event per row of a batch (see ``send_batch``)."""
        if isinstance(event, RequestOutcomeUnknown):
            if isinstance(event, RequestTimedOut):
                self._keep_for_late_reply(event.reqid)
            else:
                del self._batches[event.reqid]  # lost: no late reply can come
            return [type(event)(reqid=reqid, request=order) for reqid, order in rows]
        del self._batches[event.reqid]
        reply = event.replies[-1] if event.replies else None
        ended: list[Event] = []
        for (reqid, order), status in zip(rows, to_v1_batch_statuses(reply, rows), strict=True):
            if status is None:
                if isinstance(event, RequestFailed):
                    # The whole batch was refused (validation): no row was placed.
                    ended.append(
                        RequestFailed(reqid=reqid, request=order, replies=(), error=event.error)
                    )
                else:
                    ended.append(RequestTimedOut(reqid=reqid, request=order))
            elif status.error is not None:
                ended.append(
                    RequestFailed(reqid=reqid, request=order, replies=(status,), error=status.error)
                )
            else:
                ended.append(RequestCompleted(reqid=reqid, request=order, replies=(status,)))
        return ended

    def _executions(
        self, wrapper: ChannelSnapshot | ChannelUpdate, push: Executions, out: list[Event]
    ) -> None:
        """Append the v1 frames of one executions push (see the module docstring) to ``out``."""
        wanted = self._wanted
        late = self._late
        if type(wrapper) is ChannelSnapshot:
            self._snapshot_seen = True
            # A subscribe sent from now on is late (``send``): the subscribe's outcome, with
            # its reply, is no longer needed (~850 bytes a link, kept for its whole life).
            self._subscribe_end = None
            if "openOrders" in wanted and "openOrders" not in late:
                out.append(ChannelSnapshot(event=open_orders(push)))
            trades_request = wanted.get("ownTrades")
            if (
                trades_request is not None
                and "ownTrades" not in late
                and trades_request.snapshot is not False
            ):
                out.append(ChannelSnapshot(event=own_trades(push)))
            return
        after_gap = wrapper.after_gap  # type: ignore[union-attr]
        orders, trades = self._update_frames(push)
        if orders is not None:
            out.append(ChannelUpdate(event=open_orders(orders), after_gap=after_gap))
        if trades is not None:
            out.append(ChannelUpdate(event=trades, after_gap=after_gap))

    def _update_frames(self, push: Executions) -> tuple[Executions | None, OwnTrades | None]:
        """What an executions update holds for the channels wanted and not late: the push
        itself when it changes an order (a record with an ``order_id``), its ``OwnTrades``
        unless it holds no fill (None for each left out). Shared by the reported path (which
        reports the push's ``OpenOrders``) and ``receive_data``."""
        wanted = self._wanted
        late = self._late
        orders: Executions | None = None
        if "openOrders" in wanted and "openOrders" not in late:
            for record in push.data:
                if record.order_id is not None:  # what ``open_orders`` keeps of an update
                    orders = push
                    break
        if "ownTrades" in wanted and "ownTrades" not in late:
            for record in push.data:
                if record.exec_type == "trade":  # a push without fills builds no OwnTrades
                    trades = own_trades(push)
                    return orders, (trades if trades.trades else None)
        return orders, None


def _ended_as(event: _Ended, reqid: int, request: Request, replies: tuple[Event, ...]) -> Event:
    """``event`` (how a request ended) for another ``reqid``, ``request`` and ``replies``."""
    if isinstance(event, RequestFailed):
        return RequestFailed(reqid=reqid, request=request, replies=replies, error=event.error)
    if isinstance(event, RequestCompleted):
        return RequestCompleted(reqid=reqid, request=request, replies=replies)
    return type(event)(reqid=reqid, request=request, replies=replies)
