"""The front door holds what a session user needs; every other name lives in its subpackage."""

from __future__ import annotations

import importlib

import kraken_proto
import pytest
from kraken_proto import v1, v2

SUBPACKAGES = ("v1", "v2", "rest", "session")


def test_front_door_is_small_and_complete() -> None:
    assert len(kraken_proto.__all__) <= 60
    assert len(set(kraken_proto.__all__)) == len(kraken_proto.__all__)
    for name in kraken_proto.__all__:
        assert hasattr(kraken_proto, name), name
    # what a session user reaches for first is at the top
    for name in ("Session", "SessionConfig", "Credentials", "AddOrder", "FillReceived"):
        assert name in kraken_proto.__all__


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_subpackage_exports_what_it_lists(package: str) -> None:
    module = importlib.import_module(f"kraken_proto.{package}")
    assert len(set(module.__all__)) == len(module.__all__)
    for name in module.__all__:
        value = getattr(module, name)
        # a name both at the top and in a subpackage is one object, never a copy; v2 is
        # the exception by design: its requests and codec share v1's names, not its types
        if name in kraken_proto.__all__ and package != "v2":
            assert getattr(kraken_proto, name) is value, (package, name)


def test_low_level_names_are_not_at_the_top() -> None:
    for name in ("Connection", "ChannelUpdate", "GetWebSocketsToken", "sign_request"):
        assert name not in kraken_proto.__all__
        assert not hasattr(kraken_proto, name), name
    assert v1.Connection is not None


def test_v1_and_v2_share_the_base_types_and_do_not_mix() -> None:
    assert v1.decode('{"event":"heartbeat"}') == v1.Heartbeat()
    assert v2.Event is kraken_proto.Event
    assert v2.UnknownMessage is v1.UnknownMessage
    assert issubclass(v2.V2Request, kraken_proto.Request)
    assert issubclass(v2.AddOrder, v2.V2Request)
    assert v2.decode('{"channel":"heartbeat"}') == v2.Heartbeat()
    # the two codecs do not mix: each refuses the other's request
    with pytest.raises(kraken_proto.LocalProtocolError):
        v2.encode(v1.Ping())  # type: ignore[arg-type]
    with pytest.raises(kraken_proto.LocalProtocolError):
        kraken_proto.encode(v2.Ping())
