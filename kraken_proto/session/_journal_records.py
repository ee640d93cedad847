"""The journal's records, its errors and the ``PersistRecords`` action (issue 16).

A record is one durable fact about a session, written ahead of (or as) it happens. Records are
frozen ``msgspec`` structs with a time ``at`` (the session's ``now``, unix seconds); money
stays ``decimal.Decimal`` and is written as exact text by ``_journal_codec``. No record holds
a token, a secret or the API key: requests never carry the token, and nothing else does.

=========================  ================================================================
record                     written when
=========================  ================================================================
``IntentRecorded``         a trading request is about to be written to the socket (before
                           the ``SendMessages`` that carries it; durable: ``sync``)
``OutcomeRecorded``        the request's final outcome is known (accepted, applied, not
                           applied, refused, unresolved)
``FillDelivered``          a fill is handed to the user (``FillReceived``)
``FillAcknowledged``       the user acknowledged that fill (durable: ``sync``)
``SubscriptionRecorded``   a channel was subscribed (or dropped: ``request=None``)
``NonceRecorded``          a REST nonce is about to be used (durable: ``sync``)
``Checkpoint``             pruning folded older marks into one record (stores write it)
=========================  ================================================================
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Final, Literal, get_args

import msgspec

from kraken_proto._errors import LocalProtocolError
from kraken_proto._request_base import Request
from kraken_proto.v1._events import Trade
from kraken_proto.v1._requests import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    EditOrder,
    Subscribe,
)

from ._actions import SessionAction
from ._events import (
    FillReceived,
    FillSource,
    RequestAccepted,
    RequestApplied,
    RequestNotApplied,
    RequestOutcome,
    RequestRefused,
    RequestUnresolved,
)

__all__ = [
    "DURABLE_RECORDS",
    "MAX_NONCE",
    "TRADING_REQUESTS",
    "Checkpoint",
    "FillAcknowledged",
    "FillCursor",
    "FillDelivered",
    "IntentRecorded",
    "JournalCorruptError",
    "JournalError",
    "JournalLockedError",
    "JournalRecord",
    "JournalVersionError",
    "NonceRecorded",
    "OutcomeKind",
    "OutcomeRecorded",
    "PersistRecords",
    "SubscriptionRecorded",
    "fill_record",
    "needs_sync",
    "outcome_record",
]

MAX_NONCE: Final = 2**64 - 1
TRADING_REQUESTS: Final = (
    AddOrder,
    EditOrder,
    AmendOrder,
    CancelOrder,
    CancelAll,
    CancelAllOrdersAfter,
)
"""The request types an ``IntentRecorded`` may hold (those ``Session.submit`` accepts)."""

OutcomeKind = Literal["accepted", "applied", "not_applied", "refused", "unresolved"]
"""How a request ended; one per ``RequestOutcome`` subclass."""
_OUTCOME_KINDS: Final = frozenset(get_args(OutcomeKind))
_FILL_SOURCES: Final = frozenset(get_args(FillSource))


class JournalError(Exception):
    """Base class of the journal's errors."""


class JournalLockedError(JournalError):
    """The journal is already open in another store (this process or another one).

    One journal belongs to one session at a time; a second writer would interleave records
    and break the write-ahead guarantee. Raised at once, never after waiting.
    """


class JournalVersionError(JournalError):
    """The journal was written in a format this version of kraken_proto does not read."""


class JournalCorruptError(JournalError):
    """The journal (or a record in it) cannot be read: not a journal, or damaged."""


def _fail(record: str, message: str) -> LocalProtocolError:
    # Building a record from bad values is misuse by the caller, as for a request.
    return LocalProtocolError(f"{record}: {message}")


def _check_time(record: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(record, f"at must be a finite number of seconds, got {value!r}")


def _check_handle(record: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(record, f"handle must be an int >= 1, got {value!r}")


def _check_text(record: str, name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise _fail(record, f"{name} must be a non-empty str, got {value!r}")


def _check_optional_text(record: str, name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise _fail(record, f"{name} must be a str or None, got {value!r}")


def _check_nonce(record: str, name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_NONCE:
        raise _fail(record, f"{name} must be an int in 0..2**64-1, got {value!r}")


class FillCursor(msgspec.Struct, frozen=True, kw_only=True):
    """The latest fill delivered: its ``trade_id`` and its (finite) trade ``time``.

    REST backfill after a restart starts at ``time`` (less the session's margin). The latest
    is the greatest ``(time, trade_id)``, so the order records are folded in cannot matter.
    """

    trade_id: str
    time: Decimal

    def __post_init__(self) -> None:
        _check_text("FillCursor", "trade_id", self.trade_id)
        if not isinstance(self.time, Decimal) or not self.time.is_finite():
            raise _fail("FillCursor", f"time must be a finite Decimal, got {self.time!r}")

    def key(self) -> tuple[Decimal, str]:
        """The ordering of cursors: by time, then trade id."""
        return (self.time, self.trade_id)


class JournalRecord(msgspec.Struct, frozen=True, kw_only=True):
    """Base class of every record. ``at``: when it was recorded (the session's ``now``)."""

    kind: ClassVar[str]
    at: float


class IntentRecorded(JournalRecord, frozen=True, kw_only=True):
    """A trading request is about to be sent: persist (``sync``) before it is written.

    ``handle``: the session's handle for it (unique within the journal: a restarted session
    numbers from ``JournalState.next_handle``). ``request``: the request exactly as it goes
    out (an ``AddOrder`` carries its ``cl_ord_id``). ``open_at_send``: for ``CancelAll``, the
    txids open when it was sent (what reconciliation checks); empty otherwise.

    A journal that holds an intent without an outcome after a restart means: this request
    may have reached Kraken. Reconcile it; never send it again.
    """

    kind: ClassVar[str] = "intent"
    handle: int
    request: Request
    open_at_send: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_time("IntentRecorded", self.at)
        _check_handle("IntentRecorded", self.handle)
        untyped: object = self.request
        if not isinstance(untyped, TRADING_REQUESTS):
            raise _fail(
                "IntentRecorded",
                f"request must be a trading request, got {type(untyped).__name__}",
            )
        if not isinstance(self.open_at_send, tuple) or not all(
            isinstance(txid, str) for txid in self.open_at_send
        ):
            raise _fail("IntentRecorded", "open_at_send must be a tuple of txids")

    @property
    def cl_ord_id(self) -> str | None:
        """The client order id the request places an order with (AddOrder), else None."""
        request = self.request
        return request.cl_ord_id if isinstance(request, AddOrder) else None


class OutcomeRecorded(JournalRecord, frozen=True, kw_only=True):
    """The final outcome of the request ``handle``; the first one recorded counts.

    ``result``: ``accepted``/``applied`` (with ``txid`` when an order was placed, replaced or
    amended), ``not_applied``, ``refused`` (``error``: Kraken's error text) or ``unresolved``.
    ``detail``: how it was established (``via``) or why it is unresolved (``reason``).
    """

    kind: ClassVar[str] = "outcome"
    handle: int
    result: OutcomeKind
    txid: str | None = None
    error: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        _check_time("OutcomeRecorded", self.at)
        _check_handle("OutcomeRecorded", self.handle)
        if self.result not in _OUTCOME_KINDS:
            raise _fail(
                "OutcomeRecorded",
                f"result must be one of {', '.join(sorted(_OUTCOME_KINDS))}, got {self.result!r}",
            )
        for name in ("txid", "error", "detail"):
            _check_optional_text("OutcomeRecorded", name, getattr(self, name))


class FillDelivered(JournalRecord, frozen=True, kw_only=True):
    """The fill ``trade_id`` was handed to the user (``FillReceived``) from ``source``.

    Until a ``FillAcknowledged`` follows, a restarted session delivers it again, marked as
    redelivered. Its ``trade.time`` advances the fill cursor unless ``advances`` is False:
    a fill delivered while a REST backfill was still wanted or running (older fills may not
    have been delivered yet, so a restart must backfill from before it). The session
    records the cursor such fills skipped (a ``Checkpoint``) once the backfill is done.
    """

    kind: ClassVar[str] = "fill"
    trade_id: str
    trade: Trade
    source: FillSource
    advances: bool = True

    def __post_init__(self) -> None:
        _check_time("FillDelivered", self.at)
        _check_text("FillDelivered", "trade_id", self.trade_id)
        if not isinstance(self.trade, Trade):
            raise _fail("FillDelivered", "trade must be a kraken_proto.v1.Trade")
        if not isinstance(self.advances, bool):
            raise _fail("FillDelivered", f"advances must be a bool, got {self.advances!r}")
        if self.source not in _FILL_SOURCES:
            raise _fail(
                "FillDelivered",
                f"source must be one of {', '.join(sorted(_FILL_SOURCES))}, got {self.source!r}",
            )

    def cursor(self) -> FillCursor | None:
        """This fill as a cursor, or None when its trade has no finite time or the fill
        does not advance the cursor (``advances``)."""
        time = self.trade.time
        if not self.advances or time is None or not time.is_finite():
            return None
        return FillCursor(trade_id=self.trade_id, time=time)


class FillAcknowledged(JournalRecord, frozen=True, kw_only=True):
    """The user acknowledged the fill ``trade_id``: never deliver it again (``sync``)."""

    kind: ClassVar[str] = "ack"
    trade_id: str

    def __post_init__(self) -> None:
        _check_time("FillAcknowledged", self.at)
        _check_text("FillAcknowledged", "trade_id", self.trade_id)


class SubscriptionRecorded(JournalRecord, frozen=True, kw_only=True):
    """The session subscribes to channel ``name`` with ``request`` (``None``: no longer)."""

    kind: ClassVar[str] = "subscription"
    name: str
    request: Subscribe | None

    def __post_init__(self) -> None:
        _check_time("SubscriptionRecorded", self.at)
        _check_text("SubscriptionRecorded", "name", self.name)
        untyped: object = self.request
        if untyped is not None and (
            not isinstance(untyped, Subscribe) or untyped.name != self.name
        ):
            raise _fail("SubscriptionRecorded", f"request must be a Subscribe to {self.name}")


class NonceRecorded(JournalRecord, frozen=True, kw_only=True):
    """A REST nonce about to be used (``sync``): a restart never draws one below it."""

    kind: ClassVar[str] = "nonce"
    nonce: int

    def __post_init__(self) -> None:
        _check_time("NonceRecorded", self.at)
        _check_nonce("NonceRecorded", "nonce", self.nonce)


class Checkpoint(JournalRecord, frozen=True, kw_only=True):
    """The journal's marks as of pruning, so pruned records cannot take them along:
    ``next_handle`` (above every handle used), ``nonce_high_water`` and the fill ``cursor``.
    Stores write it when they prune. A session writes one with only a ``cursor`` (the other
    marks at their defaults, which fold as no change) when a backfill is done: every fill up
    to that cursor has then been delivered, including those delivered meanwhile with
    ``advances=False``."""

    kind: ClassVar[str] = "checkpoint"
    next_handle: int = 1
    nonce_high_water: int = 0
    cursor: FillCursor | None = None

    def __post_init__(self) -> None:
        _check_time("Checkpoint", self.at)
        _check_handle("Checkpoint", self.next_handle)
        _check_nonce("Checkpoint", "nonce_high_water", self.nonce_high_water)
        if self.cursor is not None and not isinstance(self.cursor, FillCursor):
            raise _fail("Checkpoint", "cursor must be a FillCursor or None")


DURABLE_RECORDS: Final = (IntentRecorded, FillAcknowledged, NonceRecorded)
"""Record types that must be on stable storage before the session goes on (see
``needs_sync``)."""


def needs_sync(records: Iterable[JournalRecord]) -> bool:
    """True when ``records`` must survive a power loss before the next action runs.

    Intents (the request goes out next: after a crash the session must know it may have
    been sent), acknowledgements (else an acknowledged fill comes back) and nonces (a
    stepped-back clock must not reuse one). The rest survive a crash of the process
    without a sync (the store's write has reached the operating system); after a power
    loss they fall back to what was before: an outcome is reconciled again, a fill the
    user did not acknowledge yet is backfilled again, a subscription is renewed.
    """
    return any(isinstance(record, DURABLE_RECORDS) for record in records)


@dataclass(frozen=True, slots=True, kw_only=True)
class PersistRecords(SessionAction):
    """Append ``records`` to the session's journal (``JournalStore.append``), in order with
    the other actions: the runner carries it out before the next action.

    ``sync``: return only once the records (and every earlier one) are durable. If the
    append fails the runner must stop before carrying out any later action: a later
    ``SendMessages`` may hold the very request the failed intent described.
    """

    records: tuple[JournalRecord, ...]
    sync: bool

    @classmethod
    def of(cls, records: Iterable[JournalRecord]) -> PersistRecords:
        """``records`` with ``sync`` set by ``needs_sync``."""
        batch = tuple(records)
        return cls(records=batch, sync=needs_sync(batch))

    def __repr__(self) -> str:
        kinds = ",".join(record.kind for record in self.records)
        return f"PersistRecords(records=<{kinds}>, sync={self.sync})"


def outcome_record(outcome: RequestOutcome, at: float) -> OutcomeRecorded:
    """The record of a session's final ``outcome`` event (any ``RequestOutcome``)."""
    handle = outcome.handle
    if isinstance(outcome, RequestAccepted):
        return OutcomeRecorded(at=at, handle=handle, result="accepted", txid=outcome.txid)
    if isinstance(outcome, RequestApplied):
        return OutcomeRecorded(
            at=at, handle=handle, result="applied", txid=outcome.txid, detail=outcome.via
        )
    if isinstance(outcome, RequestNotApplied):
        return OutcomeRecorded(at=at, handle=handle, result="not_applied", detail=outcome.via)
    if isinstance(outcome, RequestRefused):
        return OutcomeRecorded(at=at, handle=handle, result="refused", error=outcome.error.text)
    if isinstance(outcome, RequestUnresolved):
        return OutcomeRecorded(at=at, handle=handle, result="unresolved", detail=outcome.reason)
    raise _fail("outcome_record", f"not a final outcome: {type(outcome).__name__}")


def fill_record(event: FillReceived, at: float, *, advances: bool = True) -> FillDelivered:
    """The record of a ``FillReceived`` event handed to the user (``advances``: see
    ``FillDelivered``)."""
    return FillDelivered(
        at=at, trade_id=event.trade_id, trade=event.trade, source=event.source, advances=advances
    )
