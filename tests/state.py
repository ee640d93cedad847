"""``fields(obj)``: what ``vars(obj)`` gives, for an object with ``__slots__`` too.

The tests that hold secrets out of every view of an object's state look at its attributes this
way: the connections and the session's parts keep theirs in slots (no instance dict)."""

from __future__ import annotations

__all__ = ["fields"]


def fields(obj: object) -> dict[str, object]:
    """``vars(obj)`` where it has an instance dict, else each slot that holds a value."""
    if hasattr(obj, "__dict__"):
        return dict(vars(obj))
    names = [name for cls in type(obj).__mro__ for name in getattr(cls, "__slots__", ())]
    return {name: getattr(obj, name) for name in names if hasattr(obj, name)}
