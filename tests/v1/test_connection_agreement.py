"""Client and server agree on every subscription, whatever happens to the acknowledgement.

Regression tests for issue 8: a snapshot before a late ack is a snapshot; a lost or late ack
never leaves a stuck FAILED; "Already subscribed" means subscribed; "Subscription Not Found"
means unsubscribed. Also: a wholesale error to a multi-id CancelOrder ends it at once.
"""

from __future__ import annotations

import json
from typing import Any

from kraken_proto import CancelOrder
from kraken_proto.v1 import (
    ChannelSnapshot,
    ChannelUpdate,
    LateReply,
    RequestCompleted,
    RequestFailed,
    RequestTimedOut,
    SequenceGap,
    Subscribe,
    SubscriptionState,
    TokenState,
    Unsubscribe,
)

from tests.v1.test_connection import TOKEN, data, err, opened, received, sent, sub_ack, subscribed


def _order_frame(sequence: int, txid: str, status: str) -> str:
    record: dict[str, Any] = {"status": status}
    if status == "open":
        record["descr"] = {"pair": "XBT/USD", "type": "buy", "ordertype": "limit"}
    return json.dumps([[{txid: record}], "openOrders", {"sequence": sequence}])


def test_snapshot_before_its_late_ack_is_a_snapshot() -> None:
    conn = opened()
    reqid = conn.send(Subscribe(name="openOrders"), 0.0)
    conn.receive_message(data("openOrders", 1), 0.5)
    assert conn.subscription_state("openOrders") is SubscriptionState.ACTIVE
    assert conn.token_state is TokenState.BOUND
    conn.receive_message(data("openOrders", 2), 0.6)
    conn.receive_message(sub_ack(reqid, "openOrders"), 1.0)
    conn.receive_message(data("openOrders", 3), 1.1)
    events = received(conn)
    kinds = [type(e) for e in events]
    expected = [ChannelSnapshot, ChannelUpdate, type(events[2]), RequestCompleted, ChannelUpdate]
    assert kinds == expected
    assert [e.event.sequence for e in events if isinstance(e, ChannelUpdate)] == [2, 3]
    assert conn.subscription_state("openOrders") is SubscriptionState.ACTIVE


def test_lost_ack_with_snapshot_stays_active_and_the_request_times_out() -> None:
    conn = opened()
    conn.send(Subscribe(name="openOrders"), 0.0)
    conn.receive_message(data("openOrders", 1), 0.5)
    conn.data_to_send()
    conn.handle_timeout(10.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.ACTIVE
    assert [m["event"] for m in sent(conn)] == ["ping"]  # liveness only: nothing asked again
    assert any(isinstance(e, RequestTimedOut) for e in received(conn))


def test_lost_ack_without_data_asks_again_and_already_subscribed_settles_it() -> None:
    conn = opened()
    conn.send(Subscribe(name="ownTrades", snapshot=False), 0.0)
    conn.data_to_send()
    conn.handle_timeout(10.0)
    (again,) = sent(conn)
    assert again["subscription"] == {"name": "ownTrades", "snapshot": False, "token": TOKEN}
    conn.receive_message(err("subscriptionStatus", again["reqid"], "Already subscribed"), 10.5)
    assert conn.subscription_state("ownTrades") is SubscriptionState.ACTIVE
    events = received(conn)
    assert isinstance(events[-1], RequestCompleted)
    conn.receive_message(data("ownTrades", 7), 11.0)
    assert [type(e) for e in received(conn)] == [ChannelUpdate]


def test_already_subscribed_for_a_snapshot_channel_waits_for_a_fresh_snapshot() -> None:
    conn = opened()
    reqid = conn.send(Subscribe(name="openOrders"), 0.0)
    conn.receive_message(err("subscriptionStatus", reqid, "Already subscribed"), 0.5)
    assert conn.subscription_state("openOrders") is SubscriptionState.ACTIVE
    conn.data_to_send()
    received(conn)
    conn.receive_message(data("openOrders", 12), 1.0)
    gap, flagged = received(conn)
    assert gap == SequenceGap(channel="openOrders", expected=1, got=12)
    assert isinstance(flagged, ChannelUpdate)
    assert flagged.after_gap
    assert [m["event"] for m in sent(conn)] == ["unsubscribe", "subscribe"]


def test_late_ack_after_giving_up_makes_it_active() -> None:
    conn = opened()
    first = conn.send(Subscribe(name="openOrders"), 0.0)
    conn.handle_timeout(10.0)
    conn.handle_timeout(20.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.FAILED
    received(conn)
    conn.receive_message(sub_ack(first, "openOrders"), 21.0)
    assert any(isinstance(e, LateReply) for e in received(conn))
    assert conn.subscription_state("openOrders") is SubscriptionState.ACTIVE


def test_failed_subscription_may_be_unsubscribed_and_not_found_means_unsubscribed() -> None:
    conn = opened()
    conn.send(Subscribe(name="openOrders"), 0.0)
    conn.handle_timeout(10.0)
    conn.handle_timeout(20.0)
    conn.data_to_send()
    reqid = conn.send(Unsubscribe(name="openOrders"), 21.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.UNSUBSCRIBING
    conn.receive_message(err("subscriptionStatus", reqid, "Subscription Not Found"), 22.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.UNSUBSCRIBED


def test_resubscribe_snapshot_before_its_ack_ends_the_resync() -> None:
    conn = opened()
    subscribed(conn)
    conn.receive_message(_order_frame(1, "OA", "open"), 1.0)
    conn.receive_message(_order_frame(4, "OA", "closed"), 1.0)  # gap
    unsubscribe, subscribe = sent(conn)
    received(conn)
    conn.receive_message(_order_frame(5, "OA", "closed"), 1.1)  # old subscription, flagged
    conn.receive_message(data("openOrders", 1), 1.2)  # the new snapshot, ack still to come
    conn.receive_message(data("openOrders", 2), 1.3)
    conn.receive_message(sub_ack(unsubscribe["reqid"], "openOrders", "unsubscribed"), 1.4)
    conn.receive_message(sub_ack(subscribe["reqid"], "openOrders"), 1.5)
    conn.receive_message(data("openOrders", 3), 1.6)
    frames = [e for e in received(conn) if isinstance(e, ChannelSnapshot | ChannelUpdate)]
    assert [(type(e), e.event.sequence) for e in frames] == [
        (ChannelUpdate, 5),
        (ChannelSnapshot, 1),
        (ChannelUpdate, 2),
        (ChannelUpdate, 3),
    ]
    assert [getattr(e, "after_gap", False) for e in frames] == [True, False, False, False]
    assert conn.subscription_state("openOrders") is SubscriptionState.ACTIVE


def test_resubscribe_timeout_asks_again() -> None:
    conn = opened()
    subscribed(conn)
    conn.receive_message(data("openOrders", 1), 1.0)
    conn.receive_message(data("openOrders", 3), 1.0)
    unsubscribe, _ = sent(conn)
    conn.receive_message(sub_ack(unsubscribe["reqid"], "openOrders", "unsubscribed"), 1.1)
    conn.handle_timeout(11.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.RESYNCING
    assert [m["event"] for m in sent(conn)] == ["subscribe", "ping"]


def test_subscribe_timeout_while_closing_fails_at_once() -> None:
    conn = opened()
    conn.send(Subscribe(name="openOrders"), 0.0)
    conn.close(1.0)
    conn.handle_timeout(10.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.FAILED


def test_subscribe_timeout_without_token_fails_at_once() -> None:
    conn = opened()
    conn.send(Subscribe(name="openOrders"), 0.0)
    conn.receive_message(err("cancelOrderStatus", None, "ESession:Invalid session"), 1.0)
    conn.handle_timeout(10.0)
    assert conn.subscription_state("openOrders") is SubscriptionState.FAILED


def test_multi_id_cancel_wholesale_error_ends_at_once() -> None:
    conn = opened()
    reqid = conn.send(CancelOrder(txid=("OA", "OB", "OC")), 0.0)
    conn.receive_message(err("cancelOrderStatus", reqid, "EGeneral:Invalid arguments"), 0.5)
    (_reply, failed) = received(conn)
    assert isinstance(failed, RequestFailed)
    assert failed.error.text == "EGeneral:Invalid arguments"
    assert conn.pending_requests() == {}


def test_multi_id_cancel_per_id_error_waits_for_the_rest() -> None:
    conn = opened()
    reqid = conn.send(CancelOrder(txid=("OA", "OB")), 0.0)
    conn.receive_message(err("cancelOrderStatus", reqid, "EOrder:Unknown order"), 0.5)
    assert reqid in conn.pending_requests()


def test_answers_for_a_subscription_already_gone_change_nothing() -> None:
    conn = opened()
    first = conn.send(Subscribe(name="openOrders"), 0.0)
    conn.receive_message(data("openOrders", 1), 0.5)
    reqid = conn.send(Unsubscribe(name="openOrders"), 0.6)
    conn.receive_message(sub_ack(reqid, "openOrders", "unsubscribed"), 0.7)
    assert conn.subscription_state("openOrders") is SubscriptionState.UNSUBSCRIBED
    conn.receive_message(sub_ack(first, "openOrders"), 0.8)
    assert conn.subscription_state("openOrders") is SubscriptionState.UNSUBSCRIBED
    second = conn.send(Subscribe(name="ownTrades"), 1.0)
    conn.receive_message(data("ownTrades", 1), 1.1)
    reqid = conn.send(Unsubscribe(name="ownTrades"), 1.2)
    conn.receive_message(sub_ack(reqid, "ownTrades", "unsubscribed"), 1.3)
    conn.handle_timeout(11.5)
    assert second not in conn.pending_requests()
    assert conn.subscription_state("ownTrades") is SubscriptionState.UNSUBSCRIBED


def test_data_ack_of_a_subscribe_sent_with_an_older_token_does_not_bind_the_new_one() -> None:
    conn = opened()
    conn.send(Subscribe(name="openOrders"), 0.0)
    conn.provide_token("n3wTOKENvalue", 0.1)
    conn.receive_message(data("openOrders", 1), 0.5)
    assert conn.subscription_state("openOrders") is SubscriptionState.ACTIVE
    assert conn.token_state is TokenState.FRESH
