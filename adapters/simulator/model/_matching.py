"""The simple per-pair matching rules of the simulator (pure)."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from ._format import RandomLike
from ._orders import Order

__all__ = ["crosses", "split_volume", "trigger_fires", "update_trailing"]


def split_volume(total: Decimal, places: int, rng: RandomLike) -> list[Decimal]:
    """Cut ``total`` into 1-3 fills (the rng decides), each at least one volume unit."""
    unit = Decimal(1).scaleb(-places)
    parts = 1 + rng.randrange(3)
    parts = max(1, min(parts, int(total / unit)))
    fills: list[Decimal] = []
    left = total
    for index in range(parts - 1):
        share = Decimal(f"{0.25 + 0.5 * rng.random():.6f}") / (parts - index)
        piece = (left * share).quantize(unit, rounding=ROUND_DOWN)
        piece = min(max(piece, unit), left - unit * (parts - index - 1))
        fills.append(piece)
        left -= piece
    fills.append(left)
    return fills


def crosses(side: str, limit: Decimal, reference: Decimal) -> bool:
    """True when a limit order at ``limit`` is marketable against ``reference``."""
    return reference <= limit if side == "buy" else reference >= limit


def update_trailing(order: Order, reference: Decimal) -> None:
    """Move a trailing stop's watermark and trigger level with a favourable price."""
    if order.watermark is None:
        order.watermark = reference
    elif order.side == "sell":
        order.watermark = max(order.watermark, reference)
    else:
        order.watermark = min(order.watermark, reference)
    offset = order.price
    order.stopprice = order.watermark - offset if order.side == "sell" else order.watermark + offset


def trigger_fires(order: Order, reference: Decimal) -> Decimal | None:
    """The trigger level that ``reference`` crossed, or None when the order keeps waiting.

    A stop-loss sell fires at or below its price (a buy at or above); a take-profit the other
    way round; trailing stops use their moving level; stop-loss-profit has both.
    """
    kind = order.ordertype
    selling = order.side == "sell"
    adverse = reference <= order.price if selling else reference >= order.price
    favourable = reference >= order.price if selling else reference <= order.price
    if kind in ("stop-loss", "stop-loss-limit", "stop-loss-and-limit"):
        return order.price if adverse else None
    if kind in ("take-profit", "take-profit-limit"):
        return order.price if favourable else None
    if kind in ("trailing-stop", "trailing-stop-limit"):
        update_trailing(order, reference)
        level = order.stopprice
        hit = reference <= level if selling else reference >= level
        return level if hit else None
    # stop-loss-profit(-limit): price is the stop, price2 the take-profit level
    if adverse:
        return order.price
    profit = reference >= order.price2 if selling else reference <= order.price2
    return order.price2 if profit else None
