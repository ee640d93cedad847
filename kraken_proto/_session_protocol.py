"""The protocol a :class:`~kraken_proto.Session` speaks: v1 ``Connection`` or v2 ``V2Link``.

The session is written against ``Connection``'s interface: v1 requests in, v1-shaped events
out. :func:`open_link` gives it a ``Connection`` for ``protocol="v1"`` and a ``V2Link`` for
``"v2"``. ``V2Link`` drives a ``V2Connection`` behind that same interface, so the session's
policy (reconnect, reconciliation, exactly-once fills, never placing an order twice) is the
same code for both protocols:

* ``ownTrades`` and ``openOrders`` are both served by v2's one ``executions`` channel: the
  first of them subscribes to it (``snap_orders``, and ``snap_trades`` unless ownTrades asked
  for no snapshot); a channel asked for after the executions snapshot arrived reports
  ``FAILED`` (its snapshot is gone), and the session reconnects to subscribe both together.
* Each ``executions`` push becomes the ``OpenOrders`` and ``OwnTrades`` frames of the channels
  asked for (:func:`kraken_proto.v2.open_orders` / :func:`~kraken_proto.v2.own_trades`): an
  order's status comes from ``exec_type`` only, never from the intermediate
  ``order_status``. A sequence gap on ``executions`` is reported for both v1 channels (the
  ``V2Connection`` already resubscribes for a fresh snapshot).
* Trading requests are translated to v2 (``_session_v2_requests``); their ending events
  (``RequestCompleted``, ``RequestFailed``, ``RequestTimedOut``, ``RequestLost``,
  ``LateReply``) carry the v1 request and v1 status events, so the caller sees the same
  outcomes over both protocols. ``status`` pushes become ``SystemStatus``; ``balances``, raw
  replies, heartbeats and pongs are not passed on (the session does not use them).
"""

from __future__ import annotations

from typing import Literal

from ._connection import Connection
from ._connection_events import (
    ChannelSnapshot,
    ChannelUpdate,
    LateReply,
    RequestCompleted,
    RequestFailed,
    RequestOutcomeUnknown,
    SequenceGap,
)
from ._connection_state import (
    ConnectionConfig,
    ConnectionState,
    SubscriptionState,
    TokenState,
)
from ._errors import LocalProtocolError
from ._events import Event, KrakenError, SystemStatus
from ._requests import Request, Subscribe
from ._session_v2_requests import to_v1_reply, to_v2_request
from ._v2_connection import V2Connection
from ._v2_events import Executions, Heartbeat, MethodReply, Pong, Status, StatusRecord
from ._v2_mapping import open_orders, own_trades
from ._v2_requests import Subscribe as V2Subscribe

__all__ = ["Link", "Protocol", "V2Link", "open_link"]

Protocol = Literal["v1", "v2"]
PROTOCOLS: frozenset[str] = frozenset({"v1", "v2"})

_EXECUTIONS: Literal["executions"] = "executions"
_DROPPED = (MethodReply, Heartbeat, Pong)
_Ended = RequestCompleted | RequestFailed | RequestOutcomeUnknown
_LATE_CHANNEL = KrakenError.parse(
    "ESession:the executions snapshot was sent before this channel was asked for; "
    "subscribe to both before the snapshot (a new connection does)"
)


class V2Link:
    """A ``V2Connection`` behind ``Connection``'s interface (see the module docstring).

    Every method has the contract of the ``Connection`` method of the same name; ``send``
    takes v1 requests (``Subscribe`` to ownTrades/openOrders and the trading requests) and
    raises ``LocalProtocolError``, sending nothing, for one v2 cannot express.
    """

    def __init__(self, config: ConnectionConfig | None = None) -> None:
        self._conn = V2Connection(config)
        self._wanted: dict[str, Subscribe] = {}
        self._late: set[str] = set()
        self._snapshot_seen = False
        self._subscribe_req_id: int | None = None
        self._subscribe_end: _Ended | None = None
        self._next_subscribe_id = -1
        self._waiting: dict[int, Subscribe] = {}  # v1 subscribes waiting for the v2 one
        self._ready: list[Event] = []  # their outcomes, known at send time
        self._requests: dict[int, Request] = {}

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

    def subscription_state(self, channel: str) -> SubscriptionState:
        """The state of the v1 channel ``channel`` (that of ``executions`` once asked for)."""
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
        v2_request = to_v2_request(request, now)
        req_id = self._conn.send(v2_request, now)
        self._requests[req_id] = request
        return req_id

    def _subscribe(self, request: Subscribe, now: float) -> int:
        """Each v1 subscribe gets its own (negative, never a v2 req_id) id and ends with the
        outcome of the one executions subscribe that serves both channels."""
        name = request.name
        if name in self._wanted:
            raise LocalProtocolError(f"send: {name} is already subscribed on this connection")
        if self._subscribe_req_id is None:
            trades = request if name == "ownTrades" else None
            orders = request if name == "openOrders" else None
            self._subscribe_req_id = self._conn.send(
                V2Subscribe(
                    channel=_EXECUTIONS,
                    snap_orders=True,
                    snap_trades=not (trades is not None and trades.snapshot is False),
                    ratecounter=None if orders is None else orders.ratecounter,
                ),
                now,
            )
        self._wanted[name] = request
        reqid = self._next_subscribe_id
        self._next_subscribe_id -= 1
        if self._snapshot_seen:
            self._late.add(name)  # its snapshot has gone by: the session reconnects
            self._ready.append(
                RequestFailed(reqid=reqid, request=request, replies=(), error=_LATE_CHANNEL)
            )
        elif self._subscribe_end is not None:
            self._ready.append(_ended_as(self._subscribe_end, reqid, request, ()))
        else:
            self._waiting[reqid] = request
        return reqid

    def close(self, now: float) -> None:
        """Begin a graceful close."""
        self._conn.close(now)

    def receive_message(self, text: str | bytes, now: float) -> None:
        """Process one message (``RemoteProtocolError`` for an invalid frame)."""
        self._conn.receive_message(text, now)

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
            events.extend(self._translate(event))
        events.extend(self._ready)
        self._ready = []
        return events

    # --- translation --------------------------------------------------------------------

    def _translate(self, event: Event) -> list[Event]:
        if isinstance(event, ChannelSnapshot | ChannelUpdate):
            inner = event.event
            if isinstance(inner, Executions):
                return self._executions(event, inner)
            return []  # balances: not a v1 channel
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
            return [
                SequenceGap(channel=name, expected=event.expected, got=event.got)
                for name in self._wanted
            ]
        if isinstance(event, RequestCompleted | RequestFailed | RequestOutcomeUnknown):
            return self._ended(event)
        if isinstance(event, LateReply):
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
            waiting, self._waiting = self._waiting, {}
            return [
                _ended_as(event, reqid, request, event.replies)
                for reqid, request in waiting.items()
            ]
        request = self._requests.get(event.reqid)
        if request is None:
            return [event]  # a request of the connection's own (ping, resubscribe, switch)
        if not isinstance(event, RequestOutcomeUnknown):
            del self._requests[event.reqid]  # a timed-out one may still get a late reply
        replies = tuple(to_v1_reply(reply, event.reqid) for reply in event.replies)
        return [_ended_as(event, event.reqid, request, replies)]

    def _executions(
        self, wrapper: ChannelSnapshot | ChannelUpdate, push: Executions
    ) -> list[Event]:
        snapshot = isinstance(wrapper, ChannelSnapshot)
        after_gap = isinstance(wrapper, ChannelUpdate) and wrapper.after_gap
        if snapshot:
            self._snapshot_seen = True
        out: list[Event] = []
        if "openOrders" in self._wanted and "openOrders" not in self._late:
            orders = open_orders(push)
            if snapshot:
                out.append(ChannelSnapshot(event=orders))
            elif orders.orders:
                out.append(ChannelUpdate(event=orders, after_gap=after_gap))
        trades_request = self._wanted.get("ownTrades")
        if trades_request is not None and "ownTrades" not in self._late:
            trades = own_trades(push)
            if snapshot:
                if trades_request.snapshot is not False:
                    out.append(ChannelSnapshot(event=trades))
            elif trades.trades:
                out.append(ChannelUpdate(event=trades, after_gap=after_gap))
        return out


Link = Connection | V2Link


def _ended_as(event: _Ended, reqid: int, request: Request, replies: tuple[Event, ...]) -> Event:
    """``event`` (how a request ended) for another ``reqid``, ``request`` and ``replies``."""
    if isinstance(event, RequestFailed):
        return RequestFailed(reqid=reqid, request=request, replies=replies, error=event.error)
    if isinstance(event, RequestCompleted):
        return RequestCompleted(reqid=reqid, request=request, replies=replies)
    return type(event)(reqid=reqid, request=request, replies=replies)


def open_link(protocol: str, config: ConnectionConfig | None = None) -> Link:
    """A new connection core for ``protocol``: a ``Connection`` for ``"v1"``, a ``V2Link``
    (v1 requests and events over a ``V2Connection``) for ``"v2"``; ``config`` as they take."""
    if protocol == "v2":
        return V2Link(config)
    return Connection(config)
