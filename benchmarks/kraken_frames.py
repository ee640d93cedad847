"""Kraken-shaped records shared by the benchmarks (shapes from sections 3 and 4.2 of the
protocol doc), so every benchmark measures the same frames."""

from __future__ import annotations

from typing import Any

__all__ = ["PAIRS", "full_order", "trade", "txid"]

PAIRS = ("XBT/USD", "ETH/USD", "ATOM/USD", "XBT/EUR", "DOT/USD")


def txid(prefix: str, number: int) -> str:
    """A Kraken-shaped id (``OXXXXX-XXXXX-XXXXXX``) unique per ``number``."""
    text = f"{number:016X}"
    return f"{prefix}{text[:5]}-{text[5:10]}-{text[10:16]}"


def full_order(number: int, status: str = "open") -> dict[str, Any]:
    """A full order record shaped like section 4.2 of the protocol doc."""
    pair = PAIRS[number % len(PAIRS)]
    side = "buy" if number % 2 else "sell"
    price = f"{9 + number % 7}.{number % 1000:06d}"
    return {
        "avg_price": "0.000000",
        "cost": "0.000000",
        "descr": {
            "close": None,
            "leverage": None,
            "order": f"{side} 5.00000000 {pair} @ limit {price}",
            "ordertype": "limit",
            "pair": pair,
            "price": price,
            "price2": "0.000000",
            "type": side,
        },
        "expiretm": None,
        "fee": "0.000000",
        "limitprice": "0.000000",
        "misc": "",
        "oflags": "fciq",
        "opentm": f"17002206{number % 100:02d}.985020",
        "refid": None,
        "starttm": None,
        "status": status,
        "stopprice": "0.000000",
        "timeinforce": "GTC",
        "userref": number,
        "vol": "5.00000000",
        "vol_exec": "0.00000000",
    }


def _fill_time(number: int) -> str:
    """The time of fill ``number`` as Kraken writes it: 1699987300.892228 plus 0.05 s each."""
    micros = 892228 + number * 50000
    return f"{1699987300 + micros // 1_000_000}.{micros % 1_000_000:06d}"


def trade(number: int, *, update: bool = False) -> dict[str, Any]:
    """An ownTrades record; ``update=True`` adds ``userref``, which only updates carry."""
    record: dict[str, Any] = {
        "cost": f"{1000 + number}.{number % 100000:05d}",
        "fee": f"{number % 10}.{number % 100000:05d}",
        "margin": "0.00000",
        "ordertxid": txid("O", number),
        "ordertype": "limit",
        "pair": PAIRS[number % len(PAIRS)],
        "postxid": "TKH2SE-M7IF5-CFI7LT",
        "price": f"{26000 + number}.{number % 100000:05d}",
        # Live fills come in time order, each at its own time (here 0.05 s apart): a time that
        # repeats or runs back would take paths a live stream does not (the fill memory's).
        "time": _fill_time(number),
        "type": "buy" if number % 2 else "sell",
        "vol": f"0.{number % 100000000:08d}",
    }
    if update:
        record["userref"] = number
    return record
