"""Write each target's seeds (built from the protocol docs' frames) to ``fuzz/corpus/<target>/``.

    python fuzz/make_corpus.py            # (re)write the committed seed corpus
    python fuzz/make_corpus.py --check    # exit 1 if the committed corpus is out of date

Files are named ``seed-<sha1 of the content>``, so rewriting is idempotent.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``fuzz`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fuzz._harness import Target
from fuzz.run_all import target_names

__all__ = ["expected_files", "main", "targets"]


def targets() -> list[Target]:
    return [importlib.import_module(f"fuzz.fuzz_{name}").TARGET for name in target_names()]


def expected_files(target: Target) -> dict[str, bytes]:
    return {f"seed-{hashlib.sha1(data).hexdigest()}": data for data in target.seeds()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="write the seed corpus")
    parser.add_argument("--check", action="store_true", help="only check it is up to date")
    args = parser.parse_args(argv)
    stale = []
    for target in targets():
        wanted = expected_files(target)
        directory = target.corpus_dir
        present = {path.name for path in directory.glob("seed-*")} if directory.is_dir() else set()
        if args.check:
            if present != set(wanted):
                stale.append(target.name)
            continue
        directory.mkdir(parents=True, exist_ok=True)
        for name in present - set(wanted):
            (directory / name).unlink()
        for name, data in wanted.items():
            (directory / name).write_bytes(data)
        print(f"{target.name}: {len(wanted)} seeds in {directory}")
    if stale:
        print(f"stale corpus (run python fuzz/make_corpus.py): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
