"""The packaged decode and REST fuzz targets catch what they promise to catch: a non-finite
Decimal, a frame that decodes differently as bytes and as text, and a JSON number past
Decimal's range (which no result can hold, so it is no evidence for one)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from kraken_proto import Event, RemoteProtocolError
from kraken_proto.testing.fuzz import REST
from kraken_proto.testing.fuzz._decode import check_decoder, check_paths_agree
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


def test_the_fast_and_careful_paths_disagreeing_is_a_finding() -> None:
    def fast(frame: object) -> Heartbeat:
        return Heartbeat()

    def careful_error(frame: object) -> Heartbeat:
        raise RemoteProtocolError("refused")

    def careful_other(frame: object) -> Event:
        return _WithNumber(number=Decimal(1))

    for careful in (careful_error, careful_other):
        with pytest.raises(AssertionError, match="fast path gave"):
            check_paths_agree(fast, careful, b"{}")
    check_paths_agree(fast, fast, b"{}")  # agreeing: no finding


def test_the_paths_are_not_compared_on_invalid_utf8_or_a_refused_frame() -> None:
    def fast(frame: object) -> Heartbeat:
        if frame == b"[]":
            raise RemoteProtocolError("refused")
        return Heartbeat()

    def careful(frame: object) -> Heartbeat:
        raise RemoteProtocolError("refused")

    check_paths_agree(fast, careful, b"\xff")  # msgspec skips unknown keys unchecked
    check_paths_agree(fast, careful, b"[]")  # the fast path refused: nothing to compare


def test_an_unknown_key_of_invalid_utf8_passes_the_decode_target() -> None:
    """The fast path takes the frame (the bad bytes sit in a key it skips), the careful path
    refuses it: a known difference on invalid UTF-8, which the target leaves out."""
    from kraken_proto.testing.fuzz import DECODE

    DECODE.check(
        b'[[{"TDLH43-DVQXD-2KHVYY":{"cost":"1.5","fe\xf0\xe8S":"6"}}],"ownTrades",{"sequence":2}]'
    )
