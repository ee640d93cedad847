"""The tiny harness every fuzz target of this folder shares.

A target is a ``check(data: bytes) -> None`` that raises (usually ``AssertionError``) when an
invariant breaks, plus seeds and a mutation dictionary: a ``kraken_proto.testing.fuzz``
``FuzzTarget`` (the pure targets live there, installed with the package; the ones that need the
adapters are written here), placed in this folder by ``Target``. ``run(target)`` is each target
script's ``main``:

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kraken_proto.testing.fuzz import (
    COMMON_TOKENS,
    FuzzFinding,
    FuzzTarget,
    fuzz_loop,
    mutate,
    split_frames,
)

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


@dataclass(frozen=True)
class Target(FuzzTarget):
    """A ``kraken_proto.testing.fuzz.FuzzTarget`` with its place in this folder: the
    committed corpus ``fuzz/corpus/<name>/`` and the findings ``fuzz/findings/<name>/``.

    ``check`` must build every object it uses from ``data`` alone, so an input that fails
    replays the same way in a fresh process. ``tokens`` feed the mutation loop and libFuzzer's
    dictionary; ``max_len`` caps libFuzzer's input size.
    """

    @classmethod
    def of(cls, target: FuzzTarget) -> Target:
        """The package's ``target`` (its check, seeds and tokens), placed in this folder."""
        return cls(target.name, target.check, target.seeds, target.tokens, target.max_len)

    @property
    def corpus_dir(self) -> Path:
        return CORPUS_DIR / self.name

    @property
    def findings_dir(self) -> Path:
        return FINDINGS_DIR / self.name


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


def run_loop(
    target: Target,
    *,
    iterations: int | None = None,
    seconds: float | None = None,
    seed: int = 1,
) -> int:
    """Check every seed and corpus input, then mutated ones until ``iterations`` inputs or
    ``seconds`` have passed (whichever is given; both: the first reached). Returns how many
    inputs ran; raises ``Finding`` at the first broken invariant (its traceback printed)."""
    try:
        return fuzz_loop(
            target,
            corpus_inputs(target),
            random.Random(seed),
            iterations=iterations,
            seconds=seconds,
            clock=time.monotonic,
        )
    except FuzzFinding as finding:
        cause = finding.__cause__
        assert cause is not None  # fuzz_loop chains the check's error
        traceback.print_exception(cause)
        raise Finding(finding.data, _save_finding(target, finding.data)) from None


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
