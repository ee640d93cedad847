"""The policy ``Connection`` applies, apart from its state machine: which reply class each
request gets, what each system status lets through, how a reply's error is read, and the
record kept per subscription.
"""

from __future__ import annotations

from dataclasses import dataclass

from kraken_proto._connection_state import (
    SubscriptionState,
)
from kraken_proto._event_base import Event, KrakenError
from kraken_proto._request_base import Request

from ._events import (
    AddOrderStatus,
    AmendOrderStatus,
    CancelAllOrdersAfterStatus,
    CancelAllStatus,
    CancelOrderStatus,
    EditOrderStatus,
    ErrorEvent,
    Pong,
    StatusEvent,
    SubscriptionStatus,
)
from ._requests import (
    AddOrder,
    AmendOrder,
    EditOrder,
    Subscribe,
)

# The reply class each request's ``response_event`` names.
_REPLY_CLASS: dict[str, type[Event]] = {
    "subscriptionStatus": SubscriptionStatus,
    "pong": Pong,
    "addOrderStatus": AddOrderStatus,
    "editOrderStatus": EditOrderStatus,
    "amendOrderStatus": AmendOrderStatus,
    "cancelOrderStatus": CancelOrderStatus,
    "cancelAllStatus": CancelAllStatus,
    "cancelAllOrdersAfterStatus": CancelAllOrdersAfterStatus,
}

_ORDER_ENTRY = (AddOrder, EditOrder, AmendOrder)
_REPLY_EVENTS = (StatusEvent, ErrorEvent, Pong)


def _no_order_entry(request: Request) -> bool:
    return not isinstance(request, _ORDER_ENTRY)


def _post_only_entry(request: Request) -> bool:
    if isinstance(request, AddOrder):
        return request.ordertype == "limit" and "post" in request.oflags
    if isinstance(request, EditOrder):
        return request.oflags is not None and "post" in request.oflags
    if isinstance(request, AmendOrder):
        return request.post_only is True
    return True


def _limit_only_entry(request: Request) -> bool:
    return not isinstance(request, AddOrder) or request.ordertype == "limit"


# What each system status allows, as (predicate, what is allowed). Statuses not listed (online,
# and any new one) allow everything: the server has the last word.
_STATUS_GATES = {
    "maintenance": (_no_order_entry, "no AddOrder, EditOrder or AmendOrder"),
    "cancel_only": (_no_order_entry, "only cancels (CancelOrder, CancelAll, CancelAllOrdersAfter)"),
    "post_only": (
        _post_only_entry,
        "only post-only orders: limit AddOrder and EditOrder with the 'post' flag, "
        "AmendOrder with post_only=True, and cancels",
    ),
    "limit_only": (_limit_only_entry, "only limit AddOrders, edits, amends and cancels"),
}


def _already(error: KrakenError) -> bool:
    """True for Kraken's "Already subscribed": the server holds the subscription."""
    return "already subscribed" in error.text.lower()


def _error_of(event: Event) -> KrakenError | None:
    """The error a reply carries, or None for a success."""
    if isinstance(event, StatusEvent):
        if event.ok:
            return None
        return event.error or KrakenError.parse(f"status {event.status}")
    if isinstance(event, ErrorEvent):
        return event.error or KrakenError.parse("error")
    return None


@dataclass(slots=True)
class _Subscription:
    request: Subscribe
    state: SubscriptionState
    awaiting_first_frame: bool = False
    next_sequence: int | None = None
    after_gap: bool = False
    resync_queued: bool = False
    # The subscribe in flight (PENDING, or RESYNCING after its resubscribe was queued) and
    # whether it is already the second try after a timeout.
    subscribe_sent: bool = False
    confirming: bool = False

    @property
    def expects_snapshot(self) -> bool:
        return self.request.snapshot is not False
