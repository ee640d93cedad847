"""``Secret``: a value that never shows itself.

The API secret and session tokens live in a ``Secret`` inside the library, so a ``repr``, a
``str``, an f-string, a log line, an exception message, ``vars()`` or a traceback rendered with
its local variables (``traceback.TracebackException(..., capture_locals=True)``, as error
reporters do) shows ``Secret('…')`` instead of the value. Only ``reveal()`` gives the value,
and the library calls it at the last moment, in frames that do not raise afterwards.
"""

from __future__ import annotations

import hmac
from typing import Any, NoReturn

__all__ = ["Secret"]

_REDACTED = "Secret('…')"


class Secret:
    """A redacting holder for one text value (an API secret or a WebSocket token).

    ``Secret(value)`` takes a ``str`` (or another ``Secret``, taking its value). ``reveal()``
    returns the value. ``repr``, ``str`` and ``format`` give ``Secret('…')``. Two secrets are
    equal when their values are (compared in constant time); a secret never equals a plain
    ``str``, so a comparison cannot be used to probe it. It cannot be pickled; ``copy`` gives
    the same object; it has no ``__dict__``.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value._value
        if not isinstance(value, str):
            # The type name only: the value may be the secret in the wrong type.
            raise TypeError(f"Secret: expected str, got {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """The value itself. Do not keep it in a long-lived variable."""
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __repr__(self) -> str:
        return _REDACTED

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return _REDACTED

    def __reduce__(self) -> NoReturn:
        raise TypeError("Secret: refusing to pickle a secret value")

    # Immutable: a copy is the same object (so copying a structure that holds one works).
    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "_value"):
            raise AttributeError("Secret is immutable")
        object.__setattr__(self, name, value)
