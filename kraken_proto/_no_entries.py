"""One shared, read-only empty dict: the placeholder for a container that most sessions never
fill. An empty dict costs 64 bytes, and a session holds a dozen that usually stay empty (at
1,000 sessions that is most of a KiB each)."""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

__all__ = ["NO_ENTRIES", "writable"]

_K = TypeVar("_K")
_V = TypeVar("_V")


class _NoEntries(dict[Any, Any]):
    """Empty for good: reads work as on ``{}``; a write raises ``TypeError`` (loudly, instead
    of filling a dict that every session shares)."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("NO_ENTRIES is the shared empty placeholder: use writable() first")

    __setitem__ = setdefault = update = __ior__ = _refuse


NO_ENTRIES: dict[Any, Any] = _NoEntries()
"""Assign it where a dict starts empty; write only to ``writable(...)``'s result."""


def writable(entries: dict[_K, _V]) -> dict[_K, _V]:
    """``entries``, or a new dict in place of ``NO_ENTRIES``: ``self.x = writable(self.x)``
    before writing to ``self.x`` (a dict of one's own is kept, so aliases of it stay valid)."""
    return {} if entries is NO_ENTRIES else entries
