"""A table of real Kraken spot pairs, as the simulator trades them (pure data).

Each entry mirrors the fields of Kraken's public ``AssetPairs`` answer that shape traffic:
``pair_decimals`` (tick of an order's price), ``lot_decimals`` (of its volume), ``ordermin``,
``costmin``, the taker (``fees``) and maker (``fees_maker``) tiers, and the ``leverage_buy`` /
``leverage_sell`` levels a margin order may use. ``wire_decimals`` is what the private feeds
write prices, costs and fees with: 5 for XBT/USD, ETH/USD and SOL/USD, 6 for ATOM/USD in
captured openOrders/ownTrades frames (2023), which fit ``max(5, pair_decimals + 2)``; USDT/USD
does not: its captured records carry 8 (below).

Sources (facts only; values as of the dates given):

* XBT/USD, ETH/USD, SOL/USD decimals, ``ordermin``, ``costmin``: AssetPairs answers recorded
  in public test fixtures, 2025-2026 (e.g. SOLUSD ``ordermin`` 0.06, XXBTZUSD 0.00005,
  XETHZUSD ``pair_decimals`` 2, ``tick_size`` 0.01); XBT/USD and SOL/USD leverage 2-10 from a
  2026 answer, USDT/USD none (2018 answer). ETH/USD, XBT/EUR (2-5) and ATOM/USD (2-3)
  leverage levels are not from a capture: treat them as placeholders.
* XBT/EUR ``pair_decimals`` 1, ATOM/USD 4, USDT/USD 4 and their minimums (ATOM 1, USDT 5):
  a 2021 Kraken security-definition table; XBT/EUR takes XBT/USD's ``ordermin``.
* Fee tiers: the volume schedule in 2024-2025 AssetPairs answers (0.40 % taker / 0.25 % maker
  below 10,000 USD of 30-day volume); USDT/USD uses the stablecoin schedule whose first tiers
  (0.20 % / 0.16 % from 50,000) an AssetPairs answer shows.
* Wire decimals: kraken-async-rs v0.3.0 captures (ATOM/USD ``"9.250000"``, SOL/USD
  ``"25.00000"``, ETH/USD ``"1967.68000"``); USDT/USD's 8 from a live openOrders record of
  Dec 2022 quoted in bittrade-kraken-websocket (``"price":"0.99980000"``, ``"avg_price":
  "0.00000000"``, ``descr.order`` ``"buy 30.00000000 USDT/USD @ limit 0.99980000"``), whose
  ``addOrderStatus.descr`` keeps the pair's 4 (``"buy 10.00000000 USDTUSD @ limit 0.9980"``).
"""

from __future__ import annotations

from decimal import Decimal

from ._config import STANDARD_FEES, STANDARD_MAKER_FEES, PairConfig, fee_tiers

__all__ = ["STABLECOIN_FEES", "STANDARD_FEES", "STANDARD_MAKER_FEES", "kraken_pairs"]


STABLECOIN_FEES = fee_tiers((0, "0.20"), (50_000, "0.16"))

_TO_FIVE = (2, 3, 4, 5)
_TO_TEN = (2, 3, 4, 5, 6, 7, 8, 9, 10)


def kraken_pairs() -> dict[str, PairConfig]:
    """A fresh copy of the table: ws pair name -> configuration (reference prices are
    plausible round values, not market data)."""
    return {
        "XBT/USD": PairConfig(
            reference_price=Decimal("30000.0"),
            price_decimals=1,
            volume_decimals=8,
            order_min=Decimal("0.00005"),
            cost_min=Decimal("0.5"),
            base="XBT",
            quote="USD",
            leverage_buy=_TO_TEN,
            leverage_sell=_TO_TEN,
        ),
        "XBT/EUR": PairConfig(
            reference_price=Decimal("28000.0"),
            price_decimals=1,
            volume_decimals=8,
            order_min=Decimal("0.00005"),
            cost_min=Decimal("0.45"),
            base="XBT",
            quote="EUR",
            leverage_buy=_TO_FIVE,
            leverage_sell=_TO_FIVE,
        ),
        "ETH/USD": PairConfig(
            reference_price=Decimal("2000.00"),
            price_decimals=2,
            volume_decimals=8,
            order_min=Decimal("0.002"),
            cost_min=Decimal("0.5"),
            base="ETH",
            quote="USD",
            leverage_buy=_TO_FIVE,
            leverage_sell=_TO_FIVE,
        ),
        "SOL/USD": PairConfig(
            reference_price=Decimal("25.00"),
            price_decimals=2,
            volume_decimals=8,
            order_min=Decimal("0.06"),
            cost_min=Decimal("0.5"),
            base="SOL",
            quote="USD",
            leverage_buy=_TO_TEN,
            leverage_sell=_TO_TEN,
        ),
        "ATOM/USD": PairConfig(
            reference_price=Decimal("9.2500"),
            price_decimals=4,
            volume_decimals=8,
            order_min=Decimal("1"),
            cost_min=Decimal("0.5"),
            base="ATOM",
            quote="USD",
            wire_decimals=6,
            leverage_buy=(2, 3),
            leverage_sell=(2, 3),
        ),
        "USDT/USD": PairConfig(
            reference_price=Decimal("1.0000"),
            price_decimals=4,
            volume_decimals=8,
            order_min=Decimal("5"),
            cost_min=Decimal("5"),
            base="USDT",
            quote="USD",
            wire_decimals=8,
            fees=STABLECOIN_FEES,
            fees_maker=STABLECOIN_FEES,
        ),
    }
