"""``kraken_proto.v2.decode`` edges: lenient repairs, routing of ambiguous frames, the error
paths (each naming what was wrong), and the convenience properties of the events."""

from __future__ import annotations

from decimal import Decimal

import pytest
from kraken_proto import RemoteProtocolError
from kraken_proto.v2 import (
    AddOrderReply,
    BatchAddReply,
    BatchAddRow,
    Executions,
    Heartbeat,
    Pong,
    Status,
    SubscribeReply,
    UnknownMessage,
    UnsubscribeReply,
    decode,
)
from kraken_proto.v2._decode import _decode_carefully

D = Decimal


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"not json", "not JSON"),
        ("\ud800", "UTF-8"),
        ('{"channel":"heartbeat","x":"\ud800"}', "UTF-8"),
        (b'{"channel":"executions","data":[{"order_qty":1e99999999999999999999}]}', "too large"),
        ("[" * 100_000, "nested too deeply"),
        ("[" * 2_000 + "]" * 2_000, "nested too deeply"),
        (
            b'{"channel":"executions","type":"update","data":[{"order_qty":true}]}',
            r"\$\.data\[0\]\.order_qty",
        ),
        (b'{"channel":"executions","data":5}', r"malformed executions message.*\$\.data"),
        (b'{"method":"add_order","success":"yes"}', r"malformed add_order message.*\$\.success"),
        (b'{"method":"cancel_all","result":{"count":"x"}}', r"\$\.result\.count"),
    ],
)
def test_undecodable_input_is_a_remote_protocol_error(frame: str | bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message):
        decode(frame)


def test_non_text_input_is_a_remote_protocol_error() -> None:
    with pytest.raises(RemoteProtocolError, match="str or bytes"):
        decode(5)  # type: ignore[arg-type]
    event = decode(bytearray(b'{"channel":"heartbeat"}'))  # type: ignore[arg-type]
    assert event == Heartbeat()


@pytest.mark.parametrize(
    "frame",
    [
        b"[1,2]",
        b'"text"',
        b'{"method":"ping","req_id":1}',  # our own request echoed: not a reply we know
        b'{"channel":"ticker","data":[]}',
        b'{"Error":"Exceeded msg rate"}',
    ],
)
def test_valid_json_that_is_not_a_known_message_is_unknown(frame: bytes) -> None:
    event = decode(frame)
    assert isinstance(event, UnknownMessage)


def test_looseness_is_mended_on_the_careful_path() -> None:
    frame = (
        '{"channel":"executions","type":"update","sequence":3,"data":['
        '{"order_qty":"","order_userref":"12","post_only":"true","limit_price":"1.50",'
        '"triggers":{"price":""},"contingent":{"trigger_price":""},'
        '"fees":[{"qty":""},5]},7]}'
    )
    with pytest.raises(RemoteProtocolError, match=r"\$\.data\[0\]\.fees\[1\]"):
        decode(frame)
    event = decode(frame.replace(",5]", "]").replace(",7]", "]"))
    assert isinstance(event, Executions)
    record = event.data[0]
    assert record.order_qty is None
    assert record.order_userref == 12
    assert record.post_only is True
    assert record.limit_price == D("1.50")
    assert str(record.limit_price) == "1.50"
    assert record.triggers is not None
    assert record.triggers.price is None
    assert record.contingent is not None
    assert record.contingent.trigger_price is None
    assert record.fees is not None
    assert record.fees[0].qty is None
    # a non-object record is named by its path
    with pytest.raises(RemoteProtocolError, match=r"\$\.data\[0\]"):
        decode('{"channel":"executions","type":"update","data":[5]}')
    # balances and status records are mended the same way; a heartbeat has no records
    balances = decode(' {"channel":"balances","data":[{"balance":""}]}')
    assert balances.data[0].balance is None  # type: ignore[attr-defined]
    status = decode('{"channel":"status","data":[{"connection_id":"77"}]}'.replace("{", " {", 1))
    assert isinstance(status, Status)
    assert status.data[0].connection_id == 77
    assert decode(' {"channel":"heartbeat","data":[{"x":""}]}') == Heartbeat()


@pytest.mark.parametrize(
    ("req_id", "expected"),
    [('"101"', 101), ('"abc"', None), ("1.5", None), ("null", None), ("[1]", None)],
)
def test_a_req_id_echoed_as_text_is_read_or_dropped(req_id: str, expected: int | None) -> None:
    event = decode('{"method":"pong","req_id":' + req_id + "}")
    assert event == Pong(req_id=expected)


def test_an_ambiguous_frame_is_routed_as_the_fast_path_does() -> None:
    both = '{"channel":"heartbeat","method":"pong"}'
    assert decode(both) == Heartbeat()
    assert _decode_carefully(both) == Heartbeat()
    assert _decode_carefully(both.encode()) == Heartbeat()
    assert _decode_carefully(memoryview(both.encode())) == Heartbeat()
    other = '{"method":"pong","channel":"heartbeat"}'
    assert decode(other) == Pong()
    assert _decode_carefully(other) == Pong()
    # a push whose channel key is not first still decodes (through the careful path)
    assert decode('{"type":"update","channel":"heartbeat"}') == Heartbeat(type="update")


def test_reply_properties() -> None:
    ok = decode('{"method":"add_order","success":true,"result":{"order_id":"O1"}}')
    assert isinstance(ok, AddOrderReply)
    assert ok.ok
    assert ok.error is None
    failed = decode('{"method":"add_order","success":false,"error":"EOrder:Insufficient funds"}')
    assert isinstance(failed, AddOrderReply)
    assert not failed.ok
    assert failed.error is not None
    assert failed.error.category == "Order"
    silent = decode('{"method":"add_order","success":false}')
    assert isinstance(silent, AddOrderReply)
    assert not silent.ok
    assert silent.error is not None
    assert silent.error.text == "success false"
    ack = decode('{"method":"subscribe","success":true,"result":{"channel":"balances"}}')
    assert isinstance(ack, SubscribeReply)
    assert ack.channel == "balances"
    assert SubscribeReply(success=False).channel is None
    gone = decode('{"method":"unsubscribe","success":true,"result":{"channel":"executions"}}')
    assert isinstance(gone, UnsubscribeReply)
    assert gone.channel == "executions"
    assert UnsubscribeReply().channel is None
    pong = Pong(req_id=1)
    assert pong.ok
    assert pong.error is None
    bad_pong = Pong(error_message="EGeneral:Invalid arguments")
    assert not bad_pong.ok
    assert bad_pong.error is not None
    assert BatchAddReply().rows == ()
    rows = (BatchAddRow(order_id="O1"), BatchAddRow(error="EOrder:x"), BatchAddRow(success=False))
    assert [row.ok for row in BatchAddReply(result=rows).rows] == [True, False, False]
    nested = decode('{"method":"batch_add","result":{"orders":[{"order_id":"O1"}]}}')
    assert isinstance(nested, BatchAddReply)
    assert nested.rows == (BatchAddRow(order_id="O1"),)


def test_push_properties() -> None:
    snapshot = decode('{"channel":"executions","type":"snapshot","data":[],"sequence":1}')
    assert isinstance(snapshot, Executions)
    assert snapshot.is_snapshot
    assert not Executions(type="update").is_snapshot
    assert Status().system is None
    status = decode(
        '{"channel":"status","type":"update","data":[{"system":"online"},{"system":"cancel_only"}]}'
    )
    assert isinstance(status, Status)
    assert status.system == "cancel_only"


def test_unknown_exec_types_and_statuses_decode() -> None:
    event = decode(
        '{"channel":"executions","type":"update","data":[{"exec_type":"future_thing",'
        '"order_status":"odd","order_id":"O1"}],"sequence":4}'
    )
    assert isinstance(event, Executions)
    assert event.data[0].exec_type == "future_thing"
    assert event.data[0].order_status == "odd"
