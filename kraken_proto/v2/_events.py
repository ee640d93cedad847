"""Incoming WebSocket v2 events: frozen, typed, eagerly parsed.

The v2 sibling of ``kraken_proto.v1._events``. Field names are Kraken's v2 names (already
snake_case). This module holds the channel pushes (tagged by ``channel``) and their records;
the replies to methods (tagged by ``method``) live in ``_replies``, and this module names
every v2 event in one place.

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

from kraken_proto._event_base import Event, UnknownMessage
from kraken_proto._numbers import KrakenNumber as Decimal  # Decimal; decode checks the text

from ._replies import (
    AddOrderReply,
    AddOrderResult,
    AmendOrderReply,
    AmendOrderResult,
    BatchAddOrders,
    BatchAddReply,
    BatchAddRow,
    BatchCancelReply,
    BatchCancelResult,
    CancelAllOrdersAfterReply,
    CancelAllOrdersAfterResult,
    CancelAllReply,
    CancelOrderReply,
    CancelOrderResult,
    CountResult,
    EditOrderReply,
    EditOrderResult,
    ErrorReply,
    MethodReply,
    Pong,
    PongResult,
    SubscribeReply,
    SubscribeResult,
    UnsubscribeReply,
)

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
    "BatchCancelResult",
    "CancelAllOrdersAfterReply",
    "CancelAllOrdersAfterResult",
    "CancelAllReply",
    "CancelOrderReply",
    "CancelOrderResult",
    "ChannelPush",
    "CountResult",
    "EditOrderReply",
    "EditOrderResult",
    "ErrorReply",
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

    # Declared in an order chosen for decoding speed: msgspec finds each key by comparing it
    # with the fields after the previous key's field, wrapping round at the end, so a key sent
    # behind the one before it costs a pass over all 51 fields (~50 ns). Kraken's events send
    # their keys in a few fixed orders that disagree (a ``new`` begins ``timestamp
    # order_status exec_type``, a ``trade`` ``order_id order_userref exec_id exec_type``); this
    # order was found by a search over the captured orders (tests/test_wire_field_order.py),
    # weighting a trade 3, a pending_new or new 2, the rest 1 or less. It halves the compares
    # of the declaration order it replaced. ``cl_ord_id`` sits next to ``order_userref``: an
    # event carries one or the other. Fields no capture shows come last.

    order_id: str | None = None
    timestamp: str | None = None
    order_status: str | None = None
    cum_qty: Decimal | None = None
    cum_cost: Decimal | None = None
    fee_usd_equiv: Decimal | None = None
    fees: tuple[Fee, ...] | None = None
    avg_price: Decimal | None = None
    order_userref: int | None = None
    cl_ord_id: str | None = None
    cancel_reason: str | None = None
    reason: str | None = None
    exec_id: str | None = None
    time_in_force: str | None = None
    fee_ccy_pref: str | None = None
    exec_type: str | None = None
    amended: bool | None = None
    trade_id: int | None = None
    symbol: str | None = None
    side: str | None = None
    last_qty: Decimal | None = None
    order_qty: Decimal | None = None
    last_price: Decimal | None = None
    liquidity_ind: str | None = None
    cost: Decimal | None = None
    order_type: str | None = None
    limit_price_type: str | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    cash_order_qty: Decimal | None = None
    display_qty: Decimal | None = None
    display_qty_remain: Decimal | None = None
    post_only: bool | None = None
    reduce_only: bool | None = None
    margin: bool | None = None
    margin_borrow: bool | None = None
    no_mpp: bool | None = None
    liquidated: bool | None = None
    effective_time: str | None = None
    expire_time: str | None = None
    triggers: ExecutionTriggers | None = None
    contingent: ExecutionContingent | None = None
    position_status: str | None = None
    ord_ref_id: str | None = None
    ext_ord_id: str | None = None
    ext_exec_id: str | None = None
    sender_sub_id: str | None = None
    user: str | None = None
    trigger: str | None = None
    triggered_price: Decimal | None = None
    # With ``ratecounter: true``: the pair's trading rate counter after this execution.
    ratecount: Decimal | None = None


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

    # In wire order (as ``Execution``, for decoding speed): a ledger update's keys, with a
    # snapshot entry's ``balance`` and ``wallets`` after its ``asset`` and ``asset_class``.

    ledger_id: str | None = None
    ref_id: str | None = None
    timestamp: str | None = None
    type: str | None = None
    subtype: str | None = None
    asset: str | None = None
    asset_class: str | None = None
    category: str | None = None
    wallet_type: str | None = None
    wallet_id: str | None = None
    amount: Decimal | None = None
    fee: Decimal | None = None
    balance: Decimal | None = None
    wallets: tuple[Wallet, ...] | None = None
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
