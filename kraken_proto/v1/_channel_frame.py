"""The parts of a v1 channel frame (``[payload, "openOrders", {"sequence": N}]``) that every
typed channel decoder reads alike: the trailing sequence object and the one-key entry."""

from __future__ import annotations

import msgspec

__all__ = ["NO_SEQUENCE", "ONE_ID", "ChannelMeta"]


class ChannelMeta(msgspec.Struct, frozen=True, gc=False):
    """The trailing ``{"sequence": N}`` of a channel frame (other keys ignored)."""

    sequence: int | None = None


NO_SEQUENCE = ChannelMeta()
"""A frame without its third element (very old service versions): no sequence."""

# Each payload entry is a one-key object {id: record}; msgspec refuses any other size, so the
# fast paths can take each entry's one pair with popitem. An empty entry or one with several ids
# (never seen from Kraken) takes the careful path, which keeps every pair in order.
ONE_ID = msgspec.Meta(min_length=1, max_length=1)
