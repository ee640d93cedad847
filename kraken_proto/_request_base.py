"""The base every outgoing request shares, v1 and v2, and ``replace_request``."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

import msgspec

__all__ = ["Request", "plain_value", "replace_request"]

RequestT = TypeVar("RequestT", bound="Request")


class Request(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Base of every outgoing request: a frozen, keyword-only msgspec Struct.

    ``event`` is the wire name, ``response_event`` the event name of the reply,
    ``requires_token`` whether :func:`encode` must be given a session token. Subclasses repeat
    ``kw_only=True`` (msgspec applies it per class) and check their fields in
    ``__post_init__``. ``gc=False``: a request holds only text, numbers, tuples, frozensets and
    other requests, never anything that could point back at it, so the cyclic collector need
    not track it (construction is cheaper for it).
    """

    event: ClassVar[str]
    response_event: ClassVar[str]
    requires_token: ClassVar[bool] = True

    def _write(self, wire: dict[str, Any], token: str) -> None:
        """Add the ``token`` and then the request's own fields to ``wire``, the v1 message
        being encoded (which holds ``event`` and ``reqid`` already)."""
        wire["token"] = token

    @property
    def expected_replies(self) -> int:
        """How many response frames complete this request (``cancelOrder`` sends one per id)."""
        return 1


def replace_request(request: RequestT, /, **changes: Any) -> RequestT:
    """A copy of ``request`` with ``changes``, checked like a new request: raises
    ``LocalProtocolError`` naming the field when a change is not valid (``request`` itself is
    never modified)."""
    # msgspec.structs.replace runs __post_init__ on the copy (since msgspec 0.21, hence the
    # minimum in pyproject.toml), so the copy is checked and normalised as by the constructor.
    return msgspec.structs.replace(request, **changes)


def plain_value(value: object) -> str | int:
    """``enc_hook`` of the request encoders: a ``str`` or ``int`` subclass (a user's own id
    type, say) passes the requests' checks, and goes on the wire as the plain value it is.
    msgspec calls this only for types it cannot encode itself, so plain values cost nothing.
    Raises ``TypeError`` for anything else (a check let through what it should not have)."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    raise TypeError(f"cannot encode a {type(value).__name__} in a request")
