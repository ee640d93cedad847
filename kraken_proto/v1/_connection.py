"""``Connection``: the stateful, sans-IO core of one Kraken v1 private WebSocket connection.

It correlates replies with requests, injects and tracks the session token, tracks private
subscriptions and their sequence numbers, watches liveness, gates orders on the system
status and keeps the dead man's switch armed. It does no I/O: text comes in through
``receive_message``, goes out through ``data_to_send``, and time is the ``now`` argument.

Where exceptions come from:

* ``LocalProtocolError``: any call the current state forbids, a private request without a
  usable token, a request the system status forbids, a subscribe to a channel already
  pending or active. Raised before anything is queued; state is unchanged.
* ``RemoteProtocolError``: only from ``receive_message``, for a frame that is not Kraken v1.
  The connection moves to ``FAILED`` and every later call but ``connection_lost``, ``close``,
  ``data_to_send`` and ``events_received`` raises ``LocalProtocolError``.
"""

from __future__ import annotations

from kraken_proto._connection_base import _is_token_error, _Pending
from kraken_proto._connection_core import _ConnectionCore
from kraken_proto._connection_events import (
    ChannelSnapshot,
    ChannelUpdate,
    LateReply,
    RequestOutcomeUnknown,
    RequestTimedOut,
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
from kraken_proto._event_base import Event, KrakenError
from kraken_proto._request_base import Request

from ._connection_rules import (
    _REPLY_CLASS,
    _REPLY_EVENTS,
    _STATUS_GATES,
    _already,
    _error_of,
    _Subscription,
)
from ._decode import decode
from ._events import (
    ErrorEvent,
    OpenOrders,
    OwnTrades,
    Pong,
    StatusEvent,
    SubscriptionStatus,
    SystemStatus,
)
from ._requests import (
    CancelAllOrdersAfter,
    Ping,
    Subscribe,
    Unsubscribe,
    encode,
)

__all__ = ["Connection"]

# Module-level aliases: on CPython 3.11 loading an enum member costs ~75 ns, and
# ``_on_channel_data`` reads these on every channel frame.
_PENDING, _RESYNCING = SubscriptionState.PENDING, SubscriptionState.RESYNCING
_ACTIVE = SubscriptionState.ACTIVE
_OPEN, _CLOSING = ConnectionState.OPEN, ConnectionState.CLOSING


class Connection(_ConnectionCore[Request, _Subscription]):
    """One Kraken v1 private WebSocket connection, without the socket.

    Feed it ``connection_made``, ``provide_token``, ``receive_message``, ``handle_timeout``
    and ``connection_lost``; give it requests through ``send``; drain ``data_to_send()`` to
    the socket and ``events_received()`` to the application; sleep until ``next_deadline()``.
    Every reply event is delivered as it arrives, and each request also ends exactly once as
    ``RequestCompleted``, ``RequestFailed``, ``RequestTimedOut`` or ``RequestLost``. This
    includes requests the connection sends on its own (liveness ``Ping``, re-subscription
    after a sequence gap, dead man's switch); their reqids were never returned by ``send``.
    The connection never re-sends a trading request.
    """

    __slots__ = ("_next_reqid",)

    _repr_name = "Connection"

    def __init__(self, config: ConnectionConfig | None = None) -> None:
        super().__init__(config if config is not None else ConnectionConfig())
        self._next_reqid = self._config.first_reqid

    # --- queries ------------------------------------------------------------------------------

    @property
    def system_status(self) -> str | None:
        """The last ``systemStatus`` status (``online``, ``maintenance``, ...), or None."""
        return self._system_status

    def subscription_state(self, channel: str) -> SubscriptionState:
        """The state of the subscription to ``channel`` (``ownTrades`` or ``openOrders``)."""
        record = self._subscriptions.get(channel)
        return SubscriptionState.UNSUBSCRIBED if record is None else record.state

    def pending_requests(self) -> dict[int, Request]:
        """A copy of the requests awaiting replies, by reqid."""
        return {reqid: pending.request for reqid, pending in self._pending.items()}

    # --- inputs -------------------------------------------------------------------------------

    def send(self, request: Request, now: float) -> int:
        """Queue ``request`` (with the token injected when it needs one); return its reqid.

        Raises ``LocalProtocolError``, queueing nothing and changing nothing, when the
        connection is not OPEN, the request needs a token and none is usable, the system
        status forbids it, or it subscribes to a channel already subscribed (pending, active,
        unsubscribing or resyncing) or unsubscribes from one that is neither active nor failed.
        """
        self._check_send(request, Request, "kraken_proto request", _STATUS_GATES)
        subscription_change = self._subscription_change(request)
        reqid = self._queue(request, now)
        if subscription_change is not None:
            channel, new_state = subscription_change
            if isinstance(request, Subscribe):
                self._subscriptions[channel] = _Subscription(
                    request=request, state=new_state, subscribe_sent=True
                )
            else:
                self._subscriptions[channel].state = new_state
        return reqid

    def receive_message(self, text: str | bytes, now: float) -> None:
        """Process one complete WebSocket text message from the server.

        Raises ``RemoteProtocolError`` for a frame that is not Kraken v1 (the connection
        moves to FAILED); ``LocalProtocolError`` unless the connection is OPEN or CLOSING.
        """
        event = self.receive_update(text, now)
        if event is not None:
            self._events.append(ChannelUpdate(event=event))

    def receive_update(self, text: str | bytes, now: float) -> OpenOrders | OwnTrades | None:
        """``receive_message``, except that the usual frame, the next one of an active
        subscription, is returned instead of queued as its ``ChannelUpdate``; its sequence is
        counted as ``receive_message`` counts it. Returns None for every other frame, which
        took ``receive_message``'s way (its events are queued); a returned frame reported
        nothing else and queued nothing to send. Raises as ``receive_message``."""
        # The state check and the decode, written here and in ``V2Connection.receive_update``
        # rather than in a helper of the core: this is every v1 frame's path (the session's
        # too, as ``V1Link.receive_data``), and the helper's call cost ~70 ns a frame, 3-5% of
        # the session's whole path on the small deltas (measured against calling it).
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
        # decode returns these exact classes; ``type() is`` is the cheapest test per frame (an
        # ``A | B`` in isinstance builds a union object on every call).
        if type(event) is OpenOrders or type(event) is OwnTrades:
            record = self._subscriptions.get(event.channel_name)
            if record is not None:
                # The steady state: the next frame of an active subscription. A set
                # ``next_sequence`` implies no first frame awaited and no gap flagged.
                expected = record.next_sequence
                if event.sequence == expected and expected is not None and record.state is _ACTIVE:
                    record.next_sequence = expected + 1
                    return event
        self._received(event, now)
        return None

    def _received(self, event: Event, now: float) -> None:
        """Everything but the in-sequence data frame: what ``event`` means."""
        if type(event) is OpenOrders or type(event) is OwnTrades:
            self._on_channel_data(event, now)
            return
        self._events.append(event)
        if isinstance(event, SystemStatus):
            self._system_status = event.status
        elif isinstance(event, _REPLY_EVENTS):
            self._on_reply(event, now)

    # --- hooks of the core --------------------------------------------------------------------

    def _request_name(self, request: Request) -> str:
        return request.event

    def _encode_new(self, request: Request, token: str | None) -> tuple[int, str]:
        reqid = self._next_reqid
        text = encode(request, token=token, reqid=reqid)
        self._next_reqid += 1
        return reqid, text

    def _ping(self) -> Request:
        return Ping()

    def _cancel_all_after(self, timeout: int) -> Request:
        return CancelAllOrdersAfter(timeout=timeout)

    def _reply_error(self, event: Event) -> KrakenError | None:
        return _error_of(event)

    def _already_held(self, request: Request, error: KrakenError) -> bool:
        return isinstance(request, Subscribe) and _already(error)

    # --- requests -----------------------------------------------------------------------------

    def _on_reply(self, event: StatusEvent | ErrorEvent | Pong, now: float) -> None:
        reqid = event.reqid if isinstance(event.reqid, int) else None
        pending = None if reqid is None else self._pending.get(reqid)
        error = _error_of(event)
        token_error = error is not None and _is_token_error(error)
        if error is not None and token_error:
            generation = None if pending is None else pending.token_generation
            self._reject_token(reqid, error, generation)
        if reqid is None or pending is None:
            request = None if reqid is None else self._timed_out.get(reqid)
            if reqid is not None and request is not None:
                self._events.append(LateReply(reqid=reqid, request=request, reply=event))
                if isinstance(request, Subscribe) and (error is None or _already(error)):
                    # A late "subscribed": the server holds the subscription after all.
                    self._subscription_trigger(request.name, SubscriptionTrigger.SUBSCRIBED)
            elif isinstance(event, SubscriptionStatus) and event.status == "unsubscribed":
                self._on_server_unsubscribed(event)
            return
        expected_class = _REPLY_CLASS[pending.request.response_event]
        if error is None and type(event) is not expected_class:
            return  # not a reply this request can get; delivered raw only
        pending.replies.append(event)
        # A generic or token error ends the request at once; a per-id cancel error (an
        # ``EOrder:`` one, such as Unknown order) does not: the other ids get their own replies.
        ends_at_once = error is not None and (
            token_error or type(event) is not expected_class or error.category != "Order"
        )
        if ends_at_once or len(pending.replies) >= pending.request.expected_replies:
            self._end_answered(reqid, pending)

    def _subscription_unanswered(
        self, request: Request, outcome: type[RequestOutcomeUnknown], now: float
    ) -> None:
        if isinstance(request, Subscribe):
            self._subscribe_unanswered(request, outcome, now)
        elif isinstance(request, Unsubscribe):
            self._subscription_trigger(request.name, SubscriptionTrigger.UNSUBSCRIBE_UNKNOWN)

    def _subscribe_unanswered(
        self, request: Subscribe, outcome: type[RequestOutcomeUnknown], now: float
    ) -> None:
        """A subscribe ended without an answer: ask once more, then give up (FAILED)."""
        record = self._subscriptions.get(request.name)
        if record is None or record.state not in (
            SubscriptionState.PENDING,
            SubscriptionState.RESYNCING,
        ):
            return  # already settled (a data frame counted as the acknowledgement)
        can_ask = (
            outcome is RequestTimedOut
            and not record.confirming
            and self._state is ConnectionState.OPEN
        )
        if can_ask:
            try:
                self._queue(record.request, now)
            except LocalProtocolError:
                can_ask = False
        if can_ask:
            record.confirming = True
            self._subscription_trigger(request.name, SubscriptionTrigger.CONFIRM)
            return
        record.subscribe_sent = False
        self._subscription_trigger(request.name, SubscriptionTrigger.SUBSCRIBE_FAILED)

    # --- subscriptions ------------------------------------------------------------------------

    def _subscription_change(self, request: Request) -> tuple[str, SubscriptionState] | None:
        """The (channel, new state) sending ``request`` leads to; raises if it is not allowed."""
        if isinstance(request, Subscribe):
            trigger = SubscriptionTrigger.SEND_SUBSCRIBE
        elif isinstance(request, Unsubscribe):
            trigger = SubscriptionTrigger.SEND_UNSUBSCRIBE
        else:
            return None
        current = self.subscription_state(request.name)
        new_state = SUBSCRIPTION_TRANSITIONS.get((current, trigger))
        if new_state is None:
            raise LocalProtocolError(
                f"send: cannot {request.event} {request.name}: its subscription is {current.value}"
            )
        return request.name, new_state

    def _subscription_answered(
        self, pending: _Pending[Request], *, error: KrakenError | None
    ) -> None:
        succeeded = error is None
        request = pending.request
        if isinstance(request, Subscribe):
            record = self._subscriptions.get(request.name)
            if record is not None:
                record.subscribe_sent = False
            if succeeded:
                self._subscription_trigger(request.name, SubscriptionTrigger.SUBSCRIBED)
                self._bind_token(pending.token_generation)
            else:
                self._subscription_trigger(request.name, SubscriptionTrigger.SUBSCRIBE_FAILED)
        elif isinstance(request, Unsubscribe):
            # "Subscription Not Found": the server does not hold it, which is what was asked.
            not_found = error is not None and "not found" in error.text.lower()
            trigger = (
                SubscriptionTrigger.UNSUBSCRIBED
                if succeeded or not_found
                else SubscriptionTrigger.UNSUBSCRIBE_FAILED
            )
            self._subscription_trigger(request.name, trigger)

    def _on_server_unsubscribed(self, event: SubscriptionStatus) -> None:
        if event.channel_name is not None:
            self._subscription_trigger(event.channel_name, SubscriptionTrigger.SERVER_UNSUBSCRIBED)

    def _on_channel_data(self, event: OwnTrades | OpenOrders, now: float) -> None:
        record = self._subscriptions.get(event.channel_name)
        if record is None:
            self._events.append(ChannelUpdate(event=event))
            return
        sequence = event.sequence
        state = record.state
        if state is _PENDING or (state is _RESYNCING and record.subscribe_sent and sequence == 1):
            # The new subscription's first frame came before its ack (late or lost): the
            # server subscribed, and this frame starts it (Kraken numbers a subscription's
            # frames from 1).
            self._acknowledged_by_data(record)
        expected = record.next_sequence
        if record.awaiting_first_frame:
            record.awaiting_first_frame = False
            record.after_gap = False
            if sequence is None or sequence == 1 or not record.expects_snapshot:
                record.next_sequence = None if sequence is None else sequence + 1
                if record.expects_snapshot:
                    self._events.append(ChannelSnapshot(event=event))
                else:
                    self._events.append(ChannelUpdate(event=event))
                return
            # Kraken numbers the snapshot 1: a later number means it was missed, and calling this
            # delta a snapshot would make the caller's order table drop every other open order.
            expected = 1
        elif sequence is None or expected is None or record.after_gap or sequence == expected:
            if expected is not None and sequence == expected:
                record.next_sequence = expected + 1
            self._events.append(ChannelUpdate(event=event, after_gap=record.after_gap))
            return
        self._on_gap(record, event, event.channel_name, expected, sequence, now)

    def _queue_resync(self, record: _Subscription, now: float) -> None:
        """Unsubscribe and subscribe again with the same options, for a fresh snapshot."""
        self._queue(Unsubscribe(name=record.request.name), now)
        self._queue(record.request, now)
        record.resync_queued = True
        record.subscribe_sent = True
        record.confirming = False

    def _acknowledged_by_data(self, record: _Subscription) -> None:
        generation = next(
            (
                pending.token_generation
                for pending in self._pending.values()
                if pending.request is record.request
            ),
            None,
        )
        self._subscription_trigger(record.request.name, SubscriptionTrigger.SUBSCRIBED)
        self._bind_token(generation)
