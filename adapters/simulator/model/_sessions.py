"""One WebSocket session of the simulator: subscriptions, outgoing queue, injected faults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ._format import dumps
from ._params import Reject

__all__ = ["Faults", "Session", "Subscription", "dropping_after_request"]


@dataclass
class Faults:
    """Faults injected into one WebSocket session; tests and the CLI mutate it."""

    close_after_frames: int | None = None  # enforced by the server, not the model
    skip_sequence: int = 0  # the next N channel frames skip one sequence number
    repeat_sequence: int = 0  # the next N channel frames repeat the previous number
    drop_replies: int = 0  # drop the next N request replies (status events and pongs)
    reply_delay: float = 0.0  # hold every reply this many seconds
    malformed_frames: int = 0  # replace the next N outgoing frames with invalid JSON
    heartbeats: bool = True  # False: never send heartbeats
    # Close the connection right after each of the next N trading requests is processed,
    # before its reply (or any frame it caused on this session) is sent: the order may exist
    # while the client never hears. The model drops the frames and flags the session; the
    # server closes the socket (no close frame, as when the network fails).
    drop_after_request: int = 0


@dataclass
class Subscription:
    """One private channel subscription of a session."""

    name: str
    token: str
    consolidate_taker: bool = True
    ratecounter: bool = False
    sequence: int = 0  # the last sequence number sent


@dataclass
class Session:
    """Per-connection state. Frames wait in ``queue`` as (release time, text)."""

    session_id: int
    connection_id: int
    faults: Faults
    last_frame_at: float
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    queue: list[tuple[float, str]] = field(default_factory=list)
    protocol: str = "v1"  # "v2" for a session opened on /v2
    drop_connection: bool = False  # set by the drop_after_request fault; the server obeys

    def push(
        self, message: dict[str, Any] | list[Any] | str, now: float, *, delay: float = 0.0
    ) -> None:
        """Queue one frame (a message, or its encoded text), replacing it with broken JSON
        while that fault is armed."""
        text = message if isinstance(message, str) else dumps(message)
        if self.faults.malformed_frames > 0:
            self.faults.malformed_frames -= 1
            text = text[: max(1, len(text) // 2)] + "\x00}"
        self.queue.append((now + delay, text))
        self.last_frame_at = max(self.last_frame_at, now + delay)

    def reply(self, message: dict[str, Any] | str, now: float) -> None:
        """Queue a reply to a request, subject to the drop and delay faults."""
        if self.faults.drop_replies > 0:
            self.faults.drop_replies -= 1
            return
        self.push(message, now, delay=max(0.0, self.faults.reply_delay))

    def channel(self, name: str, payload: list[Any], now: float) -> None:
        """Queue one data frame on a subscribed channel with the next sequence number."""
        subscription = self.subscriptions[name]
        if self.faults.repeat_sequence > 0 and subscription.sequence > 0:
            self.faults.repeat_sequence -= 1
        elif self.faults.skip_sequence > 0:
            self.faults.skip_sequence -= 1
            subscription.sequence += 2
        else:
            subscription.sequence += 1
        self.push([payload, name, {"sequence": subscription.sequence}], now)

    def take(self, now: float) -> list[str]:
        due = [text for release, text in self.queue if release <= now]
        self.queue = [(release, text) for release, text in self.queue if release > now]
        return due

    def heartbeat_due(self, interval: float) -> float | None:
        if not self.subscriptions or not self.faults.heartbeats:
            return None
        return self.last_frame_at + interval


class _Replies(Protocol):
    session: Session

    def error(self, message: str, **fields: Any) -> None: ...


_Trading = Callable[[dict[str, Any], float, Any], None]


def dropping_after_request(handler: _Trading) -> _Trading:
    """Wrap a trading handler with the ``drop_after_request`` fault.

    While the fault is armed, the request is processed in full (a refusal is answered here,
    so it is taken back too), then everything it queued on the requesting session is removed
    and the session is flagged for the server to drop.
    """

    def handle(data: dict[str, Any], now: float, replies: _Replies) -> None:
        session = replies.session
        armed = session.faults.drop_after_request > 0
        mark = len(session.queue)
        try:
            handler(data, now, replies)
        except Reject as refusal:
            replies.error(refusal.message, **refusal.extra)
        if armed:
            session.faults.drop_after_request -= 1
            del session.queue[mark:]
            session.drop_connection = True

    return handle
