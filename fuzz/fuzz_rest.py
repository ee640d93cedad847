"""Fuzz the private REST parsers for their two invariants: any status and body either parse
to the call's result or raise the ``RestError`` family, and no exception message carries a
token-shaped value (20+ base64/url-safe characters) taken from the body.

``python fuzz/fuzz_rest.py --iterations 100000 --seed 1`` runs a bounded, reproducible
random-mutation loop over the REST doc's example bodies; with atheris installed and no
``--iterations``, coverage-guided fuzzing (the first input byte picks the HTTP status).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

import kraken_proto

__all__ = ["PARSERS", "SEEDS", "check", "main", "mutate", "run_loop"]

PARSERS: tuple[Callable[[int, bytes], Any], ...] = (
    kraken_proto.parse_open_orders_response,
    kraken_proto.parse_closed_orders_response,
    kraken_proto.parse_query_orders_response,
    kraken_proto.parse_trades_history_response,
    kraken_proto.parse_query_trades_response,
    kraken_proto.parse_token_response,
)
_TOKEN = b"1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw"
_ORDER = (
    b'{"refid":null,"userref":0,"status":"open","opentm":1688666559.8974,"starttm":0,'
    b'"expiretm":0,"descr":{"pair":"XBTUSD","type":"buy","ordertype":"limit","price":"30010.0",'
    b'"price2":"0","leverage":"none","order":"buy 1.25 XBTUSD @ limit 30010.0","close":""},'
    b'"vol":"1.25000000","vol_exec":"0.37500000","cost":"11253.7","fee":"0.00000",'
    b'"price":"30010.0","stopprice":"0.00000","limitprice":"0.00000","misc":"","oflags":"fciq",'
    b'"trades":["TCCCTY-WE2O6-P3NB37"]}'
)
_TRADE = (
    b'{"ordertxid":"OQCLML-BW3P3-BUCMWZ","postxid":"TKH2SE-M7IF5-CFI7LT","pair":"XXBTZUSD",'
    b'"time":1688667796.8802,"type":"buy","ordertype":"limit","price":"30010.00000",'
    b'"cost":"600.20000","fee":"0.00000","vol":"0.02000000","margin":"0.00000","misc":"",'
    b'"trade_id":40274859,"maker":true}'
)
SEEDS: tuple[bytes, ...] = (
    b'{"error":[],"result":{"open":{"OQCLML-BW3P3-BUCMWZ":' + _ORDER + b"}}}",
    b'{"error":[],"result":{"closed":{"OQCLML-BW3P3-BUCMWZ":' + _ORDER + b'},"count":2}}',
    b'{"error":[],"result":{"OQCLML-BW3P3-BUCMWZ":' + _ORDER + b"}}",
    b'{"error":[],"result":{"trades":{"THVRQM-33VKH-UCI7BS":' + _TRADE + b'},"count":9}}',
    b'{"error":[],"result":{"THVRQM-33VKH-UCI7BS":' + _TRADE + b"}}",
    b'{"error":[],"result":{"token":"' + _TOKEN + b'","expires":900}}',
    b'{"error":["EService: Throttled: 1700000000","EGeneral:Invalid arguments:' + _TOKEN + b'"]}',
    b"<html><body>" + _TOKEN + b"</body></html>",
)
_FRAGMENTS = (b'"', b"{", b"}", b"[", b"]", b",", b":", b"null", b"true", b"1e999", b'""', _TOKEN)
_TOKEN_SHAPED = re.compile(rb"[A-Za-z0-9+/=_-]{20,}")


def check(status: int, body: bytes) -> None:
    """Run every parser on ``status`` and ``body``; fail if an invariant breaks."""
    for parse in PARSERS:
        try:
            parse(status, body)
        except kraken_proto.RestError as error:
            message = str(error).encode("utf-8", "surrogateescape")
            for run in _TOKEN_SHAPED.findall(body):
                if run in message:
                    raise AssertionError(f"{parse.__name__} quoted {run!r}: {message!r}") from None


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four random byte-level mutations of ``data``."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(5)
        at = rng.randint(0, len(out))
        if kind == 0 and out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        elif kind == 1:
            out[at:at] = rng.choice(_FRAGMENTS)
        elif kind == 2:
            out[at : at + rng.randint(1, 16)] = b""
        elif kind == 3:
            other = rng.choice(SEEDS)
            start = rng.randint(0, len(other))
            out[at:at] = other[start : start + rng.randint(1, 128)]
        else:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(out)


def run_loop(iterations: int, seed: int) -> int:
    """Check every seed, then ``iterations`` mutated bodies; return how many ran."""
    rng = random.Random(seed)
    for body in SEEDS:
        check(200, body)
    for _ in range(iterations):
        check(rng.choice((200, 200, 200, 502)), mutate(rng.choice(SEEDS), rng))
    return len(SEEDS) + iterations


def _fuzz_with_atheris(argv: Sequence[str]) -> None:  # pragma: no cover - needs atheris
    import atheris

    atheris.instrument_all()
    atheris.Setup([sys.argv[0], *argv], lambda data: check(200 if data[:1] != b"!" else 500, data))
    atheris.Fuzz()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: atheris when installed and no ``--iterations``; else the mutation loop."""
    parser = argparse.ArgumentParser(description="fuzz the private REST parsers")
    parser.add_argument("--iterations", type=int, help="run the built-in loop this many times")
    parser.add_argument("--seed", type=int, default=1, help="seed of the built-in loop")
    args, rest = parser.parse_known_args(argv)
    if args.iterations is None:
        try:
            import atheris  # noqa: F401
        except ImportError:
            args.iterations = 100_000
        else:  # pragma: no cover - needs atheris
            _fuzz_with_atheris(rest)
            return 0
    checked = run_loop(args.iterations, args.seed)
    print(f"ok: {checked} bodies through {len(PARSERS)} parsers; seed {args.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
