"""The reconnect policy: when the next connection attempt may start.

Pure bookkeeping over the times attempts started, fed by the session:

* the first retry after a working connection was lost starts at once;
* retry n >= 2 waits ``backoff_initial * 2**(n-2)`` seconds, at most ``backoff_max``, at
  least ``backoff_floor`` from retry 3 on, stretched by a jitter fraction in
  ``[0, backoff_jitter)`` drawn from the seed;
* never more than ``max_attempts`` attempts start within any ``attempt_window`` seconds: an
  attempt that would exceed it waits until the oldest one leaves the window.
"""

from __future__ import annotations

from ._config import SessionConfig
from ._seed import SeededStream

__all__ = ["ReconnectPolicy"]


class ReconnectPolicy:
    """Decides the delay before each connection attempt and remembers the attempts."""

    __slots__ = ("_config", "_failures", "_random", "_started")

    def __init__(self, config: SessionConfig, random: SeededStream) -> None:
        self._config = config
        self._random = random
        self._failures = 0
        # A list, not a deque: it holds a handful of times, and an empty deque takes 760 bytes.
        self._started: list[float] = []

    @property
    def failures(self) -> int:
        """Consecutive attempts since the last working connection (0 right after one)."""
        return self._failures

    @property
    def attempts_started(self) -> tuple[float, ...]:
        """When the attempts still inside the window started, oldest first."""
        return tuple(self._started)

    def attempt_started(self, now: float) -> None:
        """Record that a connection attempt starts at ``now``."""
        self._started.append(now)
        self._forget_before(now - self._config.attempt_window)

    def connection_worked(self) -> None:
        """A connection stayed live long enough: the next loss retries at once."""
        self._failures = 0

    def next_delay(self, now: float) -> float:
        """Count one more failure and return how long to wait (seconds from ``now``) before
        the next attempt may start."""
        config = self._config
        self._failures += 1
        n = self._failures
        if n == 1:
            delay = 0.0
        else:
            delay = min(config.backoff_max, config.backoff_initial * 2.0 ** (n - 2))
            if n >= 3:
                delay = max(delay, config.backoff_floor)
            delay *= 1.0 + config.backoff_jitter * self._random.unit()
        return max(delay, self._cap_wait(now))

    def _cap_wait(self, now: float) -> float:
        """The wait the attempt cap imposes on an attempt starting at ``now``."""
        config = self._config
        self._forget_before(now - config.attempt_window)
        if len(self._started) < config.max_attempts:
            return 0.0
        # The attempt may start once enough old ones left the window.
        oldest = self._started[len(self._started) - config.max_attempts]
        return oldest + config.attempt_window - now

    def _forget_before(self, cutoff: float) -> None:
        started = self._started
        while started and started[0] <= cutoff:
            del started[0]
