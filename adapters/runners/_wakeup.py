"""The async runners' one-shot wakeups: what a runner's task waits on until the waiters
change or the session has work (``AsyncSessionRunner._new_event``), and the trio runners'
shared timer that sets one at a deadline.

One is made per wait, and the user's task waits once per read: the loops' own events cost
more (a ``trio.Event`` adds an attrs instance and a ParkingLot, an ``asyncio.Event`` a deque
and a loop lock), so these keep just the waiting tasks. An idle driver waits for its wakeup
or its next deadline: under trio one system task per run sleeps until the earliest deadline
of all the runners and wakes the runners due, so that an idle session holds no cancel scope
(about 1.3 KiB each) while it waits.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import weakref
from collections.abc import Awaitable
from functools import partial
from typing import Protocol

import trio

__all__ = ["AsyncioWakeup", "Sleeper", "TrioWakeup", "wake_at"]


class TrioWakeup:
    """``set`` reschedules the parked tasks; usually one task waits, and it takes no list."""

    __slots__ = ("_is_set", "_more", "_task")

    def __init__(self) -> None:
        self._is_set = False
        self._task: trio.lowlevel.Task | None = None
        self._more: list[trio.lowlevel.Task] | None = None  # the other waiting tasks

    def set(self) -> None:
        self._is_set = True
        if self._task is not None:
            trio.lowlevel.reschedule(self._task)
            self._task = None
        if self._more is not None:
            for task in self._more:
                trio.lowlevel.reschedule(task)
            self._more = None

    def wait(self) -> Awaitable[None]:
        """Wait until ``set``: await the result at once. The calling task is parked here,
        not in a coroutine of its own (each parked level costs a waiting task ~0.2 KiB)."""
        if self._is_set:
            return trio.lowlevel.checkpoint()
        task = trio.lowlevel.current_task()
        if self._task is None:
            self._task = task
            return trio.lowlevel.wait_task_rescheduled(self._abort_first)
        if self._more is None:
            self._more = []
        self._more.append(task)
        return trio.lowlevel.wait_task_rescheduled(partial(self._abort_more, task))

    def _abort_first(self, _: object) -> trio.lowlevel.Abort:  # cancelled: no longer waits
        self._task = None
        return trio.lowlevel.Abort.SUCCEEDED

    def _abort_more(self, task: trio.lowlevel.Task, _: object) -> trio.lowlevel.Abort:
        assert self._more is not None
        self._more.remove(task)
        return trio.lowlevel.Abort.SUCCEEDED


class AsyncioWakeup:
    """``set`` completes a future per waiting task."""

    __slots__ = ("_futures", "_is_set")

    def __init__(self) -> None:
        self._is_set = False
        self._futures: list[asyncio.Future[None]] = []

    def set(self) -> None:
        self._is_set = True
        for future in self._futures:
            if not future.done():
                future.set_result(None)
        self._futures.clear()

    async def wait(self) -> None:
        if self._is_set:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._futures.append(future)
        try:
            await future
        finally:
            if not self._is_set:  # cancelled: no longer waits
                self._futures.remove(future)


class Sleeper(Protocol):
    """What the trio timer wakes: ``_timer_due(when)`` is called at trio time ``when``."""

    def _timer_due(self, when: float) -> None: ...


class _Timer:
    """The sleepers to wake at trio times, earliest first, and the system task that wakes
    them. It holds them weakly: a runner gone before its time is not kept for it."""

    def __init__(self) -> None:
        self.due: list[tuple[float, int, weakref.ref[Sleeper]]] = []
        self._order = itertools.count()  # ties: no sleepers compared
        self.scope = trio.CancelScope()

    def add(self, when: float, sleeper: weakref.ref[Sleeper]) -> None:
        heapq.heappush(self.due, (when, next(self._order), sleeper))
        if when < self.scope.deadline:
            self.scope.deadline = when

    async def run(self) -> None:
        while True:
            with self.scope:
                await trio.sleep_forever()
            now = trio.current_time()
            due = self.due
            while due and due[0][0] <= now:
                when, _, ref = heapq.heappop(due)
                sleeper = ref()
                if sleeper is not None:
                    sleeper._timer_due(when)
            self.scope = trio.CancelScope(deadline=due[0][0] if due else math.inf)


_TIMER: trio.lowlevel.RunVar[_Timer] = trio.lowlevel.RunVar("kraken_proto.runners.timer")


def wake_at(when: float, sleeper: weakref.ref[Sleeper]) -> None:
    """Call ``sleeper()._timer_due(when)`` at trio time ``when`` unless it is gone by then
    (the run's timer task is started on first use)."""
    try:
        timer = _TIMER.get()
    except LookupError:
        timer = _Timer()
        _TIMER.set(timer)
        trio.lowlevel.spawn_system_task(timer.run, name="kraken_proto.timer")
    timer.add(when, sleeper)
