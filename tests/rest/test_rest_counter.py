"""RestCallCounter: Kraken's REST call counter per tier; no call is ever over budget."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import LocalProtocolError
from kraken_proto.rest import REST_TIERS, RestCallCounter


def test_starter_is_the_default_and_matches_kraken() -> None:
    counter = RestCallCounter()
    assert (counter.tier, counter.maximum, counter.decay_per_second) == ("starter", 15, 0.33)
    assert REST_TIERS["intermediate"] == (20, 0.5)
    assert REST_TIERS["pro"] == (20, 1.0)
    assert repr(counter) == "RestCallCounter(tier='starter', headroom=1)"
    assert counter.headroom == 1.0
    assert counter.level(5.0) == 0.0


def test_burst_then_wait_for_decay() -> None:
    counter = RestCallCounter("starter", headroom=0)
    for _ in range(7):  # 7 history calls: 14 units
        assert counter.ready_at(2, 100.0) == 100.0
        counter.spend(2, 100.0)
    assert counter.level(100.0) == 14.0
    assert counter.ready_at(1, 100.0) == 100.0
    # Another +2 needs one unit of decay: 1 / 0.33 s.
    assert counter.ready_at(2, 100.0) == pytest.approx(100.0 + 1 / 0.33)
    with pytest.raises(LocalProtocolError, match="do not fit before"):
        counter.spend(2, 100.0)
    assert counter.level(100.0) == 14.0  # unchanged by the refused spend
    at = counter.ready_at(2, 100.0)
    counter.spend(2, at)  # exactly at ready_at: accepted
    assert counter.level(at) == pytest.approx(15.0)
    assert counter.level(at + 1000) == 0.0


def test_pro_decays_faster_and_time_going_back_counts_as_none() -> None:
    counter = RestCallCounter("pro", headroom=0)
    counter.spend(20, 10.0)
    assert counter.ready_at(1, 10.0) == pytest.approx(11.0)
    assert counter.level(5.0) == 20.0  # a step back: no decay, no growth
    assert counter.level(15.0) == pytest.approx(15.0)


def test_saturate_after_rate_limit_exceeded() -> None:
    counter = RestCallCounter("intermediate")
    counter.saturate(50.0)
    assert counter.ready_at(0, 50.0) == 50.0  # free calls are on another limiter
    counter.spend(0, 50.0)
    assert counter.level(50.0) == 20.0
    assert counter.ready_at(1, 50.0) == pytest.approx(54.0)  # down to 18: 19 less 1 to fit


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda c: c.spend(15, 0.0), "cost: 15 exceeds the starter tier's budget of 14"),
        (lambda c: c.ready_at(-1, 0.0), "cost: must be a non-negative int"),
        (lambda c: c.spend(True, 0.0), "cost: must be a non-negative int"),
        (lambda c: c.level(float("nan")), "now: must be a finite number"),
        (lambda c: c.ready_at(1, "0"), "now: must be a finite number"),
        (lambda c: c.saturate(float("inf")), "now: must be a finite number"),
    ],
)
def test_bad_arguments(call: object, needle: str) -> None:
    with pytest.raises(LocalProtocolError, match=needle):
        call(RestCallCounter())  # type: ignore[operator]


def test_unknown_tier_and_bad_headroom() -> None:
    with pytest.raises(LocalProtocolError, match="tier: must be one of"):
        RestCallCounter("gold")
    with pytest.raises(LocalProtocolError, match=r"headroom: must be in 0\.\.15"):
        RestCallCounter(headroom=15)
    with pytest.raises(LocalProtocolError, match="headroom: must be a finite number"):
        RestCallCounter(headroom=float("nan"))


def test_headroom_keeps_units_free() -> None:
    counter = RestCallCounter()
    counter.spend(14, 0.0)
    assert counter.ready_at(1, 0.0) == pytest.approx(1 / 0.33)


@given(
    tier=st.sampled_from(sorted(REST_TIERS)),
    headroom=st.sampled_from([0.0, 1.0, 2.5]),
    calls=st.lists(
        st.tuples(st.sampled_from([0, 1, 1, 2]), st.floats(0, 30, allow_nan=False)), max_size=40
    ),
)
def test_waiting_until_ready_never_exceeds_the_budget(
    tier: str, headroom: float, calls: list[tuple[int, float]]
) -> None:
    counter = RestCallCounter(tier, headroom=headroom)
    now = 0.0
    for cost, pause in calls:
        now += pause
        now = counter.ready_at(cost, now)
        counter.spend(cost, now)
        assert counter.level(now) <= counter.maximum - counter.headroom + 1e-6
