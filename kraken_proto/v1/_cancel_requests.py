"""The v1 cancel requests: cancel orders by id, cancel all, and the dead man's switch.

Frozen, keyword-only and validated at construction like every request (see ``_requests``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from kraken_proto._request_base import Request
from kraken_proto._request_checks import (
    _check_text,
    _cl_ord_id,
    _dead_mans_timeout,
    _fail,
    _ids,
    _int32,
    _is_text,
    _set,
)

__all__ = ["CancelAll", "CancelAllOrdersAfter", "CancelOrder"]


def _check_txid(name: str, value: object) -> None:
    _check_text(name, value)


def _check_userref(name: str, value: object) -> None:
    _int32(name, value)


class CancelOrder(Request, frozen=True, kw_only=True):
    """Cancel orders by txid, userref and/or cl_ord_id (each one id or several).

    Kraken answers with one ``cancelOrderStatus`` frame per id, so
    :attr:`expected_replies` is the number of ids.
    """

    event: ClassVar[str] = "cancelOrder"
    response_event: ClassVar[str] = "cancelOrderStatus"
    txid: tuple[str, ...] = ()
    userref: tuple[int, ...] = ()
    cl_ord_id: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # The usual cancel first: a tuple of plain txids and nothing else, which the full
        # checks would pass unchanged; anything else takes them.
        txid = self.txid
        if (
            type(txid) is tuple
            and txid
            and type(self.userref) is tuple
            and not self.userref
            and type(self.cl_ord_id) is tuple
            and not self.cl_ord_id
        ):
            for item in txid:
                if not _is_text(item):
                    break
            else:
                return
        self._check()

    def _check(self) -> None:
        """Every check, in order, normalising as it goes."""
        _set(self, "txid", _ids("txid", self.txid, _check_txid))
        _set(self, "userref", _ids("userref", self.userref, _check_userref))
        _set(self, "cl_ord_id", _ids("cl_ord_id", self.cl_ord_id, _cl_ord_id))
        if not (self.txid or self.userref or self.cl_ord_id):
            raise _fail("cancelOrder", "give at least one txid, userref or cl_ord_id")

    @property
    def expected_replies(self) -> int:
        return len(self.txid) + len(self.userref) + len(self.cl_ord_id)

    def _write(self, wire: dict[str, Any], token: str) -> None:
        wire["token"] = token
        ids = [*self.txid, *map(str, self.userref)]
        if ids:
            wire["txid"] = ids
        if self.cl_ord_id:
            wire["cl_ord_id"] = list(self.cl_ord_id)


class CancelAll(Request, frozen=True, kw_only=True):
    """Cancel every open order (``cancelAll``)."""

    event: ClassVar[str] = "cancelAll"
    response_event: ClassVar[str] = "cancelAllStatus"


class CancelAllOrdersAfter(Request, frozen=True, kw_only=True):
    """Arm (``timeout`` seconds) or disarm (``timeout=0``) the dead man's switch."""

    event: ClassVar[str] = "cancelAllOrdersAfter"
    response_event: ClassVar[str] = "cancelAllOrdersAfterStatus"
    timeout: int

    def __post_init__(self) -> None:
        _dead_mans_timeout("timeout", self.timeout)

    def _write(self, wire: dict[str, Any], token: str) -> None:
        wire["token"] = token
        wire["timeout"] = self.timeout
