"""``v2.apply_executions`` against its reference, ``OrderTable.apply(open_orders(push))``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st
from kraken_proto import OrderChanges, OrderTable
from kraken_proto.v2 import Execution, Executions, apply_executions, open_orders

_IDS = ("O1", "O2", "O3")
_NUMBERS = st.sampled_from(
    [Decimal("0"), Decimal("1.5"), Decimal("2.50"), Decimal("0.00000000"), Decimal("NaN")]
)
_TIMES = st.sampled_from(
    ["2026-12-07T21:17:15.795427Z", "2026-12-07T21:17:16Z", "not a time", "2026-02-30T00:00:00Z"]
)
_EXEC_TYPES = st.sampled_from(
    [
        *("pending_new", "new", "trade", "filled", "canceled", "expired", "amended"),
        *("restated", "status", "iceberg_refill", "brand_new"),
    ]
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


_PLAIN = st.builds(
    Execution,
    order_id=st.one_of(st.none(), *[st.sampled_from(_IDS)] * 3),
    exec_type=_maybe(_EXEC_TYPES),
    exec_id=_maybe(st.sampled_from(["T1", "T2"])),
    timestamp=_maybe(_TIMES),
    order_status=_maybe(st.sampled_from(["pending_new", "new", "partially_filled", "filled"])),
    cum_qty=_maybe(_NUMBERS),
    cum_cost=_maybe(_NUMBERS),
    avg_price=_maybe(_NUMBERS),
    order_qty=_maybe(_NUMBERS),
    display_qty=_maybe(_NUMBERS),
    ratecount=_maybe(_NUMBERS),
    order_userref=_maybe(st.integers(0, 3)),
    cl_ord_id=_maybe(st.sampled_from(["c1", "c2"])),
    effective_time=_maybe(_TIMES),
    expire_time=_maybe(_TIMES),
    time_in_force=_maybe(st.sampled_from(["GTC", "IOC"])),
    amended=_maybe(st.booleans()),
    reason=_maybe(st.just("Post only")),
    cancel_reason=_maybe(st.just("User requested")),
)
# A record that also restates the order's description (the reference path's nested merge).
_DESCRIBED = st.builds(
    msgspec.structs.replace,
    _PLAIN,
    limit_price=_maybe(_NUMBERS),
    symbol=_maybe(st.just("BTC/USD")),
    side=_maybe(st.sampled_from(["buy", "sell"])),
    order_type=_maybe(st.sampled_from(["limit", "market"])),
)
_RECORDS = st.one_of(_PLAIN, _PLAIN, _PLAIN, _DESCRIBED)


def _push(kind: str, records: list[Execution], sequence: int) -> Executions:
    return Executions(type=kind, data=tuple(records), sequence=sequence)


_UPDATES = st.lists(
    st.one_of(
        *[st.lists(_RECORDS, min_size=1, max_size=1).map(lambda rs: ("update", rs))] * 4,
        st.lists(_RECORDS, min_size=2, max_size=3).map(lambda rs: ("update", rs)),
        st.lists(_RECORDS, max_size=3).map(lambda rs: ("snapshot", rs)),
    ),
    max_size=14,
)
# The orders open at the start: every id, described, so updates find them.
_OPENED = [
    Execution(
        order_id=txid,
        exec_type="new",
        order_status="new",
        symbol="BTC/USD",
        side="buy",
        order_type="limit",
        order_qty=Decimal("1"),
        limit_price=Decimal("100"),
        timestamp="2026-12-07T21:00:00Z",
    )
    for txid in _IDS
]


def _shape(value: Any) -> Any:
    """Exact, comparable text of changes and orders (NaN compares unequal to itself)."""
    return msgspec.to_builtins(value)


def _state(table: OrderTable) -> Any:
    return (
        _shape(table.open_orders()),
        list(table.open_orders()),
        _shape(table.finished_orders()),
        list(table.finished_orders()),
        table._frames_seen,
    )


def _both_ways(direct: OrderTable, reference: OrderTable, push: Executions) -> None:
    """Apply ``push`` to ``direct`` by ``apply_executions`` and to ``reference`` by
    ``open_orders`` + ``OrderTable.apply``: the same changes, the same tables after."""
    changes = apply_executions(direct, push)
    expected = reference.apply(open_orders(push), snapshot=push.is_snapshot)
    assert isinstance(changes, OrderChanges)
    assert _shape(changes) == _shape(expected)
    assert _state(direct) == _state(reference)


@settings(max_examples=400, deadline=None)
@given(opened=st.booleans(), first=st.lists(_RECORDS, max_size=3), pushes=_UPDATES)
def test_apply_executions_changes_the_table_as_open_orders_then_apply(
    opened: bool, first: list[Execution], pushes: list[tuple[str, list[Execution]]]
) -> None:
    direct, reference = OrderTable(max_finished=2), OrderTable(max_finished=2)
    opening = [("snapshot", (_OPENED if opened else []) + first), *pushes]
    for sequence, (kind, records) in enumerate(opening, start=1):
        _both_ways(direct, reference, _push(kind, records, sequence))


@settings(max_examples=300, deadline=None)
@given(updates=st.lists(_PLAIN, min_size=1, max_size=10))
def test_updates_of_open_orders_merge_as_the_reference_merges(updates: list[Execution]) -> None:
    """Plain updates of the orders the table holds open: the direct merge's own ground."""
    direct, reference = OrderTable(max_finished=2), OrderTable(max_finished=2)
    _both_ways(direct, reference, _push("snapshot", _OPENED, 1))
    for sequence, record in enumerate(updates, start=2):
        _both_ways(direct, reference, _push("update", [record], sequence))


@settings(max_examples=300, deadline=None)
@given(updates=st.lists(_RECORDS, min_size=1, max_size=8))
def test_orders_first_met_in_updates_are_built_as_the_reference_builds_them(
    updates: list[Execution],
) -> None:
    """From an empty snapshot: each id's first record makes a new order (or a stub)."""
    direct, reference = OrderTable(max_finished=2), OrderTable(max_finished=2)
    for sequence, record in enumerate(updates, start=1):
        _both_ways(direct, reference, _push("update", [record], sequence))


def _open_table() -> OrderTable:
    """A table holding O1, pending (its first record, a live ``pending_new``)."""
    table = OrderTable()
    pending = msgspec.structs.replace(
        _OPENED[0], exec_type="pending_new", order_status="pending_new"
    )
    apply_executions(table, _push("update", [pending], 1))
    return table


def test_a_status_update_of_an_open_order_is_merged_straight_in() -> None:
    table = _open_table()
    before = table.get("O1")
    record = Execution(exec_type="new", order_id="O1", timestamp="2026-12-07T21:17:16.25Z")
    changes = apply_executions(table, _push("update", [record], 2))
    (order,) = changes.updated
    assert order.status == "open"
    assert order.lastupdated == Decimal("1796678236.25")
    assert before is not None
    assert before.status == "pending"
    assert order.vol == before.vol


def test_an_update_that_changes_nothing_reports_nothing() -> None:
    table = _open_table()
    record = Execution(exec_type="status", order_id="O1")
    assert not apply_executions(table, _push("update", [record], 2))


def test_a_cancel_moves_the_order_to_the_finished_ones_with_its_reason() -> None:
    table = _open_table()
    record = Execution(exec_type="canceled", order_id="O1", reason="Post only")
    changes = apply_executions(table, _push("update", [record], 2))
    assert changes.finished == changes.updated
    assert changes.finished[0].cancel_reason == "Post only"
    assert "O1" not in table
    assert table.finished_count == 1


def test_a_signalling_nan_counts_as_a_change() -> None:
    table = _open_table()
    priced = Execution(exec_type="status", order_id="O1", avg_price=Decimal("100.5"))
    apply_executions(table, _push("update", [priced], 2))
    record = Execution(exec_type="status", order_id="O1", avg_price=Decimal("sNaN"))
    (order,) = apply_executions(table, _push("update", [record], 3)).updated
    assert order.avg_price is not None
    assert order.avg_price.is_snan()
