"""Run every fuzz target, each in its own process, and report executions and findings.

    python fuzz/run_all.py --seconds 20            # what CI runs (two targets at a time)
    nice -n 19 python fuzz/run_all.py --seconds 600 --jobs 2 --targets decode,http

Each ``fuzz/fuzz_<name>.py`` is one target. A target passes when its process exits 0 and it
left no new file in ``fuzz/findings/<name>/``. Exit status: 0 when every target passed, 1 if
any found something (its log's tail is printed), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent
_EXECUTED = re.compile(r"stat::number_of_executed_units:\s*(\d+)")

__all__ = ["TargetResult", "main", "run_target", "target_names"]


def target_names() -> list[str]:
    """Every target: ``fuzz/fuzz_<name>.py``, sorted."""
    return sorted(path.stem.removeprefix("fuzz_") for path in FUZZ_DIR.glob("fuzz_*.py"))


@dataclass(frozen=True)
class TargetResult:
    name: str
    returncode: int
    executions: int | None
    seconds: float
    findings: tuple[Path, ...]
    log: str

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and not self.findings


def _findings(name: str) -> set[Path]:
    directory = FUZZ_DIR / "findings" / name
    return set(directory.iterdir()) if directory.is_dir() else set()


def run_target(name: str, seconds: float, extra: Sequence[str] = ()) -> TargetResult:
    """Fuzz one target for ``seconds`` in a child process."""
    before = _findings(name)
    scratch = Path(tempfile.mkdtemp(prefix=f"kraken-fuzz-{name}-"))
    started = time.monotonic()
    try:
        command = [
            sys.executable,
            str(FUZZ_DIR / f"fuzz_{name}.py"),
            "--seconds",
            str(seconds),
            "--workdir",
            str(scratch),
            *extra,
        ]
        done = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=seconds * 3 + 120,
            check=False,
        )
        log, returncode = done.stdout, done.returncode
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout or ""
        log = output if isinstance(output, str) else output.decode("utf-8", "replace")
        log += f"\n(timed out after {seconds * 3 + 120:.0f} s)"
        returncode = -1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    counts = _EXECUTED.findall(log)
    return TargetResult(
        name=name,
        returncode=returncode,
        executions=int(counts[-1]) if counts else None,
        seconds=time.monotonic() - started,
        findings=tuple(sorted(_findings(name) - before)),
        log=log,
    )


def main(argv: Sequence[str] | None = None) -> int:
    names = target_names()
    parser = argparse.ArgumentParser(description="run every fuzz target")
    parser.add_argument("--seconds", type=float, default=20.0, help="per target (default 20)")
    parser.add_argument("--jobs", type=int, default=2, help="targets at a time (default 2)")
    parser.add_argument("--targets", help=f"comma-separated subset of: {','.join(names)}")
    parser.add_argument("--no-atheris", action="store_true", help="use the built-in loop")
    args = parser.parse_args(argv)
    chosen = names if not args.targets else args.targets.split(",")
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"unknown targets: {', '.join(unknown)}")
    extra = ["--no-atheris"] if args.no_atheris else []
    print(f"fuzzing {len(chosen)} targets, {args.seconds:g} s each, {args.jobs} at a time")
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_target, name, args.seconds, extra) for name in chosen]
        results = []
        for future in futures:
            result = future.result()
            results.append(result)
            executions = "?" if result.executions is None else f"{result.executions:,}"
            verdict = "ok" if result.passed else f"FINDING (exit {result.returncode})"
            print(
                f"  {result.name:<14} {executions:>12} executions  {result.seconds:6.1f} s  "
                f"{verdict}",
                flush=True,
            )
    failed = [result for result in results if not result.passed]
    for result in failed:
        print(f"\n== {result.name}: last lines of its log")
        print("\n".join(result.log.splitlines()[-40:]))
        for path in result.findings:
            print(f"   finding: {path} (replay: python fuzz/fuzz_{result.name}.py {path})")
    total = sum(result.executions or 0 for result in results)
    print(f"{'FAILED' if failed else 'ok'}: {len(results)} targets, {total:,} executions")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
