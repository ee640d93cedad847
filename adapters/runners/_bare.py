"""One exception out of a trio nursery's group: what a runner raises to its caller.

A background task's ``KeyboardInterrupt`` (trio delivers it to whichever task runs) leaves a
nursery as ``BaseExceptionGroup([KeyboardInterrupt()])``; a caller's ``except
KeyboardInterrupt`` would miss it. The runners promise errors as themselves, never grouped.
"""

from __future__ import annotations

__all__ = ["bare"]


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def bare(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The ``KeyboardInterrupt`` or ``SystemExit`` in ``group`` if any (a request to stop wins
    over whatever it interrupted), else its only exception, else ``group`` itself."""
    leaves = _leaves(group)
    for leaf in leaves:
        if isinstance(leaf, KeyboardInterrupt | SystemExit):
            return leaf
    return leaves[0] if len(leaves) == 1 else group
