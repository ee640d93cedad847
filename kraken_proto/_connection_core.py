"""The protocol machinery ``Connection`` (v1) and ``V2Connection`` share, written once.

``_ConnectionCore`` holds what does not depend on the wire format: the connection and
token states and their transition tables, the session token's lifecycle, the table of
pending requests and how each one ends, timeouts and deadlines, server liveness, the dead
man's switch and the drain methods. A protocol version supplies the rest through a few
hooks: how a request is named, numbered and encoded, which ``Ping`` and
``CancelAllOrdersAfter`` classes it sends, and what an unanswered or answered request means
for its subscriptions.

The class is built in layers, one concern each: ``_connection_base`` (attributes, hooks,
connection and token states), ``_connection_requests`` (pending requests and how each one
ends), ``_connection_timers`` (deadlines, liveness, the dead man's switch) and this module
(the inputs and outputs an adapter calls, subscriptions and sequence gaps; each protocol's
``receive_update`` decodes its frames).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from kraken_proto._event_base import Event

from ._connection_base import RecordT, RequestT, _Secret
from ._connection_events import ChannelUpdate, RequestLost, SequenceGap
from ._connection_state import (
    SUBSCRIPTION_TRANSITIONS,
    TOKEN_TRANSITIONS,
    ConnectionState,
    ConnectionTrigger,
    SubscriptionState,
    SubscriptionTrigger,
    TokenTrigger,
)
from ._connection_timers import _Timers
from ._errors import LocalProtocolError
from ._request_checks import check_token

if TYPE_CHECKING:  # the channel payloads of both protocols; no import cycle at run time
    from kraken_proto.v1._events import OpenOrders, OwnTrades
    from kraken_proto.v2._events import Balances, Executions


class _ConnectionCore(_Timers[RequestT, RecordT]):
    """The version-independent half of a private WebSocket connection (see the module)."""

    __slots__ = ()

    # --- inputs -------------------------------------------------------------------------------

    def connection_made(self, now: float) -> None:
        """The WebSocket is open. Raises ``LocalProtocolError`` unless the connection is IDLE."""
        self._require_not_failed("connection_made")
        self._transition(ConnectionTrigger.MADE, "connection_made")
        self._last_frame_at = now
        self._sent(now)  # the keepalive counts from the opening
        self._arm_dead_mans_switch(now)

    def provide_token(self, token: str, now: float) -> None:
        """Hand over a session token (from ``GetWebSocketsToken``); it replaces any previous one.

        The token must be used within ``token_ttl`` seconds of ``now``. Raises
        ``LocalProtocolError`` (never showing the token) for a malformed token or once the
        connection is lost or failed. Re-subscriptions waiting for a token are queued now.
        """
        self._require_not_failed("provide_token")
        check_token(token)
        self._token_state = self._token_transition(TokenTrigger.PROVIDE, "provide_token")
        self._token = _Secret(token)
        self._token_generation += 1
        self._token_expires_at = now + self._config.token_ttl
        if self._state is ConnectionState.OPEN:
            for record in self._subscriptions.values():
                if record.state is SubscriptionState.RESYNCING and not record.resync_queued:
                    self._queue_resync(record, now)
        self._arm_dead_mans_switch(now)

    def close(self, now: float) -> None:
        """Begin a graceful close: disarm the dead man's switch if this connection armed it
        (queues ``CancelAllOrdersAfter(timeout=0)``), then set ``should_close``.

        Drain ``data_to_send()`` before closing the socket. Does nothing once closing, closed
        or failed.
        """
        if self._state is not ConnectionState.OPEN and self._state is not ConnectionState.IDLE:
            return
        if self._dead_mans_switch_armed and self._usable_token(now) is not None:
            self._queue(self._cancel_all_after(0), now)
        self._dead_mans_switch_armed = False
        self._dead_mans_switch_due = None
        self._transition(ConnectionTrigger.CLOSE, "close")

    def connection_lost(self, now: float) -> None:
        """The socket is gone. Idempotent; allowed in every state.

        Every pending request ends as ``RequestLost`` (outcome unknown), the token is
        forgotten (GONE), subscriptions are cleared and unsent data is discarded.
        """
        for reqid in list(self._pending):
            self._end_unknown(reqid, RequestLost, now)
        self._timed_out.clear()
        self._subscriptions.clear()
        self._outgoing.clear()
        self._token = None
        self._token_state = TOKEN_TRANSITIONS[(self._token_state, TokenTrigger.LOSE)]
        self._token_expires_at = None
        self._liveness_ping_at = None
        self._dead_mans_switch_due = None
        self._dead_mans_switch_armed = False
        self._transition(ConnectionTrigger.LOST, "connection_lost")

    # --- outputs ------------------------------------------------------------------------------

    def data_to_send(self) -> list[str]:
        """Return and forget the JSON text messages queued for the server, in order."""
        outgoing, self._outgoing = self._outgoing, []
        return outgoing

    def events_received(self) -> list[Event]:
        """Return and forget the events produced so far, in order."""
        events, self._events = self._events, []
        return events

    def _refuse_receive(self) -> NoReturn:
        """``receive_message`` outside OPEN and CLOSING: raise ``LocalProtocolError``."""
        self._require_not_failed("receive_message")  # FAILED has its own message
        raise LocalProtocolError(
            f"receive_message: the connection is {self._state.value}, not open"
        )

    # --- subscriptions ------------------------------------------------------------------------

    def _subscription_trigger(self, channel: str, trigger: SubscriptionTrigger) -> None:
        record = self._subscriptions.get(channel)
        if record is None:
            return
        new_state = SUBSCRIPTION_TRANSITIONS.get((record.state, trigger))
        if new_state is None:
            return
        if new_state is SubscriptionState.UNSUBSCRIBED:
            del self._subscriptions[channel]
            return
        if trigger is SubscriptionTrigger.SUBSCRIBED:
            # Data from the new subscription starts with its snapshot (if it has one).
            record.awaiting_first_frame = True
            record.next_sequence = None
        record.state = new_state

    def _on_gap(
        self,
        record: RecordT,
        event: OwnTrades | OpenOrders | Executions | Balances,
        channel: str,
        expected: int,
        got: int,
        now: float,
    ) -> None:
        """A channel frame ``event`` broke the sequence: report it, flag the frames and
        recover (unsubscribe, subscribe again) when the subscription's state allows."""
        self._events.append(SequenceGap(channel=channel, expected=expected, got=got))
        record.after_gap = True
        record.next_sequence = None
        self._events.append(ChannelUpdate(event=event, after_gap=True))
        new_state = SUBSCRIPTION_TRANSITIONS.get((record.state, SubscriptionTrigger.GAP))
        if new_state is None:
            return  # e.g. unsubscribing anyway: flag the frames, do not resubscribe
        record.state = new_state
        record.resync_queued = False
        if self._state is ConnectionState.OPEN and self._usable_token(now) is not None:
            self._queue_resync(record, now)
