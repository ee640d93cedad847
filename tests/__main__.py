"""The project's test command: ``python -m tests [pytest args]``.

Runs pytest under ``python -bb`` with branch coverage, then enforces the two gates:
100% for the pure core (``kraken_proto/``) and 90% for the I/O adapters (``adapters/``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GATES = (("kraken_proto/*", 100), ("adapters/*", 90))


def main(argv: list[str]) -> int:
    """Run the suite and the coverage gates; return the process exit code."""
    python = [sys.executable, "-bb"]
    test_run = subprocess.run(
        [*python, "-m", "pytest", "--cov", "--cov-branch", "--cov-report=", *argv],
        cwd=ROOT,
        check=False,
    )
    if test_run.returncode != 0:
        return test_run.returncode
    for pattern, minimum in GATES:
        print(f"== coverage gate: {pattern} >= {minimum}%", flush=True)
        gate = subprocess.run(
            [
                *python,
                "-m",
                "coverage",
                "report",
                f"--include={pattern}",
                f"--fail-under={minimum}",
            ],
            cwd=ROOT,
            check=False,
        )
        if gate.returncode != 0:
            return gate.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
