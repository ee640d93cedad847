"""The orders an ``OrderTable`` holds (``Order``) and what one ``apply`` changed
(``OrderChanges``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

import msgspec

from kraken_proto.v1._events import OrderDescr, OrderRecord

from ._repr import decimal_text, value_repr

__all__ = ["TERMINAL_STATUSES", "Order", "OrderChanges"]

TERMINAL_STATUSES: Final = frozenset({"closed", "canceled", "expired"})
"""Statuses after which Kraken sends no more changes for an order."""


class Order(OrderRecord, frozen=True, kw_only=True, gc=False):
    """One order as the table knows it: every field merged so far, plus its ``txid``.

    The ``OrderRecord`` fields keep Kraken's names and exact ``Decimal`` values; a field is
    ``None`` when Kraken has never sent it for this order. ``status`` is the last status seen
    (``None`` for a stub that has had no status yet).

    ``is_stub`` is True while the table has never received a record with ``descr`` for this
    order: it learnt of the order from a delta only (for example a fill for an order placed
    before the snapshot it missed), so most fields are unknown. A later entry carrying
    ``descr`` clears it.

    ``vanished`` is True when a snapshot left out this order while the table had it open: the
    order finished while the client was not listening and its final state is unknown (its
    fields are the last ones seen; ask REST ``QueryOrders``). A later entry carrying a
    ``status`` clears it.
    """

    txid: str
    is_stub: bool = False
    vanished: bool = False

    @property
    def is_open(self) -> bool:
        """True while the order is in the table's open set (neither terminal nor vanished)."""
        return not self.vanished and self.status not in TERMINAL_STATUSES

    def __repr__(self) -> str:
        """``Order(txid=..., <the fields known>)`` with exact Decimal digits."""
        fields = "".join(
            f", {name}={value_repr(value)}"
            for name, value in self.__rich_repr__()
            if name != "txid"
        )
        return f"Order(txid={self.txid!r}{fields})"

    def describe(self) -> str:
        """One line for people: ``txid status side ordertype volume pair @ price``, plus what
        has executed, e.g. ``OABC-... open buy limit 0.50000000 XBT/USD @ 25000.0 (executed
        0.10000000)``. Unknown parts show as ``?``; Decimals keep their exact digits."""
        descr = self.descr or _NO_DESCR
        status = self.status or "?"
        if self.vanished:
            status += " (vanished: final state unknown)"
        parts = [
            self.txid,
            status,
            descr.type or "?",
            descr.ordertype or "?",
            _text(self.vol),
            descr.pair or "?",
        ]
        if descr.price is not None and (descr.ordertype or "") != "market":
            parts += ["@", decimal_text(descr.price)]
        text = " ".join(parts)
        if self.vol_exec is not None and self.vol_exec != 0:
            text += f" (executed {decimal_text(self.vol_exec)})"
        return text


class OrderChanges(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What one ``OrderTable.apply`` call changed; every tuple is in the order it happened.

    Each entry is the ``Order`` as it stood right after that change.

    * ``added``: orders the table did not know, received with a ``descr`` (new orders and
      snapshot entries).
    * ``stubs``: orders the table did not know, received without a ``descr`` (``is_stub``).
    * ``updated``: known orders whose merged state changed (an entry that changes nothing is
      not reported).
    * ``finished``: orders whose status became terminal in this call. Each also appears in
      ``added``, ``stubs`` or ``updated`` of the same call.
    * ``vanished``: orders the table had open that this snapshot left out. They finished while
      the client was not listening; their final state is unknown (``Order.vanished``).

    ``snapshot`` says whether the frame was applied as a snapshot.
    """

    snapshot: bool
    added: tuple[Order, ...] = ()
    stubs: tuple[Order, ...] = ()
    updated: tuple[Order, ...] = ()
    finished: tuple[Order, ...] = ()
    vanished: tuple[Order, ...] = ()

    def __bool__(self) -> bool:
        """True when anything changed."""
        return bool(self.added or self.stubs or self.updated or self.finished or self.vanished)


_NO_DESCR = OrderDescr()


def _text(value: Decimal | None) -> str:
    return "?" if value is None else decimal_text(value)
