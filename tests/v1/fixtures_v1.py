"""Kraken v1 frames from the protocol doc (sections 1-8) and the seed page, with their events.

``INBOUND`` pairs each server frame (``kraken_proto.testing.V1_EXAMPLES``, where the frames
live) with the event ``decode`` must return; ``OUTBOUND`` pairs each documented client frame
with the request (and ``encode`` arguments) that reproduces it. ``REAL_FRAMES`` is every
inbound frame as bytes, the seed corpus for fuzzing and mutation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Event,
    Request,
    Trade,
)
from kraken_proto.testing import V1_EXAMPLES
from kraken_proto.v1 import (
    AddOrderStatus,
    AmendOrderStatus,
    CancelAllOrdersAfterStatus,
    CancelAllStatus,
    CancelOrderStatus,
    EditOrderStatus,
    ErrorEvent,
    Heartbeat,
    OpenOrders,
    OrderDescr,
    OrderRecord,
    OwnTrades,
    Ping,
    PingStatus,
    Pong,
    Subscribe,
    SubscriptionInfo,
    SubscriptionStatus,
    SystemStatus,
    UnknownMessage,
    Unsubscribe,
)

__all__ = ["INBOUND", "OUTBOUND", "REAL_FRAMES", "D"]

D = Decimal

_REQID_ERROR = "Reqid field must be a positive integer less than 18446744073709551616"

_DOC_TRADE = Trade(
    cost=D("1000000.00000"),
    fee=D("600.00000"),
    margin=D("0.00000"),
    ordertxid="TDLH43-DVQXD-2KHVYY",
    ordertype="limit",
    pair="XBT/EUR",
    postxid="OGTT3Y-C6I3P-XRI6HX",
    price=D("100000.00000"),
    time=D("1560520332.914664"),
    type="buy",
    vol=D("1000000000.00000000"),
)
_SEED_DESCR = OrderDescr(
    close="",
    leverage="0:1",
    order="sell 0.00001000 XBT/EUR @ limit 9.00000 with 0:1 leverage",
    ordertype="limit",
    pair="XBT/EUR",
    price=D("9.00000"),
    price2=D("0.00000"),
    type="sell",
)
_SEED_ORDER: dict[str, Any] = {
    "cost": D("0.00000"),
    "descr": _SEED_DESCR,
    "expiretm": D("0.000000"),
    "fee": D("0.00000"),
    "limitprice": D("9.00000"),
    "misc": "",
    "oflags": "fcib",
    "opentm": D("0.000000"),
    "refid": "OKIVMP-5GVZN-Z2D2UA",
    "starttm": D("0.000000"),
    "status": "open",
    "stopprice": D("0.000000"),
    "userref": 0,
    "vol": D("0.00001000"),
    "vol_exec": D("0.00000000"),
}

# The full "new order" record of section 4.2 (null refid/starttm/expiretm, null leverage and
# close); the section 4.3 deltas are of the same order.
_PENDING_RECORD = OrderRecord(
    avg_price=D("0.000000"),
    cost=D("0.000000"),
    descr=OrderDescr(
        order="buy 5.00000000 ATOM/USD @ limit 9.250000",
        ordertype="limit",
        pair="ATOM/USD",
        price=D("9.250000"),
        price2=D("0.000000"),
        type="buy",
    ),
    fee=D("0.000000"),
    limitprice=D("0.000000"),
    misc="",
    oflags="fciq",
    opentm=D("1700220661.985020"),
    status="pending",
    stopprice=D("0.000000"),
    timeinforce="GTC",
    userref=0,
    vol=D("5.00000000"),
    vol_exec=D("0.00000000"),
)
_OID = "OAVY7T-MV5VK-KHDF5X"

_EXPECTED: dict[str, Event] = {
    # section 1.5
    "pong": Pong(reqid=42),
    "pong without reqid": Pong(),
    "pingStatus error echoing a string reqid": PingStatus(
        error_message=_REQID_ERROR, reqid="a", status="error"
    ),
    # section 1.6
    "error": ErrorEvent(error_message="Malformed request"),
    "error with reqid": ErrorEvent(error_message="Exceeded msg rate", reqid=42),
    "subscriptionStatus error without channelName": SubscriptionStatus(
        status="error", reqid=1, error_message="Event(s) not found"
    ),
    "unsupported event": SubscriptionStatus(
        status="error", reqid=1, error_message="Unsupported event"
    ),
    "addOrderStatus error with echoed fields": AddOrderStatus(
        status="error", error_message=_REQID_ERROR
    ),
    # section 1.7
    "openOrders ack with maxratecount": SubscriptionStatus(
        status="subscribed",
        reqid=0,
        channel_name="openOrders",
        subscription=SubscriptionInfo(name="openOrders", maxratecount=125),
    ),
    "ownTrades ack": SubscriptionStatus(
        status="subscribed",
        reqid=0,
        channel_name="ownTrades",
        subscription=SubscriptionInfo(name="ownTrades"),
    ),
    # section 1.8 (expected shapes of token and permission errors)
    "invalid session": SubscriptionStatus(status="error", error_message="ESession:Invalid session"),
    "permission denied": AddOrderStatus(status="error", error_message="EGeneral:Permission denied"),
    # section 2.2
    "unsubscribed ack": SubscriptionStatus(
        status="unsubscribed",
        channel_name="ownTrades",
        subscription=SubscriptionInfo(name="ownTrades"),
    ),
    # sections 3 and 4.1
    "empty ownTrades snapshot": OwnTrades(trades=(), sequence=1),
    "empty openOrders snapshot": OpenOrders(orders=(), sequence=1),
    "old-service empty openOrders": OpenOrders(orders=()),
    # sections 4.2 and 4.3 (shapes from the tables, one frame each)
    "new order, full pending record": OpenOrders(orders=((_OID, _PENDING_RECORD),), sequence=2),
    "goes live": OpenOrders(orders=((_OID, OrderRecord(status="open", userref=0)),), sequence=3),
    "partial fill": OpenOrders(
        orders=(
            (
                _OID,
                OrderRecord(
                    avg_price=D("9.250000"),
                    cost=D("23.125000"),
                    fee=D("0.06012"),
                    userref=0,
                    vol_exec=D("2.50000000"),
                ),
            ),
        ),
        sequence=4,
    ),
    "user cancel": OpenOrders(
        orders=(
            (
                _OID,
                OrderRecord(
                    lastupdated=D("1700220700.114325"),
                    status="canceled",
                    vol_exec=D("2.50000000"),
                    cost=D("23.125000"),
                    fee=D("0.06012"),
                    avg_price=D("9.250000"),
                    userref=0,
                    cancel_reason="User requested",
                ),
            ),
        ),
        sequence=5,
    ),
    # section 6 (REST, not a WebSocket frame: valid JSON the decoder does not know)
    "REST token reply": UnknownMessage(
        data={
            "error": [],
            "result": {"token": "1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw", "expires": 900},
        }
    ),
    "REST error": UnknownMessage(data={"error": ["EAPI:Invalid key"]}),
    # section 7 (v2 frames are not v1 messages)
    "v2 heartbeat": UnknownMessage(data={"channel": "heartbeat"}),
    "v2 status": UnknownMessage(
        data={
            "channel": "status",
            "data": [
                {
                    "api_version": "v2",
                    "connection_id": 12393906104898154338,
                    "system": "online",
                    "version": "2.0.4",
                }
            ],
            "type": "update",
        }
    ),
    "v2 cancel_all": UnknownMessage(
        data={
            "method": "cancel_all",
            "req_id": 0,
            "result": {"count": 0},
            "success": True,
            "time_in": "2024-05-19T11:42:13.815662Z",
            "time_out": "2024-05-19T11:42:13.824053Z",
        }
    ),
    "v2 executions (numbers keep their digits)": UnknownMessage(
        data={
            "channel": "executions",
            "type": "update",
            "data": [
                {
                    "order_id": "OK4GJX-KSTLS-7DZZO5",
                    "last_qty": D("0.005"),
                    "last_price": D("26599.9"),
                }
            ],
            "sequence": 10,
        }
    ),
    # section 8
    "systemStatus": SystemStatus(
        status="online", connection_id=8628615390848610000, version="1.9.1"
    ),
    "systemStatus with a connectionID above 2**63": SystemStatus(
        status="online", connection_id=14950811667203285981, version="1.9.0"
    ),
    "heartbeat": Heartbeat(),
    "ownTrades ack without reqid": SubscriptionStatus(
        status="subscribed",
        channel_name="ownTrades",
        subscription=SubscriptionInfo(name="ownTrades"),
    ),
    "openOrders ack reqid 1": SubscriptionStatus(
        status="subscribed",
        reqid=1,
        channel_name="openOrders",
        subscription=SubscriptionInfo(name="openOrders", maxratecount=125),
    ),
    "ownTrades": OwnTrades(trades=(("TDLH43-DVQXD-2KHVYY", _DOC_TRADE),), sequence=2948),
    "openOrders with a repeated id": OpenOrders(
        orders=(
            ("OGTT3Y-C6I3P-XRI6HX", OrderRecord(status="closed")),
            ("OGTT3Y-C6I3P-XRI6HX", OrderRecord(status="closed")),
        ),
        sequence=59342,
    ),
    "addOrderStatus ok": AddOrderStatus(
        status="ok", descr="buy 0.01770000 XBTUSD @ limit 4000", txid="ONPNXH-KMKMU-F4MR5V"
    ),
    "addOrderStatus error": AddOrderStatus(
        status="error", error_message="EOrder:Order minimum not met"
    ),
    "editOrderStatus": EditOrderStatus(
        status="ok",
        reqid=3,
        descr="order edited price = 9000.00000000",
        originaltxid="O65KZW-J4AW3-VFS74A",
        txid="OTI672-HJFAO-XOIPPK",
    ),
    "amendOrderStatus": AmendOrderStatus(
        status="ok",
        amend_id="TGS4UP-DP6E3-YO3KFN",
        cl_ord_id="906bcc85-1866-4b4b-9d0d-880bbcbe7447",
    ),
    "cancelOrderStatus": CancelOrderStatus(status="ok"),
    "cancelAllStatus": CancelAllStatus(status="ok", count=2),
    "cancelAllOrdersAfterStatus armed": CancelAllOrdersAfterStatus(
        status="ok",
        reqid=1608543428050,
        current_time="2020-12-21T09:37:09Z",
        trigger_time="2020-12-21T09:38:09Z",
    ),
    "cancelAllOrdersAfterStatus disarmed": CancelAllOrdersAfterStatus(
        status="ok", reqid=1608543428051, current_time="2020-12-21T09:37:09Z", trigger_time="0"
    ),
    # section 8's copies of the seed examples (no sequence element)
    "seed ownTrades (doc copy)": OwnTrades(trades=(("TDLH43-DVQXD-2KHVYY", _DOC_TRADE),)),
    "seed openOrders (doc copy)": OpenOrders(
        orders=(("OGTT3Y-C6I3P-XRI6HX", OrderRecord(**_SEED_ORDER)),)
    ),
    # the seed page itself, pretty-printed as published (its openOrders record also has price)
    "seed page ownTrades": OwnTrades(trades=(("TDLH43-DVQXD-2KHVYY", _DOC_TRADE),)),
    "seed page openOrders": OpenOrders(
        orders=(("OGTT3Y-C6I3P-XRI6HX", OrderRecord(**_SEED_ORDER, price=D("9.00000"))),)
    ),
    "seed page addOrderStatus": AddOrderStatus(
        status="ok", descr="buy 0.01770000 XBTUSD @ limit 4000", txid="ONPNXH-KMKMU-F4MR5V"
    ),
    "seed page cancelOrderStatus": CancelOrderStatus(status="ok"),
}

INBOUND: list[tuple[str, str, Event]] = [
    (frame, description, _EXPECTED[description]) for description, frame in V1_EXAMPLES
]
"""(frame, description, expected event) for every example frame, in the examples' order."""

_ZERO_TOKEN = "0000000000000000000000000000000000000000"
_DOC_TOKEN = "WW91ciBhdXRoZW50aWNhdGlvbiB0b2tlbiBnb2VzIGhlcmUu"

# (expected JSON text, description, request, encode keyword arguments)
OUTBOUND: list[tuple[str, str, Request, dict[str, Any]]] = [
    ('{"event":"ping","reqid":42}', "ping", Ping(), {"reqid": 42}),
    (
        '{"event":"subscribe","subscription":{"name":"ownTrades","token":"' + _DOC_TOKEN + '"}}',
        "subscribe ownTrades",
        Subscribe(name="ownTrades"),
        {"token": _DOC_TOKEN},
    ),
    (
        '{"event":"subscribe","subscription":{"name":"openOrders","ratecounter":true,"token":"'
        + _DOC_TOKEN
        + '"}}',
        "subscribe openOrders with ratecounter",
        Subscribe(name="openOrders", ratecounter=True),
        {"token": _DOC_TOKEN},
    ),
    (
        '{"event":"subscribe", "subscription":{"name":"openOrders", '
        '"token":"WOg6IVQ5RfogMzkhH25WOg6IVQ5RqhP+U3ZprQVnh7f"}}',
        "subscribe openOrders (support article)",
        Subscribe(name="openOrders"),
        {"token": "WOg6IVQ5RfogMzkhH25WOg6IVQ5RqhP+U3ZprQVnh7f"},
    ),
    (
        '{"event":"unsubscribe","reqid":7,"subscription":{"name":"ownTrades","token":"'
        + _DOC_TOKEN
        + '"}}',
        "unsubscribe (section 2.2 template)",
        Unsubscribe(name="ownTrades"),
        {"token": _DOC_TOKEN, "reqid": 7},
    ),
    (
        '{"event":"addOrder","ordertype":"limit","pair":"XBT/USD","price":"9000","token":"'
        + _ZERO_TOKEN
        + '","type":"buy","volume":"10.123"}',
        "addOrder",
        AddOrder(
            ordertype="limit", type="buy", pair="XBT/USD", price=D("9000"), volume=D("10.123")
        ),
        {"token": _ZERO_TOKEN},
    ),
    (
        '{"event":"editOrder","newuserref":"666","oflags":"","orderid":"O26VH7-COEPR-YFYXLK",'
        '"pair":"XBT/USD","price":"9000","reqid":3,"token":"' + _ZERO_TOKEN + '"}',
        "editOrder",
        EditOrder(
            orderid="O26VH7-COEPR-YFYXLK",
            pair="XBT/USD",
            price=D("9000"),
            oflags=frozenset(),
            newuserref=666,
        ),
        {"token": _ZERO_TOKEN, "reqid": 3},
    ),
    (
        '{"event":"amendOrder","token":"AxBH/MuD3MyJWjkiViDd1FLPoinFBC8MHQg0/952jKE",'
        '"txid":"OB54AL-OBWL7-YOYRZI","volume":"0.011"}',
        "amendOrder",
        AmendOrder(txid="OB54AL-OBWL7-YOYRZI", volume=D("0.011")),
        {"token": "AxBH/MuD3MyJWjkiViDd1FLPoinFBC8MHQg0/952jKE"},
    ),
    (
        '{"event":"cancelOrder","token":"' + _ZERO_TOKEN + '",'
        '"txid":["OGTT3Y-C6I3P-XRI6HX","OGTT3Y-C6I3P-X2I6HX"]}',
        "cancelOrder",
        CancelOrder(txid=("OGTT3Y-C6I3P-XRI6HX", "OGTT3Y-C6I3P-X2I6HX")),
        {"token": _ZERO_TOKEN},
    ),
    (
        '{"event":"cancelAll","token":"' + _ZERO_TOKEN + '"}',
        "cancelAll",
        CancelAll(),
        {"token": _ZERO_TOKEN},
    ),
    (
        '{"event":"cancelAllOrdersAfter","reqid":1608543428050,"timeout":60,"token":"'
        + _ZERO_TOKEN
        + '"}',
        "cancelAllOrdersAfter",
        CancelAllOrdersAfter(timeout=60),
        {"token": _ZERO_TOKEN, "reqid": 1608543428050},
    ),
]

REAL_FRAMES: tuple[bytes, ...] = tuple(frame.encode() for frame, _, _ in INBOUND)
