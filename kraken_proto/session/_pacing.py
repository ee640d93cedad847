"""Kraken's per-pair trading rate counter, modelled so a paced session sends nothing refused.

Facts (``kraken-rate-limits.md``: Kraken's spot rate-limit guides and its Rust SDK's guide):
one counter per pair and account, shared by REST, WebSocket and FIX; it decays linearly by the
tier's rate; a request that would take it past the tier's threshold is refused with
``EOrder:Rate limit exceeded``. Each request adds a fixed cost, and changing or cancelling an
order adds a penalty that grows the younger the order is. A batch cancel is accepted even past
the threshold, so it is never held back.

Pure: time comes in as ``now`` (seconds, any monotonic origin); nothing here reads a clock.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from kraken_proto._errors import LocalProtocolError

__all__ = [
    "ACCOUNT",
    "TRADING_TIERS",
    "TradingCounter",
    "TradingTier",
    "add_cost",
    "amend_cost",
    "batch_add_cost",
    "batch_cancel_cost",
    "cancel_all_after_cost",
    "cancel_all_cost",
    "cancel_cost",
    "edit_cost",
]


class TradingTier(NamedTuple):
    """One verification tier's trading counter: refused past ``threshold``, decaying
    ``decay_per_second``."""

    threshold: int
    decay_per_second: float


TRADING_TIERS: dict[str, TradingTier] = {
    "starter": TradingTier(60, 1.0),
    "intermediate": TradingTier(125, 2.34),
    "pro": TradingTier(180, 3.75),
}

# Penalties by the age of the order changed: the first row whose age limit (seconds) exceeds
# the order's age applies; an order older than the last row costs no penalty.
CANCEL_PENALTIES = ((5.0, 8), (10.0, 6), (15.0, 5), (45.0, 4), (90.0, 2), (300.0, 1))
EDIT_PENALTIES = ((5.0, 6), (10.0, 5), (15.0, 4), (45.0, 2), (90.0, 1))
AMEND_PENALTIES = ((5.0, 3), (10.0, 2), (15.0, 1))

ACCOUNT = "*"
"""The counter of requests that name no pair (``cancelAllOrdersAfter``); no pair is called so.
The simulator books them the same way (Kraken's Rust SDK guide: "+1 trading, no pair")."""

# Slack for float time: a request scheduled at exactly ``ready_at`` must fit (see the REST
# counter's note on the resolution of Unix times; the same reasoning holds here).
_EPSILON = 1e-6


def _finite(value: object) -> bool:
    """A real number (not a bool), finite."""
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _penalty(table: tuple[tuple[float, int], ...], age: float | None) -> int:
    # An order whose age is unknown (not in the table yet) is taken as new: the dearest row.
    # Pacing too much only waits; pacing too little is the refusal pacing exists to avoid.
    if age is None:
        return table[0][1]
    for limit, penalty in table:
        if age < limit:
            return penalty
    return 0


def add_cost() -> float:
    """The cost of one AddOrder: +1."""
    return 1.0


def cancel_cost(age: float | None) -> float:
    """The cost of cancelling an order that has rested ``age`` seconds (None: unknown)."""
    return float(_penalty(CANCEL_PENALTIES, age))


def edit_cost(age: float | None) -> float:
    """The cost of EditOrder on an order that has rested ``age`` seconds: +1 and the penalty."""
    return 1.0 + _penalty(EDIT_PENALTIES, age)


def amend_cost(age: float | None) -> float:
    """The cost of AmendOrder on an order that has rested ``age`` seconds: +1 and the penalty."""
    return 1.0 + _penalty(AMEND_PENALTIES, age)


def batch_add_cost(count: int) -> float:
    """The cost of a batch of ``count`` AddOrders: ``count / 2``."""
    return count / 2


def batch_cancel_cost(ages: list[float | None]) -> float:
    """The cost of a batch cancel: each order's cancel penalty (never paced: Kraken accepts a
    batch cancel past the threshold)."""
    return float(sum(_penalty(CANCEL_PENALTIES, age) for age in ages))


def cancel_all_cost(pairs: int) -> float:
    """The cost of cancelAll touching orders on ``pairs`` pairs: +1 on each (never paced:
    Kraken accepts it past the threshold, like a batch cancel)."""
    return float(pairs)


def cancel_all_after_cost() -> float:
    """The cost of cancelAllOrdersAfter: +1, on the account's own counter (``ACCOUNT``)."""
    return 1.0


class TradingCounter:
    """The client's model of its account's per-pair trading counters.

    ``tier`` (``"starter"`` default, ``"intermediate"``, ``"pro"``) sets the threshold and
    decay; ``decay_per_second`` replaces the tier's decay when given (Kraken's published rates
    changed, or a simulator runs its counters faster). ``headroom`` units are kept free below
    the threshold (default 1: Kraken measures decay between the times requests *arrive*, and
    network jitter makes that interval shorter than the one measured here). Ask
    ``ready_at(pair, cost, now)`` when a request fits, wait until then, and
    ``charge(pair, cost, now)`` when it is sent. ``resync`` adopts the count the server reports
    (``ratecount``), ``set_threshold`` its ceiling (``maxratecount``); ``saturate`` records a
    refusal. ``now`` must not go backwards (a step back counts as no time passing).
    """

    __slots__ = ("_counts", "_decay_given", "decay_per_second", "headroom", "threshold", "tier")

    def __init__(
        self,
        tier: str = "starter",
        *,
        headroom: float = 1.0,
        decay_per_second: float | None = None,
    ) -> None:
        if tier not in TRADING_TIERS:
            raise LocalProtocolError(f"tier: must be one of {', '.join(TRADING_TIERS)}")
        if not _finite(headroom) or headroom < 0:
            raise LocalProtocolError(f"headroom: must be a finite number >= 0, got {headroom!r}")
        decay = decay_per_second
        if decay is not None and (not _finite(decay) or decay <= 0):
            raise LocalProtocolError(
                f"decay_per_second: must be a finite number > 0, got {decay_per_second!r}"
            )
        self.tier = tier
        self.threshold = float(TRADING_TIERS[tier].threshold)
        self._decay_given = decay_per_second is not None
        self.decay_per_second = (
            TRADING_TIERS[tier].decay_per_second
            if decay_per_second is None
            else float(decay_per_second)
        )
        self.headroom = float(headroom)
        # pair -> (level, the time it was measured)
        self._counts: dict[str, tuple[float, float]] = {}

    def __repr__(self) -> str:
        return f"TradingCounter(tier={self.tier!r}, pairs={len(self._counts)})"

    def level(self, pair: str, now: float) -> float:
        """The modelled counter of ``pair`` at ``now`` (0 for a pair never charged)."""
        count, since = self._counts.get(pair, (0.0, now))
        return max(0.0, count - self.decay_per_second * max(0.0, now - since))

    def ready_at(self, pair: str, cost: float, now: float) -> float:
        """The earliest time >= ``now`` at which a request of ``cost`` on ``pair`` fits.

        A request dearer than the whole budget can never fit; it is ready once the counter
        is empty (Kraken will refuse it, and that refusal is the honest answer)."""
        limit = self.threshold - self.headroom
        excess = self.level(pair, now) + min(cost, limit) - limit
        if excess <= _EPSILON:
            return now
        return now + excess / self.decay_per_second

    def charge(self, pair: str, cost: float, now: float) -> None:
        """Add ``cost`` to ``pair``'s counter: the request was sent at ``now``."""
        self._counts[pair] = (self.level(pair, now) + cost, now)
        self._prune(now)

    def resync(self, pair: str, count: float, now: float) -> None:
        """Adopt the server's count for ``pair`` (v1 ``ratecount``, v2 ``ratecounter``)."""
        self._counts[pair] = (max(0.0, float(count)), now)

    def set_threshold(self, maximum: float) -> None:
        """Adopt the server's threshold (``maxratecount``, in the v1 openOrders and the v2
        executions subscribe ack): the server knows the account's tier. When it is one tier's
        threshold and no ``decay_per_second`` was given, the decay becomes the slower of the
        configured tier's and that tier's: a decay modelled too fast is a refusal, too slow
        only a wait."""
        if maximum > 0:
            self.threshold = float(maximum)
            if not self._decay_given:
                for tier in TRADING_TIERS.values():
                    if tier.threshold == maximum:
                        self.decay_per_second = min(self.decay_per_second, tier.decay_per_second)

    def saturate(self, pair: str, now: float) -> None:
        """Kraken refused a request on ``pair`` for the rate limit: the counter is full."""
        self._counts[pair] = (self.threshold, now)

    def _prune(self, now: float) -> None:
        # Bounded memory: a pair whose counter has decayed to nothing is forgotten (its entry
        # would read 0 anyway). Done only when the table grows, so the cost stays amortised.
        if len(self._counts) > 64:
            for pair in [p for p in self._counts if self.level(p, now) == 0.0]:
                del self._counts[pair]
