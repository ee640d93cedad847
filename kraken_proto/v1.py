"""The Kraken WebSocket v1 codec (``wss://ws-auth.kraken.com``) under an explicit name.

The same objects as the top-level ``kraken_proto`` names (which stay as they are), grouped
beside ``kraken_proto.v2`` for code that handles both protocols.
"""

from __future__ import annotations

from ._connection import Connection
from ._decode import decode
from ._events import (
    AddOrderStatus,
    AmendOrderStatus,
    CancelAllOrdersAfterStatus,
    CancelAllStatus,
    CancelOrderStatus,
    Contingent,
    EditOrderStatus,
    ErrorEvent,
    Event,
    Heartbeat,
    KrakenError,
    OpenOrders,
    OrderDescr,
    OrderRecord,
    OwnTrades,
    PingStatus,
    Pong,
    StatusEvent,
    SubscriptionInfo,
    SubscriptionStatus,
    SystemStatus,
    Trade,
    UnknownMessage,
)
from ._requests import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Ping,
    Request,
    Subscribe,
    Unsubscribe,
    encode,
)

__all__ = [
    "AddOrder",
    "AddOrderStatus",
    "AmendOrder",
    "AmendOrderStatus",
    "CancelAll",
    "CancelAllOrdersAfter",
    "CancelAllOrdersAfterStatus",
    "CancelAllStatus",
    "CancelOrder",
    "CancelOrderStatus",
    "Connection",
    "Contingent",
    "EditOrder",
    "EditOrderStatus",
    "ErrorEvent",
    "Event",
    "Heartbeat",
    "KrakenError",
    "OpenOrders",
    "OrderDescr",
    "OrderRecord",
    "OwnTrades",
    "Ping",
    "PingStatus",
    "Pong",
    "Request",
    "StatusEvent",
    "Subscribe",
    "SubscriptionInfo",
    "SubscriptionStatus",
    "SystemStatus",
    "Trade",
    "UnknownMessage",
    "Unsubscribe",
    "decode",
    "encode",
]
