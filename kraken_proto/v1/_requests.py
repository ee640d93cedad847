"""Outgoing requests: frozen, keyword-only, validated at construction.

Every request checks its fields in ``__post_init__`` and raises ``LocalProtocolError`` naming
the bad field, so a request that exists is one Kraken can accept in form. Requests never hold
the session token: :func:`encode` takes it as an argument and only the encoded text carries it.

Money is ``decimal.Decimal`` (an ``int`` is accepted and converted exactly); a ``float`` is
rejected because it cannot represent most prices exactly. Where Kraken allows a relative price
(``+5``, ``-1.5%``, ``#10``) a string of that form is accepted instead.

The order requests live in ``_order_requests`` and ``_cancel_requests``, what they are
made of in ``_request_fields``. This module holds the subscription requests, ``Ping`` and
:func:`encode`, and names every v1 request in one place.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import msgspec

from kraken_proto._errors import LocalProtocolError
from kraken_proto._request_base import Request, plain_value
from kraken_proto._request_checks import (
    _check_bool,
    _check_choice,
    _fail,
    _is_text,
    _type_name,
    check_token,
)

from ._cancel_requests import CancelAll, CancelAllOrdersAfter, CancelOrder
from ._order_requests import AddOrder, AmendOrder, EditOrder
from ._request_fields import CLOSE_ORDER_TYPES, ORDER_FLAGS, ORDER_TYPES, ScheduleTime, _put

__all__ = [
    "CHANNELS",
    "CLOSE_ORDER_TYPES",
    "ORDER_FLAGS",
    "ORDER_TYPES",
    "AddOrder",
    "AmendOrder",
    "CancelAll",
    "CancelAllOrdersAfter",
    "CancelOrder",
    "EditOrder",
    "Ping",
    "Request",
    "ScheduleTime",
    "Subscribe",
    "Unsubscribe",
    "encode",
]

Channel = Literal["ownTrades", "openOrders"]

CHANNELS: frozenset[str] = frozenset({"ownTrades", "openOrders"})
_MAX_REQID = 2**64 - 1


class Subscribe(Request, frozen=True, kw_only=True):
    """Subscribe to a private channel (``ownTrades`` or ``openOrders``).

    Options left as ``None`` are not sent, so Kraken's defaults apply. ``snapshot`` and
    ``consolidate_taker`` belong to ownTrades, ``ratecounter`` to openOrders, ``rebased`` to both.
    """

    event: ClassVar[str] = "subscribe"
    response_event: ClassVar[str] = "subscriptionStatus"
    name: Channel
    snapshot: bool | None = None
    consolidate_taker: bool | None = None
    ratecounter: bool | None = None
    rebased: bool | None = None

    def __post_init__(self) -> None:
        _check_choice("name", self.name, CHANNELS)
        for option in ("snapshot", "consolidate_taker", "ratecounter", "rebased"):
            _check_bool(option, getattr(self, option))
        if self.name == "openOrders":
            for option in ("snapshot", "consolidate_taker"):
                if getattr(self, option) is not None:
                    raise _fail(option, "is an ownTrades option, not valid for openOrders")
        elif self.ratecounter is not None:
            raise _fail("ratecounter", "is an openOrders option, not valid for ownTrades")

    def _write(self, wire: dict[str, Any], token: str) -> None:
        sub: dict[str, Any] = {"name": self.name}
        for option in ("snapshot", "consolidate_taker", "ratecounter", "rebased"):
            _put(sub, option, getattr(self, option))
        sub["token"] = token  # inside the subscription, unlike every other request
        wire["subscription"] = sub


class Unsubscribe(Request, frozen=True, kw_only=True):
    """Unsubscribe from a private channel."""

    event: ClassVar[str] = "unsubscribe"
    response_event: ClassVar[str] = "subscriptionStatus"
    name: Channel

    def __post_init__(self) -> None:
        _check_choice("name", self.name, CHANNELS)

    def _write(self, wire: dict[str, Any], token: str) -> None:
        wire["subscription"] = {"name": self.name, "token": token}


class Ping(Request, frozen=True, kw_only=True):
    """Application-level ping; answered by a ``Pong`` with the same reqid."""

    event: ClassVar[str] = "ping"
    response_event: ClassVar[str] = "pong"
    requires_token: ClassVar[bool] = False


def check_reqid(reqid: object) -> int:
    """Return ``reqid`` if Kraken accepts it (an int from 0 to 2**64-1), else raise."""
    if isinstance(reqid, bool) or not isinstance(reqid, int):
        raise _fail("reqid", f"must be an int, not {_type_name(reqid)}")
    if not 0 <= reqid <= _MAX_REQID:
        raise _fail("reqid", f"must be from 0 to 2**64-1, got {reqid}")
    return reqid


_encoder = msgspec.json.Encoder(enc_hook=plain_value)


def encode(request: Request, *, token: str | None = None, reqid: int | None = None) -> str:
    """Encode ``request`` as one JSON text message in Kraken's wire types.

    ``token`` is required for every request but ``Ping`` (and refused for ``Ping``); ``reqid``
    is optional. Raises ``LocalProtocolError`` on a bad argument; never shows the token.
    """
    if not isinstance(request, Request) or not hasattr(request, "event"):
        raise LocalProtocolError(
            f"request: expected a kraken_proto request, got {_type_name(request)}"
        )
    message: dict[str, Any] = {"event": request.event}
    if reqid is not None:
        # An exact int in range, the usual reqid, needs no call; anything else is checked.
        message["reqid"] = (
            reqid if type(reqid) is int and 0 <= reqid <= _MAX_REQID else check_reqid(reqid)
        )
    if not request.requires_token:
        if token is not None:
            raise LocalProtocolError(f"token: {request.event} takes no token")
        return _encoder.encode(message).decode()
    if token is None:
        raise LocalProtocolError(f"token: {request.event} needs a session token")
    # The usual token (printable ASCII without a space) passes _is_text; anything else goes
    # through check_token, which names what is wrong.
    if not _is_text(token):
        check_token(token)
    request._write(message, token)
    return _encoder.encode(message).decode()
