"""The simulator's REST queries via ``Exchange.handle_rest``: real signatures from the core's
builders, answers parsed by the core's parsers, checked against the model's own book."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kraken_proto import Credentials, decode
from kraken_proto.adapters.simulator import Exchange, SimulatorConfig
from kraken_proto.adapters.simulator.model._rest_queries import RestCounter, rest_pair_id
from kraken_proto.rest import (
    InvalidArgumentsError,
    InvalidKeyError,
    InvalidNonceError,
    InvalidSignatureError,
    MalformedRestResponseError,
    RateLimitExceededError,
    RestHTTPError,
    RestRequest,
    build_closed_orders_request,
    build_open_orders_request,
    build_private_request,
    build_query_orders_request,
    build_query_trades_request,
    build_token_request,
    build_trades_history_request,
    parse_closed_orders_response,
    parse_open_orders_response,
    parse_query_orders_response,
    parse_query_trades_response,
    parse_token_response,
    parse_trades_history_response,
)
from kraken_proto.v1 import AddOrderStatus, OwnTrades

T0 = 1_700_000_000.0


class Sim:
    """An exchange, the client's credentials and a nonce counter, at explicit times."""

    def __init__(self, *, seed: int = 11, tier: str | None = None) -> None:
        self.config = SimulatorConfig()
        self.now = T0
        self.ex = Exchange(self.config, rng=random.Random(seed), now=self.now)
        self.ex.rest.counter.tier = tier
        self.credentials = Credentials(
            api_key=self.config.api_key, api_secret=self.config.api_secret
        )
        self.nonce = 1000
        self.seen: list[Any] = []  # every WebSocket event the sessions received

    def next_nonce(self) -> int:
        self.nonce += 1
        return self.nonce

    def call(self, request: RestRequest, *, method: str = "POST") -> tuple[int, bytes]:
        reply = self.ex.handle_rest(
            method=method,
            path=request.path,
            headers=dict(request.headers),
            body=request.body,
            now=self.now,
        )
        return reply.status, reply.body

    def token(self) -> str:
        status, body = self.call(build_token_request(self.credentials, nonce=self.next_nonce()))
        return parse_token_response(status, body).token

    def trading_session(self) -> tuple[int, str]:
        session = self.ex.open_session(self.now)
        token = self.token()
        self.send(
            session, {"event": "subscribe", "subscription": {"name": "ownTrades", "token": token}}
        )
        return session, token

    def send(self, session: int, message: dict[str, Any]) -> list[Any]:
        self.ex.receive(session, json.dumps(message), self.now)
        events = [decode(frame) for frame in self.ex.take_outgoing(session, self.now)]
        self.seen.extend(events)
        return events

    def add(self, session: int, token: str, **fields: Any) -> str:
        order = {
            "event": "addOrder",
            "token": token,
            "pair": "XBT/USD",
            "type": "buy",
            "ordertype": "limit",
            "price": "29000.0",
            "volume": "0.5",
            **fields,
        }
        events = self.send(session, order)
        txids = [e.txid for e in events if isinstance(e, AddOrderStatus) and e.txid]
        assert txids, events
        txid = txids[0]
        assert txid is not None
        return txid


def own_trade_ids(events: list[Any]) -> list[str]:
    return [tid for e in events if isinstance(e, OwnTrades) for tid, _ in e.trades]


def test_book_served_with_kraken_shapes_and_ids() -> None:
    sim = Sim()
    session, token = sim.trading_session()
    resting = sim.add(session, token, userref="7")
    tagged = sim.add(session, token, cl_ord_id="client-1", price="28000.0")
    sim.now += 1
    filled = sim.add(session, token, type="sell", ordertype="market", volume="0.25")
    sim.now += 1
    sim.send(session, {"event": "cancelOrder", "token": token, "txid": [tagged]})
    live_trades = own_trade_ids(sim.seen)
    assert live_trades

    status, body = sim.call(build_open_orders_request(sim.credentials, nonce=sim.next_nonce()))
    assert status == 200
    open_orders = parse_open_orders_response(status, body).open
    assert list(open_orders) == list(sim.ex.open_orders()) == [resting]
    record = open_orders[resting]
    view = sim.ex.open_orders()[resting]
    assert (record.status, record.userref, record.vol, record.descr.pair) == (
        "open",
        7,
        view.vol,
        "XBTUSD",  # REST altname, not the WebSocket's XBT/USD
    )
    assert record.descr.price == Decimal("29000.0")
    assert record.descr.order == "buy 0.50000000 XBTUSD @ limit 29000.0"  # the docs' form
    assert record.descr.leverage == "none"
    assert record.opentm == view.opentm
    assert record.closetm is None

    status, body = sim.call(
        build_closed_orders_request(sim.credentials, nonce=sim.next_nonce(), trades=True)
    )
    closed = parse_closed_orders_response(status, body)
    assert list(closed.closed) == [tagged, filled]  # newest first
    assert closed.count == 2
    canceled = closed.closed[tagged]
    assert (canceled.status, canceled.reason, canceled.cl_ord_id) == (
        "canceled",
        "User requested",
        "client-1",
    )
    assert canceled.closetm == Decimal(f"{T0 + 2:.6f}")
    done = closed.closed[filled]
    assert done.status == "closed"
    assert done.vol_exec == Decimal("0.25000000")
    assert done.price == sim.ex.orders()[filled].avg_price
    assert done.trades is not None
    assert done.descr.order == "sell 0.25000000 XBTUSD @ market"

    status, body = sim.call(build_trades_history_request(sim.credentials, nonce=sim.next_nonce()))
    history = parse_trades_history_response(status, body)
    assert set(history.trades) == set(sim.ex.trades()) == set(done.trades)
    assert history.count == len(sim.ex.trades())
    for trade_id, trade in history.trades.items():
        view_trade = sim.ex.trades()[trade_id]
        assert trade.ordertxid == filled
        assert trade.pair == "XXBTZUSD"  # the REST pair id of the docs' example
        assert (trade.price, trade.vol, trade.cost, trade.fee, trade.time) == (
            view_trade.price,
            view_trade.vol,
            view_trade.cost,
            view_trade.fee,
            view_trade.time,
        )
        assert trade.maker is False
        assert isinstance(trade.trade_id, int)
    # The ownTrades keys the WebSocket sent are the REST trade keys.
    assert set(live_trades) == set(history.trades)

    status, body = sim.call(
        build_query_orders_request(
            sim.credentials, nonce=sim.next_nonce(), txids=[resting, filled], trades=True
        )
    )
    queried = parse_query_orders_response(status, body).orders
    assert list(queried) == [resting, filled]
    assert queried[resting].trades is None  # no fills yet
    status, body = sim.call(
        build_query_trades_request(
            sim.credentials, nonce=sim.next_nonce(), txids=list(history.trades)
        )
    )
    assert parse_query_trades_response(status, body).trades == history.trades


def test_own_trades_keys_are_trade_history_keys() -> None:
    sim = Sim(seed=3)
    session, token = sim.trading_session()
    for _ in range(3):
        sim.add(session, token, ordertype="market", volume="0.1")
        sim.now += 1
    frames = sim.seen
    status, body = sim.call(build_trades_history_request(sim.credentials, nonce=sim.next_nonce()))
    history = parse_trades_history_response(status, body)
    assert set(own_trade_ids(frames)) == set(history.trades) == set(sim.ex.trades())


def test_paging_filters_and_newest_first() -> None:
    sim = Sim(seed=5)
    session, token = sim.trading_session()
    placed = []
    for index in range(60):
        sim.now = T0 + index
        placed.append(
            sim.add(session, token, ordertype="market", volume="0.01", userref=str(index % 2))
        )
    trades = list(sim.ex.trades())
    assert len(trades) == 60
    pages: list[str] = []
    ofs: int | None = 0
    while ofs is not None:
        status, body = sim.call(
            build_trades_history_request(sim.credentials, nonce=sim.next_nonce(), ofs=ofs)
        )
        page = parse_trades_history_response(status, body)
        assert len(page.trades) <= 50
        assert page.count == 60
        pages.extend(page.trades)
        ofs = page.next_ofs(ofs)
    assert pages == trades[::-1]  # newest first, each exactly once

    # start is exclusive, end inclusive (times and txids)
    status, body = sim.call(
        build_trades_history_request(
            sim.credentials, nonce=sim.next_nonce(), start=Decimal(int(T0) + 49), end=int(T0) + 52
        )
    )
    window = parse_trades_history_response(status, body)
    assert list(window.trades) == trades[50:53][::-1]
    assert window.count == 3
    status, body = sim.call(
        build_trades_history_request(sim.credentials, nonce=sim.next_nonce(), start=trades[57])
    )
    assert list(parse_trades_history_response(status, body).trades) == trades[58:][::-1]

    # ClosedOrders pages the same way; filters by userref, time and txid
    status, body = sim.call(
        build_closed_orders_request(sim.credentials, nonce=sim.next_nonce(), ofs=50)
    )
    second = parse_closed_orders_response(status, body)
    assert (second.count, list(second.closed)) == (60, placed[:10][::-1])
    status, body = sim.call(
        build_closed_orders_request(sim.credentials, nonce=sim.next_nonce(), userref=1)
    )
    odd = parse_closed_orders_response(status, body)
    assert odd.count == 30
    assert all(order.userref == 1 for order in odd.closed.values())
    status, body = sim.call(
        build_closed_orders_request(
            sim.credentials, nonce=sim.next_nonce(), start=placed[55], closetime="open"
        )
    )
    assert list(parse_closed_orders_response(status, body).closed) == placed[56:][::-1]
    status, body = sim.call(
        build_closed_orders_request(
            sim.credentials, nonce=sim.next_nonce(), end=int(T0) + 1, closetime="close"
        )
    )
    assert list(parse_closed_orders_response(status, body).closed) == placed[1::-1]
    body_no_count = sim.call(
        build_private_request(
            sim.credentials,
            path="/0/private/ClosedOrders",
            nonce=sim.next_nonce(),
            params=[("without_count", "true")],
        )
    )[1]
    assert "count" not in json.loads(body_no_count)["result"]


def test_cl_ord_id_filter_finds_an_order_open_or_closed() -> None:
    sim = Sim(seed=8)
    session, token = sim.trading_session()
    resting = sim.add(session, token, cl_ord_id="rest-1")
    sim.add(session, token, cl_ord_id="gone-1", ordertype="market", volume="0.1")
    open_req = build_open_orders_request(
        sim.credentials, nonce=sim.next_nonce(), cl_ord_id="rest-1"
    )
    assert list(parse_open_orders_response(*sim.call(open_req)).open) == [resting]
    open_req = build_open_orders_request(
        sim.credentials, nonce=sim.next_nonce(), cl_ord_id="gone-1"
    )
    assert parse_open_orders_response(*sim.call(open_req)).open == {}
    closed_req = build_closed_orders_request(
        sim.credentials, nonce=sim.next_nonce(), cl_ord_id="gone-1"
    )
    found = parse_closed_orders_response(*sim.call(closed_req))
    assert found.count == 1
    assert next(iter(found.closed.values())).cl_ord_id == "gone-1"
    by_userref = build_open_orders_request(sim.credentials, nonce=sim.next_nonce(), userref=99)
    assert parse_open_orders_response(*sim.call(by_userref)).open == {}


def test_signature_nonce_and_key_checks() -> None:
    sim = Sim()
    request = build_open_orders_request(sim.credentials, nonce=sim.next_nonce())
    assert parse_open_orders_response(*sim.call(request)).open == {}
    with pytest.raises(InvalidNonceError):
        parse_open_orders_response(*sim.call(request))  # replayed nonce
    older = build_open_orders_request(sim.credentials, nonce=5)
    with pytest.raises(InvalidNonceError):
        parse_open_orders_response(*sim.call(older))
    wrong_secret = Credentials(api_key=sim.config.api_key, api_secret="A" * 86 + "==")
    with pytest.raises(InvalidSignatureError):
        parse_open_orders_response(
            *sim.call(build_open_orders_request(wrong_secret, nonce=sim.next_nonce()))
        )
    stranger = Credentials(api_key="someone-else", api_secret=sim.config.api_secret)
    with pytest.raises(InvalidKeyError):
        parse_open_orders_response(
            *sim.call(build_open_orders_request(stranger, nonce=sim.next_nonce()))
        )
    # The signature covers the path: a request signed for one call is refused on another.
    signed = build_open_orders_request(sim.credentials, nonce=sim.next_nonce())
    moved = RestRequest(
        method="POST", path="/0/private/ClosedOrders", headers=signed.headers, body=signed.body
    )
    with pytest.raises(InvalidSignatureError):
        parse_closed_orders_response(*sim.call(moved))
    # Token and query calls share one nonce sequence per key.
    sim.token()
    stale = build_open_orders_request(sim.credentials, nonce=sim.nonce - 1)
    with pytest.raises(InvalidNonceError):
        parse_open_orders_response(*sim.call(stale))


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ([("txid", "")], "/0/private/QueryOrders"),
        ([("txid", "OAAAAA-BBBBB-CCCCCC")], "/0/private/QueryOrders"),
        ([("txid", ",".join(["OAAAAA-BBBBB-CCCCCC"] * 51))], "/0/private/QueryOrders"),
        ([("txid", "TAAAAA-BBBBB-CCCCCC")], "/0/private/QueryTrades"),
        ([("trades", "maybe")], "/0/private/OpenOrders"),
        ([("userref", "x")], "/0/private/OpenOrders"),
        ([("ofs", "-1")], "/0/private/ClosedOrders"),
        ([("closetime", "never")], "/0/private/ClosedOrders"),
        ([("start", "soon")], "/0/private/ClosedOrders"),
        ([("end", "NaN")], "/0/private/TradesHistory"),
        # numbers only in Kraken's text: Decimal() would take each of these
        *(
            ([("start", text)], "/0/private/ClosedOrders")
            for text in (" 1", "1_000", "+1", "1e3", "\u0661\u0662", "\uff11", "5.", ".5", "inf")
        ),
        ([("consolidate_taker", "2")], "/0/private/TradesHistory"),
    ],
)
def test_invalid_arguments(params: list[tuple[str, str]], path: str) -> None:
    sim = Sim()
    request = build_private_request(
        sim.credentials, path=path, nonce=sim.next_nonce(), params=params
    )
    status, body = sim.call(request)
    with pytest.raises(InvalidArgumentsError) as caught:
        parse_query_orders_response(status, body)
    assert caught.value.errors[0].startswith("EGeneral:Invalid arguments")


def test_unreadable_bodies() -> None:
    sim = Sim()
    headers = {"API-Key": sim.config.api_key, "API-Sign": "x"}
    for body, content_type in (
        (b"\xff", "application/x-www-form-urlencoded"),
        (b"{", "application/json"),
        (b"[1]", "application/json"),
        (b"trades=true", "application/x-www-form-urlencoded"),
    ):
        reply = sim.ex.handle_rest(
            method="POST",
            path="/0/private/OpenOrders",
            headers={**headers, "Content-Type": content_type},
            body=body,
            now=sim.now,
        )
        assert json.loads(reply.body) == {"error": ["EGeneral:Invalid arguments"]}
    bad_nonce = sim.ex.handle_rest(
        method="POST",
        path="/0/private/OpenOrders",
        headers=headers,
        body=b"nonce=12a",
        now=sim.now,
    )
    assert json.loads(bad_nonce.body) == {"error": ["EAPI:Invalid nonce"]}


def test_json_bodies_are_accepted() -> None:
    sim = Sim()
    body = json.dumps({"nonce": sim.next_nonce(), "trades": True}).encode()
    from kraken_proto.rest import sign

    headers = {
        "API-Key": sim.config.api_key,
        "API-Sign": sign(
            secret=sim.config.api_secret,
            urlpath="/0/private/OpenOrders",
            nonce=sim.nonce,
            postdata=body,
        ),
        "Content-Type": "application/json",
    }
    reply = sim.ex.handle_rest(
        method="POST", path="/0/private/OpenOrders", headers=headers, body=body, now=sim.now
    )
    assert parse_open_orders_response(reply.status, reply.body).open == {}


def test_rest_call_counter_refuses_over_the_tier() -> None:
    sim = Sim(tier="starter")
    assert sim.ex.rest.counter.tier == "starter"
    for _ in range(7):  # 14 units of history calls
        parse_trades_history_response(
            *sim.call(build_trades_history_request(sim.credentials, nonce=sim.next_nonce()))
        )
    parse_open_orders_response(
        *sim.call(build_open_orders_request(sim.credentials, nonce=sim.next_nonce()))
    )  # 15
    with pytest.raises(RateLimitExceededError):
        parse_open_orders_response(
            *sim.call(build_open_orders_request(sim.credentials, nonce=sim.next_nonce()))
        )
    with pytest.raises(RateLimitExceededError):  # the token call counts too
        parse_token_response(
            *sim.call(build_token_request(sim.credentials, nonce=sim.next_nonce()))
        )
    sim.now += 1 / 0.33 + 0.01  # one unit decays
    parse_open_orders_response(
        *sim.call(build_open_orders_request(sim.credentials, nonce=sim.next_nonce()))
    )
    assert Decimal("14.99") < sim.ex.rest.counter.level(sim.config.api_key, sim.now) <= 15
    assert RestCounter(None).level("k", 0.0) == 0
    assert RestCounter(None).charge("k", 100, 0.0)


def test_default_exchange_counts_on_the_starter_tier() -> None:
    ex = Exchange(SimulatorConfig(), rng=random.Random(1), now=T0)
    assert ex.rest.counter.tier == "starter"


@pytest.mark.parametrize("fault", ["http_500", "non_json"])
def test_rest_faults_apply_to_queries(fault: str) -> None:
    sim = Sim()
    sim.ex.rest_fault = fault
    request = build_closed_orders_request(sim.credentials, nonce=sim.next_nonce())
    error = RestHTTPError if fault == "http_500" else MalformedRestResponseError
    with pytest.raises(error):
        parse_closed_orders_response(*sim.call(request))


def test_routing() -> None:
    sim = Sim()
    request = build_open_orders_request(sim.credentials, nonce=sim.next_nonce())
    assert sim.call(request, method="GET")[0] == 405
    unknown = RestRequest(method="POST", path="/0/private/Balance", headers=(), body=b"")
    assert sim.call(unknown)[0] == 404
    with_query = RestRequest(
        method="POST",
        path=request.path + "?x=1",
        headers=request.headers,
        body=request.body,
    )
    assert parse_open_orders_response(*sim.call(with_query)).open == {}


def test_rest_pair_ids() -> None:
    sim = Sim()
    fmt = sim.ex._book.formats["ETH/USD"]
    assert rest_pair_id("ETH/USD", fmt) == "XETHZUSD"

    class Plain:
        rest_name = ""

    assert rest_pair_id("SOL/USD", Plain()) == "SOLUSD"  # type: ignore[arg-type]


def test_non_consolidated_history_and_expired_orders() -> None:
    sim = Sim(seed=21)
    session, token = sim.trading_session()
    for _ in range(4):
        sim.add(session, token, ordertype="market", volume="0.3")
    fills = build_trades_history_request(
        sim.credentials, nonce=sim.next_nonce(), consolidate_taker=False
    )
    history = parse_trades_history_response(*sim.call(fills))
    assert set(history.trades) == set(sim.ex.fills())
    expiring = sim.add(session, token, expiretm=f"+{5}")
    sim.now += 10
    sim.ex.advance(sim.now)
    closed = parse_closed_orders_response(
        *sim.call(build_closed_orders_request(sim.credentials, nonce=sim.next_nonce()))
    )
    assert closed.closed[expiring].status == "expired"
    assert closed.closed[expiring].reason is None


def test_triggered_orders_show_their_trigger_and_the_journal_forwards() -> None:
    sim = Sim(seed=2)
    session, token = sim.trading_session()
    stop = sim.add(session, token, type="sell", ordertype="stop-loss", price="20000.0")
    orders = parse_open_orders_response(
        *sim.call(build_open_orders_request(sim.credentials, nonce=sim.next_nonce()))
    ).open
    assert orders[stop].trigger == "last"
    assert orders[stop].descr.ordertype == "stop-loss"
    assert orders[stop].descr.order == "sell 0.50000000 XBTUSD @ stop loss 20000.0"
    # Anything else asked of the book's listener reaches the wrapped one.
    journal = sim.ex.rest.journal
    name, value = next(iter(vars(journal.inner).items()))
    assert getattr(journal, name) is value


# --- property: REST always agrees with the model ----------------------------------------------

operations = st.lists(
    st.one_of(
        st.tuples(st.just("limit"), st.sampled_from(["buy", "sell"]), st.integers(-30, 30)),
        st.tuples(st.just("market"), st.sampled_from(["buy", "sell"]), st.integers(1, 5)),
        st.tuples(st.just("cancel"), st.integers(0, 100), st.just(0)),
        st.tuples(st.just("move"), st.integers(-40, 40), st.just(0)),
    ),
    max_size=40,
)


def all_pages(sim: Sim, build: Any, parse: Any, field: str) -> tuple[list[str], list[Any]]:
    keys: list[str] = []
    records: list[Any] = []
    ofs: int | None = 0
    while ofs is not None:
        page = parse(*sim.call(build(sim.credentials, nonce=sim.next_nonce(), ofs=ofs)))
        assert len(getattr(page, field)) <= 50
        keys.extend(getattr(page, field))
        records.extend(getattr(page, field).values())
        ofs = page.next_ofs(ofs)
        assert page.count >= len(keys)
    return keys, records


@settings(max_examples=40, deadline=None)
@given(ops=operations, seed=st.integers(0, 1000))
def test_rest_views_equal_the_book(ops: list[tuple[str, Any, int]], seed: int) -> None:
    sim = Sim(seed=seed)
    session, token = sim.trading_session()
    for step, (kind, first, amount) in enumerate(ops):
        sim.now = T0 + step
        if kind == "limit":
            price = Decimal(30000 + 100 * amount)
            sim.add(session, token, type=first, price=f"{price}.0", volume="0.1")
        elif kind == "market":
            sim.add(session, token, type=first, ordertype="market", volume=f"0.0{amount}")
        elif kind == "cancel":
            live = list(sim.ex.open_orders())
            if live:
                txid = live[first % len(live)]
                sim.send(session, {"event": "cancelOrder", "token": token, "txid": [txid]})
        else:
            sim.ex.set_reference_price("XBT/USD", Decimal(30000 + 100 * first), sim.now)
            sim.ex.take_outgoing(session, sim.now)
    sim.now += 1
    open_orders = parse_open_orders_response(
        *sim.call(build_open_orders_request(sim.credentials, nonce=sim.next_nonce()))
    ).open
    views = sim.ex.orders()
    assert list(open_orders) == list(sim.ex.open_orders())
    closed_keys, closed = all_pages(
        sim, build_closed_orders_request, parse_closed_orders_response, "closed"
    )
    finished = {txid for txid, view in views.items() if view.status not in ("pending", "open")}
    assert len(closed_keys) == len(set(closed_keys))  # each exactly once
    assert set(closed_keys) == finished
    closetimes = [order.closetm for order in closed]
    assert closetimes == sorted(closetimes, reverse=True)  # newest first
    for txid, order in [*open_orders.items(), *zip(closed_keys, closed, strict=True)]:
        view = views[txid]
        assert (order.status, order.vol, order.vol_exec, order.cost, order.fee) == (
            view.status,
            view.vol,
            view.vol_exec,
            view.cost,
            view.fee,
        )
        assert order.price == view.avg_price
    trade_keys, trades = all_pages(
        sim, build_trades_history_request, parse_trades_history_response, "trades"
    )
    assert trade_keys == list(sim.ex.trades())[::-1]
    for trade_id, trade in zip(trade_keys, trades, strict=True):
        view_trade = sim.ex.trades()[trade_id]
        assert (trade.ordertxid, trade.vol, trade.cost, trade.time) == (
            view_trade.ordertxid,
            view_trade.vol,
            view_trade.cost,
            view_trade.time,
        )
    txids = list(views)
    for start in range(0, len(txids), 50):
        chunk = txids[start : start + 50]
        queried = parse_query_orders_response(
            *sim.call(
                build_query_orders_request(sim.credentials, nonce=sim.next_nonce(), txids=chunk)
            )
        ).orders
        assert list(queried) == chunk


@settings(max_examples=30, deadline=None)
@given(
    tier=st.sampled_from(["starter", "intermediate", "pro"]),
    calls=st.lists(
        st.tuples(st.booleans(), st.floats(0, 5, allow_nan=False, allow_infinity=False)),
        min_size=1,
        max_size=40,
    ),
)
def test_calls_paced_by_the_core_counter_are_never_refused(
    tier: str, calls: list[tuple[bool, float]]
) -> None:
    """The core's RestCallCounter (default headroom) and the simulator's counter agree: a
    call sent when the core says it fits is never ``EAPI:Rate limit exceeded``."""
    from kraken_proto.rest import RestCallCounter

    sim = Sim(tier=tier)
    counter = RestCallCounter(tier)
    for history, pause in calls:
        sim.now += pause
        build = build_trades_history_request if history else build_open_orders_request
        request = build(sim.credentials, nonce=sim.next_nonce())
        sim.now = counter.ready_at(request.cost, sim.now)
        counter.spend(request.cost, sim.now)
        status, body = sim.call(request)
        parse = parse_trades_history_response if history else parse_open_orders_response
        parse(status, body)  # raises RateLimitExceededError if the two disagreed
