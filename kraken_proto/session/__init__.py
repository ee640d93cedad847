"""The session and its parts: the pure machine that lives across connections (reconnect,
tokens, resubscribe, reconciliation, exactly-once fills), its config, actions and events, and
the protocol-neutral link it drives (v1, or v2 through its translation), and the ``Waiters``
every runner uses to end its order calls.
"""

from __future__ import annotations

from ._actions import (
    CloseConnection,
    HttpCall,
    OpenConnection,
    SendMessages,
    SessionAction,
)
from ._config import (
    SessionConfig,
    SessionState,
)
from ._events import (
    Connected,
    FillReceived,
    FillSource,
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
    SystemStatusChanged,
)
from ._link import (
    V2Link,
    open_link,
)
from ._session import (
    Session,
)
from ._waiters import (
    OutcomeUnknownError,
    RequestNotAppliedError,
    RequestRefusedError,
    SessionView,
    TradingRequestError,
    Waiters,
    reflects,
    result_of,
)

__all__ = [
    "CloseConnection",
    "Connected",
    "FillReceived",
    "FillSource",
    "HttpCall",
    "OpenConnection",
    "OrdersChanged",
    "OutcomeUnknownError",
    "Reconnected",
    "Reconnecting",
    "RequestAccepted",
    "RequestApplied",
    "RequestInDoubt",
    "RequestNotApplied",
    "RequestNotAppliedError",
    "RequestOutcome",
    "RequestRefused",
    "RequestRefusedError",
    "RequestUnresolved",
    "SendMessages",
    "Session",
    "SessionAction",
    "SessionClosed",
    "SessionConfig",
    "SessionEvent",
    "SessionFailed",
    "SessionState",
    "SessionView",
    "SystemStatusChanged",
    "TradingRequestError",
    "V2Link",
    "Waiters",
    "open_link",
    "reflects",
    "result_of",
]
