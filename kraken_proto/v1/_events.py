"""Incoming events: frozen, typed, eagerly parsed.

Record fields (trades, orders, ``descr``) carry Kraken's wire names. Envelope fields use
Python names mapped from the wire (``connectionID`` -> ``connection_id``,
``errorMessage`` -> ``error_message``, ``channelName`` -> ``channel_name``).
Every money, volume and timestamp field is a ``Decimal`` holding exactly the digits Kraken
sent; it is declared ``KrakenNumber`` so that ``decode`` accepts only Kraken's number text
there (``kraken_proto._numbers``). Fields that Kraken sometimes leaves out or sends as ``null``
are ``None``; so is a number, boolean or object field sent as ``""`` (a text field sent as
``""`` stays ``""``).
Unknown extra fields are ignored, so new Kraken fields never break decoding.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from kraken_proto._event_base import Event, KrakenError, UnknownMessage
from kraken_proto._numbers import KrakenFreshNumber, KrakenNumber
from kraken_proto._repr import struct_repr

__all__ = [
    "AddOrderStatus",
    "AmendOrderStatus",
    "CancelAllOrdersAfterStatus",
    "CancelAllStatus",
    "CancelOrderStatus",
    "Contingent",
    "EditOrderStatus",
    "ErrorEvent",
    "Event",
    "Heartbeat",
    "KrakenError",
    "OpenOrders",
    "OrderDescr",
    "OrderRecord",
    "OwnTrades",
    "PingStatus",
    "Pong",
    "StatusEvent",
    "SubscriptionInfo",
    "SubscriptionStatus",
    "SystemStatus",
    "Trade",
    "UnknownMessage",
]

# --- control events (tagged by their "event" field) -------------------------------------


class SystemStatus(Event, frozen=True, kw_only=True, tag_field="event", tag="systemStatus"):
    """Trading engine status, sent on connect and on every change."""

    status: str
    connection_id: int | None = msgspec.field(name="connectionID", default=None)
    version: str | None = None


class Heartbeat(Event, frozen=True, kw_only=True, tag_field="event", tag="heartbeat"):
    """Sent about once a second while subscribed and otherwise idle."""


class Pong(Event, frozen=True, kw_only=True, tag_field="event", tag="pong"):
    """Answer to a ``Ping``; ``reqid`` echoes the ping's."""

    reqid: int | None = None


class StatusEvent(Event, frozen=True, kw_only=True, tag_field="event"):
    """Common shape of replies that carry ``status`` ("ok"/"error") and an optional error."""

    status: str
    reqid: int | None = None
    error_message: str | None = msgspec.field(name="errorMessage", default=None)

    @property
    def ok(self) -> bool:
        """True when Kraken accepted the request."""
        return self.status != "error" and self.error_message is None

    @property
    def error(self) -> KrakenError | None:
        """The parsed error, or ``None`` when there is none."""
        return None if self.error_message is None else KrakenError.parse(self.error_message)


class SubscriptionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """The ``subscription`` object of a ``subscriptionStatus`` (never holds the token)."""

    name: str | None = None
    maxratecount: int | None = None
    snapshot: bool | None = None
    consolidate_taker: bool | None = None
    ratecounter: bool | None = None
    rebased: bool | None = None


class SubscriptionStatus(StatusEvent, frozen=True, kw_only=True, tag="subscriptionStatus"):
    """Reply to subscribe/unsubscribe. ``status`` is subscribed, unsubscribed or error.

    Kraken also uses this event for request-level errors (``Event(s) not found``), in which
    case ``channel_name`` may be ``None``.
    """

    channel_name: str | None = msgspec.field(name="channelName", default=None)
    subscription: SubscriptionInfo | None = None
    pair: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("subscribed", "unsubscribed", "ok") and self.error_message is None


class AddOrderStatus(StatusEvent, frozen=True, kw_only=True, tag="addOrderStatus"):
    """Reply to ``addOrder``: the new ``txid`` and a ``descr`` summary, or an error."""

    txid: str | None = None
    descr: str | None = None
    cl_ord_id: str | None = None


class EditOrderStatus(StatusEvent, frozen=True, kw_only=True, tag="editOrderStatus"):
    """Reply to ``editOrder``: the replacement ``txid`` and the ``originaltxid``."""

    txid: str | None = None
    originaltxid: str | None = None
    descr: str | None = None


class AmendOrderStatus(StatusEvent, frozen=True, kw_only=True, tag="amendOrderStatus"):
    """Reply to ``amendOrder``: ``amend_id`` and the order's ``txid``/``cl_ord_id``."""

    amend_id: str | None = None
    txid: str | None = None
    cl_ord_id: str | None = None


class CancelOrderStatus(StatusEvent, frozen=True, kw_only=True, tag="cancelOrderStatus"):
    """One reply per id of a ``cancelOrder``; Kraken does not echo which id it was."""


class CancelAllStatus(StatusEvent, frozen=True, kw_only=True, tag="cancelAllStatus"):
    """Reply to ``cancelAll`` with the number of orders cancelled."""

    count: int | None = None


class CancelAllOrdersAfterStatus(
    StatusEvent, frozen=True, kw_only=True, tag="cancelAllOrdersAfterStatus"
):
    """Reply to ``cancelAllOrdersAfter``. ``trigger_time`` is ``"0"`` when disarmed."""

    current_time: str | None = msgspec.field(name="currentTime", default=None)
    trigger_time: str | None = msgspec.field(name="triggerTime", default=None)


class ErrorEvent(Event, frozen=True, kw_only=True, tag_field="event", tag="error"):
    """A request-level error (``event: "error"``) such as ``Exceeded msg rate``.

    ``reqid`` is what the server echoed: an int, or the string a client sent in its place
    (another non-integer shape becomes ``None``).
    """

    error_message: str | None = msgspec.field(name="errorMessage", default=None)
    reqid: int | str | None = None
    status: str | None = None

    @property
    def error(self) -> KrakenError | None:
        """The parsed error, or ``None`` when there is none."""
        return None if self.error_message is None else KrakenError.parse(self.error_message)


class PingStatus(ErrorEvent, frozen=True, kw_only=True, tag="pingStatus"):
    """Error reply to a malformed ping (``event: "pingStatus"``)."""


# --- channel records ------------------------------------------------------------------------
# Field order is wire order. msgspec finds each key of an object by comparing it with the
# fields from the one after the previous key's field onwards, wrapping round at the end: a key
# sent in declaration order is found at the first compare, one sent out of order costs a pass
# over the fields in between (~1 ns each). Kraken v1 sends full records with their keys sorted
# (trades, a new order or a snapshot entry, and its ``descr``) and deltas in one fixed order
# (``lastupdated status vol_exec cost fee avg_price userref cancel_reason``, each delta a
# subsequence of it). ``Trade``, ``OrderDescr`` and ``Contingent`` are sorted; ``OrderRecord``
# follows the delta order, with the full record's other fields slotted in between so that a
# full record wraps round three times; fields no capture shows come last.
# tests/test_wire_field_order.py holds the captured key orders and these properties.


class Trade(msgspec.Struct, frozen=True, kw_only=True, gc=False, repr_omit_defaults=True):
    """One execution on the ownTrades channel, keyed by its trade id in the event."""

    __repr__ = struct_repr

    cl_ord_id: str | None = None
    cost: KrakenNumber | None = None
    ext_exec_id: str | None = None
    fee: KrakenNumber | None = None
    margin: KrakenNumber | None = None
    margin_borrow: bool | None = None
    ordertxid: str | None = None
    ordertype: str | None = None
    pair: str | None = None
    postxid: str | None = None
    price: KrakenNumber | None = None
    time: KrakenFreshNumber | None = None
    type: str | None = None
    userref: int | None = None
    vol: KrakenNumber | None = None


class OrderDescr(msgspec.Struct, frozen=True, kw_only=True, gc=False, repr_omit_defaults=True):
    """The ``descr`` object of an order record."""

    __repr__ = struct_repr

    close: str | None = None
    leverage: str | None = None
    margin: bool | None = None
    order: str | None = None
    ordertype: str | None = None
    pair: str | None = None
    position: str | None = None
    price: KrakenNumber | None = None
    price2: KrakenNumber | None = None
    type: str | None = None


class Contingent(msgspec.Struct, frozen=True, kw_only=True, gc=False, repr_omit_defaults=True):
    """A conditional close attached to an order."""

    __repr__ = struct_repr

    oflags: str | None = None
    ordertype: str | None = None
    price: KrakenNumber | None = None
    price2: KrakenNumber | None = None


# Not kw_only, unlike its siblings: ``OrderTable`` builds each new ``Order`` (a subclass) from
# a record's values in one positional call, about three times cheaper than field by field.
class OrderRecord(msgspec.Struct, frozen=True, gc=False, repr_omit_defaults=True):
    """An openOrders entry: a full record (snapshot, new order) or a partial delta.

    In a delta only the fields Kraken sent are set; the rest are ``None``. ``vol_exec``,
    ``cost``, ``fee`` and ``avg_price`` are cumulative totals, never increments.
    """

    __repr__ = struct_repr

    lastupdated: KrakenFreshNumber | None = None
    status: str | None = None
    stopprice: KrakenNumber | None = None
    timeinforce: str | None = None
    vol_exec: KrakenNumber | None = None
    cl_ord_id: str | None = None
    cost: KrakenNumber | None = None
    descr: OrderDescr | None = None
    expiretm: KrakenFreshNumber | None = None
    fee: KrakenNumber | None = None
    limitprice: KrakenNumber | None = None
    misc: str | None = None
    oflags: str | None = None
    opentm: KrakenFreshNumber | None = None
    refid: str | None = None
    starttm: KrakenFreshNumber | None = None
    avg_price: KrakenNumber | None = None
    userref: int | None = None
    vol: KrakenNumber | None = None
    cancel_reason: str | None = None
    ext_ord_id: str | None = None
    display_volume: KrakenNumber | None = None
    display_volume_remain: KrakenNumber | None = None
    contingent: Contingent | None = None
    price: KrakenNumber | None = None
    sender_sub_id: str | None = None
    amend_reason: str | None = None
    amended: bool | None = None
    ratecount: KrakenNumber | None = None
    trigger: str | None = None  # the price a stop/take-profit triggers on: "last" or "index"
    reduce_only: bool | None = None  # margin orders only


# --- channel events ---------------------------------------------------------------------------


# gc=False on the channel events (as on their records): they hold only tuples of ids and
# records, so they can never be part of a reference cycle, and skipping GC tracking makes
# building one cheaper on the hot path.
class OwnTrades(Event, frozen=True, kw_only=True, gc=False):
    """An ownTrades frame: ``(trade_id, Trade)`` pairs in wire order.

    ``sequence`` is the per-subscription counter (1 = snapshot), or ``None`` when the frame
    has no third element (very old service versions).
    """

    trades: tuple[tuple[str, Trade], ...]
    sequence: int | None = None

    channel_name: ClassVar[str] = "ownTrades"


class OpenOrders(Event, frozen=True, kw_only=True, gc=False):
    """An openOrders frame: ``(order_id, OrderRecord)`` pairs in wire order.

    The same id may appear twice in one frame; apply entries in order.
    """

    orders: tuple[tuple[str, OrderRecord], ...]
    sequence: int | None = None

    channel_name: ClassVar[str] = "openOrders"
