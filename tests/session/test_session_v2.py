"""Issue 12 item 3: the Session speaks v2 behind the same calls, events and guarantees.

``V2Link`` (v1 requests in, v1-shaped events out, over a ``V2Connection``) and the request
translation, frame by frame; then the pure Session over the simulator's v2 face in memory.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    FillReceived,
    LocalProtocolError,
    RequestAccepted,
    RequestApplied,
    RequestNotApplied,
    RequestOutcome,
    SessionConfig,
    SessionState,
    v2,
)
from kraken_proto.session import V2Link, open_link
from kraken_proto.session._v2_translation import (
    to_v1_reply,
    to_v2_request,
    unix_to_rfc3339,
    v2_symbol,
)
from kraken_proto.v1 import (
    AddOrderStatus,
    AmendOrderStatus,
    CancelAllOrdersAfterStatus,
    CancelAllStatus,
    CancelOrderStatus,
    ChannelSnapshot,
    ChannelUpdate,
    Connection,
    ConnectionConfig,
    EditOrderStatus,
    LateReply,
    OpenOrders,
    OwnTrades,
    Ping,
    RequestCompleted,
    RequestFailed,
    RequestLost,
    RequestTimedOut,
    SequenceGap,
    Subscribe,
    SubscriptionState,
    SystemStatus,
    TokenState,
    Unsubscribe,
)
from kraken_proto.v2 import Executions, open_orders

from tests.session.session_wire import Wire

TOKEN = "G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY"
NOW = 1_700_000_000.0
OID = "OK4GJX-KSTLS-7DZZO5"
CLID = "2c6be801-1f53-4f79-a0bb-4ea1c95dfae9"


def limit(**fields: Any) -> AddOrder:
    base: dict[str, Any] = {
        "ordertype": "limit",
        "type": "buy",
        "pair": "XBT/USD",
        "volume": Decimal("1.2"),
        "price": Decimal("26500.4"),
    }
    return AddOrder(**{**base, **fields})


def sent(link: V2Link) -> list[dict[str, Any]]:
    return [json.loads(text) for text in link.data_to_send()]


def open_v2_link(config: ConnectionConfig | None = None) -> V2Link:
    link = V2Link(config)
    link.connection_made(NOW)
    link.provide_token(TOKEN, NOW)
    return link


def frame(**fields: Any) -> str:
    return json.dumps(fields)


def ack(req_id: int, channel: str = "executions") -> str:
    return frame(method="subscribe", req_id=req_id, success=True, result={"channel": channel})


def executions(kind: str, sequence: int, *records: dict[str, Any]) -> str:
    return frame(channel="executions", type=kind, sequence=sequence, data=list(records))


TRADE = {
    "order_id": OID,
    "exec_id": "TGBB7L-HT5LX-J3BZ4A",
    "exec_type": "trade",
    "symbol": "BTC/USD",
    "side": "sell",
    "last_qty": 0.005,
    "last_price": 26599.9,
    "cost": 132.9995,
    "order_type": "limit",
    "timestamp": "2023-09-22T10:33:05.709993Z",
    "order_status": "partially_filled",
    "cum_qty": 0.005,
    "fees": [{"asset": "USD", "qty": 0.3458}],
}
FILLED = {
    "order_id": OID,
    "exec_type": "filled",
    "order_status": "filled",
    "cum_qty": 0.005,
    "timestamp": "2023-09-22T10:33:05.710000Z",
}
OPEN = {
    "order_id": OID,
    "exec_type": "new",
    "order_status": "new",
    "symbol": "BTC/USD",
    "side": "sell",
    "order_type": "limit",
    "order_qty": 0.005,
    "limit_price": 26500.0,
    "cl_ord_id": CLID,
    "timestamp": "2023-09-22T10:33:05.709982Z",
}


def subscribed_link(*names: str) -> tuple[V2Link, list[int]]:
    link = open_v2_link()
    ids = [link.send(Subscribe(name=name), NOW) for name in names]  # type: ignore[arg-type]
    (request,) = sent(link)
    link.receive_message(ack(request["req_id"]), NOW)
    assert [type(e) for e in link.events_received()] == [RequestCompleted] * len(names)
    return link, ids


# --- requests -----------------------------------------------------------------------------


def test_add_order_maps_every_v1_field_to_v2() -> None:
    request = limit(
        oflags=frozenset({"post", "fcib"}),
        timeinforce="GTD",
        starttm="+60",
        expiretm=1700003600,
        deadline="2023-11-14T22:13:25.000Z",
        margin=True,
        reduce_only=True,
        stp_type="cancel_both",
        cl_ord_id=CLID,
        sender_sub_id="sub",
        validate=True,
    )
    mapped = to_v2_request(request, NOW)
    assert isinstance(mapped, v2.AddOrder)
    assert (mapped.order_type, mapped.side, mapped.symbol) == ("limit", "buy", "BTC/USD")
    assert (mapped.order_qty, mapped.limit_price) == (Decimal("1.2"), Decimal("26500.4"))
    assert mapped.post_only is True
    assert mapped.fee_preference == "base"
    assert mapped.time_in_force == "gtd"
    assert mapped.effective_time == "2023-11-14T22:14:20Z"  # now + 60 s
    assert mapped.expire_time == "2023-11-14T23:13:20Z"
    assert mapped.deadline == request.deadline
    assert mapped.margin is True
    assert mapped.reduce_only is True
    assert (mapped.stp_type, mapped.cl_ord_id, mapped.sender_sub_id) == ("cancel_both", CLID, "sub")
    assert mapped.validate is True
    # Kraken v2 refuses a cl_ord_id with a conditional close (and the session gives every
    # order one): such an order is refused before sending, with v2's reason.
    with pytest.raises(LocalProtocolError, match="conditional"):
        to_v2_request(limit(cl_ord_id=CLID, close_ordertype="limit", close_price=1), NOW)
    conditional = to_v2_request(
        limit(
            close_ordertype="stop-loss-limit",
            close_price=Decimal("26000"),
            close_price2=Decimal("25900"),
        ),
        NOW,
    )
    assert isinstance(conditional, v2.AddOrder)
    assert conditional.conditional == v2.Conditional(
        order_type="stop-loss-limit",
        trigger_price=Decimal("26000"),
        limit_price=Decimal("25900"),
    )


def test_add_order_variants() -> None:
    plain = to_v2_request(limit(userref=7, starttm=0), NOW)
    assert isinstance(plain, v2.AddOrder)
    assert plain.order_userref == 7
    assert plain.effective_time is None
    assert plain.post_only is None
    assert plain.fee_preference is None
    assert plain.validate is None
    quote = to_v2_request(
        AddOrder(
            ordertype="market",
            type="buy",
            pair="XDG/USD",
            volume=Decimal("10"),
            oflags=frozenset({"viqc", "fciq"}),
        ),
        NOW,
    )
    assert isinstance(quote, v2.AddOrder)
    assert (quote.symbol, quote.order_qty, quote.cash_order_qty) == ("DOGE/USD", None, Decimal(10))
    assert quote.fee_preference == "quote"
    stop = to_v2_request(
        limit(ordertype="stop-loss-limit", price=Decimal("26000"), price2=Decimal("25900")), NOW
    )
    assert isinstance(stop, v2.AddOrder)
    assert stop.triggers == v2.Triggers(price=Decimal("26000"))
    assert stop.limit_price == Decimal("25900")
    closing = to_v2_request(limit(close_ordertype="limit", close_price=Decimal("27000")), NOW)
    assert isinstance(closing, v2.AddOrder)
    assert closing.conditional == v2.Conditional(order_type="limit", limit_price=Decimal("27000"))


def test_what_v2_cannot_express_is_refused_before_sending() -> None:
    with pytest.raises(LocalProtocolError, match="leverage"):
        to_v2_request(limit(leverage=2), NOW)
    with pytest.raises(LocalProtocolError, match="relative price"):
        to_v2_request(limit(ordertype="stop-loss", price="+5"), NOW)
    with pytest.raises(LocalProtocolError, match="userref"):
        to_v2_request(EditOrder(orderid=12, pair="XBT/USD", volume=Decimal("1")), NOW)
    with pytest.raises(LocalProtocolError, match="price2"):
        to_v2_request(
            EditOrder(orderid=OID, pair="XBT/USD", price=Decimal("1"), price2=Decimal("2")), NOW
        )
    with pytest.raises(LocalProtocolError, match="no v2 translation"):
        to_v2_request(Unsubscribe(name="ownTrades"), NOW)


def test_edit_amend_cancel_and_the_rest() -> None:
    edit = to_v2_request(
        EditOrder(
            orderid=OID,
            pair="XBT/USD",
            volume=Decimal("0.2"),
            price=Decimal("1"),
            oflags=frozenset({"post"}),
            newuserref=3,
            validate=True,
        ),
        NOW,
    )
    assert edit == v2.EditOrder(
        order_id=OID,
        symbol="BTC/USD",
        order_qty=Decimal("0.2"),
        limit_price=Decimal("1"),
        post_only=True,
        order_userref=3,
        validate=True,
    )
    bare_edit = to_v2_request(EditOrder(orderid=OID, pair="XBT/USD", volume=Decimal("1")), NOW)
    assert isinstance(bare_edit, v2.EditOrder)
    assert bare_edit.post_only is None
    amend = to_v2_request(
        AmendOrder(
            cl_ord_id=CLID,
            volume=Decimal("1.2"),
            display_volume=Decimal("0.1"),
            limit_price=Decimal("490795"),
            trigger_price=Decimal("490000"),
            post_only=True,
            pair="XBT/USD",
            deadline="2024-07-21T09:53:59.050Z",
        ),
        NOW,
    )
    assert amend == v2.AmendOrder(
        cl_ord_id=CLID,
        order_qty=Decimal("1.2"),
        display_qty=Decimal("0.1"),
        limit_price=Decimal("490795"),
        trigger_price=Decimal("490000"),
        post_only=True,
        deadline="2024-07-21T09:53:59.050Z",
        symbol="BTC/USD",
    )
    plain_amend = to_v2_request(AmendOrder(txid=OID, limit_price=Decimal("5")), NOW)
    assert isinstance(plain_amend, v2.AmendOrder)
    assert plain_amend.symbol is None
    cancel = to_v2_request(CancelOrder(txid=(OID,), cl_ord_id=(CLID,), userref=(4,)), NOW)
    assert cancel == v2.CancelOrder(order_id=(OID,), cl_ord_id=(CLID,), order_userref=(4,))
    assert to_v2_request(CancelAll(), NOW) == v2.CancelAll()
    assert to_v2_request(CancelAllOrdersAfter(timeout=60), NOW) == v2.CancelAllOrdersAfter(
        timeout=60
    )
    assert to_v2_request(Ping(), NOW) == v2.Ping()


def test_names_and_times() -> None:
    assert v2_symbol("XBT/USD") == "BTC/USD"
    assert v2_symbol("ETH/XBT") == "ETH/BTC"
    assert v2_symbol("SOL/USD") == "SOL/USD"
    assert unix_to_rfc3339(0) == "1970-01-01T00:00:00Z"
    assert unix_to_rfc3339(951782400) == "2000-02-29T00:00:00Z"
    assert unix_to_rfc3339(1695378785) == "2023-09-22T10:33:05Z"


@given(st.integers(min_value=0, max_value=253402300799))
def test_unix_to_rfc3339_round_trips(seconds: int) -> None:
    assert v2.rfc3339_to_unix(unix_to_rfc3339(seconds)) == seconds


# --- replies ------------------------------------------------------------------------------


def reply(text: dict[str, Any]) -> Any:
    return v2.decode(json.dumps(text))


def test_replies_become_v1_status_events() -> None:
    added = to_v1_reply(
        reply({"method": "add_order", "success": True, "result": {"order_id": OID}}), 5
    )
    assert added == AddOrderStatus(status="ok", reqid=5, txid=OID)
    refused = to_v1_reply(
        reply({"method": "add_order", "success": False, "error": "EOrder:Insufficient funds"}), 5
    )
    assert refused == AddOrderStatus(
        status="error", reqid=5, error_message="EOrder:Insufficient funds"
    )
    bare = to_v1_reply(reply({"method": "add_order", "success": False}), 5)
    assert isinstance(bare, AddOrderStatus)
    assert bare.error_message == "success false"
    edited = to_v1_reply(
        reply(
            {
                "method": "edit_order",
                "success": True,
                "result": {"order_id": "O2", "original_order_id": OID},
            }
        ),
        6,
    )
    assert edited == EditOrderStatus(status="ok", reqid=6, txid="O2", originaltxid=OID)
    failed_edit = to_v1_reply(reply({"method": "edit_order", "success": False, "error": "E"}), 6)
    assert isinstance(failed_edit, EditOrderStatus)
    assert failed_edit.txid is None
    amended = to_v1_reply(
        reply(
            {
                "method": "amend_order",
                "success": True,
                "result": {"amend_id": "TT", "order_id": OID},
            }
        ),
        7,
    )
    assert amended == AmendOrderStatus(status="ok", reqid=7, amend_id="TT", txid=OID)
    failed_amend = to_v1_reply(reply({"method": "amend_order", "success": False}), 7)
    assert isinstance(failed_amend, AmendOrderStatus)
    assert failed_amend.amend_id is None
    cancelled = to_v1_reply(reply({"method": "cancel_order", "success": True}), 8)
    assert cancelled == CancelOrderStatus(status="ok", reqid=8)
    counted = to_v1_reply(
        reply({"method": "cancel_all", "success": True, "result": {"count": 2}}), 9
    )
    assert counted == CancelAllStatus(status="ok", reqid=9, count=2)
    failed_all = to_v1_reply(reply({"method": "cancel_all", "success": False}), 9)
    assert isinstance(failed_all, CancelAllStatus)
    assert failed_all.count is None
    timer = to_v1_reply(
        reply(
            {
                "method": "cancel_all_orders_after",
                "success": True,
                "result": {"currentTime": "a", "triggerTime": "b"},
            }
        ),
        10,
    )
    assert timer == CancelAllOrdersAfterStatus(
        status="ok", reqid=10, current_time="a", trigger_time="b"
    )
    failed_timer = to_v1_reply(reply({"method": "cancel_all_orders_after", "success": False}), 10)
    assert isinstance(failed_timer, CancelAllOrdersAfterStatus)
    assert failed_timer.trigger_time is None
    pong = reply({"method": "pong"})
    assert to_v1_reply(pong, 11) is pong
    subscribed = reply({"method": "subscribe", "success": True})
    assert to_v1_reply(subscribed, 12) is subscribed


# --- the link -----------------------------------------------------------------------------


def test_open_link_picks_the_protocol() -> None:
    assert isinstance(open_link("v1"), Connection)
    assert isinstance(open_link("v2", ConnectionConfig()), V2Link)


def test_one_executions_subscription_serves_both_channels() -> None:
    link = open_v2_link()
    assert "V2Link" in repr(link)
    assert link.subscription_state("ownTrades") is SubscriptionState.UNSUBSCRIBED
    trades_id = link.send(Subscribe(name="ownTrades", snapshot=False), NOW)
    orders_id = link.send(Subscribe(name="openOrders", ratecounter=True), NOW)
    assert trades_id < 0
    assert orders_id < 0
    assert trades_id != orders_id
    with pytest.raises(LocalProtocolError, match="already subscribed"):
        link.send(Subscribe(name="ownTrades"), NOW)
    (request,) = sent(link)
    assert request["method"] == "subscribe"
    assert request["params"]["channel"] == "executions"
    assert request["params"]["snap_orders"] is True
    assert request["params"]["snap_trades"] is False
    assert "ratecounter" not in request["params"]  # only the first subscribe's options
    assert link.subscription_state("openOrders") is SubscriptionState.PENDING
    link.receive_message(ack(request["req_id"]), NOW)
    ended = link.events_received()
    assert [type(e) for e in ended] == [RequestCompleted, RequestCompleted]
    assert {e.reqid for e in ended if isinstance(e, RequestCompleted)} == {trades_id, orders_id}
    assert link.subscription_state("ownTrades") is SubscriptionState.ACTIVE
    assert (link.state, link.should_close, link.token_state) == (
        link.state,
        False,
        TokenState.BOUND,
    )


def test_a_snapshot_becomes_an_openorders_and_an_owntrades_snapshot() -> None:
    link, _ = subscribed_link("openOrders", "ownTrades")
    link.receive_message(executions("snapshot", 1, OPEN, TRADE), NOW)
    orders, trades = link.events_received()
    assert isinstance(orders, ChannelSnapshot)
    assert isinstance(orders.event, OpenOrders)
    assert [txid for txid, _ in orders.event.orders] == [OID]
    assert isinstance(trades, ChannelSnapshot)
    assert isinstance(trades.event, OwnTrades)
    assert [tid for tid, _ in trades.event.trades] == ["TGBB7L-HT5LX-J3BZ4A"]


def test_no_trade_snapshot_when_owntrades_asked_for_none() -> None:
    link = open_v2_link()
    link.send(Subscribe(name="openOrders"), NOW)
    link.send(Subscribe(name="ownTrades", snapshot=False), NOW)
    (request,) = sent(link)
    assert request["params"]["snap_trades"] is True  # openOrders came first
    link.receive_message(ack(request["req_id"]), NOW)
    link.events_received()
    link.receive_message(executions("snapshot", 1, OPEN, TRADE), NOW)
    (orders,) = link.events_received()
    assert isinstance(orders.event, OpenOrders)  # type: ignore[attr-defined]


def test_updates_status_from_exec_type_only() -> None:
    link, _ = subscribed_link("openOrders", "ownTrades")
    link.receive_message(executions("snapshot", 1), NOW)
    link.events_received()
    link.receive_message(executions("update", 2, TRADE), NOW)
    orders, trades = link.events_received()
    assert isinstance(orders, ChannelUpdate)
    assert isinstance(orders.event, OpenOrders)
    ((_, record),) = orders.event.orders
    assert record.status is None  # "partially_filled" is not a status change
    assert record.vol_exec == Decimal("0.005")
    assert isinstance(trades, ChannelUpdate)
    assert isinstance(trades.event, OwnTrades)
    link.receive_message(executions("update", 3, FILLED), NOW)
    (closed,) = link.events_received()
    assert isinstance(closed, ChannelUpdate)
    assert isinstance(closed.event, OpenOrders)
    assert closed.event.orders[0][1].status == "closed"


def test_only_the_channels_asked_for_are_delivered() -> None:
    link, _ = subscribed_link("ownTrades")
    link.receive_message(executions("snapshot", 1, OPEN), NOW)
    (trades,) = link.events_received()
    assert isinstance(trades.event, OwnTrades)  # type: ignore[attr-defined]
    link.receive_message(executions("update", 2, OPEN), NOW)
    assert link.events_received() == []  # an order change, and no openOrders wanted
    link.receive_message(executions("update", 3, TRADE), NOW)
    (fill,) = link.events_received()
    assert isinstance(fill, ChannelUpdate)
    assert isinstance(fill.event, OwnTrades)
    link.receive_message(executions("update", 4, {**TRADE, "exec_id": None}), NOW)
    assert link.events_received() == []  # a trade without an exec_id is no fill
    orders_link, _ = subscribed_link("openOrders")
    orders_link.receive_message(executions("snapshot", 1), NOW)
    orders_link.events_received()
    orders_link.receive_message(executions("update", 2, {"exec_type": "trade"}), NOW)
    assert orders_link.events_received() == []  # nothing with an order_id


@pytest.mark.parametrize(
    ("names", "expected_returns"),
    [
        (("openOrders",), ["Executions", "Executions", "NoneType", "NoneType", "NoneType"]),
        (
            ("openOrders", "ownTrades"),
            ["Executions", "tuple", "NoneType", "NoneType", "NoneType"],
        ),
        (("ownTrades",), ["NoneType", "OwnTrades", "NoneType", "NoneType", "NoneType"]),
    ],
)
def test_receive_data_returns_the_usual_order_update_as_events_received_would(
    names: tuple[str, ...], expected_returns: list[str]
) -> None:
    """The session's per-frame path: an in-sequence executions update comes back as what
    ``events_received`` would report: the push itself for its ``OpenOrders`` (what
    ``v2.open_orders`` makes of it), its ``OwnTrades``, or both as a pair in that order;
    anything else is reported there."""
    fast, _ = subscribed_link(*names)
    slow, _ = subscribed_link(*names)
    for link in (fast, slow):
        link.receive_message(executions("snapshot", 1), NOW)
        link.events_received()
    pushes = [
        executions("update", 2, OPEN),  # an order change only
        executions("update", 3, TRADE),  # with a fill: two v1 frames
        executions("update", 4, {"exec_type": "trade"}),  # no order_id: nothing to report
        executions("update", 6, FILLED),  # after a gap
        frame(channel="heartbeat"),
    ]
    returns: list[str] = []
    for push in pushes:
        returned = fast.receive_data(push, NOW)
        slow.receive_message(push, NOW)
        expected = slow.events_received()
        if returned is None:
            assert fast.events_received() == expected
        else:
            frames: list[Executions | OpenOrders | OwnTrades] = (
                list(returned) if isinstance(returned, tuple) else [returned]
            )
            v1_frames = [
                open_orders(item) if isinstance(item, Executions) else item for item in frames
            ]
            assert expected == [ChannelUpdate(event=item) for item in v1_frames]
            assert fast.events_received() == []
            assert fast.data_to_send() == []
        returns.append(type(returned).__name__)
    assert returns == expected_returns


def test_a_channel_asked_for_after_the_snapshot_fails_and_one_before_it_completes() -> None:
    link = open_v2_link()
    link.send(Subscribe(name="ownTrades"), NOW)
    (request,) = sent(link)
    link.receive_message(ack(request["req_id"]), NOW)
    link.events_received()
    early = link.send(Subscribe(name="openOrders"), NOW)  # acked, but no snapshot yet
    (completed,) = link.events_received()
    assert isinstance(completed, RequestCompleted)
    assert completed.reqid == early
    assert sent(link) == []
    late_link, _ = subscribed_link("ownTrades")
    late_link.receive_message(executions("snapshot", 1, TRADE), NOW)
    late_link.events_received()
    late = late_link.send(Subscribe(name="openOrders"), NOW)
    (failed,) = late_link.events_received()
    assert isinstance(failed, RequestFailed)
    assert failed.reqid == late
    assert "snapshot" in failed.error.text
    assert late_link.subscription_state("openOrders") is SubscriptionState.FAILED
    late_link.receive_message(executions("update", 2, OPEN, TRADE), NOW)
    (only_trades,) = late_link.events_received()
    assert isinstance(only_trades.event, OwnTrades)  # type: ignore[attr-defined]


def test_a_sequence_gap_is_reported_for_both_channels() -> None:
    link, _ = subscribed_link("ownTrades", "openOrders")
    link.receive_message(executions("snapshot", 1), NOW)
    link.events_received()
    link.receive_message(executions("update", 5, TRADE), NOW)
    events = link.events_received()
    gaps = [e for e in events if isinstance(e, SequenceGap)]
    assert [(g.channel, g.expected, g.got) for g in gaps] == [
        ("ownTrades", 2, 5),
        ("openOrders", 2, 5),
    ]
    updates = [e for e in events if isinstance(e, ChannelUpdate)]
    assert updates
    assert all(u.after_gap for u in updates)


def test_status_balances_heartbeats_and_raw_replies() -> None:
    link = open_v2_link()
    link.receive_message(
        frame(
            channel="status",
            type="update",
            data=[{"system": "online", "version": "2.0.10", "connection_id": 7}],
        ),
        NOW,
    )
    link.receive_message(frame(channel="status", type="update", data=[]), NOW)
    link.receive_message(frame(channel="heartbeat"), NOW)
    assert link.events_received() == [
        SystemStatus(status="online", connection_id=7, version="2.0.10"),
        SystemStatus(status="unknown"),
    ]
    assert link.system_status is None
    link.send(Subscribe(name="ownTrades"), NOW)
    (request,) = sent(link)
    link.receive_message(ack(request["req_id"]), NOW)
    balances = link._conn.send(v2.Subscribe(channel="balances"), NOW)
    link.receive_message(ack(balances, "balances"), NOW)
    link.receive_message(
        frame(channel="balances", type="snapshot", sequence=1, data=[{"asset": "USD"}]), NOW
    )
    events = link.events_received()
    # The balances subscribe ends as the connection's own requests do, and its snapshot is
    # passed on as v2 sent it (the session makes it a BalancesReceived; issue 19).
    assert [type(e) for e in events] == [RequestCompleted, RequestCompleted, ChannelSnapshot]
    assert isinstance(events[2], ChannelSnapshot)
    assert isinstance(events[2].event, v2.Balances)


def test_trading_requests_end_with_the_v1_request_and_v1_replies() -> None:
    link = open_v2_link()
    order = limit(cl_ord_id=CLID)
    reqid = link.send(order, NOW)
    (request,) = sent(link)
    assert request["method"] == "add_order"
    assert request["req_id"] == reqid
    assert request["params"]["symbol"] == "BTC/USD"
    link.receive_message(
        frame(method="add_order", req_id=reqid, success=True, result={"order_id": OID}), NOW
    )
    (completed,) = link.events_received()
    assert isinstance(completed, RequestCompleted)
    assert completed.request is order
    assert completed.replies == (AddOrderStatus(status="ok", reqid=reqid, txid=OID),)
    refused = link.send(CancelOrder(txid=(OID,)), NOW)
    assert [m["method"] for m in sent(link)] == ["cancel_order"]
    link.receive_message(
        frame(method="cancel_order", req_id=refused, success=False, error="EOrder:Unknown order"),
        NOW,
    )
    (failed,) = link.events_received()
    assert isinstance(failed, RequestFailed)
    assert failed.request == CancelOrder(txid=(OID,))
    assert failed.error.text == "EOrder:Unknown order"
    with pytest.raises(LocalProtocolError, match="leverage"):
        link.send(limit(leverage=3), NOW)
    assert sent(link) == []  # refused before anything was queued


def test_timed_out_lost_and_late_replies() -> None:
    link = open_v2_link(ConnectionConfig(request_timeout=5.0))
    order = limit(cl_ord_id=CLID)
    reqid = link.send(order, NOW)
    link.data_to_send()
    assert link.next_deadline() == NOW + 5.0
    link.handle_timeout(NOW + 5.0)
    events = link.events_received()
    timed_out = [e for e in events if isinstance(e, RequestTimedOut)]
    assert [(e.reqid, e.request) for e in timed_out] == [(reqid, order)]
    link.receive_message(
        frame(method="add_order", req_id=reqid, success=True, result={"order_id": OID}), NOW + 6
    )
    (late,) = [e for e in link.events_received() if isinstance(e, LateReply)]
    assert late.request is order
    assert late.reply == AddOrderStatus(status="ok", reqid=reqid, txid=OID)
    other = link._conn.send(v2.Ping(), NOW + 6)  # the connection's own, timed out
    link.handle_timeout(NOW + 12)
    link.receive_message(frame(method="pong", req_id=other), NOW + 12)
    late_own = [e for e in link.events_received() if isinstance(e, LateReply)]
    assert [e.reqid for e in late_own] == [other]
    lost = link.send(CancelAll(), NOW + 12)
    link.close(NOW + 12)
    link.connection_lost(NOW + 12)
    (gone,) = [e for e in link.events_received() if isinstance(e, RequestLost)]
    assert (gone.reqid, gone.request) == (lost, CancelAll())


# --- the session over v2 ------------------------------------------------------------------


def test_session_config_protocol() -> None:
    assert SessionConfig().protocol == "v1"
    with pytest.raises(LocalProtocolError, match="protocol"):
        SessionConfig(protocol="v3")


def v2_wire(**subscribe: Any) -> Wire:
    wire = Wire(config=SessionConfig(protocol="v2"))
    session = wire.session
    session.start(wire.now)
    session.subscribe(Subscribe(name="ownTrades", **subscribe), wire.now)
    session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    wire.settle(60)
    assert session.state is SessionState.LIVE
    assert isinstance(session.connection, V2Link)
    return wire


def test_the_session_trades_over_v2_with_the_same_calls_and_events() -> None:
    wire = v2_wire()
    session = wire.session
    handle = session.submit(
        AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal("0.25")), wire.now
    )
    wire.pump()
    wire.advance(1.0)
    (outcome,) = [e for e in wire.events if isinstance(e, RequestAccepted)]
    assert outcome.handle == handle
    assert outcome.txid is not None
    assert isinstance(outcome.replies[0], AddOrderStatus)
    fills = [e for e in wire.events if isinstance(e, FillReceived)]
    assert {f.trade_id for f in fills} == set(wire.exchange.fills())
    assert all(f.source == "live" for f in fills)
    order = session.orders.get(outcome.txid)
    assert order is not None
    assert order.status == "closed"
    assert order.vol_exec == Decimal("0.25")


def test_an_add_order_lost_with_its_connection_is_reconciled_not_resent() -> None:
    wire = v2_wire()
    session = wire.session
    sid = wire.current_sid()
    assert sid is not None
    wire.exchange.faults(sid).drop_after_request = 1
    handle = session.submit(
        AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal("0.25")), wire.now
    )
    wire.pump()
    wire.settle(120)
    (outcome,) = [e for e in wire.events if isinstance(e, RequestApplied)]
    assert outcome.handle == handle
    placed = [o for o in wire.exchange.orders().values() if o.cl_ord_id]
    assert len(placed) == 1
    assert outcome.txid == placed[0].txid
    delivered = [e.trade_id for e in wire.events if isinstance(e, FillReceived)]
    assert sorted(delivered) == sorted(wire.exchange.fills())


def test_adding_a_channel_after_the_snapshot_reconnects_to_subscribe_both() -> None:
    wire = Wire(config=SessionConfig(protocol="v2"))
    session = wire.session
    session.start(wire.now)
    session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.pump()
    wire.settle(60)
    first = session.connection_attempts
    session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    wire.settle(60)
    assert session.state is SessionState.LIVE
    assert session.connection_attempts == first + 1
    link = session.connection
    assert isinstance(link, V2Link)
    assert link.subscription_state("openOrders") is SubscriptionState.ACTIVE


def test_token_and_other_connection_news_pass_through() -> None:
    link = open_v2_link()
    reqid = link.send(CancelAll(), NOW)
    link.receive_message(
        frame(method="cancel_all", req_id=reqid, success=False, error="EAPI:Invalid token"), NOW
    )
    kinds = [type(e).__name__ for e in link.events_received()]
    assert kinds == ["TokenRejected", "RequestFailed"]
    unknown = v2.decode('{"method":"something_new","req_id":3,"error":"EGeneral:Whatever"}')
    assert to_v1_reply(unknown, 3) is unknown


# --- batch_add ------------------------------------------------------------------------------


def two_rows(**fields: Any) -> list[AddOrder]:
    return [
        limit(cl_ord_id="row-a", **fields),
        limit(cl_ord_id="row-b", price=Decimal("26400"), **fields),
    ]


def batch_reply(req_id: int, result: Any, **fields: Any) -> str:
    return frame(method="batch_add", req_id=req_id, result=result, **{"success": True, **fields})


def test_a_batch_goes_out_as_one_batch_add_and_ends_row_by_row() -> None:
    link = open_v2_link()
    rows = two_rows(deadline="2023-11-14T22:13:25.000Z")
    ids = link.send_batch(rows, NOW)
    assert len(ids) == 2
    assert all(i < 0 for i in ids)
    (request,) = sent(link)
    assert request["method"] == "batch_add"
    assert request["params"]["symbol"] == "BTC/USD"
    assert request["params"]["deadline"] == "2023-11-14T22:13:25.000Z"
    assert [o["cl_ord_id"] for o in request["params"]["orders"]] == ["row-a", "row-b"]
    assert all("deadline" not in o for o in request["params"]["orders"])
    # A partly placed batch: the second row was refused on its own (rows matched by cl_ord_id).
    link.receive_message(
        batch_reply(
            request["req_id"],
            [
                {"cl_ord_id": "row-b", "error": "EOrder:Insufficient funds"},
                {"cl_ord_id": "row-a", "order_id": "OAAAAA-AAAAA-AAAAAA"},
            ],
            success=False,
        ),
        NOW,
    )
    placed, refused = link.events_received()
    assert isinstance(placed, RequestCompleted)
    assert (placed.reqid, placed.request) == (ids[0], rows[0])
    assert placed.replies == (
        AddOrderStatus(status="ok", reqid=ids[0], txid="OAAAAA-AAAAA-AAAAAA", cl_ord_id="row-a"),
    )
    assert isinstance(refused, RequestFailed)
    assert (refused.reqid, refused.request) == (ids[1], rows[1])
    assert refused.error.text == "EOrder:Insufficient funds"


def test_batch_rows_by_position_a_whole_refusal_and_a_row_left_out() -> None:
    link = open_v2_link()
    rows = [limit(), limit(price=Decimal("26400"))]
    ids = link.send_batch(rows, NOW)
    (request,) = sent(link)
    link.receive_message(batch_reply(request["req_id"], [{"order_id": "O1"}]), NOW)
    placed, unknown = link.events_received()
    assert isinstance(placed, RequestCompleted)
    assert placed.replies[0].txid == "O1"  # type: ignore[attr-defined]
    assert isinstance(unknown, RequestTimedOut)  # not in the reply: reconcile it
    assert unknown.reqid == ids[1]
    link.send_batch(rows, NOW)
    (request,) = sent(link)
    link.receive_message(
        frame(
            method="batch_add",
            req_id=request["req_id"],
            success=False,
            error="EGeneral:Invalid arguments",
        ),
        NOW,
    )
    events = link.events_received()
    assert [type(e) for e in events] == [RequestFailed, RequestFailed]
    assert all(e.error.text == "EGeneral:Invalid arguments" for e in events)  # type: ignore[attr-defined]
    link.send_batch(rows, NOW)
    (request,) = sent(link)
    link.receive_message(batch_reply(request["req_id"], [{"success": True}, {}]), NOW)
    assert [type(e) for e in link.events_received()] == [RequestTimedOut, RequestTimedOut]


def test_a_batch_timed_out_then_answered_late_and_one_lost() -> None:
    link = open_v2_link(ConnectionConfig(request_timeout=5.0))
    rows = two_rows()
    ids = link.send_batch(rows, NOW)
    (request,) = sent(link)
    link.handle_timeout(NOW + 5)
    timed_out = [e for e in link.events_received() if isinstance(e, RequestTimedOut)]
    assert [(e.reqid, e.request) for e in timed_out] == list(zip(ids, rows, strict=True))
    link.receive_message(
        batch_reply(request["req_id"], [{"cl_ord_id": "row-a", "order_id": "O1"}]), NOW + 6
    )
    (late,) = [e for e in link.events_received() if isinstance(e, LateReply)]
    assert (late.reqid, late.request) == (ids[0], rows[0])
    lost_ids = link.send_batch(rows, NOW + 6)
    link.connection_lost(NOW + 6)
    lost = [e for e in link.events_received() if isinstance(e, RequestLost)]
    assert [e.reqid for e in lost] == list(lost_ids)


def test_a_batch_needs_one_deadline_and_one_validate() -> None:
    link = open_v2_link()
    with pytest.raises(LocalProtocolError, match="deadline"):
        link.send_batch([limit(deadline="2023-11-14T22:13:25.000Z"), limit()], NOW)
    with pytest.raises(LocalProtocolError, match="validate"):
        link.send_batch([limit(validate=True), limit()], NOW)
    link.send_batch([limit(validate=True), limit(validate=True)], NOW)
    (request,) = sent(link)
    assert request["params"]["validate"] is True


def test_submit_batch_refuses_bad_batches_before_queueing() -> None:
    wire = Wire(config=SessionConfig(protocol="v2"))
    session = wire.session
    with pytest.raises(LocalProtocolError, match="2 to 15"):
        session.submit_batch([limit()], wire.now)
    with pytest.raises(LocalProtocolError, match="AddOrder rows"):
        session.submit_batch([limit(), CancelAll()], wire.now)  # type: ignore[list-item]
    with pytest.raises(LocalProtocolError, match="one pair"):
        session.submit_batch([limit(), limit(pair="ETH/USD")], wire.now)
    with pytest.raises(LocalProtocolError, match="userref"):
        session.submit_batch([limit(), limit(userref=3)], wire.now)
    assert session.pending() == {}


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_a_batch_lost_with_its_connection_is_reconciled_row_by_row(protocol: str) -> None:
    wire = Wire(config=SessionConfig(protocol=protocol))
    session = wire.session
    session.start(wire.now)
    session.subscribe(Subscribe(name="ownTrades"), wire.now)
    session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.pump()
    wire.settle(60)
    sid = wire.current_sid()
    assert sid is not None
    wire.exchange.faults(sid).drop_after_request = 1
    market = AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal("0.01"))
    resting = AddOrder(
        ordertype="limit", type="buy", pair="XBT/USD", volume=Decimal("0.01"), price=Decimal("1000")
    )
    handles = session.submit_batch([market, resting], wire.now)
    wire.pump()
    wire.settle(120)
    outcomes = {e.handle: e for e in wire.events if isinstance(e, RequestOutcome)}
    assert set(outcomes) == set(handles)
    placed = {o.cl_ord_id: o.txid for o in wire.exchange.orders().values() if o.cl_ord_id}
    for handle in handles:
        outcome = outcomes[handle]
        assert isinstance(outcome.request, AddOrder)
        if isinstance(outcome, RequestApplied | RequestAccepted):
            assert outcome.txid == placed[outcome.request.cl_ord_id or ""]
        else:
            # v1 sends the rows one by one: the drop came before the second was received.
            assert isinstance(outcome, RequestNotApplied)
            assert outcome.request.cl_ord_id not in placed
    if protocol == "v2":
        # Both rows went out in one batch_add; its reply was lost, so each row was looked up.
        assert all(isinstance(outcomes[h], RequestApplied) for h in handles)
        assert len(placed) == 2
    delivered = [e.trade_id for e in wire.events if isinstance(e, FillReceived)]
    truth = wire.exchange.fills() if protocol == "v2" else wire.exchange.trades()
    assert sorted(delivered) == sorted(truth)


def test_a_batch_over_v2_refused_before_sending_refuses_every_row() -> None:
    wire = v2_wire()
    session = wire.session
    handles = session.submit_batch([limit(leverage=2), limit()], wire.now)
    refused = [e for e in session.events() if type(e).__name__ == "RequestRefused"]
    assert sorted(e.handle for e in refused) == sorted(handles)  # type: ignore[attr-defined]
    session.withdraw(handles[0], wire.now)  # ended already: nothing to withdraw
    rows = session.submit_batch([limit(price=Decimal("1000")), limit(price=Decimal("1001"))], 0)
    wire.pump()
    accepted = [e for e in wire.events if isinstance(e, RequestAccepted)]
    assert {e.handle for e in accepted} >= set(rows)


def test_timed_out_requests_are_remembered_within_late_memory() -> None:
    link = open_v2_link(ConnectionConfig(request_timeout=5.0))
    link.late_memory = 1
    first = link.send(CancelAll(), NOW)
    batch = link.send_batch(two_rows(), NOW)
    batch_req_id = sent(link)[-1]["req_id"]
    link.handle_timeout(NOW + 5)
    link.events_received()
    # Both timed out; only the newest (the batch) is still remembered for a late reply.
    link.receive_message(frame(method="cancel_all", req_id=first, success=True), NOW + 6)
    (raw,) = [e for e in link.events_received() if isinstance(e, LateReply)]
    assert isinstance(raw.request, v2.CancelAll)  # forgotten: passed on as the v2 request
    link.receive_message(
        batch_reply(batch_req_id, [{"cl_ord_id": "row-b", "order_id": "O2"}]), NOW + 6
    )
    (late,) = [e for e in link.events_received() if isinstance(e, LateReply)]
    assert late.reqid == batch[1]
    link.late_memory = 0
    link.send_batch(two_rows(), NOW + 6)
    link.handle_timeout(NOW + 12)
    assert [type(e) for e in link.events_received()].count(RequestTimedOut) == 2
    assert link._batches == {}


def test_a_push_with_a_fill_and_its_order_decides_a_doubt_and_reaches_the_user_in_order() -> None:
    """The per-frame path with both channels: one executions update holding an order's first
    record (carrying an in-doubt AddOrder's cl_ord_id) and its fill is applied as the
    orders frame, then the trades frame: the doubt is decided from the table, then the fill
    is delivered, as the reported path would do it."""
    from kraken_proto import OrdersChanged
    from kraken_proto.session._tracked import Phase, Tracked

    wire = v2_wire()
    session = wire.session
    link = session.connection
    assert isinstance(link, V2Link)
    conn = next(iter(wire.sid_of))
    request = AddOrder(
        ordertype="limit",
        type="sell",
        pair="XBT/USD",
        volume=Decimal("0.005"),
        price=Decimal("26500"),
        cl_ord_id=CLID,
    )
    doubt = Tracked(handle=77, request=request, phase=Phase.RECONCILING)
    session._requests.doubts = {77: doubt}  # its own dict: doubts start as NO_ENTRIES
    session._requests.tracked = {77: doubt}
    session.events()
    sequence = link._conn._subscriptions["executions"].next_sequence
    assert sequence is not None
    session.receive_message(conn, executions("update", sequence, OPEN, TRADE), wire.now)
    events = session.events()
    assert [type(event) for event in events] == [OrdersChanged, RequestApplied, FillReceived]
    applied = events[1]
    assert isinstance(applied, RequestApplied)
    assert (applied.handle, applied.txid, applied.via) == (77, OID, "openOrders")
    fill = events[2]
    assert isinstance(fill, FillReceived)
    assert (fill.trade_id, fill.source) == (TRADE["exec_id"], "live")
    assert session._requests.doubts == {}


def test_an_update_behind_events_not_yet_read_is_reported_after_them() -> None:
    """The per-frame path only takes an update when nothing else waits to be read: behind a
    status push the link has not handed out yet, it is reported in order, as before."""
    fast, _ = subscribed_link("openOrders", "ownTrades")
    slow, _ = subscribed_link("openOrders", "ownTrades")
    status = frame(channel="status", type="update", data=[{"system": "online"}])
    for link in (fast, slow):
        link.receive_message(executions("snapshot", 1), NOW)
        link.events_received()
        link.receive_message(status, NOW)
    assert fast.receive_data(executions("update", 2, OPEN, TRADE), NOW) is None
    slow.receive_message(executions("update", 2, OPEN, TRADE), NOW)
    reported = fast.events_received()
    assert reported == slow.events_received()
    assert [type(event) for event in reported] == [SystemStatus, ChannelUpdate, ChannelUpdate]
