"""Kraken's per-pair trading rate counter (spot rate-limit guide; pure).

Costs (``kraken-rate-limits.md``): add +1, amend +1 and edit +1 plus a penalty by the order's
age, cancel the penalty alone; a batch of n adds +n/2 for the whole batch; a batch cancel the
sum of its orders' penalties, accepted even past the threshold; ``cancelAll`` +1 per pair it
touches; ``cancelAllOrdersAfter`` +1 on no pair (the account's own counter, ``ACCOUNT``, as
Kraken's Rust SDK guide books it). The fixed part of a cost is charged on receipt, even when
the request then fails validation; the age penalty only when the request goes through.
"""

from __future__ import annotations

from decimal import Decimal

# One table of costs for both sides: the session paces by it and the simulator refuses by it
# (issue 19: "the simulator enforces the same table").
from kraken_proto.session._pacing import AMEND_PENALTIES as _AMEND
from kraken_proto.session._pacing import CANCEL_PENALTIES as _CANCEL
from kraken_proto.session._pacing import EDIT_PENALTIES as _EDIT

__all__ = [
    "ACCOUNT",
    "Cost",
    "RateCounters",
    "amend_cost",
    "batch_add_cost",
    "cancel_cost",
    "edit_cost",
]

ACCOUNT = "*"
"""The counter of requests that name no pair (``cancelAllOrdersAfter``); no pair is called so."""

Cost = int | Decimal


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


def batch_add_cost(count: int) -> Decimal:
    """A batch of ``count`` orders costs ``count / 2`` in all (7.5 for 15)."""
    return Decimal(count) / 2


class RateCounters:
    """One counter per pair, decaying linearly per second; a request that would take one past
    ``maximum`` is refused (``allows``), except the kinds Kraken accepts anyway, which are
    simply ``charge``d and may leave it above ``maximum`` until it decays."""

    def __init__(self, maximum: int, decay_per_second: Decimal) -> None:
        self.maximum = maximum
        self.decay = decay_per_second
        self._counts: dict[str, tuple[Decimal, float]] = {}

    def value(self, pair: str, now: float) -> Decimal:
        count, since = self._counts.get(pair, (Decimal(0), now))
        decayed = count - self.decay * Decimal(f"{max(0.0, now - since):.6f}")
        return max(decayed, Decimal(0))

    def allows(self, pair: str, cost: Cost, now: float) -> bool:
        return self.value(pair, now) + cost <= self.maximum

    def charge(self, pair: str, cost: Cost, now: float) -> None:
        self._counts[pair] = (self.value(pair, now) + cost, now)
