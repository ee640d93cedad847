"""What the trio and asyncio runners share: :class:`AsyncSessionRunner`, the awaitable calls
over ``SessionRunner``, waking whoever waits when the waiters change, and the driver task
that carries out the session's actions and sleeps until its next deadline. No policy lives
here, and no event loop: a runner module supplies the loop's primitives and the I/O.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from kraken_proto import AddOrder, Request, Session, SessionAction, SessionEvent
from kraken_proto.session._balances import SessionSubscribe

from ._batch import BatchResult, Outcome
from ._common import SessionRunner

__all__ = ["AsyncSessionRunner"]


class _Event(Protocol):
    def set(self) -> None: ...

    def wait(self) -> Awaitable[object]: ...


class AsyncSessionRunner(
    SessionRunner[Awaitable[Outcome], Awaitable[None], Awaitable[BatchResult]]
):
    """What the trio and asyncio runners share: the awaitable calls, waking whoever waits
    when the waiters change, and the driver task that carries out the session's actions.

    A subclass supplies two primitives of its event loop (``_new_event``, ``_move_on_after``)
    and the I/O: ``_do`` (one action), the connection and HTTP tasks. Every task that gives
    the session a result calls ``_input_done`` right after.
    """

    def __init__(self, session: Session, **options: Any) -> None:
        super().__init__(session, **options)
        self._init_driver()
        self._change: _Event | None = None  # set and dropped whenever the waiters change:
        # a change with nobody waiting then costs nothing
        self._stopped = False  # the runner has exited: nothing will change any more
        self._crash: BaseException | None = None  # a background task's bug, raised at exit

    # --- the event loop's primitives ----------------------------------------------------

    def _init_driver(self) -> None:
        """The driver's state: by default one task for the runner's life (``_drive``), which
        waits on ``_wake`` for work or its next deadline."""
        self._wake = self._new_event()  # the session has actions or a new deadline
        self._sleep_until = -math.inf  # the deadline the idle driver waits for (-inf: busy)

    def _wake_driver(self) -> None:
        """The session has actions (or the journal records): have the driver carry them out."""
        self._wake.set()

    def _new_event(self) -> _Event:
        raise NotImplementedError

    def _move_on_after(self, seconds: float | None) -> AbstractAsyncContextManager[None]:
        """A block that silently stops after ``seconds`` (None: never)."""
        raise NotImplementedError

    async def _do(self, action: SessionAction) -> None:
        raise NotImplementedError

    async def _idle(self, seconds: float | None) -> None:
        """The driver's wait: until ``_wake`` is set or ``seconds`` pass (None: no limit)."""
        async with self._move_on_after(seconds):
            await self._wake.wait()

    # --- the calls ----------------------------------------------------------------------------

    async def events(self, timeout: float | None = None) -> AsyncIterator[SessionEvent]:
        """Every session event, in order, as it comes; ends after the terminal
        ``SessionClosed``/``SessionFailed``, or once ``timeout`` seconds have passed (None: no
        limit). Ends at once after the terminal event (or once the runner has exited)."""
        end = None if timeout is None else time.monotonic() + timeout
        waiters = self._waiters
        while not waiters.exhausted:
            if not waiters:  # kept events go out at once: no timer scope per event
                if end is None:
                    # _until inlined: a consumer parks here for the session's life, and each
                    # level of awaits (with its bound predicate) is kept meanwhile.
                    while not waiters and not self._stopped:
                        if self._change is None:
                            self._change = self._new_event()
                        await self._change.wait()
                else:
                    async with self._move_on_after(max(0.0, end - time.monotonic())):
                        await self._until(waiters.__bool__)
                if not waiters:
                    return
            yield self._take_one()

    async def next_events(self, timeout: float | None = None) -> list[SessionEvent]:
        """Wait until there are events or ``timeout`` seconds pass; return them (``[]``
        then). Returns ``[]`` at once after the terminal event was returned."""
        async with self._move_on_after(timeout):
            await self._until(lambda: bool(self._waiters) or self._waiters.exhausted)
        return self._take()

    async def close(self, timeout: float = 5.0) -> None:
        """Close the session (disarming the dead man's switch if armed), waiting at most
        ``timeout`` seconds for ``SessionClosed``; requests without an outcome end as the
        session says. Idempotent."""
        if self._start_close():
            self._wake_driver()
        async with self._move_on_after(timeout):
            await self._until(lambda: self._waiters.ended is not None)

    async def _subscribe(self, request: SessionSubscribe) -> None:
        self._subscribe_now(request)
        self._wake_driver()

    async def _call(self, request: Request, timeout: float | None) -> Outcome:
        handle = self._submit(request)
        await self._wait_for((handle,), timeout)
        return self._result(handle, timeout)

    async def _call_batch(self, orders: list[AddOrder], timeout: float | None) -> BatchResult:
        handles = self._submit_batch(orders)
        await self._wait_for(handles, timeout)
        return self._batch_results(handles, timeout)

    async def _wait_for(self, handles: tuple[int, ...], timeout: float | None) -> None:
        """Wait until every call of ``handles`` is done or ``timeout`` passes; a cancelled
        wait forgets them."""
        self._wake_driver()
        try:
            async with self._move_on_after(timeout):
                await self._until(lambda: all(map(self._waiters.done, handles)))
        except BaseException:
            self._waiters.forget(*handles)
            raise

    # --- the plumbing -------------------------------------------------------------------------

    async def _until(self, ready: Callable[[], bool]) -> None:
        """Wait until ``ready()`` (checked whenever the waiters change) or the runner exits."""
        while not ready() and not self._stopped:
            if self._change is None:  # made when first waited for: an idle runner holds none
                self._change = self._new_event()
            await self._change.wait()

    def _changed(self) -> None:
        # Wake every waiter (calls, events() consumers, close); later waits use a fresh event.
        if self._change is not None:
            self._change.set()
            self._change = None

    def _acked(self) -> None:
        self._wake_driver()

    def _input_done(self, now: float | None = None) -> None:
        """A result was given to the session (at ``now``): route its events; wake the driver
        only when it has work: actions, or a deadline earlier than the one it waits for.
        Most reads produce neither, and then the user's task is the only one woken."""
        self._route(now)
        self._backlog += self.session.actions()
        if self._backlog:
            self._wake_driver()
        elif self._sleep_until != -math.inf:
            deadline = self._next_deadline()
            if deadline is not None and deadline < self._sleep_until:
                self._wake.set()

    def _exited(self) -> None:
        """The runner's block has exited: wake every waiter for good."""
        self._stopped = True
        self._close_journal()
        self._changed()

    async def _drive(self) -> None:
        """The main background task: carry out actions in order, wake at deadlines."""
        while True:
            self._wake = self._new_event()
            actions = self._next_actions()
            if actions:
                for action in actions:
                    if not self._persist(action):
                        await self._do(action)
                    self._route()
                # Not kept in this frame while the driver idles: the last action would hold
                # its messages for the session's whole life (~0.5 KiB a session).
                del action, actions
                continue
            deadline = self._next_deadline()
            wait = None if deadline is None else max(0.0, deadline - self._clock())
            self._sleep_until = math.inf if deadline is None else deadline
            try:
                await self._idle(wait)
            finally:
                self._sleep_until = -math.inf
            self._serve_deadlines()
