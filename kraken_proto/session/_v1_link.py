"""``V1Link``: a v1 ``Connection`` as the session's protocol-neutral ``Link`` (``_link``).

v1 speaks the session's own language (v1 requests, v1 events), so the link is the
``Connection`` itself plus the two answers the session asks of every link: v1 has no batch
(the rows of one go out as one ``addOrder`` each), and ownTrades reports every fill only when
subscribed with ``consolidate_taker=false``. With ``ratecounter=True`` (a pacing session) an
openOrders subscribe that leaves ``ratecounter`` unset asks for it, so that the ack carries
``maxratecount`` and the order records ``ratecount`` from the first subscribe on.
"""

from __future__ import annotations

from collections.abc import Sequence

from kraken_proto._connection_state import (
    ConnectionConfig,
    ConnectionState,
    ConnectionTrigger,
    SubscriptionState,
)
from kraken_proto._errors import LocalProtocolError, RemoteProtocolError
from kraken_proto._request_base import Request, replace_request
from kraken_proto.v1._connection import Connection
from kraken_proto.v1._decode import decode
from kraken_proto.v1._events import OpenOrders, OwnTrades
from kraken_proto.v1._requests import AddOrder, Subscribe

__all__ = ["V1Link"]

# Module-level aliases: loading an enum member costs ~75 ns, and these are read per frame.
_OPEN, _CLOSING = ConnectionState.OPEN, ConnectionState.CLOSING
_ACTIVE = SubscriptionState.ACTIVE


class V1Link(Connection):
    """A v1 ``Connection`` that is also a session ``Link``; everything else is the
    ``Connection``'s own, unchanged (the per-frame path costs nothing more)."""

    __slots__ = ("_ratecounter",)

    def __init__(
        self, config: ConnectionConfig | None = None, *, ratecounter: bool = False
    ) -> None:
        super().__init__(config)
        self._ratecounter = ratecounter

    def send(self, request: Request, now: float) -> int:
        """``Connection.send``; with ``ratecounter``, an openOrders ``Subscribe`` whose
        ``ratecounter`` is None goes out with ``ratecounter=True``."""
        if (
            self._ratecounter
            and isinstance(request, Subscribe)
            and request.name == "openOrders"
            and request.ratecounter is None
        ):
            request = replace_request(request, ratecounter=True)
        return super().send(request, now)

    def receive_data(self, text: str | bytes, now: float) -> OpenOrders | OwnTrades | None:
        """``receive_message``, except that the usual frame (the next one of an active
        subscription) is returned instead of reported as a ``ChannelUpdate``: the session
        applies it at once, with no event built, listed and drained per frame. Returns None
        for every other frame (its events are in ``events_received()`` as usual); a returned
        frame reported nothing else and queued nothing to send."""
        # ``Connection.receive_message`` written out (the session's per-frame path), with the
        # same checks in the same order.
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
        if type(event) is OpenOrders or type(event) is OwnTrades:
            record = self._subscriptions.get(event.channel_name)
            if record is not None:
                expected = record.next_sequence
                if event.sequence == expected and expected is not None and record.state is _ACTIVE:
                    record.next_sequence = expected + 1
                    return event
        self._received(event, now)
        return None

    @property
    def reports_unconsolidated_fills(self) -> bool:
        """True when this connection subscribed to ownTrades with ``consolidate_taker=false``
        (then each fill is its own trade); False otherwise, as Kraken consolidates by default."""
        record = self._subscriptions.get("ownTrades")
        return record is not None and record.request.consolidate_taker is False

    def send_batch(
        self, orders: Sequence[AddOrder], now: float
    ) -> tuple[int | LocalProtocolError, ...]:
        """Send each row as its own ``addOrder``, in order, at ``now``; never raises. Returns
        per row its reqid, or the ``LocalProtocolError`` that kept that row from going out
        (the system status may allow some rows and not others)."""
        sent: list[int | LocalProtocolError] = []
        for order in orders:
            try:
                sent.append(self.send(order, now))
            except LocalProtocolError as error:
                sent.append(error)
        return tuple(sent)
