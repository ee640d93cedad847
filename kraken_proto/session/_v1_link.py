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

from kraken_proto._connection_state import ConnectionConfig
from kraken_proto._errors import LocalProtocolError
from kraken_proto._request_base import Request, replace_request
from kraken_proto.v1._connection import Connection
from kraken_proto.v1._requests import AddOrder, Subscribe

__all__ = ["V1Link"]


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

    # The link's ``receive_data`` (the usual frame returned for the session to apply at once,
    # with no event built, listed and drained per frame) is the connection's own
    # ``receive_update``, under the name every ``Link`` has.
    receive_data = Connection.receive_update

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
