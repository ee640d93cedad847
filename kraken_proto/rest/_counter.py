"""``RestCallCounter``: Kraken's REST call counter, modelled so no call is sent over budget.

Kraken keeps one counter per API key: each call adds its cost (+1, +2 for ledger/trade
history calls), the counter decays linearly, and a call that would take it past the tier's
maximum fails with ``EAPI:Rate limit exceeded``. Pure: time comes in as ``now``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from kraken_proto._errors import LocalProtocolError

__all__ = ["REST_TIERS", "RestCallCounter", "RestTier"]


class RestTier(NamedTuple):
    """One verification tier's counter: ``maximum`` units, decaying ``decay_per_second``."""

    maximum: int
    decay_per_second: float


REST_TIERS: dict[str, RestTier] = {
    "starter": RestTier(15, 0.33),
    "intermediate": RestTier(20, 0.5),
    "pro": RestTier(20, 1.0),
}
"""Kraken's REST rate-limit guide: Starter 15 / -0.33 per s, Intermediate 20 / -0.5, Pro 20 / -1."""

# Float slack so a call scheduled at exactly ``ready_at`` is accepted by ``spend``. Unix times
# near 1.7e9 s have a resolution of ~2.4e-7 s, which the decay turns into ~1e-7 units of error;
# 1e-6 units (3 us of Starter decay) covers it with room to spare.
_EPSILON = 1e-6


def _finite(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise LocalProtocolError(f"{name}: must be a finite number, got {value!r}")
    return float(value)


class RestCallCounter:
    """The client's model of its key's REST call counter (``tier``: ``"starter"`` default,
    ``"intermediate"`` or ``"pro"``).

    Ask ``ready_at(cost, now)`` when a call of ``cost`` units fits, wait until then, and
    ``spend(cost, now)`` when it is sent. ``saturate(now)`` records that Kraken said the
    counter is full (``EAPI:Rate limit exceeded``). ``now`` must not go backwards (a step back
    counts as no time passing).

    ``headroom`` units of the maximum are kept free (default 1: three seconds of decay on
    Starter). Kraken measures decay between the times calls *arrive*; network jitter makes
    that interval shorter than the one measured here, and a counter filled to the last unit
    would then be refused. ``maximum`` is the tier's; calls fit below ``maximum - headroom``.
    """

    __slots__ = ("_level", "_since", "decay_per_second", "headroom", "maximum", "tier")

    def __init__(self, tier: str = "starter", *, headroom: float = 1.0) -> None:
        if tier not in REST_TIERS:
            raise LocalProtocolError(f"tier: must be one of {sorted(REST_TIERS)}, got {tier!r}")
        self.tier = tier
        self.maximum, self.decay_per_second = REST_TIERS[tier]
        headroom = _finite("headroom", headroom)
        if not 0 <= headroom < self.maximum:
            raise LocalProtocolError(f"headroom: must be in 0..{self.maximum}, got {headroom!r}")
        self.headroom = headroom
        self._level = 0.0
        self._since: float | None = None

    def level(self, now: float) -> float:
        """The counter's value at ``now`` (after decay)."""
        now = _finite("now", now)
        if self._since is None:
            return 0.0
        elapsed = max(0.0, now - self._since)
        return max(0.0, self._level - elapsed * self.decay_per_second)

    def _cost(self, cost: object) -> int:
        if isinstance(cost, bool) or not isinstance(cost, int) or cost < 0:
            raise LocalProtocolError(f"cost: must be a non-negative int, got {cost!r}")
        if cost > self._budget:
            raise LocalProtocolError(
                f"cost: {cost} exceeds the {self.tier} tier's budget of {self._budget:g} "
                f"(maximum {self.maximum} less headroom {self.headroom:g})"
            )
        return cost

    @property
    def _budget(self) -> float:
        return self.maximum - self.headroom

    def ready_at(self, cost: int, now: float) -> float:
        """The earliest time (>= ``now``) at which a call of ``cost`` units fits the budget."""
        cost = self._cost(cost)
        excess = self.level(now) + cost - self._budget
        if cost == 0 or excess <= _EPSILON:  # a free call (AddOrder) never waits here
            return float(now)
        return float(now) + excess / self.decay_per_second

    def spend(self, cost: int, now: float) -> None:
        """Record a call of ``cost`` units sent at ``now``.

        Raises ``LocalProtocolError`` (changing nothing) when it does not fit yet: the core
        never sends a call over budget.
        """
        cost = self._cost(cost)
        level = self.level(now)
        if cost and level + cost > self._budget + _EPSILON:
            raise LocalProtocolError(
                f"REST call counter: {cost} more units do not fit before "
                f"{self.ready_at(cost, now):.3f} (counter {level:.2f}, budget {self._budget:g})"
            )
        self._level = level + cost
        self._since = float(now)

    def saturate(self, now: float) -> None:
        """Kraken answered ``EAPI:Rate limit exceeded``: treat the counter as full at ``now``."""
        self.level(now)  # validates now
        self._level = float(self.maximum)
        self._since = float(now)

    def __repr__(self) -> str:
        return f"RestCallCounter(tier={self.tier!r}, headroom={self.headroom:g})"
