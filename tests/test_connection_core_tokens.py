"""A rejected token refuses what was sent after it with that token (pure connection core).

Kraken answers a connection's requests in order and a rejected token stays invalid, so the
requests sent after the one whose reply rejected the token are answered with the same
refusal. The session drops the connection on ``TokenRejected`` and would never read those
answers; the core ends them as refused instead of leaving them to be lost (and reconciled as
"not applied").
"""

from __future__ import annotations

from kraken_proto import CancelAll
from kraken_proto._connection_state import SubscriptionState, TokenState
from kraken_proto.v1 import Ping, RequestFailed, Subscribe, TokenRejected

from tests.v1.test_connection import err, limit_order, of_type, opened, received


def test_requests_sent_after_the_rejected_one_with_its_token_are_refused_too() -> None:
    conn = opened()
    before = conn.send(limit_order(), 0.0)
    rejected = conn.send(limit_order(), 0.0)
    after = conn.send(CancelAll(), 0.0)
    ping = conn.send(Ping(), 0.0)  # carries no token: Kraken answers it as usual
    subscribe = conn.send(Subscribe(name="openOrders"), 0.0)
    conn.receive_message(err("addOrderStatus", rejected, "ESession:Invalid session"), 1.0)
    events = received(conn)
    assert of_type(events, TokenRejected) == [
        TokenRejected(reqid=rejected, error=of_type(events, RequestFailed)[0].error)
    ]
    failed = of_type(events, RequestFailed)
    assert [event.reqid for event in failed] == [after, subscribe, rejected]
    assert {event.error.text for event in failed} == {"ESession:Invalid session"}
    assert failed[0].replies == ()
    # sent before the rejected one: it may have been accepted; its answer still counts
    assert set(conn.pending_requests()) == {before, ping}
    assert conn.token_state is TokenState.NONE
    assert conn.subscription_state("openOrders") is SubscriptionState.FAILED
