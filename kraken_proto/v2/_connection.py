"""``V2Connection``: the sans-IO rules of one Kraken WebSocket v2 private connection.

The v2 counterpart of ``Connection``, with the same driving interface and the same ending
events, so one caller can drive either: feed it ``connection_made``, ``provide_token``,
``receive_message``, ``handle_timeout`` and ``connection_lost``; give it requests through
``send``; drain ``data_to_send()`` and ``events_received()``; sleep until ``next_deadline()``.
It reuses v1's transition tables (``_connection_state``) and events (``_connection_events``).

What differs from v1, as the v2 protocol does:

* Replies are matched by ``req_id`` (a positive int32) and a request may get several:
  ``cancel_order`` with N ids is answered N times with one ``req_id``. An ``ErrorReply``
  (``method: "error"``, or an error naming another method) with a pending ``req_id`` ends that
  request as ``RequestFailed``; without one it is only delivered.
* The token goes in ``params.token`` of every private request (the codec does it).
* ``sequence`` on ``executions`` and ``balances`` is checked for gaps and repeats; a gap is
  recovered as in v1 (unsubscribe, subscribe again, the fresh snapshot is authoritative).
  The snapshot is recognised by ``type: "snapshot"``, not by its number.
* Orders are gated on the ``status`` channel's ``system`` (``maintenance`` allows no order
  entry and no cancels; ``cancel_only`` only cancels; ``post_only`` only post-only orders).
* Liveness both ways: Kraken drops a connection that sends nothing for about a minute, so a
  ``Ping`` goes out after ``keepalive_interval`` seconds without sending; and while subscribed
  (heartbeats flow), ``liveness_timeout`` seconds of silence from the server queue a ``Ping``,
  and as much again ends the connection (``ConnectionStale``).

Exceptions are as in ``Connection``: ``LocalProtocolError`` for a call the state forbids
(raised before anything is queued), ``RemoteProtocolError`` only from ``receive_message``
(the connection moves to ``FAILED``).
"""

from __future__ import annotations

from kraken_proto._connection_base import _is_token_error, _Pending
from kraken_proto._connection_core import _ConnectionCore
from kraken_proto._connection_events import (
    ChannelSnapshot,
    ChannelUpdate,
    LateReply,
    RequestOutcomeUnknown,
)
from kraken_proto._connection_state import (
    SUBSCRIPTION_TRANSITIONS,
    ConnectionConfig,
    ConnectionState,
    ConnectionTrigger,
    SubscriptionState,
    SubscriptionTrigger,
)
from kraken_proto._errors import LocalProtocolError, RemoteProtocolError
from kraken_proto._event_base import Event, KrakenError, UnknownMessage

from ._connection_rules import (
    _DEFAULT_KEEPALIVE,
    _STATUS_GATES,
    V2ConnectionConfig,
    _check_v2_fields,
    _error_of,
    _reply_error,
    _says,
    _Subscription,
    _unknown_error,
)
from ._decode import decode
from ._events import Balances, ErrorReply, Executions, MethodReply, Status
from ._requests import (
    MAX_REQ_ID,
    CancelAllOrdersAfter,
    CancelOrder,
    Ping,
    Subscribe,
    Unsubscribe,
    V2Request,
    encode,
)

__all__ = ["V2Connection", "V2ConnectionConfig"]

# Module-level aliases: on CPython 3.11 loading an enum member costs ~75 ns, and
# ``_on_channel_data`` reads these on every channel frame.
_PENDING, _FAILED = SubscriptionState.PENDING, SubscriptionState.FAILED
_ACTIVE = SubscriptionState.ACTIVE
_OPEN, _CLOSING = ConnectionState.OPEN, ConnectionState.CLOSING


class V2Connection(_ConnectionCore[V2Request, _Subscription]):
    """One Kraken WebSocket v2 private connection, without the socket.

    Every reply event is delivered as it arrives, and each request also ends exactly once as
    ``RequestCompleted``, ``RequestFailed``, ``RequestTimedOut`` or ``RequestLost`` (their
    ``reqid`` is the v2 ``req_id``). This includes requests the connection sends on its own
    (keepalive and liveness ``Ping``, re-subscription after a sequence gap, dead man's
    switch). Channel data comes as ``ChannelSnapshot``/``ChannelUpdate`` wrapping
    ``Executions`` or ``Balances``. The connection never re-sends a trading request.
    """

    __slots__ = ("_keepalive_interval", "_last_sent_at", "_next_req_id")

    _repr_name = "V2Connection"

    def __init__(self, config: ConnectionConfig | None = None) -> None:
        config = config if config is not None else V2ConnectionConfig()
        keepalive_interval = (
            config.keepalive_interval
            if isinstance(config, V2ConnectionConfig)
            else _DEFAULT_KEEPALIVE
        )
        _check_v2_fields(config.first_reqid, keepalive_interval)
        super().__init__(config)
        self._keepalive_interval = keepalive_interval
        self._next_req_id = config.first_reqid
        self._last_sent_at = 0.0

    # --- queries ------------------------------------------------------------------------------

    @property
    def system_status(self) -> str | None:
        """The last ``status`` channel ``system`` (``online``, ``cancel_only``, ...), or None."""
        return self._system_status

    def subscription_state(self, channel: str) -> SubscriptionState:
        """The state of the subscription to ``channel`` (``executions`` or ``balances``)."""
        record = self._subscriptions.get(channel)
        return SubscriptionState.UNSUBSCRIBED if record is None else record.state

    def pending_requests(self) -> dict[int, V2Request]:
        """A copy of the requests awaiting replies, by req_id."""
        return {req_id: pending.request for req_id, pending in self._pending.items()}

    # --- inputs -------------------------------------------------------------------------------

    def send(self, request: V2Request, now: float) -> int:
        """Queue ``request`` (the token injected when it needs one); return its req_id.

        Raises ``LocalProtocolError``, queueing nothing and changing nothing, when the
        connection is not OPEN, the request is not a v2 request, it needs a token and none is
        usable, the engine status forbids it, or it subscribes to a channel already subscribed
        (pending, active, unsubscribing or resyncing) or unsubscribes from one that is not
        active.
        """
        self._check_send(request, V2Request, "kraken_proto.v2 request", _STATUS_GATES)
        subscription_change = self._subscription_change(request)
        req_id = self._queue(request, now)
        if subscription_change is not None:
            channel, new_state = subscription_change
            if isinstance(request, Subscribe):
                self._subscriptions[channel] = _Subscription(request=request, state=new_state)
            else:
                self._subscriptions[channel].state = new_state
        return req_id

    def receive_message(self, text: str | bytes, now: float) -> None:
        """Process one complete WebSocket text message from the server.

        Raises ``RemoteProtocolError`` for a frame that is not Kraken v2 (the connection
        moves to FAILED); ``LocalProtocolError`` unless the connection is OPEN or CLOSING.
        """
        # The usual frame is an in-sequence executions update: ``receive_update`` tells it
        # apart and counts it without the calls of the general route (``_received``,
        # ``_on_channel_data``), which give it this same ``ChannelUpdate``.
        event = self.receive_update(text, now)
        if event is not None:
            self._events.append(ChannelUpdate(event=event))

    def receive_update(self, text: str | bytes, now: float) -> Executions | None:
        """``receive_message``, except that the usual frame, the next in-sequence
        ``executions`` update of an active subscription (no gap being recovered, no snapshot
        awaited), is returned instead of queued as its ``ChannelUpdate``; its sequence is
        counted as ``receive_message`` counts it. Returns None for every other frame, which
        took ``receive_message``'s way (its events are queued). Raises as ``receive_message``.
        """
        # The state check and the decode, written out as in v1's ``Connection.receive_update``
        # (a helper's call cost ~70 ns a frame): this is every v2 frame's path.
        state = self._state
        if state is not _OPEN and state is not _CLOSING:
            self._refuse_receive()
        try:
            event = decode(text)
        except RemoteProtocolError:
            self._transition(ConnectionTrigger.REMOTE_ERROR, "receive_message")
            raise
        self._last_frame_at = now
        self._liveness_ping_at = None
        if type(event) is Executions and event.type == "update":
            record = self._subscriptions.get("executions")
            if record is not None:
                # The steady state: the next frame of an active subscription. A set
                # ``next_sequence`` implies no first frame awaited and no gap flagged (the
                # connection machine tests hold it as an invariant).
                expected = record.next_sequence
                if event.sequence == expected and expected is not None and record.state is _ACTIVE:
                    record.next_sequence = expected + 1
                    return event
        self._received(event, now)
        return None

    def _received(self, event: Event, now: float) -> None:
        """``receive_message`` after the decode: route the decoded ``event``."""
        if type(event) is Executions or type(event) is Balances:
            self._on_channel_data(event, now)
            return
        self._events.append(event)
        if isinstance(event, Status):
            self._system_status = event.system
        elif isinstance(event, MethodReply):
            self._on_reply(event, event.req_id, _error_of(event), now)
        elif isinstance(event, UnknownMessage):
            unknown = _unknown_error(event)
            if unknown is not None:
                self._on_reply(event, unknown[0], unknown[1], now)

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline at or before ``now``: expire a fresh token, time out requests,
        ping or give up on a silent server, keep the connection alive, re-arm the dead man's
        switch.

        Afterwards ``next_deadline()`` is None or later than ``now``. Raises
        ``LocalProtocolError`` once the connection failed; does nothing when IDLE or CLOSED.
        """
        super().handle_timeout(now)

    # --- hooks of the core --------------------------------------------------------------------

    def _request_name(self, request: V2Request) -> str:
        return request.method

    def _encode_new(self, request: V2Request, token: str | None) -> tuple[int, str]:
        req_id = self._allocate_req_id()
        return req_id, encode(request, token=token, req_id=req_id)

    def _ping(self) -> V2Request:
        return Ping()

    def _cancel_all_after(self, timeout: int) -> V2Request:
        return CancelAllOrdersAfter(timeout=timeout)

    def _reply_error(self, event: Event) -> KrakenError | None:
        return _reply_error(event)

    def _already_held(self, request: V2Request, error: KrakenError) -> bool:
        return isinstance(request, Subscribe) and _says(error, "already")

    def _sent(self, now: float) -> None:
        self._last_sent_at = now

    def _keep_alive(self, now: float) -> None:
        if now >= self._last_sent_at + self._keepalive_interval:
            self._queue(Ping(), now)

    def _keepalive_deadline(self) -> float | None:
        return self._last_sent_at + self._keepalive_interval

    # --- requests -----------------------------------------------------------------------------

    def _allocate_req_id(self) -> int:
        """The next req_id not in use, wrapping from 2**31-1 back to 1 (v2 ids are int32)."""
        while True:
            req_id = self._next_req_id
            self._next_req_id = 1 if req_id >= MAX_REQ_ID else req_id + 1
            if req_id not in self._pending and req_id not in self._timed_out:
                return req_id

    def _on_reply(
        self, event: Event, req_id: int | None, error: KrakenError | None, now: float
    ) -> None:
        pending = None if req_id is None else self._pending.get(req_id)
        token_error = error is not None and _is_token_error(error)
        if error is not None and token_error:
            generation = None if pending is None else pending.token_generation
            self._reject_token(req_id, error, generation)
        if req_id is None or pending is None:
            request = None if req_id is None else self._timed_out.get(req_id)
            if req_id is not None and request is not None:
                self._events.append(LateReply(reqid=req_id, request=request, reply=event))
            return
        expected = pending.request.reply_method
        if (
            isinstance(event, MethodReply)
            and event.method_name != expected
            and type(event) is not ErrorReply  # the error answer to any request
        ):
            return  # not a reply this request can get; delivered raw only
        pending.replies.append(event)
        # A per-order cancel error (``EOrder:``, such as Invalid order) is one of the N
        # replies; any other error (token, arguments, rate limit) ends the request at once.
        ends_at_once = error is not None and (
            token_error or not isinstance(pending.request, CancelOrder) or error.category != "Order"
        )
        if ends_at_once or len(pending.replies) >= pending.request.expected_replies:
            self._end_answered(req_id, pending)

    def _subscription_unanswered(
        self, request: V2Request, outcome: type[RequestOutcomeUnknown], now: float
    ) -> None:
        if isinstance(request, Subscribe):
            self._subscription_trigger(request.channel, SubscriptionTrigger.SUBSCRIBE_FAILED)
        elif isinstance(request, Unsubscribe):
            self._subscription_trigger(request.channel, SubscriptionTrigger.UNSUBSCRIBE_UNKNOWN)

    # --- subscriptions ------------------------------------------------------------------------

    def _subscription_change(self, request: V2Request) -> tuple[str, SubscriptionState] | None:
        """The (channel, new state) sending ``request`` leads to; raises if it is not allowed."""
        if isinstance(request, Subscribe):
            trigger = SubscriptionTrigger.SEND_SUBSCRIBE
        elif isinstance(request, Unsubscribe):
            trigger = SubscriptionTrigger.SEND_UNSUBSCRIBE
        else:
            return None
        current = self.subscription_state(request.channel)
        new_state = SUBSCRIPTION_TRANSITIONS.get((current, trigger))
        if new_state is None:
            raise LocalProtocolError(
                f"send: cannot {request.method} {request.channel}: its subscription is "
                f"{current.value}"
            )
        return request.channel, new_state

    def _subscription_answered(
        self, pending: _Pending[V2Request], *, error: KrakenError | None
    ) -> None:
        request = pending.request
        if isinstance(request, Subscribe):
            if error is None:
                self._subscription_trigger(request.channel, SubscriptionTrigger.SUBSCRIBED)
                self._bind_token(pending.token_generation)
            else:
                self._subscription_trigger(request.channel, SubscriptionTrigger.SUBSCRIBE_FAILED)
        elif isinstance(request, Unsubscribe):
            # "Subscription Not Found": the server does not hold it, which is what was asked.
            gone = error is None or _says(error, "not found")
            trigger = (
                SubscriptionTrigger.UNSUBSCRIBED if gone else SubscriptionTrigger.UNSUBSCRIBE_FAILED
            )
            self._subscription_trigger(request.channel, trigger)

    def _on_channel_data(self, event: Executions | Balances, now: float) -> None:
        record = self._subscriptions.get(event.channel_name)
        snapshot = event.type == "snapshot"  # ``is_snapshot``, read once
        if record is not None and snapshot and self._subscribing(record):
            # The new subscription's snapshot came before its ack (late or lost): the server
            # subscribed. The ack, when it comes, changes nothing.
            self._subscription_trigger(record.request.channel, SubscriptionTrigger.SUBSCRIBED)
            self._bind_token(self._generation_of(record.request))
        if record is None or record.state is _PENDING or record.state is _FAILED:
            # Not (yet) tracked: delivered as is, never dropped.
            self._events.append(ChannelUpdate(event=event))
            return
        sequence = event.sequence
        if snapshot:
            # A snapshot is the channel's whole state: authoritative whenever it comes.
            record.awaiting_first_frame = False
            record.after_gap = False
            record.next_sequence = None if sequence is None else sequence + 1
            self._events.append(ChannelSnapshot(event=event))
            return
        expected = record.next_sequence
        if record.awaiting_first_frame:
            record.awaiting_first_frame = False
            if not record.request.expects_snapshot:
                record.next_sequence = None if sequence is None else sequence + 1
                self._events.append(ChannelUpdate(event=event))
                return
            # An update where the snapshot should be: the snapshot was missed, and this frame
            # is not the whole state. Recover as from a gap (``expected=1``: the snapshot).
            expected = 1
        elif sequence is None or expected is None or record.after_gap or sequence == expected:
            if sequence is not None and not record.after_gap:
                record.next_sequence = sequence + 1
            self._events.append(ChannelUpdate(event=event, after_gap=record.after_gap))
            return
        self._on_gap(record, event, event.channel_name, expected, sequence or 0, now)

    @staticmethod
    def _subscribing(record: _Subscription) -> bool:
        """True while a subscribe for ``record`` is in flight and unanswered."""
        return record.state is SubscriptionState.PENDING or (
            record.state is SubscriptionState.RESYNCING and record.resync_queued
        )

    def _generation_of(self, request: V2Request) -> int | None:
        """The token generation the pending ``request`` was sent with."""
        return next(
            (p.token_generation for p in self._pending.values() if p.request is request), None
        )

    def _queue_resync(self, record: _Subscription, now: float) -> None:
        """Unsubscribe and subscribe again with the same options, for a fresh snapshot."""
        self._queue(Unsubscribe(channel=record.request.channel), now)
        self._queue(record.request, now)
        record.resync_queued = True
