"""``kraken_proto.v1`` and ``kraken_proto.v2`` name the two codecs; the top level is unchanged."""

from __future__ import annotations

import kraken_proto
import pytest
from kraken_proto import v1, v2


def test_v1_names_are_the_top_level_objects() -> None:
    for name in v1.__all__:
        assert getattr(v1, name) is getattr(kraken_proto, name), name
    assert v1.decode('{"event":"heartbeat"}') == kraken_proto.Heartbeat()


def test_v2_exports_what_it_lists_and_shares_the_base_types() -> None:
    for name in v2.__all__:
        assert hasattr(v2, name), name
    assert v2.Event is kraken_proto.Event
    assert v2.UnknownMessage is kraken_proto.UnknownMessage
    assert issubclass(v2.V2Request, kraken_proto.Request)
    assert v2.decode('{"channel":"heartbeat"}') == v2.Heartbeat()
    # the two codecs do not mix: each refuses the other's request
    with pytest.raises(kraken_proto.LocalProtocolError):
        v2.encode(kraken_proto.Ping())  # type: ignore[arg-type]
    with pytest.raises(kraken_proto.LocalProtocolError):
        kraken_proto.encode(v2.Ping())
