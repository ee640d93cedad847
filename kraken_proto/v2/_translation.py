"""v2 ``executions`` in the v1 shapes that ``FillLog`` and ``OrderTable`` already keep.

A v2 connection reports fills and order changes on one channel; the rest of the library
(``FillLog``, ``OrderTable``, and what is built on them) works on v1's ``OwnTrades`` and
``OpenOrders``. :func:`own_trades` and :func:`open_orders` translate one ``Executions`` push
into those, so the same deduplication and order bookkeeping serve both protocols.

Rules, where v2 and v1 differ:

* An order's status comes from ``exec_type`` alone (``pending_new`` -> pending, ``new`` -> open,
  ``filled`` -> closed, ``canceled``, ``expired``), never from ``order_status``: a ``trade`` can
  say ``partially_filled`` on the fill that completes the order, and ``exec_type: filled``
  follows. Other exec types (``trade``, ``amended``, ``restated``, ``status``,
  ``iceberg_refill``, unknown ones) change fields, not the status. In a snapshot, where every
  entry is an open order, ``order_status`` says whether it is pending or open.
* Times: v2's RFC 3339 ``timestamp`` becomes v1's unix-seconds ``Decimal``, exact to the digits
  (nanoseconds kept).
* Names: ``symbol`` (``BTC/USD``) fills v1's ``pair`` as is; the trade id is ``exec_id``.
* The field names that differ are in three tables below (v2 field, v1 field, converter):
  ``_TRADE_FIELDS``, ``_ORDER_FIELDS`` and ``_DESCR_FIELDS``. Each is compiled once, at import,
  into one plain constructor call, so a table costs nothing per record.
* ``cum_qty`` is ``vol_exec``; a pending order (``pending_new``) without one has executed
  nothing, so its ``vol_exec`` is ``Decimal(0)`` as on v1 (live ``pending_new`` sends none).
* A ``trade`` record gives no ``descr`` (it describes the fill, not the order), so an order
  first seen in a fill is a stub (``Order.is_stub``) in ``OrderTable``, kept, not dropped.
* A fill's ``fee`` is the sum of its ``fees`` when they are all in one asset (``None`` if
  not). An order's cumulative fee is not in v2's stream (only ``fee_usd_equiv``), so order
  records leave ``fee`` unset: ``OrderTable`` keeps what it had.

Pure and total: any ``Executions`` value maps without raising (a malformed timestamp maps to
``None``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar, cast

from kraken_proto.v1._events import OpenOrders, OrderDescr, OrderRecord, OwnTrades, Trade

from ._events import Execution, Executions, Fee

__all__ = ["open_orders", "own_trades", "rfc3339_to_unix"]

_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,12})?"
    r"(?:[Zz]|([+\-])([0-9]{2}):([0-9]{2}))"
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_STATUS_BY_EXEC_TYPE = {
    "pending_new": "pending",
    "new": "open",
    "filled": "closed",
    "canceled": "canceled",
    "expired": "expired",
}
_SNAPSHOT_STATUS = {"pending_new": "pending", "new": "open", "partially_filled": "open"}


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _rfc3339_general(text: str) -> Decimal | None:
    """``rfc3339_to_unix`` of any text, by the full RFC 3339 grammar (the reference path)."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 59:
        return None
    days_in_month = _DAYS_IN_MONTH[month - 1] + (month == 2 and _leap(year))
    if not 1 <= day <= days_in_month:
        return None
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    if match[8] is not None:
        offset = int(match[9]) * 3600 + int(match[10]) * 60
        seconds -= offset if match[8] == "+" else -offset
    whole = Decimal(seconds)
    return whole if match[7] is None else whole + Decimal(match[7])


# The fast path reads Kraken's one shape, ``YYYY-MM-DDTHH:MM:SS.<1-12 digits>Z``, by table
# lookups on fixed slices instead of the regex: each table holds only valid texts, so a slice
# found in it is checked (digits, range, separators) by the finding. Anything else takes
# ``_rfc3339_general``, which gives the same value for the texts the fast path reads.
_CLOCK_MINUTES = {f"{h:02d}:{m:02d}:": h * 3600 + m * 60 for h in range(24) for m in range(60)}
_CLOCK_SECONDS = {f"{s:02d}.": s for s in range(60)}
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T")
_MIDNIGHTS: dict[str, int] = {}  # "YYYY-MM-DDT" -> its unix seconds at 00:00Z (>= 0 only)
_MIDNIGHTS_KEPT = 1024  # a live stream meets one date a day; the limit bounds odd input
# "YYYY-MM-DDTHH:MM:" -> the minute's 60 whole parts as text ("1700220285.") by second, each
# written when first needed (None until then), and at [60] the minute's start as an int. A live
# stream's records come many to a minute: most find their whole part written already, so only
# their fraction is checked and joined (no int to format, no sum).
# Bounded by minutes, each up to ~4 KiB (the list and 60 heads): at most ~1 MiB, whatever the
# peer sends. A live stream needs the current minute; a snapshot's orders, one per minute they
# were last changed in, fill it at most once (times it sends again come from ``_RECENT``).
_MINUTE_HEADS: dict[str, list[Any]] = {}
_MINUTE_HEADS_KEPT = 256


def _midnight(date: str) -> int | None:
    """Unix seconds of a valid ``YYYY-MM-DDT`` prefix at midnight UTC (remembered), or
    ``None`` for an invalid one or one before 1970 (left to the general path)."""
    match = _DATE.fullmatch(date)
    if match is None:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1] + (
        month == 2 and _leap(year)
    ):
        return None
    seconds = _days_from_civil(year, month, day) * 86400
    if seconds < 0:
        return None  # the fast path's text joining needs a non-negative whole part
    if len(_MIDNIGHTS) >= _MIDNIGHTS_KEPT:
        _MIDNIGHTS.clear()
    _MIDNIGHTS[date] = seconds
    return seconds


def _minute_heads(prefix: str) -> list[Any] | None:
    """The (empty) heads of a valid ``YYYY-MM-DDTHH:MM:`` prefix at or after 1970, remembered,
    or ``None`` for any other text (left to the general path)."""
    date = prefix[:11]
    midnight = _MIDNIGHTS.get(date)
    if midnight is None:
        midnight = _midnight(date)
    minutes = _CLOCK_MINUTES.get(prefix[11:])
    if midnight is None or minutes is None:
        return None
    if len(_MINUTE_HEADS) >= _MINUTE_HEADS_KEPT:
        _MINUTE_HEADS.clear()
    heads: list[Any] = [None] * 60
    heads.append(midnight + minutes)
    _MINUTE_HEADS[prefix] = heads
    return heads


class _Times(dict):  # type: ignore[type-arg]  # a dict[str, Decimal]
    """Text -> its value, for the times met lately. One push's records often share their
    timestamp, and a snapshot lists each order that has not changed since the last one with
    the same time again: a resubscription's snapshot finds its times here when it lists no
    more orders than this holds.

    ``times[text]`` is ``rfc3339_to_unix``'s answer for any text: a time met before costs one
    dict lookup in C (no Python frame), and only a new one runs Python (``__missing__``, which
    reads it and remembers it when valid; invalid text gives ``None``, not remembered)."""

    __slots__ = ()

    def __missing__(
        self,
        text: str,
        /,
        _minutes: dict[str, list[Any]] = _MINUTE_HEADS,
        _seconds: dict[str, int] = _CLOCK_SECONDS,
        _decimal: type[Decimal] = Decimal,
    ) -> Decimal | None:
        # The fast path reads Kraken's shape; anything else takes the general path, which gives
        # the same value for the texts the fast path reads. (It is written here, not called: a
        # Python call costs a tenth of it. The defaulted parameters are local names.)
        prefix = text[:17]
        heads = _minutes.get(prefix)
        if heads is None:
            heads = _minute_heads(prefix)
        second = _seconds.get(text[17:20])
        value: Decimal | None = None
        if heads is not None and second is not None and text[-1] == "Z":
            fraction = text[20:-1]
            # isdigit alone takes other scripts' digits (which Decimal() reads too); "" is not.
            if fraction.isdigit() and fraction.isascii() and len(fraction) <= 12:
                head = heads[second]
                if head is None:
                    head = heads[second] = f"{heads[60] + second}."
                # One Decimal from its text: exact, and the same digits and exponent as the
                # general path's whole + fraction (at most 12 + 12 digits, inside the context).
                value = _decimal(head + fraction)
        if value is None:
            value = _rfc3339_general(text)
            if value is None:
                return None
        if len(self) >= _RECENT_KEPT:
            self.clear()  # start over: a live stream's times come back in at once
        self[text] = value
        return value


_RECENT = _Times()
_RECENT_KEPT = 1024
# ``rfc3339_to_unix`` of a text known not to be None: the translation's converter.
_unix_of = cast(Callable[[str], "Decimal | None"], _RECENT.__getitem__)


def rfc3339_to_unix(text: str | None) -> Decimal | None:
    """Unix seconds of an RFC 3339 time as an exact ``Decimal`` (its fraction digits kept), or
    ``None`` for ``None`` or text that is not a valid RFC 3339 date-time."""
    return None if text is None else _unix_of(text)


def _parse_rfc3339(text: str) -> Decimal | None:
    """``rfc3339_to_unix`` of ``text`` read afresh (no memo of texts met), by the fast path when
    it has Kraken's shape: what the memo's ``__missing__`` gives."""
    return _Times().__missing__(text)


def _fee(fees: tuple[Fee, ...]) -> Decimal | None:
    """The sum of a fill's ``fees`` when they are all in one asset, else ``None``."""
    if len(fees) == 1:  # the usual fill: the general sum, cheaply
        qty = fees[0].qty
        return None if qty is None else _NO_FEE + qty
    if not fees or len({fee.asset for fee in fees}) != 1 or any(f.qty is None for f in fees):
        return None
    return sum((fee.qty for fee in fees if fee.qty is not None), _NO_FEE)


_NO_FEE = Decimal(0)


# --- the field tables -------------------------------------------------------------------------

_Row = tuple[str, str, Callable[[Any], Any] | None]
"""(v2 ``Execution`` field, v1 field, converter applied to the value or ``None``)."""

# A fill (``exec_type: trade``) as a v1 ``Trade``.
_TRADE_FIELDS: tuple[_Row, ...] = (
    ("order_id", "ordertxid", None),
    ("symbol", "pair", None),
    ("timestamp", "time", _unix_of),
    ("side", "type", None),
    ("order_type", "ordertype", None),
    ("last_price", "price", None),
    ("cost", "cost", None),
    ("fees", "fee", _fee),
    ("last_qty", "vol", None),
    ("margin_borrow", "margin_borrow", None),
    ("order_userref", "userref", None),
    ("cl_ord_id", "cl_ord_id", None),
    ("ext_exec_id", "ext_exec_id", None),
)

# An order change as a v1 ``OrderRecord``. ``_ORDER_COMPUTED`` are the fields that depend on
# more than one v2 field or on the push (snapshot or update): ``open_orders`` works them out.
_ORDER_FIELDS: tuple[_Row, ...] = (
    ("order_userref", "userref", None),
    ("cl_ord_id", "cl_ord_id", None),
    ("ext_ord_id", "ext_ord_id", None),
    ("effective_time", "starttm", _unix_of),
    ("expire_time", "expiretm", _unix_of),
    ("order_qty", "vol", None),
    ("cum_cost", "cost", None),
    ("avg_price", "avg_price", None),
    ("limit_price", "limitprice", None),
    ("display_qty", "display_volume", None),
    ("display_qty_remain", "display_volume_remain", None),
    ("time_in_force", "timeinforce", None),
    ("sender_sub_id", "sender_sub_id", None),
    ("amended", "amended", None),
    ("ratecount", "ratecount", None),
)
_ORDER_COMPUTED = ("status", "opentm", "lastupdated", "descr", "cancel_reason", "vol_exec")
_NOTHING_EXECUTED = Decimal(0)

# An order's ``descr``; ``None`` when none of its v2 fields is set.
_DESCR_FIELDS: tuple[_Row, ...] = (
    ("symbol", "pair", None),
    ("side", "type", None),
    ("order_type", "ordertype", None),
    ("limit_price", "price", None),
)

T = TypeVar("T")


def _compile(
    name: str,
    target: type[T],
    rows: tuple[_Row, ...],
    computed: tuple[str, ...] = (),
    *,
    optional: bool = False,
    keywords: tuple[str, ...] = (),
) -> Callable[..., T | None]:
    """Compile a field table into ``name(record, <computed>...)``, which builds ``target`` in
    one constructor call: each row's v1 field from the record's v2 field (through its
    converter, called only on a value that is not ``None``: an absent field stays ``None``),
    and each ``computed`` field from the argument of that name (positional, in ``computed``
    order). With ``optional`` it returns ``None`` instead when every v2 field of the table is
    ``None``. ``keywords`` are more fields of ``target`` taken as arguments after
    ``computed`` and passed by keyword (a ``kw_only`` field, such as ``Order.txid``).

    The function is the code one would write by hand for the table (values read straight off
    the record; positional arguments, every field in order, when ``target`` takes them, as that
    call is about twice as cheap as keywords), so a table costs nothing per record over that
    code. Raises ``ValueError`` for a field that ``Execution`` or ``target`` lacks, so a typo in
    a table fails at import.
    """
    v2_fields = set(Execution.__struct_fields__)
    order: tuple[str, ...] = getattr(target, "__struct_fields__", ())
    v1_fields = set(order)
    if not set(computed) | set(keywords) <= v1_fields:
        raise ValueError(f"{name}: {target.__name__} lacks one of {computed + keywords}")
    namespace: dict[str, Any] = {"_target": target}
    values = {field: field for field in computed}
    for index, (source, field, convert) in enumerate(rows):
        if source not in v2_fields or field not in v1_fields:
            raise ValueError(f"{name}: no field {source!r} -> {field!r}")
        value = f"record.{source}"
        if convert is not None:
            namespace[f"_convert{index}"] = convert
            value = f"(None if (_v{index} := {value}) is None else _convert{index}(_v{index}))"
        values[field] = value
    if order and _takes_positions(target):
        last = max((order.index(field) for field in values), default=-1)
        arguments = [values.get(field, "None") for field in order[: last + 1]]
    else:
        arguments = [f"{field}={value}" for field, value in values.items()]
    arguments.extend(f"{field}={field}" for field in keywords)
    lines = [f"def {name}({', '.join(('record', *computed, *keywords))}):"]
    if optional:
        unset = " and ".join(f"record.{source} is None" for source, _, _ in rows)
        lines.append(f"    if {unset}:\n        return None")
    lines.append(f"    return _target({', '.join(arguments)})\n")
    exec(compile("\n".join(lines), f"<{__name__}.{name}>", "exec"), namespace)
    built: Callable[..., T | None] = namespace[name]
    return built


def _takes_positions(target: type[Any]) -> bool:
    """True when ``target``'s fields may be passed by position (it is not ``kw_only``)."""
    first = next(iter(inspect.signature(target).parameters.values()))
    return first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD


_trade = cast(Callable[[Execution], Trade], _compile("_trade", Trade, _TRADE_FIELDS))
_order_record = cast(
    Callable[..., OrderRecord],
    _compile("_order_record", OrderRecord, _ORDER_FIELDS, _ORDER_COMPUTED),
)
_descr = cast(
    Callable[[Execution], OrderDescr | None],
    _compile("_descr", OrderDescr, _DESCR_FIELDS, optional=True),
)


# --- the translations -------------------------------------------------------------------------


def own_trades(event: Executions) -> OwnTrades:
    """The push's fills (``exec_type: trade`` with an ``exec_id``) as an ``OwnTrades`` frame
    with the same ``sequence``: ``(exec_id, Trade)`` pairs in wire order."""
    trades = tuple(
        [
            (record.exec_id, _trade(record))
            for record in event.data
            if record.exec_type == "trade" and record.exec_id is not None
        ]
    )
    return OwnTrades(trades=trades, sequence=event.sequence)


def open_orders(event: Executions) -> OpenOrders:
    """The push's order changes as an ``OpenOrders`` frame with the same ``sequence``.

    A snapshot maps to a snapshot of the open orders it lists (its fills, from
    ``snap_trades``, are left to :func:`own_trades`); an update maps each record with an
    ``order_id`` to a partial record holding only what the event said. Apply with
    ``OrderTable.apply(..., snapshot=event.is_snapshot)``.
    """
    snapshot = event.type == "snapshot"  # ``is_snapshot``, without the property call
    orders: list[tuple[str, OrderRecord]] = []
    for record in event.data:
        order_id = record.order_id
        exec_type = record.exec_type
        if order_id is None or (snapshot and exec_type == "trade"):
            continue
        status: str | None
        if snapshot:
            status = _SNAPSHOT_STATUS.get(record.order_status, "open")  # type: ignore[arg-type]
        else:
            status = _STATUS_BY_EXEC_TYPE.get(exec_type)  # type: ignore[arg-type]
        when = None if (stamp := record.timestamp) is None else _unix_of(stamp)
        reason = None
        if status == "canceled":
            reason = record.reason if record.reason is not None else record.cancel_reason
        executed = record.cum_qty
        if executed is None and status == "pending":
            # Live pending_new events carry no cum_qty; a pending order has executed nothing.
            executed = _NOTHING_EXECUTED
        orders.append(
            (
                order_id,
                _order_record(
                    record,
                    status,
                    when if snapshot or status == "pending" else None,  # opentm
                    when,  # lastupdated
                    # A fill describes the fill, not the order (no volume, no price): an order
                    # first seen in one is a stub in the table until a full record comes.
                    None if exec_type == "trade" else _descr(record),
                    reason,
                    executed,
                ),
            )
        )
    return OpenOrders(orders=tuple(orders), sequence=event.sequence)
