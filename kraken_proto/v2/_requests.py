"""Outgoing WebSocket v2 requests: frozen, keyword-only, validated at construction.

The v2 sibling of ``kraken_proto.v1._requests``, with the same rules: every request checks its
fields in ``__post_init__`` and raises ``LocalProtocolError`` naming the bad field; requests
never hold the session token (:func:`encode` takes it and puts it in ``params``); money is
``decimal.Decimal`` (an ``int`` is converted exactly) and a ``float`` is refused.

v2 sends prices and quantities as JSON *numbers*: :func:`encode` writes each Decimal's digits
as a bare number in fixed-point notation (``1E-8`` goes out as ``0.00000001``), never through
a float and never as a string.

The order requests live in ``_order_requests``, ``_cancel_requests`` and
``_batch_requests``, what they are made of in ``_request_fields``. This module holds the
subscription requests, ``Ping`` and :func:`encode`, and names every v2 request in one place.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import msgspec

from kraken_proto._errors import LocalProtocolError
from kraken_proto._request_base import plain_value
from kraken_proto._request_checks import (
    _check_bool,
    _check_choice,
    _fail,
    _is_text,
    _type_name,
    check_token,
)

from ._batch_requests import BatchAdd, BatchCancel
from ._cancel_requests import CancelAll, CancelAllOrdersAfter, CancelOrder
from ._order_requests import AddOrder, AmendOrder, EditOrder
from ._request_fields import ORDER_TYPES, Conditional, Triggers, V2Request, _put

__all__ = [
    "ORDER_TYPES",
    "AddOrder",
    "AmendOrder",
    "BatchAdd",
    "BatchCancel",
    "CancelAll",
    "CancelAllOrdersAfter",
    "CancelOrder",
    "Conditional",
    "EditOrder",
    "Ping",
    "Subscribe",
    "Triggers",
    "Unsubscribe",
    "V2Request",
    "check_req_id",
    "encode",
]

Channel = Literal["executions", "balances"]

CHANNELS: frozenset[str] = frozenset({"executions", "balances"})
# Kraken support told ccxt that req_id must be an int32; a positive one is echoed back intact.
MAX_REQ_ID = 2**31 - 1


class Subscribe(V2Request, frozen=True, kw_only=True):
    """Subscribe to ``executions`` or ``balances``; options left ``None`` are not sent.

    ``snap_orders``, ``snap_trades``, ``order_status`` and ``ratecounter`` belong to
    executions, ``snapshot`` to balances; ``rebased`` and ``users`` (``"all"``, master
    accounts; no snapshot is sent then) to both. Set ``snap_trades`` explicitly: the schema's
    default (false) and the prose (last 50 trades) disagree.
    """

    method: ClassVar[str] = "subscribe"
    reply_method: ClassVar[str] = "subscribe"
    channel: Channel
    snap_orders: bool | None = None
    snap_trades: bool | None = None
    order_status: bool | None = None
    ratecounter: bool | None = None
    snapshot: bool | None = None
    rebased: bool | None = None
    users: Literal["all"] | None = None

    _EXECUTIONS_ONLY: ClassVar[tuple[str, ...]] = (
        "snap_orders",
        "snap_trades",
        "order_status",
        "ratecounter",
    )

    def __post_init__(self) -> None:
        _check_choice("channel", self.channel, CHANNELS)
        for option in (*self._EXECUTIONS_ONLY, "snapshot", "rebased"):
            _check_bool(option, getattr(self, option))
        if self.users is not None and self.users != "all":
            raise _fail("users", f"must be 'all' or None, got {self.users!r}")
        if self.channel == "balances":
            for option in self._EXECUTIONS_ONLY:
                if getattr(self, option) is not None:
                    raise _fail(option, "is an executions option, not valid for balances")
        elif self.snapshot is not None:
            raise _fail("snapshot", "is a balances option (executions: snap_orders/snap_trades)")

    @property
    def expects_snapshot(self) -> bool:
        """Whether Kraken sends a snapshot first (never with ``users="all"``)."""
        if self.users is not None:
            return False
        if self.channel == "balances":
            return self.snapshot is not False
        return self.snap_orders is not False or self.snap_trades is True

    def _params(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"channel": self.channel}
        for option in (*self._EXECUTIONS_ONLY, "snapshot", "rebased", "users"):
            _put(wire, option, getattr(self, option))
        return wire


class Unsubscribe(V2Request, frozen=True, kw_only=True):
    """Unsubscribe from ``executions`` or ``balances``."""

    method: ClassVar[str] = "unsubscribe"
    reply_method: ClassVar[str] = "unsubscribe"
    channel: Channel

    def __post_init__(self) -> None:
        _check_choice("channel", self.channel, CHANNELS)

    def _params(self) -> dict[str, Any]:
        return {"channel": self.channel}


class Ping(V2Request, frozen=True, kw_only=True):
    """Application-level ping, answered by a ``Pong`` with the same ``req_id``; no token."""

    method: ClassVar[str] = "ping"
    reply_method: ClassVar[str] = "pong"
    requires_token: ClassVar[bool] = False


def check_req_id(req_id: object) -> int:
    """Return ``req_id`` if it is a positive int32 (what Kraken echoes intact), else raise."""
    if isinstance(req_id, bool) or not isinstance(req_id, int):
        raise _fail("req_id", f"must be an int, not {_type_name(req_id)}")
    if not 1 <= req_id <= MAX_REQ_ID:
        raise _fail("req_id", f"must be from 1 to 2**31-1, got {req_id}")
    return req_id


_encoder = msgspec.json.Encoder(enc_hook=plain_value)


def encode(request: V2Request, *, token: str | None = None, req_id: int | None = None) -> str:
    """Encode ``request`` as one v2 JSON text message; the token goes in ``params.token``.

    ``token`` is required for every request but ``Ping`` (and refused for ``Ping``);
    ``req_id`` is optional. Decimals go out as bare JSON numbers with exactly their digits.
    Raises ``LocalProtocolError`` on a bad argument; never shows the token.
    """
    if not isinstance(request, V2Request) or not hasattr(request, "method"):
        raise LocalProtocolError(
            f"request: expected a kraken_proto.v2 request, got {_type_name(request)}"
        )
    message: dict[str, Any] = {"method": request.method}
    params = request._params()
    if request.requires_token:
        if token is None:
            raise LocalProtocolError(f"token: {request.method} needs a session token")
        # The usual token (printable ASCII without a space) passes _is_text; anything else
        # goes through check_token, which names what is wrong.
        if not _is_text(token):
            check_token(token)
        params["token"] = token
    elif token is not None:
        raise LocalProtocolError(f"token: {request.method} takes no token")
    if params:
        message["params"] = params
    if req_id is not None:
        # An exact int in range, the usual req_id, needs no call; anything else is checked.
        message["req_id"] = (
            req_id if type(req_id) is int and 1 <= req_id <= MAX_REQ_ID else check_req_id(req_id)
        )
    return _encoder.encode(message).decode()
