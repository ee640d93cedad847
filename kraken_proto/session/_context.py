"""``SessionContext``: what every part of one session shares."""

from __future__ import annotations

from dataclasses import dataclass, field

from kraken_proto.rest._signing import Credentials

from ._actions import SessionAction
from ._config import SessionConfig
from ._events import SessionEvent
from ._rest import RestQueue
from ._wall import WallClock

__all__ = ["SessionContext"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionContext:
    """The session's config, the credentials that sign its REST calls, its one REST queue,
    and the two lists its parts append their actions and events to (in the order they
    happen; ``Session.actions()`` and ``events()`` empty them in place), and the wall clock."""

    config: SessionConfig
    credentials: Credentials
    rest: RestQueue
    actions: list[SessionAction]
    events: list[SessionEvent]
    wall: WallClock = field(default_factory=WallClock)  # unix time for Kraken (``_wall``)
