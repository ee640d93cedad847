"""Run every benchmark, one after another in child processes, and write ``RESULTS.md``.

    python benchmarks/run_all.py                 # the full run (about 4-5 minutes here)
    python benchmarks/run_all.py --quick         # seconds; numbers meaningless (smoke test)
    python benchmarks/run_all.py --output FILE   # write somewhere else (default RESULTS.md)
    python benchmarks/run_all.py --quick --json  # ... and print, last, one JSON summary line

Each benchmark script also runs alone (``python benchmarks/bench_x.py``, ``--json``,
``--quick``). Here each runs as a child of this process with ``--json``; its results, the
machine, the library versions and every target's verdict ("met" or "missed", the gap and its
measured cause) go into one Markdown file. Every ratio compares contenders measured in the same
child, interleaved: absolute times on a shared machine are noisy, ratios much less so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["BENCHMARKS", "main", "render", "run"]

HERE = Path(__file__).resolve().parent

# name -> (script, arguments of the full run, arguments of the quick run)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "decode": ("bench_decode.py", ["--repeats", "81"], ["--quick"]),
    "clients": ("bench_clients.py", ["--repeats", "41"], ["--quick"]),
    "pipeline": ("bench_pipeline.py", ["--repeats", "81"], ["--quick"]),
    "encode": ("bench_encode.py", ["--repeats", "61"], ["--quick"]),
    "memory": ("bench_memory.py", [], ["--quick"]),
    "latency": ("bench_latency.py", ["--rounds", "10", "--samples", "60"], ["--quick"]),
    "latency_v2": (
        "bench_latency.py",
        ["--rounds", "10", "--samples", "60", "--protocol", "v2"],
        ["--quick", "--protocol", "v2"],
    ),
    "concurrency": ("bench_concurrency.py", ["--samples", "5"], ["--quick"]),
    "concurrency_v2": (
        "bench_concurrency.py",
        ["--samples", "5", "--protocol", "v2"],
        ["--quick", "--protocol", "v2"],
    ),
    "roundtrip": ("bench_roundtrip.py", ["--orders", "300"], ["--quick"]),
    "session": ("bench_session.py", ["--repeats", "41"], ["--quick"]),
}
# Benchmarks whose quick run still measures (small samples, real ratios) for the --json line;
# the concurrency one opens 1,000 sessions so that ``kib_per_session_1000`` is what it says.
QUICK_MEASURED: dict[str, list[str]] = {
    "decode": ["--repeats", "9", "--scale", "0.3"],
    "clients": ["--repeats", "5", "--scale", "0.3"],
    "pipeline": ["--repeats", "5", "--scale", "0.3"],
    "encode": ["--repeats", "9"],
    "latency": ["--rounds", "2", "--samples", "10"],
    "latency_v2": ["--rounds", "2", "--samples", "10", "--protocol", "v2"],
    "concurrency": ["--counts", "1000", "--samples", "1"],
    "concurrency_v2": ["--counts", "1000", "--samples", "1", "--protocol", "v2"],
    "session": ["--repeats", "9", "--scale", "0.5"],
}

# Issue 17's targets: at least this many times faster than ccxt on every shape, and at
# most this much memory per session at 1,000 trio sessions.
CCXT_FACTOR = 5.0
KIB_PER_SESSION = 15.0
# Each runner against a plain wsproto loop on the same event loop: CPU per update, and the
# median latency from bytes on the socket to the user's event.
RUNNER_CPU_RATIO = 1.3
RUNNER_P50_RATIO = 1.2

_LIBRARIES = ("msgspec", "orjson", "trio", "wsproto", "h11", "ccxt", "python-kraken-sdk")


def run(name: str, quick: bool, arguments: list[str] | None = None) -> dict[str, Any]:
    """Run one benchmark as a child process; its JSON, wall seconds, or the error.
    ``arguments`` replace the quick or full run's."""
    script, full, fast = BENCHMARKS[name]
    if arguments is None:
        arguments = fast if quick else full
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, str(HERE / script), "--json", *arguments],
        capture_output=True,
        text=True,
        cwd=HERE.parent,
    )
    seconds = time.monotonic() - started
    if process.returncode != 0:
        return {"error": process.stderr.strip()[-2000:], "seconds": seconds}
    return {"data": json.loads(process.stdout), "seconds": seconds}


def _machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count()),
        "cpu": model,
        "memory": memory,
        "system": f"{platform.system()} {platform.release()}",
        "load": " ".join(f"{value:.1f}" for value in os.getloadavg()),
    }


def _versions() -> dict[str, str]:
    versions = {"Python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _commit() -> str:
    """The commit, with "-dirty" when files differ from it (the report itself not counted)."""

    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", *arguments], capture_output=True, text=True, cwd=HERE.parent, check=True
        ).stdout.strip()

    try:
        commit = git("describe", "--always")
        changed = git("status", "--porcelain", "--", ".", ":(exclude)benchmarks/RESULTS.md")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}-dirty" if changed else commit


# --- targets ---------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def _decode_target(data: dict[str, Any]) -> list[str]:
    rows = data["results"]
    limit = data["target_ratio"]
    worst = max(rows, key=lambda row: row["decode_vs_floor"])
    missed = [row for row in rows if row["decode_vs_floor"] > limit]
    measured = ", ".join(f"{row['case']} {row['decode_vs_floor']:.2f}x" for row in rows)
    if not missed:
        return [
            f"decode <= {limit:.2f}x the msgspec typed-Decimal floor",
            measured,
            _verdict(True),
            "",
            "",
        ]
    extra = ", ".join(
        f"{(row['decode_us'] - row['floor_us']) * 1000:.0f} ns on {row['case']}"
        f" (allowed {row['floor_us'] * (limit - 1) * 1000:.0f})"
        for row in missed
    )
    return [
        f"decode <= {limit:.2f}x the msgspec typed-Decimal floor",
        measured,
        _verdict(False),
        f"worst {worst['decode_vs_floor']:.2f}x ({worst['case']}); {len(missed)} of {len(rows)}"
        " cases over",
        f"decode's work beyond the floor's one msgspec call: {extra}. A fixed cost (the"
        " route on the frame's fifth byte, unpacking the one-key id objects into pairs, the"
        " frozen event, the Python call and try block around the C decoder) is a few hundred"
        " ns whatever the frame's size; a 10% allowance on the 85-byte status-only delta is"
        " about the cost of one Python function call. On top, every number is checked to be"
        " Kraken's number text before it becomes a Decimal (msgspec hands it to a Python hook,"
        " the floor's plain Decimal fields take any text Decimal() reads, NaN included):"
        f" {_per_number(rows)}. Number texts already seen come from a small memo (a dict hit"
        " costs less than Decimal()); the timed loops repeat their frames, so those ratios are"
        " the warm memo's. With the memo emptied before every frame (no text seen before): "
        + ", ".join(
            f"{row['case']} {row['decode_cold_vs_floor']:.2f}x"
            for row in rows
            if "decode_cold_vs_floor" in row
        )
        + "."
        + _text_first(missed),
    ]


def _text_first(missed: list[dict[str, Any]]) -> str:
    """Where the missed case read text-first (its row has ``text_read_us``) spends its time."""
    return "".join(
        f" {row['case']} is read text-first (a fill's numbers seldom repeat, so the memo"
        " cannot help them, and a hook per number costs more): msgspec reads the frame with"
        f" its numbers as text in {row['text_read_us']:.2f} us (the floor reads it with"
        f" Decimals in {row['floor_us']:.2f} us); the other"
        f" {row['decode_us'] - row['text_read_us']:.2f} us are the {row['decimals']}"
        f" Decimal() calls ({row['decimal_construction_us']:.2f} us alone), one check of all"
        " the numbers' shapes, the Trade built from the text record, and the event."
        for row in missed
        if "text_read_us" in row
    )


def _per_number(rows: list[dict[str, Any]]) -> str:
    """decode's cost beyond the floor per number, on the cases with at least 100 numbers."""
    big = [row for row in rows if row["decimals"] >= 100]
    return ", ".join(
        f"{(row['decode_us'] - row['floor_us']) * 1000 / row['decimals']:.0f} ns per number on"
        f" {row['case']}"
        for row in big
    )


def _clients_targets(clients: dict[str, Any], pipeline: dict[str, Any] | None) -> list[list[str]]:
    rows = clients["results"]
    targets = []
    missed = [row for row in rows if row["ours_vs_careful"] > 1.0]
    measured = ", ".join(f"{row['case']} {row['ours_vs_careful']:.2f}x" for row in rows)
    cause = (
        "run the pipeline benchmark too (bench_pipeline.py) for the per-part breakdown"
        if missed
        else ""
    )
    if missed:
        by_case = {} if pipeline is None else {row["case"]: row for row in pipeline["results"]}
        parts = []
        for row in missed:
            split = _ours_split(row)
            line = by_case.get(row["case"])
            if split is not None:
                parts.append(
                    f"{row['case']}: ours {row['ours_us']:.2f} us ({split}) against the careful"
                    f" client's {row['careful_us']:.2f} us"
                )
            elif line is not None:
                parts.append(
                    f"{row['case']}: decode {line['decode_us']:.2f} us, apply"
                    f" {line['apply_us']:.2f} us, Connection"
                    f" {line['connection_us'] - line['pipeline_us']:.2f} us (pipeline table)"
                    f" against the careful client's {row['careful_us']:.2f} us in all (orjson"
                    f" alone {line['orjson_us']:.2f} us)"
                )
        v2_missed = [row for row in missed if row["case"].startswith("v2 ")]
        if v2_missed:
            parts.append(
                "v2 (ours = V2Connection + v2.apply_executions into the OrderTable and"
                " own_trades into the FillLog): "
                + ", ".join(_v2_split(row) for row in v2_missed)
                + "; the tables read each record's RFC 3339 time into an exact Decimal"
                " of unix seconds (the order's lastupdated), a new time in every live"
                " execution, which the careful client leaves as text"
            )
        cause = (
            "per frame, medians of the same repeats: "
            + "; ".join(parts)
            + ". Ours builds frozen typed records and a new immutable Order per change (the"
            " careful client updates its dict in place and validates only the numbers it"
            " converts), and Connection adds its event queue and sequence bookkeeping; on big"
            " snapshots msgspec's typed decode beats orjson + Decimal() and we win."
        )
    targets.append(
        [
            "Connection + OrderTable no slower than a careful hand-written client",
            measured,
            _verdict(not missed),
            ""
            if not missed
            else f"{len(missed)} of {len(rows)} cases slower, worst "
            f"{max(row['ours_vs_careful'] for row in rows):.2f}x",
            cause,
        ]
    )
    if "ours_vs_ccxt" in rows[0]:
        slow = [row for row in rows if row["ours_vs_ccxt"] > 1 / CCXT_FACTOR]
        measured = ", ".join(f"{row['case']} {1 / row['ours_vs_ccxt']:.1f}x" for row in rows)
        targets.append(
            [
                f">= {CCXT_FACTOR:g}x faster than ccxt's Kraken handler",
                measured,
                _verdict(not slow),
                ""
                if not slow
                else f"{len(slow)} of {len(rows)} cases under {CCXT_FACTOR:g}x, least "
                f"{min(1 / row['ours_vs_ccxt'] for row in rows):.1f}x",
                _ccxt_cause(slow, pipeline),
            ]
        )
    else:
        targets.append(
            [
                f">= {CCXT_FACTOR:g}x faster than ccxt's Kraken handler",
                "ccxt not installed",
                "not measured",
                "",
                "install the bench extra: pip install -e '.[bench]'",
            ]
        )
    targets.append(_sdk_target(rows))
    return targets


def _v2_split(row: dict[str, Any]) -> str:
    """A missed v2 row of the clients table: ours split into v2.decode, the tables (ours
    without V2Connection, less the decode) and V2Connection (the rest)."""
    decode = row.get("v2 decode_us", 0.0)
    tables = row.get("v2 decode + tables_us", 0.0)
    return (
        f"{row['case']} ours {row['ours_us']:.2f} us (v2.decode {decode:.2f} us, the tables"
        f" {tables - decode:.2f} us, V2Connection {row['ours_us'] - tables:.2f} us) vs careful"
        f" {row['careful_us']:.2f} us"
    )


def _ours_split(row: dict[str, Any]) -> str | None:
    """Ours' median split into its parts, each timed alone in the same repeats as ours and the
    careful client (``bench_clients``' ``decode`` and ``decode + table`` contenders), or None
    for a row without them (a v2 row, or a run from before they were timed)."""
    decode = row.get("decode_us")
    table = row.get("decode + table_us")
    if decode is None or table is None:
        return None
    return (
        f"decode {decode:.2f} us, sequence check and table {table - decode:.2f} us, Connection"
        f" {row['ours_us'] - table:.2f} us"
    )


def _sdk_target(rows: list[dict[str, Any]]) -> list[str]:
    name = "faster than python-kraken-sdk's per-message path"
    if "ours_vs_sdk" not in rows[0]:
        return [
            name,
            "python-kraken-sdk not installed",
            "not measured",
            "",
            "install the bench extra: pip install -e '.[bench]'",
        ]
    slow = [row for row in rows if row["ours_vs_sdk"] > 1.0]
    return [
        name,
        ", ".join(f"{row['case']} {1 / row['ours_vs_sdk']:.2f}x" for row in rows),
        _verdict(not slow),
        ""
        if not slow
        else f"{len(slow)} of {len(rows)} cases slower, least "
        f"{min(1 / row['ours_vs_sdk'] for row in rows):.2f}x",
        ""
        if not slow
        else "python-kraken-sdk hands the user json.loads's raw dict of floats (no Decimal,"
        " no order table, no sequence check); ours is the exact, checked path. Slower on: "
        + ", ".join(
            f"{row['case']} ours {row['ours_us']:.2f} us vs sdk {row['kraken-sdk_us']:.2f} us"
            f" (careful {row['careful_us']:.2f} us)"
            for row in slow
        )
        + _careful_misses(
            slow,
            "careful_vs_sdk",
            1.0,
            "slower than python-kraken-sdk",
            "the exact numbers cost more than python-kraken-sdk's whole path of floats",
        ),
    ]


def _careful_misses(
    slow: list[dict[str, Any]], key: str, limit: float, what: str, meaning: str
) -> str:
    """The sentence naming the ``slow`` cases on which the careful client misses the same
    target (its per-repeat median ratio ``key`` over ``limit``; shown as the peer's speed
    over its own): there a client written by hand for that one shape, doing no more than
    reading each money field into a Decimal, merging and checking, misses it as well."""
    also = [row for row in slow if key in row and row[key] > limit]
    if not also:
        return ""
    cases = ", ".join(f"{row['case']} {1 / row[key]:.2f}x" for row in also)
    return (
        f". The careful client (orjson, Decimal() of each money field, an in-place merge) is"
        f" {what} too on {len(also)} of these {len(slow)} ({cases}): there {meaning}"
    )


def _ccxt_cause(slow: list[dict[str, Any]], pipeline: dict[str, Any] | None) -> str:
    if not slow:
        return ""
    by_case = {} if pipeline is None else {row["case"]: row for row in pipeline["results"]}
    parts = []
    for row in slow:
        line = by_case.get(row["case"])
        split = _ours_split(row)
        if split is not None:
            floor = f" ({split})"
        elif line is not None:
            floor = (
                f"; our decode alone takes {line['decode_us']:.2f} us and Connection"
                f" {max(0.0, line['connection_us'] - line['pipeline_us']):.2f} us"
            )
        elif "v2 decode_us" in row:
            floor = f"; v2.decode alone takes {row['v2 decode_us']:.2f} us"
        else:
            floor = ""
        parts.append(
            f"{row['case']}: ccxt {row['ccxt_us']:.2f} us, so {CCXT_FACTOR:g}x needs"
            f" {row['ccxt_us'] / CCXT_FACTOR:.2f} us, ours {row['ours_us']:.2f} us{floor},"
            f" the careful client {row['careful_us']:.2f} us"
        )
    return (
        "ccxt's cost per update is mostly fixed Python (its safe_* accessors, timestamp"
        " parsing, the unified order/trade dict of floats); it does not merge a status update"
        " without a symbol into the known order, keeps no sequence check and no dedup. Where it"
        " does the least (a trade execution) it is cheapest. Ours is the exact, checked path"
        f" of the row above; in each case short of {CCXT_FACTOR:g}x: "
        + "; ".join(parts)
        + _careful_misses(
            slow,
            "careful_vs_ccxt",
            1 / CCXT_FACTOR,
            f"under {CCXT_FACTOR:g}x ccxt's speed",
            f"an exact client written by hand needs more than 1/{CCXT_FACTOR:g} of ccxt's time",
        )
        + "."
    )


def _encode_target(data: dict[str, Any]) -> list[str]:
    row = next(row for row in data["results"] if row["case"].startswith("AddOrder"))
    ok = row["ours_vs_json"] <= data["target_ratio"]
    return [
        "AddOrder construction + encode no slower than json.dumps of the same dict",
        f"{row['ours_vs_json']:.2f}x ({row['ours_us']:.2f} us vs {row['json.dumps_us']:.2f} us)",
        _verdict(ok),
        "" if ok else f"{row['ours_us'] - row['json.dumps_us']:.2f} us per order",
        ""
        if ok
        else f"construction {row['construct_us']:.2f} us, of which the frozen msgspec Struct's"
        f" init (22 fields, in C) {row['init_us']:.2f} us and the checks in __post_init__"
        f" {row['validate_us']:.2f} us (a plain order takes the inline fast path: exact"
        " types, Decimal finite and positive, the order type's price, the id, no option set;"
        f" any other order runs every check); encode {row['encode_us']:.2f} us (checking"
        " reqid and token, the request writing its fields into the message dict, Decimals"
        " through str(), then msgspec). json.dumps gets a ready dict of strings and checks"
        " nothing.",
    ]


_PLAIN_LOOP = {"blocking": "plain-socket", "trio": "plain-trio", "asyncio": "plain-asyncio"}


def _latency_targets(
    data: dict[str, Any], clients: dict[str, Any] | None, over: str = ""
) -> list[list[str]]:
    """Each runner's CPU per update and median fill latency against the plain wsproto loop on
    the same event loop (``bench_latency.py``); ``over`` names the protocol when not v1
    (" over v2"), and then the per-frame figure comes from the clients table's v2 rows."""
    core = ""
    v2 = over.endswith("v2")
    deltas = [
        row["ours_us"]
        for row in ([] if clients is None else clients["results"])
        if "snapshot" not in row["case"] and row["case"].startswith("v2 ") == v2
    ]
    per_frame = sum(deltas) / len(deltas) if deltas else None
    split = data.get("split")
    if split is not None:
        hot = (
            ""
            if per_frame is None
            else f" ({per_frame:.1f} us a frame hot, in the clients table's loops)"
        )
        core = " " + _live_split(split, hot)
    elif per_frame is not None:
        # Results from before the instrumented turn: the estimate from the hot figures.
        core = (
            f" Each update is {data['frames_per_update']:.1f} frames; the core's receive path"
            f" (decode + Connection + table, {per_frame:.1f} us a frame in the clients table)"
            f" accounts for about {per_frame * data['frames_per_update']:.0f} us of each"
            " update. The rest is the runner around the Session: its bookkeeping per read, the"
            " clock reads, and the tasks or threads that hand the user's events over."
        )
    return [
        _runner_row(
            data,
            f"each runner's CPU per update <= {RUNNER_CPU_RATIO:g}x a plain wsproto loop on the"
            f" same event loop{over}",
            ("runner_cpu_vs_plain", "cpu_us_per_update", RUNNER_CPU_RATIO, " per update"),
            "the plain loop only reads, unframes and orjson-parses each frame." + core,
        ),
        _runner_row(
            data,
            f"each runner's p50 latency to the user's event <= {RUNNER_P50_RATIO:g}x the plain"
            f" loop{over}",
            ("runner_fill_p50_vs_plain", "fill_p50_us", RUNNER_P50_RATIO, ""),
            "latency is the round trip through the simulator's process and the loop's"
            " wake-ups; the runner's extra CPU per update (row above) lands on it directly.",
        ),
    ]


def _live_split(split: dict[str, Any], hot: str) -> str:
    """Where each update's CPU goes in the runners and their plain loops (``bench_latency``'s
    instrumented turn): the Session's receive path against the plain loop's parse, and the
    rest of each loop (reading, unframing, waking, handing the events over)."""
    parts = []
    heavier = []  # runners whose work around the core costs more than the plain loop's rest
    for runner, plain in _PLAIN_LOOP.items():
        ours, floor = split[runner], split[plain]
        parts.append(
            f"{runner}: Session.receive_message {ours['receive_us_per_update']:.0f} us an update"
            f" ({ours['receive_us_per_update'] / ours['frames_per_update']:.1f} us a frame),"
            f" the rest of the runner {ours['rest_us_per_update']:.0f} us; {plain}:"
            f" orjson.loads {floor['parse_us_per_update']:.0f} us, the rest"
            f" {floor['rest_us_per_update']:.0f} us"
        )
        extra = ours["rest_us_per_update"] - floor["rest_us_per_update"]
        if extra > 0:
            heavier.append(f"{runner} {extra:.0f} us")
    rest = (
        "the runners' own work around it is no more than the plain loop's reading and unframing"
        if not heavier
        else "the runners' own work around it adds to the plain loop's reading and unframing:"
        f" {', '.join(heavier)} an update"
    )
    return (
        "Measured live, in one more turn of each contender with every Session.receive_message"
        " (and every plain orjson.loads) timed: "
        + "; ".join(parts)
        + f". The gap is the core's receive path: live it costs several times its hot figure"
        f"{hot}, as each frame arrives after a wait on the socket (caches cold, the simulator's"
        " process run in between) with numbers and times never seen before (every Decimal"
        f" and time made afresh, the memos miss); {rest}."
    )


def _runner_row(
    data: dict[str, Any], name: str, measure: tuple[str, str, float, str], cause: str
) -> list[str]:
    """One target row over the three runners: ``measure`` is the ratio's key in ``data``,
    the per-contender key it divides, the highest ratio allowed and the gap's unit suffix."""
    ratio_key, value_key, limit, suffix = measure
    contenders, ratios = data["contenders"], data[ratio_key]
    missed = [runner for runner in _PLAIN_LOOP if ratios[runner] > limit]

    def value(runner: str) -> float:
        return float(contenders[runner][value_key])

    def plain(runner: str) -> float:
        return float(contenders[_PLAIN_LOOP[runner]][value_key])

    return [
        name,
        ", ".join(
            f"{runner} {ratios[runner]:.2f}x ({value(runner):.0f} us vs {plain(runner):.0f} us)"
            for runner in _PLAIN_LOOP
        ),
        _verdict(not missed),
        ", ".join(f"{runner} {value(runner) - plain(runner):.0f} us{suffix}" for runner in missed),
        cause if missed else "",
    ]


def _memory_target(data: dict[str, Any], over: str = "") -> list[str]:
    last = data["sessions"][-1]
    plain = data["plain"][-1]
    kib = last["idle_kib_per_connection"]
    ok = kib <= KIB_PER_SESSION
    breakdown = data["breakdown"]
    parts = ", ".join(
        f"{package} {size / 1024:.1f} KiB" for package, size in breakdown["by_package"].items()
    )
    return [
        f"{last['connections']} concurrent sessions, <= {KIB_PER_SESSION:g} KiB each{over}",
        f"{kib:.1f} KiB each (resident memory, no update sent yet; plain wsproto+trio floor"
        f" {plain['idle_kib_per_connection']:.1f} KiB; after"
        f" {data['samples'] * len(data['counts'])} updates {last['kib_per_connection']:.1f} KiB)",
        _verdict(ok),
        "" if ok else f"{kib - KIB_PER_SESSION:.1f} KiB per session",
        ""
        if ok
        else f"Python allocations of a LIVE session ({breakdown['bytes_per_session'] / 1024:.1f}"
        f" KiB by tracemalloc): {parts}. The trio share is the adapter's tasks, cancel scopes,"
        " Events and socket per session; the core's is Session, Connection, OrderTable and"
        " FillLog (their deques and dicts, each allocated up front), and the 50-trade"
        " snapshot's trades the FillLog keeps. Resident memory adds allocator slack from the"
        " handshakes and REST calls of a thousand sessions starting up.",
    ]


def _session_target(data: dict[str, Any]) -> list[str]:
    rows = data["results"]
    limit = data["target_ratio"]
    missed = [row for row in rows if row["session_vs_careful"] > limit]
    return [
        f"whole user pipeline (Session) <= {limit:.1f}x the careful client",
        ", ".join(f"{row['case']} {row['session_vs_careful']:.2f}x" for row in rows),
        _verdict(not missed),
        ""
        if not missed
        else f"{len(missed)} of {len(rows)} cases over, worst "
        f"{max(row['session_vs_careful'] for row in rows):.2f}x",
        ""
        if not missed
        else "per frame beyond the careful client: "
        + ", ".join(
            f"{(row['session_us'] - row['careful_us']) * 1000:.0f} ns on {row['case']}"
            f" (allowed {row['careful_us'] * (limit - 1) * 1000:.0f})"
            for row in missed
        )
        + "; the pipeline table splits decode, table and Connection; the rest is the"
        " Session's routing of each Connection event to its parts and the user's event."
        + _floor_cause(missed, limit),
    ]


def _floor_cause(missed: list[dict[str, Any]], limit: float) -> str:
    """What the floor (the same events from the same bytes in one function) says of the
    missed cases: out of reach where it misses too, else the layering's cost."""
    rows = [row for row in missed if "floor_vs_careful" in row]
    if not rows:
        return ""
    beyond = [row for row in rows if row["floor_vs_careful"] > limit]
    within = [row for row in rows if row["floor_vs_careful"] <= limit]
    parts = []
    if beyond:
        parts.append(
            "the floor (the same events from the same bytes in one function: typed decode,"
            " sequence check, merge into a new frozen Order, the event) misses too on "
            + ", ".join(f"{row['case']} ({row['floor_vs_careful']:.2f}x)" for row in beyond)
            + ": out of reach with exact Decimals and frozen orders"
        )
    if within:
        parts.append(
            "the floor meets it on "
            + ", ".join(f"{row['case']} ({row['floor_vs_careful']:.2f}x)" for row in within)
            + "; there the gap is the layering (the calls between decode, Connection, Session"
            " and tables, and the state each checks per frame): "
            + ", ".join(
                f"{(row['session_us'] - row['floor_us']) * 1000:.0f} ns on {row['case']}"
                for row in within
            )
            + _parts_cause(within, limit)
        )
    text = "; ".join(parts)
    return f" {text[0].upper()}{text[1:]}."


def _parts_cause(rows: list[dict[str, Any]], limit: float) -> str:
    """Of the layering on ``rows``, what the session's parts cost called in a row (their own
    bookkeeping) and what the Session's routing around them adds: the most a fused path that
    kept the bookkeeping could save."""
    rows = [row for row in rows if "parts_vs_careful" in row]
    if not rows:
        return ""
    split = ", ".join(
        f"{row['case']} {(row['parts_us'] - row['floor_us']) * 1000:.0f} + "
        f"{(row['session_us'] - row['parts_us']) * 1000:.0f} ns"
        for row in rows
    )
    still = [row for row in rows if row["parts_vs_careful"] > limit]
    verdict = (
        "the parts in a row miss too on "
        + ", ".join(f"{row['case']} ({row['parts_vs_careful']:.2f}x)" for row in still)
        + ", so fusing the routing would not meet it there: the parts' own bookkeeping (the"
        " connection's checks and sequence, the table's, the order ids, the fill memory)"
        " must cost less"
        if still
        else "the parts in a row meet it on every one of them: there the routing is the gap"
    )
    return (
        "; split into the parts' own work (the session's parts called in a row, without the"
        f" Session: link, order sync, fill feed) + the Session's routing around them: {split};"
        f" {verdict}"
    )


def _session_table(data: dict[str, Any]) -> list[str]:
    return _markdown(
        [
            "case",
            "session us",
            "careful us",
            "session/careful",
            "floor us",
            "floor/careful",
            "parts us",
            "parts/careful",
        ],
        [
            [
                row["case"],
                _f(row["session_us"]),
                _f(row["careful_us"]),
                _f(row["session_vs_careful"]) + "x",
                _f(row["floor_us"]) if "floor_us" in row else "",
                _f(row["floor_vs_careful"]) + "x" if "floor_vs_careful" in row else "",
                _f(row["parts_us"]) if "parts_us" in row else "",
                _f(row["parts_vs_careful"]) + "x" if "parts_vs_careful" in row else "",
            ]
            for row in data["results"]
        ],
    )


# --- tables ----------------------------------------------------------------------------------


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _f(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def _decode_table(data: dict[str, Any]) -> list[str]:
    return _markdown(
        [
            "case",
            "bytes",
            "decode us",
            "floor us",
            "orjson us",
            "json us",
            "decode/floor",
            "cold/floor",
            "floor/orjson",
            "decode/orjson",
            "Decimals",
        ],
        [
            [
                row["case"],
                str(row["bytes"]),
                _f(row["decode_us"]),
                _f(row["floor_us"]),
                _f(row["orjson_us"]),
                _f(row["json_us"]),
                _f(row["decode_vs_floor"]) + "x",
                _f(row.get("decode_cold_vs_floor", float("nan"))) + "x",
                _f(row["floor_vs_orjson"]) + "x",
                _f(row["decode_vs_orjson"]) + "x",
                str(row["decimals"]),
            ]
            for row in data["results"]
        ],
    )


def _clients_table(data: dict[str, Any]) -> list[str]:
    peers = [label for label in ("ccxt", "kraken-sdk") if f"{label}_us" in data["results"][0]]
    header = ["case", "ours us", "careful us", *[f"{p} us" for p in peers], "ours/careful"]
    if "ccxt" in peers:
        header.append("ccxt/ours")
    rows = []
    for row in data["results"]:
        line = [row["case"], _f(row["ours_us"]), _f(row["careful_us"])]
        line += [_f(row[f"{p}_us"]) for p in peers]
        line.append(_f(row["ours_vs_careful"]) + "x")
        if "ccxt" in peers:
            line.append(_f(1 / row["ours_vs_ccxt"], 1) + "x")
        rows.append(line)
    return _markdown(header, rows)


def _pipeline_table(data: dict[str, Any]) -> list[str]:
    return _markdown(
        [
            "case",
            "orjson us",
            "decode us",
            "apply us",
            "decode+seq+apply us",
            "Connection+apply us",
            "Connection's own us",
        ],
        [
            [
                row["case"],
                _f(row["orjson_us"]),
                _f(row["decode_us"]),
                _f(row["apply_us"]),
                _f(row["pipeline_us"]),
                _f(row["connection_us"]),
                _f(row["connection_us"] - row["pipeline_us"]),
            ]
            for row in data["results"]
        ],
    )


def _encode_table(data: dict[str, Any]) -> list[str]:
    return _markdown(
        [
            "request",
            "ours us",
            "construct us",
            "of which checks us",
            "encode us",
            "json.dumps us",
            "orjson us",
            "ours/json.dumps",
        ],
        [
            [
                row["case"],
                _f(row["ours_us"]),
                _f(row["construct_us"]),
                _f(row["validate_us"]),
                _f(row["encode_us"]),
                _f(row["json.dumps_us"]),
                _f(row["orjson.dumps_us"]),
                _f(row["ours_vs_json"]) + "x",
            ]
            for row in data["results"]
        ],
    )


def _memory_table(data: dict[str, Any]) -> list[str]:
    return _markdown(
        ["what", "bytes each"],
        [
            [
                f"OrderTable, per open order ({data['orders']:,})",
                _f(data["order_table_bytes_per_order"], 0),
            ],
            [
                "  of which the Decimals",
                _f(data["order_table_decimal_share"] * data["order_table_bytes_per_order"], 0),
            ],
            ["careful client's dict of dicts, per order", _f(data["careful_bytes_per_order"], 0)],
            [
                f"FillLog, per fill id ({data['fills']:,}; keeps its last"
                f" {data['fill_log_max_trades']} trades too)",
                _f(data["fill_log_bytes_per_id"], 0),
            ],
            ["plain dict of the ids, per id", _f(data["id_dict_bytes_per_id"], 0)],
        ],
    )


def _latency_table(data: dict[str, Any]) -> list[str]:
    lines = _markdown(
        ["contender", "new order p50 us", "p99 us", "fill p50 us", "p99 us", "CPU us per update"],
        [
            [
                name,
                _f(row["order_p50_us"], 0),
                _f(row["order_p99_us"], 0),
                _f(row["fill_p50_us"], 0),
                _f(row["fill_p99_us"], 0),
                _f(row["cpu_us_per_update"], 1),
            ]
            for name, row in data["contenders"].items()
        ],
    )
    lines.append(
        f"{data['rounds']} rounds x {data['samples_per_round']} samples (a new order and its fill)"
        f" per contender, {data['frames_per_update']:.1f} frames per update. trio/plain-trio"
        f" CPU {data['trio_cpu_vs_plain_trio']:.2f}x,"
        f" blocking/plain-socket CPU {data['blocking_cpu_vs_plain_socket']:.2f}x, trio/plain-trio"
        f" fill latency p50 {data['trio_fill_p50_vs_plain_trio']:.2f}x."
    )
    return [*lines, ""]


def _concurrency_table(data: dict[str, Any]) -> list[str]:
    rows = [
        [
            kind,
            str(row["connections"]),
            _f(row["idle_kib_per_connection"], 1),
            _f(row["idle_marginal_kib_per_connection"], 1),
            _f(row["kib_per_connection"], 1),
            _f(row["deliver_all_p50_us"] / 1000, 1),
            _f(row["deliver_all_max_us"] / 1000, 1),
            _f(row["cpu_us_per_connection_update"], 1),
        ]
        for kind in ("sessions", "plain")
        for row in data[kind]
    ]
    lines = _markdown(
        [
            "kind",
            "N",
            "KiB per conn, idle",
            "marginal KiB, idle",
            "KiB per conn, after updates",
            "to all N p50 ms",
            "max ms",
            "CPU us per conn per update",
        ],
        rows,
    )
    breakdown = data["breakdown"]
    lines.append(
        f"tracemalloc, {breakdown['sessions']} more LIVE sessions:"
        f" {breakdown['bytes_per_session'] / 1024:.1f} KiB of Python allocations each ("
        + ", ".join(f"{k} {v / 1024:.1f}" for k, v in breakdown["by_package"].items())
        + "). Sessions/plain CPU per update at the largest N:"
        f" {data['cpu_sessions_vs_plain_at_max']:.2f}x. Delivery to all N includes the"
        " simulator (one Python process) writing N frames. 'Idle' comes from a pass that"
        " opens the connections and sends no update; in the pass with"
        f" {data['samples']} updates (a new order and its fill) per N, each session keeps every"
        " finished order and trade by design, and each later session's ownTrades snapshot"
        " brings the account's recent trades, so that memory grows with the samples."
    )
    return [*lines, ""]


def _roundtrip_table(data: dict[str, Any]) -> list[str]:
    lines = _markdown(
        ["adapter (BlockingClient / open_trio_client)", "median us", "p90 us"],
        [
            [name, _f(data[name]["median_us"], 0), _f(data[name]["p90_us"], 0)]
            for name in ("blocking", "trio")
        ],
    )
    lines.append(f"{data['orders']} AddOrder -> RequestCompleted round trips per adapter.")
    return [*lines, ""]


_SECTIONS: dict[str, tuple[str, str, Callable[[dict[str, Any]], list[str]]]] = {
    "decode": (
        "Decode: `decode` vs the msgspec typed-Decimal floor, orjson, json",
        "CPU microseconds per frame (median of interleaved repeats). The floor is one msgspec"
        " decode of the same bytes into plain Structs with the same fields and Decimal types,"
        " decoder chosen in advance. v2 cases use `kraken_proto.v2.decode`; there orjson and"
        " json read numbers as floats.",
        _decode_table,
    ),
    "clients": (
        "Receive path vs what users would pick instead",
        "CPU microseconds per frame. ours = `Connection.receive_message` + `events_received` +"
        " `OrderTable.apply`/`FillLog.apply`. careful = orjson.loads, a shape check, Decimal()"
        " on every money field, an in-place dict merge, a sequence check. ccxt = ccxt pro's"
        " Kraken `handle_message` on the equivalent v2 executions update (orjson.loads first,"
        " as its client does). kraken-sdk = python-kraken-sdk's per-message path (json.loads,"
        " its subscription bookkeeping, the callback): raw dicts of floats, no Decimal, no"
        " table, no sequence check, shown for scale. The `v2 ...` rows run every contender on the"
        " same v2 executions frames: ours = `V2Connection` + `v2.open_orders`/`v2.own_trades`"
        " (what the v2 session's link applies) + the tables; careful = the same careful client"
        " for v2 (Decimal() of every money field from orjson's float text, an in-place merge"
        " by order_id, a sequence check, a seen exec_id check).",
        _clients_table,
    ),
    "pipeline": (
        "Pipeline breakdown",
        "CPU microseconds per frame (median of interleaved repeats): decode, then a"
        " hand-written sequence check + apply, then the same through `Connection`.",
        _pipeline_table,
    ),
    "encode": (
        "Requests: construction + encode vs json.dumps",
        "CPU microseconds per request (median). json.dumps/orjson get the ready dict a"
        " hand-written client builds (money already strings, nothing validated).",
        _encode_table,
    ),
    "memory": (
        "Memory per open order and per fill id",
        "tracemalloc, after a collection; the frames and events are dropped first.",
        _memory_table,
    ),
    "latency": (
        "End to end: simulator emits an update -> in the user's hands",
        "The simulator runs in its own process and stamps each update as it makes the model"
        " emit it; the client stamps the moment the user gets it (`OrdersChanged` /"
        " `FillReceived` from a session; the parsed frame for the plain loops). CPU is the"
        " client process's alone.",
        _latency_table,
    ),
    "latency_v2": (
        "End to end over v2",
        "As above, every contender on the simulator's v2 face (`/v2`): the sessions are"
        " `protocol='v2'` sessions; the plain loops subscribe to `executions` and stamp the"
        " update holding the new order's first execution / a trade execution.",
        _latency_table,
    ),
    "concurrency": (
        "N concurrent trio sessions in one process",
        "Resident memory per connection (since before the first one; marginal = this step's"
        " growth), then the time until the last of N connections has one update (a new order,"
        " then its fill) and this process's CPU per connection per update.",
        _concurrency_table,
    ),
    "concurrency_v2": (
        "N concurrent trio sessions over v2",
        "As above, on the simulator's v2 face: `protocol='v2'` sessions, and plain loops"
        " subscribed to `executions`.",
        _concurrency_table,
    ),
    "roundtrip": (
        "AddOrder round trip through the simulator (bench_roundtrip.py)",
        "Connection-level clients (`BlockingClient`, `open_trio_client`), same process as the"
        " simulator thread.",
        _roundtrip_table,
    ),
    "session": (
        "Whole user pipeline through a live Session (bench_session.py)",
        "CPU microseconds per frame (median of interleaved repeats): `Session.receive_message` +"
        " `Session.events()` on a session made LIVE against the in-memory exchange, vs the"
        " careful client on the same frames. A snapshot row times one snapshot into a fresh"
        " session at the moment it is due (subscribed, acknowledged; the session goes LIVE on"
        " it, as on every reconnect) against a fresh careful client. The `v2 ...` rows:"
        " a session with `SessionConfig(protocol='v2')` on"
        " v2 executions frames vs the careful v2 client. floor: the same events from the same"
        " bytes in one function (`session_floor.py`; checked equal to the session's, untimed):"
        " the least the session's guarantees cost. parts: the session's own parts called in a"
        " row on the same LIVE session, without the Session around them (the link's"
        " `receive_data`, then `OrderSync.apply` / `FillFeed.deliver`, then the events"
        " drained; also checked equal): floor -> parts is their own bookkeeping, parts ->"
        " session the Session's routing.",
        _session_table,
    ),
}


def render(results: dict[str, dict[str, Any]], *, quick: bool, seconds: float) -> str:
    """The whole RESULTS.md text."""
    machine, versions = _machine(), _versions()
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python benchmarks/run_all.py{' --quick' if quick else ''}` on"
        f" {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit `{_commit()}`, in"
        f" {seconds:.0f} s.",
    ]
    if quick:
        lines.append("")
        lines.append("**Quick mode: tiny samples, the numbers mean nothing.**")
    lines += [
        "",
        "Reproduce: `pip install -e '.[dev,bench]'` then `python benchmarks/run_all.py`"
        " (`benchmarks/README.md` says what each benchmark measures and how).",
        "",
        "Every ratio compares contenders measured in the same child process, taking turns"
        " within each repeat; CPU-bound timings read the thread's CPU clock (time the shared"
        " cores spend on other processes is not counted) and keep the median of the repeats.",
        "",
        "## Machine",
        "",
        *_markdown(
            ["", ""],
            [
                ["cores", machine["cores"]],
                ["CPU", machine["cpu"]],
                ["memory", machine["memory"]],
                ["system", machine["system"]],
                ["load average at the end (1, 5, 15 min)", machine["load"]],
                *[[name, version] for name, version in versions.items()],
            ],
        ),
        "## Targets",
        "",
    ]
    targets: list[list[str]] = []
    data: dict[str, dict[str, Any]] = {
        name: result["data"] for name, result in results.items() if "data" in result
    }
    if data.get("decode"):
        targets.append(_decode_target(data["decode"]))
    if data.get("clients"):
        targets += _clients_targets(data["clients"], data.get("pipeline"))
    if data.get("encode"):
        targets.append(_encode_target(data["encode"]))
    if data.get("latency"):
        targets += _latency_targets(data["latency"], data.get("clients"))
    if data.get("latency_v2"):
        targets += _latency_targets(data["latency_v2"], data.get("clients"), " over v2")
    if data.get("concurrency"):
        targets.append(_memory_target(data["concurrency"]))
    if data.get("concurrency_v2"):
        targets.append(_memory_target(data["concurrency_v2"], " over v2"))
    if data.get("session"):
        targets.append(_session_target(data["session"]))
    lines += _markdown(["target", "measured", "verdict", "gap"], [t[:4] for t in targets])
    causes = [t for t in targets if t[4]]
    if causes:
        lines += ["Causes of the gaps (measured in this run):", ""]
        lines += [f"- *{t[0]}*: {t[4]}" for t in causes]
        lines.append("")
    for name, (title, note, table) in _SECTIONS.items():
        if name not in results:
            continue
        result = results[name]
        lines += [f"## {title}", "", note, ""]
        if "error" in result:
            lines += ["**This benchmark failed:**", "", "```", result["error"], "```", ""]
        else:
            lines += table(result["data"])
        lines.append(f"(`{BENCHMARKS[name][0]}`, {result['seconds']:.0f} s)")
        lines.append("")
    return "\n".join(lines)


def summary(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The one-line JSON summary: every headline ratio of the run (None where its benchmark
    failed or did not run)."""
    data = {name: result.get("data") for name, result in results.items()}
    line: dict[str, Any] = {"commit": _commit()}
    session = data.get("session")
    for key, field in (
        ("session_pipeline_vs_careful", "session_vs_careful"),
        ("session_floor_vs_careful", "floor_vs_careful"),
        ("session_parts_vs_careful", "parts_vs_careful"),
    ):
        line[key] = (
            None
            if session is None
            else {row["case"]: round(row[field], 3) for row in session["results"] if field in row}
        )
    clients = data.get("clients")
    line["connection_tables_vs_careful"] = (
        None
        if clients is None
        else {row["case"]: round(row["ours_vs_careful"], 3) for row in clients["results"]}
    )
    latency = data.get("latency")
    line["runner_cpu_vs_plain"] = (
        None if latency is None else _rounded(latency["runner_cpu_vs_plain"])
    )
    line["runner_fill_p50_vs_plain"] = (
        None if latency is None else _rounded(latency["runner_fill_p50_vs_plain"])
    )
    latency_v2 = data.get("latency_v2")
    line["runner_cpu_vs_plain_v2"] = (
        None if latency_v2 is None else _rounded(latency_v2["runner_cpu_vs_plain"])
    )
    line["runner_fill_p50_vs_plain_v2"] = (
        None if latency_v2 is None else _rounded(latency_v2["runner_fill_p50_vs_plain"])
    )
    for key, name in (
        ("kib_per_session_1000", "concurrency"),
        ("kib_per_session_1000_v2", "concurrency_v2"),
    ):
        concurrency = data.get(name)
        line[key] = None
        if concurrency is not None:
            rows = [row for row in concurrency["sessions"] if row["connections"] == 1000]
            if rows:
                line[key] = rows[0]["idle_kib_per_connection"]
    decode = data.get("decode")
    for protocol in ("v1", "v2"):
        line[f"decode_vs_floor_{protocol}"] = (
            None
            if decode is None
            else {
                row["case"]: round(row["decode_vs_floor"], 3)
                for row in decode["results"]
                if row["case"].startswith("v2 ") == (protocol == "v2")
            }
        )
    encode = data.get("encode")
    for protocol in ("v1", "v2"):
        line[f"encode_vs_json_dumps_{protocol}"] = (
            None
            if encode is None
            else {
                row["case"]: round(row["ours_vs_json"], 3)
                for row in encode["results"]
                if row["case"].startswith("v2 ") == (protocol == "v2")
            }
        )
    return line


def _rounded(ratios: dict[str, float]) -> dict[str, float]:
    return {name: round(value, 3) for name, value in ratios.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and write the report; 1 if any benchmark failed, else 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny runs (smoke test)")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md", help="report path")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="subset")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print, last, one JSON line of the headline ratios (with --quick: small but real"
        " samples, 1,000 concurrent sessions)",
    )
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # tests only
    args = parser.parse_args(argv)
    started = time.monotonic()
    results: dict[str, dict[str, Any]] = {}
    for name in args.only or BENCHMARKS:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        measured = args.json and args.quick and not args.tiny
        results[name] = run(name, args.quick, QUICK_MEASURED.get(name) if measured else None)
        if "error" in results[name]:
            print(f"  {name} FAILED:\n{results[name]['error']}", file=sys.stderr)
    text = render(results, quick=args.quick, seconds=time.monotonic() - started)
    args.output.write_text(text)
    print(f"wrote {args.output}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary(results), sort_keys=True), flush=True)
    return 1 if any("error" in result for result in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
