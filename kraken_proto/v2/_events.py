"""Incoming WebSocket v2 events: frozen, typed, eagerly parsed.

The v2 sibling of ``_events``. Field names are Kraken's v2 names (already snake_case), except
that a reply's ``error`` string is ``error_message`` (``error`` is the parsed ``KrakenError``,
as in v1) and ``cancel_all_orders_after``'s camelCase ``currentTime``/``triggerTime`` are
``current_time``/``trigger_time``.

v2 sends prices and quantities as JSON numbers: every such field is a ``Decimal`` equal to the
digits sent, never read through a float (a quoted decimal string is accepted too, as some
channels send one). One limit: an integer ``-0`` reads as ``Decimal('0')`` (equal, sign lost),
because the JSON parser reads integer literals as ints. Timestamps are RFC 3339 strings,
kept as sent (Python's ``datetime`` cannot hold the nanoseconds some channels send).
``exec_type``, ``order_status`` and the other enumerations are plain strings, so a value
Kraken adds later decodes too. Absent fields are ``None``; unknown fields are ignored.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from kraken_proto._event_base import Event, KrakenError, UnknownMessage
from kraken_proto._numbers import KrakenNumber as Decimal  # Decimal; decode checks the text

__all__ = [
    "EXEC_TYPES",
    "ORDER_STATUSES",
    "AddOrderReply",
    "AddOrderResult",
    "AmendOrderReply",
    "AmendOrderResult",
    "BalanceRecord",
    "Balances",
    "BatchAddOrders",
    "BatchAddReply",
    "BatchAddRow",
    "BatchCancelReply",
    "CancelAllOrdersAfterReply",
    "CancelAllOrdersAfterResult",
    "CancelAllReply",
    "CancelOrderReply",
    "CancelOrderResult",
    "ChannelPush",
    "CountResult",
    "EditOrderReply",
    "EditOrderResult",
    "Execution",
    "ExecutionContingent",
    "ExecutionTriggers",
    "Executions",
    "Fee",
    "Heartbeat",
    "MethodReply",
    "Pong",
    "PongResult",
    "Status",
    "StatusRecord",
    "SubscribeReply",
    "SubscribeResult",
    "UnknownMessage",
    "UnsubscribeReply",
    "Wallet",
]

EXEC_TYPES: frozenset[str] = frozenset(
    {
        "pending_new",
        "new",
        "trade",
        "filled",
        "iceberg_refill",
        "canceled",
        "expired",
        "amended",
        "restated",
        "status",
    }
)
"""The documented ``exec_type`` values (``amended`` is in the prose, not the schema)."""
ORDER_STATUSES: frozenset[str] = frozenset(
    {"pending_new", "new", "partially_filled", "filled", "canceled", "expired"}
)
"""The documented ``order_status`` values."""

_Warnings = tuple[str, ...] | None


# --- method replies (tagged by "method") ------------------------------------------------------


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


class BatchCancelReply(MethodReply, frozen=True, kw_only=True, tag="batch_cancel"):
    """Reply to ``batch_cancel``."""

    result: CountResult | None = None
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


# --- channel records ----------------------------------------------------------------------------


class Fee(msgspec.Struct, frozen=True, kw_only=True, gc=False, repr_omit_defaults=True):
    """One fee of a trade: ``qty`` of ``asset``."""

    asset: str | None = None
    qty: Decimal | None = None


class ExecutionTriggers(
    msgspec.Struct, frozen=True, kw_only=True, gc=False, repr_omit_defaults=True
):
    """The ``triggers`` of a triggered order on the executions stream."""

    reference: str | None = None
    price: Decimal | None = None
    price_type: str | None = None
    actual_price: Decimal | None = None
    peak_price: Decimal | None = None
    last_price: Decimal | None = None
    status: str | None = None
    timestamp: str | None = None


class ExecutionContingent(
    msgspec.Struct, frozen=True, kw_only=True, gc=False, repr_omit_defaults=True
):
    """The OTO template (``contingent``) attached to an order."""

    order_type: str | None = None
    trigger_price: Decimal | None = None
    trigger_price_type: str | None = None
    limit_price: Decimal | None = None
    limit_price_type: str | None = None


class Execution(msgspec.Struct, frozen=True, kw_only=True, gc=False, repr_omit_defaults=True):
    """One execution report: what happened (``exec_type``) and where the order now stands.

    Sparse: only the fields Kraken sent are set. ``cum_qty``, ``cum_cost`` and ``avg_price``
    are order totals; ``last_qty``, ``last_price``, ``cost`` and ``fees`` describe this fill
    (``trade`` events). Do not infer completion from ``order_status``: a ``trade`` that fills
    the order can still say ``partially_filled``; an ``exec_type: filled`` follows.
    ``time_in_force`` is uppercase on the stream (``GTC``). ``cancel_reason``, ``stop_price``,
    ``trigger`` and ``triggered_price`` are deprecated fields Kraken still sends.
    """

    exec_type: str | None = None
    order_id: str | None = None
    cl_ord_id: str | None = None
    order_userref: int | None = None
    exec_id: str | None = None
    trade_id: int | None = None
    order_status: str | None = None
    symbol: str | None = None
    side: str | None = None
    order_type: str | None = None
    order_qty: Decimal | None = None
    cash_order_qty: Decimal | None = None
    display_qty: Decimal | None = None
    display_qty_remain: Decimal | None = None
    limit_price: Decimal | None = None
    limit_price_type: str | None = None
    time_in_force: str | None = None
    post_only: bool | None = None
    reduce_only: bool | None = None
    margin: bool | None = None
    margin_borrow: bool | None = None
    no_mpp: bool | None = None
    liquidated: bool | None = None
    amended: bool | None = None
    cum_qty: Decimal | None = None
    cum_cost: Decimal | None = None
    avg_price: Decimal | None = None
    last_qty: Decimal | None = None
    last_price: Decimal | None = None
    cost: Decimal | None = None
    liquidity_ind: str | None = None
    fees: tuple[Fee, ...] | None = None
    fee_usd_equiv: Decimal | None = None
    fee_ccy_pref: str | None = None
    effective_time: str | None = None
    expire_time: str | None = None
    timestamp: str | None = None
    triggers: ExecutionTriggers | None = None
    contingent: ExecutionContingent | None = None
    reason: str | None = None
    position_status: str | None = None
    ord_ref_id: str | None = None
    ext_ord_id: str | None = None
    ext_exec_id: str | None = None
    sender_sub_id: str | None = None
    user: str | None = None
    cancel_reason: str | None = None
    stop_price: Decimal | None = None
    trigger: str | None = None
    triggered_price: Decimal | None = None


class Wallet(msgspec.Struct, frozen=True, kw_only=True, gc=False, repr_omit_defaults=True):
    """One wallet of a balances snapshot entry (``type`` spot/earn, ``id`` main/flex/...)."""

    type: str | None = None
    id: str | None = None
    balance: Decimal | None = None


class BalanceRecord(msgspec.Struct, frozen=True, kw_only=True, gc=False, repr_omit_defaults=True):
    """A balances entry: a snapshot entry (``asset``, ``balance``, ``wallets``) or an update's
    ledger record (``amount``, ``fee``, ``balance``, ``ledger_id``, ``ref_id``, ...).

    A trade gives two ledger records (base and quote) sharing a ``ref_id``.
    """

    asset: str | None = None
    asset_class: str | None = None
    balance: Decimal | None = None
    wallets: tuple[Wallet, ...] | None = None
    ledger_id: str | None = None
    ref_id: str | None = None
    timestamp: str | None = None
    type: str | None = None
    subtype: str | None = None
    category: str | None = None
    wallet_type: str | None = None
    wallet_id: str | None = None
    amount: Decimal | None = None
    fee: Decimal | None = None
    user: str | None = None


class StatusRecord(msgspec.Struct, frozen=True, kw_only=True, gc=False, repr_omit_defaults=True):
    """The engine status: ``system`` is online, maintenance, cancel_only or post_only."""

    system: str | None = None
    api_version: str | None = None
    connection_id: int | None = None
    version: str | None = None


# --- channel pushes (tagged by "channel") ---------------------------------------------------------


class ChannelPush(Event, frozen=True, kw_only=True, tag_field="channel"):
    """Common shape of a channel push: ``type`` is ``snapshot`` or ``update``."""

    type: str | None = None

    channel_name: ClassVar[str]

    @property
    def is_snapshot(self) -> bool:
        """True for the snapshot that starts a subscription."""
        return self.type == "snapshot"


class Executions(ChannelPush, frozen=True, kw_only=True, tag="executions", gc=False):
    """An executions push. ``sequence`` is the per-subscription counter. Route each record by
    its own ``exec_type``, never the whole frame by the first one."""

    data: tuple[Execution, ...] = ()
    sequence: int | None = None
    channel_name: ClassVar[str] = "executions"


class Balances(ChannelPush, frozen=True, kw_only=True, tag="balances", gc=False):
    """A balances push: snapshot entries or ledger records; ``sequence`` as on executions."""

    data: tuple[BalanceRecord, ...] = ()
    sequence: int | None = None
    channel_name: ClassVar[str] = "balances"


class Status(ChannelPush, frozen=True, kw_only=True, tag="status"):
    """The engine status, sent on connect and on every change (no ``sequence``)."""

    data: tuple[StatusRecord, ...] = ()
    channel_name: ClassVar[str] = "status"

    @property
    def system(self) -> str | None:
        """The ``system`` of the last record (``online``, ``cancel_only``, ...), or None."""
        return self.data[-1].system if self.data else None


class Heartbeat(ChannelPush, frozen=True, kw_only=True, tag="heartbeat"):
    """Sent about once a second while subscribed and otherwise idle."""

    channel_name: ClassVar[str] = "heartbeat"
