"""The v2 cancel requests: cancel orders by id, cancel all, and the dead man's switch.

Frozen, keyword-only and validated at construction like every v2 request (see ``_requests``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from kraken_proto._request_checks import _cl_ord_id, _dead_mans_timeout, _fail, _ids, _int32, _set

from ._request_fields import V2Request, _check_ident

__all__ = ["CancelAll", "CancelAllOrdersAfter", "CancelOrder"]


class CancelOrder(V2Request, frozen=True, kw_only=True):
    """Cancel orders by ``order_id``, ``cl_ord_id`` and/or ``order_userref`` (each one or many).

    Kraken answers once per id, every reply with the same ``req_id``: :attr:`expected_replies`
    is the number of ids.
    """

    method: ClassVar[str] = "cancel_order"
    reply_method: ClassVar[str] = "cancel_order"
    order_id: tuple[str, ...] = ()
    cl_ord_id: tuple[str, ...] = ()
    order_userref: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "order_id", _ids("order_id", self.order_id, _check_ident))
        _set(self, "cl_ord_id", _ids("cl_ord_id", self.cl_ord_id, _cl_ord_id))
        _set(self, "order_userref", _ids("order_userref", self.order_userref, _int32))
        if not self.expected_replies:
            raise _fail("cancel_order", "give at least one order_id, cl_ord_id or order_userref")

    @property
    def expected_replies(self) -> int:
        return len(self.order_id) + len(self.cl_ord_id) + len(self.order_userref)

    def _params(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        for key in ("order_id", "cl_ord_id", "order_userref"):
            if getattr(self, key):
                wire[key] = list(getattr(self, key))
        return wire


class CancelAll(V2Request, frozen=True, kw_only=True):
    """Cancel every open order, untriggered ones included (``cancel_all``)."""

    method: ClassVar[str] = "cancel_all"
    reply_method: ClassVar[str] = "cancel_all"


class CancelAllOrdersAfter(V2Request, frozen=True, kw_only=True):
    """Arm (``timeout`` seconds, below 86400) or disarm (``timeout=0``) the dead man's switch."""

    method: ClassVar[str] = "cancel_all_orders_after"
    reply_method: ClassVar[str] = "cancel_all_orders_after"
    timeout: int

    def __post_init__(self) -> None:
        _dead_mans_timeout("timeout", self.timeout)

    def _params(self) -> dict[str, Any]:
        return {"timeout": self.timeout}
