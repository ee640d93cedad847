"""Configuration of the simulated exchange: pairs, account funds, limits and timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["PairConfig", "SimulatorConfig"]


@dataclass
class PairConfig:
    """One tradable pair: its reference ("market") price, tick size and lot size."""

    reference_price: Decimal
    price_decimals: int = 1
    volume_decimals: int = 8
    order_min: Decimal = Decimal("0.0001")
    base: str = "XBT"
    quote: str = "USD"


def _default_pairs() -> dict[str, PairConfig]:
    return {
        "XBT/USD": PairConfig(reference_price=Decimal("30000.0")),
        "ETH/USD": PairConfig(
            reference_price=Decimal("2000.00"),
            price_decimals=2,
            order_min=Decimal("0.01"),
            base="ETH",
        ),
    }


def _default_balances() -> dict[str, Decimal]:
    return {"USD": Decimal("10000000"), "XBT": Decimal("1000"), "ETH": Decimal("10000")}


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

    def __repr__(self) -> str:  # the secret never appears in a repr
        return f"SimulatorConfig(api_key={self.api_key[:4]!r}…, pairs={sorted(self.pairs)})"
