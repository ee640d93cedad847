"""The tiny harness every fuzz target shares.

A target is a ``check(data: bytes) -> None`` that raises (usually ``AssertionError``) when an
invariant breaks, plus seeds and a mutation dictionary. ``run(target)`` is each target script's
``main``:

* with atheris importable (and no ``--iterations``), coverage-guided fuzzing through libFuzzer;
* otherwise a bounded, reproducible random-mutation loop over the seeds and the committed
  corpus (``fuzz/corpus/<target>/``), for ``--iterations N`` inputs or ``--seconds S``;
* given file paths, it replays those inputs once each (how a finding is reproduced).

Either way the last lines name the executions (``stat::number_of_executed_units: N``, the key
libFuzzer prints with ``-print_final_stats=1``) and a finding is written to
``fuzz/findings/<target>/crash-<sha1>`` and ends the process with a non-zero status.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import sys
import tempfile
import time
import traceback
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CORPUS_DIR",
    "FINDINGS_DIR",
    "ROOT",
    "Target",
    "corpus_files",
    "corpus_inputs",
    "mutate",
    "run",
    "run_loop",
    "split_frames",
]

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "fuzz" / "corpus"
FINDINGS_DIR = ROOT / "fuzz" / "findings"

# Byte fragments that reach interesting branches in any JSON-ish or HTTP-ish parser.
COMMON_TOKENS: tuple[bytes, ...] = (
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"true",
    b"false",
    b"-1",
    b"0",
    b"1e999",
    b"NaN",
    b"18446744073709551616",
    b"1.50",
    b'""',
    b'"\\ud800"',
    b"\\",
    b"\xff",
    b"\xed\xa0\x80",
    b"\r\n",
    b"[" * 64,
    b"]" * 64,
)


@dataclass(frozen=True)
class Target:
    """One fuzz target: its name (also its corpus directory), invariant check and seeds.

    ``check`` must build every object it uses from ``data`` alone, so an input that fails
    replays the same way in a fresh process. ``tokens`` feed the mutation loop and libFuzzer's
    dictionary; ``max_len`` caps libFuzzer's input size.
    """

    name: str
    check: Callable[[bytes], None]
    seeds: Callable[[], Iterable[bytes]]
    tokens: tuple[bytes, ...] = field(default=())
    max_len: int = 4096

    @property
    def corpus_dir(self) -> Path:
        return CORPUS_DIR / self.name

    @property
    def findings_dir(self) -> Path:
        return FINDINGS_DIR / self.name


def split_frames(data: bytes, limit: int = 64) -> list[bytes]:
    """Split a multi-message input on ``\\n`` (at most ``limit`` pieces, the rest stays joined)."""
    return data.split(b"\n", limit - 1)


def corpus_files(target: Target) -> list[Path]:
    """The committed corpus of ``target`` (``fuzz/corpus/<name>/*``), sorted by name."""
    if not target.corpus_dir.is_dir():
        return []
    return sorted(path for path in target.corpus_dir.iterdir() if path.is_file())


def corpus_inputs(target: Target) -> list[bytes]:
    """The committed corpus, or the target's seeds when none is committed yet."""
    files = corpus_files(target)
    if files:
        return [path.read_bytes() for path in files]
    return list(target.seeds())


def mutate(
    data: bytes, rng: random.Random, pool: Sequence[bytes], tokens: Sequence[bytes]
) -> bytes:
    """One to four random byte-level mutations of ``data`` (splicing from ``pool``)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        at = rng.randint(0, len(out))
        if kind == 0 and out:  # flip bits of one byte
            index = rng.randrange(len(out))
            out[index] ^= 1 << rng.randrange(8)
        elif kind == 1:  # insert a token
            out[at:at] = rng.choice(tokens)
        elif kind == 2:  # delete a range
            out[at : at + rng.randint(1, 16)] = b""
        elif kind == 3:  # truncate
            del out[at:]
        elif kind == 4 and out:  # duplicate a range (duplicate keys, repeated entries)
            start = rng.randrange(len(out))
            out[at:at] = out[start : start + rng.randint(1, 64)]
        elif kind == 5:  # splice in part of another input
            other = rng.choice(pool)
            start = rng.randint(0, len(other))
            out[at:at] = other[start : start + rng.randint(1, 128)]
        else:  # random bytes
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(out)


class Finding(Exception):
    """An input broke the target's invariant; ``data`` is the input, ``path`` where it went."""

    def __init__(self, data: bytes, path: Path) -> None:
        super().__init__(f"finding saved to {path}")
        self.data = data
        self.path = path


def _save_finding(target: Target, data: bytes) -> Path:
    target.findings_dir.mkdir(parents=True, exist_ok=True)
    path = target.findings_dir / f"crash-{hashlib.sha1(data).hexdigest()}"
    path.write_bytes(data)
    return path


def _checked(target: Target, data: bytes) -> None:
    try:
        target.check(data)
    except Exception:
        traceback.print_exc()
        raise Finding(data, _save_finding(target, data)) from None


def run_loop(
    target: Target,
    *,
    iterations: int | None = None,
    seconds: float | None = None,
    seed: int = 1,
) -> int:
    """Check every seed and corpus input, then mutated ones until ``iterations`` inputs or
    ``seconds`` have passed (whichever is given; both: the first reached). Returns how many
    inputs ran; raises ``Finding`` at the first broken invariant."""
    rng = random.Random(seed)
    pool = corpus_inputs(target) or [b""]
    tokens = (*COMMON_TOKENS, *target.tokens)
    for data in pool:
        _checked(target, data)
    runs = len(pool)
    deadline = None if seconds is None else time.monotonic() + seconds
    done = 0
    while iterations is None or done < iterations:
        if deadline is not None and done % 64 == 0 and time.monotonic() >= deadline:
            break
        data = mutate(rng.choice(pool), rng, pool, tokens)
        _checked(target, data[: target.max_len])
        done += 1
    return runs + done


def _dictionary_file(target: Target, directory: Path) -> Path:
    """libFuzzer's ``-dict`` file: one ``"\\xNN..."`` entry per token."""
    path = directory / "tokens.dict"
    tokens = sorted({*COMMON_TOKENS, *target.tokens})
    path.write_text(
        "".join('"' + "".join(f"\\x{byte:02x}" for byte in token) + '"\n' for token in tokens)
    )
    return path


# Code whose branches guide the fuzzer: ours and the pure-Python parsers under the adapters.
# (``atheris.instrument_all()`` would also instrument the whole standard library: 30 s of
# start-up per target on this machine, for coverage that does not matter here.)
_INSTRUMENTED = (str(ROOT / "kraken_proto"), str(ROOT / "adapters"), "/wsproto/", "/h11/")


def _instrument(atheris: Any) -> int:
    """Instrument every loaded function from ``_INSTRUMENTED``; return how many."""
    functions = [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, types.FunctionType)
        and any(part in obj.__code__.co_filename for part in _INSTRUMENTED)
    ]
    for function in functions:
        atheris.instrument_func(function)
    print(f"INFO: instrumented {len(functions)} functions", file=sys.stderr)
    return len(functions)


def _fuzz_with_atheris(
    target: Target, seconds: float | None, workdir: Path | None, extra: Sequence[str]
) -> None:
    # Needs atheris; run by run_all.py and CI, not by the unit tests.
    import atheris

    scratch = workdir or Path(tempfile.mkdtemp(prefix=f"kraken-fuzz-{target.name}-"))
    work_corpus = scratch / "corpus"
    work_corpus.mkdir(parents=True, exist_ok=True)
    target.findings_dir.mkdir(parents=True, exist_ok=True)
    seeds_dir = scratch / "seeds"
    seeds_dir.mkdir(exist_ok=True)
    if not corpus_files(target):
        for index, data in enumerate(target.seeds()):
            (seeds_dir / f"seed-{index:04d}").write_bytes(data)
    argv = [
        sys.argv[0],
        f"-artifact_prefix={target.findings_dir}/",
        f"-max_len={target.max_len}",
        f"-dict={_dictionary_file(target, scratch)}",
        "-timeout=10",
        "-rss_limit_mb=2048",
        "-print_final_stats=1",
        *([f"-max_total_time={max(1, round(seconds))}"] if seconds is not None else []),
        *extra,
        # New inputs go to the first directory only, so the committed corpus stays as it is.
        str(work_corpus),
        str(seeds_dir),
        *([str(target.corpus_dir)] if target.corpus_dir.is_dir() else []),
    ]
    _instrument(atheris)
    atheris.Setup(argv, target.check)
    atheris.Fuzz()


def run(target: Target, argv: Sequence[str] | None = None) -> int:
    """Command line of every target script; returns the process exit status."""
    parser = argparse.ArgumentParser(description=f"fuzz target {target.name}")
    parser.add_argument("inputs", nargs="*", type=Path, help="replay these input files and stop")
    parser.add_argument("--iterations", type=int, help="run the built-in loop this many times")
    parser.add_argument("--seconds", type=float, help="stop after this many seconds")
    parser.add_argument("--seed", type=int, default=1, help="seed of the built-in loop")
    parser.add_argument("--no-atheris", action="store_true", help="use the built-in loop")
    parser.add_argument("--workdir", type=Path, help="atheris: scratch directory for its corpus")
    args, extra = parser.parse_known_args(argv)
    if args.inputs:
        for path in args.inputs:
            target.check(path.read_bytes())
            print(f"ok: {path}")
        return 0
    if args.iterations is None and not args.no_atheris:
        try:
            import atheris  # noqa: F401
        except ImportError:
            pass
        else:  # pragma: no cover - needs atheris
            _fuzz_with_atheris(target, args.seconds, args.workdir, extra)
            return 0
    if args.iterations is None and args.seconds is None:
        args.iterations = 100_000
    started = time.monotonic()
    try:
        runs = run_loop(target, iterations=args.iterations, seconds=args.seconds, seed=args.seed)
    except Finding as finding:
        print(f"FINDING in {target.name}: {finding}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    print(f"ok: {target.name}: {runs} inputs in {elapsed:.1f} s (built-in loop, seed {args.seed})")
    print(f"stat::number_of_executed_units: {runs}")
    return 0
