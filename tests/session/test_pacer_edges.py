"""The pacer's less travelled paths (``SessionConfig(pace_orders=True)``): requests whose pair
or age it cannot know, cancels and edits by userref, its bounded memory, a wake time that
passes with no link, and ratecounts for orders the order table does not hold."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelOrder,
    Credentials,
    EditOrder,
    OrderPaced,
    Request,
    RequestAccepted,
    RequestOutcome,
    SessionConfig,
    SessionState,
)
from kraken_proto.rest import build_token_request, parse_token_response
from kraken_proto.session._pacer import Pacer
from kraken_proto.session._pacing import amend_cost, cancel_cost, edit_cost
from kraken_proto.v1 import (
    AddOrderStatus,
    OpenOrders,
    OrderDescr,
    OrderRecord,
    Subscribe,
    decode,
    encode,
)

from tests.session.session_wire import Wire
from tests.session.test_session import limit
from tests.session.test_session_pacing import outcomes, outcomes_txid, paced_wire

PAIR = "BTC/USD"  # the pacer's counter for XBT/USD (one key per pair, v2's name)
FULL = 124.0  # the intermediate tier's threshold (125) less the headroom (1)
ETH_ORDER = AddOrder(
    ordertype="limit", type="buy", pair="ETH/USD", volume=Decimal("0.1"), price=Decimal("1500")
)


def pacer_of(wire: Wire) -> Pacer:
    pacer = wire.session._pacer
    assert pacer is not None
    return pacer


def charged_for(wire: Wire, request: Request) -> tuple[int, float]:
    """Submit ``request`` now: (its handle, what the pacer charged the pair for it)."""
    pacer = pacer_of(wire)
    before = pacer.counter.level(PAIR, wire.now)
    handle = wire.session.submit(request, wire.now)
    assert handle not in {e.handle for e in wire.events if isinstance(e, OrderPaced)}
    return handle, pacer.counter.level(PAIR, wire.now) - before


# --- requests whose pair cannot be known ----------------------------------------------------


UNKNOWN_TXID = "OUNKNO-WNXXX-XXXXXX"


@pytest.mark.parametrize(
    "unknown",
    [
        lambda known: AmendOrder(cl_ord_id="never-placed-here", volume=Decimal("0.02")),
        lambda known: CancelOrder(txid=(UNKNOWN_TXID,)),
        lambda known: CancelOrder(cl_ord_id=("never-placed-here",)),
        lambda known: CancelOrder(userref=(31337,)),  # no open order has it
        lambda known: CancelOrder(txid=(known, UNKNOWN_TXID)),  # one of them is known
    ],
    ids=[
        "amend-by-cl_ord_id",
        "cancel-by-txid",
        "cancel-by-cl_ord_id",
        "cancel-by-userref",
        "cancel-of-a-known-and-an-unknown",
    ],
)
def test_a_request_on_an_order_of_unknown_pair_waits_for_the_held_one_before_it(
    unknown: Callable[[str], Request],
) -> None:
    wire = paced_wire(pace=True)
    pacer = pacer_of(wire)
    known = outcomes_txid(wire, wire.session.submit(limit(), wire.now))  # on XBT/USD
    pacer.counter.charge("ETH/USD", FULL, wire.now)  # ETH/USD is full: its next add waits
    held = wire.session.submit(ETH_ORDER, wire.now)
    other = wire.session.submit(unknown(known), wire.now)
    # On a pair with room, but behind a request that waits for all before it.
    last = wire.session.submit(limit(price=Decimal("20000")), wire.now)
    wire.pump()
    (paced,) = [e for e in wire.events if isinstance(e, OrderPaced)]
    assert paced.handle == held  # only the ETH add is announced: the other's pair is unknown
    assert pacer.wake_at == pytest.approx(wire.now + paced.wait_seconds)
    assert set(wire.session.pending()) == {held, other, last}  # none went out
    wire.advance(paced.wait_seconds + 0.01)
    ended = [e.handle for e in wire.events if isinstance(e, RequestOutcome)]
    assert ended[1:] == [held, other, last]  # in submit order: nothing passed a held request
    assert isinstance(outcomes(wire)[held], RequestAccepted)
    assert isinstance(outcomes(wire)[last], RequestAccepted)


# --- orders the session did not place: by userref, of unknown age ---------------------------


def placed_elsewhere(wire: Wire, *orders: AddOrder) -> list[str]:
    """Place ``orders`` on the account through another client, before ``wire``'s session
    starts (as another program would have): no cl_ord_id, maybe a userref. Their txids."""
    exchange = wire.exchange
    credentials = Credentials(
        api_key=exchange.config.api_key, api_secret=exchange.config.api_secret
    )
    # A nonce below the ones the session will use (its source starts at the current time).
    call = build_token_request(credentials, nonce=int(wire.now * 1e6) - 1)
    reply = exchange.handle_rest(
        method=call.method,
        path=call.path,
        headers=dict(call.headers),
        body=call.body,
        now=wire.now,
    )
    token = parse_token_response(reply.status, reply.body).token
    sid = exchange.open_session(wire.now)
    for reqid, order in enumerate(orders, start=1):
        exchange.receive(sid, encode(order, token=token, reqid=reqid), wire.now)
    replies = [decode(text) for text in exchange.take_outgoing(sid, wire.now)]
    exchange.close_session(sid, wire.now)
    txids = [r.txid for r in replies if isinstance(r, AddOrderStatus)]
    assert len(txids) == len(orders)
    assert all(txids)
    return [t for t in txids if t is not None]


def started(wire: Wire) -> Wire:
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.pump()
    assert wire.session.state is SessionState.LIVE
    return wire


PACED = SessionConfig(pace_orders=True, rest_tier="intermediate")


def test_a_cancel_by_userref_charges_each_open_order_with_that_userref() -> None:
    wire = Wire(config=PACED)
    *seven, eight = placed_elsewhere(
        wire,
        limit(price=Decimal("20000"), userref=7),
        limit(price=Decimal("20001"), userref=7),
        limit(price=Decimal("20002"), userref=8),
    )
    started(wire)
    assert {t: o.userref for t, o in wire.session.orders.open_orders().items()} == {
        seven[0]: 7,
        seven[1]: 7,
        eight: 8,
    }
    handle, charged = charged_for(wire, CancelOrder(userref=(7,)))
    # The two orders with userref 7, each new to the session (its age starts now); not the 8.
    assert charged == 2 * cancel_cost(0.0) == 16.0
    wire.pump()
    assert isinstance(outcomes(wire)[handle], RequestAccepted)
    assert list(wire.session.orders.open_orders()) == [eight]


def test_an_order_placed_elsewhere_is_as_old_as_the_first_request_that_needed_its_age() -> None:
    wire = Wire(config=PACED)
    (txid,) = placed_elsewhere(wire, limit())
    wire.advance(100.0)  # older than every amend penalty, but the session cannot know that
    started(wire)
    amend = AmendOrder(txid=txid, volume=Decimal("0.02"))
    handle, charged = charged_for(wire, amend)
    assert charged == amend_cost(0.0) == 4.0
    wire.pump()
    assert isinstance(outcomes(wire)[handle], RequestAccepted)
    wire.advance(20.0)
    _, charged = charged_for(wire, AmendOrder(txid=txid, volume=Decimal("0.03")))
    assert charged == amend_cost(20.0) == 1.0  # 20 s since its age was first needed


def test_an_edit_by_userref_costs_as_an_edit_of_a_new_order() -> None:
    wire = Wire(config=PACED)
    _, other = placed_elsewhere(wire, limit(userref=42), limit(price=Decimal("20000"), userref=43))
    started(wire)
    # The age of ``other`` is first needed now (an amend): 100 s later it is past the penalties.
    outcomes_txid(wire, charged_for(wire, AmendOrder(txid=other, volume=Decimal("0.02")))[0])
    wire.advance(100.0)
    edit = EditOrder(orderid=other, pair="XBT/USD", volume=Decimal("0.03"))
    handle, charged = charged_for(wire, edit)
    assert charged == edit_cost(100.0) == 1.0
    # Edited: an order without a cl_ord_id; its replacement is new from the edit's acceptance.
    replacement = outcomes_txid(wire, handle)
    wire.advance(6.0)
    _, charged = charged_for(wire, AmendOrder(txid=replacement, volume=Decimal("0.04")))
    assert charged == amend_cost(6.0) == 3.0
    # By userref: which order (so how old) is not known, so it is charged as new.
    by_userref = EditOrder(orderid=42, pair="XBT/USD", volume=Decimal("0.05"))
    _, charged = charged_for(wire, by_userref)
    assert charged == edit_cost(None) == edit_cost(0.0) == 7.0


# --- bounded memory -------------------------------------------------------------------------


def test_an_order_whose_age_was_forgotten_is_charged_as_new() -> None:
    config = SessionConfig(pace_orders=True, rest_tier="intermediate", max_finished=1)
    wire = Wire(config=config)
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="openOrders"), wire.now)
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.pump()
    assert wire.session.state is SessionState.LIVE
    pacer = pacer_of(wire)
    txids = [
        outcomes_txid(wire, wire.session.submit(limit(price=Decimal(20000 + n)), wire.now))
        for n in range(3)
    ]
    # Twice max_finished ages are kept (each order's txid and cl_ord_id): the oldest go first.
    assert len(pacer._opened) == 2
    assert txids[2] in pacer._opened
    assert txids[0] not in pacer._opened
    wire.advance(400.0)  # every order is past every cancel penalty
    _, charged = charged_for(wire, CancelOrder(txid=(txids[2],)))
    assert charged == cancel_cost(400.0) == 0.0
    # Its pair still comes from the order table; its age is taken as new from now on.
    handle, charged = charged_for(wire, CancelOrder(txid=(txids[0],)))
    assert charged == cancel_cost(0.0) == 8.0
    wire.pump()
    assert isinstance(outcomes(wire)[handle], RequestAccepted)


# --- a wake time that passes with no link ---------------------------------------------------


def test_a_wake_time_passing_without_a_link_is_dropped_and_the_next_link_decides() -> None:
    wire = paced_wire(pace=True)
    session, pacer = wire.session, pacer_of(wire)
    pacer.counter.charge(PAIR, FULL, wire.now)
    add = session.submit(limit(), wire.now)
    wire.pump()
    wake = pacer.wake_at
    assert wake is not None
    assert wake > wire.now
    assert session.next_deadline() == wake
    wire.fail_opens = 1_000  # the link is lost, and reconnecting fails for now
    wire.drop()
    wire.advance(wake - wire.now)  # the wake time comes while the session waits to retry
    assert session.state is SessionState.WAITING
    assert session.connection is None
    assert pacer.wake_at is None  # no pass could run: no longer a deadline
    deadline = session.next_deadline()
    assert deadline is not None
    assert deadline > wire.now  # the retry, not a time in the past
    assert add in session.pending()
    wire.fail_opens = 0
    wire.settle(600.0)
    assert isinstance(outcomes(wire)[add], RequestAccepted)  # the next link's pass sent it


# --- ratecounts for orders the table does not hold ------------------------------------------


def test_a_ratecount_for_an_order_known_only_by_its_descr_pair_is_adopted() -> None:
    wire = paced_wire(pace=True)
    pacer = pacer_of(wire)
    record = OrderRecord(ratecount=Decimal(30), descr=OrderDescr(pair="XBT/USD"))
    pacer.observe(OpenOrders(orders=((UNKNOWN_TXID, record),)))
    pacer.settle(wire.now)
    assert pacer.counter.level(PAIR, wire.now) == 30.0


def test_a_ratecount_for_an_order_of_unknown_pair_is_ignored() -> None:
    wire = paced_wire(pace=True)
    pacer = pacer_of(wire)
    pacer.counter.charge(PAIR, 10.0, wire.now)
    orders = (
        (UNKNOWN_TXID, OrderRecord(ratecount=Decimal(90))),
        ("OUNKNO-WNXXX-YYYYYY", OrderRecord(ratecount=Decimal(50), descr=OrderDescr())),
        (
            "OUNKNO-WNXXX-ZZZZZZ",
            OrderRecord(ratecount=Decimal(3), descr=OrderDescr(pair="XBT/USD")),
        ),
    )
    pacer.observe(OpenOrders(orders=orders))
    pacer.settle(wire.now)
    assert pacer.counter.level(PAIR, wire.now) == 3.0  # only the one that names its pair
