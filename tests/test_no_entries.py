"""``NO_ENTRIES``, the shared read-only empty dict that stands in for containers most sessions
never fill: it reads as ``{}``, refuses every write, and ``writable`` swaps in a dict of one's
own (keeping one that is already a real dict)."""

from __future__ import annotations

import pytest
from kraken_proto._no_entries import NO_ENTRIES, writable


def test_reads_as_an_empty_dict() -> None:
    assert NO_ENTRIES == {}
    assert not NO_ENTRIES
    assert NO_ENTRIES.get(1) is None
    assert NO_ENTRIES.pop(1, None) is None
    assert list(NO_ENTRIES.items()) == []
    NO_ENTRIES.clear()  # nothing to clear: allowed


def test_refuses_every_write() -> None:
    shared = NO_ENTRIES
    with pytest.raises(TypeError, match="placeholder"):
        shared[1] = 2
    with pytest.raises(TypeError):
        shared.setdefault(1, 2)
    with pytest.raises(TypeError):
        shared.update({1: 2})
    with pytest.raises(TypeError):
        shared |= {1: 2}
    assert NO_ENTRIES == {}


def test_writable_replaces_only_the_placeholder() -> None:
    fresh: dict[int, int] = writable(NO_ENTRIES)
    assert fresh == {}
    assert fresh is not NO_ENTRIES
    fresh[1] = 2
    assert writable(fresh) is fresh
    empty_own: dict[int, int] = {}
    assert writable(empty_own) is empty_own  # an alias of it stays valid
    assert NO_ENTRIES == {}
