"""What the session journal costs: records/s and intents/s in SQLite, synced or not.

Cases (wall clock: the cost is I/O, and the disk is what it is):

* ``encode``: the codec alone, one ``AddOrder`` intent (CPU; the floor of every append);
* ``intent_sync``: one ``IntentRecorded`` per ``append(..., sync=True)``, as a session writes
  ahead of every order (``synchronous=FULL``: the WAL is fsynced before it returns);
* ``intent_nosync``: the same with ``sync=False`` (``NORMAL``: survives a crash of the
  process, not of the machine): what durability adds is the difference;
* ``records``: fills appended 100 per ``append`` without sync: the journal's throughput;
* ``nonce``: one ``SharedNonceSource.next`` (state file written, fsynced, renamed, directory
  fsynced, under an flock), i.e. per REST call when several processes share a key;
* ``orders``: whole orders through the blocking runner against the built-in simulator (in
  this process, plain ``ws://``), each ``add_order`` waited for, without a journal and with
  ``journal=`` a SQLite file: orders per second each way, and fsyncs per order.

``fsyncs per intent`` are counted, not assumed: the script runs each intent case again as
its own child under ``strace -f -c -e trace=fsync,fdatasync`` and divides the calls (less an
empty run's) by the intents. Without strace they are reported as ``null``.

    python benchmarks/journal_cost.py [--quick] [--dir PATH] [--no-strace]

The last line printed is the JSON report. The numbers depend on the file system under
``--dir`` (default: a temporary directory).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from kraken_proto.adapters.journal import SharedNonceSource, SqliteJournal
from kraken_proto.session._journal import (
    FillDelivered,
    IntentRecorded,
    JournalRecord,
    encode_record,
)
from kraken_proto.v1 import AddOrder, Trade

__all__ = ["main", "measure"]

_ORDER = AddOrder(
    ordertype="limit",
    type="buy",
    pair="XBT/USD",
    volume=Decimal("0.01250000"),
    price=Decimal("27000.1"),
    cl_ord_id="0f0e0d0c-0b0a-4908-8706-050403020100",
)


# The same order as keyword arguments for a runner's add_order (each gets its own cl_ord_id).
_ORDER_ARGS: dict[str, Any] = {
    "ordertype": "limit",
    "type": "buy",
    "pair": "XBT/USD",
    "volume": Decimal("0.01250000"),
    "price": Decimal("27000.1"),
}


def _intent(handle: int) -> IntentRecorded:
    return IntentRecorded(at=1_700_000_000.0 + handle, handle=handle, request=_ORDER)


def _fill(n: int) -> FillDelivered:
    trade = Trade(
        ordertxid="OABCDE-FGHIJ-KLMNOP",
        pair="XBT/USD",
        time=Decimal(f"1700000000.{n:06d}"),
        type="buy",
        ordertype="limit",
        price=Decimal("27000.1"),
        cost=Decimal("337.50125"),
        fee=Decimal("0.87750"),
        vol=Decimal("0.01250000"),
    )
    return FillDelivered(
        at=1_700_000_000.0 + n, trade_id=f"T{n:05d}-AAAAA-BBBBBB", trade=trade, source="live"
    )


def _append_intents(path: Path, count: int, *, sync: bool) -> float:
    """Seconds to write ``count`` intents, one ``append`` each."""
    with SqliteJournal(path) as journal:
        started = time.perf_counter()
        for handle in range(1, count + 1):
            journal.append([_intent(handle)], sync=sync)
        return time.perf_counter() - started


def _append_fills(path: Path, count: int, batch: int = 100) -> float:
    records: list[JournalRecord] = [_fill(n) for n in range(count)]
    with SqliteJournal(path) as journal:
        started = time.perf_counter()
        for start in range(0, count, batch):
            journal.append(records[start : start + batch], sync=False)
        return time.perf_counter() - started


def _encode_seconds(count: int) -> float:
    record = _intent(1)
    started = time.perf_counter()
    for _ in range(count):
        encode_record(record)
    return time.perf_counter() - started


def _nonce_seconds(directory: Path, count: int) -> float:
    with SharedNonceSource(directory / "keys", "benchmark-key") as source:
        started = time.perf_counter()
        for _ in range(count):
            source.next(time.time())
        return time.perf_counter() - started


def _orders_seconds(count: int, journal: Path | None) -> float:
    """Seconds to place ``count`` limit orders one after the other through ``open_session``
    (each call returns once the order table shows the order), with or without a journal."""
    from kraken_proto import Credentials
    from kraken_proto.adapters import open_session
    from kraken_proto.adapters.simulator.server import make_config, run_in_thread

    # The simulator's order rate counter is lifted (as in bench_roundtrip and soak): 200 orders
    # in a few tenths of a second trip Kraken's limit, and this measures the journal, not pacing.
    config = dataclasses.replace(make_config(7), maxratecount=10**9)
    with run_in_thread(config, seed=7) as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        options: dict[str, Any] = {} if journal is None else {"journal": str(journal)}
        with open_session(
            credentials, rest_url=sim.rest_url, ws_url=sim.ws_url, **options
        ) as session:
            session.subscribe("openOrders")
            session.add_order(timeout=30, **_ORDER_ARGS)  # warm up
            started = time.perf_counter()
            for _ in range(count):
                session.add_order(timeout=30, **_ORDER_ARGS)
            return time.perf_counter() - started


def _count_fsyncs(mode: str, count: int, directory: Path) -> int | None:
    """fsync+fdatasync calls of a child writing ``count`` intents (``mode``: sync/nosync/
    none), or None when strace is not available or not allowed."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    output = directory / f"strace-{mode}.txt"
    child = [sys.executable, __file__, "--child", mode, str(count), str(directory / f"c-{mode}")]
    command = [strace, "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", str(output), *child]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not output.exists():
        return None
    calls = 0
    for line in output.read_text().splitlines():
        parts = line.split()
        if parts and parts[-1] in ("fsync", "fdatasync"):
            calls += int(parts[3])  # % time, seconds, usecs/call, calls, [errors,] syscall
    return calls


def _child(mode: str, count: int, path: Path) -> int:
    if mode == "none":
        SqliteJournal(path).close()
    elif mode in ("orders", "orders-none"):
        path.mkdir(parents=True, exist_ok=True)
        _orders_seconds(count if mode == "orders" else 0, path / "bot.journal")
    else:
        _append_intents(path, count, sync=mode == "sync")
    return 0


def measure(
    directory: Path, *, intents: int, records: int, orders: int, strace: bool
) -> dict[str, Any]:
    """Run every case in ``directory``; return the report."""
    sync_s = _append_intents(directory / "sync.journal", intents, sync=True)
    nosync_count = intents * 10
    nosync_s = _append_intents(directory / "nosync.journal", nosync_count, sync=False)
    records_s = _append_fills(directory / "fills.journal", records)
    encode_count = max(1000, records // 4)
    encode_s = _encode_seconds(encode_count)
    nonce_count = max(10, intents // 10)
    nonce_s = _nonce_seconds(directory, nonce_count)
    plain_s = _orders_seconds(orders, None)
    journal_s = _orders_seconds(orders, directory / "orders.journal")
    report: dict[str, Any] = {
        "directory": str(directory.parent),
        "intents_per_s_sync": round(intents / sync_s, 1),
        "intents_per_s_nosync": round(nosync_count / nosync_s, 1),
        "us_per_intent_sync": round(sync_s / intents * 1e6, 1),
        "us_per_intent_nosync": round(nosync_s / nosync_count * 1e6, 1),
        "records_per_s": round(records / records_s, 1),
        "encode_us_per_intent": round(encode_s / encode_count * 1e6, 2),
        "ms_per_shared_nonce": round(nonce_s / nonce_count * 1e3, 3),
        "fsyncs_per_intent_sync": None,
        "fsyncs_per_intent_nosync": None,
        "orders_per_s_no_journal": round(orders / plain_s, 1),
        "orders_per_s_journal": round(orders / journal_s, 1),
        "ms_per_order_journal_adds": round((journal_s - plain_s) / orders * 1e3, 3),
        "fsyncs_per_order": None,
    }
    if strace:
        counted = intents
        baseline = _count_fsyncs("none", 0, directory)
        synced = _count_fsyncs("sync", counted, directory)
        unsynced = _count_fsyncs("nosync", counted, directory)
        if baseline is not None and synced is not None and unsynced is not None:
            report["fsyncs_per_intent_sync"] = round((synced - baseline) / counted, 3)
            report["fsyncs_per_intent_nosync"] = round((unsynced - baseline) / counted, 3)
        # A session with a journal that places no order, against one that places ``orders``:
        # the difference is what each order adds (intent, outcome, nonces of its REST calls).
        opened = _count_fsyncs("orders-none", orders, directory)
        placed = _count_fsyncs("orders", orders, directory)
        if opened is not None and placed is not None:
            report["fsyncs_per_order"] = round((placed - opened) / orders, 3)
    return report


def _print(report: dict[str, Any]) -> None:
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        (
            "intent, sync=True",
            lambda r: f"{r['us_per_intent_sync']} us ({r['intents_per_s_sync']}/s)",
        ),
        (
            "intent, sync=False",
            lambda r: f"{r['us_per_intent_nosync']} us ({r['intents_per_s_nosync']}/s)",
        ),
        ("fills, 100 per append", lambda r: f"{r['records_per_s']} records/s"),
        ("encode one intent", lambda r: f"{r['encode_us_per_intent']} us"),
        ("shared nonce draw", lambda r: f"{r['ms_per_shared_nonce']} ms"),
        (
            "orders via a session",
            lambda r: (
                f"{r['orders_per_s_no_journal']}/s without a journal, "
                f"{r['orders_per_s_journal']}/s with (+{r['ms_per_order_journal_adds']} ms, "
                f"{r['fsyncs_per_order']} fsyncs per order)"
            ),
        ),
        (
            "fsyncs per intent",
            lambda r: f"{r['fsyncs_per_intent_sync']} synced, {r['fsyncs_per_intent_nosync']} not",
        ),
    ]
    for name, show in rows:
        print(f"{name:<24}{show(report)}")
    print(json.dumps(report, sort_keys=True))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, measure, print the table and the JSON line."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--child"]:
        return _child(args[1], int(args[2]), Path(args[3]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few hundred records: seconds")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: temp)")
    parser.add_argument("--no-strace", action="store_true", help="do not count fsyncs")
    options = parser.parse_args(args)
    intents, records, orders = (30, 500, 10) if options.quick else (300, 20_000, 200)
    with tempfile.TemporaryDirectory(dir=options.dir) as scratch:
        report = measure(
            Path(scratch),
            intents=intents,
            records=records,
            orders=orders,
            strace=not options.no_strace,
        )
    report["intents"], report["records"], report["orders"] = intents, records, orders
    _print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
