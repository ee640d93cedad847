"""Configuration of the simulated exchange: pairs, account funds, limits and timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "STANDARD_FEES",
    "STANDARD_MAKER_FEES",
    "FeeTiers",
    "PairConfig",
    "SimulatorConfig",
    "fee_rate",
    "fee_tiers",
]

FeeTiers = tuple[tuple[Decimal, Decimal], ...]
"""Kraken's ``fees`` / ``fees_maker`` rows: (30-day USD volume from, fee in percent)."""


def fee_tiers(*rows: tuple[int, str]) -> FeeTiers:
    return tuple((Decimal(volume), Decimal(percent)) for volume, percent in rows)


# Kraken's volume schedule as 2024-2025 AssetPairs answers list it (taker, then maker).
STANDARD_FEES = fee_tiers(
    (0, "0.40"),
    (10_000, "0.35"),
    (50_000, "0.24"),
    (100_000, "0.22"),
    (250_000, "0.20"),
    (500_000, "0.18"),
    (1_000_000, "0.16"),
    (2_500_000, "0.14"),
    (5_000_000, "0.12"),
    (10_000_000, "0.10"),
)
STANDARD_MAKER_FEES = fee_tiers(
    (0, "0.25"),
    (10_000, "0.20"),
    (50_000, "0.14"),
    (100_000, "0.12"),
    (250_000, "0.10"),
    (500_000, "0.08"),
    (1_000_000, "0.06"),
    (2_500_000, "0.04"),
    (5_000_000, "0.02"),
    (10_000_000, "0.00"),
)


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
    fees: FeeTiers = STANDARD_FEES
    fees_maker: FeeTiers = STANDARD_MAKER_FEES
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
    # A live v2 pending_new event carries no cum_qty (captures 2024-2026); kraken_proto reads a
    # pending order without one as "nothing executed" (vol_exec 0). True adds "cum_qty": 0 to
    # pending_new (the shape earlier versions of this simulator sent); False is the live shape.
    v2_pending_cum_qty: bool = False

    def __repr__(self) -> str:  # the secret never appears in a repr
        return f"SimulatorConfig(api_key={self.api_key[:4]!r}…, pairs={sorted(self.pairs)})"
