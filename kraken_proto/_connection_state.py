"""The connection's configuration and its three small state machines, written as data.

Each machine is an ``Enum`` of states, an ``Enum`` of triggers and a transition table
``{(state, trigger): next_state}``. A pair missing from a table means "not allowed": for a
trigger the caller asked for (``send``, ``connection_made``) the connection raises
``LocalProtocolError``; for a trigger the server caused, the connection leaves the state as it is.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ._errors import LocalProtocolError

__all__ = [
    "CONNECTION_TRANSITIONS",
    "SUBSCRIPTION_TRANSITIONS",
    "TOKEN_TRANSITIONS",
    "ConnectionConfig",
    "ConnectionState",
    "ConnectionTrigger",
    "SubscriptionState",
    "SubscriptionTrigger",
    "TokenState",
    "TokenTrigger",
]

_MAX_REQID = 2**64 - 1
_MAX_DEAD_MANS_TIMEOUT = 86399


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionConfig:
    """The knobs of a :class:`Connection`; every duration is in seconds of the caller's clock.

    ``request_timeout``: a request unanswered this long ends as ``RequestTimedOut``.
    ``token_ttl``: a fresh (not yet bound) token unused this long is dropped (``TokenExpired``).
    ``liveness_timeout``: while subscribed, this much silence queues a ``Ping``; this much more
    silence after the ping ends the connection (``ConnectionStale``).
    ``first_reqid``: the first reqid the connection allocates (then +1 per request).
    ``dead_mans_switch_timeout``: when set, the connection keeps ``cancelAllOrdersAfter`` armed
    with this timeout, re-arming every ``dead_mans_switch_interval`` seconds.
    ``late_reply_memory``: how many timed-out requests are remembered to recognise late replies.

    Raises ``LocalProtocolError`` naming the bad field.
    """

    request_timeout: float = 10.0
    token_ttl: float = 900.0
    liveness_timeout: float = 5.0
    first_reqid: int = 1
    dead_mans_switch_timeout: int | None = None
    dead_mans_switch_interval: float = 20.0
    late_reply_memory: int = 1024

    def __post_init__(self) -> None:
        for name in (
            "request_timeout",
            "token_ttl",
            "liveness_timeout",
            "dead_mans_switch_interval",
        ):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise LocalProtocolError(f"{name}: must be a finite number of seconds > 0")
        if not _is_int(self.first_reqid) or not 0 <= self.first_reqid <= _MAX_REQID:
            raise LocalProtocolError("first_reqid: must be an int from 0 to 2**64-1")
        if not _is_int(self.late_reply_memory) or self.late_reply_memory < 0:
            raise LocalProtocolError("late_reply_memory: must be an int >= 0")
        timeout = self.dead_mans_switch_timeout
        if timeout is None:
            return
        if not _is_int(timeout) or not 1 <= timeout <= _MAX_DEAD_MANS_TIMEOUT:
            raise LocalProtocolError(
                "dead_mans_switch_timeout: must be None or an int from 1 to "
                f"{_MAX_DEAD_MANS_TIMEOUT}"
            )
        if self.dead_mans_switch_interval >= timeout:
            raise LocalProtocolError(
                "dead_mans_switch_interval: must be shorter than dead_mans_switch_timeout, "
                "or the switch fires between re-arms"
            )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- the connection ---------------------------------------------------------------------------


class ConnectionState(enum.Enum):
    """Where the connection is in its life.

    IDLE: created, WebSocket not yet open. OPEN: requests may be sent. CLOSING: ``close()`` was
    called or the peer went silent; replies are still processed, nothing new may be sent.
    CLOSED: ``connection_lost()`` was called. FAILED: the peer sent an invalid frame; every
    later call but ``connection_lost``, ``close`` and the drains raises ``LocalProtocolError``.
    """

    IDLE = "idle"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"
    FAILED = "failed"


class ConnectionTrigger(enum.Enum):
    """What moves a connection between states."""

    MADE = "connection_made"
    CLOSE = "close"
    STALE = "stale"
    REMOTE_ERROR = "remote_protocol_error"
    LOST = "connection_lost"


_C, _CT = ConnectionState, ConnectionTrigger
CONNECTION_TRANSITIONS: Mapping[tuple[ConnectionState, ConnectionTrigger], ConnectionState] = (
    MappingProxyType(
        {
            (_C.IDLE, _CT.MADE): _C.OPEN,
            (_C.IDLE, _CT.CLOSE): _C.CLOSING,
            (_C.IDLE, _CT.LOST): _C.CLOSED,
            (_C.OPEN, _CT.CLOSE): _C.CLOSING,
            (_C.OPEN, _CT.STALE): _C.CLOSING,
            (_C.OPEN, _CT.REMOTE_ERROR): _C.FAILED,
            (_C.OPEN, _CT.LOST): _C.CLOSED,
            (_C.CLOSING, _CT.CLOSE): _C.CLOSING,
            (_C.CLOSING, _CT.STALE): _C.CLOSING,
            (_C.CLOSING, _CT.REMOTE_ERROR): _C.FAILED,
            (_C.CLOSING, _CT.LOST): _C.CLOSED,
            (_C.CLOSED, _CT.CLOSE): _C.CLOSED,
            (_C.CLOSED, _CT.LOST): _C.CLOSED,
            (_C.FAILED, _CT.CLOSE): _C.FAILED,
            (_C.FAILED, _CT.LOST): _C.FAILED,
        }
    )
)


# --- the session token ------------------------------------------------------------------------


class TokenState(enum.Enum):
    """The session token's life.

    NONE: no usable token (never given, expired or rejected); ``provide_token`` fixes it.
    FRESH: given, not yet bound; dropped after ``token_ttl`` seconds without use.
    BOUND: a private subscription sent with it was acknowledged; it no longer expires.
    GONE: the connection was lost; the token is forgotten for good.
    """

    NONE = "none"
    FRESH = "fresh"
    BOUND = "bound"
    GONE = "gone"


class TokenTrigger(enum.Enum):
    """What moves the token between states."""

    PROVIDE = "provide_token"
    BIND = "private_subscription_acknowledged"
    EXPIRE = "unused_for_token_ttl"
    REJECT = "server_rejected_token"
    LOSE = "connection_lost"


_T, _TT = TokenState, TokenTrigger
TOKEN_TRANSITIONS: Mapping[tuple[TokenState, TokenTrigger], TokenState] = MappingProxyType(
    {
        (_T.NONE, _TT.PROVIDE): _T.FRESH,
        (_T.NONE, _TT.LOSE): _T.GONE,
        (_T.FRESH, _TT.PROVIDE): _T.FRESH,
        (_T.FRESH, _TT.BIND): _T.BOUND,
        (_T.FRESH, _TT.EXPIRE): _T.NONE,
        (_T.FRESH, _TT.REJECT): _T.NONE,
        (_T.FRESH, _TT.LOSE): _T.GONE,
        (_T.BOUND, _TT.PROVIDE): _T.FRESH,
        (_T.BOUND, _TT.BIND): _T.BOUND,
        (_T.BOUND, _TT.REJECT): _T.NONE,
        (_T.BOUND, _TT.LOSE): _T.GONE,
        (_T.GONE, _TT.LOSE): _T.GONE,
    }
)


# --- private channel subscriptions ------------------------------------------------------------


class SubscriptionState(enum.Enum):
    """One private channel's subscription.

    UNSUBSCRIBED: none (initial; also after an acknowledged unsubscribe). PENDING: subscribe
    sent, no ack yet. ACTIVE: acknowledged; data frames are sequence-checked.
    UNSUBSCRIBING: unsubscribe sent. RESYNCING: a sequence gap was seen; the connection
    re-subscribes (as soon as it holds a usable token) for a fresh snapshot. FAILED: the
    subscribe was refused or timed out twice (the connection sends a timed-out subscribe once
    more to learn the server's view), or an unsubscribe's outcome is unknown; the caller may
    subscribe (an "Already subscribed" answer counts as subscribed) or unsubscribe again.

    A data frame on a PENDING channel means the server subscribed: it counts as the
    acknowledgement (the ack may be late or lost), and the frame is the snapshot.
    """

    UNSUBSCRIBED = "unsubscribed"
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBING = "unsubscribing"
    RESYNCING = "resyncing"
    FAILED = "failed"


class SubscriptionTrigger(enum.Enum):
    """What moves a subscription between states."""

    SEND_SUBSCRIBE = "send_subscribe"
    SEND_UNSUBSCRIBE = "send_unsubscribe"
    SUBSCRIBED = "subscribe_acknowledged"
    SUBSCRIBE_FAILED = "subscribe_refused_timed_out_or_lost"
    CONFIRM = "subscribe_timed_out_confirming"
    UNSUBSCRIBED = "unsubscribe_acknowledged"
    UNSUBSCRIBE_FAILED = "unsubscribe_refused"
    UNSUBSCRIBE_UNKNOWN = "unsubscribe_timed_out_or_lost"
    SERVER_UNSUBSCRIBED = "server_unsubscribed"
    GAP = "sequence_gap"


_S, _ST = SubscriptionState, SubscriptionTrigger
SUBSCRIPTION_TRANSITIONS: Mapping[
    tuple[SubscriptionState, SubscriptionTrigger], SubscriptionState
] = MappingProxyType(
    {
        (_S.UNSUBSCRIBED, _ST.SEND_SUBSCRIBE): _S.PENDING,
        (_S.FAILED, _ST.SEND_SUBSCRIBE): _S.PENDING,
        # The server may hold a subscription the client gave up on: unsubscribing is allowed,
        # and a late acknowledgement means it is active after all.
        (_S.FAILED, _ST.SEND_UNSUBSCRIBE): _S.UNSUBSCRIBING,
        (_S.FAILED, _ST.SUBSCRIBED): _S.ACTIVE,
        (_S.PENDING, _ST.SUBSCRIBED): _S.ACTIVE,
        (_S.PENDING, _ST.SUBSCRIBE_FAILED): _S.FAILED,
        # A subscribe that timed out is sent once more: "subscribed" or "Already subscribed"
        # settles it either way; a second timeout fails it.
        (_S.PENDING, _ST.CONFIRM): _S.PENDING,
        (_S.RESYNCING, _ST.CONFIRM): _S.RESYNCING,
        (_S.ACTIVE, _ST.SEND_UNSUBSCRIBE): _S.UNSUBSCRIBING,
        (_S.ACTIVE, _ST.SERVER_UNSUBSCRIBED): _S.UNSUBSCRIBED,
        (_S.ACTIVE, _ST.GAP): _S.RESYNCING,
        (_S.UNSUBSCRIBING, _ST.UNSUBSCRIBED): _S.UNSUBSCRIBED,
        (_S.UNSUBSCRIBING, _ST.SERVER_UNSUBSCRIBED): _S.UNSUBSCRIBED,
        (_S.UNSUBSCRIBING, _ST.UNSUBSCRIBE_FAILED): _S.ACTIVE,
        (_S.UNSUBSCRIBING, _ST.UNSUBSCRIBE_UNKNOWN): _S.FAILED,
        # While resyncing, the unsubscribe's outcome does not matter: the subscribe decides.
        (_S.RESYNCING, _ST.UNSUBSCRIBED): _S.RESYNCING,
        (_S.RESYNCING, _ST.UNSUBSCRIBE_FAILED): _S.RESYNCING,
        (_S.RESYNCING, _ST.UNSUBSCRIBE_UNKNOWN): _S.RESYNCING,
        (_S.RESYNCING, _ST.SERVER_UNSUBSCRIBED): _S.RESYNCING,
        (_S.RESYNCING, _ST.SUBSCRIBED): _S.ACTIVE,
        (_S.RESYNCING, _ST.SUBSCRIBE_FAILED): _S.FAILED,
    }
)
