"""Strategies for valid Kraken WebSocket v2 frames, shaped as Kraken sends them.

Prices and quantities are JSON numbers written with exact digits (``0.005``, ``26500.0``,
``0``), never produced through a float; timestamps are RFC 3339 strings with microseconds;
a push starts with its ``"channel"`` member, as Kraken's do. Every strategy returns
``bytes``: compact JSON, or now and then pretty-printed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from ._examples import V2_EXAMPLE_FRAMES
from ._json import decimal_texts, rendered
from ._v1 import ERRORS, order_ids, trade_ids

__all__ = [
    "v2_balances_frames",
    "v2_executions_frames",
    "v2_frames",
    "v2_heartbeat_frames",
    "v2_reply_frames",
    "v2_status_frames",
]

SYMBOLS = ("BTC/USD", "BTC/EUR", "ETH/USD", "MATIC/USD", "AAPLx/USD")

_quantities = decimal_texts(max_digits=4).map(Decimal)
_prices = decimal_texts(max_digits=6).map(Decimal)
_signed = decimal_texts(max_digits=6, signed=True).map(Decimal)
_timestamps = st.builds(
    lambda day, seconds, micros: (
        f"2025-10-{day:02d}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        f".{micros:06d}Z"
    ),
    st.integers(1, 28),
    st.integers(0, 86399),
    st.integers(0, 999999),
)
_req_ids = st.integers(0, 2**31 - 1)
_userrefs = st.integers(0, 2**31 - 1)
_sides = st.sampled_from(["buy", "sell"])
_order_types = st.sampled_from(
    ["limit", "market", "iceberg", "stop-loss", "stop-loss-limit", "take-profit", "trailing-stop"]
)
_cl_ord_ids = st.uuids().map(str)


def _push(
    channel: str, data: st.SearchStrategy[list[Any]], kind: str, sequence: st.SearchStrategy[int]
) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda records, number: {
            "channel": channel,
            "type": kind,
            "data": records,
            "sequence": number,
        },
        data,
        sequence,
    )


# --- executions -------------------------------------------------------------------------------

_fees = st.lists(
    st.fixed_dictionaries({"asset": st.sampled_from(["USD", "EUR", "BTC"]), "qty": _prices}),
    min_size=1,
    max_size=2,
)
_order_fields = {
    "order_id": order_ids(),
    "symbol": st.sampled_from(SYMBOLS),
    "side": _sides,
    "order_type": _order_types,
    "order_qty": _quantities,
    "order_userref": _userrefs,
    "time_in_force": st.sampled_from(["GTC", "IOC", "GTD"]),
    "timestamp": _timestamps,
}
_order_extras = {
    "cl_ord_id": _cl_ord_ids,
    "limit_price": _prices,
    "limit_price_type": st.just("static"),
    "post_only": st.booleans(),
    "reduce_only": st.booleans(),
    "fee_ccy_pref": st.sampled_from(["fciq", "fcib"]),
    "fee_usd_equiv": _prices,
    "display_qty": _quantities,
    "triggers": st.fixed_dictionaries(
        {"reference": st.sampled_from(["last", "index"]), "price": _signed},
        optional={
            "price_type": st.sampled_from(["static", "pct", "quote"]),
            "status": st.just("untriggered"),
        },
    ),
}
_open_order = st.fixed_dictionaries(
    {
        **_order_fields,
        "exec_type": st.sampled_from(["pending_new", "new"]),
        "order_status": st.sampled_from(["pending_new", "new", "partially_filled"]),
        "cum_qty": _quantities,
        "cum_cost": _prices,
        "avg_price": _prices,
    },
    optional=_order_extras,
)
_trade = st.fixed_dictionaries(
    {
        "order_id": order_ids(),
        "exec_id": trade_ids(),
        "exec_type": st.just("trade"),
        "trade_id": st.integers(1, 2**40),
        "symbol": st.sampled_from(SYMBOLS),
        "side": _sides,
        "last_qty": _quantities,
        "last_price": _prices,
        "liquidity_ind": st.sampled_from(["t", "m"]),
        "cost": _prices,
        "order_type": _order_types,
        "timestamp": _timestamps,
        "order_status": st.sampled_from(["partially_filled", "filled"]),
        "cum_qty": _quantities,
        "cum_cost": _prices,
        "avg_price": _prices,
        "fee_usd_equiv": _prices,
        "fees": _fees,
    },
    optional={"order_userref": _userrefs, "cl_ord_id": _cl_ord_ids, "margin": st.booleans()},
)
_status_change = st.fixed_dictionaries(
    {
        "order_id": order_ids(),
        "exec_type": st.sampled_from(
            [
                "new",
                "filled",
                "canceled",
                "expired",
                "amended",
                "restated",
                "status",
                "iceberg_refill",
            ]
        ),
        "order_status": st.sampled_from(
            ["new", "partially_filled", "filled", "canceled", "expired"]
        ),
        "timestamp": _timestamps,
    },
    optional={
        "order_userref": _userrefs,
        "cum_qty": _quantities,
        "cum_cost": _prices,
        "avg_price": _prices,
        "fee_usd_equiv": _prices,
        "reason": st.sampled_from(["User requested", "Post only order"]),
        "cancel_reason": st.just("User requested"),
        "amended": st.booleans(),
        "order_qty": _quantities,
        "limit_price": _prices,
    },
)


def v2_executions_frames(*, snapshot: bool | None = None) -> st.SearchStrategy[bytes]:
    """``executions`` pushes: ``{"channel":"executions","type":...,"data":[...],"sequence":n}``.

    ``snapshot=True``: ``type`` snapshot, sequence 1, zero to four records: open orders
    (``exec_type`` pending_new or new, their totals and options) and recent trades. ``False``:
    ``type`` update, sequence 2 and up, one to three execution reports: a new order, a trade
    (``last_qty``, ``last_price``, ``cost``, ``fees``, order totals) or a sparse status change
    (filled, canceled, expired, amended, restated, status, iceberg_refill). ``None``: either.
    """
    snapshots = _push(
        "executions", st.lists(_open_order | _trade, max_size=4), "snapshot", st.just(1)
    )
    updates = _push(
        "executions",
        st.lists(_open_order | _trade | _status_change, min_size=1, max_size=3),
        "update",
        st.integers(2, 10**6),
    )
    return rendered({True: snapshots, False: updates, None: snapshots | updates}[snapshot])


# --- balances ---------------------------------------------------------------------------------

_assets = st.sampled_from(["BTC", "USD", "EUR", "ETH", "USDC"])
_holdings = st.fixed_dictionaries(
    {
        "asset": _assets,
        "asset_class": st.just("currency"),
        "balance": _prices,
        "wallets": st.lists(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["spot", "earn"]),
                    "id": st.sampled_from(["main", "flex", "bonded"]),
                    "balance": _prices,
                }
            ),
            max_size=3,
        ),
    }
)
_ledger = st.fixed_dictionaries(
    {
        "ledger_id": trade_ids(),
        "ref_id": trade_ids(),
        "timestamp": _timestamps,
        "type": st.sampled_from(["trade", "deposit", "withdrawal", "earn"]),
        "asset": _assets,
        "asset_class": st.just("currency"),
        "category": st.sampled_from(["trade", "deposit", "withdrawal", "autoallocation"]),
        "wallet_type": st.sampled_from(["spot", "earn"]),
        "wallet_id": st.sampled_from(["main", "flex"]),
        "amount": _signed,
        "fee": _prices,
        "balance": _prices,
    },
    optional={"subtype": st.sampled_from(["", "spottostaking"])},
)


def v2_balances_frames(*, snapshot: bool | None = None) -> st.SearchStrategy[bytes]:
    """``balances`` pushes. ``snapshot=True``: ``type`` snapshot, sequence 1, zero to four
    holdings (``asset``, ``asset_class``, ``balance``, ``wallets``). ``False``: ``type``
    update, sequence 2 and up, one or two ledger records (``ledger_id``, ``ref_id``, ``type``,
    ``category``, a signed ``amount``, ``fee``, ``balance``...). ``None``: either."""
    snapshots = _push("balances", st.lists(_holdings, max_size=4), "snapshot", st.just(1))
    updates = _push(
        "balances", st.lists(_ledger, min_size=1, max_size=2), "update", st.integers(2, 10**6)
    )
    return rendered({True: snapshots, False: updates, None: snapshots | updates}[snapshot])


# --- heartbeat and status ---------------------------------------------------------------------


def v2_heartbeat_frames() -> st.SearchStrategy[bytes]:
    """The heartbeat: ``{"channel":"heartbeat"}`` (compact or pretty-printed)."""
    return rendered(st.just({"channel": "heartbeat"}))


def v2_status_frames() -> st.SearchStrategy[bytes]:
    """``status`` pushes: one record with ``api_version`` v2, a ``connection_id`` anywhere in
    0..2**64-1, ``system`` (online, maintenance, cancel_only, post_only) and a ``version``;
    ``type`` update (or snapshot, on connect)."""
    record = st.fixed_dictionaries(
        {
            "api_version": st.just("v2"),
            "connection_id": st.integers(0, 2**64 - 1),
            "system": st.sampled_from(["online", "maintenance", "cancel_only", "post_only"]),
            "version": st.sampled_from(["2.0.0", "2.0.4", "2.0.10"]),
        }
    )
    return rendered(
        st.builds(
            lambda item, kind: {"channel": "status", "data": [item], "type": kind},
            record,
            st.sampled_from(["update", "snapshot"]),
        )
    )


# --- method replies ---------------------------------------------------------------------------

_stamps = st.sampled_from(["2023-09-21T15:49:29Z", "2024-07-26T13:39:04Z"])
_warnings = st.lists(st.sampled_from(["Volume below minimum", "Deprecated field"]), max_size=1)
_RESULTS: dict[str, st.SearchStrategy[Any]] = {
    "subscribe": st.fixed_dictionaries(
        {"channel": st.sampled_from(["executions", "balances"])},
        optional={
            "maxratecount": st.integers(60, 180),
            "snap_orders": st.booleans(),
            "snap_trades": st.booleans(),
            "snapshot": st.booleans(),
        },
    ),
    "unsubscribe": st.fixed_dictionaries({"channel": st.sampled_from(["executions", "balances"])}),
    "add_order": st.fixed_dictionaries(
        {"order_id": order_ids()},
        optional={"cl_ord_id": _cl_ord_ids, "order_userref": _userrefs, "warnings": _warnings},
    ),
    "amend_order": st.fixed_dictionaries(
        {"amend_id": trade_ids()}, optional={"order_id": order_ids(), "cl_ord_id": _cl_ord_ids}
    ),
    "edit_order": st.fixed_dictionaries(
        {"order_id": order_ids(), "original_order_id": order_ids()}
    ),
    "cancel_order": st.fixed_dictionaries(
        {}, optional={"order_id": order_ids(), "cl_ord_id": _cl_ord_ids}
    ),
    "cancel_all": st.fixed_dictionaries({"count": st.integers(0, 1000)}),
    "cancel_all_orders_after": st.fixed_dictionaries(
        {"currentTime": _stamps, "triggerTime": _stamps | st.just("0")}
    ),
    "batch_add": st.lists(
        st.fixed_dictionaries(
            {"order_id": order_ids()},
            optional={"order_userref": _userrefs, "cl_ord_id": _cl_ord_ids},
        ),
        min_size=1,
        max_size=15,
    ),
    "batch_cancel": st.fixed_dictionaries({"count": st.integers(0, 15)}),
}


def _reply(method: str) -> st.SearchStrategy[dict[str, Any]]:
    timing = {"time_in": _timestamps, "time_out": _timestamps}
    success = st.fixed_dictionaries(
        {"method": st.just(method), "result": _RESULTS[method], "success": st.just(True)},
        optional={"req_id": _req_ids, **timing},
    )
    failure = st.fixed_dictionaries(
        {"method": st.just(method), "error": st.sampled_from(ERRORS), "success": st.just(False)},
        optional={"req_id": _req_ids, **timing},
    )
    return success | failure


def v2_reply_frames() -> st.SearchStrategy[bytes]:
    """Replies to methods: ``subscribe``, ``unsubscribe``, ``add_order``, ``amend_order``,
    ``edit_order``, ``cancel_order``, ``cancel_all``, ``cancel_all_orders_after``,
    ``batch_add`` (an array of rows) and ``batch_cancel``, each either ``success: true`` with
    its ``result`` or ``success: false`` with an ``error`` string; maybe with ``req_id`` and
    ``time_in``/``time_out``. Also ``pong`` (``req_id``, times, no ``success``)."""
    pong = st.fixed_dictionaries(
        {"method": st.just("pong")},
        optional={"req_id": _req_ids, "time_in": _timestamps, "time_out": _timestamps},
    )
    return rendered(st.sampled_from(sorted(_RESULTS)).flatmap(_reply) | pong)


def v2_frames() -> st.SearchStrategy[bytes]:
    """Any valid v2 frame: one of every strategy above, or one of the documented
    ``V2_EXAMPLE_FRAMES``."""
    return st.one_of(
        v2_executions_frames(),
        v2_balances_frames(),
        v2_heartbeat_frames(),
        v2_status_frames(),
        v2_reply_frames(),
        st.sampled_from(V2_EXAMPLE_FRAMES),
    )
