"""Kraken WebSocket v2 frames from ``kraken-ws-v2.md`` (every example frame), with their events.

``INBOUND`` pairs each server frame (``kraken_proto.testing.V2_EXAMPLES``, where the frames
live) with the event ``decode`` must return; ``OUTBOUND`` pairs each documented client frame
with the request (and ``encode`` arguments) that reproduces it. Frames the doc gives only in
prose (the unsubscribe ack, the balances ack, the two shapes of a partly placed batch) are
written from that prose and say so. ``REAL_FRAMES`` is every inbound frame as bytes, the seed
corpus for fuzzing and mutation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kraken_proto.testing import V2_EXAMPLES
from kraken_proto.v2 import (
    AddOrder,
    AddOrderReply,
    AddOrderResult,
    AmendOrder,
    AmendOrderReply,
    AmendOrderResult,
    BalanceRecord,
    Balances,
    BatchAdd,
    BatchAddOrders,
    BatchAddReply,
    BatchAddRow,
    BatchCancel,
    BatchCancelReply,
    BatchCancelResult,
    CancelAll,
    CancelAllOrdersAfter,
    CancelAllOrdersAfterReply,
    CancelAllOrdersAfterResult,
    CancelAllReply,
    CancelOrder,
    CancelOrderReply,
    CancelOrderResult,
    Conditional,
    CountResult,
    EditOrder,
    EditOrderReply,
    EditOrderResult,
    Event,
    Execution,
    Executions,
    Fee,
    Heartbeat,
    Ping,
    Pong,
    Status,
    StatusRecord,
    Subscribe,
    SubscribeReply,
    SubscribeResult,
    Triggers,
    Unsubscribe,
    UnsubscribeReply,
    V2Request,
    Wallet,
)

__all__ = ["D", "INBOUND", "OUTBOUND", "REAL_FRAMES"]

D = Decimal
_TOKEN = "G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY"
_OID = "OK4GJX-KSTLS-7DZZO5"
_T_IN, _T_OUT = "2023-09-21T14:15:07.197274Z", "2023-09-21T14:15:07.205301Z"

_EXPECTED: dict[str, Event] = {
    # section 4, executions
    "executions subscribe ack": SubscribeReply(
        success=True,
        time_in="2023-10-16T13:18:35.303171Z",
        time_out="2023-10-16T13:18:35.318297Z",
        result=SubscribeResult(
            channel="executions", maxratecount=125, snap_orders=True, snap_trades=True
        ),
    ),
    # from the prose: result {"channel":"executions"}
    "executions unsubscribe ack (prose)": UnsubscribeReply(
        success=True, result=SubscribeResult(channel="executions")
    ),
    "executions pending_new": Executions(
        type="update",
        sequence=8,
        data=(
            Execution(
                order_id=_OID,
                order_userref=3,
                symbol="BTC/USD",
                order_qty=D("0.005"),
                cum_cost=D("0.0"),
                time_in_force="GTC",
                exec_type="pending_new",
                side="sell",
                order_type="limit",
                limit_price_type="static",
                limit_price=D("26500.0"),
                stop_price=D("0.0"),
                order_status="pending_new",
                fee_usd_equiv=D("0.0"),
                fee_ccy_pref="fciq",
                timestamp="2023-09-22T10:33:05.709950Z",
            ),
        ),
    ),
    "executions new": Executions(
        type="update",
        sequence=9,
        data=(
            Execution(
                timestamp="2023-09-22T10:33:05.709982Z",
                order_status="new",
                exec_type="new",
                order_userref=3,
                order_id=_OID,
            ),
        ),
    ),
    "executions trade (partially_filled on the completing fill)": Executions(
        type="update",
        sequence=10,
        data=(
            Execution(
                order_id=_OID,
                order_userref=3,
                exec_id="TGBB7L-HT5LX-J3BZ4A",
                exec_type="trade",
                trade_id=62887576,
                symbol="BTC/USD",
                side="sell",
                last_qty=D("0.005"),
                last_price=D("26599.9"),
                liquidity_ind="t",
                cost=D("132.9995"),
                order_type="limit",
                timestamp="2023-09-22T10:33:05.709993Z",
                order_status="partially_filled",
                cum_qty=D("0.005"),
                cum_cost=D("132.9995"),
                avg_price=D("26599.9"),
                fee_usd_equiv=D("0.3458"),
                fees=(Fee(asset="USD", qty=D("0.3458")),),
            ),
        ),
    ),
    # the live cancel record from ccxt's source, wrapped in an executions frame
    "executions canceled (live record)": Executions(
        type="update",
        sequence=11,
        data=(
            Execution(
                timestamp="2025-10-11T15:11:47.695226Z",
                order_status="canceled",
                exec_type="canceled",
                order_userref=0,
                order_id="OGAB7Y-BKX5F-PTK5RW",
                cum_qty=D("0"),
                cum_cost=D("0"),
                fee_usd_equiv=D("0"),
                avg_price=D("0"),
                cancel_reason="User requested",
                reason="User requested",
            ),
        ),
    ),
    # section 4, balances
    # from the prose: result {"channel":"balances","snapshot":true}
    "balances subscribe ack (prose)": SubscribeReply(
        success=True, result=SubscribeResult(channel="balances", snapshot=True)
    ),
    "balances snapshot": Balances(
        type="snapshot",
        sequence=1,
        data=(
            BalanceRecord(
                asset="BTC",
                asset_class="currency",
                balance=D("1.2"),
                wallets=(Wallet(type="spot", id="main", balance=D("1.2")),),
            ),
            BalanceRecord(
                asset="USD",
                asset_class="currency",
                balance=D("80595.4943"),
                wallets=(Wallet(type="spot", id="main", balance=D("80595.4943")),),
            ),
        ),
    ),
    "balances update": Balances(
        type="update",
        sequence=10,
        data=(
            BalanceRecord(
                ledger_id="A5KS77-LQRMP-SMMN4B",
                ref_id="AGBB7L-HT5LX-J3BB4A",
                timestamp="2023-09-22T10:33:05.710082Z",
                type="trade",
                asset="USD",
                asset_class="currency",
                category="trade",
                wallet_type="spot",
                wallet_id="main",
                amount=D("132.9995"),
                fee=D("0.3458"),
                balance=D("500"),
            ),
        ),
    ),
    # heartbeat and status
    "heartbeat": Heartbeat(),
    "status (connection_id above 2**63)": Status(
        type="update",
        data=(
            StatusRecord(
                api_version="v2",
                connection_id=13834774380200032777,
                system="online",
                version="2.0.0",
            ),
        ),
    ),
    # section 5
    "add_order reply": AddOrderReply(
        req_id=123456789,
        success=True,
        time_in=_T_IN,
        time_out=_T_OUT,
        result=AddOrderResult(order_id="AA5JGQ-SBMRC-SCJ7J7", order_userref=100054),
    ),
    "add_order error": AddOrderReply(
        req_id=123456789,
        success=False,
        error_message="EOrder:Insufficient funds",
        time_in=_T_IN,
        time_out=_T_OUT,
    ),
    # validate:true answers with an empty order_id (official SDK)
    "add_order validate reply": AddOrderReply(
        req_id=7, success=True, result=AddOrderResult(order_id="", warnings=("w",))
    ),
    "amend_order reply": AmendOrderReply(
        success=True,
        time_in="2024-07-26T13:39:04.922699Z",
        time_out="2024-07-26T13:39:04.924912Z",
        result=AmendOrderResult(
            amend_id="TTW6PD-RC36L-ZZSWNU", cl_ord_id="2c6be801-1f53-4f79-a0bb-4ea1c95dfae9"
        ),
    ),
    "edit_order reply": EditOrderReply(
        req_id=1234567890,
        success=True,
        time_in="2022-07-15T12:56:09.876488Z",
        time_out="2022-07-15T12:56:09.923422Z",
        result=EditOrderResult(
            order_id="ORDERX-IDXXX-XXXXX2", original_order_id="ORDERX-IDXXX-XXXXX1"
        ),
    ),
    "cancel_order reply 1 of 2": CancelOrderReply(
        req_id=123456789,
        success=True,
        time_in="2023-09-21T14:36:57.428972Z",
        time_out="2023-09-21T14:36:57.437952Z",
        result=CancelOrderResult(order_id="OLUMT4-UTEGU-ZYM7E9"),
    ),
    "cancel_order reply 2 of 2": CancelOrderReply(
        req_id=123456789,
        success=True,
        time_in="2023-09-21T14:36:57.428972Z",
        time_out="2023-09-21T14:36:57.438027Z",
        result=CancelOrderResult(order_id="OM5CRX-N2HAL-GFGWE9"),
    ),
    "cancel_order of a gone order (official SDK)": CancelOrderReply(
        req_id=5, success=False, error_message="EOrder:Invalid order"
    ),
    "cancel_all reply": CancelAllReply(
        req_id=1234567890,
        success=True,
        time_in="2023-09-26T13:09:48.463201Z",
        time_out="2023-09-26T13:09:48.471419Z",
        result=CountResult(count=1),
    ),
    "cancel_all_orders_after reply": CancelAllOrdersAfterReply(
        req_id=1234567890,
        success=True,
        time_in="2023-09-21T15:49:28.627900Z",
        time_out="2023-09-21T15:49:28.649057Z",
        result=CancelAllOrdersAfterResult(
            current_time="2023-09-21T15:49:29Z", trigger_time="2023-09-21T15:51:09Z"
        ),
    ),
    "cancel_all_orders_after disarmed": CancelAllOrdersAfterReply(
        req_id=2,
        success=True,
        result=CancelAllOrdersAfterResult(current_time="2023-09-21T15:49:29Z", trigger_time="0"),
    ),
    "batch_add reply": BatchAddReply(
        req_id=1234567890,
        success=True,
        time_in="2022-06-13T08:09:10.123456Z",
        time_out="2022-06-13T08:09:10.7890123",
        result=(
            BatchAddRow(order_id="ORDERX-IDXXX-XXXXX1", order_userref=1),
            BatchAddRow(order_id="ORDERX-IDXXX-XXXXX2", order_userref=2),
        ),
    ),
    # the official SDK's reading of a partly placed batch
    "batch_add partly placed (official SDK shape)": BatchAddReply(
        req_id=3,
        success=False,
        result=(
            BatchAddRow(order_id="O1", order_userref=1),
            BatchAddRow(error="EOrder:Insufficient funds", order_userref=2),
        ),
    ),
    # Nautilus's fixture reading of the same
    "batch_add partly placed (Nautilus shape)": BatchAddReply(
        req_id=4,
        success=True,
        result=BatchAddOrders(
            orders=(
                BatchAddRow(order_id="O1", cl_ord_id="a", success=True),
                BatchAddRow(cl_ord_id="b", success=False, error="EOrder:Insufficient funds"),
            )
        ),
    ),
    "batch_cancel reply": BatchCancelReply(
        req_id=1234567890,
        success=True,
        time_in="2022-06-13T08:09:10.123456Z",
        time_out="2022-06-13T08:09:10.7890123",
        result=BatchCancelResult(count=3),
    ),
    "pong": Pong(
        req_id=101,
        time_in="2023-09-24T14:10:23.799685Z",
        time_out="2023-09-24T14:10:23.799703Z",
    ),
}

INBOUND: list[tuple[str, str, Event]] = [
    (frame, description, _EXPECTED[description]) for description, frame in V2_EXAMPLES
]
"""(frame, description, expected event) for every example frame, in the examples' order."""

OUTBOUND: list[tuple[str, str, V2Request, dict[str, Any]]] = [
    (
        '{"method":"subscribe","params":{"channel":"executions","token":'
        '"G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY","snap_orders":true,"snap_trades":true}}',
        "subscribe executions",
        Subscribe(channel="executions", snap_orders=True, snap_trades=True),
        {"token": _TOKEN},
    ),
    (
        '{"method":"unsubscribe","params":{"channel":"executions","token":"…"}}',
        "unsubscribe executions",
        Unsubscribe(channel="executions"),
        {"token": "…"},
    ),
    (
        '{"method":"subscribe","params":{"channel":"balances","token":"…"}}',
        "subscribe balances",
        Subscribe(channel="balances"),
        {"token": "…"},
    ),
    (
        '{"method":"add_order","params":{"order_type":"limit","side":"buy","limit_price":26500.4,'
        '"order_userref":100054,"order_qty":1.2,"symbol":"BTC/USD","token":'
        '"G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY"},"req_id":123456789}',
        "add_order limit",
        AddOrder(
            order_type="limit",
            side="buy",
            limit_price=D("26500.4"),
            order_userref=100054,
            order_qty=D("1.2"),
            symbol="BTC/USD",
        ),
        {"token": _TOKEN, "req_id": 123456789},
    ),
    (
        '{"method":"add_order","params":{"order_type":"stop-loss","side":"sell","order_qty":100,'
        '"symbol":"MATIC/USD","triggers":{"reference":"last","price":-2.0,"price_type":"pct"},'
        '"token":"G38a…"}}',
        "add_order stop-loss with a relative trigger",
        AddOrder(
            order_type="stop-loss",
            side="sell",
            order_qty=D("100"),
            symbol="MATIC/USD",
            triggers=Triggers(reference="last", price=D("-2.0"), price_type="pct"),
        ),
        {"token": "G38a…"},
    ),
    (
        '{"method":"add_order","params":{"order_type":"limit","side":"buy","order_qty":1.2,'
        '"symbol":"BTC/USD","limit_price":28440,"conditional":{"order_type":"stop-loss-limit",'
        '"trigger_price":28410,"limit_price":28400},"token":"G38a…"}}',
        "add_order with a conditional close",
        AddOrder(
            order_type="limit",
            side="buy",
            order_qty=D("1.2"),
            symbol="BTC/USD",
            limit_price=D("28440"),
            conditional=Conditional(
                order_type="stop-loss-limit", trigger_price=D("28410"), limit_price=D("28400")
            ),
        ),
        {"token": "G38a…"},
    ),
    (
        '{"method":"amend_order","params":{"cl_ord_id":"2c6be801-1f53-4f79-a0bb-4ea1c95dfae9",'
        '"limit_price":490795,"order_qty":1.2,"token":'
        '"PM5Qm0MDrS54l657aQAtb7AhrwN30e2LBg1nUYOd6vU"}}',
        "amend_order by cl_ord_id",
        AmendOrder(
            cl_ord_id="2c6be801-1f53-4f79-a0bb-4ea1c95dfae9",
            limit_price=D("490795"),
            order_qty=D("1.2"),
        ),
        {"token": "PM5Qm0MDrS54l657aQAtb7AhrwN30e2LBg1nUYOd6vU"},
    ),
    (
        '{"method":"amend_order","params":{"order_id":"OAIYAU-LGI3M-PFM5VW","limit_price":61031.3,'
        '"deadline":"2024-07-21T09:53:59.050Z","post_only":true,'
        '"token":"DGB00LiKlPlLI/amQaSKUUr8niqXDb+1zwvtjp34nzk"}}',
        "amend_order by order_id with deadline",
        AmendOrder(
            order_id="OAIYAU-LGI3M-PFM5VW",
            limit_price=D("61031.3"),
            deadline="2024-07-21T09:53:59.050Z",
            post_only=True,
        ),
        {"token": "DGB00LiKlPlLI/amQaSKUUr8niqXDb+1zwvtjp34nzk"},
    ),
    (
        '{"method":"edit_order","params":{"order_id":"ORDERX-IDXXX-XXXXX1",'
        '"order_qty":0.2123456789,"symbol":"BTC/USD",'
        '"token":"TxxxxxxxxxOxxxxxxxxxxKxxxxxxxExxxxxxxxN"},"req_id":1234567890}',
        "edit_order",
        EditOrder(order_id="ORDERX-IDXXX-XXXXX1", order_qty=D("0.2123456789"), symbol="BTC/USD"),
        {"token": "TxxxxxxxxxOxxxxxxxxxxKxxxxxxxExxxxxxxxN", "req_id": 1234567890},
    ),
    (
        '{"method":"cancel_order","params":{"order_id":["OM5CRX-N2HAL-GFGWE9",'
        '"OLUMT4-UTEGU-ZYM7E9"],"token":"zGXT1dUQQjJjy5VmGXMegdDQngXXehNo5qbMBVolwEQ"},'
        '"req_id":123456789}',
        "cancel_order two ids",
        CancelOrder(order_id=("OM5CRX-N2HAL-GFGWE9", "OLUMT4-UTEGU-ZYM7E9")),
        {"token": "zGXT1dUQQjJjy5VmGXMegdDQngXXehNo5qbMBVolwEQ", "req_id": 123456789},
    ),
    (
        '{"method":"cancel_all","params":{"token":"weeBxllys/7kHy/zHpkATSDIS42BvDgWS2b04ZSZHZ5"},'
        '"req_id":1234567890}',
        "cancel_all",
        CancelAll(),
        {"token": "weeBxllys/7kHy/zHpkATSDIS42BvDgWS2b04ZSZHZ5", "req_id": 1234567890},
    ),
    (
        '{"method":"cancel_all_orders_after","params":{"timeout":100,'
        '"token":"zwpdzWUe18Bn6h4TAMorh26+QbcMeST2B5tamfe+pgQ"},"req_id":1234567890}',
        "cancel_all_orders_after",
        CancelAllOrdersAfter(timeout=100),
        {"token": "zwpdzWUe18Bn6h4TAMorh26+QbcMeST2B5tamfe+pgQ", "req_id": 1234567890},
    ),
    (
        '{"method":"batch_add","params":{"deadline":"2022-06-13T08:09:10.123456Z","orders":'
        '[{"limit_price":1010.10,"order_qty":0.123456789,"order_type":"limit",'
        '"order_userref":1,"side":"buy"},{"limit_price":2020.20,"order_qty":0.987654321,'
        '"order_type":"limit","order_userref":2,"side":"sell","stp_type":"cancel_both"}],'
        '"symbol":"BTC/USD","token":"TxxxxxxxxxOxxxxxxxxxxKxxxxxxxExxxxxxxxN","validate":false},'
        '"req_id":1234567890}',
        "batch_add",
        BatchAdd(
            deadline="2022-06-13T08:09:10.123456Z",
            validate=False,
            orders=(
                AddOrder(
                    order_type="limit",
                    side="buy",
                    symbol="BTC/USD",
                    limit_price=D("1010.10"),
                    order_qty=D("0.123456789"),
                    order_userref=1,
                ),
                AddOrder(
                    order_type="limit",
                    side="sell",
                    symbol="BTC/USD",
                    limit_price=D("2020.20"),
                    order_qty=D("0.987654321"),
                    order_userref=2,
                    stp_type="cancel_both",
                ),
            ),
        ),
        {"token": "TxxxxxxxxxOxxxxxxxxxxKxxxxxxxExxxxxxxxN", "req_id": 1234567890},
    ),
    (
        '{"method":"batch_cancel","params":{"orders":["1","2","ORDERX-IDXXX-XXXXX3"],'
        '"token":"TxxxxxxxxxOxxxxxxxxxxKxxxxxxxExxxxxxxxN"},"req_id":1234567890}',
        "batch_cancel",
        BatchCancel(orders=(1, "2", "ORDERX-IDXXX-XXXXX3")),
        {"token": "TxxxxxxxxxOxxxxxxxxxxKxxxxxxxExxxxxxxxN", "req_id": 1234567890},
    ),
    ('{"method":"ping","req_id":101}', "ping", Ping(), {"req_id": 101}),
]

REAL_FRAMES: list[bytes] = [frame.encode() for frame, _, _ in INBOUND]
