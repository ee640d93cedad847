"""Unit tests of the session's small parts: config, reconnect policy, seeded ids, the REST
queue, the reconciliation checks, the actions."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kraken_proto import AmendOrder, Credentials, LocalProtocolError, SendMessages, SessionConfig
from kraken_proto.adapters.simulator.model.exchange import SimulatorConfig
from kraken_proto.rest import (
    NonceSource,
    RestCallCounter,
    RestRequest,
    build_open_orders_request,
    parse_open_orders_response,
)
from kraken_proto.rest._errors import RestError
from kraken_proto.rest._results import RestOrder, RestOrderDescr
from kraken_proto.session._backoff import ReconnectPolicy
from kraken_proto.session._reconcile_checks import (
    amend_took_effect,
    cancel_took_effect,
    edit_took_effect,
    order_record,
    statuses_of,
)
from kraken_proto.session._rest import RestJob, RestQueue
from kraken_proto.session._seed import SeededStream
from kraken_proto.v1 import ConnectionConfig

SIM = SimulatorConfig()
CREDENTIALS = Credentials(api_key=SIM.api_key, api_secret=SIM.api_secret)


# --- config -----------------------------------------------------------------------------------


def test_config_defaults() -> None:
    config = SessionConfig()
    assert config.connection == ConnectionConfig()
    assert (config.max_attempts, config.attempt_window) == (100, 600.0)
    assert config.backoff_floor == 5.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"connection": "no"},
        {"backoff_initial": 0},
        {"backoff_floor": float("nan")},
        {"healthy_after": True},
        {"attempt_window": "600"},
        {"backoff_jitter": -0.1},
        {"backfill_margin": float("inf")},
        {"backoff_max": 4.0},
        {"max_attempts": 0},
        {"fill_window": 1.5},
        {"max_finished": True},
        {"fill_window": 49},
        {"rest_tier": "gold"},
    ],
)
def test_config_rejects_bad_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(LocalProtocolError):
        SessionConfig(**kwargs)


# --- reconnect policy -------------------------------------------------------------------------


def _policy(**kwargs: Any) -> ReconnectPolicy:
    return ReconnectPolicy(SessionConfig(**kwargs), SeededStream(b"policy-seed"))


def test_first_retry_is_immediate_then_backoff_floors_and_caps() -> None:
    policy = _policy(backoff_jitter=0.0)
    delays = [policy.next_delay(0.0) for _ in range(10)]
    assert delays[:4] == [0.0, 1.0, 5.0, 5.0]
    assert delays[4:] == [8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert policy.failures == 10
    policy.connection_worked()
    assert policy.next_delay(0.0) == 0.0


def test_jitter_stretches_delays_within_bounds() -> None:
    policy = _policy(backoff_jitter=0.25)
    policy.next_delay(0.0)
    delays = [policy.next_delay(0.0) for _ in range(20)]
    assert all(1.0 <= d <= 75.0 for d in delays)
    assert len(set(delays)) > 10


def test_attempt_cap_waits_for_the_window() -> None:
    policy = _policy(max_attempts=3, attempt_window=100.0, backoff_jitter=0.0)
    for t in (0.0, 10.0, 20.0):
        policy.attempt_started(t)
    assert policy.attempts_started == (0.0, 10.0, 20.0)
    assert policy.next_delay(30.0) == 70.0  # first retry, but the cap says wait till 100
    assert policy.next_delay(100.5) == 1.0  # the attempt at 0 left the window
    policy.attempt_started(100.5)
    assert policy.next_delay(101.0) == 9.0  # the one at 10 must leave first
    policy.attempt_started(300.0)
    assert len(policy.attempts_started) == 1


# --- seeded ids and jitter --------------------------------------------------------------------


def test_seeded_stream_is_deterministic_and_ids_are_uuids() -> None:
    one, two = SeededStream(b"same-seed"), SeededStream(b"same-seed")
    ids = [one.client_order_id() for _ in range(5)]
    assert ids == [two.client_order_id() for _ in range(5)]
    assert len(set(ids)) == 5
    assert all(uuid.UUID(i).version == 4 for i in ids)
    assert 0.0 <= one.unit() < 1.0
    assert repr(one) == "<SeededStream>"
    assert SeededStream(b"other-seed").client_order_id() != ids[0]


@pytest.mark.parametrize("seed", [b"short", "not-bytes-at-all", None])
def test_seed_must_be_bytes(seed: Any) -> None:
    with pytest.raises(LocalProtocolError):
        SeededStream(seed)


# --- the REST queue ---------------------------------------------------------------------------


def _queue(counter: RestCallCounter | None = None) -> RestQueue:
    return RestQueue(
        counter=counter or RestCallCounter(),
        nonces=NonceSource(),
        retry_delay=2.0,
        retry_max=10.0,
    )


def _job(answers: list[tuple[int, bytes]], **kwargs: Any) -> RestJob:
    def build(nonce: int) -> RestRequest:
        return build_open_orders_request(CREDENTIALS, nonce=nonce)

    def on_answer(status: int, body: bytes, now: float) -> None:
        parse_open_orders_response(status, body)
        answers.append((status, body))

    return RestJob(purpose="OpenOrders", cost=1, build=build, on_answer=on_answer, **kwargs)


OK = b'{"error":[],"result":{"open":{}}}'


def test_queue_sends_one_call_at_a_time_in_order() -> None:
    queue = _queue()
    answers: list[tuple[int, bytes]] = []
    queue.add(_job(answers))
    queue.add(_job(answers))
    assert len(queue) == 2
    assert queue.busy_with("OpenOrders")
    call, request, purpose = queue.pump(0.0) or (0, None, "")
    assert purpose == "OpenOrders"
    assert request is not None
    assert queue.pump(0.0) is None  # one in flight
    assert queue.busy_with("OpenOrders")
    assert queue.answer(call + 99, 200, OK, 0.0) is None  # unknown call: ignored
    assert queue.answer(call, 200, OK, 0.0) is None
    assert answers == [(200, OK)]
    second = queue.pump(0.0)
    assert second is not None
    queue.clear()
    assert len(queue) == 0
    assert not queue.busy_with("OpenOrders")
    assert queue.answer(second[0], 200, OK, 0.0) is None
    assert answers == [(200, OK)]


def test_queue_waits_for_the_counter() -> None:
    counter = RestCallCounter()
    queue = _queue(counter)
    answers: list[tuple[int, bytes]] = []
    for _ in range(16):
        queue.add(_job(answers))
    sent = 0
    while (ready := queue.pump(0.0)) is not None:
        queue.answer(ready[0], 200, OK, 0.0)
        sent += 1
    assert 10 <= sent < 16
    assert queue.wake_at is not None
    assert queue.wake_at > 0.0
    assert queue.pump(queue.wake_at + 0.01) is not None


def test_queue_retries_transient_errors_and_returns_permanent_ones() -> None:
    queue = _queue()
    answers: list[tuple[int, bytes]] = []
    queue.add(_job(answers))
    call = (queue.pump(0.0) or (0,))[0]
    assert queue.answer(call, 500, b"oops", 0.0) is None
    assert queue.pump(0.0) is None
    assert queue.wake_at == 2.0
    call = (queue.pump(2.0) or (0,))[0]
    assert queue.failed(call, "timed out", 2.0) is None
    assert queue.failed(call, "again", 2.0) is None  # no longer in flight
    assert queue.pump(3.0) is None
    assert queue.wake_at == 6.0
    call = (queue.pump(6.0) or (0,))[0]
    limited = b'{"error":["EAPI:Rate limit exceeded"]}'
    assert queue.answer(call, 200, limited, 6.0) is None
    call = (queue.pump(60.0) or (0,))[0]
    error = queue.answer(call, 200, b'{"error":["EAPI:Invalid key"]}', 60.0)
    assert isinstance(error, RestError)
    assert error.permanent


def test_queue_hands_failures_to_on_error() -> None:
    queue, seen = _queue(), []
    queue.add(
        _job([], on_error=lambda error, reason, now: seen.append((error, reason))), first=True
    )
    call = (queue.pump(0.0) or (0,))[0]
    queue.failed(call, "refused", 0.0)
    assert seen == [(None, "refused")]
    assert len(queue) == 0


def test_queue_survives_counter_rounding() -> None:
    class Stubborn(RestCallCounter):
        def spend(self, cost: int, now: float) -> None:
            raise LocalProtocolError("does not fit")

    queue = _queue(Stubborn())
    queue.add(_job([]))
    assert queue.pump(5.0) is None
    assert queue.wake_at == pytest.approx(5.01)
    assert len(queue) == 1


# --- reconciliation checks --------------------------------------------------------------------


def _order(**fields: Any) -> RestOrder:
    base: dict[str, Any] = {
        "status": "open",
        "opentm": Decimal("1700000000.5"),
        "descr": RestOrderDescr(
            pair="XBTUSD", type="buy", ordertype="limit", price=Decimal("100.0")
        ),
        "vol": Decimal("1"),
        "vol_exec": Decimal("0"),
        "cost": Decimal("0"),
        "fee": Decimal("0"),
        "price": Decimal("0"),
    }
    base.update(fields)
    return RestOrder(**base)


def test_cancel_and_edit_checks() -> None:
    assert cancel_took_effect(["canceled", "canceled"])
    assert not cancel_took_effect(["canceled", "closed"])
    assert edit_took_effect(_order(status="canceled", reason="Order replaced"))
    assert not edit_took_effect(_order(status="canceled", reason=None))
    assert not edit_took_effect(_order(status="open"))
    assert statuses_of({"OA": _order()}, ["OA", "OB"]) == ["open", None]


def test_amend_check() -> None:
    order = _order(vol=Decimal(2), stopprice=Decimal("90"))
    assert amend_took_effect(AmendOrder(txid="OA", volume=Decimal(2)), order) is True
    assert amend_took_effect(AmendOrder(txid="OA", volume=Decimal(3)), order) is False
    assert amend_took_effect(AmendOrder(txid="OA", limit_price=Decimal("100.0")), order)
    assert amend_took_effect(AmendOrder(txid="OA", trigger_price=Decimal("90")), order)
    assert amend_took_effect(AmendOrder(txid="OA", limit_price="+5"), order) is None
    assert amend_took_effect(AmendOrder(txid="OA", display_volume=Decimal(1)), order) is None
    assert amend_took_effect(AmendOrder(txid="OA", trigger_price=Decimal("1")), _order()) is False


def test_order_record_full_and_partial() -> None:
    order = _order(status="canceled", reason="User requested", closetm=Decimal("5"))
    partial = order_record(order)
    assert partial.descr is None
    assert partial.cancel_reason == "User requested"
    assert partial.lastupdated == Decimal("5")
    full = order_record(_order(), full=True)
    assert full.descr is not None
    assert full.descr.pair == "XBTUSD"
    assert full.cancel_reason is None
    assert full.opentm == Decimal("1700000000.5")


def test_send_messages_repr_hides_the_messages() -> None:
    action = SendMessages(conn=3, messages=('{"token":"SECRET"}',))
    assert "SECRET" not in repr(action)
    assert repr(action) == "SendMessages(conn=3, messages=<1 messages>)"


# --- the order table's session part ----------------------------------------------------------


def _order_sync() -> Any:
    from kraken_proto.session._context import SessionContext
    from kraken_proto.session._order_sync import OrderSync

    rest = RestQueue(
        counter=RestCallCounter("starter"), nonces=NonceSource(), retry_delay=1, retry_max=5
    )
    context = SessionContext(
        config=SessionConfig(), credentials=CREDENTIALS, rest=rest, actions=[], events=[]
    )
    return OrderSync(context), context.events


_ENTRIES = st.tuples(
    st.sampled_from(["OA", "OB", "OC"]),
    st.sampled_from([None, "pending", "open", "canceled"]),
    st.sampled_from([None, "c1", "c2"]),
    st.sampled_from([None, "0", "1.5"]),
    st.booleans(),
)


@given(st.lists(st.lists(_ENTRIES, min_size=1, max_size=2), max_size=25))
@settings(max_examples=80)
def test_order_sync_reports_what_the_table_changed(frames: list[list[Any]]) -> None:
    """One-entry live deltas (the fast path) and longer ones report exactly the table's
    changes, once per frame that changed something, and remember every cl_ord_id sent."""
    from kraken_proto import OrdersChanged, OrderTable
    from kraken_proto.v1 import OpenOrders, OrderDescr, OrderRecord

    sync, events = _order_sync()
    table = OrderTable()
    expected_ids: dict[str, str] = {}
    for entries in frames:
        event = OpenOrders(
            orders=tuple(
                (
                    txid,
                    OrderRecord(
                        status=status,
                        cl_ord_id=cl_ord_id,
                        vol_exec=None if vol is None else Decimal(vol),
                        descr=OrderDescr(pair="XBT/USD") if full else None,
                    ),
                )
                for txid, status, cl_ord_id, vol, full in entries
            ),
            sequence=2,
        )
        events.clear()
        sync.apply(event, snapshot=False)
        changes = table.apply(event, snapshot=False)
        if changes.updated or changes.added or changes.stubs:
            assert events == [OrdersChanged(changes=changes, source="live")]
        else:
            assert events == []
        for txid, _status, cl_ord_id, _vol, _full in entries:
            if cl_ord_id is not None:
                expected_ids.pop(cl_ord_id, None)
                expected_ids[cl_ord_id] = txid
        assert sync.cl_ord_ids == expected_ids
        assert sync.table.all_orders() == table.all_orders()


_V2_RECORDS = st.tuples(
    st.sampled_from([None, "OA", "OB"]),
    st.sampled_from([None, "pending_new", "new", "status", "canceled"]),
    st.sampled_from([None, "c1", "c2"]),
    st.sampled_from([None, "0", "1.5"]),
    st.booleans(),
)


@given(st.lists(st.lists(_V2_RECORDS, min_size=1, max_size=2), max_size=25))
@settings(max_examples=80)
def test_order_sync_applies_a_v2_update_as_its_open_orders(frames: list[list[Any]]) -> None:
    """``apply_update`` (the v2 link's usual frame, applied without its v1 frame) leaves the
    same events, table and remembered cl_ord_ids as ``apply`` of the push's ``OpenOrders``."""
    from kraken_proto.v2 import Execution, Executions, open_orders

    direct, direct_events = _order_sync()
    reference, reference_events = _order_sync()
    for records in frames:
        push = Executions(
            type="update",
            data=tuple(
                Execution(
                    order_id=txid,
                    exec_type=exec_type,
                    cl_ord_id=cl_ord_id,
                    cum_qty=None if qty is None else Decimal(qty),
                    symbol="BTC/USD" if described else None,
                )
                for txid, exec_type, cl_ord_id, qty, described in records
            ),
            sequence=2,
        )
        direct.apply_update(push)
        reference.apply(open_orders(push), snapshot=False)
        assert direct_events == reference_events
        assert direct.cl_ord_ids == reference.cl_ord_ids
        assert direct.table.all_orders() == reference.table.all_orders()


def test_order_sync_gives_a_pacer_the_v1_frame_of_a_v2_update() -> None:
    from kraken_proto.v1 import OpenOrders
    from kraken_proto.v2 import Execution, Executions

    sync, events = _order_sync()
    seen: list[OpenOrders] = []
    sync.observer = seen.append
    sync.apply_update(Executions(type="update", data=(Execution(order_id="OA", exec_type="new"),)))
    ((txid, record),) = seen[0].orders
    assert txid == "OA"
    assert record.status == "open"
    assert len(events) == 1
