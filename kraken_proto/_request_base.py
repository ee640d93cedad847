"""The base every outgoing request shares, v1 and v2."""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["Request"]


class Request:
    """Base of every outgoing request.

    ``event`` is the wire name, ``response_event`` the event name of the reply,
    ``requires_token`` whether :func:`encode` must be given a session token.
    """

    __slots__ = ()
    event: ClassVar[str]
    response_event: ClassVar[str]
    requires_token: ClassVar[bool] = True

    def _fields(self) -> dict[str, Any]:
        """The request's own wire fields (no ``event``, ``reqid`` or ``token``)."""
        return {}

    @property
    def expected_replies(self) -> int:
        """How many response frames complete this request (``cancelOrder`` sends one per id)."""
        return 1
