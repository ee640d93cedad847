"""The async runners' one-shot wakeups: what a runner's task waits on until the waiters
change or the session has work (``AsyncSessionRunner._new_event``).

One is made per wait, and the user's task waits once per read: the loops' own events cost
more (a ``trio.Event`` adds an attrs instance and a ParkingLot, an ``asyncio.Event`` a deque
and a loop lock), so these keep just the waiting tasks.
"""

from __future__ import annotations

import asyncio

import trio

__all__ = ["AsyncioWakeup", "TrioWakeup"]


class TrioWakeup:
    """A one-shot event for the runner's own waits: the parked tasks themselves, rescheduled
    by ``set`` (a ``trio.Event`` adds an attrs instance and a ParkingLot; one is made per
    wait, and the user's task waits once per read)."""

    __slots__ = ("_is_set", "_tasks")

    def __init__(self) -> None:
        self._is_set = False
        self._tasks: list[trio.lowlevel.Task] = []

    def set(self) -> None:
        self._is_set = True
        for task in self._tasks:
            trio.lowlevel.reschedule(task)
        self._tasks.clear()

    async def wait(self) -> None:
        if self._is_set:
            await trio.lowlevel.checkpoint()
            return
        task = trio.lowlevel.current_task()
        tasks = self._tasks
        tasks.append(task)

        def abort(_: object) -> trio.lowlevel.Abort:  # cancelled: no longer waits
            tasks.remove(task)
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)


class AsyncioWakeup:
    """A one-shot event for the runner's own waits: a future per waiting task (an
    ``asyncio.Event`` adds a deque and a loop lock; one is made per wait, and the user's task
    waits once per read)."""

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
