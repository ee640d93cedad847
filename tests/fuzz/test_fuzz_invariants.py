"""The packaged decode and REST fuzz targets catch what they promise to catch: a non-finite
Decimal, a frame that decodes differently as bytes and as text, and a JSON number past
Decimal's range (which no result can hold, so it is no evidence for one)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from kraken_proto import Event, RemoteProtocolError
from kraken_proto.testing.fuzz import REST
from kraken_proto.testing.fuzz._decode import check_decoder
from kraken_proto.v1 import Heartbeat


class _WithNumber(Event, frozen=True, kw_only=True):
    number: Decimal


def test_a_non_finite_decimal_in_an_event_is_a_finding() -> None:
    with pytest.raises(AssertionError, match="NaN"):
        check_decoder(lambda frame: _WithNumber(number=Decimal("NaN")), b"{}")


def test_bytes_and_text_decoding_differently_is_a_finding() -> None:
    def decode(frame: object) -> Heartbeat:
        if isinstance(frame, bytes):
            raise RemoteProtocolError("bytes refused")
        return Heartbeat()

    with pytest.raises(AssertionError, match="bytes gave"):
        check_decoder(decode, b"{}")


def test_invalid_utf8_may_decode_differently_as_text() -> None:
    def decode(frame: object) -> Heartbeat:
        if isinstance(frame, bytes):
            raise RemoteProtocolError("bytes refused")
        return Heartbeat()

    check_decoder(decode, b"\xff")  # no finding: the text form is not the same input


def test_a_json_number_past_decimal_range_is_skipped_by_the_rest_target() -> None:
    # Every parser under HTTP 200, body with an exponent Decimal cannot hold: no crash.
    for index in range(8):
        REST.check(
            bytes([index, 0])
            + (
                b'{"error":[],"result":{"token":"abcdefgh","expires":900,'
                b'"x":1e99999999999999999999}}'
            )
        )
