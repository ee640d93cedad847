"""Hypothesis strategies, example frames and fuzz targets for testing Kraken frame parsers.

For people who fuzz or property-test ``kraken_proto.decode`` / ``kraken_proto.v2.decode`` (or
their own parser of Kraken's private WebSocket frames). Needs Hypothesis, which the extra
brings: ``pip install 'kraken_proto[testing]'``.

* Valid frames, as Kraken sends them (``bytes`` of compact or pretty-printed JSON):
  ``v1_frames()`` (``v1_own_trades_frames``, ``v1_open_orders_frames``,
  ``v1_heartbeat_frames``, ``v1_system_status_frames``, ``v1_subscription_status_frames``,
  ``v1_request_reply_frames``) and ``v2_frames()`` (``v2_executions_frames``,
  ``v2_balances_frames``, ``v2_heartbeat_frames``, ``v2_status_frames``,
  ``v2_reply_frames``). Each docstring says what it generates.
* Mutations of any frame strategy: ``byte_flips``, ``truncations``, ``insertions``,
  ``type_swaps``, ``structural_mutations``, ``duplicate_keys``, ``huge_numbers``, and
  ``mutated_frames`` (any of them).
* ``json_values()``: any JSON value; ``decimal_texts()``: exact decimal digit strings.
* The documented frames: ``V1_EXAMPLES``/``V2_EXAMPLES`` (description, text) and
  ``V1_EXAMPLE_FRAMES``/``V2_EXAMPLE_FRAMES`` (bytes).
* ``decode_or_error(decode, frame)``: the decoder contract, checked.
* ``kraken_proto.testing.fuzz``: the pure fuzz targets; run one with
  ``python -m kraken_proto.testing.fuzz decode --seconds 10``.

Like the rest of ``kraken_proto`` this package does no I/O and reads no clock; its randomness
is Hypothesis's (or the fuzz runner's, passed in).
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401  - only to fail early with a message that says what to do
except ImportError as error:
    raise ImportError(
        "kraken_proto.testing needs Hypothesis, which is an optional extra: "
        "pip install 'kraken_proto[testing]'"
    ) from error

from ._contract import decode_or_error
from ._examples import V1_EXAMPLE_FRAMES, V1_EXAMPLES, V2_EXAMPLE_FRAMES, V2_EXAMPLES
from ._json import decimal_texts, json_values
from ._mutations import (
    byte_flips,
    duplicate_keys,
    huge_numbers,
    insertions,
    mutated_frames,
    structural_mutations,
    truncations,
    type_swaps,
)
from ._v1 import (
    v1_frames,
    v1_heartbeat_frames,
    v1_open_orders_frames,
    v1_own_trades_frames,
    v1_request_reply_frames,
    v1_subscription_status_frames,
    v1_system_status_frames,
)
from ._v2 import (
    v2_balances_frames,
    v2_executions_frames,
    v2_frames,
    v2_heartbeat_frames,
    v2_reply_frames,
    v2_status_frames,
)

__all__ = [
    "V1_EXAMPLES",
    "V1_EXAMPLE_FRAMES",
    "V2_EXAMPLES",
    "V2_EXAMPLE_FRAMES",
    "byte_flips",
    "decimal_texts",
    "decode_or_error",
    "duplicate_keys",
    "huge_numbers",
    "insertions",
    "json_values",
    "mutated_frames",
    "structural_mutations",
    "truncations",
    "type_swaps",
    "v1_frames",
    "v1_heartbeat_frames",
    "v1_open_orders_frames",
    "v1_own_trades_frames",
    "v1_request_reply_frames",
    "v1_subscription_status_frames",
    "v1_system_status_frames",
    "v2_balances_frames",
    "v2_executions_frames",
    "v2_frames",
    "v2_heartbeat_frames",
    "v2_reply_frames",
    "v2_status_frames",
]
