"""Request builders of the private REST queries used for reconciliation (pure).

Each builder validates its arguments (``LocalProtocolError`` before anything is signed) and
returns a signed ``RestRequest`` through ``build_private_request``. Only parameters that differ
from Kraken's defaults are sent, in a fixed order after ``nonce``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from kraken_proto._errors import LocalProtocolError

from ._request import PRIVATE_PREFIX, RestRequest, build_private_request
from ._signing import Credentials

__all__ = [
    "CLOSED_ORDERS_PATH",
    "MAX_QUERY_ORDERS",
    "MAX_QUERY_TRADES",
    "OPEN_ORDERS_PATH",
    "PAGE_SIZE",
    "QUERY_ORDERS_PATH",
    "QUERY_TRADES_PATH",
    "TRADES_HISTORY_PATH",
    "TimeOrTxid",
    "build_closed_orders_request",
    "build_open_orders_request",
    "build_query_orders_request",
    "build_query_trades_request",
    "build_trades_history_request",
]

OPEN_ORDERS_PATH = PRIVATE_PREFIX + "OpenOrders"
CLOSED_ORDERS_PATH = PRIVATE_PREFIX + "ClosedOrders"
QUERY_ORDERS_PATH = PRIVATE_PREFIX + "QueryOrders"
TRADES_HISTORY_PATH = PRIVATE_PREFIX + "TradesHistory"
QUERY_TRADES_PATH = PRIVATE_PREFIX + "QueryTrades"
PAGE_SIZE = 50
"""Records per page of ``ClosedOrders`` and ``TradesHistory`` (Kraken's fixed page size)."""
MAX_QUERY_ORDERS = 50
MAX_QUERY_TRADES = 20
_CLOSETIMES = ("open", "close", "both")
_INT32 = range(-(2**31), 2**31)
_MAX_OFFSET = 2**31 - 1

TimeOrTxid = Decimal | int | str
"""A ``start``/``end`` bound: a unix time (``Decimal``, ``int`` or decimal text) or a txid."""

# Kraken's ids: three groups of upper-case letters and digits, e.g. ``OQCLML-BW3P3-BUCMWZ``.
_TXID = re.compile(r"[A-Z0-9]{1,12}(?:-[A-Z0-9]{1,12}){1,4}")
_TIME_TEXT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?")
# cl_ord_id: a UUID (with or without dashes) or up to 18 printable ASCII characters.
_CL_ORD_ID = re.compile(
    r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}"
    r"|[!-~]{1,18}"
)


def _bool_field(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise LocalProtocolError(f"{name}: must be a bool, got {type(value).__name__}")
    return value


def _userref_text(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value not in _INT32:
        raise LocalProtocolError(f"userref: must be an int32, got {value!r}")
    return str(value)


def _cl_ord_id_text(value: object) -> str:
    if not isinstance(value, str) or not _CL_ORD_ID.fullmatch(value):
        raise LocalProtocolError(
            "cl_ord_id: must be a UUID or 1..18 printable ASCII characters without spaces, "
            f"got {value!r}"
        )
    return value


def _ofs_text(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_OFFSET:
        raise LocalProtocolError(f"ofs: must be an int in 0..2**31-1, got {value!r}")
    return str(value)


def _bound_text(name: str, value: object) -> str:
    """``start``/``end`` as Kraken takes them: unix seconds, or a txid."""
    if isinstance(value, float):
        raise LocalProtocolError(
            f"{name}: floats are refused (they round); pass a Decimal, an int or a string"
        )
    if isinstance(value, Decimal):
        if not value.is_finite() or value < 0:
            raise LocalProtocolError(f"{name}: must be a finite, non-negative time, got {value}")
        text = format(value, "f")
        if _TIME_TEXT.fullmatch(text):
            return text
        raise LocalProtocolError(f"{name}: time out of range or too precise, got {value}")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise LocalProtocolError(
            f"{name}: must be a Decimal, int or str (unix time or txid), got {type(value).__name__}"
        )
    text = str(value)
    if _TIME_TEXT.fullmatch(text) or (isinstance(value, str) and _TXID.fullmatch(text)):
        return text
    raise LocalProtocolError(
        f"{name}: must be non-negative unix seconds or a Kraken txid, got {value!r}"
    )


def _txids_text(name: str, txids: object, limit: int) -> str:
    if isinstance(txids, str | bytes) or not isinstance(txids, Sequence):
        raise LocalProtocolError(
            f"{name}: must be a sequence (list or tuple) of txid strings, got "
            f"{type(txids).__name__}"
        )
    if not 1 <= len(txids) <= limit:
        raise LocalProtocolError(f"{name}: must hold 1..{limit} txids, got {len(txids)}")
    for txid in txids:
        if not isinstance(txid, str) or not _TXID.fullmatch(txid):
            raise LocalProtocolError(f"{name}: not a Kraken txid: {txid!r}")
    return ",".join(txids)


def build_open_orders_request(
    credentials: Credentials,
    *,
    nonce: int,
    trades: bool = False,
    userref: int | None = None,
    cl_ord_id: str | None = None,
) -> RestRequest:
    """Sign ``OpenOrders`` (cost 1): every open order, optionally filtered.

    ``trades`` asks for each order's trade ids; ``userref`` / ``cl_ord_id`` restrict the result
    to orders carrying that reference. Raises ``LocalProtocolError`` for bad arguments.
    """
    params: list[tuple[str, str]] = []
    if _bool_field("trades", trades):
        params.append(("trades", "true"))
    if userref is not None:
        params.append(("userref", _userref_text(userref)))
    if cl_ord_id is not None:
        params.append(("cl_ord_id", _cl_ord_id_text(cl_ord_id)))
    return build_private_request(credentials, path=OPEN_ORDERS_PATH, nonce=nonce, params=params)


def build_closed_orders_request(
    credentials: Credentials,
    *,
    nonce: int,
    trades: bool = False,
    userref: int | None = None,
    cl_ord_id: str | None = None,
    start: TimeOrTxid | None = None,
    end: TimeOrTxid | None = None,
    ofs: int | None = None,
    closetime: str = "both",
) -> RestRequest:
    """Sign ``ClosedOrders`` (cost 2): one page (50, newest first) of finished orders.

    ``start`` (exclusive) and ``end`` (inclusive) bound the time searched (``closetime``:
    ``"open"``, ``"close"`` or ``"both"``) as unix seconds or an order txid (Kraken then uses
    that order's ``opentm``); ``ofs`` skips that many results (paging by ``PAGE_SIZE``).
    Raises ``LocalProtocolError`` for bad arguments, floats included.
    """
    params: list[tuple[str, str]] = []
    if _bool_field("trades", trades):
        params.append(("trades", "true"))
    if userref is not None:
        params.append(("userref", _userref_text(userref)))
    if cl_ord_id is not None:
        params.append(("cl_ord_id", _cl_ord_id_text(cl_ord_id)))
    if start is not None:
        params.append(("start", _bound_text("start", start)))
    if end is not None:
        params.append(("end", _bound_text("end", end)))
    if ofs is not None:
        params.append(("ofs", _ofs_text(ofs)))
    if closetime not in _CLOSETIMES:
        raise LocalProtocolError(f"closetime: must be one of {_CLOSETIMES}, got {closetime!r}")
    if closetime != "both":
        params.append(("closetime", closetime))
    return build_private_request(credentials, path=CLOSED_ORDERS_PATH, nonce=nonce, params=params)


def build_query_orders_request(
    credentials: Credentials,
    *,
    nonce: int,
    txids: Sequence[str],
    trades: bool = False,
    userref: int | None = None,
) -> RestRequest:
    """Sign ``QueryOrders`` (cost 1) for 1..50 order txids, open or closed.

    Raises ``LocalProtocolError`` for an empty or too long list, a string instead of a list,
    or an id that is not shaped like a Kraken txid.
    """
    params = [("txid", _txids_text("txids", txids, MAX_QUERY_ORDERS))]
    if _bool_field("trades", trades):
        params.append(("trades", "true"))
    if userref is not None:
        params.append(("userref", _userref_text(userref)))
    return build_private_request(credentials, path=QUERY_ORDERS_PATH, nonce=nonce, params=params)


def build_trades_history_request(
    credentials: Credentials,
    *,
    nonce: int,
    start: TimeOrTxid | None = None,
    end: TimeOrTxid | None = None,
    ofs: int | None = None,
    trades: bool = False,
    consolidate_taker: bool = True,
) -> RestRequest:
    """Sign ``TradesHistory`` (cost 2): one page (50, newest first) of the account's trades.

    ``start`` (exclusive) / ``end`` (inclusive) are unix seconds or trade txids; ``ofs`` pages
    back into older trades; ``trades`` asks for position-related trade ids.
    ``consolidate_taker`` must match the ownTrades subscription's option: the two views of a
    taker order split into several fills carry different trade ids. Raises
    ``LocalProtocolError`` for bad arguments, floats included.
    """
    params: list[tuple[str, str]] = []
    if start is not None:
        params.append(("start", _bound_text("start", start)))
    if end is not None:
        params.append(("end", _bound_text("end", end)))
    if ofs is not None:
        params.append(("ofs", _ofs_text(ofs)))
    if _bool_field("trades", trades):
        params.append(("trades", "true"))
    if not _bool_field("consolidate_taker", consolidate_taker):
        params.append(("consolidate_taker", "false"))
    return build_private_request(credentials, path=TRADES_HISTORY_PATH, nonce=nonce, params=params)


def build_query_trades_request(
    credentials: Credentials, *, nonce: int, txids: Sequence[str]
) -> RestRequest:
    """Sign ``QueryTrades`` (cost 1) for 1..20 **trade** txids (the ownTrades keys)."""
    params = [("txid", _txids_text("txids", txids, MAX_QUERY_TRADES))]
    return build_private_request(credentials, path=QUERY_TRADES_PATH, nonce=nonce, params=params)
