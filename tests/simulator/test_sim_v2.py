"""The simulator's v2 face, driven by ``V2Connection``: in memory against the pure exchange
model (every method and channel, the faults), and once over loopback on ``/v2``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import trio
from kraken_proto.adapters.simulator.model._v2 import v2_asset, v2_symbol
from kraken_proto.adapters.simulator.server import open_simulator
from kraken_proto.v1 import (
    ChannelSnapshot,
    ChannelUpdate,
    RequestCompleted,
    RequestFailed,
    SequenceGap,
)
from kraken_proto.v2 import (
    AddOrder,
    AddOrderReply,
    AmendOrder,
    Balances,
    BatchAdd,
    BatchAddReply,
    BatchCancel,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    Conditional,
    EditOrder,
    Event,
    Executions,
    Heartbeat,
    MethodReply,
    Ping,
    Pong,
    Status,
    Subscribe,
    Triggers,
    UnknownMessage,
    Unsubscribe,
    V2Connection,
    V2ConnectionConfig,
    decode,
)
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Message, Request, TextMessage

from tests.simulator.test_sim_exchange import Harness
from tests.simulator.test_sim_server import _connect, fetch_token

D = Decimal
SYMBOL = "BTC/USD"


def limit(side: str = "buy", price: str = "29000.0", qty: str = "0.5", **fields: Any) -> AddOrder:
    return AddOrder(
        order_type="limit",
        side=side,  # type: ignore[arg-type]
        symbol=SYMBOL,
        order_qty=D(qty),
        limit_price=D(price),
        **fields,
    )


class V2Harness:
    """A pure exchange model and a ``V2Connection``, frames moved by hand at explicit times."""

    def __init__(self, harness: Harness | None = None) -> None:
        self.h = harness or Harness()
        self.ex = self.h.ex
        self.session = self.ex.open_session(self.h.now, protocol="v2")
        self.conn = V2Connection(V2ConnectionConfig(request_timeout=30.0))
        self.conn.connection_made(self.h.now)
        self.conn.provide_token(self.h.token(), self.h.now)
        self.raw: list[str] = []

    def pump(self) -> list[Event]:
        for text in self.conn.data_to_send():
            self.ex.receive(self.session, text, self.h.now)
        frames = self.ex.take_outgoing(self.session, self.h.now)
        self.raw = frames
        for text in frames:
            assert not isinstance(decode(text), UnknownMessage), text
            self.conn.receive_message(text, self.h.now)
        return self.conn.events_received()

    def send(self, request: Any) -> list[Event]:
        self.conn.send(request, self.h.now)
        return self.pump()

    def raw_send(self, text: str) -> list[Event]:
        self.ex.receive(self.session, text, self.h.now)
        return [decode(frame) for frame in self.ex.take_outgoing(self.session, self.h.now)]

    def subscribed(self, *requests: Subscribe) -> list[Event]:
        events: list[Event] = []
        for request in requests:
            events += self.send(request)
        return events


def of(events: list[Event], kind: Any) -> list[Any]:
    return [event for event in events if isinstance(event, kind)]


def executions(events: list[Event]) -> list[Any]:
    return [
        record
        for event in of(events, ChannelSnapshot | ChannelUpdate)
        if isinstance(event.event, Executions)
        for record in event.event.data
    ]


def ended(events: list[Event]) -> Any:
    (ending,) = of(events, RequestCompleted | RequestFailed)
    return ending


def test_names_and_greeting() -> None:
    assert v2_symbol("XBT/USD") == "BTC/USD"
    assert v2_asset("ETH") == "ETH"
    h = V2Harness()
    (status,) = h.pump()
    assert isinstance(status, Status)
    assert status.system == "online"
    assert status.data[0].api_version == "v2"


def test_snapshots_fills_and_balances_are_exact() -> None:
    h = V2Harness()
    h.pump()
    events = h.subscribed(
        Subscribe(channel="executions", snap_trades=True), Subscribe(channel="balances")
    )
    snapshots = of(events, ChannelSnapshot)
    assert [type(s.event) for s in snapshots] == [Executions, Balances]
    balances = {r.asset: r.balance for r in snapshots[1].event.data}
    assert balances["BTC"] == D(1000)
    events = h.send(limit(cl_ord_id="my-1"))
    reply = of(events, AddOrderReply)[0]
    assert reply.ok
    assert reply.result is not None
    order_id = reply.result.order_id
    assert [r.exec_type for r in executions(events)] == ["pending_new", "new"]
    assert executions(events)[0].limit_price == D("29000.0")
    h.h.move("XBT/USD", "28900")
    events = h.pump()
    records = executions(events)
    assert [r.exec_type for r in records][-1] == "filled"
    trades = [r for r in records if r.exec_type == "trade"]
    assert all(t.order_status == "partially_filled" for t in trades)
    fills = {t.exec_id: t for t in trades}
    model = h.ex.fills()
    assert set(fills) <= set(model)
    for trade_id, record in fills.items():
        assert record.last_qty == model[trade_id].vol
        assert record.last_price == model[trade_id].price
        assert record.fees[0].qty == model[trade_id].fee
        assert record.order_id == order_id
        assert record.cl_ord_id == "my-1"
    assert sum(t.last_qty for t in trades) == D("0.5")
    ledger = [
        r for e in of(events, ChannelUpdate) if isinstance(e.event, Balances) for r in e.event.data
    ]
    assert {r.ref_id for r in ledger} == set(fills)
    assert ledger[-1].balance == h.ex.balances()["USD"]
    assert not of(events, SequenceGap)
    # a reconnect's snapshot holds the fills (snap_trades) and no open order
    h2 = V2Harness(h.h)
    h2.pump()
    snap = of(h2.send(Subscribe(channel="executions", snap_trades=True)), ChannelSnapshot)[0]
    assert {r.exec_id for r in snap.event.data} == set(model)


def test_triggers_conditionals_and_market_orders() -> None:
    h = V2Harness()
    h.pump()
    h.subscribed(Subscribe(channel="executions"))
    stop = AddOrder(
        order_type="stop-loss-limit",
        side="sell",
        symbol=SYMBOL,
        order_qty=D("0.2"),
        triggers=Triggers(price=D("29500"), reference="last"),
        limit_price=D("29400"),
        time_in_force="gtc",
        order_userref=7,
    )
    events = h.send(stop)
    assert ended(events).replies[0].result.order_userref == 7
    trailing = AddOrder(
        order_type="trailing-stop",
        side="sell",
        symbol=SYMBOL,
        order_qty=D("0.1"),
        triggers=Triggers(price=D("1"), price_type="pct"),
        post_only=False,
        fee_preference="base",
    )
    assert isinstance(ended(h.send(trailing)), RequestCompleted)
    with_close = limit(
        price="31000",
        qty="0.1",
        conditional=Conditional(order_type="stop-loss", trigger_price=D("28000")),
    )
    assert isinstance(ended(h.send(with_close)), RequestCompleted)
    h.h.move("XBT/USD", "29450")
    records = executions(h.pump())
    assert "status" in [r.exec_type for r in records]  # the stop triggered
    market = AddOrder(order_type="market", side="buy", symbol=SYMBOL, order_qty=D("0.01"))
    records = executions(h.send(market))
    assert [r.exec_type for r in records][-1] == "filled"
    assert all(r.liquidity_ind == "t" for r in records if r.exec_type == "trade")
    relative = limit(
        price="29000", qty="0.1", time_in_force="gtd", expire_time="2099-01-01T00:00:00Z"
    )
    assert isinstance(ended(h.send(relative)), RequestCompleted)
    scheduled = limit(qty="0.1", effective_time="2099-01-01T00:00:00Z")
    assert isinstance(ended(h.send(scheduled)), RequestCompleted)


def test_amend_edit_and_cancels() -> None:
    h = V2Harness()
    h.pump()
    h.subscribed(Subscribe(channel="executions"))
    first = ended(h.send(limit(price="20000", cl_ord_id="a1"))).replies[0].result.order_id
    second = ended(h.send(limit(price="20001"))).replies[0].result.order_id
    events = h.send(AmendOrder(order_id=first, order_qty=D("0.4"), limit_price=D("20002")))
    assert ended(events).replies[0].result.order_id == first
    amended = [r for r in executions(events) if r.exec_type == "amended"]
    assert amended[0].order_qty == D("0.4")
    events = h.send(
        AmendOrder(cl_ord_id="a1", limit_price=D("20003"), post_only=True, symbol=SYMBOL)
    )
    assert ended(events).replies[0].result.cl_ord_id == "a1"
    events = h.send(EditOrder(order_id=second, symbol=SYMBOL, order_qty=D("0.3"), order_userref=5))
    result = ended(events).replies[0].result
    assert result.original_order_id == second
    assert result.order_id not in ("", second)
    replaced = result.order_id
    assert "canceled" in [r.exec_type for r in executions(events) if r.order_id == second]
    # cancel_order with two ids: two replies, one req_id, one ending
    events = h.send(CancelOrder(order_id=(first, "OUNKNO-WN000-000000")))
    ending = ended(events)
    assert isinstance(ending, RequestFailed)
    assert len(ending.replies) == 2
    assert {getattr(r, "req_id", None) for r in ending.replies} == {ending.reqid}
    events = h.send(CancelOrder(order_userref=(5,)))
    assert isinstance(ended(events), RequestCompleted)
    assert "canceled" in [r.exec_type for r in executions(events) if r.order_id == replaced]
    ids = [
        ended(h.send(limit(price="20000", qty="0.1"))).replies[0].result.order_id for _ in range(3)
    ]
    events = h.send(BatchCancel(orders=(ids[0], ids[1]), cl_ord_id=("nobody",)))
    assert ended(events).replies[0].result.count == 2
    events = h.send(CancelAll())
    assert ended(events).replies[0].result.count == 1
    events = h.send(CancelAllOrdersAfter(timeout=60))
    assert ended(events).replies[0].result.trigger_time != "0"
    events = h.send(CancelAllOrdersAfter(timeout=0))
    assert ended(events).replies[0].result.trigger_time == "0"


def test_batch_add_places_row_by_row() -> None:
    h = V2Harness()
    h.pump()
    h.subscribed(Subscribe(channel="executions"))
    rows = (
        limit(price="20000", qty="0.1", cl_ord_id="r1"),
        limit(price="20001", qty="0.1", cl_ord_id="r2"),
    )
    events = h.send(BatchAdd(orders=rows, deadline="2099-01-01T00:00:00.000Z"))
    reply = of(events, BatchAddReply)[0]
    assert reply.ok
    assert [row.cl_ord_id for row in reply.rows] == ["r1", "r2"]
    assert all(row.order_id for row in reply.rows)
    # validate only: nothing placed
    events = h.send(BatchAdd(orders=rows, validate=True))
    assert [row.order_id for row in of(events, BatchAddReply)[0].rows] == ["", ""]
    # one row beyond the funds: that row alone fails, its sibling is placed
    big = limit(price="20000", qty="900", order_userref=2)
    events = h.send(BatchAdd(orders=(limit(price="20000", qty="0.1", order_userref=1), big)))
    reply = of(events, BatchAddReply)[0]
    assert not reply.ok
    assert reply.rows[0].ok
    assert reply.rows[1].error == "EOrder:Insufficient funds"
    assert reply.rows[1].order_userref == 2
    assert isinstance(ended(events), RequestFailed)
    # an invalid row rejects the whole batch
    bad = AddOrder(
        order_type="iceberg",
        side="buy",
        symbol=SYMBOL,
        order_qty=D(1),
        limit_price=D(1),
        display_qty=D(1),
    )
    events = h.send(BatchAdd(orders=(limit(qty="0.1"), bad)))
    assert isinstance(ended(events), RequestFailed)
    assert of(events, BatchAddReply)[0].rows == ()


def test_errors_ping_heartbeat_and_status_changes() -> None:
    h = V2Harness()
    h.pump()
    (pong,) = of(h.send(Ping()), Pong)
    assert pong.req_id is not None
    bad_token = h.raw_send(
        json.dumps({"method": "cancel_all", "params": {"token": "nope"}, "req_id": 9})
    )
    assert isinstance(bad_token[0], MethodReply)
    assert bad_token[0].error_message == "EAPI:Invalid token"
    for text, expected in (
        ("not json", "Malformed request"),
        ('{"method":"fly","req_id":1}', "EGeneral:Invalid arguments"),
        ('{"method":"ping","req_id":"x"}', "EGeneral:Invalid arguments:req_id"),
        ('{"method":"cancel_all","params":[]}', "EGeneral:Invalid arguments"),
    ):
        (reply,) = h.raw_send(text)
        assert isinstance(reply, MethodReply | UnknownMessage)
        assert getattr(reply, "error_message", None) == expected or expected in str(reply)
    token = h.h.token()
    for params, expected in (
        ({"channel": "ticker"}, "EGeneral:Invalid arguments:channel"),
        ({"channel": "executions", "snap_orders": "yes"}, "EGeneral:Invalid arguments"),
    ):
        (reply,) = h.raw_send(
            json.dumps({"method": "subscribe", "params": {**params, "token": token}})
        )
        assert isinstance(reply, MethodReply)
        assert reply.error_message == expected
    (reply,) = h.raw_send(
        json.dumps({"method": "unsubscribe", "params": {"channel": "balances", "token": token}})
    )
    assert isinstance(reply, MethodReply)
    assert reply.error_message == "Subscription Not Found"
    h.subscribed(Subscribe(channel="balances", snapshot=False))
    (reply,) = h.raw_send(
        json.dumps({"method": "subscribe", "params": {"channel": "balances", "token": token}})
    )
    assert isinstance(reply, MethodReply)
    assert reply.error_message == "Already subscribed"
    events = h.send(
        AddOrder(
            order_type="limit", side="buy", symbol="DOGE/USD", order_qty=D(1), limit_price=D(1)
        )
    )
    assert ended(events).error.text == "EQuery:Unknown asset pair"
    for key in ("order_id", "orders"):
        method = "cancel_order" if key == "order_id" else "batch_add"
        (reply,) = h.raw_send(json.dumps({"method": method, "params": {key: "x", "token": token}}))
        assert isinstance(reply, MethodReply)
        assert not reply.ok
    (reply,) = h.raw_send(json.dumps({"method": "cancel_order", "params": {"token": token}}))
    assert isinstance(reply, MethodReply)
    assert not reply.ok
    (reply,) = h.raw_send(
        json.dumps({"method": "batch_cancel", "params": {"orders": ["a"], "token": token}})
    )
    assert isinstance(reply, MethodReply)
    assert not reply.ok
    # heartbeats while subscribed and idle; status changes reach v2 sessions as status pushes
    h.h.at(h.h.now + 5)
    h.ex.advance(h.h.now)
    assert Heartbeat() in [decode(f) for f in h.ex.take_outgoing(h.session, h.h.now)]
    h.ex.set_system_status("cancel_only", h.h.now)
    events = h.pump()
    assert of(events, Status)[0].system == "cancel_only"
    assert h.conn.system_status == "cancel_only"
    h.ex.set_system_status("maintenance", h.h.now)
    h.pump()
    (reply,) = h.raw_send(json.dumps({"method": "cancel_all", "params": {"token": token}}))
    assert isinstance(reply, MethodReply)
    assert reply.error_message == "EService:Unavailable"
    h.ex.set_system_status("online", h.h.now)
    h.pump()
    (reply,) = h.raw_send(
        json.dumps({"method": "unsubscribe", "params": {"channel": "balances", "token": token}})
    )
    assert isinstance(reply, MethodReply)
    assert reply.ok


def test_sequence_faults_are_recovered_by_resubscribing() -> None:
    h = V2Harness()
    h.pump()
    h.subscribed(Subscribe(channel="executions"))
    h.ex.faults(h.session).skip_sequence = 1
    events = h.send(limit(price="20000", qty="0.1"))
    assert len(of(events, SequenceGap)) == 1
    events = h.pump()  # the resubscription's acks and fresh snapshot
    snapshot = of(events, ChannelSnapshot)[0]
    assert len(snapshot.event.data) == 1
    h.ex.faults(h.session).repeat_sequence = 1
    events = h.send(limit(price="20000", qty="0.1"))
    assert of(events, SequenceGap)[0].got == of(events, SequenceGap)[0].expected - 1


def test_v2_over_loopback() -> None:
    async def main() -> None:
        async with open_simulator(seed=3) as sim:
            token = await fetch_token(sim)
            stream = await _connect(sim.ws_url.replace("ws://", "http://"), None)
            async with stream:
                ws = WSConnection(ConnectionType.CLIENT)
                await stream.send_all(ws.send(Request(host="localhost", target="/v2")))
                conn = V2Connection()
                events: list[Event] = []
                accepted = False

                async def step() -> None:
                    nonlocal accepted
                    with trio.fail_after(5):
                        ws.receive_data(bytes(await stream.receive_some(65536)))
                    for event in ws.events():
                        if isinstance(event, AcceptConnection):
                            accepted = True
                            conn.connection_made(trio.current_time())
                            conn.provide_token(token, trio.current_time())
                        elif isinstance(event, TextMessage):
                            conn.receive_message(event.data, trio.current_time())
                    for text in conn.data_to_send():
                        await stream.send_all(ws.send(Message(data=text)))
                    events.extend(conn.events_received())

                while not of(events, Status):
                    await step()
                assert accepted
                conn.send(Subscribe(channel="executions"), trio.current_time())
                market = AddOrder(
                    order_type="market", side="buy", symbol=SYMBOL, order_qty=D("0.01")
                )
                conn.send(market, trio.current_time())
                for text in conn.data_to_send():
                    await stream.send_all(ws.send(Message(data=text)))
                while "filled" not in [r.exec_type for r in executions(events)]:
                    await step()
                assert len(of(events, RequestCompleted)) == 2

    trio.run(main)


def test_order_status_false_sends_only_the_main_transitions() -> None:
    h = V2Harness()
    h.pump()
    h.subscribed(Subscribe(channel="executions", order_status=False))
    first = ended(h.send(limit(price="20000", qty="0.1"))).replies[0].result.order_id
    events = h.send(AmendOrder(order_id=first, order_qty=D("0.2")))
    events += h.send(CancelOrder(order_id=(first,)))
    events += h.send(AddOrder(order_type="market", side="buy", symbol=SYMBOL, order_qty=D("0.01")))
    kinds = {r.exec_type for r in executions(events)}
    assert kinds == {"new", "canceled", "trade", "filled"}
    # subscribing again with the default sends every transition
    h.send(Unsubscribe(channel="executions"))
    h.subscribed(Subscribe(channel="executions"))
    events = h.send(limit(price="20000", qty="0.1"))
    assert "pending_new" in {r.exec_type for r in executions(events)}


def test_more_translations() -> None:
    h = V2Harness()
    h.pump()
    h.subscribed(Subscribe(channel="executions"))
    post = ended(h.send(limit(price="20000", qty="0.1", post_only=True)))
    order_id = post.replies[0].result.order_id
    close = Conditional(
        order_type="stop-loss-limit", trigger_price=D("19000"), limit_price=D("18900")
    )
    assert isinstance(
        ended(h.send(limit(price="20000", qty="0.1", conditional=close))), RequestCompleted
    )
    h.send(AmendOrder(order_id=order_id, order_qty=D("0.2")))
    # a new subscriber's snapshot marks the amended order
    h2 = V2Harness(h.h)
    h2.pump()
    snapshot = of(h2.send(Subscribe(channel="executions")), ChannelSnapshot)[0]
    assert {r.order_id: r.amended for r in snapshot.event.data}[order_id] is True
    edit = EditOrder(
        order_id=order_id,
        symbol=SYMBOL,
        limit_price=D("20001"),
        post_only=True,
        deadline="2099-01-01T00:00:00.000Z",
        validate=True,
    )
    assert isinstance(ended(h.send(edit)), RequestCompleted)
    h.ex.set_system_status("maintenance", h.h.now)
    h.pump()
    # the connection refuses cancels in maintenance itself; the simulator does too
    token = h.h.token()
    cancel = {"order_id": [order_id], "cl_ord_id": ["x"], "token": token}
    replies = h.raw_send(json.dumps({"method": "cancel_order", "params": cancel, "req_id": 77}))
    assert [getattr(r, "error_message", None) for r in replies] == ["EService:Unavailable"] * 2
    (reply,) = h.raw_send('{"method":"ping","req_id":NaN}')
    assert isinstance(reply, MethodReply | UnknownMessage)
