"""The v2 batch requests: place 2 to 15 orders, or cancel 2 to 50, in one request."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from kraken_proto._request_checks import (
    _check_bool,
    _cl_ord_id,
    _deadline,
    _fail,
    _ids,
    _int32,
    _set,
    _type_name,
)

from ._order_requests import AddOrder
from ._request_fields import V2Request, _check_ident, _put

__all__ = ["BatchAdd", "BatchCancel"]

_BATCH_ADD_SIZE = (2, 15)
_BATCH_CANCEL_SIZE = (2, 50)


class BatchAdd(V2Request, frozen=True, kw_only=True):
    """Place 2 to 15 orders on one symbol in one request (``batch_add``).

    ``orders`` are :class:`AddOrder` rows, all with the same ``symbol`` and without their own
    ``deadline`` or ``validate`` (those are the batch's). If any row fails validation Kraken
    rejects the whole batch; a row failing later checks (funds) is rejected alone.
    """

    method: ClassVar[str] = "batch_add"
    reply_method: ClassVar[str] = "batch_add"
    orders: tuple[AddOrder, ...]
    deadline: str | None = None
    validate: bool | None = None

    def __post_init__(self) -> None:
        untyped: object = self.orders
        if not isinstance(untyped, Iterable) or isinstance(untyped, str | bytes):
            raise _fail("orders", f"must be a list of AddOrder, not {_type_name(untyped)}")
        orders = tuple(untyped)
        low, high = _BATCH_ADD_SIZE
        if not low <= len(orders) <= high:
            raise _fail("orders", f"must hold {low} to {high} orders, got {len(orders)}")
        for index, order in enumerate(orders):
            if not isinstance(order, AddOrder):
                raise _fail(f"orders[{index}]", f"must be an AddOrder, not {_type_name(order)}")
            if order.symbol != orders[0].symbol:
                raise _fail(f"orders[{index}]", "every order of a batch must have one symbol")
            if order.deadline is not None or order.validate is not None:
                raise _fail(
                    f"orders[{index}]", "deadline and validate belong to the batch, not a row"
                )
        _set(self, "orders", orders)
        _deadline("deadline", self.deadline)
        _check_bool("validate", self.validate)

    @property
    def symbol(self) -> str:
        """The one symbol of every order in the batch."""
        return self.orders[0].symbol

    def _params(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "symbol": self.symbol,
            "orders": [order._order_fields() for order in self.orders],
        }
        _put(wire, "deadline", self.deadline)
        _put(wire, "validate", self.validate)
        return wire


def _batch_cancel_id(name: str, value: object) -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        _int32(name, value)
    else:
        _check_ident(name, value)


class BatchCancel(V2Request, frozen=True, kw_only=True):
    """Cancel 2 to 50 orders in one request (``batch_cancel``).

    ``orders`` holds Kraken order ids, or order_userrefs (an ``int`` is sent as its digits,
    as Kraken wants); ``cl_ord_id`` client ids.
    """

    method: ClassVar[str] = "batch_cancel"
    reply_method: ClassVar[str] = "batch_cancel"
    orders: tuple[str | int, ...] = ()
    cl_ord_id: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "orders", _ids("orders", self.orders, _batch_cancel_id))
        _set(self, "cl_ord_id", _ids("cl_ord_id", self.cl_ord_id, _cl_ord_id))
        low, high = _BATCH_CANCEL_SIZE
        count = len(self.orders) + len(self.cl_ord_id)
        if not low <= count <= high:
            raise _fail("batch_cancel", f"give {low} to {high} ids, got {count}")

    def _params(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        if self.orders:
            wire["orders"] = [str(item) for item in self.orders]
        if self.cl_ord_id:
            wire["cl_ord_id"] = list(self.cl_ord_id)
        return wire
