"""The trading counter model: the costs of Kraken's table, and a paced schedule is never refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import LocalProtocolError
from kraken_proto.adapters.simulator.model._ratelimit import (
    RateCounters,
)
from kraken_proto.adapters.simulator.model._ratelimit import (
    amend_cost as sim_amend_cost,
)
from kraken_proto.adapters.simulator.model._ratelimit import (
    cancel_cost as sim_cancel_cost,
)
from kraken_proto.adapters.simulator.model._ratelimit import (
    edit_cost as sim_edit_cost,
)
from kraken_proto.session._pacing import (
    TRADING_TIERS,
    TradingCounter,
    add_cost,
    amend_cost,
    batch_add_cost,
    batch_cancel_cost,
    cancel_cost,
    edit_cost,
)

AGES = st.floats(min_value=0, max_value=1_000, allow_nan=False)


@pytest.mark.parametrize(
    ("age", "cancel", "edit", "amend"),
    [
        (0.0, 8, 7, 4),
        (4.99, 8, 7, 4),
        (5.0, 6, 6, 3),
        (10.0, 5, 5, 2),
        (15.0, 4, 3, 1),
        (45.0, 2, 2, 1),
        (90.0, 1, 1, 1),
        (300.0, 0, 1, 1),
    ],
)
def test_costs_follow_krakens_table(age: float, cancel: int, edit: int, amend: int) -> None:
    assert cancel_cost(age) == cancel
    assert edit_cost(age) == edit
    assert amend_cost(age) == amend
    assert add_cost() == 1


def test_an_order_of_unknown_age_costs_as_a_new_one() -> None:
    assert cancel_cost(None) == 8
    assert edit_cost(None) == 7
    assert amend_cost(None) == 4


def test_batch_costs() -> None:
    assert batch_add_cost(15) == 7.5
    assert batch_cancel_cost([0.0, 12.0, 400.0, None]) == 8 + 5 + 0 + 8


@given(AGES)
def test_the_simulator_charges_the_same_table(age: float) -> None:
    assert sim_cancel_cost(age) == cancel_cost(age)
    assert sim_edit_cost(age) == edit_cost(age)
    assert sim_amend_cost(age) == amend_cost(age)


@given(st.lists(AGES, max_size=20))
def test_penalties_never_grow_with_age(ages: list[float]) -> None:
    ordered = sorted(ages)
    for cost in (cancel_cost, edit_cost, amend_cost):
        values = [cost(age) for age in ordered]
        assert values == sorted(values, reverse=True)


def test_level_decays_linearly_and_never_below_zero() -> None:
    counter = TradingCounter("intermediate")
    counter.charge("XBT/USD", 10, now=100.0)
    assert counter.level("XBT/USD", 100.0) == 10
    assert counter.level("XBT/USD", 102.0) == pytest.approx(10 - 2 * 2.34)
    assert counter.level("XBT/USD", 1_000.0) == 0
    # time going backwards counts as no time passing
    assert counter.level("XBT/USD", 50.0) == 10
    assert counter.level("ETH/USD", 100.0) == 0
    assert repr(counter) == "TradingCounter(tier='intermediate', pairs=1)"


def test_ready_at_waits_for_the_decay() -> None:
    counter = TradingCounter("starter", headroom=0)
    counter.charge("XBT/USD", 60, now=0.0)
    assert counter.ready_at("XBT/USD", 8, now=0.0) == pytest.approx(8.0)
    assert counter.ready_at("XBT/USD", 8, now=8.0) == 8.0
    assert counter.ready_at("ETH/USD", 8, now=0.0) == 0.0
    # dearer than the whole budget: ready once the counter is empty
    assert counter.ready_at("XBT/USD", 500, now=0.0) == pytest.approx(60.0)


def test_resync_saturate_and_threshold_come_from_the_server() -> None:
    counter = TradingCounter()
    counter.resync("XBT/USD", 30, now=0.0)
    assert counter.level("XBT/USD", 0.0) == 30
    counter.resync("XBT/USD", -3, now=0.0)
    assert counter.level("XBT/USD", 0.0) == 0
    counter.saturate("XBT/USD", now=1.0)
    assert counter.level("XBT/USD", 1.0) == 60
    counter.set_threshold(125)
    assert counter.threshold == 125
    counter.set_threshold(0)
    assert counter.threshold == 125


def test_forgets_pairs_whose_counter_emptied() -> None:
    counter = TradingCounter()
    for index in range(100):
        counter.charge(f"P{index}/USD", 1, now=float(index))
    # every pair older than a second has decayed to 0 and was pruned
    assert len(counter._counts) <= 66


@pytest.mark.parametrize(
    ("tier", "headroom", "message"),
    [
        ("gold", 1.0, "tier: must be one of starter, intermediate, pro"),
        ("starter", -1.0, "headroom: must be a finite number >= 0"),
        ("starter", float("nan"), "headroom: must be a finite number >= 0"),
        ("starter", True, "headroom: must be a finite number >= 0"),
    ],
)
def test_bad_arguments(tier: str, headroom: float, message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        TradingCounter(tier, headroom=headroom)


REQUESTS = st.lists(
    st.tuples(
        st.sampled_from(["XBT/USD", "ETH/USD"]),
        st.sampled_from(["add", "cancel", "edit", "amend"]),
        st.floats(min_value=0, max_value=400, allow_nan=False),  # the order's age
        st.floats(min_value=0, max_value=3, allow_nan=False),  # the caller's think time
    ),
    max_size=200,
)


@given(st.sampled_from(sorted(TRADING_TIERS)), REQUESTS)
def test_a_paced_schedule_is_never_refused_by_the_simulators_counter(
    tier: str, requests: list[tuple[str, str, float, float]]
) -> None:
    """Send each request at ``ready_at``: the simulator's own counter accepts every one."""
    counter = TradingCounter(tier)
    threshold, decay = TRADING_TIERS[tier]
    exchange = RateCounters(threshold, Decimal(str(decay)))
    costs = {"add": lambda _: add_cost(), "cancel": cancel_cost}
    costs.update(edit=edit_cost, amend=amend_cost)
    now = 0.0
    for pair, kind, age, think in requests:
        cost = costs[kind](age)
        now = counter.ready_at(pair, cost, now + think)
        assert exchange.allows(pair, int(cost), now), (pair, kind, now)
        exchange.charge(pair, int(cost), now)
        counter.charge(pair, cost, now)


def test_cancel_all_and_its_timer_cost_as_the_simulator_charges() -> None:
    from kraken_proto.adapters.simulator.model._ratelimit import ACCOUNT as SIM_ACCOUNT
    from kraken_proto.session._pacing import ACCOUNT, cancel_all_after_cost, cancel_all_cost

    assert cancel_all_cost(0) == 0.0
    assert cancel_all_cost(3) == 3.0
    assert cancel_all_after_cost() == 1.0
    assert ACCOUNT == SIM_ACCOUNT
