"""The session's REST queue: one call in flight at a time, each sent only when Kraken's call
counter has room, retried after transient failures.

A job knows its call's name and cost, how to build (sign) its request with the next nonce,
and what to do with the parsed answer. The queue never builds a request before it may be
sent, and never before it holds the key's turn to send (``NonceSource.acquire``, given back
when the answer comes), so nonces reach Kraken in increasing order, also when other
processes send on the same key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kraken_proto._errors import LocalProtocolError
from kraken_proto.rest._counter import RestCallCounter
from kraken_proto.rest._errors import RateLimitExceededError, RestError
from kraken_proto.rest._request import RestRequest
from kraken_proto.rest._signing import NonceSource

from ._wall import WallClock

__all__ = ["RestJob", "RestQueue"]

_ROUNDING_WAIT = 0.01
_TURN_WAIT = 0.02  # another sender on the key has a request out: ask again after this


@dataclass(slots=True, kw_only=True)
class RestJob:
    """One REST call the session wants.

    ``build(nonce)`` signs it; ``on_answer(status, body, now)`` parses and acts on the answer
    (it raises ``RestError`` for an error answer); ``on_error(error, now)`` is called instead
    of a retry when set (the token call turns failures into a reconnect).
    ``still_wanted(now)``, when set, is asked once the call may be sent: False drops it
    unsent (what it was for got done another way while it waited).
    """

    purpose: str
    cost: int
    build: Callable[[int], RestRequest]
    on_answer: Callable[[int, bytes, float], None]
    on_error: Callable[[RestError | None, str, float], None] | None = None
    still_wanted: Callable[[float], bool] | None = None
    not_before: float = 0.0
    retries: int = 0


class RestQueue:
    """FIFO of ``RestJob``; at most one in flight (identified by its call number)."""

    __slots__ = (
        "_counter",
        "_inflight",
        "_next_call",
        "_nonces",
        "_retry_delay",
        "_retry_max",
        "_wall",
        "jobs",
        "wake_at",
    )

    def __init__(
        self,
        *,
        counter: RestCallCounter,
        nonces: NonceSource,
        retry_delay: float,
        retry_max: float,
        wall: WallClock | None = None,
    ) -> None:
        self._counter = counter
        self._wall = wall if wall is not None else WallClock()  # nonces are wall time
        self._nonces = nonces
        self._retry_delay = retry_delay
        self._retry_max = retry_max
        # A list, not a deque: it holds a few jobs, and an empty deque takes 760 bytes. Read
        # (never changed) by the session: no jobs means ``pump`` has nothing to do.
        self.jobs: list[RestJob] = []
        self._inflight: tuple[int, RestJob] | None = None
        self._next_call = 1
        self.wake_at: float | None = None

    def __len__(self) -> int:
        return len(self.jobs) + (self._inflight is not None)

    def busy_with(self, purpose: str) -> bool:
        """True while a job of ``purpose`` is queued or in flight."""
        if self._inflight is not None and self._inflight[1].purpose == purpose:
            return True
        return any(job.purpose == purpose for job in self.jobs)

    def add(self, job: RestJob, *, first: bool = False) -> None:
        """Queue ``job`` (at the front with ``first``)."""
        if first:
            self.jobs.insert(0, job)
        else:
            self.jobs.append(job)

    def clear(self) -> None:
        """Forget every job; an answer to the call in flight will be ignored."""
        self.jobs.clear()
        if self._inflight is not None:
            self._inflight = None
            self._nonces.release()
        self.wake_at = None

    def pump(self, now: float) -> tuple[int, RestRequest, str] | None:
        """The next call to send now, as (call, request, purpose), or None (then ``wake_at``
        says when to ask again, or None when there is nothing to do)."""
        self.wake_at = None
        if self._inflight is not None:
            return None
        while True:
            if not self.jobs:
                return None
            job = self.jobs[0]
            ready = max(job.not_before, self._counter.ready_at(job.cost, now))
            if ready > now:
                self.wake_at = ready
                return None
            if job.still_wanted is None or job.still_wanted(now):
                break
            del self.jobs[0]
        nonces = self._nonces
        if not nonces.acquire():
            self.wake_at = now + _TURN_WAIT
            return None
        try:
            self._counter.spend(job.cost, now)
        except LocalProtocolError:
            # ready_at and spend round differently at large timestamps (or, shared, another
            # process spent the room meanwhile): ask again shortly.
            nonces.release()
            self.wake_at = now + _ROUNDING_WAIT
            return None
        del self.jobs[0]
        request = job.build(self._nonces.next(self._wall.wall(now)))
        call = self._next_call
        self._next_call += 1
        self._inflight = (call, job)
        return call, request, job.purpose

    def answer(self, call: int, status: int, body: bytes, now: float) -> RestError | None:
        """Hand the answer of ``call`` to its job. Returns a permanent error to stop on."""
        job = self._take(call)
        if job is None:
            return None
        try:
            job.on_answer(status, body, now)
        except RestError as error:
            if isinstance(error, RateLimitExceededError):
                self._counter.saturate(now)
            return self._failed(job, error, type(error).__name__, now)
        return None

    def failed(self, call: int, reason: str, now: float) -> RestError | None:
        """``call`` got no answer; retry (or hand to the job's ``on_error``)."""
        job = self._take(call)
        if job is None:
            return None
        return self._failed(job, None, reason, now)

    def _take(self, call: int) -> RestJob | None:
        if self._inflight is None or self._inflight[0] != call:
            return None
        job = self._inflight[1]
        self._inflight = None
        self._nonces.release()
        return job

    def _failed(
        self, job: RestJob, error: RestError | None, reason: str, now: float
    ) -> RestError | None:
        if error is not None and error.permanent:
            return error
        if job.on_error is not None:
            job.on_error(error, reason, now)
            return None
        job.retries += 1
        exponent = min(job.retries - 1, 30)  # keeps 2**n finite
        job.not_before = now + min(self._retry_max, self._retry_delay * 2.0**exponent)
        self.jobs.insert(0, job)
        return None
