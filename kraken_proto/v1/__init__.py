"""Kraken WebSocket v1 (``wss://ws-auth.kraken.com``): codec, events, requests and the
per-connection state machine :class:`Connection`, with the connection events and states it
shares with ``kraken_proto.v2``."""

from __future__ import annotations

from kraken_proto._connection_events import (
    ChannelSnapshot,
    ChannelUpdate,
    ConnectionStale,
    LateReply,
    RequestCompleted,
    RequestFailed,
    RequestLost,
    RequestOutcomeUnknown,
    RequestTimedOut,
    SequenceGap,
    TokenExpired,
    TokenRejected,
)
from kraken_proto._connection_state import (
    ConnectionConfig,
    ConnectionState,
    SubscriptionState,
    TokenState,
)
from kraken_proto._errors import (
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
)
from kraken_proto._event_base import Event, KrakenError, UnknownMessage
from kraken_proto._request_base import Request

from ._connection import (
    Connection,
)
from ._decode import (
    decode,
)
from ._events import (
    AddOrderStatus,
    AmendOrderStatus,
    CancelAllOrdersAfterStatus,
    CancelAllStatus,
    CancelOrderStatus,
    Contingent,
    EditOrderStatus,
    ErrorEvent,
    Heartbeat,
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
)
from ._requests import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Ping,
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
    "ChannelSnapshot",
    "ChannelUpdate",
    "Connection",
    "ConnectionConfig",
    "ConnectionStale",
    "ConnectionState",
    "Contingent",
    "EditOrder",
    "EditOrderStatus",
    "ErrorEvent",
    "Event",
    "Heartbeat",
    "KrakenError",
    "LateReply",
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
    "RequestCompleted",
    "RequestFailed",
    "RequestLost",
    "RequestOutcomeUnknown",
    "RequestTimedOut",
    "SequenceGap",
    "StatusEvent",
    "Subscribe",
    "SubscriptionInfo",
    "SubscriptionState",
    "SubscriptionStatus",
    "SystemStatus",
    "TokenExpired",
    "TokenRejected",
    "TokenState",
    "Trade",
    "UnknownMessage",
    "Unsubscribe",
    "decode",
    "encode",
]
