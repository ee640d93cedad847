"""``V1Link.receive_data``: ``Connection.receive_message`` with the usual frame handed back.

Every frame must leave the link exactly as ``receive_message`` leaves a ``Connection``: the
same events (a returned frame counts as its ``ChannelUpdate``), the same state and errors.
"""

from __future__ import annotations

import orjson
import pytest
from kraken_proto import LocalProtocolError, RemoteProtocolError
from kraken_proto._event_base import Event
from kraken_proto.session._v1_link import V1Link
from kraken_proto.v1 import ChannelUpdate, Connection, ConnectionState, Subscribe

TOKEN = "WW91ciBhdXRoZW50aWNhdGlvbiB0b2tlbiBnb2VzIGhlcmUu"


def _subscribed(connection: Connection) -> Connection:
    connection.connection_made(0.0)
    connection.provide_token(TOKEN, 0.0)
    reqid = connection.send(Subscribe(name="openOrders"), 0.0)
    ack = {
        "channelName": "openOrders",
        "event": "subscriptionStatus",
        "reqid": reqid,
        "status": "subscribed",
        "subscription": {"name": "openOrders"},
    }
    connection.receive_message(orjson.dumps(ack), 0.0)
    connection.data_to_send()
    connection.events_received()
    return connection


def _orders(sequence: int, channel: str = "openOrders") -> bytes:
    entry = {f"O{sequence}": {"status": "open", "userref": sequence}}
    return orjson.dumps([[entry], channel, {"sequence": sequence}])


def _via_message(connection: Connection, frame: bytes) -> list[Event]:
    connection.receive_message(frame, 1.0)
    return connection.events_received()


FRAMES = [
    _orders(1),  # the snapshot: not the usual frame
    _orders(2),  # in sequence: handed back
    _orders(3),
    _orders(5),  # a gap
    _orders(6),  # after the gap
    _orders(1, "ownTrades"),  # a channel without a subscription
    orjson.dumps({"event": "heartbeat"}),
    _orders(1),  # the resubscription's snapshot has no ack yet: still flagged
]


def test_receive_data_matches_receive_message_frame_by_frame() -> None:
    link = V1Link()
    _subscribed(link)
    connection = _subscribed(Connection())
    returned = 0
    for frame in FRAMES:
        data = link.receive_data(frame, 1.0)
        returned += data is not None
        got = link.events_received()
        if data is not None:
            assert got == []
            got = [ChannelUpdate(event=data)]
        assert got == _via_message(connection, frame)
        assert link.data_to_send() == connection.data_to_send()
        assert link.subscription_state("openOrders") == connection.subscription_state("openOrders")
    assert returned == 2


def test_receive_data_refuses_like_receive_message() -> None:
    link = V1Link()
    with pytest.raises(LocalProtocolError, match="receive_message: the connection is idle"):
        link.receive_data(_orders(1), 0.0)
    _subscribed(link)
    with pytest.raises(RemoteProtocolError):
        link.receive_data(b"[1, 2", 0.0)
    assert link.state is ConnectionState.FAILED
