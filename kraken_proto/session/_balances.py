"""The v2 ``balances`` channel through a session: what ``Session.subscribe`` accepts for it and
the event the user receives.

A session subscribes to channels by v1 name (``ownTrades``, ``openOrders``, served over v2 by
``executions``); ``balances`` has no v1 counterpart, so it is asked for with a
``kraken_proto.v2.Subscribe(channel="balances")`` and only a v2 session takes it. Like the
other channels it is subscribed again on every new connection, with the same options, and the
session is LIVE only once its snapshot came (or, without a snapshot, once it is active).

Each push becomes one :class:`BalancesReceived`. A snapshot is the whole state (one record
per asset, with its ``wallets``); an update lists ledger records (``amount``, ``fee``, the
new ``balance``). Ledger records of a gap (a disconnect, a sequence gap) are not replayed:
the snapshot that follows a reconnect or a resubscription is the truth.
"""

from __future__ import annotations

from kraken_proto._errors import LocalProtocolError
from kraken_proto.v1._requests import Subscribe
from kraken_proto.v2._events import BalanceRecord
from kraken_proto.v2._requests import Subscribe as V2Subscribe

from ._events import SessionEvent

__all__ = ["BALANCES", "BalancesReceived", "SessionSubscribe", "channel_of", "check_subscribe"]

BALANCES = "balances"

SessionSubscribe = Subscribe | V2Subscribe
"""What ``Session.subscribe`` takes: a v1 ``Subscribe`` (``ownTrades``/``openOrders``) or,
on v2, a ``v2.Subscribe`` to ``balances``."""


class BalancesReceived(SessionEvent, frozen=True, kw_only=True):
    """One ``balances`` push (v2 sessions only). ``snapshot`` True: ``records`` is every
    asset's balance (the whole state, after every (re)subscription); False: ``records`` are
    new ledger entries, in wire order. Amounts are exact ``Decimal``. ``sequence`` is the
    push's per-subscription counter."""

    records: tuple[BalanceRecord, ...]
    snapshot: bool
    sequence: int | None = None


def channel_of(request: SessionSubscribe) -> str:
    """The name the session keeps a subscription under (``ownTrades``, ``balances``, ...)."""
    return request.channel if isinstance(request, V2Subscribe) else request.name


def check_subscribe(request: object, protocol: str) -> SessionSubscribe:
    """``request`` if the session can subscribe with it over ``protocol``; raises
    ``LocalProtocolError`` otherwise: not a ``Subscribe``, a ``v2.Subscribe`` to anything but
    ``balances``, or ``balances`` on a v1 session (v1 has no balances channel)."""
    if isinstance(request, Subscribe):
        return request
    if not isinstance(request, V2Subscribe):
        raise LocalProtocolError(
            "subscribe: expected a kraken_proto.v1.Subscribe (or a v2.Subscribe to balances)"
        )
    if request.channel != BALANCES:
        raise LocalProtocolError(
            "subscribe: executions is asked for by its v1 names (ownTrades, openOrders)"
        )
    if protocol != "v2":
        raise LocalProtocolError(
            "subscribe: balances is a WebSocket v2 channel; v1 has none "
            "(use SessionConfig(protocol='v2'))"
        )
    return request
