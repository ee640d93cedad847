"""``Session``: a pure Kraken v1 private session that survives disconnects.

A ``Session`` sits above one :class:`Connection` at a time and owns, across connections: the
subscriptions asked for (and their options), one :class:`OrderTable`, one :class:`FillLog`,
the trading requests in flight, the token lifecycle, the reconnect policy and the REST
reconciliation. It does no I/O, reads no clock and draws no random numbers: time is the
``now`` argument of every call (unix seconds), randomness comes from ``seed``.

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
  ``backfill_margin`` seconds, paging through every result.
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
  frame, and a subscription client and server disagree on; a fresh token per connection;
  backoff as ``SessionConfig`` says; at most ``max_attempts`` per ``attempt_window``.
  Invalid key, invalid signature and permission denied end the session (``SessionFailed``).
* REST calls go out one at a time, each only when Kraken's call counter has room.
* Reconnects are logged at WARNING on the ``kraken_proto.session`` logger, without tokens.
"""

from __future__ import annotations

import logging

from ._errors import LocalProtocolError
from ._fills import FillLog
from ._orders import OrderTable
from ._requests import Request, Subscribe
from ._session_actions import SessionAction
from ._session_config import SessionConfig, SessionState
from ._session_events import SessionEvent
from ._signing import Credentials, NonceSource

__all__ = ["Session"]

logger = logging.getLogger("kraken_proto.session")


class Session:
    """A Kraken v1 private session across any number of connections, without I/O.

    ``credentials`` sign the REST calls (token, reconciliation). ``seed`` (bytes, at least
    8; pass ``os.urandom(16)``) is the only source of randomness: backoff jitter and
    generated ``cl_ord_id`` values. ``nonces`` is the key's nonce source (one per API key;
    a new ``NonceSource()`` by default). Nothing happens before ``start``.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        config: SessionConfig | None = None,
        seed: bytes,
        nonces: NonceSource | None = None,
    ) -> None:
        raise NotImplementedError

    # --- queries ------------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """Where the session is (see ``SessionState``)."""
        raise NotImplementedError

    @property
    def orders(self) -> OrderTable:
        """The account's orders, kept across connections (read it; do not apply to it)."""
        raise NotImplementedError

    @property
    def fills(self) -> FillLog:
        """The trade ids reported so far (bounded window)."""
        raise NotImplementedError

    @property
    def connection_attempts(self) -> int:
        """How many WebSocket connections the session has asked for so far."""
        raise NotImplementedError

    def pending(self) -> dict[int, Request]:
        """The submitted requests without a final outcome yet, by handle."""
        raise NotImplementedError

    # --- user calls -----------------------------------------------------------------------

    def start(self, now: float) -> None:
        """Begin: fetch a token and open the first connection. Raises ``LocalProtocolError``
        unless the session is IDLE."""
        raise NotImplementedError

    def subscribe(self, request: Subscribe, now: float) -> None:
        """Subscribe to a private channel now (if connected) and after every reconnect, with
        the same options. Subscribing again to the same channel replaces its options (they
        take effect from the next connection). Raises ``LocalProtocolError`` after close or
        failure, or for something other than a ``Subscribe``."""
        raise NotImplementedError

    def submit(self, request: Request, now: float) -> int:
        """Queue a trading request; return its handle (an int, increasing).

        Accepted: ``AddOrder``, ``EditOrder``, ``AmendOrder``, ``CancelOrder``, ``CancelAll``,
        ``CancelAllOrdersAfter``. An ``AddOrder`` without ``cl_ord_id`` (and without
        ``userref``, which Kraken does not allow next to one) gets a generated one; the
        request as sent is the one in the outcome events. The request goes out as soon as the
        session is connected with a token (at once when LIVE), is never re-sent, and ends with
        exactly one ``RequestOutcome`` event for the handle. Raises ``LocalProtocolError``
        (nothing queued) for other request types, ``AddOrder`` with ``userref`` (the session
        needs a ``cl_ord_id`` to reconcile), or after close or failure.
        """
        raise NotImplementedError

    def withdraw(self, handle: int, now: float) -> bool:
        """Drop a submitted request that has not been sent yet; it ends as
        ``RequestNotApplied(via="withdrawn")``. Returns False (and changes nothing) when the
        request was already sent or has ended. Raises ``LocalProtocolError`` for a handle
        ``submit`` never returned."""
        raise NotImplementedError

    def close(self, now: float) -> None:
        """Stop: disarm the dead man's switch if armed, close the connection; requests without
        an outcome end as ``RequestUnresolved`` (sent) or ``RequestNotApplied`` (never sent);
        then ``SessionClosed``. Idempotent."""
        raise NotImplementedError

    # --- adapter inputs -------------------------------------------------------------------

    def connection_made(self, conn: int, now: float) -> None:
        """The WebSocket ``conn`` (from ``OpenConnection``) is open."""
        raise NotImplementedError

    def connection_failed(self, conn: int, reason: str, now: float) -> None:
        """Opening ``conn`` failed (``reason``: for the logs; must not hold secrets)."""
        raise NotImplementedError

    def connection_lost(self, conn: int, now: float, code: int | None = None) -> None:
        """The WebSocket ``conn`` is closed (by either side); ``code`` is the close code, if
        any. Also the answer to ``CloseConnection``."""
        raise NotImplementedError

    def receive_message(self, conn: int, text: str | bytes, now: float) -> None:
        """One complete WebSocket text message arrived on ``conn``. An invalid frame does not
        raise: the session closes that connection and reconnects."""
        raise NotImplementedError

    def rest_response(self, call: int, status: int, body: bytes, now: float) -> None:
        """The HTTP response to ``HttpCall(call, ...)``: status code and body bytes."""
        raise NotImplementedError

    def rest_failed(self, call: int, reason: str, now: float) -> None:
        """``HttpCall(call, ...)`` got no response at all (connect error, timeout)."""
        raise NotImplementedError

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline at or before ``now`` (backoff over, request timeouts,
        liveness, dead man's switch re-arm, REST counter room)."""
        raise NotImplementedError

    # --- outputs ------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When ``handle_timeout`` should next be called, or None when nothing is timed."""
        raise NotImplementedError

    def actions(self) -> list[SessionAction]:
        """Return and forget the actions asked for so far, in order."""
        raise NotImplementedError

    def events(self) -> list[SessionEvent]:
        """Return and forget the events produced so far, in order."""
        raise NotImplementedError


def _unused() -> None:  # pragma: no cover - keeps imports referenced in the skeleton
    _ = (LocalProtocolError, FillLog, OrderTable, logger)
