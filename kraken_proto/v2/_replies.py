"""Replies to v2 methods: one frozen struct per method, tagged by ``method``.

Field names are Kraken's v2 names, except that a reply's ``error`` string is
``error_message`` (``error`` is the parsed ``KrakenError``, as in v1) and
``cancel_all_orders_after``'s camelCase ``currentTime``/``triggerTime`` are
``current_time``/``trigger_time``. Absent fields are ``None``; unknown fields are ignored.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from kraken_proto._event_base import Event, KrakenError

__all__ = [
    "AddOrderReply",
    "AddOrderResult",
    "AmendOrderReply",
    "AmendOrderResult",
    "BatchAddOrders",
    "BatchAddReply",
    "BatchAddRow",
    "BatchCancelReply",
    "BatchCancelResult",
    "CancelAllOrdersAfterReply",
    "CancelAllOrdersAfterResult",
    "CancelAllReply",
    "CancelOrderReply",
    "CancelOrderResult",
    "CountResult",
    "EditOrderReply",
    "EditOrderResult",
    "ErrorReply",
    "MethodReply",
    "Pong",
    "PongResult",
    "SubscribeReply",
    "SubscribeResult",
    "UnsubscribeReply",
]

_Warnings = tuple[str, ...] | None


class MethodReply(Event, frozen=True, kw_only=True, tag_field="method"):
    """Common shape of every reply to a method: ``success`` and ``result``, or ``error``.

    ``req_id`` echoes the request's (``None`` when it had none); ``time_in``/``time_out`` are
    when the server received the request and sent the reply.
    """

    req_id: int | None = None
    success: bool | None = None
    error_message: str | None = msgspec.field(name="error", default=None)
    time_in: str | None = None
    time_out: str | None = None

    method_name: ClassVar[str]

    @property
    def ok(self) -> bool:
        """True when Kraken accepted the request (``success`` true and no error)."""
        return self.success is True and self.error_message is None

    @property
    def error(self) -> KrakenError | None:
        """The parsed error; ``None`` on success. A failure without text says ``success false``."""
        if self.error_message is not None:
            return KrakenError.parse(self.error_message)
        if self.success is True:
            return None
        return KrakenError.parse("success false")


class SubscribeResult(msgspec.Struct, frozen=True, kw_only=True, repr_omit_defaults=True):
    """The ``result`` of a subscribe or unsubscribe ack (never holds the token)."""

    channel: str | None = None
    maxratecount: int | None = None
    snap_orders: bool | None = None
    snap_trades: bool | None = None
    order_status: bool | None = None
    ratecounter: bool | None = None
    snapshot: bool | None = None
    rebased: bool | None = None
    users: str | None = None
    warnings: _Warnings = None


class SubscribeReply(MethodReply, frozen=True, kw_only=True, tag="subscribe"):
    """Reply to ``subscribe``; ``result.maxratecount`` is the tier's rate ceiling."""

    result: SubscribeResult | None = None
    method_name: ClassVar[str] = "subscribe"

    @property
    def channel(self) -> str | None:
        """The channel acknowledged (or ``None`` on an error without a result)."""
        return None if self.result is None else self.result.channel


class UnsubscribeReply(MethodReply, frozen=True, kw_only=True, tag="unsubscribe"):
    """Reply to ``unsubscribe``."""

    result: SubscribeResult | None = None
    method_name: ClassVar[str] = "unsubscribe"

    @property
    def channel(self) -> str | None:
        """The channel unsubscribed (or ``None`` on an error without a result)."""
        return None if self.result is None else self.result.channel


class AddOrderResult(msgspec.Struct, frozen=True, kw_only=True, repr_omit_defaults=True):
    """The new order's ids (``order_id`` is ``""`` for ``validate=True``)."""

    order_id: str | None = None
    cl_ord_id: str | None = None
    order_userref: int | None = None
    warnings: _Warnings = None


class AddOrderReply(MethodReply, frozen=True, kw_only=True, tag="add_order"):
    """Reply to ``add_order``."""

    result: AddOrderResult | None = None
    method_name: ClassVar[str] = "add_order"


class AmendOrderResult(msgspec.Struct, frozen=True, kw_only=True, repr_omit_defaults=True):
    """``amend_id``, plus whichever of ``order_id``/``cl_ord_id`` the request used."""

    amend_id: str | None = None
    order_id: str | None = None
    cl_ord_id: str | None = None
    warnings: _Warnings = None


class AmendOrderReply(MethodReply, frozen=True, kw_only=True, tag="amend_order"):
    """Reply to ``amend_order``."""

    result: AmendOrderResult | None = None
    method_name: ClassVar[str] = "amend_order"


class EditOrderResult(msgspec.Struct, frozen=True, kw_only=True, repr_omit_defaults=True):
    """The replacement's ``order_id`` and the ``original_order_id``."""

    order_id: str | None = None
    original_order_id: str | None = None
    warnings: _Warnings = None


class EditOrderReply(MethodReply, frozen=True, kw_only=True, tag="edit_order"):
    """Reply to ``edit_order``."""

    result: EditOrderResult | None = None
    method_name: ClassVar[str] = "edit_order"


class CancelOrderResult(msgspec.Struct, frozen=True, kw_only=True, repr_omit_defaults=True):
    """Which order this one of the per-id replies is about."""

    order_id: str | None = None
    cl_ord_id: str | None = None
    order_userref: int | None = None
    warnings: _Warnings = None


class CancelOrderReply(MethodReply, frozen=True, kw_only=True, tag="cancel_order"):
    """One reply per id of a ``cancel_order``, all with the request's ``req_id``."""

    result: CancelOrderResult | None = None
    method_name: ClassVar[str] = "cancel_order"


class CountResult(msgspec.Struct, frozen=True, kw_only=True, repr_omit_defaults=True):
    """How many orders were cancelled."""

    count: int | None = None
    warnings: _Warnings = None


class CancelAllReply(MethodReply, frozen=True, kw_only=True, tag="cancel_all"):
    """Reply to ``cancel_all``."""

    result: CountResult | None = None
    method_name: ClassVar[str] = "cancel_all"


class CancelAllOrdersAfterResult(
    msgspec.Struct, frozen=True, kw_only=True, repr_omit_defaults=True
):
    """Server time and when the switch fires (``"0"`` or absent when disarmed)."""

    current_time: str | None = msgspec.field(name="currentTime", default=None)
    trigger_time: str | None = msgspec.field(name="triggerTime", default=None)
    warnings: _Warnings = None


class CancelAllOrdersAfterReply(
    MethodReply, frozen=True, kw_only=True, tag="cancel_all_orders_after"
):
    """Reply to ``cancel_all_orders_after``."""

    result: CancelAllOrdersAfterResult | None = None
    method_name: ClassVar[str] = "cancel_all_orders_after"


class BatchAddRow(msgspec.Struct, frozen=True, kw_only=True, repr_omit_defaults=True):
    """One order of a ``batch_add`` reply, in request order; ``error`` set if it was refused."""

    order_id: str | None = None
    cl_ord_id: str | None = None
    order_userref: int | None = None
    success: bool | None = None
    error: str | None = None
    warnings: _Warnings = None

    @property
    def ok(self) -> bool:
        """True unless this row carries an error or ``success: false``."""
        return self.error is None and self.success is not False


class BatchAddOrders(msgspec.Struct, frozen=True, kw_only=True, repr_omit_defaults=True):
    """The ``{"orders": [...]}`` shape of a ``batch_add`` result (Nautilus's fixtures)."""

    orders: tuple[BatchAddRow, ...] = ()
    warnings: _Warnings = None


class BatchAddReply(MethodReply, frozen=True, kw_only=True, tag="batch_add"):
    """Reply to ``batch_add``. ``result`` is an array of rows (Kraken's docs and SDK) or an
    ``{"orders": [...]}`` object (Nautilus); :attr:`rows` reads either.

    A partly placed batch can come as ``success: false`` with rows that still carry their
    ``order_id``, or as ``success: true`` with refused rows: check every row either way
    (``V2Connection`` ends the first as ``RequestFailed``, the second as ``RequestCompleted``).
    """

    result: tuple[BatchAddRow, ...] | BatchAddOrders | None = None
    method_name: ClassVar[str] = "batch_add"

    @property
    def rows(self) -> tuple[BatchAddRow, ...]:
        """The per-order rows in request order (empty when the reply carries none)."""
        if isinstance(self.result, BatchAddOrders):
            return self.result.orders
        return () if self.result is None else self.result


class BatchCancelResult(msgspec.Struct, frozen=True, kw_only=True, repr_omit_defaults=True):
    """How many orders a ``batch_cancel`` cancelled (``count``), and ``orders_cancelled`` kept
    as sent when Kraken adds it (Kraken's docs name only ``count``; the field has been seen
    without a documented shape, so a number and a list of ids are both kept)."""

    count: int | None = None
    orders_cancelled: int | tuple[str, ...] | None = None
    warnings: _Warnings = None


class BatchCancelReply(MethodReply, frozen=True, kw_only=True, tag="batch_cancel"):
    """Reply to ``batch_cancel``."""

    result: BatchCancelResult | None = None
    method_name: ClassVar[str] = "batch_cancel"


class PongResult(msgspec.Struct, frozen=True, kw_only=True, repr_omit_defaults=True):
    """A pong's optional ``result``."""

    warnings: _Warnings = None


class Pong(MethodReply, frozen=True, kw_only=True, tag="pong"):
    """Answer to a ``Ping`` (``method: "pong"``); it carries no ``success`` field."""

    result: PongResult | None = None
    method_name: ClassVar[str] = "pong"

    @property
    def ok(self) -> bool:
        return self.error_message is None

    @property
    def error(self) -> KrakenError | None:
        return None if self.error_message is None else KrakenError.parse(self.error_message)


class ErrorReply(MethodReply, frozen=True, kw_only=True, tag="error"):
    """An error answer to a request that has no reply of its own to carry it.

    Two shapes: ``{"error":"Malformed request","method":"error","success":false,...}`` (a
    message Kraken could not read as a request; ``req_id`` absent, since it could not read
    one), and an error naming a method without a reply class, such as a ``ping`` sent with
    ``params`` (``"method":"ping"``, ``"Unsupported field: 'params' ..."``). ``for_method`` is
    the ``method`` the frame named (``"error"`` for the first shape). ``ok`` is always False.
    ``V2Connection`` ends the pending request with this ``req_id`` as ``RequestFailed``; one
    without a (known) ``req_id`` is only delivered as an event.
    """

    for_method: str = "error"  # not a Kraken field: decode fills it in
    method_name: ClassVar[str] = "error"

    @property
    def ok(self) -> bool:
        return False
