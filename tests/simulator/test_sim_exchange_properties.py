"""Property: the model's openOrders and ownTrades frames rebuild exactly the model's own state."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import Event, OrderTable, Trade
from kraken_proto.adapters.simulator import SimulatorConfig, TradeView
from kraken_proto.v1 import OpenOrders, OwnTrades

from tests.simulator.test_sim_exchange import Harness


@dataclass(frozen=True)
class Add:
    side: str
    ordertype: str
    offset: int  # ticks away from the reference price
    volume: int  # in 1e-4 units
    pair: str


@dataclass(frozen=True)
class Cancel:
    pick: int


@dataclass(frozen=True)
class Amend:
    pick: int
    offset: int


@dataclass(frozen=True)
class Edit:
    pick: int
    volume: int


@dataclass(frozen=True)
class Move:
    offset: int  # in ticks from the pair's reference price (BASE)
    pair: str


@dataclass(frozen=True)
class Wait:
    seconds: int


PAIRS = st.sampled_from(["XBT/USD", "ETH/USD", "SOL/USD", "ATOM/USD"])
ACTIONS = st.one_of(
    st.builds(
        Add,
        st.sampled_from(["buy", "sell"]),
        st.sampled_from(["limit", "limit", "limit", "market", "stop-loss", "take-profit-limit"]),
        st.integers(-300, 300),
        st.integers(1, 50_000),
        PAIRS,
    ),
    st.builds(Cancel, st.integers(0, 50)),
    st.builds(Amend, st.integers(0, 50), st.integers(-300, 300)),
    st.builds(Edit, st.integers(0, 50), st.integers(1, 50_000)),
    st.builds(Move, st.integers(-400, 400), PAIRS),
    st.builds(Wait, st.integers(1, 30)),
)
BASE = {
    "XBT/USD": (Decimal("30000.0"), Decimal("0.1")),
    "ETH/USD": (Decimal("2000.00"), Decimal("0.01")),
    "SOL/USD": (Decimal("25.00"), Decimal("0.01")),  # 5 decimals on the feeds
    "ATOM/USD": (Decimal("9.2500"), Decimal("0.0001")),  # 6 decimals on the feeds
}


def _price(pair: str, offset: int) -> str:
    base, tick = BASE[pair]
    return str(base + tick * offset)


class Client:
    """What a client rebuilds from the frames of one session."""

    def __init__(self) -> None:
        self.table = OrderTable()
        self.trades: dict[str, Trade] = {}
        self.progress: dict[str, list[tuple[Decimal, Decimal]]] = {}

    def take(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, OpenOrders):
                self.table.apply(event)
                for txid, record in event.orders:
                    if not record.vol_exec or record.cost is None:
                        continue
                    seen = self.progress.setdefault(txid, [])
                    totals = (record.vol_exec, record.cost)
                    if record.status == "closed":
                        # Kraken's closed delta repeats the last fill's totals: not a fill
                        assert seen, txid
                        assert seen[-1] == totals, (txid, seen, totals)
                    elif record.status is None:
                        seen.append(totals)  # a fill delta: the new running totals
            elif isinstance(event, OwnTrades):
                for trade_id, trade in event.trades:
                    assert trade_id not in self.trades, f"trade {trade_id} delivered twice"
                    self.trades[trade_id] = trade


def _apply(h: Harness, session: int, action: object) -> list[Event]:
    """Perform one action; returns the acting session's frames (decoded)."""
    if isinstance(action, Add):
        fields: dict[str, Any] = {
            "pair": action.pair,
            "type": action.side,
            "ordertype": action.ordertype,
            "volume": str(Decimal(action.volume).scaleb(-4)),
        }
        if action.ordertype != "market":
            fields["price"] = _price(action.pair, action.offset)
        if action.ordertype == "take-profit-limit":
            fields["price2"] = _price(action.pair, action.offset)
        return h.trade(session, "addOrder", **fields)
    live = list(h.ex.open_orders().values())
    if isinstance(action, Cancel) and live:
        return h.trade(session, "cancelOrder", txid=[live[action.pick % len(live)].txid])
    if isinstance(action, Amend) and live:
        view = live[action.pick % len(live)]
        price = _price(view.pair, action.offset)
        return h.trade(session, "amendOrder", txid=view.txid, limit_price=price)
    if isinstance(action, Edit) and live:
        view = live[action.pick % len(live)]
        volume = str(Decimal(action.volume).scaleb(-4))
        return h.trade(session, "editOrder", orderid=view.txid, pair=view.pair, volume=volume)
    if isinstance(action, Move):
        h.move(action.pair, _price(action.pair, action.offset))
    elif isinstance(action, Wait):
        h.at(h.now + action.seconds)
        h.ex.advance(h.now)
    return h.drain(session)


def _check_orders(h: Harness, client: Client) -> None:
    mine = h.ex.open_orders()
    theirs = client.table.open_orders()
    assert set(theirs) == set(mine)
    for txid, view in mine.items():
        order = theirs[txid]
        assert not order.is_stub
        assert (order.status, order.vol, order.vol_exec, order.cost) == (
            view.status,
            view.vol,
            view.vol_exec,
            view.cost,
        )
        assert order.descr is not None
        assert order.descr.price == view.price


def _check_history(h: Harness, client: Client) -> None:
    """Finished orders end in the model's final state; every fill delta is a running total."""
    for txid, view in h.ex.orders().items():
        order = client.table.get(txid)
        assert order is not None
        assert (order.status, order.vol, order.vol_exec, order.cost, order.fee) == (
            view.status,
            view.vol,
            view.vol_exec,
            view.cost,
            view.fee,
        )
        running: list[tuple[Decimal, Decimal]] = []
        vol = cost = Decimal(0)
        for fill in h.ex.fills().values():
            if fill.ordertxid == txid:
                vol, cost = vol + fill.vol, cost + fill.cost
                running.append((vol, cost))
        assert client.progress.get(txid, []) == running


def _check_trades(expected: dict[str, TradeView], client: Client) -> None:
    assert set(client.trades) == set(expected)
    for trade_id, trade in client.trades.items():
        view = expected[trade_id]
        assert (trade.ordertxid, trade.pair, trade.type, trade.vol, trade.price) == (
            view.ordertxid,
            view.pair,
            view.side,
            view.vol,
            view.price,
        )
        assert (trade.cost, trade.fee, trade.time) == (view.cost, view.fee, view.time)


@given(actions=st.lists(ACTIONS, max_size=25), seed=st.integers(0, 2**32))
def test_frames_rebuild_the_models_orders_and_trades(actions: list[object], seed: int) -> None:
    h = Harness(SimulatorConfig(maxratecount=10_000), seed=seed)
    acting = h.session("openOrders", "ownTrades")
    detailed_session = h.ex.open_session(h.now)
    h.drain(detailed_session)
    subscribe = {"name": "ownTrades", "token": h.tok, "consolidate_taker": False}
    h.send(detailed_session, {"event": "subscribe", "subscription": subscribe})
    consolidated, detailed = Client(), Client()
    consolidated.take(
        h.send(
            acting, {"event": "unsubscribe", "subscription": {"name": "openOrders", "token": h.tok}}
        )
        + h.send(
            acting, {"event": "subscribe", "subscription": {"name": "openOrders", "token": h.tok}}
        )
    )
    for action in actions:
        consolidated.take(_apply(h, acting, action))
        detailed.take(h.drain(detailed_session))
        _check_orders(h, consolidated)
    _check_history(h, consolidated)
    _check_trades(h.ex.trades(), consolidated)
    _check_trades(h.ex.fills(), detailed)
    # every execution is accounted for in both views
    total = sum((view.vol for view in h.ex.trades().values()), Decimal(0))
    assert total == sum((view.vol for view in h.ex.fills().values()), Decimal(0))
    # a late subscriber's snapshot agrees with the model too
    late = Client()
    late_session = h.ex.open_session(h.now)
    h.drain(late_session)
    late.take(
        h.send(
            late_session,
            {"event": "subscribe", "subscription": {"name": "openOrders", "token": h.tok}},
        )
    )
    _check_orders(h, late)


FIELD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.sampled_from(
        [
            "0",
            "1",
            "0.5",
            "30000.0",
            "+5",
            "-5%",
            "#1",
            "+100%",
            "-100%",
            "+0",
            ".5",
            "1.",
            "999999999",
            "999999999.999999999999999999",
            "+999999999%",
            "true",
            "GTD",
            "IOC",
            "post",
            "fcib,fciq",
            "limit",
            "market",
            "stop-loss",
            "trailing-stop-limit",
            "buy",
            "sell",
            "XBT/USD",
            "ETH/USD",
            "USDT/USD",
            "2",
            "5:1",
            "none",
            "+999999999999",
            "2030-01-01T00:00:00Z",
            "1e5",
            "",
        ]
    ),
    st.text(max_size=8),
    st.lists(st.sampled_from(["1", "OAAAAA-BBBBB-CCCCCC", "x"]), max_size=3),
)
FIELD_NAMES = st.sampled_from(
    [
        "pair",
        "type",
        "ordertype",
        "price",
        "price2",
        "volume",
        "oflags",
        "starttm",
        "expiretm",
        "userref",
        "cl_ord_id",
        "validate",
        "timeinforce",
        "deadline",
        "orderid",
        "newuserref",
        "txid",
        "leverage",
        "margin",
        "limit_price",
        "trigger_price",
        "post_only",
        "timeout",
        "reqid",
        "close[ordertype]",
        "close[price]",
        "close[price2]",
        "display_volume",
    ]
)
EVENTS = st.sampled_from(
    [
        "addOrder",
        "editOrder",
        "amendOrder",
        "cancelOrder",
        "cancelAll",
        "cancelAllOrdersAfter",
        "ping",
        "subscribe",
        "unsubscribe",
    ]
)


@given(
    requests=st.lists(
        st.tuples(EVENTS, st.dictionaries(FIELD_NAMES, FIELD_VALUES, max_size=8)), max_size=12
    ),
    moves=st.lists(st.integers(-3000, 3000), max_size=4),
)
def test_any_request_gets_a_decodable_answer_and_never_crashes_the_model(
    requests: list[tuple[str, dict[str, Any]]], moves: list[int]
) -> None:
    h = Harness(SimulatorConfig(maxratecount=10_000))
    session = h.session("openOrders", "ownTrades")
    h.trade(
        session,
        "addOrder",
        pair="XBT/USD",
        type="buy",
        ordertype="limit",
        price="29000.0",
        volume="1",
    )
    for index, (event, fields) in enumerate(requests):
        h.trade(session, event, **fields)  # the harness decodes every frame
        if index < len(moves):
            h.move("XBT/USD", _price("XBT/USD", moves[index]))
            h.drain(session)
    h.at(h.now + 10**7)
    h.ex.advance(h.now)
    h.drain(session)
