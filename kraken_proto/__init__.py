"""kraken_proto: a sans-IO client for Kraken's private WebSocket API (v1 and v2).

This front door holds what a session user needs: the :class:`Session` (the pure machine that
keeps the promise: every fill delivered once, no order placed twice), its config, credentials,
the order requests, the outcome and session events, the tables it keeps, the errors, and the
v1 ``decode``/``encode``. The runners that drive a session over real sockets are in
``kraken_proto.adapters``: ``open_session`` (blocking), ``open_trio_session`` and
``open_asyncio_session``, one API (docs/runners.md).

Lower level, each with its own ``__all__``: ``kraken_proto.v1`` and ``kraken_proto.v2`` (one
WebSocket connection each, codec and state machine), ``kraken_proto.rest`` (signing, the token
call and the private REST calls) and ``kraken_proto.session`` (the session's parts).
``kraken_proto.testing`` (Hypothesis strategies and fuzz targets for frame parsers) needs the
``testing`` extra.

The core does no I/O: it never opens sockets, reads the clock or draws random numbers.
Bytes and time come in as arguments; output is queued for the caller to drain.
"""

from __future__ import annotations

from kraken_proto._event_base import Event, KrakenError
from kraken_proto._request_base import Request, replace_request
from kraken_proto.rest._errors import (
    RestError,
)
from kraken_proto.rest._signing import (
    Credentials,
    CredentialsError,
    InvalidSecretError,
    MissingCredentialError,
)
from kraken_proto.session._actions import (
    CloseConnection,
    HttpCall,
    OpenConnection,
    SendMessages,
    SessionAction,
)
from kraken_proto.session._balances import (
    BalancesReceived,
)
from kraken_proto.session._config import (
    SessionConfig,
    SessionState,
)
from kraken_proto.session._events import (
    Connected,
    FillReceived,
    FillSource,
    OrderPaced,
    OrdersChanged,
    Reconnected,
    Reconnecting,
    RequestAccepted,
    RequestApplied,
    RequestInDoubt,
    RequestNotApplied,
    RequestOutcome,
    RequestRefused,
    RequestUnresolved,
    SessionClosed,
    SessionEvent,
    SessionFailed,
    SubscriptionReady,
    SystemStatusChanged,
)
from kraken_proto.session._journal_records import (
    PersistRecords,
)
from kraken_proto.session._session import (
    Session,
)
from kraken_proto.v1._decode import (
    decode,
)
from kraken_proto.v1._events import Trade
from kraken_proto.v1._requests import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Subscribe,
    encode,
)

from ._errors import (
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
)
from ._fills import (
    FillLog,
)
from ._orders import (
    Order,
    OrderChanges,
    OrderTable,
)
from ._secret import (
    Secret,
)

__version__ = "0.1.0"

__all__ = [
    "AddOrder",
    "BalancesReceived",
    "AmendOrder",
    "CancelAll",
    "CancelAllOrdersAfter",
    "CancelOrder",
    "CloseConnection",
    "Connected",
    "Credentials",
    "CredentialsError",
    "EditOrder",
    "Event",
    "FillLog",
    "FillReceived",
    "FillSource",
    "HttpCall",
    "InvalidSecretError",
    "KrakenError",
    "LocalProtocolError",
    "MissingCredentialError",
    "OpenConnection",
    "Order",
    "OrderChanges",
    "OrderTable",
    "OrderPaced",
    "OrdersChanged",
    "PersistRecords",
    "ProtocolError",
    "Reconnected",
    "Reconnecting",
    "RemoteProtocolError",
    "Request",
    "RequestAccepted",
    "RequestApplied",
    "RequestInDoubt",
    "RequestNotApplied",
    "RequestOutcome",
    "RequestRefused",
    "RequestUnresolved",
    "RestError",
    "Secret",
    "SendMessages",
    "Session",
    "SessionAction",
    "SessionClosed",
    "SessionConfig",
    "SessionEvent",
    "SessionFailed",
    "SessionState",
    "Subscribe",
    "SystemStatusChanged",
    "SubscriptionReady",
    "Trade",
    "__version__",
    "decode",
    "encode",
    "replace_request",
]
