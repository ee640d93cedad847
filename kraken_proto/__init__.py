"""kraken_proto: a sans-IO client core for Kraken's private WebSocket API v1.

The core does no I/O: it never opens sockets, reads the clock or draws random numbers.
Bytes and time come in as arguments; output is queued for the caller to drain.
See ``kraken_proto.adapters`` for the blocking and trio transports.
"""

from __future__ import annotations

from ._decode import decode
from ._errors import LocalProtocolError, ProtocolError, RemoteProtocolError
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

__version__ = "0.1.0"

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
    "Contingent",
    "EditOrder",
    "EditOrderStatus",
    "ErrorEvent",
    "Event",
    "Heartbeat",
    "KrakenError",
    "LocalProtocolError",
    "OpenOrders",
    "OrderDescr",
    "OrderRecord",
    "OwnTrades",
    "Ping",
    "PingStatus",
    "Pong",
    "ProtocolError",
    "RemoteProtocolError",
    "Request",
    "StatusEvent",
    "Subscribe",
    "SubscriptionInfo",
    "SubscriptionStatus",
    "SystemStatus",
    "Trade",
    "UnknownMessage",
    "Unsubscribe",
    "__version__",
    "decode",
    "encode",
]
