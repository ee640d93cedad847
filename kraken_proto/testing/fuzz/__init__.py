"""The pure fuzz targets of ``kraken_proto``, runnable from an installed package.

    python -m kraken_proto.testing.fuzz decode --seconds 10
    kraken-proto fuzz connection_v2 --iterations 100000 --seed 3
    kraken-proto fuzz rest path/to/crash-input       # replay inputs, one check each

``TARGETS`` maps each name to its ``FuzzTarget``: ``decode`` and ``decode_v2`` (the decoders:
an ``Event`` or ``RemoteProtocolError``, nothing else), ``connection`` and ``connection_v2``
(``Connection``/``V2Connection.receive_message`` in every state they reach: failures stay
failed, every request ends exactly once, no token in any message or repr) and ``rest`` (every
REST response parser: a result or a ``RestError``, exact digits, no token leaks). Each target's
module docstring gives its input layout and invariants.

A target is a ``check(data: bytes)`` that raises when an invariant breaks, plus seeds (built
from the documented frames) and mutation tokens. ``fuzz_loop`` runs one with the byte mutator
``mutate``; it is pure, taking its random numbers and clock from the runner. The source
checkout's ``fuzz/`` folder adds coverage-guided fuzzing with atheris, a committed corpus and
the targets that need the adapters (WebSocket, HTTP, simulator, session).
"""

from __future__ import annotations

from ._connection import CONNECTION
from ._connection_v2 import CONNECTION_V2
from ._core import (
    COMMON_TOKENS,
    FuzzFinding,
    FuzzTarget,
    Random,
    fuzz_loop,
    mutate,
    require,
    split_frames,
)
from ._decode import DECODE, DECODE_V2
from ._rest import REST

__all__ = [
    "COMMON_TOKENS",
    "CONNECTION",
    "CONNECTION_V2",
    "DECODE",
    "DECODE_V2",
    "REST",
    "TARGETS",
    "FuzzFinding",
    "FuzzTarget",
    "Random",
    "fuzz_loop",
    "mutate",
    "require",
    "split_frames",
]

TARGETS: dict[str, FuzzTarget] = {
    target.name: target for target in (DECODE, DECODE_V2, CONNECTION, CONNECTION_V2, REST)
}
"""Every pure target by name."""
