"""Soak across crashes and processes: ``soak.py --crash`` and ``soak.py --processes N``.

``--crash``: the bot runs in a child process on a SQLite journal and is killed with SIGKILL
at a random moment every ``--kill-every`` seconds (about: uniform over 0.5 to 1.5 times it),
then started again on the same journal, while the simulator (here, in a thread: the ground
truth) swings the price and breaks the connection every ``--drop-every`` seconds.

``--processes N``: N bot processes trade on one API key, each on its own journal in one
directory, so they share the key's nonces and REST call budget
(``SharedNonceSource``/``SharedRestCallCounter``), while connections drop every
``--drop-every`` seconds (one process's at a time, in turn).

After the trading phase the bots stop placing orders (a crash run starts one last process,
which is not killed) and the run waits until every bot has every fill the exchange made and
nothing in flight: ``settle_seconds``. Then they close and the run checks:

* every fill of the key reached every bot, and no bot got one twice unless flagged
  ``redelivered`` (``lost``, ``unflagged_repeats``);
* no ``cl_ord_id`` was placed twice, and every order the exchange holds was in a journal's
  intents before it went out (``placed_twice``, ``placed_without_intent``);
* every intent in every journal ended with its true outcome (``unresolved_intents``,
  ``wrong_outcomes``), and so did every outcome a bot was handed;
* Kraken (the simulator) never answered ``EAPI:Invalid nonce`` (``invalid_nonces``).

Each bot appends one JSON line per thing it was handed to its own file (one file per process
start), with one ``write`` per line before it takes the next events (which acknowledges the
ones before): a SIGKILL loses nothing written, and a half-written last line is skipped.
Bots are forked from a ``forkserver`` that has imported everything, so a restart costs
milliseconds, not an interpreter start.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import multiprocessing
import multiprocessing.forkserver
import os
import random
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import trio
from kraken_proto import (
    AddOrder,
    Credentials,
    FillReceived,
    RequestOutcome,
    SessionEvent,
    SessionState,
)
from kraken_proto.adapters import (
    TradingRequestError,
    open_asyncio_session,
    open_session,
    open_trio_session,
)
from kraken_proto.adapters.journal import read_journal
from kraken_proto.adapters.simulator.model.exchange import Exchange
from kraken_proto.adapters.simulator.server import SimulatorThread, run_in_thread

import soak

__all__ = ["BotSpec", "bot_main", "failed", "run_crash", "run_processes"]

FAILURES = (
    "lost",
    "unflagged_repeats",
    "placed_twice",
    "unresolved_intents",
    "invalid_nonces",
    "wrong_outcomes",
    "unknown_fills",
    "placed_without_intent",
    "bot_errors",
)
SETTLE_LIMIT = 60.0  # seconds the bots get to catch up after trading stops
KILL_WAIT = 60.0  # seconds a SIGKILLed bot gets to be gone before the next start


@dataclasses.dataclass(frozen=True)
class BotSpec:
    """What one bot process needs (picklable: it crosses to the forkserver)."""

    adapter: str
    protocol: str
    journal: str
    out: str
    quiet: str  # once this file exists: place no more orders
    stop: str  # once this file exists: acknowledge, close, exit
    seed: int
    rate: float
    rest_url: str
    ws_url: str
    ca_file: str
    api_key: str
    api_secret: str
    spawned: float = 0.0  # when the parent started this process (wall clock)


# --- the bot (in the child process) -------------------------------------------------------


class _Log:
    """One JSON line per ``write`` on an ``O_APPEND`` descriptor: in the kernel once written."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._idle: tuple[bool, str, int] | None = None

    def line(self, **fields: Any) -> None:
        fields["ts"] = round(time.time(), 3)
        os.write(self._fd, (json.dumps(fields, separators=(",", ":")) + "\n").encode())

    def event(self, event: SessionEvent) -> None:
        if isinstance(event, FillReceived):
            self.line(t="fill", id=event.trade_id, r=event.redelivered, s=event.source)
        elif isinstance(event, RequestOutcome):
            self.outcome(event, "event")

    def outcome(self, result: Any, via: str) -> None:
        """An order call's outcome: a ``RequestOutcome`` event or an order call's result."""
        request = result.request
        cl = request.cl_ord_id if isinstance(request, AddOrder) else None
        recovered = getattr(result, "recovered", False)
        txid = getattr(result, "txid", None)
        self.line(t="outcome", cl=cl, k=_kind(result), txid=txid, rec=recovered, via=via)

    def status(self, session: Any) -> None:
        """Once trading stopped: whether the bot is idle (LIVE, nothing in flight), on change."""
        state, pending = session.state, len(session.session.pending())
        idle = state is SessionState.LIVE and not pending
        now = (idle, state.value, pending)
        if now != self._idle:
            self._idle = now
            self.line(t="status", idle=idle, state=state.value, pending=pending)


def _kind(result: Any) -> str:
    name = type(result).__name__
    return {
        "RequestAccepted": "placed",
        "RequestApplied": "placed",
        "RequestRefused": "refused",
        "RequestRefusedError": "refused",
        "RequestNotApplied": "not_placed",
        "RequestNotAppliedError": "not_placed",
    }.get(name, "unknown")


def _exists(path: str) -> bool:
    return os.path.exists(path)


def bot_main(spec: BotSpec) -> None:
    """One bot process: trade on ``spec.journal`` until told to stop (or killed)."""
    log = _Log(spec.out)
    log.line(t="start", pid=os.getpid(), delay=round(time.time() - spec.spawned, 3))
    try:
        {"blocking": _run_blocking, "trio": _run_trio, "asyncio": _run_asyncio}[spec.adapter](
            spec, log
        )
    except BaseException as exc:
        log.line(t="error", e=f"{type(exc).__name__}: {exc}"[:500])
        raise
    log.line(t="closed")


def _session_options(spec: BotSpec) -> dict[str, Any]:
    return {
        "rest_url": spec.rest_url,
        "ws_url": spec.ws_url,
        "ssl_context": ssl.create_default_context(cafile=spec.ca_file),
        "config": soak._config(),
        "protocol": spec.protocol,
        "journal": spec.journal,
    }


def _credentials(spec: BotSpec) -> Credentials:
    return Credentials(api_key=spec.api_key, api_secret=spec.api_secret)


def _plan(spec: BotSpec) -> soak.Plan:
    return soak.Plan(spec.seed, drop_every=1e9, rate=spec.rate)  # the parent breaks things


def _run_blocking(spec: BotSpec, log: _Log) -> None:
    plan = _plan(spec)
    with open_session(_credentials(spec), **_session_options(spec)) as session:
        session.subscribe("ownTrades")
        session.subscribe("openOrders")
        while not _exists(spec.stop):
            if _exists(spec.quiet):
                for event in session.events(timeout=0.1):
                    log.event(event)
                log.status(session)
                continue
            try:
                result: Any = session.add_order(plan.order(), timeout=30)
            except TradingRequestError as exc:
                result = exc
            log.outcome(result, "call")
            pause = plan.wait()
            for event in session.events(timeout=pause):
                log.event(event)
        session.ack()  # what was taken last is written down: never deliver it again


async def _trade_async(
    spec: BotSpec, log: _Log, session: Any, sleep: Callable[[float], Any]
) -> None:
    plan = _plan(spec)
    await session.subscribe("ownTrades")
    await session.subscribe("openOrders")
    while not _exists(spec.stop):
        if _exists(spec.quiet):
            await sleep(0.1)
            log.status(session)
            continue
        try:
            result: Any = await session.add_order(plan.order(), timeout=30)
        except TradingRequestError as exc:
            result = exc
        log.outcome(result, "call")
        await sleep(plan.wait())
    session.ack()


async def _watch(log: _Log, session: Any) -> None:
    async for event in session.events():
        log.event(event)  # before the next event is taken (which acknowledges this one)


def _run_trio(spec: BotSpec, log: _Log) -> None:
    async def main() -> None:
        async with (
            open_trio_session(_credentials(spec), **_session_options(spec)) as session,
            trio.open_nursery() as nursery,
        ):
            nursery.start_soon(_watch, log, session)
            await _trade_async(spec, log, session, trio.sleep)
            nursery.cancel_scope.cancel()

    trio.run(main)


def _run_asyncio(spec: BotSpec, log: _Log) -> None:
    async def main() -> None:
        async with open_asyncio_session(_credentials(spec), **_session_options(spec)) as session:
            watcher = asyncio.create_task(_watch(log, session))
            try:
                await _trade_async(spec, log, session, asyncio.sleep)
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    asyncio.run(main())


# --- the parent: the simulator, the kills, the verdict --------------------------------------


@dataclasses.dataclass
class _Bot:
    """One bot (one journal) and its process starts."""

    index: int
    journal: Path
    starts: int = 0
    process: BaseProcess | None = None
    logs: list[Path] = dataclasses.field(default_factory=list)


def _start_forkserver() -> None:
    """Start the forkserver (once per parent) with this folder importable, so that it preloads
    this module: Python 3.11's forkserver does not take the parent's ``sys.path`` when it
    preloads, and each bot would otherwise import everything again (0.3 s a start)."""
    here = str(Path(__file__).resolve().parent)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = here if not old else here + os.pathsep + old
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old


class _Harness:
    def __init__(
        self,
        sim: SimulatorThread,
        workdir: Path,
        adapter: str,
        protocol: str,
        rate: float,
        seed: int,
    ) -> None:
        self.sim = sim
        self.workdir = workdir
        self.adapter = adapter
        self.protocol = protocol
        self.rate = rate
        self.rng = random.Random(seed)
        self.seed = seed
        self.quiet = workdir / "quiet"
        self.stop = workdir / "stop"
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["soak_crash"])
        _start_forkserver()
        self.replies: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()  # REST calls the simulator answered, by path
        sim.apply(self._count_replies)

    def _count_replies(self, exchange: Exchange, now: float) -> None:
        """Count the simulator's invalid-nonce and rate-limit answers (it is the truth)."""
        answer = exchange.handle_rest
        replies, calls = self.replies, self.calls

        def counted(**kwargs: Any) -> Any:
            reply = answer(**kwargs)
            calls[str(kwargs.get("path", "")).rsplit("/", 1)[-1]] += 1
            if b"EAPI:Invalid nonce" in reply.body:
                replies["invalid_nonces"] += 1
            elif b"EAPI:Rate limit exceeded" in reply.body:
                replies["rate_limited"] += 1
            return reply

        exchange.handle_rest = counted  # type: ignore[method-assign]

    def bot(self, index: int) -> _Bot:
        return _Bot(index=index, journal=self.workdir / f"bot-{index}" / "bot.journal")

    def start(self, bot: _Bot) -> None:
        bot.journal.parent.mkdir(exist_ok=True)
        # Several bots on one key: their journals share one directory (and its key state).
        out = self.workdir / f"bot-{bot.index}.{bot.starts}.jsonl"
        bot.logs.append(out)
        spec = BotSpec(
            adapter=self.adapter,
            protocol=self.protocol,
            journal=str(bot.journal),
            out=str(out),
            quiet=str(self.quiet),
            stop=str(self.stop),
            seed=self.seed * 1_000_003 + bot.index * 1_009 + bot.starts,
            rate=self.rate,
            rest_url=self.sim.rest_url,
            ws_url=self.sim.ws_url,
            ca_file=str(self.sim.ca_file),
            api_key=self.sim.api_key,
            api_secret=self.sim.api_secret,
            spawned=time.time(),
        )
        bot.starts += 1
        process = self.context.Process(target=bot_main, args=(spec,), daemon=True)
        process.start()
        bot.process = process

    @staticmethod
    def kill(bot: _Bot) -> None:
        process = bot.process
        assert process is not None
        if process.pid is not None and process.exitcode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
        # The journal's lock is free only once the process is gone, and a SIGKILLed process
        # goes only when it leaves the kernel (an fsync on a loaded disk can hold it there for
        # seconds): starting the next one before would fail on JournalLockedError.
        process.join(KILL_WAIT)
        if process.exitcode is None:
            raise RuntimeError(
                f"bot {bot.index} (pid {process.pid}) still alive {KILL_WAIT} s after SIGKILL"
            )

    def settle(self, bots: list[_Bot]) -> float | None:
        """Wait until every bot holds every fill and is idle; the seconds it took (None:
        ``SETTLE_LIMIT`` ran out)."""
        started = time.monotonic()
        while time.monotonic() - started < SETTLE_LIMIT:
            time.sleep(0.25)
            truth = _truth(self.sim, self.protocol)[0]
            if all(_settled(bot, truth) for bot in bots):
                return time.monotonic() - started
        return None

    def finish(self, bots: list[_Bot]) -> None:
        self.stop.touch()
        for bot in bots:
            assert bot.process is not None
            bot.process.join(15)
            if bot.process.exitcode is None:
                self.kill(bot)


def _read_log(path: Path) -> Iterator[dict[str, Any]]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return
    for line in text.splitlines():
        try:
            yield json.loads(line)
        except ValueError:  # the last line, cut by a SIGKILL
            continue


def _settled(bot: _Bot, truth: set[str]) -> bool:
    process = bot.process
    if process is None or process.exitcode is not None:
        return False
    delivered: set[str] = set()
    for path in bot.logs:
        delivered.update(
            line["id"] for line in _read_log(path) if line["t"] == "fill" and line["s"] != "history"
        )
    status = [line["idle"] for line in _read_log(bot.logs[-1]) if line["t"] == "status"]
    return bool(status) and status[-1] and truth <= delivered


def _truth(sim: SimulatorThread, protocol: str) -> tuple[set[str], dict[str, list[str]]]:
    return soak.ground_truth(sim, protocol)


def verdict(harness: _Harness, bots: list[_Bot], **extra: Any) -> dict[str, Any]:
    """Check what the bots were handed and what their journals say against the exchange."""
    truth, placed = _truth(harness.sim, harness.protocol)
    result: dict[str, Any] = {"adapter": harness.adapter, "protocol": harness.protocol}
    result |= extra
    counts: Counter[str] = Counter()
    sources: Counter[str] = Counter()  # fills handed, by source (all bots)
    intents_cl: set[str] = set()
    for bot in bots:
        unflagged: Counter[str] = Counter()
        delivered: set[str] = set()
        for path in bot.logs:
            for line in _read_log(path):
                kind = line["t"]
                if kind == "fill":
                    sources[line["s"]] += 1
                    if line["s"] == "history":
                        counts["history_fills"] += 1
                        continue
                    delivered.add(line["id"])
                    if line["r"]:
                        counts["redelivered"] += 1
                    else:
                        unflagged[line["id"]] += 1
                elif kind == "outcome":
                    counts["outcomes_handed"] += 1
                    counts["recovered_outcomes"] += bool(line["rec"])
                    counts["wrong_outcomes"] += _wrong(line["k"], line["cl"], line["txid"], placed)
                elif kind == "error":
                    counts["bot_errors"] += 1
                    print(f"bot {bot.index}: {line['e']}", file=sys.stderr)
        lost = truth - delivered
        counts["lost"] += len(lost)
        state = read_journal(bot.journal)
        if lost:
            _explain(harness, bot, lost, state)
        counts["unknown_fills"] += len(delivered - truth)
        counts["unflagged_repeats"] += sum(n - 1 for n in unflagged.values() if n > 1)
        for handle, intent in state.intents.items():
            request = intent.request
            cl = request.cl_ord_id if isinstance(request, AddOrder) else None
            if cl is not None:
                intents_cl.add(cl)
            outcome = state.outcomes.get(handle)
            if outcome is None or outcome.result == "unresolved":
                counts["unresolved_intents"] += 1
                continue
            kind = {"accepted": "placed", "applied": "placed"}.get(outcome.result, "not_placed")
            counts["wrong_outcomes"] += _wrong(kind, cl, outcome.txid, placed)
        counts["orders"] += len(state.intents)
    counts["placed_twice"] = sum(1 for txids in placed.values() if len(txids) > 1)
    counts["placed_without_intent"] = len(placed.keys() - intents_cl)
    counts["invalid_nonces"] = harness.replies["invalid_nonces"]
    counts["rate_limited"] = harness.replies["rate_limited"]
    result["orders_in_model"] = sum(len(txids) for txids in placed.values())
    result["fills"] = len(truth)
    for key in ("orders", *FAILURES, "history_fills", "redelivered", "recovered_outcomes"):
        result[key] = counts[key]
    result["outcomes_handed"] = counts["outcomes_handed"]
    result["rate_limited"] = counts["rate_limited"]
    result["rest_calls"] = dict(harness.calls)
    result["fill_sources"] = dict(sorted(sources.items()))
    return result


def _explain(harness: _Harness, bot: _Bot, lost: set[str], state: Any) -> None:
    """Say on stderr which fills a bot lost, when they were made, and where its journal's
    fill cursor is (to tell a slow catch-up from a real loss)."""

    def times(exchange: Exchange, now: float) -> dict[str, str]:
        trades = exchange.fills() if harness.protocol == "v2" else exchange.trades()
        return {tid: str(trades[tid].time) for tid in lost}

    made = sorted(harness.sim.apply(times).items(), key=lambda item: item[1])
    print(
        f"bot {bot.index}: {len(lost)} fills lost, made {made[0][1]}..{made[-1][1]}; "
        f"journal cursor {state.cursor}; e.g. {made[:3]}",
        file=sys.stderr,
    )


def _wrong(kind: str, cl: str | None, txid: str | None, placed: dict[str, list[str]]) -> int:
    if cl is None:
        return 0
    if kind == "placed":
        return int(txid not in placed.get(cl, []))
    if kind in ("refused", "not_placed"):
        return int(cl in placed)
    return 0  # unknown: counted as unresolved where the journal says so


def failed(result: dict[str, Any]) -> bool:
    return result.get("settle_seconds") is None or any(result[key] for key in FAILURES)


@contextlib.contextmanager
def _world(seed: int) -> Iterator[tuple[SimulatorThread, Path]]:
    # The benchmarks folder must be importable in the forkserver (it imports this module).
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    workdir = tempfile.mkdtemp(prefix="kraken-soak-")
    try:
        with run_in_thread(soak._sim_config(seed), tls=True, seed=seed) as sim:
            soak._setup(sim)
            yield sim, Path(workdir)
    finally:
        if os.environ.get("SOAK_KEEP"):  # the journals and the bots' logs, to look into
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


class _Breaker:
    """The parent's side of the soak: price swings every half second, a fault every
    ``drop_every`` seconds (on each open WebSocket in turn), from a thread."""

    def __init__(self, sim: SimulatorThread, drop_every: float, seed: int) -> None:
        self.sim = sim
        self.plan = soak.Plan(seed, drop_every, rate=1.0)
        self.faults: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-breaker", daemon=True)

    def __enter__(self) -> _Breaker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        turn = 0
        while not self._stop.wait(0.05):
            price = self.plan.swing_due()
            if price is not None:
                self.sim.set_reference_price(soak.PAIR, price)
            fault = self.plan.fault_due()
            if fault is None:
                continue
            armed = soak.arm_fault(self.sim, fault, turn)
            if armed.startswith("none"):
                # No connection (a bot is restarting): the same fault again shortly, so that
                # every kind lands however often the bots die.
                self.plan.drops -= 1
                self.plan.next_drop = time.monotonic() + 0.1
                continue
            self.faults[armed] += 1
            turn += 1


def run_crash(
    adapter: str,
    seconds: float,
    drop_every: float,
    rate: float,
    seed: int,
    protocol: str = "v1",
    kill_every: float = 1.0,
) -> dict[str, Any]:
    """One bot, killed with SIGKILL about every ``kill_every`` seconds (see the module)."""
    with _world(seed) as (sim, workdir):
        harness = _Harness(sim, workdir, adapter, protocol, rate, seed)
        bot = harness.bot(0)
        kills = 0
        with _Breaker(sim, drop_every, seed) as breaker:
            end = time.monotonic() + seconds
            harness.start(bot)
            while time.monotonic() < end:
                delay = kill_every * harness.rng.uniform(0.5, 1.5)
                time.sleep(max(0.0, min(delay, end - time.monotonic())))
                harness.kill(bot)  # the last one too: the settling bot starts from a crash
                kills += 1
                if time.monotonic() < end:
                    harness.start(bot)
        harness.quiet.touch()
        harness.start(bot)
        return _conclude(
            harness,
            [bot],
            breaker,
            mode="crash",
            seconds=seconds,
            kills=kills,
            starts=bot.starts,
        )


def run_processes(
    adapter: str,
    seconds: float,
    drop_every: float,
    rate: float,
    seed: int,
    protocol: str = "v1",
    processes: int = 2,
) -> dict[str, Any]:
    """``processes`` bots on one key, with their journals in one directory (see the module)."""
    with _world(seed) as (sim, workdir):
        harness = _Harness(sim, workdir, adapter, protocol, rate, seed)
        bots = [harness.bot(index) for index in range(processes)]
        for bot in bots:
            bot.journal = workdir / "journals" / f"bot-{bot.index}.journal"
        with _Breaker(sim, drop_every, seed) as breaker:
            for bot in bots:
                harness.start(bot)
            time.sleep(seconds)
        harness.quiet.touch()
        return _conclude(
            harness, bots, breaker, mode="processes", processes=processes, seconds=seconds, kills=0
        )


def _conclude(
    harness: _Harness, bots: list[_Bot], breaker: _Breaker, **extra: Any
) -> dict[str, Any]:
    """Trading has stopped: wait for the bots to settle, stop them, and judge the run
    (``extra`` first in the result, then the settle time and the faults armed)."""
    settle = harness.settle(bots)
    harness.finish(bots)
    return verdict(
        harness,
        bots,
        **extra,
        settle_seconds=None if settle is None else round(settle, 1),
        faults=dict(breaker.faults),
    )
