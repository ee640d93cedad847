"""The session: a pure Kraken private session (v1 or v2) that survives disconnects.

A :class:`Session` talks to one protocol-neutral ``Link`` at a time (``_link``: a v1
``Connection``, or over v2 a ``V2Link`` around a ``V2Connection``) and owns, across
connections: the subscriptions asked for (and their options), one :class:`OrderTable`, one
:class:`FillLog`, the trading requests in flight, the token lifecycle, the reconnect policy and
the REST reconciliation. It does no I/O, reads no clock and draws no random numbers: time is
the ``now`` argument of every call (seconds: pass a monotonic clock and give the wall clock
with ``start(now, wall=...)``/``set_wall_clock``, or pass unix time), randomness comes from
``seed``.

How an adapter drives it (the whole adapter is this loop plus moving bytes)::

    session = Session(credentials, config=SessionConfig(), seed=os.urandom(16))
    session.start(now)
    session.subscribe(Subscribe(name="ownTrades"), now)
    session.subscribe(Subscribe(name="openOrders"), now)
    handle = session.submit(AddOrder(...), now)        # any time, even while disconnected
    while True:
        for action in session.actions():                # drain after EVERY call into session
            match action:
                case OpenConnection(conn=c):   open ws; later connection_made(c, now)
                                               or connection_failed(c, reason, now)
                case SendMessages(conn=c, messages=m): write each text message of m
                case CloseConnection(conn=c):  close ws; then connection_lost(c, now)
                case HttpCall(call=k, request=r):  POST r; then rest_response(k, status,
                                               body, now) or rest_failed(k, reason, now)
                case PersistRecords(records=r, sync=s):  store.append(r, sync=s)
                                               (only with a journal), before the next action
        for event in session.events(): ...              # FillReceived, RequestAccepted, ...
        wait for: a WebSocket message -> session.receive_message(c, text, now)
                  a socket closing      -> session.connection_lost(c, now, code=code)
                  an HTTP response      -> session.rest_response(...)
                  session.next_deadline() passing -> session.handle_timeout(now)
                  the user              -> session.submit(...) / withdraw / close
        stop once session.state is CLOSED or FAILED (after draining events)

Every input may produce actions and events; drain both after each call. Inputs about a
connection or call the session no longer cares about (an old ``conn``) are ignored, so the
adapter need not track which ones are current. No input raises because of what the network
did; ``LocalProtocolError`` only signals misuse (an unknown handle, a call after ``close``).

What the session guarantees:

* **Fills exactly once.** Each trade id is reported once as ``FillReceived``, whether it came
  live, in an ownTrades snapshot, or from REST ``TradesHistory``, which backfills after every
  reconnect and every ownTrades sequence gap, from the last fill seen minus
  ``backfill_margin`` seconds, to the oldest trade of the next ownTrades snapshot (not at all
  when that snapshot reaches back past the start), paging until every trade in that range is
  held (``count`` trades: the ones already reported and the ones the pages returned). With
  a ``FillLedger`` shared by the API key's sessions, the part of that range another session
  saw live comes from the ledger instead (``source="peer"``), and REST only for the rest.
* **No order placed twice.** Every ``AddOrder`` goes out with a ``cl_ord_id`` (generated from
  the seed when the caller gave none). Nothing is ever re-sent. A request whose answer was
  lost is ``RequestInDoubt``, then resolved after reconnecting: AddOrder through REST
  ``OpenOrders``/``ClosedOrders`` filtered by its ``cl_ord_id``; cancels, edits and amends
  from the openOrders snapshot and REST ``QueryOrders``.
* **One final outcome per request**: ``RequestAccepted``, ``RequestRefused``,
  ``RequestApplied``, ``RequestNotApplied`` or (only when it cannot be known)
  ``RequestUnresolved``.
* **The order table matches Kraken**: each openOrders snapshot is authoritative; orders it
  leaves out are looked up with ``QueryOrders`` and get their final status and totals.
* **Reconnects** on a lost connection, ``ConnectionStale``, ``TokenRejected``, an invalid
  frame, and a subscription client and server disagree on; the token reused while young
  (``token_reuse_for``), else a fresh one;
  backoff as ``SessionConfig`` says; at most ``max_attempts`` per ``attempt_window``.
  Invalid key, invalid signature and permission denied end the session (``SessionFailed``).
* REST calls go out one at a time, each only when Kraken's call counter has room.
* Reconnects are logged at WARNING on the ``kraken_proto.session`` logger, without tokens.
* **Across restarts**, with ``Session(..., journal=fold(store.load()))``: intents written
  ahead of every request, open ones reconciled on restart (``recovered=True``), fills and
  outcomes not acknowledged delivered again (``redelivered=True``), see ``_journal``.

The parts, one concern per module, each owning its state (the session composes them):

==========================  =============================================================
``_session``                ``Session``: the public calls; routes each input to the parts
``_lifecycle``              the session's states as a transition table; token, connect,
                            backoff, stop
``_requests``               each trading request from submit to its one outcome
``_submissions``            what submit accepts; a generated ``cl_ord_id``
``_reconciler``             deciding a lost answer from REST (``_reconcile_checks``)
``_order_sync``             the order table: openOrders frames, vanished orders, REST records
``_fill_feed``              fills exactly once; the ``TradesHistory`` backfill
``_fill_ledger``            ``FillLedger``: a key's fills shared by its sessions (backfill)
``_link_events``            what each event the link reports means to the session
``_link``                   ``Link``, the protocol-neutral link: ``_v1_link``, ``_v2_link``
                            (with ``_v2_translation``)
``_context``                what the parts share: config, credentials, REST queue, outputs
``_waiters``                ``Waiters``: what every runner uses to end its order calls once
                            the order table reflects their outcome
``_journal``                the journal's records, codec, fold and stores (``_journal_*``)
``_journal_wire``           what the session records, and starting from a journal
==========================  =============================================================

The config, actions, events, REST queue (``_rest``), backoff and seed each have their own.
"""

from __future__ import annotations

from ._actions import (
    CloseConnection,
    HttpCall,
    OpenConnection,
    SendMessages,
    SessionAction,
)
from ._balances import (
    BalancesReceived,
)
from ._call_errors import (
    OutcomeUnknownError,
    RequestNotAppliedError,
    RequestRefusedError,
    TradingRequestError,
    result_of,
)
from ._config import (
    SessionConfig,
    SessionState,
)
from ._events import (
    Connected,
    FillReceived,
    FillSource,
    OrderPaced,
    OrdersChanged,
    Reconnected,
    Reconnecting,
    RequestAccepted,
    RequestApplied,
    RequestInDoubt,
    RequestNotApplied,
    RequestOutcome,
    RequestRefused,
    RequestUnresolved,
    SessionClosed,
    SessionEvent,
    SessionFailed,
    SubscriptionReady,
    SystemStatusChanged,
)
from ._fill_ledger import (
    FillLedger,
    InMemoryFillLedger,
    LedgerSpan,
)
from ._journal import (
    InMemoryJournal,
    JournalState,
    JournalStore,
    PersistRecords,
    fold,
)
from ._link import (
    Link,
    open_link,
)
from ._session import (
    Session,
)
from ._v1_link import (
    V1Link,
)
from ._v2_link import (
    V2Link,
)
from ._waiters import (
    SessionView,
    Waiters,
    reflects,
)

__all__ = [
    "BalancesReceived",
    "CloseConnection",
    "Connected",
    "FillLedger",
    "FillReceived",
    "FillSource",
    "HttpCall",
    "InMemoryFillLedger",
    "InMemoryJournal",
    "JournalState",
    "JournalStore",
    "LedgerSpan",
    "Link",
    "OpenConnection",
    "OrderPaced",
    "OrdersChanged",
    "OutcomeUnknownError",
    "PersistRecords",
    "Reconnected",
    "Reconnecting",
    "RequestAccepted",
    "RequestApplied",
    "RequestInDoubt",
    "RequestNotApplied",
    "RequestNotAppliedError",
    "RequestOutcome",
    "RequestRefused",
    "RequestRefusedError",
    "RequestUnresolved",
    "SendMessages",
    "Session",
    "SessionAction",
    "SessionClosed",
    "SessionConfig",
    "SessionEvent",
    "SessionFailed",
    "SessionState",
    "SessionView",
    "SystemStatusChanged",
    "SubscriptionReady",
    "TradingRequestError",
    "V1Link",
    "V2Link",
    "Waiters",
    "fold",
    "open_link",
    "reflects",
    "result_of",
]
