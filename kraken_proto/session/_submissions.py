"""What ``submit`` and ``submit_batch`` accept, and each request as it will be sent.

The session needs a ``cl_ord_id`` on every ``AddOrder`` to find it again after a lost answer,
so one is generated from the seed when the caller gave none, and an ``AddOrder`` identified
only by ``userref`` is refused. All checks happen before anything is queued.
"""

from __future__ import annotations

from collections.abc import Sequence

from kraken_proto._errors import LocalProtocolError
from kraken_proto._request_base import Request, replace_request
from kraken_proto.v1._requests import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
)

from ._seed import SeededStream

__all__ = ["batch_rows", "check_trading", "with_cl_ord_id"]

_TRADING = (AddOrder, EditOrder, AmendOrder, CancelOrder, CancelAll, CancelAllOrdersAfter)


def check_trading(request: object) -> None:
    """Raise ``LocalProtocolError`` unless ``request`` is a trading request."""
    if not isinstance(request, _TRADING):
        raise LocalProtocolError(
            f"submit: expected a trading request ({', '.join(c.__name__ for c in _TRADING)})"
            f", got {type(request).__name__}"
        )


def with_cl_ord_id(request: Request, random: SeededStream, call: str) -> Request:
    """``request`` as it will be sent: an AddOrder without one gets a cl_ord_id drawn from
    ``random``. Raises ``LocalProtocolError`` (naming ``call``) for an AddOrder with
    ``userref`` and no ``cl_ord_id``."""
    if isinstance(request, AddOrder) and request.cl_ord_id is None:
        if request.userref is not None:
            raise LocalProtocolError(
                f"{call}: an AddOrder with userref cannot carry a cl_ord_id, and the session "
                "needs one to find the order after a disconnect; give a cl_ord_id instead"
            )
        request = replace_request(request, cl_ord_id=random.client_order_id())
    return request


def batch_rows(orders: Sequence[AddOrder], random: SeededStream) -> list[Request]:
    """The rows of a batch as they will be sent (see ``with_cl_ord_id``). Raises
    ``LocalProtocolError`` unless they are 2 to 15 ``AddOrder`` on one pair."""
    rows = list(orders)
    if not 2 <= len(rows) <= 15:
        raise LocalProtocolError(f"submit_batch: 2 to 15 orders, got {len(rows)}")
    for row in rows:
        untyped: object = row
        if not isinstance(untyped, AddOrder):
            raise LocalProtocolError(
                f"submit_batch: expected AddOrder rows, got {type(untyped).__name__}"
            )
    if len({row.pair for row in rows}) > 1:
        raise LocalProtocolError("submit_batch: every order of a batch must be on one pair")
    return [with_cl_ord_id(row, random, "submit_batch") for row in rows]
