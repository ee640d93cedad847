"""Every input the fuzz targets (``fuzz/``) found, replayed: first through the target's own
check, then as a plain assertion on the code that was fixed."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from decimal import Decimal

import kraken_proto as kp
import kraken_proto.rest as kp_rest
import kraken_proto.v1 as kp_v1
import pytest
from fuzz._sim import new_exchange, signed_headers
from fuzz.fuzz_websocket import accept_response, frame
from kraken_proto import v2
from kraken_proto._repr import decimal_text
from kraken_proto.adapters.simulator.model.exchange import Exchange, SimulatorConfig
from kraken_proto.adapters.transport._endpoint import parse_endpoint
from kraken_proto.adapters.transport._ws import (
    HandshakeError,
    WebSocketClosed,
    WebSocketSession,
)

from fuzz import (
    fuzz_connection,
    fuzz_connection_v2,
    fuzz_rest,
    fuzz_session_rest,
    fuzz_sim_rest,
    fuzz_sim_ws,
    fuzz_websocket,
)

ENDPOINT = parse_endpoint("ws://127.0.0.1:8080/")


def _opened(max_message_size: int = 64) -> WebSocketSession:
    session = WebSocketSession(ENDPOINT, max_message_size=max_message_size)
    assert session.receive_data(accept_response(session.handshake())) == []
    assert session.is_open
    return session


# --- WebSocketSession (adapters/transport/_ws.py) -------------------------------------------------


def test_a_101_without_connection_upgrade_is_a_handshake_error() -> None:
    """Found by fuzz_websocket: wsproto's own RemoteProtocolError escaped receive_data."""
    fuzz_websocket.check(b"\x00HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
    session = WebSocketSession(ENDPOINT)
    session.handshake()
    with pytest.raises(HandshakeError, match="Connection: Upgrade"):
        session.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")


def test_garbage_instead_of_an_http_answer_is_a_handshake_error() -> None:
    session = WebSocketSession(ENDPOINT)
    session.handshake()
    with pytest.raises(HandshakeError, match="Bad HTTP message"):
        session.receive_data(b"\x00garbage\r\n\r\n")


def test_no_bytes_is_not_end_of_stream_during_the_handshake() -> None:
    """Found by fuzz_websocket: ``receive_data(b"")`` before the answer read as EOF, so the
    same bytes fed in pieces (with an empty piece) failed the handshake."""
    fuzz_websocket.check(b"\x00")
    session = WebSocketSession(ENDPOINT)
    answer = accept_response(session.handshake())
    assert session.receive_data(b"") == []
    assert session.receive_data(answer) == []
    assert session.is_open
    assert session.receive_data(b"") == []
    assert session.receive_data(frame(0x1, b"hi")) == ["hi"]


def test_a_message_over_the_cap_closes_with_1009() -> None:
    """Found by the bounded-memory check: a message of any size was buffered."""
    session = _opened(max_message_size=64)
    messages = session.receive_data(frame(0x1, b"ok") + frame(0x1, b"x" * 65))
    assert messages == ["ok"]
    assert not session.is_open
    close = session.bytes_to_send()
    assert close[0] == 0x88  # a (masked) close frame goes back
    with pytest.raises(WebSocketClosed) as closed:
        session.receive_data(frame(0x1, b"more"))
    assert closed.value.code == 1009
    assert session.close() == b""


def test_a_fragmented_message_over_the_cap_closes_with_1009() -> None:
    session = _opened(max_message_size=64)
    assert session.receive_data(frame(0x1, b"a" * 40, fin=False)) == []
    assert session.receive_data(frame(0x0, b"b" * 40)) == []
    assert not session.is_open
    assert session._parts == []
    fuzz_websocket.check(b"\x01" + frame(0x1, b"x" * 600, fin=False) + frame(0x0, b"y" * 600))


def test_messages_at_the_cap_pass_and_the_count_restarts_per_message() -> None:
    session = _opened(max_message_size=64)
    data = frame(0x1, b"a" * 30, fin=False) + frame(0x0, b"b" * 34) + frame(0x1, b"c" * 64)
    assert session.receive_data(data) == ["a" * 30 + "b" * 34, "c" * 64]
    assert session.is_open


def test_an_over_cap_message_after_the_peer_closed_sends_no_second_close() -> None:
    # The peer's close arrives first; the session answers it, then stops reading.
    session = _opened(max_message_size=8)
    data = frame(0x8, b"\x03\xe8") + frame(0x1, b"z" * 20)
    assert session.receive_data(data) == []
    with pytest.raises(WebSocketClosed) as closed:
        session.receive_data(b"")
    assert closed.value.code == 1000


def test_over_cap_whole_and_bytewise_agree_on_closing() -> None:
    """Found by fuzz_websocket: over the cap, an invalid byte later in the same frame is seen
    first when the frame arrives whole (1007) and after the cap when byte by byte (1009)."""
    fuzz_websocket.check(b"\x01" + frame(0x1, b"x" * 2000 + b"\xff"))


# --- the simulator (adapters/simulator/model/exchange.py) -----------------------------------------


def test_simulator_refuses_an_out_of_range_number_as_malformed() -> None:
    """Found by fuzz_sim_ws: ``"reqid":1e999`` was echoed as ``Infinity``, which is not JSON."""
    fuzz_sim_ws.check(b'\x00{"event":"ping","reqid":184467440737095511e999616}')
    exchange = Exchange(SimulatorConfig(), rng=random.Random(0), now=1.0)
    session = exchange.open_session(1.0)
    exchange.take_outgoing(session, 1.0)
    exchange.receive(session, '{"event":"ping","reqid":1e999}', 2.0)
    (reply,) = exchange.take_outgoing(session, 2.0)
    assert json.loads(reply) == {"errorMessage": "Malformed request", "event": "error"}
    assert isinstance(kp.decode(reply), kp_v1.ErrorEvent)
    exchange.receive(session, '{"event":"ping","reqid":1.5}', 3.0)
    (reply,) = exchange.take_outgoing(session, 3.0)
    assert json.loads(reply)["reqid"] == 1.5  # a finite float is still echoed as sent


def test_simulator_v2_refuses_a_number_past_decimal_limits_as_invalid_arguments() -> None:
    """Found by fuzz_sim_ws in CI: a v2 ``req_id`` of ``11e999...`` made ``Decimal`` raise
    ``InvalidOperation`` out of the simulator's v2 request parser."""
    fuzz_sim_ws.check(b'\x05{"method":"ping","req_id":11e9992322222222222222222222222222222222222}')
    exchange = Exchange(SimulatorConfig(), rng=random.Random(0), now=1.0)
    session = exchange.open_session(1.0, protocol="v2")
    exchange.take_outgoing(session, 1.0)
    exchange.receive(session, '{"method":"ping","req_id":1.5e9999999999999999999}', 2.0)
    replies = [json.loads(text) for text in exchange.take_outgoing(session, 2.0)]
    assert replies, "the simulator answers a malformed v2 request"
    assert all(reply.get("success") is False for reply in replies)
    assert all(isinstance(v2.decode(json.dumps(reply)), kp.Event) for reply in replies)


# --- the REST parsers (kraken_proto/rest/_envelope.py) --------------------------------------------


@pytest.mark.parametrize(
    "parse",
    [
        kp_rest.parse_open_orders_response,
        kp_rest.parse_closed_orders_response,
        kp_rest.parse_query_orders_response,
        kp_rest.parse_trades_history_response,
        kp_rest.parse_query_trades_response,
        kp_rest.parse_token_response,
    ],
)
def test_a_number_past_decimals_exponent_limit_is_a_malformed_response(
    parse: Callable[[int, bytes], object],
) -> None:
    """Found by fuzz_rest: ``1e999999999999999999999`` made the envelope's ``Decimal`` float hook
    raise ``decimal.InvalidOperation`` out of every parser. (Such a number now fails only a
    parser that reads it; here each stops at a field the body lacks or has wrong first.)"""
    body = b'{"error":[],"result":{"count":1e999999999999999999999}}'
    with pytest.raises(kp_rest.MalformedRestResponseError):
        parse(200, body)
    fuzz_rest.check(b"\x18\x00" + b"46666666661e9996666666666666666666666666i")


# --- the simulator's REST (adapters/simulator/model/_rest.py, _rest_queries.py) -------------------


def _signed_call(path: str, body: bytes) -> dict[str, object]:
    sim = new_exchange()
    reply = sim.exchange.handle_rest(
        method="POST",
        path=path,
        headers=signed_headers(sim.config, path, "2", body),
        body=body,
        now=sim.now + 1,
    )
    assert reply.status == 200
    document: dict[str, object] = json.loads(reply.body)
    return document


def test_simulator_refuses_a_doubled_minus_sign_as_invalid_arguments() -> None:
    """Found by fuzz_sim_rest: ``ofs=--11`` passed ``lstrip("-").isdigit()``, then ``int()``
    raised ``ValueError`` out of ``handle_rest``."""
    fuzz_sim_rest.check(b'"\n\nofs=--11')
    for path in ("/0/private/ClosedOrders", "/0/private/TradesHistory"):
        document = _signed_call(path, b"nonce=2&ofs=--11")
        assert document["error"] == ["EGeneral:Invalid arguments:ofs"]
    assert _signed_call("/0/private/ClosedOrders", b"nonce=2&ofs=-1")["error"] == [
        "EGeneral:Invalid arguments:ofs"
    ]


@pytest.mark.parametrize("path", ["/0/private/GetWebSocketsToken", "/0/private/OpenOrders"])
def test_simulator_refuses_a_nonce_too_long_for_int(path: str) -> None:
    # int() refuses more than 4300 digits with ValueError; the simulator must answer instead.
    document = _signed_call(path, b"nonce=" + b"7" * 5000)
    assert document["error"] == ["EAPI:Invalid nonce"]


# --- exact-digit reprs (kraken_proto/_repr.py) ----------------------------------------------------


def test_a_huge_exponent_in_a_frame_has_a_short_repr() -> None:
    """Found by fuzz_connection_v2: the frame ``8e995674407370955189`` decodes to an
    ``UnknownMessage`` holding that Decimal, and its repr wrote it out in positional notation
    (exabytes: MemoryError). Past 100 characters the repr is scientific, still exact."""
    frame = "8e995674407370955189"
    fuzz_connection_v2.check(b"\xf9" + frame.encode() + b'\n\n\n:"e"}')
    fuzz_connection.check(b"\x00" + frame.encode())
    for decode in (kp.decode, v2.decode):
        event = decode(frame)
        assert repr(event) == "UnknownMessage(data=Decimal('8E+995674407370955189'))"
    assert decimal_text(Decimal("8e995674407370955189")) == "8E+995674407370955189"
    assert decimal_text(Decimal("-1E-200")) == "-1E-200"
    assert decimal_text(Decimal("0E-8")) == "0.00000000"
    assert decimal_text(Decimal("1E+99")) == "1" + "0" * 99
    assert decimal_text(Decimal("NaN")) == "NaN"


def test_a_request_with_a_huge_exponent_fails_with_a_short_message() -> None:
    with pytest.raises(kp.LocalProtocolError, match=r"got -1E\+999999999999") as raised:
        kp.AddOrder(
            ordertype="market", type="buy", pair="XBT/USD", volume=Decimal("-1e999999999999")
        )
    assert len(str(raised.value)) < 200


# --- the token answer (kraken_proto/rest/_token.py) -----------------------------------------------


@pytest.mark.parametrize("token", [" 1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw", "a b"])
def test_a_token_the_connection_would_refuse_is_a_malformed_answer(token: str) -> None:
    """Found by fuzz_session_rest: a token answer whose token held whitespace parsed, then
    ``Session.connection_made`` raised ``LocalProtocolError`` from ``provide_token``."""
    body = b'{"error":[],"result":{"token":"%s","expires":900}}' % token.encode()
    with pytest.raises(kp_rest.MalformedTokenResponseError, match="whitespace") as raised:
        kp_rest.parse_token_response(200, body)
    assert token not in str(raised.value)
    fuzz_session_rest.check(b"\x01\x00" + body)
