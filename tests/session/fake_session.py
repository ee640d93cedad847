"""A scripted stand-in for ``kraken_proto.Session``, to test the session runners' plumbing.

It asks for exactly the actions a real session would in the simplest policy (token, connect,
send, reconnect at once after a loss, close) and records every input the runner gives it,
so tests can check that the runners only carry out actions and report results faithfully.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kraken_proto import (
    AddOrder,
    CloseConnection,
    FillLog,
    HttpCall,
    OpenConnection,
    OrderTable,
    Request,
    RequestAccepted,
    RequestRefused,
    RequestUnresolved,
    SendMessages,
    SessionAction,
    SessionClosed,
    SessionEvent,
    SessionFailed,
    SessionState,
    decode,
    encode,
)
from kraken_proto import Credentials as Creds
from kraken_proto.rest import build_token_request, parse_token_response
from kraken_proto.v1 import AddOrderStatus, Subscribe


@dataclass
class FakeSession:
    credentials: Creds
    reconnect: bool = True
    inputs: list[tuple[Any, ...]] = field(default_factory=list)
    deadline: float | None = None
    _actions: list[SessionAction] = field(default_factory=list)
    _events: list[SessionEvent] = field(default_factory=list)
    _conn: int = 0
    _call: int = 0
    _handle: int = 0
    _token: str | None = None
    _live: bool = False
    _pending: dict[int, Request] = field(default_factory=dict)
    _sent: dict[int, int] = field(default_factory=dict)  # reqid -> handle
    _subs: list[Subscribe] = field(default_factory=list)
    _unsent: list[int] = field(default_factory=list)
    state: SessionState = SessionState.IDLE
    orders: OrderTable = field(default_factory=OrderTable)
    fills: FillLog = field(default_factory=FillLog)
    nonce: int = 1
    wall_offset: float = 0.0

    def pending(self) -> dict[int, Request]:
        return dict(self._pending)

    def start(self, now: float, *, wall: float | None = None) -> None:
        self.state = SessionState.CONNECTING
        self._fetch_token()

    def set_wall_clock(self, now: float, wall: float) -> None:
        self.wall_offset = wall - now

    def _fetch_token(self) -> None:
        self._call += 1
        self.nonce += 1
        request = build_token_request(self.credentials, nonce=self.nonce)
        self._actions.append(HttpCall(call=self._call, request=request, purpose="token"))

    def subscribe(self, request: Subscribe, now: float) -> None:
        self._subs.append(request)
        if self._live:
            self._send([encode(request, token=self._token)])

    def submit(self, request: Request, now: float) -> int:
        self._handle += 1
        self._pending[self._handle] = request
        if self._live:
            self._send_request(self._handle)
        else:
            self._unsent.append(self._handle)
        return self._handle

    def _send_request(self, handle: int) -> None:
        reqid = 1000 + handle
        self._sent[reqid] = handle
        self._send([encode(self._pending[handle], token=self._token, reqid=reqid)])

    def _send(self, messages: list[str]) -> None:
        self._actions.append(SendMessages(conn=self._conn, messages=tuple(messages)))

    def close(self, now: float) -> None:
        self.inputs.append(("close",))
        self.state = SessionState.CLOSING
        if self._live:
            self._actions.append(CloseConnection(conn=self._conn))
        else:
            self._finish()

    def _finish(self) -> None:
        for handle, request in list(self._pending.items()):
            self._events.append(
                RequestUnresolved(handle=handle, request=request, reason="session closed")
            )
        self._pending.clear()
        self.state = SessionState.CLOSED
        self._events.append(SessionClosed())

    def connection_made(self, conn: int, now: float) -> None:
        self.inputs.append(("made", conn))
        self._live = True
        self.state = SessionState.LIVE
        self._send([encode(sub, token=self._token) for sub in self._subs])
        for handle in self._unsent:
            self._send_request(handle)
        self._unsent.clear()

    def connection_failed(self, conn: int, reason: str, now: float) -> None:
        self.inputs.append(("failed", conn, reason))
        self.state = SessionState.FAILED
        self._fail(reason)

    def _fail(self, reason: str) -> None:
        for handle, request in list(self._pending.items()):
            self._events.append(RequestUnresolved(handle=handle, request=request, reason=reason))
        self._pending.clear()
        self.state = SessionState.FAILED
        self._events.append(SessionFailed(reason=reason))

    def connection_lost(self, conn: int, now: float, code: int | None = None) -> None:
        self.inputs.append(("lost", conn, code))
        if conn != self._conn or not self._live:
            return
        self._live = False
        if self.state is SessionState.CLOSING:
            self._finish()
        elif self.reconnect:
            self._fetch_token()
        else:
            self._fail(f"connection lost (code {code})")

    def receive_message(self, conn: int, text: str | bytes, now: float) -> None:
        self.inputs.append(("message", conn, text))
        event = decode(text)
        if isinstance(event, AddOrderStatus) and event.reqid in self._sent:
            handle = self._sent.pop(event.reqid)
            request = self._pending.pop(handle)
            if event.status == "ok":
                self._events.append(
                    RequestAccepted(
                        handle=handle, request=request, replies=(event,), txid=event.txid
                    )
                )
            else:
                assert event.error is not None
                self._events.append(
                    RequestRefused(
                        handle=handle, request=request, replies=(event,), error=event.error
                    )
                )

    def rest_response(self, call: int, status: int, body: bytes, now: float) -> None:
        self.inputs.append(("rest", call, status))
        self._token = parse_token_response(status, body).token
        self._conn += 1
        self._actions.append(OpenConnection(conn=self._conn))

    def rest_failed(self, call: int, reason: str, now: float) -> None:
        self.inputs.append(("rest_failed", call, reason))
        self._fail(reason)

    def handle_timeout(self, now: float) -> None:
        self.inputs.append(("timeout",))
        self.deadline = None

    def next_deadline(self) -> float | None:
        return self.deadline

    def actions(self) -> list[SessionAction]:
        actions, self._actions = self._actions, []
        return actions

    def events(self) -> list[SessionEvent]:
        events, self._events = self._events, []
        return events


def add_order(**fields: Any) -> AddOrder:
    defaults: dict[str, Any] = {"ordertype": "limit", "type": "buy", "pair": "XBT/USD"}
    return AddOrder(**{**defaults, **fields})
