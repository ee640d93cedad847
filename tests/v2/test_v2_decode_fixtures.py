"""Every v2 frame in ``kraken-ws-v2.md`` decodes (or encodes) exactly as expected, plus the
number rules, the lenient repairs and the error paths of ``kraken_proto.v2.decode``."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from kraken_proto.v2 import Event, V2Request, decode, encode
from kraken_proto.v2._decode import _decode_carefully

from tests.v2.fixtures_v2 import INBOUND, OUTBOUND


def exact(event: Event) -> Any:
    """A comparable form in which Decimals keep their exponent (str(Decimal) does)."""
    return (type(event).__name__, msgspec.to_builtins(event))


def digits(text: str) -> Any:
    """Parsed JSON in which every number is its literal text, to compare digits exactly."""
    return json.loads(text, parse_float=str, parse_int=str)


@pytest.mark.parametrize(("frame", "name", "expected"), INBOUND, ids=[i[1] for i in INBOUND])
def test_documented_frame_decodes_to_expected_event(frame: str, name: str, expected: Event) -> None:
    for given in (frame, frame.encode()):
        event = decode(given)
        assert event == expected
        assert exact(event) == exact(expected)
        # the careful path agrees with the fast path on every documented frame
        assert exact(_decode_carefully(given)) == exact(expected)


@pytest.mark.parametrize(
    ("text", "name", "request_", "kwargs"), OUTBOUND, ids=[o[1] for o in OUTBOUND]
)
def test_documented_request_is_reproduced_digit_for_digit(
    text: str, name: str, request_: V2Request, kwargs: dict[str, Any]
) -> None:
    assert digits(encode(request_, **kwargs)) == digits(text)
