"""``SessionConfig`` (the knobs of a :class:`~kraken_proto.Session`) and ``SessionState``."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

from kraken_proto._connection_state import ConnectionConfig
from kraken_proto._errors import LocalProtocolError

__all__ = ["SessionConfig", "SessionState"]

_TIERS = ("starter", "intermediate", "pro")


class SessionState(enum.Enum):
    """Where a session is.

    IDLE: created, ``start`` not called. CONNECTING: fetching a token or opening the
    WebSocket. SYNCING: connected, subscribing and reconciling (REST). LIVE: subscribed and
    reconciled; requests go out at once. WAITING: between connections (backoff).
    CLOSING/CLOSED: ``close`` was called. FAILED: a permanent error (bad key, signature or
    permission); nothing more happens (``SessionFailed`` says why).
    """

    IDLE = "idle"
    CONNECTING = "connecting"
    SYNCING = "syncing"
    LIVE = "live"
    WAITING = "waiting"
    CLOSING = "closing"
    CLOSED = "closed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionConfig:
    """The knobs of a :class:`Session`; durations are seconds of the caller's clock.

    ``connection``: the per-connection knobs (request timeout, liveness, dead man's switch:
    set ``dead_mans_switch_timeout`` there and every connection arms and keeps re-arming it).
    Reconnect policy, counting retries since the last working connection (one that stayed
    LIVE ``healthy_after`` seconds): retry 1 starts at once; retry n >= 2 waits
    ``backoff_initial * 2**(n-2)`` seconds, at least ``backoff_floor`` from retry 3 on and at
    most ``backoff_max``, stretched by a fraction up to ``backoff_jitter`` drawn from the seed
    (defaults: 0, 1-1.25, then 5-6.25, 5, 8, 16, 32, 60 s). At most ``max_attempts``
    connection attempts start in any ``attempt_window`` seconds (Kraken bans at about 150
    per 10 minutes); an attempt over the cap waits until the oldest leaves the window.
    ``rest_tier``: the account's REST counter tier (``starter``, ``intermediate``, ``pro``).
    ``rest_retry_delay``: wait before retrying a REST call that failed transiently (5xx,
    no answer, ``EService:Unavailable``, rate limit).
    ``backfill_margin``: TradesHistory starts this many seconds before the last fill seen.
    ``fill_window``/``max_finished``: sizes of the ``FillLog`` and ``OrderTable`` memories.
    ``protocol``: ``"v1"`` (``wss://ws-auth.kraken.com``) or ``"v2"`` (``.../v2``); the
    session's calls, events, objects and guarantees are the same for both.
    ``pace_orders``: hold each trading request that Kraken's per-pair trading counter (the
    ``rest_tier`` account tier's threshold and decay) would refuse, report ``OrderPaced``,
    and send it when it fits (off: requests go at once and a refusal is Kraken's answer).
    The threshold follows the ``maxratecount`` Kraken reports, and the counter the
    ``ratecount`` its order frames carry (a pacing session asks for them).
    ``pace_decay_per_second``: the trading counter's decay, when not the tier's (None: the
    tier's, 1, 2.34 or 3.75 per Kraken's guide); for a simulator whose counters run faster.
    ``token_reuse_for``: a WebSocket token outlives its connection and opens the next one
    (no ``GetWebSocketsToken`` call) while it was fetched less than this many seconds ago
    (and less than ``connection.token_ttl``); Kraken wants a token used within 15 minutes of
    issue. A reused
    token the server rejects is dropped and a fresh one fetched; after an auth or permission
    failure no token is reused. 0: a fresh token for every connection.
    """

    connection: ConnectionConfig = field(default_factory=ConnectionConfig)
    backoff_initial: float = 1.0
    backoff_floor: float = 5.0
    backoff_max: float = 60.0
    backoff_jitter: float = 0.25
    healthy_after: float = 30.0
    max_attempts: int = 100
    attempt_window: float = 600.0
    rest_tier: str = "starter"
    rest_retry_delay: float = 2.0
    backfill_margin: float = 2.0
    fill_window: int = 100_000
    max_finished: int = 10_000
    protocol: str = "v1"
    pace_orders: bool = False
    pace_decay_per_second: float | None = None
    token_reuse_for: float = 600.0

    def __post_init__(self) -> None:
        if not isinstance(self.connection, ConnectionConfig):
            raise LocalProtocolError("connection: must be a ConnectionConfig")
        for name in (
            "backoff_initial",
            "backoff_floor",
            "backoff_max",
            "healthy_after",
            "attempt_window",
            "rest_retry_delay",
        ):
            _positive(name, getattr(self, name))
        for name in ("backoff_jitter", "backfill_margin", "token_reuse_for"):
            value = getattr(self, name)
            _number(name, value)
            if value < 0:
                raise LocalProtocolError(f"{name}: must be >= 0")
        if self.backoff_max < self.backoff_floor:
            raise LocalProtocolError("backoff_max: must be >= backoff_floor")
        for name in ("max_attempts", "fill_window", "max_finished"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise LocalProtocolError(f"{name}: must be an int >= 1")
        if self.fill_window < 50:
            raise LocalProtocolError("fill_window: must be at least 50 (the ownTrades snapshot)")
        if not isinstance(self.pace_orders, bool):
            raise LocalProtocolError("pace_orders: must be True or False")
        if self.pace_decay_per_second is not None:
            _number("pace_decay_per_second", self.pace_decay_per_second)
            if self.pace_decay_per_second <= 0:
                raise LocalProtocolError("pace_decay_per_second: must be > 0 (or None)")
        if self.protocol not in ("v1", "v2"):
            raise LocalProtocolError(f"protocol: must be 'v1' or 'v2', got {self.protocol!r}")
        if self.rest_tier not in _TIERS:
            raise LocalProtocolError(f"rest_tier: must be one of {', '.join(_TIERS)}")


def _number(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise LocalProtocolError(f"{name}: must be a finite number")


def _positive(name: str, value: object) -> None:
    _number(name, value)
    assert isinstance(value, int | float)
    if value <= 0:
        raise LocalProtocolError(f"{name}: must be a finite number of seconds > 0")
