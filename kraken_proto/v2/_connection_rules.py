"""The policy ``V2Connection`` applies, apart from its state machine: its config (v2's
``keepalive_interval`` and ``req_id`` range), what each engine status lets through, how a
reply's error is read, and the record kept per subscription.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kraken_proto._connection_state import (
    ConnectionConfig,
    SubscriptionState,
)
from kraken_proto._errors import LocalProtocolError
from kraken_proto._event_base import Event, KrakenError, UnknownMessage

from ._events import BatchAddReply, MethodReply
from ._requests import (
    MAX_REQ_ID,
    AddOrder,
    AmendOrder,
    BatchAdd,
    BatchCancel,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Subscribe,
    V2Request,
)

_DEFAULT_KEEPALIVE = 20.0


@dataclass(frozen=True, slots=True, kw_only=True)
class V2ConnectionConfig(ConnectionConfig):
    """``ConnectionConfig`` plus v2's ``keepalive_interval``: send a ``Ping`` after this many
    seconds without sending anything (Kraken closes a connection silent for about a minute).

    ``first_reqid`` must be a positive int32 here (v2 ``req_id``). Raises
    ``LocalProtocolError`` naming the bad field.
    """

    keepalive_interval: float = 20.0  # = _DEFAULT_KEEPALIVE

    def __post_init__(self) -> None:
        ConnectionConfig.__post_init__(self)
        _check_v2_fields(self.first_reqid, self.keepalive_interval)


def _check_v2_fields(first_reqid: int, keepalive_interval: object) -> None:
    if not 1 <= first_reqid <= MAX_REQ_ID:
        raise LocalProtocolError("first_reqid: a v2 req_id must be from 1 to 2**31-1")
    if (
        isinstance(keepalive_interval, bool)
        or not isinstance(keepalive_interval, int | float)
        or not math.isfinite(keepalive_interval)
        or keepalive_interval <= 0
    ):
        raise LocalProtocolError("keepalive_interval: must be a finite number of seconds > 0")


_ORDER_ENTRY = (AddOrder, AmendOrder, EditOrder, BatchAdd)
_CANCELS = (CancelOrder, CancelAll, BatchCancel, CancelAllOrdersAfter)


def _no_trading(request: V2Request) -> bool:
    return not isinstance(request, _ORDER_ENTRY + _CANCELS[:3])


def _no_order_entry(request: V2Request) -> bool:
    return not isinstance(request, _ORDER_ENTRY)


def _is_post_only(order: AddOrder) -> bool:
    return order.post_only is True and order.order_type in ("limit", "iceberg")


def _post_only_entry(request: V2Request) -> bool:
    if isinstance(request, AddOrder):
        return _is_post_only(request)
    if isinstance(request, BatchAdd):
        return all(_is_post_only(order) for order in request.orders)
    if isinstance(request, AmendOrder | EditOrder):
        return request.post_only is True
    return True


# What each engine status allows, as (predicate, what is allowed). ``online`` and any status
# not listed allow everything: the server has the last word.
_STATUS_GATES = {
    "maintenance": (_no_trading, "no order entry and no cancels (only the dead man's switch)"),
    "cancel_only": (
        _no_order_entry,
        "only cancels (CancelOrder, CancelAll, BatchCancel, CancelAllOrdersAfter)",
    ),
    "post_only": (
        _post_only_entry,
        "only post-only limit orders (post_only=True), post-only amends and edits, and cancels",
    ),
}


def _error_of(event: MethodReply) -> KrakenError | None:
    """The error a reply carries, or None for a success. A failed batch without a top-level
    error is named by its first refused row."""
    if event.ok:
        return None
    if isinstance(event, BatchAddReply) and event.error_message is None:
        for row in event.rows:
            if row.error is not None:
                return KrakenError.parse(row.error)
    return event.error


def _says(error: KrakenError, words: str) -> bool:
    """True when the error text contains ``words`` (any case): ``Already subscribed``,
    ``Subscription Not Found``."""
    return words in error.text.lower()


def _unknown_error(event: UnknownMessage) -> tuple[int, KrakenError] | None:
    """``(req_id, error)`` for an error reply to a method this library does not know."""
    data = event.data
    if type(data) is not dict:
        return None
    req_id, error = data.get("req_id"), data.get("error")
    if type(req_id) is int and type(error) is str:
        return req_id, KrakenError.parse(error)
    return None


def _reply_error(event: Event) -> KrakenError | None:
    """The error of a reply kept for a request: a ``MethodReply`` or an unknown error reply."""
    if isinstance(event, MethodReply):
        return _error_of(event)
    unknown = _unknown_error(event) if isinstance(event, UnknownMessage) else None
    return None if unknown is None else unknown[1]


@dataclass(slots=True)
class _Subscription:
    request: Subscribe
    state: SubscriptionState
    awaiting_first_frame: bool = False
    next_sequence: int | None = None
    after_gap: bool = False
    resync_queued: bool = False
