"""The simulator's v2 frames against captured live traffic (issue 19, item 5).

Expected shapes come from captures, not from the simulator: kraken-async-rs's tests (2024:
replies, errors, a pending_new, new, amended and canceled event, a trade snapshot, the
executions ack with its warnings, balance updates), roq-kraken's tests (2026-01: one order
with a ``cl_ord_id`` from pending_new to canceled) and a 2025-02 post-only order quoted in a
public Java client. Key order is asserted with ``list(json.loads(text))`` (JSON objects keep
their order) and number precision on the raw text.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
from kraken_proto.adapters.simulator import SimulatorConfig
from kraken_proto.adapters.simulator.model._v2 import EXECUTIONS_WARNINGS
from kraken_proto.v2 import decode

from tests.simulator.test_sim_exchange import Harness

REPLY = ["method", "req_id", "result", "success", "time_in", "time_out"]
ERROR = ["error", "method", "req_id", "success", "time_in", "time_out"]
PUSH = ["channel", "type", "data", "sequence"]
_ENCODE = msgspec.json.Encoder(decimal_format="number")  # Decimals as bare JSON numbers


class Raw:
    """A v2 session on the pure model, spoken to in raw JSON text."""

    def __init__(self, config: SimulatorConfig | None = None, *, seed: int = 7) -> None:
        self.h = Harness(config or SimulatorConfig(v2_pending_cum_qty=False), seed=seed)
        self.ex = self.h.ex
        self.session = self.ex.open_session(self.h.now, protocol="v2")
        self.ex.take_outgoing(self.session, self.h.now)  # the status greeting
        self.token = self.h.token()

    def text(self, text: str) -> list[str]:
        self.ex.receive(self.session, text, self.h.now)
        frames = self.ex.take_outgoing(self.session, self.h.now)
        for frame in frames:
            decode(frame)  # every frame stays decodable by the client
        return frames

    def send(self, method: str, req_id: int | None = 1, **params: Any) -> list[str]:
        message: dict[str, Any] = {"method": method, "params": {**params, "token": self.token}}
        if req_id is not None:
            message["req_id"] = req_id
        return self.text(_ENCODE.encode(message).decode())

    def subscribe(self, channel: str = "executions", **options: Any) -> list[str]:
        return self.send("subscribe", channel=channel, **options)

    def events(self, frames: list[str]) -> list[dict[str, Any]]:
        """The execution records in ``frames``, in order."""
        return [
            record
            for frame in frames
            for record in json.loads(frame).get("data", [])
            if json.loads(frame).get("channel") == "executions"
        ]


def limit(qty: str = "0.0001", price: str = "26500.0", **fields: Any) -> dict[str, Any]:
    return {
        "order_type": "limit",
        "side": "buy",
        "symbol": "BTC/USD",
        "order_qty": Decimal(qty),
        "limit_price": Decimal(price),
        **fields,
    }


def add(raw: Raw, req_id: int = 1, **fields: Any) -> list[str]:
    return raw.send("add_order", req_id=req_id, **{**limit(), **fields})


# --- replies ----------------------------------------------------------------------------------


def test_replies_keep_live_key_order_and_time_out_follows_time_in() -> None:
    raw = Raw()
    frames = add(raw, req_id=5)
    reply = json.loads(frames[0])
    assert list(reply) == REPLY
    assert reply["result"] == {"order_id": reply["result"]["order_id"]}
    assert reply["time_in"] < reply["time_out"]
    (error,) = add(raw, req_id=6, symbol="DOGE/USD")
    assert list(json.loads(error)) == ERROR
    (pong,) = raw.text('{"method":"ping","req_id":101}')
    # {"method":"pong","req_id":1,"time_in":...,"time_out":...}: no success, no result
    parsed = json.loads(pong)
    assert list(parsed) == ["method", "req_id", "time_in", "time_out"]
    assert parsed["time_in"] < parsed["time_out"]


def test_malformed_request_and_a_ping_with_params_are_errors() -> None:
    raw = Raw()
    (malformed,) = raw.text("not json")
    assert json.loads(malformed) == {
        "error": "Malformed request",
        "method": "error",
        "success": False,
        "time_in": json.loads(malformed)["time_in"],
        "time_out": json.loads(malformed)["time_out"],
    }
    assert list(json.loads(malformed)) == ["error", "method", "success", "time_in", "time_out"]
    (ping,) = raw.text('{"method":"ping","params":{},"req_id":0}')
    parsed = json.loads(ping)
    # kraken-async-rs capture, 2024-05-19
    assert parsed["error"] == "Unsupported field: 'params' for the given msg type: ping"
    assert list(parsed) == ERROR
    assert (parsed["method"], parsed["req_id"], parsed["success"]) == ("ping", 0, False)


def test_error_texts_as_live() -> None:
    raw = Raw()
    (small,) = add(raw, order_qty=Decimal("0.00001"))
    assert json.loads(small)["error"] == "EGeneral:Invalid arguments:volume minimum not met"
    (loose,) = add(raw, order_qty="1.0")
    # the wording of a 2024 capture ("Cash_order_qty field must be a number_float")
    assert json.loads(loose)["error"] == "Order_qty field must be a number_float"
    # the batch row and the amend use the same wording
    (batch,) = raw.send(
        "batch_add",
        symbol="BTC/USD",
        orders=[
            {"order_type": "limit", "side": "buy", "order_qty": 1, "limit_price": "26000"},
            {"order_type": "limit", "side": "buy", "order_qty": 1, "limit_price": 26000},
        ],
    )
    assert json.loads(batch)["error"] == "Limit_price field must be a number_float"


def test_executions_ack_carries_the_warnings() -> None:
    raw = Raw()
    ack = json.loads(raw.subscribe(snap_orders=True, snap_trades=True)[0])
    assert list(ack) == ["method", "req_id", "result", "success", "time_in", "time_out"]
    # 2024 capture: {"channel":"executions","maxratecount":180,"snapshot":true,"warnings":[
    # "cancel_reason is deprecated, use reason", "stop_price is deprecated, ...", ...]}
    assert list(ack["result"].items()) == [
        ("channel", "executions"),
        ("maxratecount", 125),
        ("snap_orders", True),
        ("snap_trades", True),
        ("warnings", list(EXECUTIONS_WARNINGS)),
    ]
    assert EXECUTIONS_WARNINGS[0] == "cancel_reason is deprecated, use reason"
    ack = json.loads(raw.subscribe("balances")[0])
    assert ack["result"] == {"channel": "balances", "snapshot": True}  # the doc's, no warnings


# --- execution events -------------------------------------------------------------------------


def test_a_plain_order_lifecycle_has_the_captured_shapes() -> None:
    raw = Raw()
    raw.subscribe()
    frames = add(raw)
    assert list(json.loads(frames[1])) == PUSH
    pending, new = raw.events(frames)
    # kraken-async-rs 2024 / Java client 2025-02 capture: limit_price at the tick (26500.0),
    # stop_price 0.0, no cum_qty, avg_price or post_only
    assert list(pending) == [
        "order_id",
        "symbol",
        "order_qty",
        "cum_cost",
        "time_in_force",
        "exec_type",
        "side",
        "order_type",
        "order_userref",
        "limit_price_type",
        "limit_price",
        "stop_price",
        "order_status",
        "fee_usd_equiv",
        "fee_ccy_pref",
        "timestamp",
    ]
    assert '"order_qty":0.00010000,"cum_cost":0.00000,' in frames[1]
    assert '"limit_price_type":"static","limit_price":26500.0,"stop_price":0.0,' in frames[1]
    assert '"fee_usd_equiv":0.00000,"fee_ccy_pref":"fciq"' in frames[1]
    assert (pending["time_in_force"], pending["order_userref"]) == ("GTC", 0)
    assert list(new) == ["timestamp", "order_status", "exec_type", "order_userref", "order_id"]
    txid = new["order_id"]
    frames = raw.send("cancel_order", order_id=[txid])
    (canceled,) = raw.events(frames)
    assert list(canceled) == [
        "timestamp",
        "order_status",
        "exec_type",
        "cum_qty",
        "cum_cost",
        "fee_usd_equiv",
        "avg_price",
        "order_userref",
        "cancel_reason",
        "reason",
        "order_id",
    ]
    assert (
        '"cum_qty":0.00000000,"cum_cost":0.00000,"fee_usd_equiv":0.00000,"avg_price":0.0,'
        in (frames[1])
    )


def test_an_order_with_a_cl_ord_id_shows_no_order_userref() -> None:
    """roq-kraken capture, 2026-01-22: the cl_ord_id takes order_userref's place."""
    raw = Raw()
    raw.subscribe()
    frames = add(raw, cl_ord_id="b17c7bb34d000200")
    pending, new = raw.events(frames)
    assert "order_userref" not in pending
    assert list(pending)[7:10] == ["order_type", "cl_ord_id", "limit_price_type"]
    assert list(new) == ["timestamp", "order_status", "exec_type", "cl_ord_id", "order_id"]
    assert json.loads(frames[0])["result"] == {
        "order_id": new["order_id"],
        "cl_ord_id": "b17c7bb34d000200",
    }
    frames = raw.send(
        "amend_order", req_id=2, cl_ord_id="b17c7bb34d000200", limit_price=Decimal("26000.5")
    )
    (amended,) = raw.events(frames)
    assert list(amended) == [
        "timestamp",
        "exec_type",
        "order_status",
        "cum_qty",
        "reason",
        "amended",
        "order_qty",
        "limit_price",
        "limit_price_type",
        "cl_ord_id",
        "order_id",
    ]
    assert '"order_qty":0.00010000,"limit_price":26000.5,"limit_price_type":"static"' in frames[1]
    frames = raw.send("cancel_order", cl_ord_id=["b17c7bb34d000200"])
    (canceled,) = raw.events(frames)
    assert list(canceled)[7:] == ["cl_ord_id", "cancel_reason", "reason", "order_id"]
    assert "order_userref" not in canceled


def test_post_only_appears_only_when_true() -> None:
    """2025-02 capture: post_only true before order_status (pending_new), before order_id
    (new), after order_userref (canceled); a plain order sends no post_only at all."""
    raw = Raw()
    raw.subscribe()
    frames = add(raw, post_only=True)
    pending, new = raw.events(frames)
    keys = list(pending)
    assert keys[keys.index("stop_price") + 1 : keys.index("order_status") + 1] == [
        "post_only",
        "order_status",
    ]
    assert list(new) == [
        "timestamp",
        "order_status",
        "exec_type",
        "order_userref",
        "post_only",
        "order_id",
    ]
    (canceled,) = raw.events(raw.send("cancel_order", order_id=[new["order_id"]]))
    assert list(canceled)[7:9] == ["order_userref", "post_only"]


def test_prices_go_out_at_the_pairs_tick() -> None:
    raw = Raw()
    raw.subscribe()
    for symbol, price, text in (
        ("ETH/USD", "1967.6", '"limit_price":1967.60,'),
        ("ATOM/USD", "9.25", '"limit_price":9.2500,'),
        ("USDT/USD", "0.9998", '"limit_price":0.9998,'),
    ):
        frames = add(raw, symbol=symbol, order_qty=Decimal(10), limit_price=Decimal(price))
        assert text in frames[1], frames[1]
        # costs keep the pair's cost decimals (5 on ETH/USD, 6 on ATOM/USD, 8 on USDT/USD)
        places = {"ETH/USD": 5, "ATOM/USD": 6, "USDT/USD": 8}[symbol]
        assert f'"cum_cost":0.{"0" * places},' in frames[1]


def test_fills_have_the_captured_shapes_and_an_exact_average() -> None:
    raw = Raw(seed=3)
    raw.subscribe()
    raw.ex.set_reference_price("XBT/USD", Decimal("30000.1"), raw.h.now)
    frames = raw.send("add_order", order_type="market", side="buy", symbol="BTC/USD", order_qty=1)
    trades = [record for record in raw.events(frames) if record["exec_type"] == "trade"]
    assert trades
    # the doc's example (2023) in key order; avg_price exact, at the tick like last_price
    for record in trades:
        assert list(record) == [
            "order_id",
            "order_userref",
            "exec_id",
            "exec_type",
            "trade_id",
            "symbol",
            "side",
            "last_qty",
            "last_price",
            "liquidity_ind",
            "cost",
            "order_type",
            "timestamp",
            "order_status",
            "cum_qty",
            "cum_cost",
            "avg_price",
            "fee_usd_equiv",
            "fees",
        ]
    for frame in frames[1:]:
        if '"exec_type":"trade"' in frame:
            assert '"last_price":30000.1,' in frame
            assert '"avg_price":30000.1,' in frame
    filled = [record for record in raw.events(frames) if record["exec_type"] == "filled"]
    assert list(filled[0])[:7] == [
        "timestamp",
        "order_status",
        "exec_type",
        "cum_qty",
        "cum_cost",
        "fee_usd_equiv",
        "avg_price",
    ]
    # a trade snapshot entry (2024 capture): no running totals, the order's status now
    fresh = Raw(seed=3)
    fresh.ex = raw.ex
    fresh.session = raw.ex.open_session(raw.h.now, protocol="v2")
    raw.ex.take_outgoing(fresh.session, raw.h.now)
    frames = fresh.subscribe(snap_orders=False, snap_trades=True)
    entry = fresh.events(frames)[0]
    assert list(entry) == [
        "order_id",
        "order_userref",
        "exec_id",
        "exec_type",
        "trade_id",
        "symbol",
        "side",
        "last_qty",
        "last_price",
        "liquidity_ind",
        "cost",
        "order_status",
        "order_type",
        "timestamp",
        "fee_usd_equiv",
        "fees",
    ]
    assert entry["order_status"] == "filled"


def test_balance_updates_keep_the_captured_key_order() -> None:
    raw = Raw()
    raw.subscribe("balances", snapshot=True)
    snapshot = json.loads(raw.subscribe("balances")[0])  # already subscribed: an error
    assert snapshot["success"] is False
    frames = raw.send("add_order", order_type="market", side="buy", symbol="BTC/USD", order_qty=1)
    ledgers = [json.loads(f) for f in frames if '"channel":"balances"' in f]
    assert ledgers
    assert list(ledgers[0]) == PUSH
    # kraken-async-rs capture, 2024-05-24
    assert list(ledgers[0]["data"][0]) == [
        "ledger_id",
        "ref_id",
        "timestamp",
        "type",
        "asset",
        "asset_class",
        "category",
        "wallet_type",
        "wallet_id",
        "amount",
        "fee",
        "balance",
    ]


def test_the_balances_snapshot_wallet_reads_type_id_balance() -> None:
    raw = Raw()
    frames = raw.subscribe("balances")
    entry = json.loads(frames[1])["data"][0]
    assert list(entry) == ["asset", "asset_class", "balance", "wallets"]
    assert list(entry["wallets"][0]) == ["type", "id", "balance"]


def test_the_compatibility_switch_adds_cum_qty_to_pending_new() -> None:
    raw = Raw(SimulatorConfig(v2_pending_cum_qty=True))  # opt-in: the client reads either
    raw.subscribe()
    pending, _ = raw.events(add(raw))
    assert list(pending)[:4] == ["order_id", "symbol", "order_qty", "cum_qty"]
    assert pending["cum_qty"] == 0


def test_by_default_pending_new_has_no_cum_qty_as_live() -> None:
    assert SimulatorConfig().v2_pending_cum_qty is False
    raw = Raw(SimulatorConfig())
    raw.subscribe()
    pending, _ = raw.events(add(raw))
    assert "cum_qty" not in pending


def test_triggered_orders_show_triggers_stop_price_then_limit_price() -> None:
    """kraken-async-rs's stop-loss-limit pending_new (2024): limit_price_type, triggers,
    stop_price, limit_price; an amend of its trigger reports no limit price yet."""
    raw = Raw()
    raw.subscribe()
    frames = raw.send(
        "add_order",
        order_type="stop-loss-limit",
        side="sell",
        symbol="BTC/USD",
        order_qty=Decimal("0.01"),
        triggers={"price": Decimal(25000)},
        limit_price=Decimal("24900.5"),
    )
    pending, new = raw.events(frames)
    keys = list(pending)
    assert keys[keys.index("limit_price_type") :][:4] == [
        "limit_price_type",
        "triggers",
        "stop_price",
        "limit_price",
    ]
    assert pending["triggers"] == {
        "price": 25000,
        "price_type": "static",
        "reference": "last",
        "status": "untriggered",
    }
    assert '"stop_price":25000.0,"limit_price":24900.5,' in frames[1]
    (amended,) = raw.events(
        raw.send("amend_order", order_id=new["order_id"], trigger_price=Decimal(24000))
    )
    assert "limit_price" not in amended
    frames = raw.send(
        "add_order",
        order_type="stop-loss",
        side="sell",
        symbol="BTC/USD",
        order_qty=Decimal("0.01"),
        triggers={"price": Decimal(25000)},
    )
    pending, _ = raw.events(frames)
    assert "limit_price_type" not in pending
    assert '"stop_price":25000.0,"order_status"' in frames[1]
