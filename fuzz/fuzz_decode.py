"""Fuzz ``kraken_proto.decode`` for its one invariant: any input either decodes to an ``Event``
or raises ``RemoteProtocolError``, nothing else.

Each input is fed whole, as ``bytes`` and as ``str`` (decoded with ``surrogateescape``, so
invalid UTF-8 turns into lone surrogates and exercises that path too).

With atheris installed, ``python fuzz/fuzz_decode.py [libFuzzer options]`` runs coverage-guided
fuzzing. Without it, or with ``--iterations N``, it runs a bounded, reproducible random-mutation
loop over the real fixture frames: ``python fuzz/fuzz_decode.py --iterations 100000 --seed 1``.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make tests.fixtures_v1 importable
    sys.path.insert(0, str(ROOT))

import kraken_proto  # noqa: E402
from tests.fixtures_v1 import REAL_FRAMES  # noqa: E402

__all__ = ["SEEDS", "check", "main", "mutate", "run_loop"]

# Fragments that tend to reach interesting branches when spliced into a frame.
_TOKENS: tuple[bytes, ...] = (
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"true",
    b"-1",
    b"0",
    b"1e999",
    b"18446744073709551616",
    b"1.50",
    b'""',
    b'"\\ud800"',
    b"\\",
    b"\xff",
    b"\xed\xa0\x80",
    b'"event"',
    b'"openOrders"',
    b'"ownTrades"',
    b'{"sequence":1}',
    b'"reqid":"a"',
    b'"count":"7"',
    b'"price":""',
    b"[" * 64,
    b"]" * 64,
)
SEEDS: tuple[bytes, ...] = (
    *REAL_FRAMES,
    b"[" * 5000,
    b'{"event":"cancelAllStatus","status":"ok","count":"2"}',
    b'[[{"T":{"price":""}}],"ownTrades",{"sequence":1}]',
)


def check(data: bytes) -> None:
    """Feed ``data`` whole, as bytes and as text; fail if anything but an Event or a
    RemoteProtocolError comes out."""
    for frame in (data, data.decode("utf-8", "surrogateescape")):
        try:
            event = kraken_proto.decode(frame)
        except kraken_proto.RemoteProtocolError:
            continue
        if not isinstance(event, kraken_proto.Event):
            raise AssertionError(f"decode returned {type(event).__name__} for {frame!r}")


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four random byte-level mutations of ``data``."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        at = rng.randint(0, len(out))
        if kind == 0 and out:  # flip bits of one byte
            index = rng.randrange(len(out))
            out[index] ^= 1 << rng.randrange(8)
        elif kind == 1:  # insert a token
            out[at:at] = rng.choice(_TOKENS)
        elif kind == 2:  # delete a range
            out[at : at + rng.randint(1, 16)] = b""
        elif kind == 3:  # truncate
            del out[at:]
        elif kind == 4 and out:  # duplicate a range (duplicate keys, repeated entries)
            start = rng.randrange(len(out))
            out[at:at] = out[start : start + rng.randint(1, 64)]
        elif kind == 5:  # splice in part of another frame
            other = rng.choice(SEEDS)
            start = rng.randint(0, len(other))
            out[at:at] = other[start : start + rng.randint(1, 128)]
        else:  # random bytes
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(out)


def run_loop(iterations: int, seed: int) -> int:
    """Check ``iterations`` mutated frames (plus every seed unmutated); return how many ran."""
    rng = random.Random(seed)
    for frame in SEEDS:
        check(frame)
    for _ in range(iterations):
        check(mutate(rng.choice(SEEDS), rng))
    return len(SEEDS) + iterations


def _fuzz_with_atheris(argv: Sequence[str]) -> None:  # pragma: no cover - needs atheris
    import atheris

    atheris.instrument_all()
    atheris.Setup([sys.argv[0], *argv], check)
    atheris.Fuzz()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: atheris when installed and no ``--iterations``; else the mutation loop."""
    parser = argparse.ArgumentParser(description="fuzz kraken_proto.decode")
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
    print(f"ok: {checked} inputs, each as bytes and as str; seed {args.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
