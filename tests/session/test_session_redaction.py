"""The session hands its secret-bearing text on redacted: outgoing messages (they carry the
token) and REST bodies (a token answer holds it) show only their length in a ``repr``, so no
traceback frame's locals render the token."""

from __future__ import annotations

from kraken_proto import SendMessages
from kraken_proto._redacted import RedactedBytes, RedactedText
from kraken_proto.v1 import Subscribe

from tests.session.session_wire import Wire


def test_redacted_text_and_bytes_are_plain_values_with_a_length_only_repr() -> None:
    text, data = RedactedText('{"token": "abc"}'), RedactedBytes(b"token abc")
    assert text == '{"token": "abc"}'
    assert data == b"token abc"
    assert repr(text) == "<16 characters, redacted>"
    assert repr(data) == "<9 bytes, redacted>"
    assert "abc" not in repr([text, data])


def test_outgoing_messages_are_redacted() -> None:
    wire = Wire()
    session = wire.session
    session.subscribe(Subscribe(name="openOrders"), wire.now)
    session.start(wire.now)
    sends: list[SendMessages] = []
    for _ in range(20):
        for action in session.actions():
            if isinstance(action, SendMessages):
                sends.append(action)
            wire._do(action)
    assert sends
    texts = [text for action in sends for text in action.messages]
    assert any('"token"' in text for text in texts)
    assert all(isinstance(text, RedactedText) for text in texts)
