"""A million simulated seconds of the whole system, with faults and crashes (issue 16).

``tests/session/million.py`` runs a bot on a pure ``Session`` with an in-memory journal
against the simulator's exchange model, injecting faults and crashing the process hundreds
of times; it checks the promises as it goes (no fill lost, none repeated unflagged, nothing
placed twice, every request's outcome true). Two runs: a fixed seed over v1 and a fresh
random seed over v2. Each seed is printed when the run starts (past pytest's capture, so CI
logs show it even when the run hangs) and is in every failure message: replay one with
``python benchmarks/sim_million.py --seed SEED --protocol PROTOCOL``.

Beyond the promises, the run must stay fast and bounded: the whole million seconds in under
five minutes of CPU time, the simulated seconds per CPU second of the last tenth at least
half those of the first tenth, what pruning bounds (the exchange's history, the journal,
the checker's own books) no larger late in the run than early, and the process's resident
memory grown by less than 64 MB from the first tenth to the end.

Coverage is paused during these runs (``no_cover``): tracing would triple their time, and
every line they run is covered by the unit tests.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import pytest
from kraken_proto.adapters.simulator.model.exchange import Exchange, Forgotten

from tests.session.million import Plan, Report, fresh_seed, run

FIXED_SEED = 16_000_005
SECONDS = 1_000_000.0
CPU_BUDGET = 300.0  # seconds of CPU time for the million simulated seconds
RSS_GROWTH = 64 * 2**20  # bytes, from the first tenth of the run to its end
BOUNDED = ("model_orders", "model_trades", "journal_records", "driver_delivered", "driver_placed")


def bounded_sizes_grew(report: Report) -> dict[str, tuple[int, int]]:
    """The sizes pruning bounds whose peak in the run's second half exceeds 1.5 times their
    peak in the first half (plus 100): ``{name: (first, second)}``."""
    half = len(report.samples) // 2
    grew = {}
    for name in BOUNDED:
        first = max(sample.sizes[name] for sample in report.samples[:half])
        second = max(sample.sizes[name] for sample in report.samples[half:])
        if second > 1.5 * first + 100:
            grew[name] = (first, second)
    return grew


@pytest.mark.no_cover
@pytest.mark.timeout(600)
@pytest.mark.parametrize(("seeding", "protocol"), [("fixed", "v1"), ("random", "v2")])
def test_a_million_simulated_seconds_keep_every_promise(
    seeding: str,
    protocol: str,
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    seed = FIXED_SEED if seeding == "fixed" else fresh_seed()
    replay = (
        f"million seconds, {seeding} seed {seed} over {protocol}: replay with "
        f"python benchmarks/sim_million.py --seed {seed} --protocol {protocol}"
    )
    record_property("seed", seed)
    with capsys.disabled():
        print(f"\n{replay}", flush=True)

    report = run(Plan(seed=seed, seconds=SECONDS, protocol=protocol))
    summary = report.summary()
    with capsys.disabled():
        print(json.dumps(summary), flush=True)

    assert not report.violations, f"{replay}: {report.violations[:10]}"
    assert report.sim_seconds >= SECONDS, replay
    assert report.crashes >= 200, f"{replay}: only {report.crashes} crashes"
    assert report.fills >= 10_000, f"{replay}: only {report.fills} fills"
    assert summary["cpu_seconds"] < CPU_BUDGET, f"{replay}: {summary}"
    first, last = report.rate("first"), report.rate("last")
    assert last >= 0.5 * first, f"{replay}: {first:.0f} -> {last:.0f} simulated s per CPU s"
    assert not bounded_sizes_grew(report), f"{replay}: {bounded_sizes_grew(report)}"
    tenth = report.samples[len(report.samples) // 10]
    growth = report.samples[-1].rss - tenth.rss
    assert growth < RSS_GROWTH, f"{replay}: resident memory grew {growth / 2**20:.0f} MB"


def test_a_short_run_replays_exactly_by_seed() -> None:
    # The same seed gives the same run (everything random comes from it), so a printed seed
    # reproduces a failure.
    plan = Plan(seed=7, seconds=3_000.0, samples=4, crash_every=500.0, fault_every=60.0)
    first, again = run(plan), run(plan)
    assert not first.violations, first.violations
    assert first.crashes >= 1
    keys = ("crashes", "crash_points", "faults", "orders", "cancels", "fills", "deliveries")
    assert {k: getattr(first, k) for k in keys} == {k: getattr(again, k) for k in keys}
    assert first.outcomes == again.outcomes


def test_unpruned_state_grows_and_the_check_sees_it() -> None:
    # Without forgetting and pruning, the exchange's history and the journal only grow: the
    # bound above would catch a regression that stops pruning.
    report = run(Plan(seed=3, seconds=20_000.0, samples=10, prune=False))
    assert not report.violations, report.violations
    grew = bounded_sizes_grew(report)
    assert {"model_orders", "model_trades", "journal_records"} <= set(grew), grew
    pruned = run(Plan(seed=3, seconds=20_000.0, samples=10, horizon=1_800.0))
    assert not bounded_sizes_grew(pruned), bounded_sizes_grew(pruned)


@pytest.mark.no_cover
@pytest.mark.timeout(120)
def test_a_cancel_whose_order_was_forgotten_is_checked_against_its_final_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With a one-minute horizon the exchange forgets settled orders while cancels of them still
    # wait for their outcome (behind a reconnect or a crash); the checker keeps each forgotten
    # order's final state, so those cancels are checked too. (A horizon this short is too short
    # for the fill check on some seeds: a fill can take longer than a minute to arrive, and the
    # model then forgets it undelivered. Seed 3 is not one of them.)
    plan = Plan(seed=3, seconds=20_000.0, samples=4, horizon=60.0, housekeeping=30.0, protocol="v2")
    report = run(plan)
    assert not report.violations, report.violations
    assert report.forgotten_cancels >= 1
    # The check sees a wrong state: told that every forgotten order ended canceled, it finds
    # the cancels refused on orders that (it now believes) some cancel did cancel.
    forget = Exchange.forget_settled

    def forget_as_canceled(exchange: Exchange, before: float) -> Forgotten:
        forgotten = forget(exchange, before)
        orders = {
            txid: dataclasses.replace(order, status="canceled")
            for txid, order in forgotten.orders.items()
        }
        return dataclasses.replace(forgotten, orders=orders)

    monkeypatch.setattr(Exchange, "forget_settled", forget_as_canceled)
    wrong = run(plan)
    assert any("yet canceled" in text for text in wrong.violations), wrong.violations
