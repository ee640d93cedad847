"""``kraken-proto fuzz TARGET``: run one of the pure fuzz targets of ``kraken_proto.testing``.

    kraken-proto fuzz decode --seconds 10
    python -m kraken_proto.testing.fuzz connection_v2 --iterations 100000 --seed 7
    kraken-proto fuzz rest fuzz-findings/rest/crash-0123abcd...    # replay inputs

Checks the target's seeds (built from the protocol docs' frames) and the files of
``--corpus DIR``, then random mutations of them, for ``--seconds`` or ``--iterations`` (default
100000 inputs). The same ``--seed`` gives the same inputs. A finding (an input that breaks an
invariant) is printed with its traceback and saved as ``--findings DIR/TARGET/crash-<sha1>``
(default ``./fuzz-findings``), and the run stops there. The targets and their invariants:
``kraken_proto.testing.fuzz``. Needs Hypothesis: ``pip install 'kraken_proto[testing]'``.
Exit 0 no finding, 1 a finding (or a replayed input that fails), 2 bad usage.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from ._common import OK, REFUSED, USAGE, CliError, guarded

if TYPE_CHECKING:
    from kraken_proto.testing.fuzz import FuzzTarget

__all__ = ["configure", "run", "save_finding"]

_DEFAULT_ITERATIONS = 100_000


def _targets() -> dict[str, FuzzTarget]:
    # Imported when used: it needs the optional Hypothesis (the [testing] extra).
    from kraken_proto.testing.fuzz import TARGETS

    return TARGETS


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``TARGET``, the replay ``FILE``s, ``--seconds``, ``--iterations``, ``--seed``,
    ``--corpus`` and ``--findings``."""
    try:
        names: list[str] | None = sorted(_targets())
    except ImportError:
        names = None  # run() says what to install
    parser.add_argument(
        "target",
        metavar="TARGET",
        choices=names,
        help=f"the target: {', '.join(names)}" if names else "the target",
    )
    parser.add_argument(
        "inputs", nargs="*", type=Path, metavar="FILE", help="replay these inputs and stop"
    )
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=float, help="mutate for this many seconds")
    budget.add_argument(
        "--iterations",
        type=int,
        help=f"check this many mutated inputs (default {_DEFAULT_ITERATIONS})",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the mutations (default 1)")
    parser.add_argument(
        "--corpus",
        type=Path,
        metavar="DIR",
        help="start from these files too (e.g. fuzz/corpus/decode)",
    )
    parser.add_argument(
        "--findings",
        type=Path,
        default=Path("fuzz-findings"),
        metavar="DIR",
        help="where a finding is saved, as DIR/TARGET/crash-<sha1> (default ./fuzz-findings)",
    )


def save_finding(directory: Path, target: str, data: bytes) -> Path:
    """Write ``data`` to ``directory/target/crash-<sha1 of data>`` and return that path."""
    folder = directory / target
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crash-{hashlib.sha1(data).hexdigest()}"
    path.write_bytes(data)
    return path


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}", USAGE) from None


def _fuzz(args: argparse.Namespace) -> int:
    try:
        target = _targets()[args.target]
    except ImportError as error:
        raise CliError(str(error), USAGE) from None
    from kraken_proto.testing.fuzz import FuzzFinding, fuzz_loop

    if args.inputs:
        for path in args.inputs:
            try:
                target.check(_read(path))
            except CliError:
                raise
            except Exception:
                traceback.print_exc()
                print(f"FINDING in {target.name}: {path} breaks an invariant", file=sys.stderr)
                return REFUSED
            print(f"ok: {path}")
        return OK
    pool = list(target.seeds())
    if args.corpus is not None:
        if not args.corpus.is_dir():
            raise CliError(f"--corpus {args.corpus}: not a directory", USAGE)
        pool += [_read(path) for path in sorted(args.corpus.iterdir()) if path.is_file()]
    iterations = args.iterations
    if iterations is None and args.seconds is None:
        iterations = _DEFAULT_ITERATIONS
    started = time.monotonic()
    try:
        runs = fuzz_loop(
            target,
            pool,
            random.Random(args.seed),
            iterations=iterations,
            seconds=args.seconds,
            clock=time.monotonic,
        )
    except FuzzFinding as finding:
        cause = finding.__cause__
        assert cause is not None  # fuzz_loop always chains the check's error
        traceback.print_exception(cause)
        path = save_finding(args.findings, target.name, finding.data)
        print(
            f"FINDING in {target.name}: saved to {path} "
            f"(replay: kraken-proto fuzz {target.name} {path})",
            file=sys.stderr,
        )
        return REFUSED
    elapsed = time.monotonic() - started
    print(f"ok: {target.name}: {runs} inputs in {elapsed:.1f} s (seed {args.seed})")
    print(f"stat::number_of_executed_units: {runs}")
    return OK


def run(args: argparse.Namespace) -> int:
    """Fuzz (or replay inputs of) the chosen target."""
    return guarded("fuzz", lambda: _fuzz(args))
