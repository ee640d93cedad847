"""Configuration of the simulated exchange: pairs, account funds, limits and timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["FeeTiers", "PairConfig", "SimulatorConfig", "fee_rate"]

FeeTiers = tuple[tuple[Decimal, Decimal], ...]
"""Kraken's ``fees`` / ``fees_maker`` rows: (30-day volume from, fee in percent)."""

# Kraken's 2024-2025 volume schedule (see ``_pairs``), repeated here for bare PairConfigs.
_TAKER = ((Decimal(0), Decimal("0.40")), (Decimal(10_000), Decimal("0.35")))
_MAKER = ((Decimal(0), Decimal("0.25")), (Decimal(10_000), Decimal("0.20")))


@dataclass
class PairConfig:
    """One tradable pair as Kraken's ``AssetPairs`` describes it, plus its reference price.

    ``price_decimals`` is ``pair_decimals`` (an order price with more decimals is refused),
    ``volume_decimals`` is ``lot_decimals``, ``order_min`` is ``ordermin``. ``wire_decimals``
    is how many decimals the private feeds write prices, costs and fees with (None: Kraken's
    observed ``max(5, price_decimals + 2)``). ``altname`` is the REST name used in
    ``addOrderStatus.descr`` (None: base + quote, ``XBTUSD``). Empty leverage tuples mean the
    pair has no margin trading.
    """

    reference_price: Decimal
    price_decimals: int = 1
    volume_decimals: int = 8
    order_min: Decimal = Decimal("0.0001")
    base: str = "XBT"
    quote: str = "USD"
    wire_decimals: int | None = None
    altname: str | None = None
    cost_min: Decimal = Decimal(0)
    fees: FeeTiers = _TAKER
    fees_maker: FeeTiers = _MAKER
    leverage_buy: tuple[int, ...] = ()
    leverage_sell: tuple[int, ...] = ()

    @property
    def wire_places(self) -> int:
        if self.wire_decimals is not None:
            return self.wire_decimals
        return max(5, self.price_decimals + 2)

    @property
    def rest_name(self) -> str:
        return self.altname if self.altname is not None else self.base + self.quote


def fee_rate(tiers: FeeTiers, volume: Decimal) -> Decimal:
    """The fee (as a fraction, 0.0040 for 0.40 %) of the highest tier ``volume`` reaches."""
    percent = tiers[0][1]
    for start, tier_percent in tiers:
        if volume >= start:
            percent = tier_percent
    return percent / 100


def _default_pairs() -> dict[str, PairConfig]:
    from ._pairs import kraken_pairs  # the table imports this module

    return kraken_pairs()


def _default_balances() -> dict[str, Decimal]:
    return {
        "USD": Decimal("10000000"),
        "EUR": Decimal("10000000"),
        "XBT": Decimal("1000"),
        "ETH": Decimal("10000"),
        "SOL": Decimal("1000000"),
        "ATOM": Decimal("1000000"),
        "USDT": Decimal("10000000"),
    }


@dataclass
class SimulatorConfig:
    """Everything the model is configured with; defaults give a ready-to-trade account.

    The default secret is the public test key from Kraken's REST authentication guide.
    """

    api_key: str = "kraken-proto-simulator-key"
    api_secret: str = (
        "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
    )
    websocket_permission: bool = True
    pairs: dict[str, PairConfig] = field(default_factory=_default_pairs)
    balances: dict[str, Decimal] = field(default_factory=_default_balances)
    maxratecount: int = 125
    rate_decay_per_second: Decimal = Decimal("2.34")
    token_ttl: float = 900.0
    heartbeat_interval: float = 1.0
    system_status: str = "online"
    version: str = "1.9.1"
    # 30-day trade volume in USD: picks the fee tier of every pair.
    fee_volume: Decimal = Decimal(0)
    # Kraken's doc says ownTrades updates carry userref/cl_ord_id; no captured update
    # (2020-2023) does. False follows the captures; True follows the doc.
    owntrades_userref: bool = False

    def __repr__(self) -> str:  # the secret never appears in a repr
        return f"SimulatorConfig(api_key={self.api_key[:4]!r}…, pairs={sorted(self.pairs)})"
