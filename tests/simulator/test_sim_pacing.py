"""The trading counter the simulator enforces, cost by cost (issue 19, item 1: the simulator's
side). Facts from ``kraken-rate-limits.md`` (Kraken's spot rate-limit guides and its Rust SDK's
guide): add +1, batch of n adds +n/2, a batch cancel accepted past the threshold, ``cancelAll``
+1 per pair it touches, ``cancelAllOrdersAfter`` +1 on no pair, the fixed cost charged on
receipt even when validation then fails, and the live counter in-band when asked for.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from kraken_proto.adapters.simulator import SimulatorConfig
from kraken_proto.adapters.simulator.model._ratelimit import ACCOUNT

from tests.simulator.test_sim_exchange import T0, Harness, limit
from tests.simulator.test_sim_v2_fidelity import Raw

XBT = "XBT/USD"


def counter(h: Harness, pair: str = XBT) -> Decimal:
    return h.ex._book.rates.value(pair, h.now)


def frozen(maximum: int = 125) -> SimulatorConfig:
    """Counters that do not decay, so every charge shows exactly."""
    return SimulatorConfig(maxratecount=maximum, rate_decay_per_second=Decimal(0))


def v1(h: Harness, session: int, event: str, **fields: Any) -> list[Any]:
    return h.send_raw(session, {"event": event, "token": h.tok, **fields})


def status(frames: list[Any]) -> list[Any]:
    return [frame for frame in frames if isinstance(frame, dict)]


def test_a_batch_of_n_adds_costs_n_over_2_in_all() -> None:
    raw = Raw(frozen())
    row: dict[str, Any] = {"order_type": "limit", "side": "buy", "order_qty": Decimal("0.01")}
    orders = [{**row, "limit_price": Decimal(29000 - i)} for i in range(3)]
    (reply,) = raw.send("batch_add", symbol="BTC/USD", orders=orders)
    assert json.loads(reply)["success"] is True
    assert counter(raw.h) == Decimal("1.5")  # not 3: one charge of 3/2 for the batch
    raw.send("batch_add", symbol="BTC/USD", orders=orders[:2], validate=True)
    assert counter(raw.h) == Decimal("1.5")  # validate-only is not charged


def test_a_batch_that_does_not_fit_is_refused_whole() -> None:
    raw = Raw(frozen(maximum=8))
    row: dict[str, Any] = {"order_type": "limit", "side": "buy", "order_qty": Decimal("0.01")}
    for i in range(6):
        raw.send("add_order", symbol="BTC/USD", **row, limit_price=Decimal(28000 + i))
    assert counter(raw.h) == 6
    orders = [{**row, "limit_price": Decimal(27000 + i)} for i in range(6)]  # costs 3
    (reply,) = raw.send("batch_add", symbol="BTC/USD", orders=orders)
    assert json.loads(reply)["error"] == "EOrder:Rate limit exceeded"
    assert len(raw.ex.open_orders()) == 6
    assert counter(raw.h) == 6  # a refusal for the limit is not charged
    (reply,) = raw.send("batch_add", symbol="BTC/USD", orders=orders[:4])  # costs 2: fits
    assert json.loads(reply)["success"] is True
    assert counter(raw.h) == 8


def test_a_failing_batch_row_was_paid_for_with_the_batch() -> None:
    raw = Raw(frozen())
    row = {"order_type": "limit", "side": "buy", "symbol": "BTC/USD"}
    orders = [
        {**row, "order_qty": Decimal("0.01"), "limit_price": Decimal(29000)},
        {**row, "order_qty": Decimal("0.01"), "limit_price": Decimal("29000.05")},  # bad tick
    ]
    (reply,) = raw.send("batch_add", symbol="BTC/USD", orders=orders)
    assert json.loads(reply)["success"] is False
    assert counter(raw.h) == 1  # 2/2, charged on receipt


def test_a_batch_cancel_is_accepted_past_the_threshold_and_charged() -> None:
    raw = Raw(frozen(maximum=10))
    row: dict[str, Any] = {
        "order_type": "limit",
        "side": "buy",
        "symbol": "BTC/USD",
        "order_qty": Decimal(1),
    }
    txids = []
    for i in range(2):
        (reply, *_) = raw.send("add_order", **row, limit_price=Decimal(20000 + i))
        txids.append(json.loads(reply)["result"]["order_id"])
    assert counter(raw.h) == 2
    # a single cancel of a young order (+8) would be refused: 2 + 8 fits, 2 + 8 + 8 does not
    (first,) = raw.send("cancel_order", order_id=[txids[0]])[:1]
    assert json.loads(first)["success"] is True
    assert counter(raw.h) == 10
    (row_id, *_) = raw.send("add_order", **row, limit_price=Decimal(20005))
    assert json.loads(row_id)["error"] == "EOrder:Rate limit exceeded"
    (refused,) = raw.send("cancel_order", order_id=[txids[1]])
    assert json.loads(refused)["error"] == "EOrder:Rate limit exceeded"
    # the batch cancel goes through anyway, and pays its penalties
    (reply, *_) = raw.send("batch_cancel", orders=[txids[1], "OUNKNO-WNORD-ERXXXX"])
    assert json.loads(reply)["result"] == {"count": 1}
    assert raw.ex.open_orders() == {}
    assert counter(raw.h) == 18


def test_cancel_all_costs_one_per_pair_it_touches_and_is_never_refused() -> None:
    h = Harness(frozen(maximum=3))
    session = h.session()
    for fields in (limit(), limit(price="28000.0"), limit(pair="ETH/USD", price="1900.00")):
        assert status(v1(h, session, "addOrder", **fields))[0]["status"] == "ok"
    assert (counter(h), counter(h, "ETH/USD")) == (Decimal(2), Decimal(1))
    (reply,) = status(v1(h, session, "cancelAll"))
    assert reply["count"] == 3
    assert (counter(h), counter(h, "ETH/USD")) == (
        Decimal(3),
        Decimal(2),
    )  # +1 each, not +1 per order
    (again,) = status(v1(h, session, "addOrder", **limit()))
    assert again["errorMessage"] == "EOrder:Rate limit exceeded"
    assert status(v1(h, session, "addOrder", **limit()))[0]["errorMessage"] == (
        "EOrder:Rate limit exceeded"
    )
    v1(h, session, "addOrder", **limit(pair="ETH/USD", price="1900.00"))
    assert counter(h, "ETH/USD") == 3
    (full,) = status(v1(h, session, "cancelAll"))  # the ETH/USD counter is full: still done
    assert (full["status"], full["count"]) == ("ok", 1)
    assert counter(h, "ETH/USD") == 4
    (empty,) = status(v1(h, session, "cancelAll"))  # touching no pair costs nothing
    assert empty["count"] == 0
    assert (counter(h), counter(h, "ETH/USD")) == (Decimal(3), Decimal(4))


def test_cancel_all_orders_after_costs_one_on_no_pair() -> None:
    h = Harness(frozen(maximum=2))
    session = h.session()
    for _ in range(2):
        assert status(v1(h, session, "cancelAllOrdersAfter", timeout=60))[0]["status"] == "ok"
    assert counter(h, ACCOUNT) == 2
    assert counter(h) == 0  # no pair's counter moves
    (refused,) = status(v1(h, session, "cancelAllOrdersAfter", timeout=60))
    assert refused["errorMessage"] == "EOrder:Rate limit exceeded"
    assert status(v1(h, session, "addOrder", **limit()))[0]["status"] == "ok"
    raw = Raw(frozen())
    raw.send("cancel_all_orders_after", timeout=0)
    assert counter(raw.h, ACCOUNT) == 1


@pytest.mark.parametrize(
    ("event", "fields", "error"),
    [
        (
            "addOrder",
            limit(price="29000.05"),
            "EOrder:Invalid price:XBT/USD price can only be specified up to 1 decimals.",
        ),
        ("addOrder", limit(volume="0.00001"), "EOrder:Order minimum not met"),
        ("addOrder", limit(volume="1000000"), "EOrder:Insufficient funds"),
        ("editOrder", {"orderid": "OUNKNO-WNORD-ERXXXX", "pair": XBT}, "EOrder:Unknown order"),
    ],
)
def test_the_fixed_cost_is_charged_on_receipt_even_when_validation_fails(
    event: str, fields: dict[str, Any], error: str
) -> None:
    h = Harness(frozen())
    session = h.session()
    (reply,) = status(v1(h, session, event, **fields))
    assert reply["errorMessage"] == error
    assert counter(h) == 1


def test_an_amend_that_fails_validation_pays_its_fixed_cost_only() -> None:
    h = Harness(frozen())
    session = h.session()
    (placed,) = status(v1(h, session, "addOrder", **limit()))
    (bad,) = status(v1(h, session, "amendOrder", txid=placed["txid"], volume="0.1234567891"))
    assert bad["errorMessage"] == "EGeneral:Invalid arguments:volume"
    assert counter(h) == 2  # add +1, the failed amend +1 (no age penalty)
    (good,) = status(v1(h, session, "amendOrder", txid=placed["txid"], volume="0.6"))
    assert good["status"] == "ok"
    assert counter(h) == 2 + 4  # +1 and +3 for an order younger than 5 s


def test_free_requests_and_limit_refusals_charge_nothing() -> None:
    h = Harness(frozen(maximum=1))
    session = h.session()
    (checked,) = status(v1(h, session, "addOrder", validate="true", **limit()))
    assert checked["status"] == "ok"
    assert counter(h) == 0  # validate-only
    (placed,) = status(v1(h, session, "addOrder", **limit()))
    (refused,) = status(v1(h, session, "addOrder", **limit()))
    assert refused["errorMessage"] == "EOrder:Rate limit exceeded"
    assert counter(h) == 1
    (edit,) = status(v1(h, session, "editOrder", orderid=placed["txid"], pair=XBT, validate=True))
    assert edit["status"] == "ok"
    assert counter(h) == 1
    (unknown,) = status(v1(h, session, "addOrder", **limit(pair="DOGE/USD")))
    assert unknown["errorMessage"] == "EQuery:Unknown asset pair"  # no pair: nothing to charge


def test_v1_ratecounter_adds_maxratecount_to_the_ack_and_ratecount_to_records() -> None:
    h = Harness()
    session = h.ex.open_session(h.now)
    h.drain(session)
    h.tok = h.token()
    subscription = {"name": "openOrders", "ratecounter": True, "token": h.tok}
    ack, _snapshot = h.send_raw(
        session, {"event": "subscribe", "reqid": 1, "subscription": subscription}
    )
    # the doc's example ack, exactly (maxratecount only because ratecounter was asked for)
    assert json.dumps(ack, separators=(",", ":")) == (
        '{"channelName":"openOrders","event":"subscriptionStatus","reqid":1,'
        '"status":"subscribed","subscription":{"maxratecount":125,"name":"openOrders"}}'
    )
    frames = v1(h, session, "addOrder", **limit())
    records = [entry for frame in frames if isinstance(frame, list) for entry in frame[0]]
    assert [next(iter(entry.values()))["ratecount"] for entry in records] == ["1.0000"] * 2
    plain = h.session("openOrders")
    frames = v1(h, plain, "addOrder", **limit())
    records = [entry for frame in frames if isinstance(frame, list) for entry in frame[0]]
    assert records
    assert all("ratecount" not in next(iter(entry.values())) for entry in records)


def test_v2_ratecounter_puts_the_counter_on_execution_events() -> None:
    raw = Raw()
    ack = json.loads(raw.subscribe(ratecounter=True)[0])
    assert ack["result"]["ratecounter"] is True
    frames = raw.send(
        "add_order",
        order_type="limit",
        side="buy",
        symbol="BTC/USD",
        order_qty=Decimal("0.01"),
        limit_price=Decimal(29000),
    )
    assert '"ratecount":1.0000}' in frames[1]
    events = raw.events(frames)
    assert [event["ratecount"] for event in events] == [1, 1]
    quiet = Raw()
    quiet.subscribe()
    assert all("ratecount" not in e for e in quiet.events(quiet.send("cancel_all")))
    unasked = Raw()
    unasked.subscribe()
    frames = unasked.send(
        "add_order",
        order_type="limit",
        side="buy",
        symbol="BTC/USD",
        order_qty=Decimal("0.01"),
        limit_price=Decimal(29000),
    )
    assert all("ratecount" not in event for event in unasked.events(frames))


def test_counters_decay_between_requests() -> None:
    h = Harness(SimulatorConfig(maxratecount=125, rate_decay_per_second=Decimal("2.34")))
    session = h.session()
    v1(h, session, "addOrder", **limit())
    h.at(T0 + 0.25)
    assert counter(h) == Decimal("1") - Decimal("2.34") * Decimal("0.25")


def test_an_amend_whose_penalty_does_not_fit_is_refused_after_paying_its_fixed_cost() -> None:
    h = Harness(frozen(maximum=4))
    session = h.session()
    (placed,) = status(v1(h, session, "addOrder", **limit()))
    (refused,) = status(v1(h, session, "amendOrder", txid=placed["txid"], volume="0.6"))
    assert refused["errorMessage"] == "EOrder:Rate limit exceeded"  # 1 + 1 + 3 > 4
    assert counter(h) == 2  # the add, and the amend's +1 on receipt
    assert h.ex.open_orders()[placed["txid"]].vol == Decimal("0.5")
