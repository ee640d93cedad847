"""Balances of the simulated account, with funds reserved by open orders (pure)."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["Account"]


class Account:
    """Total balances per asset; each live order may hold one reservation.

    ``available`` is the total minus every reservation; placing an order reserves what it
    could spend, fills settle the totals, and finishing an order releases its reservation.
    """

    def __init__(self, balances: dict[str, Decimal]) -> None:
        self.balances: dict[str, Decimal] = dict(balances)
        self._reserved: dict[str, tuple[str, Decimal]] = {}

    def available(self, asset: str, *, ignoring: str | None = None) -> Decimal:
        held = sum(
            (
                amount
                for key, (name, amount) in self._reserved.items()
                if name == asset and key != ignoring
            ),
            Decimal(0),
        )
        return self.balances.get(asset, Decimal(0)) - held

    def reserve(self, key: str, asset: str, amount: Decimal) -> None:
        self._reserved[key] = (asset, amount)

    def release(self, key: str) -> None:
        self._reserved.pop(key, None)

    def settle(
        self, *, side: str, base: str, quote: str, vol: Decimal, cost: Decimal, fee: Decimal
    ) -> None:
        """Book one fill: a buy pays cost + fee in quote, a sell receives cost - fee."""
        zero = Decimal(0)
        if side == "buy":
            self.balances[quote] = self.balances.get(quote, zero) - cost - fee
            self.balances[base] = self.balances.get(base, zero) + vol
        else:
            self.balances[base] = self.balances.get(base, zero) - vol
            self.balances[quote] = self.balances.get(quote, zero) + cost - fee

    def pay_fee(self, asset: str, fee: Decimal) -> None:
        """Book a margin fill's fee: the position itself moves no balance."""
        self.balances[asset] = self.balances.get(asset, Decimal(0)) - fee
