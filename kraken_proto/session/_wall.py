"""``WallClock``: the session's view of the wall clock, kept apart from its deadline clock.

The session's ``now`` may come from a monotonic clock (the runners pass ``time.monotonic()``),
so every deadline (request timeouts, liveness, backoff, REST pacing) is immune to the wall
clock stepping. Kraken needs wall time in three places only: REST nonces, ``TradesHistory``
and ``ClosedOrders`` ``start``. Those read ``wall(now)`` = ``now + offset``, where the adapter
sets ``offset`` from a reading of both clocks (``Session.start(now, wall=...)``,
``Session.set_wall_clock``). Without a reading the offset is 0: ``now`` is taken as unix time.
Nonces stay strictly increasing whatever the wall clock does (``NonceSource``).
"""

from __future__ import annotations

import math

from kraken_proto._errors import LocalProtocolError

__all__ = ["WallClock"]


class WallClock:
    """Unix time as a function of the session's ``now``: ``wall(now) = now + offset``."""

    __slots__ = ("offset",)

    def __init__(self) -> None:
        self.offset = 0.0

    def set(self, now: float, wall: float) -> None:
        """At the session's ``now`` the wall clock read ``wall`` (unix seconds). Raises
        ``LocalProtocolError`` (offset unchanged) unless both are finite numbers."""
        for name, value in (("now", now), ("wall", wall)):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise LocalProtocolError(f"{name}: must be a finite number of seconds")
        self.offset = wall - now

    def wall(self, now: float) -> float:
        """The wall-clock time (unix seconds) at the session's ``now``."""
        return now + self.offset
