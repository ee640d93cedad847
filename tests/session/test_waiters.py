"""``Waiters``: which order call an event completes, when the order table shows it, and how
the call ends; pure, so driven here by hand (examples, then a Hypothesis state machine)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    Connected,
    EditOrder,
    KrakenError,
    LocalProtocolError,
    OrderTable,
    Reconnected,
    Request,
    RequestAccepted,
    RequestApplied,
    RequestNotApplied,
    RequestOutcome,
    RequestRefused,
    RequestUnresolved,
    SessionClosed,
    SessionEvent,
    SessionFailed,
    SessionState,
    replace_request,
)
from kraken_proto._connection_state import SubscriptionState
from kraken_proto.session import (
    OutcomeUnknownError,
    RequestNotAppliedError,
    RequestRefusedError,
    TradingRequestError,
    Waiters,
    reflects,
    result_of,
)
from kraken_proto.v1 import OpenOrders, OrderDescr, OrderRecord

T0 = 1_000_000.0
BUY = AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal("1"))


class Link:
    def __init__(self, state: SubscriptionState) -> None:
        self.state = state

    def subscription_state(self, channel: str) -> SubscriptionState:
        return self.state if channel == "openOrders" else SubscriptionState.UNSUBSCRIBED


@dataclasses.dataclass
class View:
    """A stand-in for the Session: a real OrderTable, a link, submit and pending."""

    orders: OrderTable = dataclasses.field(default_factory=OrderTable)
    connection: Any = None
    state: SessionState = SessionState.LIVE
    sent: dict[int, Request] = dataclasses.field(default_factory=dict)
    handles: int = 0

    def pending(self) -> dict[int, Request]:
        return dict(self.sent)

    def submit(self, request: Request, now: float) -> int:
        if self.state is SessionState.CLOSED:
            raise LocalProtocolError("submit: the session is closed")
        self.handles += 1
        if isinstance(request, AddOrder) and request.cl_ord_id is None:
            request = replace_request(request, cl_ord_id=f"cl-{self.handles}")
        self.sent[self.handles] = request
        return self.handles

    def show(self, txid: str, **fields: Any) -> None:
        """The table learns of ``txid`` (an openOrders delta with a descr)."""
        if "descr" not in fields:
            fields["descr"] = OrderDescr(pair="XBT/USD", price=Decimal("100"))
        fields.setdefault("status", "open")
        self.orders.apply(OpenOrders(orders=((txid, OrderRecord(**fields)),)), snapshot=False)


def following() -> View:
    return View(connection=Link(SubscriptionState.ACTIVE))


def accepted(handle: int, request: Request, txid: str | None = None) -> RequestAccepted:
    return RequestAccepted(handle=handle, request=request, replies=(), txid=txid)


def refused(handle: int, request: Request) -> RequestRefused:
    return RequestRefused(
        handle=handle, request=request, replies=(), error=KrakenError.parse("EOrder:Bad")
    )


# --- the mapping ----------------------------------------------------------------------------


def test_result_of_maps_every_outcome() -> None:
    ok = accepted(1, BUY, "O1")
    assert result_of(ok) is ok
    applied = RequestApplied(handle=1, request=BUY, txid="O1", via="OpenOrders")
    assert result_of(applied) is applied
    with pytest.raises(RequestRefusedError, match="refused by Kraken: EOrder:Bad") as no:
        result_of(refused(1, BUY))
    assert no.value.error.category == "Order"
    with pytest.raises(RequestNotAppliedError, match="via ClosedOrders") as not_applied:
        result_of(RequestNotApplied(handle=2, request=BUY, via="ClosedOrders"))
    assert not_applied.value.via == "ClosedOrders"
    assert not_applied.value.handle == 2
    with pytest.raises(OutcomeUnknownError, match="outcome unknown \\(gone\\)"):
        result_of(RequestUnresolved(handle=3, request=BUY, reason="gone"))
    with pytest.raises(OutcomeUnknownError, match="outcome unknown \\(RequestOutcome\\)"):
        result_of(RequestOutcome(handle=4, request=BUY))


def test_without_openorders_an_outcome_completes_the_call_at_once() -> None:
    view = View()
    waiters = Waiters(view)
    handle = waiters.submit(BUY, T0)
    assert not waiters.done(handle)
    assert waiters.feed([accepted(handle, view.sent[handle], "O1")], T0) == [handle]
    assert waiters.done(handle)
    placed = waiters.result(handle, 5.0)
    assert isinstance(placed, RequestAccepted)
    assert isinstance(placed.request, AddOrder)
    assert placed.request.cl_ord_id == "cl-1"
    assert not waiters.done(handle)  # ended: forgotten


def test_an_accepted_order_waits_until_the_table_holds_it() -> None:
    view = following()
    waiters = Waiters(view, reflect_timeout=2.0)
    handle = waiters.submit(BUY, T0)
    assert waiters.feed([accepted(handle, BUY, "O1")], T0) == []
    assert not waiters.done(handle)
    assert waiters.next_deadline() == T0 + 2.0
    assert waiters.expire(T0 + 1.0) == []
    view.show("O1")
    assert waiters.feed([SessionEvent()], T0 + 1.0) == [handle]
    assert waiters.next_deadline() is None
    assert isinstance(waiters.result(handle, None), RequestAccepted)


def test_a_table_that_never_shows_it_lets_the_call_go_after_reflect_timeout() -> None:
    waiters = Waiters(following(), reflect_timeout=2.0)
    handle = waiters.submit(BUY, T0)
    waiters.feed([accepted(handle, BUY, "O1")], T0)
    waiters.feed([SessionEvent()], T0 + 1.0)  # still held; the deadline does not move
    assert waiters.next_deadline() == T0 + 2.0
    assert waiters.expire(T0 + 2.0) == [handle]
    assert waiters.expire(T0 + 3.0) == []
    assert isinstance(waiters.result(handle, 1.0), RequestAccepted)


@pytest.mark.parametrize(
    "event", [Connected(), Reconnected(downtime=1.0), SessionClosed(), SessionFailed(reason="x")]
)
def test_a_caught_up_or_stopped_session_releases_held_calls(event: SessionEvent) -> None:
    view = following()
    waiters = Waiters(view)
    handle = waiters.submit(BUY, T0)
    waiters.feed([accepted(handle, BUY, "O1")], T0)
    view.connection = Link(SubscriptionState.ACTIVE)  # the answer's link is gone
    assert waiters.feed([event], T0) == [handle]


def test_catching_up_on_the_link_that_answered_still_waits_for_the_table() -> None:
    """The answer and the snapshot came on the same link: the order's updates follow the
    snapshot there, so the call waits for them (an asyncio runner once returned first)."""
    view = following()
    waiters = Waiters(view)
    handle = waiters.submit(BUY, T0)
    assert waiters.feed([accepted(handle, BUY, "O1"), Connected()], T0) == []
    view.show("O1")
    assert waiters.feed([SessionEvent()], T0) == [handle]


def test_a_held_outcome_is_returned_when_the_callers_timeout_ends_first() -> None:
    waiters = Waiters(following())
    handle = waiters.submit(BUY, T0)
    waiters.feed([accepted(handle, BUY, "O1")], T0)
    assert not waiters.done(handle)
    assert isinstance(waiters.result(handle, 0.1), RequestAccepted)
    assert waiters.next_deadline() is None


def test_applied_and_refused_outcomes_need_no_table() -> None:
    waiters = Waiters(following())
    first, second = waiters.submit(BUY, T0), waiters.submit(BUY, T0)
    applied = RequestApplied(handle=first, request=BUY, txid="O9", via="ClosedOrders")
    assert waiters.feed([applied, refused(second, BUY)], T0) == [first, second]
    assert waiters.result(first, None) is applied
    with pytest.raises(RequestRefusedError):
        waiters.result(second, None)


def test_following_is_learnt_from_the_link_and_kept() -> None:
    view = View(connection=Link(SubscriptionState.UNSUBSCRIBED))
    waiters = Waiters(view)
    handle = waiters.submit(BUY, T0)
    view.connection = Link(SubscriptionState.PENDING)
    waiters.feed([], T0)
    view.connection = None  # between connections: still following
    waiters.feed([accepted(handle, BUY, "O1")], T0)
    assert not waiters.done(handle)


def test_timeout_before_the_outcome_is_outcome_unknown() -> None:
    view = View()
    waiters = Waiters(view)
    handle = waiters.submit(BUY, T0)
    with pytest.raises(OutcomeUnknownError, match=r"within 0\.3 s.*handle 1") as unknown:
        waiters.result(handle, 0.3)
    assert unknown.value.outcome is None
    assert unknown.value.request == view.sent[handle]  # the request as sent (cl_ord_id)
    second = waiters.submit(BUY, T0)
    with pytest.raises(OutcomeUnknownError, match="no final outcome; it may"):
        waiters.result(second, None)
    with pytest.raises(LocalProtocolError, match="no order call is waiting for handle 2"):
        waiters.result(second, None)


def test_a_forgotten_call_ignores_its_outcome() -> None:
    waiters = Waiters(following())
    handle = waiters.submit(BUY, T0)
    waiters.feed([accepted(handle, BUY, "O1")], T0)
    waiters.forget(handle)
    waiters.forget(handle)
    assert waiters.next_deadline() is None
    assert waiters.feed([accepted(handle, BUY, "O1")], T0) == []
    # an outcome for a call made elsewhere (Session.submit directly) is only kept for the user
    assert waiters.feed([accepted(99, BUY, "O2")], T0) == []
    assert len(waiters.take()) == 3


def test_only_the_first_outcome_counts() -> None:
    waiters = Waiters(View())
    handle = waiters.submit(BUY, T0)
    waiters.feed([refused(handle, BUY), accepted(handle, BUY, "O1")], T0)
    with pytest.raises(RequestRefusedError):
        waiters.result(handle, None)


# --- a session that fails for good -------------------------------------------------------------


def test_requests_ended_unsent_by_the_failure_are_refused_with_krakens_error() -> None:
    waiters = Waiters(View())
    handle = waiters.submit(BUY, T0)
    unsent = RequestNotApplied(handle=handle, request=BUY, via="never sent")
    failed = SessionFailed(reason="InvalidKeyError: bad", error="EAPI:Invalid key")
    assert waiters.feed([unsent, failed], T0) == [handle]
    with pytest.raises(RequestRefusedError, match="failed for good \\(EAPI:Invalid key\\)") as no:
        waiters.result(handle, None)
    assert no.value.error.text == "EAPI:Invalid key"
    assert no.value.outcome is unsent
    assert no.value.handle == handle
    assert waiters.ended is failed
    with pytest.raises(RequestRefusedError) as later:
        waiters.submit(BUY, T0)
    assert later.value.handle == 0
    assert later.value.outcome is None
    assert later.value.error.category == "API"
    assert isinstance(later.value, TradingRequestError)


def test_a_failure_without_krakens_error_names_its_reason() -> None:
    waiters = Waiters(View())
    waiters.feed([SessionFailed(reason="EGeneral:Permission denied")], T0)
    with pytest.raises(RequestRefusedError) as no:
        waiters.submit(BUY, T0)
    assert no.value.error.text == "EGeneral:Permission denied"


def test_only_what_the_failure_ended_becomes_a_refusal() -> None:
    waiters = Waiters(View())
    first, second = waiters.submit(BUY, T0), waiters.submit(BUY, T0)
    waiters.feed([RequestNotApplied(handle=first, request=BUY, via="ClosedOrders")], T0)
    unresolved = RequestUnresolved(handle=second, request=BUY, reason="stopped")
    waiters.feed([unresolved, SessionFailed(reason="x", error="EAPI:Invalid key")], T0)
    with pytest.raises(RequestNotAppliedError):
        waiters.result(first, None)
    with pytest.raises(OutcomeUnknownError):
        waiters.result(second, None)


def test_after_close_submit_is_misuse() -> None:
    view = View()
    waiters = Waiters(view)
    waiters.feed([SessionClosed()], T0)
    view.state = SessionState.CLOSED
    with pytest.raises(LocalProtocolError):
        waiters.submit(BUY, T0)


# --- the user's events ------------------------------------------------------------------------


def test_the_users_queue_and_its_end() -> None:
    waiters = Waiters(View())
    assert not waiters
    assert waiters.take() == []
    waiters.feed([Connected(), SessionClosed()], T0)
    assert waiters
    assert "queued=2" in repr(waiters)
    assert waiters.take_one() == Connected()
    ended = [waiters.exhausted]
    assert waiters.take() == [SessionClosed()]
    ended.append(waiters.exhausted)
    assert ended == [False, True]
    with pytest.raises(IndexError):
        waiters.take_one()


# --- what the table shows ---------------------------------------------------------------------


def test_reflects_add_and_edit() -> None:
    view = View()
    assert reflects(view.orders, accepted(1, BUY, None), ())
    assert not reflects(view.orders, accepted(1, BUY, "O1"), ())
    assert reflects(view.orders, accepted(1, replace_request(BUY, validate=True), "O1"), ())
    view.show("O1")
    assert reflects(view.orders, accepted(1, BUY, "O1"), ())
    edit = EditOrder(orderid="O1", pair="XBT/USD", price=Decimal("101"))
    assert not reflects(view.orders, accepted(2, edit, "O2"), ())
    view.show("O2")
    assert not reflects(view.orders, accepted(2, edit, "O2"), ())  # the original is open
    view.show("O1", status="canceled")
    assert reflects(view.orders, accepted(2, edit, "O2"), ())
    by_userref = EditOrder(orderid=7, pair="XBT/USD", volume=Decimal("2"))
    assert reflects(view.orders, accepted(3, by_userref, "O2"), ())


def test_reflects_cancels() -> None:
    view = View()
    view.show("O1", cl_ord_id="mine", userref=7)
    view.show("O2")
    assert not reflects(view.orders, accepted(1, CancelOrder(txid=("O1",)), None), ())
    assert not reflects(view.orders, accepted(1, CancelOrder(cl_ord_id=("mine",)), None), ())
    assert not reflects(view.orders, accepted(1, CancelOrder(userref=(7,)), None), ())
    assert reflects(view.orders, accepted(1, CancelOrder(txid=("O-unknown",)), None), ())
    assert not reflects(view.orders, accepted(1, CancelAll(), None), ("O1", "O2"))
    view.show("O1", status="canceled")
    for cancel in (CancelOrder(txid=("O1",)), CancelOrder(cl_ord_id=("mine",))):
        assert reflects(view.orders, accepted(1, cancel, None), ())
    assert reflects(view.orders, accepted(1, CancelOrder(userref=(7,)), None), ())
    assert not reflects(view.orders, accepted(1, CancelAll(), None), ("O1", "O2"))
    view.show("O2", status="canceled")
    assert reflects(view.orders, accepted(1, CancelAll(), None), ("O1", "O2"))
    assert reflects(view.orders, accepted(1, CancelAllOrdersAfter(timeout=60), None), ())


def test_reflects_amends() -> None:
    view = View()
    view.show(
        "O1",
        cl_ord_id="mine",
        vol=Decimal("1"),
        descr=OrderDescr(price=Decimal("100"), price2=Decimal("0")),
        stopprice=Decimal("90"),
    )

    def shown(**fields: Any) -> bool:
        return reflects(view.orders, accepted(1, AmendOrder(**fields), "O1"), ())

    assert shown(txid="O1", limit_price=Decimal("100"))
    assert not shown(txid="O1", limit_price=Decimal("101"))
    assert shown(cl_ord_id="mine", volume=Decimal("1.0"))
    assert not shown(cl_ord_id="mine", volume=Decimal("2"))
    assert shown(cl_ord_id="nobody's", volume=Decimal("2"))  # not an open order here
    assert shown(txid="O1", trigger_price=Decimal("90"))
    assert not shown(txid="O1", display_volume=Decimal("0.5"))
    assert shown(txid="O1", limit_price="+5")  # relative: cannot be compared
    assert shown(txid="O-unknown", limit_price=Decimal("1"))
    view.show("O2", descr=None, status=None)  # a stub: no descr known
    assert not shown(txid="O2", limit_price=Decimal("1"))
    view.show("O1", status="closed")
    assert shown(txid="O1", limit_price=Decimal("101"))  # ended: nothing more will change


def test_cancel_all_remembers_the_orders_open_at_submit() -> None:
    view = following()
    view.show("O1")
    waiters = Waiters(view)
    handle = waiters.submit(CancelAll(), T0)
    view.show("O3")  # placed later: not the CancelAll's to end
    waiters.feed([accepted(handle, CancelAll())], T0)
    assert not waiters.done(handle)
    view.show("O1", status="canceled")
    assert waiters.feed([SessionEvent()], T0) == [handle]


# --- the state machine ------------------------------------------------------------------------


class WaitersMachine(RuleBasedStateMachine):
    """Random calls, outcomes, table updates and clock ticks; the invariants say each call
    completes once, never before its outcome, and (while the table follows the account) not
    before the table shows it unless the session caught up or the hold ran out."""

    def __init__(self) -> None:
        super().__init__()
        self.view = following()
        self.waiters = Waiters(self.view, reflect_timeout=1.0)
        self.now = T0
        self.open: dict[int, str] = {}  # handle -> txid, for calls not yet ended
        self.outcomes: dict[int, RequestOutcome] = {}
        self.completed: list[int] = []
        self.released: set[int] = set()  # completed by catching up, stopping or the hold
        self.ended = False

    @precondition(lambda self: not self.ended)
    @rule()
    def submit(self) -> None:
        handle = self.waiters.submit(BUY, self.now)
        self.open[handle] = f"O{handle}"

    @precondition(lambda self: not self.ended)  # a stopped session reports nothing more
    @rule(data=st.data(), kind=st.sampled_from(["accepted", "refused", "not", "unknown"]))
    def outcome(self, data: st.DataObject, kind: str) -> None:
        waiting = [h for h in self.open if h not in self.outcomes]
        if not waiting:
            return
        handle = data.draw(st.sampled_from(waiting))
        outcome: RequestOutcome = {
            "accepted": accepted(handle, BUY, self.open[handle]),
            "refused": refused(handle, BUY),
            "not": RequestNotApplied(handle=handle, request=BUY, via="ClosedOrders"),
            "unknown": RequestUnresolved(handle=handle, request=BUY, reason="?"),
        }[kind]
        self.outcomes[handle] = outcome
        self.completed += self.waiters.feed([outcome], self.now)

    @rule(data=st.data())
    def table_shows(self, data: st.DataObject) -> None:
        if self.open:
            handle = data.draw(st.sampled_from(sorted(self.open)))
            self.view.show(self.open[handle])
            self.completed += self.waiters.feed([SessionEvent()], self.now)

    @rule(seconds=st.floats(0.0, 1.5))
    def tick(self, seconds: float) -> None:
        self.now += seconds
        held = {h for h in self.open if h in self.outcomes and not self.waiters.done(h)}
        done = self.waiters.expire(self.now)
        self.released |= held & set(done)
        self.completed += done

    @rule(event=st.sampled_from([Reconnected(downtime=0.0), SessionClosed()]))
    def catch_up(self, event: SessionEvent) -> None:
        held = {h for h in self.open if h in self.outcomes and not self.waiters.done(h)}
        if isinstance(event, Reconnected):
            self.view.connection = Link(SubscriptionState.ACTIVE)  # a new link caught up
        self.completed += self.waiters.feed([event], self.now)
        self.released |= held
        self.ended |= isinstance(event, SessionClosed)

    @rule(data=st.data())
    def end_call(self, data: st.DataObject) -> None:
        if not self.open:
            return
        handle = data.draw(st.sampled_from(sorted(self.open)))
        txid = self.open.pop(handle)
        try:
            result: Any = self.waiters.result(handle, 1.0)
        except TradingRequestError as exc:
            result = exc
        outcome = self.outcomes.get(handle)
        if outcome is None:
            assert isinstance(result, OutcomeUnknownError)
            assert result.outcome is None
        elif isinstance(outcome, RequestAccepted):
            assert result is outcome
            assert result.txid == txid
        else:
            assert isinstance(result, TradingRequestError)
            assert result.outcome is outcome

    @invariant()
    def each_call_completes_once_after_its_outcome(self) -> None:
        assert len(self.completed) == len(set(self.completed))
        for handle in self.completed:
            assert handle in self.outcomes
        for handle in self.open:
            if self.waiters.done(handle):
                assert handle in self.completed
                outcome = self.outcomes[handle]
                if isinstance(outcome, RequestAccepted) and handle not in self.released:
                    assert self.view.orders.get(self.open[handle]) is not None

    @invariant()
    def the_deadline_is_the_earliest_hold(self) -> None:
        deadline = self.waiters.next_deadline()
        if deadline is not None:
            assert self.now < deadline <= self.now + 1.0


TestWaitersMachine = WaitersMachine.TestCase
