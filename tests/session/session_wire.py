"""A pure ``Session`` wired to the simulator's pure ``Exchange`` in memory: no sockets, virtual
time. Used by the session's unit tests and its Hypothesis state machine.

``Wire`` plays the adapter: it carries out every action the session asks for against the
exchange model, delivers the exchange's frames, and moves virtual time to the next deadline
of either side. Faults are injected by the tests (drops, exchange faults, REST faults).

REST calls (token, OpenOrders, ClosedOrders, QueryOrders, TradesHistory) go to
``Exchange.handle_rest``, which answers from the same book its WebSocket reports.
"""

from __future__ import annotations

import random

from kraken_proto import (
    CloseConnection,
    Credentials,
    HttpCall,
    OpenConnection,
    SendMessages,
    Session,
    SessionConfig,
    SessionEvent,
)
from kraken_proto.adapters.simulator.model.exchange import Exchange, SimulatorConfig
from kraken_proto.rest import NonceSource

START = 1_700_000_000.0


class Wire:
    """The session, the exchange and the bytes between them."""

    def __init__(
        self,
        *,
        seed: bytes = b"session-seed-0000",
        config: SessionConfig | None = None,
        exchange_seed: int = 0,
        now: float = START,
        sim: SimulatorConfig | None = None,
    ) -> None:
        self.now = now
        sim = sim if sim is not None else SimulatorConfig()
        self.exchange = Exchange(sim, rng=random.Random(exchange_seed), now=now)
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        self.session = Session(
            credentials, config=config, seed=seed, nonces=NonceSource(last=int(now * 1e6))
        )
        # The exchange face the session's connections open: /v2 when the config says v2.
        self.protocol = "v1" if config is None else config.protocol
        self.sid_of: dict[int, int] = {}
        self.events: list[SessionEvent] = []
        self.fail_opens = 0  # the next N OpenConnection fail
        self.fail_rest = 0  # the next N REST calls get HTTP 500
        self.lose_rest = 0  # the next N REST calls get no answer at all
        self.hold_rest = False  # keep REST calls unanswered in ``held``
        self.held: list[HttpCall] = []
        self.opens = 0
        self.attempt_times: list[float] = []
        self.rest_calls: list[str] = []
        self.rest_bodies: list[tuple[str, bytes]] = []

    # --- the adapter --------------------------------------------------------------------

    def pump(self) -> None:
        """Carry out every action and deliver every due frame until both sides are quiet."""
        session = self.session
        for _ in range(100_000):
            actions = session.actions()
            for action in actions:
                self._do(action)
            delivered = False
            for conn, sid in list(self.sid_of.items()):
                for text in self.exchange.take_outgoing(sid, self.now):
                    if self.sid_of.get(conn) != sid:
                        break
                    delivered = True
                    session.receive_message(conn, text, self.now)
            self.events.extend(session.events())
            if not actions and not delivered:
                return
        raise AssertionError("the session and the exchange never went quiet")

    def _do(self, action: object) -> None:
        session, now = self.session, self.now
        if isinstance(action, OpenConnection):
            self.opens += 1
            self.attempt_times.append(now)
            if self.fail_opens:
                self.fail_opens -= 1
                session.connection_failed(action.conn, "refused", now)
                return
            self.sid_of[action.conn] = self.exchange.open_session(now, protocol=self.protocol)
            session.connection_made(action.conn, now)
        elif isinstance(action, SendMessages):
            sid = self.sid_of.get(action.conn)
            if sid is not None:
                for message in action.messages:
                    self.exchange.receive(sid, message, now)
                    if self.exchange.connection_dropped(sid):
                        # drop_after_request: the server drops the socket before replying.
                        self.exchange.close_session(sid, now)
                        del self.sid_of[action.conn]
                        session.connection_lost(action.conn, now)
                        break
        elif isinstance(action, CloseConnection):
            sid = self.sid_of.pop(action.conn, None)
            if sid is not None:
                self.exchange.close_session(sid, now)
            session.connection_lost(action.conn, now)
        elif isinstance(action, HttpCall):
            self.rest_calls.append(action.purpose)
            self.rest_bodies.append((action.purpose, action.request.body))
            if self.hold_rest:
                self.held.append(action)
                return
            self.answer(action)
        else:  # pragma: no cover - every action type is handled above
            raise AssertionError(action)

    def answer(self, call: HttpCall) -> None:
        """Answer one REST call now (from the exchange, or the model stand-in)."""
        session, now, request = self.session, self.now, call.request
        if self.lose_rest:
            self.lose_rest -= 1
            session.rest_failed(call.call, "timed out", now)
            return
        if self.fail_rest:
            self.fail_rest -= 1
            session.rest_response(call.call, 500, b"Internal Server Error\n", now)
            return
        reply = self.exchange.handle_rest(
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            body=request.body,
            now=now,
        )
        session.rest_response(call.call, reply.status, reply.body, now)

    # --- time and faults ------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move virtual time forward, waking each side at its deadlines on the way."""
        target = self.now + seconds
        for _ in range(100_000):
            deadlines = [
                d
                for d in (self.session.next_deadline(), self.exchange.next_deadline())
                if d is not None
            ]
            step = min(deadlines, default=None)
            if step is None or step > target:
                break
            self._tick(max(self.now, step))
        self._tick(target)

    def _tick(self, now: float) -> None:
        self.now = now
        self.exchange.advance(now)
        self.session.handle_timeout(now)
        self.pump()

    def drop(self) -> None:
        """The server side closes the current connection (no close frame)."""
        for conn, sid in list(self.sid_of.items()):
            self.exchange.close_session(sid, self.now)
            del self.sid_of[conn]
            self.session.connection_lost(conn, self.now)
        self.pump()

    def current_sid(self) -> int | None:
        return next(iter(self.sid_of.values()), None)

    def settle(self, limit: float = 3600.0) -> None:
        """Advance until the session is live with nothing in flight (or ``limit`` passes)."""
        from kraken_proto import SessionState

        waited = 0.0
        while waited < limit:
            if self.session.state is SessionState.LIVE and not self.session.pending():
                return
            self.advance(1.0)
            waited += 1.0
