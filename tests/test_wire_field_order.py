"""The channel records declare their fields in Kraken's wire order, so decoding stays fast.

msgspec looks each key of a JSON object up among the Struct's fields by comparing it with the
fields from the one after the previous key's field onwards, wrapping round at the end (each
object starts at the first field). A key sent in declaration order is found at the first
compare; one sent behind the key before it costs a pass round every field. These tests model
that lookup and hold the declared orders to the key orders of captured Kraken events, so that
reordering or inserting a field cannot quietly slow decoding down. (The speed itself is measured
by ``benchmarks/bench_decode.py``, never here.)

Key orders, as captured: v1 from kraken-async-rs's recorded frames (2023: a new order, a
snapshot, the open/fill/cancel/expire deltas, trades) and the protocol doc; v2 from the doc's
examples (pending_new, new, trade, a live cancel quoted by ccxt, balances) and the simulator's
records, which follow roq-kraken's and kraken-async-rs's captures (filled, amended, a snapshot
order, a snapshot trade).
"""

from __future__ import annotations

import msgspec
import pytest
from kraken_proto.v1._events import Contingent, OrderDescr, OrderRecord, Trade
from kraken_proto.v2._events import BalanceRecord, Execution

V1_FULL_ORDER = (
    "avg_price cost descr expiretm fee limitprice misc oflags opentm refid starttm status"
    " stopprice timeinforce userref vol vol_exec"
)
V1_ORDER_SAMPLES = {
    "full record": V1_FULL_ORDER,
    "full record with cl_ord_id": V1_FULL_ORDER.replace("avg_price", "avg_price cl_ord_id"),
    "status-only delta": "status userref",
    "fill delta": "vol_exec cost fee avg_price userref",
    "cancel delta": "lastupdated status vol_exec cost fee avg_price userref cancel_reason",
    "expire delta": "lastupdated status vol_exec cost fee avg_price userref",
}
V1_TRADE = "cost fee margin ordertxid ordertype pair postxid price time type vol"
V1_DESCR = "close leverage order ordertype pair price price2 type"

# (weight, keys): the weight is how often the event comes, relative to the others.
V2_SAMPLES = {
    "pending_new": (
        2,
        "order_id order_userref symbol order_qty cum_cost time_in_force exec_type side order_type"
        " limit_price_type limit_price stop_price order_status fee_usd_equiv fee_ccy_pref"
        " timestamp",
    ),
    # Captured after the search (weight 0: held to their passes, not to the weighted sum): a
    # pending_new as live sends it now (roq-kraken, 2026: the id after order_type, as the
    # simulator sends it) and a snapshot order (kraken-async-rs, 2024: a stop-loss-limit).
    "pending_new (2026)": (
        0,
        "order_id symbol order_qty cum_cost time_in_force exec_type side order_type order_userref"
        " limit_price_type limit_price stop_price order_status fee_usd_equiv fee_ccy_pref"
        " timestamp",
    ),
    "snapshot order (captured)": (
        0,
        "order_id symbol order_qty cum_cost time_in_force exec_type side order_type order_userref"
        " limit_price_type triggers stop_price limit_price trigger order_status fee_usd_equiv"
        " fee_ccy_pref timestamp",
    ),
    "new": (2, "timestamp order_status exec_type order_userref order_id"),
    "trade": (
        3,
        "order_id order_userref exec_id exec_type trade_id symbol side last_qty last_price"
        " liquidity_ind cost order_type timestamp order_status cum_qty cum_cost avg_price"
        " fee_usd_equiv fees",
    ),
    "canceled (live)": (
        1,
        "timestamp order_status exec_type order_userref order_id cum_qty cum_cost fee_usd_equiv"
        " avg_price cancel_reason reason",
    ),
    "canceled (simulator)": (
        1,
        "timestamp order_status exec_type cum_qty cum_cost fee_usd_equiv avg_price order_userref"
        " cancel_reason reason order_id",
    ),
    "filled": (
        1,
        "timestamp order_status exec_type cum_qty cum_cost fee_usd_equiv avg_price order_userref"
        " order_id",
    ),
    "amended": (
        0.3,
        "timestamp exec_type order_status cum_qty reason amended order_qty limit_price"
        " limit_price_type order_userref order_id",
    ),
    "snapshot order": (
        1,
        "order_id symbol order_qty cum_cost time_in_force exec_type side order_type order_userref"
        " limit_price_type limit_price stop_price order_status fee_usd_equiv fee_ccy_pref"
        " timestamp cum_qty avg_price",
    ),
    "snapshot trade": (
        0.5,
        "order_id order_userref exec_id exec_type trade_id symbol side last_qty last_price"
        " liquidity_ind cost order_status order_type timestamp fee_usd_equiv fees",
    ),
}
# Passes round all the fields per v2 event, as declared now: each is a cost of ~50 ns.
V2_WRAPS = {
    "pending_new": 3,
    # A search that weighs these two as much as a new order saves them one or two passes and
    # costs a trade one: a fill, the event this library is about, keeps its two.
    "pending_new (2026)": 4,
    "snapshot order (captured)": 6,
    "new": 2,
    "trade": 2,
    "canceled (live)": 2,
    "canceled (simulator)": 2,
    "filled": 2,
    "amended": 4,
    "snapshot order": 4,
    "snapshot trade": 2,
}
V2_BALANCES = {
    "snapshot entry": "asset asset_class balance wallets",
    "ledger update": (
        "ledger_id ref_id timestamp type asset asset_class category wallet_type wallet_id amount"
        " fee balance"
    ),
}
V2_WEIGHTED_COMPARES = 1491
"""The weighted compares of the order found by the search (the order before: 3,066.6)."""


def lookups(cls: type[msgspec.Struct], keys: str) -> tuple[int, int]:
    """(compares, wraps): how many field names msgspec compares to find ``keys`` in turn, and
    how many times the search passes the last field and starts again from the first."""
    fields = cls.__struct_fields__
    index = {name: position for position, name in enumerate(fields)}
    compares = wraps = position = 0
    for key in keys.split():
        found = index[key]
        compares += (found - position) % len(fields) + 1
        wraps += found < position
        position = found + 1 if found + 1 < len(fields) else 0
    return compares, wraps


def test_the_lookup_model_counts_compares_and_wraps() -> None:
    class Three(msgspec.Struct):
        a: int
        b: int
        c: int

    assert lookups(Three, "a b c") == (3, 0)
    assert lookups(Three, "c") == (3, 0)
    assert lookups(Three, "b a") == (2 + 2, 1)
    assert lookups(Three, "c a b") == (3 + 1 + 1, 0)  # after the last field: the first


@pytest.mark.parametrize(("cls", "keys"), [(Trade, V1_TRADE), (OrderDescr, V1_DESCR)])
def test_sorted_v1_records_are_found_at_the_first_compare(
    cls: type[msgspec.Struct], keys: str
) -> None:
    # Kraken v1 sends a trade and an order's descr with their keys sorted.
    assert list(cls.__struct_fields__) == sorted(cls.__struct_fields__)
    compares, wraps = lookups(cls, keys)
    assert wraps == 0
    assert compares == cls.__struct_fields__.index(keys.split()[-1]) + 1  # forward only


def test_contingent_is_sorted_like_the_other_v1_records() -> None:
    assert list(Contingent.__struct_fields__) == sorted(Contingent.__struct_fields__)


@pytest.mark.parametrize("name", sorted(V1_ORDER_SAMPLES))
def test_v1_order_records_pass_round_the_fields_rarely(name: str) -> None:
    compares, wraps = lookups(OrderRecord, V1_ORDER_SAMPLES[name])
    if name.startswith("full record"):
        assert wraps == 3  # sorted keys against the delta order: found three passes round
    else:
        assert wraps == 0  # every delta is a subsequence of the declared order
        assert compares <= OrderRecord.__struct_fields__.index("cancel_reason") + 1


@pytest.mark.parametrize("name", sorted(V2_SAMPLES))
def test_v2_executions_pass_round_the_fields_as_few_times_as_the_search_found(name: str) -> None:
    _, keys = V2_SAMPLES[name]
    assert lookups(Execution, keys)[1] == V2_WRAPS[name]
    # An order placed with a cl_ord_id (the session gives every order one) carries it instead
    # of order_userref: no dearer.
    with_id = keys.replace("order_userref", "cl_ord_id")
    assert lookups(Execution, with_id)[1] == V2_WRAPS[name]


def test_v2_weighted_compares_stay_at_what_the_search_found() -> None:
    total = sum(weight * lookups(Execution, keys)[0] for weight, keys in V2_SAMPLES.values())
    assert total == pytest.approx(V2_WEIGHTED_COMPARES)


@pytest.mark.parametrize("name", sorted(V2_BALANCES))
def test_v2_balances_are_found_without_passing_round(name: str) -> None:
    assert lookups(BalanceRecord, V2_BALANCES[name])[1] == 0


@pytest.mark.parametrize(
    ("cls", "samples"),
    [
        (OrderRecord, V1_ORDER_SAMPLES.values()),
        (Trade, [V1_TRADE]),
        (OrderDescr, [V1_DESCR]),
        (Execution, [keys for _, keys in V2_SAMPLES.values()]),
        (BalanceRecord, V2_BALANCES.values()),
    ],
)
def test_every_captured_key_is_a_field(cls: type[msgspec.Struct], samples: list[str]) -> None:
    for keys in samples:
        assert set(keys.split()) <= set(cls.__struct_fields__)
