"""Strategies for valid Kraken WebSocket v1 frames, shaped as Kraken sends them.

Amounts and times are strings of exact digits padded as Kraken pads them (``"0.00010000"``,
``"1700220661.985020"``); ids have Kraken's ``XXXXXX-XXXXX-XXXXXX`` shape (orders start with
``O``, trades with ``T``); control events have Kraken's alphabetically sorted keys. Every
strategy returns ``bytes``: compact JSON, or now and then pretty-printed (Kraken's seed page
shows frames that way, and the decoder must read both).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ._examples import V1_EXAMPLE_FRAMES
from ._json import decimal_texts, rendered

__all__ = [
    "order_ids",
    "trade_ids",
    "v1_frames",
    "v1_heartbeat_frames",
    "v1_open_orders_frames",
    "v1_own_trades_frames",
    "v1_request_reply_frames",
    "v1_subscription_status_frames",
    "v1_system_status_frames",
]

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
PAIRS = ("XBT/USD", "XBT/EUR", "ETH/USD", "ATOM/USD", "USDC/USD", "AAPLx/USD")
SYSTEM_STATUSES = ("online", "maintenance", "cancel_only", "limit_only", "post_only")
ERRORS = (
    "EOrder:Insufficient funds",
    "EOrder:Order minimum not met",
    "EOrder:Unknown order",
    "EGeneral:Invalid arguments",
    "EGeneral:Permission denied",
    "ESession:Invalid session",
    "EAPI:Invalid nonce",
    "Exceeded msg rate",
    "Malformed request",
)

_amounts = decimal_texts(places=8, max_digits=6)
_prices = decimal_texts(places=5, max_digits=6)
_times = decimal_texts(places=6, max_digits=10)
_reqids = st.integers(0, 2**64 - 1)
_sides = st.sampled_from(["buy", "sell"])
_order_types = st.sampled_from(
    ["limit", "market", "stop-loss", "take-profit", "stop-loss-limit", "take-profit-limit"]
)


def _ids(first: str) -> st.SearchStrategy[str]:
    # One integer per id, written in base 36 (a few draws per id instead of sixteen).
    return st.integers(0, 36**16 - 1).map(lambda number: _id_text(first, number))


def _id_text(first: str, number: int) -> str:
    digits = []
    for _ in range(16):
        number, digit = divmod(number, 36)
        digits.append(_ID_ALPHABET[digit])
    text = first + "".join(digits)
    return f"{text[:6]}-{text[6:11]}-{text[11:]}"


def order_ids() -> st.SearchStrategy[str]:
    """Order txids as Kraken writes them: ``O`` then ``XXXXX-XXXXX-XXXXXX`` (A-Z, 0-9)."""
    return _ids("O")


def trade_ids() -> st.SearchStrategy[str]:
    """Trade ids as Kraken writes them: ``T`` then ``XXXXX-XXXXX-XXXXXX`` (A-Z, 0-9)."""
    return _ids("T")


# --- channels --------------------------------------------------------------------------------

_trades = st.fixed_dictionaries(
    {
        "cost": _amounts,
        "fee": _amounts,
        "margin": _amounts,
        "ordertxid": order_ids(),
        "ordertype": _order_types,
        "pair": st.sampled_from(PAIRS),
        "postxid": trade_ids(),
        "price": _prices,
        "time": _times,
        "type": _sides,
        "vol": _amounts,
    },
    optional={
        "userref": st.integers(-(2**31), 2**31 - 1),
        "cl_ord_id": st.uuids().map(str),
        "margin_borrow": st.booleans(),
    },
)


def _channel(
    name: str, entries: st.SearchStrategy[list[dict[str, Any]]], sequence: st.SearchStrategy[int]
) -> st.SearchStrategy[list[Any]]:
    # Very old service versions sent no third element: ``[[...], "openOrders"]``.
    return st.builds(
        lambda payload, number, keep: [payload, name, {"sequence": number}][: 3 if keep else 2],
        entries,
        sequence,
        st.sampled_from([True] * 9 + [False]),
    )


def v1_own_trades_frames(*, snapshot: bool | None = None) -> st.SearchStrategy[bytes]:
    """``ownTrades`` frames: ``[[{trade_id: trade}, ...], "ownTrades", {"sequence": n}]``.

    ``snapshot=True``: the first frame of a subscription (sequence 1, zero to four trades; a
    fresh account's is empty). ``False``: a live update (sequence 2 and up, one or two new
    trades). ``None``: either. Each trade has every field Kraken sends (ordertxid, postxid,
    pair, time, type, ordertype, price, cost, fee, vol, margin) and maybe userref, cl_ord_id
    and margin_borrow. One frame in ten or so lacks the sequence element, as old services sent.
    """
    entries = st.dictionaries(trade_ids(), _trades, min_size=1, max_size=1)
    snapshots = _channel("ownTrades", st.lists(entries, max_size=4), st.just(1))
    updates = _channel(
        "ownTrades", st.lists(entries, min_size=1, max_size=2), st.integers(2, 10**6)
    )
    chosen = {True: snapshots, False: updates, None: snapshots | updates}[snapshot]
    return rendered(chosen)


_descrs = st.fixed_dictionaries(
    {
        "close": st.sampled_from(["", None]),
        "leverage": st.sampled_from(["none", "0:1", "5:1", None]),
        "order": st.just("buy 5.00000000 ATOM/USD @ limit 9.250000"),
        "ordertype": _order_types,
        "pair": st.sampled_from(PAIRS),
        "price": _prices,
        "price2": _prices,
        "type": _sides,
    }
)
_full_records = st.fixed_dictionaries(
    {
        "avg_price": _prices,
        "cost": _amounts,
        "descr": _descrs,
        "expiretm": _times | st.none(),
        "fee": _amounts,
        "limitprice": _prices,
        "misc": st.sampled_from(["", "stopped"]),
        "oflags": st.sampled_from(["fciq", "fcib", "post,fciq", ""]),
        "opentm": _times,
        "refid": st.none(),
        "starttm": _times | st.none(),
        "status": st.sampled_from(["pending", "open"]),
        "stopprice": _prices,
        "timeinforce": st.sampled_from(["GTC", "IOC", "GTD"]),
        "userref": st.integers(-(2**31), 2**31 - 1),
        "vol": _amounts,
        "vol_exec": _amounts,
    },
    optional={"cl_ord_id": st.uuids().map(str), "display_volume": _amounts},
)
_deltas = st.one_of(
    # goes live
    st.fixed_dictionaries({"status": st.just("open"), "userref": st.integers(0, 9)}),
    # a (partial) fill: cumulative totals
    st.fixed_dictionaries(
        {
            "avg_price": _prices,
            "cost": _amounts,
            "fee": _amounts,
            "userref": st.integers(0, 9),
            "vol_exec": _amounts,
        }
    ),
    # closed, cancelled or expired
    st.fixed_dictionaries(
        {
            "lastupdated": _times,
            "status": st.sampled_from(["closed", "canceled", "expired"]),
            "vol_exec": _amounts,
            "cost": _amounts,
            "fee": _amounts,
            "avg_price": _prices,
            "userref": st.integers(0, 9),
        },
        optional={"cancel_reason": st.sampled_from(["User requested", "Post only order"])},
    ),
    # amended in place
    st.fixed_dictionaries(
        {
            "amended": st.just(True),
            "vol": _amounts,
            "descr": st.fixed_dictionaries({"price": _prices}),
        }
    ),
)


def v1_open_orders_frames(*, snapshot: bool | None = None) -> st.SearchStrategy[bytes]:
    """``openOrders`` frames: ``[[{txid: record}, ...], "openOrders", {"sequence": n}]``.

    ``snapshot=True``: sequence 1 with zero to four full records (pending or open orders, with
    ``descr``; ``null`` where Kraken sends it for a new order). ``False``: an update (sequence
    2 and up) of one to three entries, each a full record of a new order or one of Kraken's
    deltas: goes live (``status`` only), a fill (cumulative ``vol_exec``/``cost``/``fee``/
    ``avg_price``), closed/cancelled/expired (with ``lastupdated`` and maybe
    ``cancel_reason``) or amended. ``None``: either. The same txid may repeat in an update, as
    Kraken allows. One frame in ten or so lacks the sequence element.
    """
    full = st.dictionaries(order_ids(), _full_records, min_size=1, max_size=1)
    changed = st.dictionaries(order_ids(), _full_records | _deltas, min_size=1, max_size=1)
    snapshots = _channel("openOrders", st.lists(full, max_size=4), st.just(1))
    updates = _channel(
        "openOrders", st.lists(changed, min_size=1, max_size=3), st.integers(2, 10**6)
    )
    chosen = {True: snapshots, False: updates, None: snapshots | updates}[snapshot]
    return rendered(chosen)


# --- control events --------------------------------------------------------------------------


def _event(name: str, fields: dict[str, Any], optional: dict[str, Any] | None = None) -> Any:
    required = {"event": st.just(name), **fields}
    # Kraken sorts the keys of its control events.
    return st.fixed_dictionaries(required, optional=optional or {}).map(
        lambda record: dict(sorted(record.items()))
    )


def v1_heartbeat_frames() -> st.SearchStrategy[bytes]:
    """The heartbeat: ``{"event":"heartbeat"}`` (compact or pretty-printed)."""
    return rendered(_event("heartbeat", {}))


def v1_system_status_frames() -> st.SearchStrategy[bytes]:
    """``systemStatus``: ``status`` (online, maintenance, cancel_only, limit_only,
    post_only), a ``connectionID`` anywhere in 0..2**64-1 (Kraken's go past 2**63) and a
    ``version``."""
    return rendered(
        _event(
            "systemStatus",
            {
                "connectionID": st.integers(0, 2**64 - 1),
                "status": st.sampled_from(SYSTEM_STATUSES),
                "version": st.sampled_from(["1.9.0", "1.9.1", "1.0.0"]),
            },
        )
    )


def v1_subscription_status_frames() -> st.SearchStrategy[bytes]:
    """``subscriptionStatus`` replies: subscribed or unsubscribed (``channelName``,
    ``subscription`` with ``name`` and maybe ``maxratecount``, maybe ``reqid``), or an error
    (``errorMessage``, maybe without ``channelName``)."""
    names = st.sampled_from(["ownTrades", "openOrders"])
    acks = names.flatmap(
        lambda name: _event(
            "subscriptionStatus",
            {
                "channelName": st.just(name),
                "status": st.sampled_from(["subscribed", "unsubscribed"]),
                "subscription": st.fixed_dictionaries(
                    {"name": st.just(name)}, optional={"maxratecount": st.integers(60, 180)}
                ),
            },
            {"reqid": _reqids},
        )
    )
    errors = _event(
        "subscriptionStatus",
        {"errorMessage": st.sampled_from(ERRORS), "status": st.just("error")},
        {"reqid": _reqids, "channelName": names},
    )
    return rendered(acks | errors)


def v1_request_reply_frames() -> st.SearchStrategy[bytes]:
    """Replies to requests, each ``ok`` or ``error`` (with ``errorMessage``), maybe with the
    request's ``reqid``: ``addOrderStatus`` (``txid``, ``descr``), ``editOrderStatus``
    (``txid``, ``originaltxid``), ``amendOrderStatus`` (``amend_id``, ``txid`` or
    ``cl_ord_id``), ``cancelOrderStatus``, ``cancelAllStatus`` (``count``),
    ``cancelAllOrdersAfterStatus`` (``currentTime``, ``triggerTime``, ``"0"`` when disarmed),
    ``pong``, and the request-level ``error`` event."""
    reqid = {"reqid": _reqids}
    ok = st.just("ok")
    failed = _event(
        "addOrderStatus",
        {"errorMessage": st.sampled_from(ERRORS), "status": st.just("error")},
        reqid,
    ) | st.sampled_from(
        [
            "editOrderStatus",
            "amendOrderStatus",
            "cancelOrderStatus",
            "cancelAllStatus",
            "cancelAllOrdersAfterStatus",
        ]
    ).flatmap(
        lambda name: _event(
            name, {"errorMessage": st.sampled_from(ERRORS), "status": st.just("error")}, reqid
        )
    )
    stamps = st.sampled_from(["2020-12-21T09:37:09Z", "2024-05-19T11:42:13Z"])
    replies = st.one_of(
        _event(
            "addOrderStatus",
            {
                "descr": st.just("buy 0.01770000 XBTUSD @ limit 4000"),
                "status": ok,
                "txid": order_ids(),
            },
            {**reqid, "cl_ord_id": st.uuids().map(str)},
        ),
        _event(
            "editOrderStatus",
            {
                "descr": st.just("order edited price = 9000.00000000"),
                "originaltxid": order_ids(),
                "status": ok,
                "txid": order_ids(),
            },
            reqid,
        ),
        _event(
            "amendOrderStatus",
            {"amend_id": trade_ids(), "status": ok},
            {**reqid, "txid": order_ids(), "cl_ord_id": st.uuids().map(str)},
        ),
        _event("cancelOrderStatus", {"status": ok}, reqid),
        _event("cancelAllStatus", {"count": st.integers(0, 1000), "status": ok}, reqid),
        _event(
            "cancelAllOrdersAfterStatus",
            {"currentTime": stamps, "status": ok, "triggerTime": stamps | st.just("0")},
            reqid,
        ),
        _event("pong", {}, reqid),
        _event("error", {"errorMessage": st.sampled_from(ERRORS)}, reqid),
        failed,
    )
    return rendered(replies)


def v1_frames() -> st.SearchStrategy[bytes]:
    """Any valid v1 frame: one of every strategy above, or one of the documented
    ``V1_EXAMPLE_FRAMES``."""
    return st.one_of(
        v1_own_trades_frames(),
        v1_open_orders_frames(),
        v1_heartbeat_frames(),
        v1_system_status_frames(),
        v1_subscription_status_frames(),
        v1_request_reply_frames(),
        st.sampled_from(V1_EXAMPLE_FRAMES),
    )
