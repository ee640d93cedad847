"""Issue 19 item 3 in the v2 core: typed error replies (``ErrorReply``), fields kept that were
dropped (``ratecount``, ``orders_cancelled``), a pending order's ``vol_exec`` of 0 without
``cum_qty``, and an order first seen in a fill kept as a stub."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from kraken_proto import OrderTable
from kraken_proto.v1 import RequestCompleted, RequestFailed
from kraken_proto.v2 import (
    BatchCancelReply,
    BatchCancelResult,
    ErrorReply,
    Executions,
    Ping,
    UnknownMessage,
    V2Connection,
    decode,
    open_orders,
)

TOKEN = "G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY"
MALFORMED = (
    '{"error":"Malformed request","method":"error","success":false,'
    '"time_in":"2026-01-10T12:00:00.000001Z","time_out":"2026-01-10T12:00:00.000002Z"}'
)
PING_PARAMS = (
    '{"error":"Unsupported field: \'params\' for the given msg type: ping","method":"ping",'
    '"req_id":%d,"success":false,"time_in":"2024-05-19T19:22:20.1Z","time_out":"2024-05-19T19:22:20.2Z"}'
)


def both(frame: str) -> Any:
    """Decode as text and as bytes; both must agree."""
    event = decode(frame)
    assert decode(frame.encode()) == event
    return event


def test_malformed_request_is_a_typed_error_reply() -> None:
    event = both(MALFORMED)
    assert type(event) is ErrorReply
    assert event.for_method == "error"
    assert event.req_id is None
    assert not event.ok
    assert event.error is not None
    assert event.error.text == "Malformed request"
    assert event.time_in == "2026-01-10T12:00:00.000001Z"


def test_an_error_naming_a_method_without_a_reply_class_is_an_error_reply() -> None:
    event = both(PING_PARAMS % 7)
    assert type(event) is ErrorReply
    assert event.for_method == "ping"
    assert event.req_id == 7
    assert event.error is not None
    assert "params" in event.error.text
    # the req_id echoed as text still names the request
    text = PING_PARAMS.replace('"req_id":%d', '"req_id":"%d"') % 8
    assert both(text).req_id == 8
    # no error text: not an error reply, still unknown
    assert type(both('{"method":"ping","req_id":1,"success":false}')) is UnknownMessage
    # a method: "error" frame even says ok False when it claims success
    assert not both('{"method":"error","success":true}').ok


@settings(max_examples=40, deadline=None)
@given(
    method=st.text(min_size=1, max_size=12).filter(
        lambda m: (
            m
            not in {
                "subscribe",
                "unsubscribe",
                "add_order",
                "amend_order",
                "edit_order",
                "cancel_order",
                "cancel_all",
                "cancel_all_orders_after",
                "batch_add",
                "batch_cancel",
                "pong",
            }
        )
    ),
    error=st.text(max_size=30),
    req_id=st.none() | st.integers(1, 2**31 - 1),
)
def test_any_error_frame_with_a_method_decodes_to_an_error_reply(
    method: str, error: str, req_id: int | None
) -> None:
    message: dict[str, Any] = {"error": error, "method": method, "success": False}
    if req_id is not None:
        message["req_id"] = req_id
    event = both(json.dumps(message))
    assert type(event) is ErrorReply
    assert event.for_method == method
    assert event.req_id == req_id
    assert event.error_message == error


def opened() -> V2Connection:
    conn = V2Connection()
    conn.connection_made(0.0)
    conn.provide_token(TOKEN, 0.0)
    return conn


def test_the_connection_fails_the_request_an_error_reply_names() -> None:
    conn = opened()
    req_id = conn.send(Ping(), 0.0)
    conn.receive_message(PING_PARAMS % req_id, 0.1)
    events = conn.events_received()
    assert type(events[0]) is ErrorReply
    (ended,) = [e for e in events if isinstance(e, RequestFailed | RequestCompleted)]
    assert isinstance(ended, RequestFailed)
    assert ended.reqid == req_id
    assert ended.replies == (events[0],)
    assert req_id not in conn.pending_requests()


def test_an_error_reply_without_a_known_req_id_is_reported_and_fails_nothing() -> None:
    conn = opened()
    req_id = conn.send(Ping(), 0.0)
    conn.receive_message(MALFORMED, 0.1)
    conn.receive_message(PING_PARAMS % (req_id + 100), 0.1)
    events = conn.events_received()
    assert [type(e) for e in events] == [ErrorReply, ErrorReply]
    assert req_id in conn.pending_requests()
    assert conn.state.name == "OPEN"


def test_batch_cancel_keeps_orders_cancelled_and_execution_keeps_ratecount() -> None:
    reply = both(
        '{"method":"batch_cancel","req_id":3,"result":{"count":2,"orders_cancelled":2},'
        '"success":true}'
    )
    assert reply == BatchCancelReply(
        req_id=3, success=True, result=BatchCancelResult(count=2, orders_cancelled=2)
    )
    listed = both(
        '{"method":"batch_cancel","req_id":3,"result":{"count":2,'
        '"orders_cancelled":["O1","O2"]},"success":true}'
    )
    assert listed.result.orders_cancelled == ("O1", "O2")
    push = both(
        '{"channel":"executions","type":"update","sequence":2,"data":[{"exec_type":"new",'
        '"order_id":"O1","ratecount":12.25}]}'
    )
    assert isinstance(push, Executions)
    assert push.data[0].ratecount == Decimal("12.25")


def executions(kind: str, *records: dict[str, Any], sequence: int = 2) -> Executions:
    frame = json.dumps(
        {"channel": "executions", "type": kind, "data": list(records), "sequence": sequence}
    )
    event = decode(frame)
    assert isinstance(event, Executions)
    return event


def test_a_pending_order_without_cum_qty_has_executed_nothing() -> None:
    pending = {
        "exec_type": "pending_new",
        "order_id": "O1",
        "symbol": "BTC/USD",
        "side": "buy",
        "order_type": "limit",
        "order_qty": 1,
        "limit_price": 5,
        "timestamp": "2024-01-01T00:00:00Z",
    }
    ((_, record),) = open_orders(executions("update", pending)).orders
    assert record.vol_exec == Decimal(0)
    assert record.status == "pending"
    # cum_qty when sent wins, pending or not
    ((_, record),) = open_orders(executions("update", {**pending, "cum_qty": 0.5})).orders
    assert record.vol_exec == Decimal("0.5")
    # not pending and no cum_qty: unknown, the table keeps what it had
    ((_, record),) = open_orders(executions("update", {**pending, "exec_type": "new"})).orders
    assert record.vol_exec is None
    # a snapshot entry still pending_new has executed nothing either
    snap = {**pending, "exec_type": "new", "order_status": "pending_new"}
    ((_, record),) = open_orders(executions("snapshot", snap, sequence=1)).orders
    assert record.vol_exec == Decimal(0)


def test_an_order_first_seen_in_a_fill_is_a_stub_until_its_record_comes() -> None:
    table = OrderTable()
    table.apply(open_orders(executions("snapshot", sequence=1)), snapshot=True)
    fill = {
        "exec_type": "trade",
        "order_id": "O9",
        "exec_id": "T1",
        "symbol": "BTC/USD",
        "side": "buy",
        "order_type": "limit",
        "last_qty": 0.1,
        "last_price": 100,
        "cum_qty": 0.1,
        "order_status": "partially_filled",
        "timestamp": "2024-01-01T00:00:01Z",
    }
    changes = table.apply(open_orders(executions("update", fill)), snapshot=False)
    (stub,) = changes.stubs
    assert changes.added == ()
    assert stub.txid == "O9"
    assert stub.is_stub
    assert stub.is_open
    assert stub.vol_exec == Decimal("0.1")
    assert table.get("O9") == stub
    full = {
        "exec_type": "restated",
        "order_id": "O9",
        "symbol": "BTC/USD",
        "side": "buy",
        "order_type": "limit",
        "order_qty": 1,
        "limit_price": 100,
    }
    table.apply(open_orders(executions("update", full, sequence=3)), snapshot=False)
    order = table.get("O9")
    assert order is not None
    assert not order.is_stub
    assert order.vol == Decimal(1)
    assert order.vol_exec == Decimal("0.1")


def test_an_error_without_a_method_still_fails_the_request_it_names() -> None:
    conn = opened()
    req_id = conn.send(Ping(), 0.0)
    conn.receive_message(json.dumps({"req_id": req_id, "error": "EGeneral:x"}), 0.1)
    events = conn.events_received()
    assert type(events[0]) is UnknownMessage
    assert isinstance(events[1], RequestFailed)
    assert events[1].error.text == "EGeneral:x"
