"""Kraken's per-pair trading rate counter (spot rate-limit guide; pure)."""

from __future__ import annotations

from decimal import Decimal

# One table of costs for both sides: the session paces by it and the simulator refuses by it
# (issue 19: "the simulator enforces the same table").
from kraken_proto.session._pacing import AMEND_PENALTIES as _AMEND
from kraken_proto.session._pacing import CANCEL_PENALTIES as _CANCEL
from kraken_proto.session._pacing import EDIT_PENALTIES as _EDIT

__all__ = ["RateCounters", "amend_cost", "cancel_cost", "edit_cost"]


def _penalty(table: tuple[tuple[float, int], ...], age: float) -> int:
    for limit, penalty in table:
        if age < limit:
            return penalty
    return 0


def cancel_cost(age: float) -> int:
    return _penalty(_CANCEL, age)


def edit_cost(age: float) -> int:
    return 1 + _penalty(_EDIT, age)


def amend_cost(age: float) -> int:
    return 1 + _penalty(_AMEND, age)


class RateCounters:
    """One counter per pair, decaying linearly per second, capped at ``maximum``."""

    def __init__(self, maximum: int, decay_per_second: Decimal) -> None:
        self.maximum = maximum
        self.decay = decay_per_second
        self._counts: dict[str, tuple[Decimal, float]] = {}

    def value(self, pair: str, now: float) -> Decimal:
        count, since = self._counts.get(pair, (Decimal(0), now))
        decayed = count - self.decay * Decimal(f"{max(0.0, now - since):.6f}")
        return max(decayed, Decimal(0))

    def allows(self, pair: str, cost: int, now: float) -> bool:
        return self.value(pair, now) + cost <= self.maximum

    def charge(self, pair: str, cost: int, now: float) -> None:
        self._counts[pair] = (self.value(pair, now) + cost, now)
