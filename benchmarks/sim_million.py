"""The whole system in memory for a million simulated seconds: speed, memory and promises.

    python benchmarks/sim_million.py [--seed N] [--protocol v1|v2] [--seconds 1000000]
        [--no-prune] [--horizon 3600] [--progress]

Runs ``tests/session/million.py``: a bot on a pure ``Session`` with an in-memory journal
against the simulator's exchange model, with faults (dropped connections, lost and slow
replies, closed sockets after a request, sequence gaps, malformed frames, revoked tokens,
REST failures and lost REST answers, failed connection attempts) and crashes that restart
the session from the journal, losing its unsynced records. No seed: a fresh one, printed
first. ``--no-prune`` turns off what keeps it bounded (the exchange forgetting settled
history older than ``--horizon`` seconds, and the journal's pruning), to see what that saves.
``--progress`` prints a line per tenth of the run.

The last line printed is one JSON object: the seed, simulated seconds, wall and CPU seconds,
simulated seconds per CPU second over the first and the last 10% of the run, resident memory
at the start and the end (MB), crashes (and before which action each struck), faults, orders,
cancels, fills, outcomes, the sizes of what could grow, and the violations of the promises
(no fill lost, none repeated unflagged, nothing placed twice, every outcome true). The exit
status is 1 on any violation.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.session.million import Plan, Report, World, fresh_seed


class _Progress(World):
    """A world that prints a line every tenth of the run."""

    def _sample(self) -> None:
        super()._sample()
        samples = self.report.samples
        if len(samples) % 10 == 1 and len(samples) > 1:
            a, b = samples[-11], samples[-1]
            rate = (b.sim - a.sim) / max(b.cpu - a.cpu, 1e-9)
            print(
                f"{b.sim:>9.0f} s simulated  {rate:>6.0f} s/s  rss {b.rss / 2**20:5.1f} MB  "
                f"crashes {self.report.crashes}  violations {len(self.report.violations)}",
                flush=True,
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=None, help="default: a fresh one, printed")
    parser.add_argument("--protocol", choices=("v1", "v2"), default="v1")
    parser.add_argument("--seconds", type=float, default=1_000_000.0)
    parser.add_argument("--horizon", type=float, default=3_600.0)
    parser.add_argument("--no-prune", dest="prune", action="store_false")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)
    seed = fresh_seed() if args.seed is None else args.seed
    print(f"seed {seed} over {args.protocol} (replay: --seed {seed} --protocol {args.protocol})")
    plan = Plan(
        seed=seed,
        seconds=args.seconds,
        protocol=args.protocol,
        prune=args.prune,
        horizon=args.horizon,
    )
    world = (_Progress if args.progress else World)(plan)
    report: Report = world.run()
    for violation in report.violations[:20]:
        print("violation:", violation)
    print(json.dumps(report.summary()))
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
