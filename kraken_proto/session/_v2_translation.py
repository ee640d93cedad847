"""v1 trading requests as v2 requests, and v2 replies as the v1 status events (pure).

The :class:`~kraken_proto.Session` takes the same requests whichever protocol it speaks; over
v2 each one is translated here before it is sent (field names after the v1 -> v2 table of
``kraken-ws-v2.md`` section 7), and each v2 reply is translated back into the v1 status event
that request gets over v1, so ``RequestAccepted.replies`` look the same to the caller.

What v2 cannot express raises ``LocalProtocolError`` naming the field (the session then ends
the request as refused before sending, and nothing goes out): ``leverage`` (v2 has only
``margin=True``, the pair's maximum), relative price strings such as ``+1.5``, ``#2`` or
``5%``, an ``EditOrder`` of ``price2`` or by ``userref``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from kraken_proto._errors import LocalProtocolError
from kraken_proto._event_base import Event
from kraken_proto._request_base import Request, replace_request
from kraken_proto.v1._events import (
    AddOrderStatus,
    AmendOrderStatus,
    CancelAllOrdersAfterStatus,
    CancelAllStatus,
    CancelOrderStatus,
    EditOrderStatus,
)
from kraken_proto.v1._requests import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Ping,
    ScheduleTime,
)
from kraken_proto.v2 import _requests as v2
from kraken_proto.v2._events import (
    AddOrderReply,
    AmendOrderReply,
    BatchAddReply,
    CancelAllOrdersAfterReply,
    CancelAllReply,
    CancelOrderReply,
    EditOrderReply,
    MethodReply,
)

__all__ = [
    "to_v1_batch_statuses",
    "to_v1_reply",
    "to_v2_add_order",
    "to_v2_batch_add",
    "to_v2_request",
    "unix_to_rfc3339",
    "v2_symbol",
]

# Order types whose v1 ``price`` is the trigger price (``price2``, if any, the limit).
_TRIGGERED = frozenset(
    {
        "stop-loss",
        "take-profit",
        "trailing-stop",
        "stop-loss-limit",
        "take-profit-limit",
        "trailing-stop-limit",
    }
)


def v2_symbol(pair: str) -> str:
    """v2's name for a v1 pair: ``XBT`` is ``BTC`` and ``XDG`` is ``DOGE`` on either side."""
    names = {"XBT": "BTC", "XDG": "DOGE"}
    return "/".join(names.get(part, part) for part in pair.split("/"))


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """The proleptic Gregorian date ``days`` after 1970-01-01 (H. Hinnant's algorithm)."""
    days += 719468
    era = days // 146097
    day_of_era = days - era * 146097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + (3 if month_index < 10 else -9)
    return year_of_era + era * 400 + (month <= 2), month, day


def unix_to_rfc3339(seconds: int) -> str:
    """Whole unix seconds as RFC 3339 UTC text (``2023-09-22T10:33:05Z``)."""
    days, rest = divmod(seconds, 86400)
    year, month, day = _civil_from_days(days)
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"


def _time(value: ScheduleTime | None, now: float) -> str | None:
    """v1's ``0`` / ``+<n>`` / unix time as v2's RFC 3339 text (``None``: not sent)."""
    if value is None or str(value) == "0":
        return None
    text = str(value)
    if text.startswith("+"):
        return unix_to_rfc3339(int(now) + int(text[1:]))
    return unix_to_rfc3339(int(text))


def _absolute(name: str, value: Decimal | str | None) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    raise LocalProtocolError(
        f"{name}: the relative price {value!r} has no v2 form through the session; "
        "give an absolute Decimal price (or use kraken_proto.v2 directly)"
    )


def to_v2_add_order(request: AddOrder, now: float) -> v2.AddOrder:
    """The v2 ``add_order`` of a v1 ``AddOrder`` (see ``to_v2_request``)."""
    if request.leverage is not None:
        raise LocalProtocolError(
            "leverage: v2 has no leverage field; use margin=True (the pair's maximum leverage)"
        )
    flags = request.oflags
    price = _absolute("price", request.price)
    price2 = _absolute("price2", request.price2)
    triggers: v2.Triggers | None = None
    limit_price = price
    if request.ordertype in _TRIGGERED:
        triggers = None if price is None else v2.Triggers(price=price)
        limit_price = price2
    conditional: v2.Conditional | None = None
    if request.close_ordertype is not None:
        close_price = _absolute("close_price", request.close_price)
        close_price2 = _absolute("close_price2", request.close_price2)
        if request.close_ordertype in _TRIGGERED:
            conditional = v2.Conditional(
                order_type=request.close_ordertype,
                trigger_price=close_price,
                limit_price=close_price2,
            )
        else:
            conditional = v2.Conditional(
                order_type=request.close_ordertype, limit_price=close_price
            )
    quote_volume = "viqc" in flags
    fee_preference: Literal["base", "quote"] | None = None
    if "fcib" in flags:
        fee_preference = "base"
    elif "fciq" in flags:
        fee_preference = "quote"
    return v2.AddOrder(
        order_type=request.ordertype,
        side=request.type,
        symbol=v2_symbol(request.pair),
        order_qty=None if quote_volume else request.volume,
        cash_order_qty=request.volume if quote_volume else None,
        limit_price=limit_price,
        triggers=triggers,
        time_in_force=None if request.timeinforce is None else _TIF[request.timeinforce],
        effective_time=_time(request.starttm, now),
        expire_time=_time(request.expiretm, now),
        deadline=request.deadline,
        margin=request.margin,
        post_only=True if "post" in flags else None,
        reduce_only=request.reduce_only,
        stp_type=request.stp_type,
        cl_ord_id=request.cl_ord_id,
        order_userref=request.userref,
        conditional=conditional,
        fee_preference=fee_preference,
        sender_sub_id=request.sender_sub_id,
        validate=True if request.validate else None,
    )


_TIF: dict[str, Literal["gtc", "gtd", "ioc"]] = {"GTC": "gtc", "GTD": "gtd", "IOC": "ioc"}


def _edit_order(request: EditOrder) -> v2.EditOrder:
    if not isinstance(request.orderid, str):
        raise LocalProtocolError("orderid: v2 edit_order needs the order's txid, not a userref")
    if request.price2 is not None:
        raise LocalProtocolError("price2: v2 edit_order has no secondary price")
    flags = request.oflags or frozenset()
    return v2.EditOrder(
        order_id=request.orderid,
        symbol=v2_symbol(request.pair),
        order_qty=request.volume,
        limit_price=request.price,
        post_only=True if "post" in flags else None,
        order_userref=request.newuserref,
        validate=True if request.validate else None,
    )


def _amend_order(request: AmendOrder) -> v2.AmendOrder:
    return v2.AmendOrder(
        order_id=request.txid,
        cl_ord_id=request.cl_ord_id,
        order_qty=request.volume,
        display_qty=request.display_volume,
        limit_price=_absolute("limit_price", request.limit_price),
        trigger_price=_absolute("trigger_price", request.trigger_price),
        post_only=request.post_only,
        deadline=request.deadline,
        symbol=None if request.pair is None else v2_symbol(request.pair),
    )


def to_v2_request(request: Request, now: float) -> v2.V2Request:
    """The v2 request that does what the v1 trading ``request`` does (``now``: for v1's
    relative ``+<n>`` times). Raises ``LocalProtocolError`` for what v2 cannot express and
    for requests other than the trading ones and ``Ping``."""
    if isinstance(request, AddOrder):
        return to_v2_add_order(request, now)
    if isinstance(request, EditOrder):
        return _edit_order(request)
    if isinstance(request, AmendOrder):
        return _amend_order(request)
    if isinstance(request, CancelOrder):
        return v2.CancelOrder(
            order_id=request.txid, cl_ord_id=request.cl_ord_id, order_userref=request.userref
        )
    if isinstance(request, CancelAll):
        return v2.CancelAll()
    if isinstance(request, CancelAllOrdersAfter):
        return v2.CancelAllOrdersAfter(timeout=request.timeout)
    if isinstance(request, Ping):
        return v2.Ping()
    raise LocalProtocolError(f"send: {type(request).__name__} has no v2 translation")


def to_v2_batch_add(orders: Sequence[AddOrder], now: float) -> v2.BatchAdd:
    """One ``batch_add`` of v1 ``AddOrder`` rows. ``deadline`` and ``validate`` belong to the
    batch, so they must be the same on every row; raises ``LocalProtocolError`` naming the field
    that differs, and for whatever ``to_v2_add_order`` or ``v2.BatchAdd`` refuses."""
    shared: dict[str, object] = {}
    for name in ("deadline", "validate"):
        values = {getattr(order, name) for order in orders}
        if len(values) > 1:
            raise LocalProtocolError(f"{name}: must be the same for every row of a batch")
        shared[name] = next(iter(values), None)
    rows = tuple(
        replace_request(to_v2_add_order(order, now), deadline=None, validate=None)
        for order in orders
    )
    deadline = shared["deadline"]
    return v2.BatchAdd(
        orders=rows,
        deadline=deadline if isinstance(deadline, str) else None,
        validate=True if shared["validate"] else None,
    )


def to_v1_batch_statuses(
    reply: Event | None, rows: tuple[tuple[int, AddOrder], ...]
) -> list[AddOrderStatus | None]:
    """Each row's ``AddOrderStatus`` from a ``batch_add`` reply, ``rows`` being each row's
    (reqid, request); ``None`` for a row the reply does not answer. Rows are matched by
    ``cl_ord_id`` when the reply carries it, else by position."""
    answered = reply.rows if isinstance(reply, BatchAddReply) else ()
    by_cl_ord_id = {row.cl_ord_id: row for row in answered if row.cl_ord_id is not None}
    statuses: list[AddOrderStatus | None] = []
    for index, (reqid, order) in enumerate(rows):
        row = by_cl_ord_id.get(order.cl_ord_id or "")
        if row is None and index < len(answered) and answered[index].cl_ord_id is None:
            row = answered[index]
        if row is None or (row.error is None and row.order_id is None):
            statuses.append(None)
        elif row.error is not None:
            statuses.append(AddOrderStatus(status="error", reqid=reqid, error_message=row.error))
        else:
            statuses.append(
                AddOrderStatus(status="ok", reqid=reqid, txid=row.order_id, cl_ord_id=row.cl_ord_id)
            )
    return statuses


def to_v1_reply(reply: Event, reqid: int) -> Event:
    """The v1 status event a v2 method reply stands for (other events are returned as is)."""
    if not isinstance(reply, MethodReply):
        return reply
    status = "ok" if reply.ok else "error"
    error = None if reply.ok else (reply.error_message or "success false")
    if isinstance(reply, AddOrderReply):
        added = reply.result
        return AddOrderStatus(
            status=status,
            reqid=reqid,
            error_message=error,
            txid=None if added is None else added.order_id,
            cl_ord_id=None if added is None else added.cl_ord_id,
        )
    if isinstance(reply, EditOrderReply):
        edited = reply.result
        return EditOrderStatus(
            status=status,
            reqid=reqid,
            error_message=error,
            txid=None if edited is None else edited.order_id,
            originaltxid=None if edited is None else edited.original_order_id,
        )
    if isinstance(reply, AmendOrderReply):
        amended = reply.result
        return AmendOrderStatus(
            status=status,
            reqid=reqid,
            error_message=error,
            amend_id=None if amended is None else amended.amend_id,
            txid=None if amended is None else amended.order_id,
            cl_ord_id=None if amended is None else amended.cl_ord_id,
        )
    if isinstance(reply, CancelOrderReply):
        return CancelOrderStatus(status=status, reqid=reqid, error_message=error)
    if isinstance(reply, CancelAllReply):
        counted = reply.result
        return CancelAllStatus(
            status=status,
            reqid=reqid,
            error_message=error,
            count=None if counted is None else counted.count,
        )
    if isinstance(reply, CancelAllOrdersAfterReply):
        timer = reply.result
        return CancelAllOrdersAfterStatus(
            status=status,
            reqid=reqid,
            error_message=error,
            current_time=None if timer is None else timer.current_time,
            trigger_time=None if timer is None else timer.trigger_time,
        )
    return reply
