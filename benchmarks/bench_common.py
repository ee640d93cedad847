"""Timing helpers shared by the benchmarks: interleaved contenders, medians, a quick mode.

The machine is shared and noisy, so every benchmark follows the same rules: the contenders of
a case take turns inside each repeat (a burst of load slows all of them alike), the figure kept
is the median of the repeats (not the best, which flatters whoever got a quiet moment), a ratio
is the median of the per-repeat ratios (the two timings of one repeat ran side by side), and the
garbage collector is paused while a timing runs, and run between timings (untimed) on what the
last one left, so each timing starts on a clean heap.

That last rule matters: with the collector paused for a whole benchmark, cyclic garbage (ccxt
leaves much; a session's objects refer to each other) piled up across timings and cases, the
allocator had no freed memory to reuse, and a contender that keeps what it reads (``FillLog``
keeps the trades it reported) paid for fresh pages instead: measured in ``bench_clients``' full
run, ~200 minor page faults in each 500-frame ownTrades fill timing of ours against ~1 for the
careful client, which made ours/careful 1.89x where a clean heap gives 1.16-1.21x. It cuts both
ways: ccxt and python-kraken-sdk leave cyclic garbage each call, and on a clean heap they run
faster too (ccxt's 50-trade snapshot, python-kraken-sdk's 200-order snapshot).

The CPU-bound benchmarks read ``clock_ns``: this thread's CPU time, not the wall clock, so the
time the scheduler gives other processes on the shared cores is not counted.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

__all__ = [
    "clock_ns",
    "forget_timestamps",
    "gc_paused",
    "interleaved_medians",
    "interleaved_runs",
    "median_ratio",
    "ns_per_call",
    "ratio_verdict",
]

clock_ns: Callable[[], int] = time.thread_time_ns
"""The benchmarks' clock: CPU time of the calling thread, in nanoseconds."""


def forget_timestamps() -> None:
    """Empty the v2 translation's memo of RFC 3339 times (call it untimed, in the setup of a
    timing of live updates). A live execution's time is new each time one comes, but a
    benchmark replays the same frames in every repeat, so without this each timing after the
    first would find every time in the memo. (Snapshots keep theirs: a resubscription's
    snapshot does send the same times again.) The number memo stays warm: prices and volumes
    do repeat."""
    from kraken_proto.v2 import _translation

    _translation._RECENT.clear()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (a collection inside a timing would
    only add noise). What exists on entry is collected, then frozen (``gc.freeze``), so the
    collections ``interleaved_runs`` makes between timings only look at what the benchmark
    made since: about a microsecond each, instead of ~40 ms with ccxt loaded."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def ns_per_call(function: Callable[[], object], loops: int) -> float:
    """Nanoseconds per call of ``function()`` over ``loops`` calls."""
    clock = clock_ns
    start = clock()
    for _ in range(loops):
        function()
    return (clock() - start) / loops


def interleaved_runs(
    timings: Mapping[str, Callable[[], float]], repeats: int
) -> dict[str, list[float]]:
    """Run each timing function ``repeats`` times, the contenders taking turns within each
    repeat (in a rotating order, so none always runs first); return every result. Before each
    timing (untimed) the garbage the last one left is collected: no contender starts on
    another's garbage (the module docstring says why)."""
    results: dict[str, list[float]] = {label: [] for label in timings}
    labels = list(timings)
    collect = gc.collect
    for repeat in range(max(1, repeats)):
        shift = repeat % len(labels)
        for label in labels[shift:] + labels[:shift]:
            collect()
            results[label].append(timings[label]())
    return results


def interleaved_medians(
    timings: Mapping[str, Callable[[], float]], repeats: int
) -> dict[str, float]:
    """The median of each contender's ``interleaved_runs``."""
    runs = interleaved_runs(timings, repeats)
    return {label: statistics.median(values) for label, values in runs.items()}


def median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """The median of the per-repeat ratios ``numerators[i] / denominators[i]``."""
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


def ratio_verdict(ratio: float, limit: float) -> str:
    """``"met"`` when ``ratio <= limit``, else ``"missed"``."""
    return "met" if ratio <= limit else "missed"
