"""The async runners' one-shot wakeups (``adapters/runners/_wakeup.py``): ``set`` wakes every
waiting task, a wait after ``set`` returns at once, and a cancelled wait is forgotten (a later
``set`` wakes the others only)."""

from __future__ import annotations

import asyncio
import weakref

import trio
import trio.testing
from kraken_proto.adapters.runners._wakeup import AsyncioWakeup, TrioWakeup, wake_at


def test_trio_wakeup_wakes_every_waiter_and_forgets_cancelled_ones() -> None:
    async def main() -> list[str]:
        woken: list[str] = []
        wakeup = TrioWakeup()

        async def waiter(name: str, scope: trio.CancelScope) -> None:
            with scope:
                await wakeup.wait()
                woken.append(name)

        first, third = trio.CancelScope(), trio.CancelScope()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter, "first", first)
            nursery.start_soon(waiter, "second", trio.CancelScope())
            nursery.start_soon(waiter, "third", third)
            nursery.start_soon(waiter, "fourth", trio.CancelScope())
            await trio.testing.wait_all_tasks_blocked()
            first.cancel()  # the first waiter's slot
            third.cancel()  # one of the others
            await trio.testing.wait_all_tasks_blocked()
            wakeup.set()
        await wakeup.wait()  # already set: returns at once
        return woken

    assert sorted(trio.run(main)) == ["fourth", "second"]


def test_asyncio_wakeup_wakes_every_waiter_and_forgets_cancelled_ones() -> None:
    async def main() -> tuple[list[str], int]:
        wakeup = AsyncioWakeup()
        woken: list[str] = []

        async def waiter(name: str) -> None:
            await wakeup.wait()
            woken.append(name)

        tasks = [asyncio.create_task(waiter(name)) for name in ("a", "b", "c")]
        await asyncio.sleep(0)
        tasks[1].cancel()
        await asyncio.sleep(0)
        left = len(wakeup._futures)
        wakeup.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await wakeup.wait()  # already set: returns at once
        return woken, left

    woken, left = asyncio.run(main())
    assert sorted(woken) == ["a", "c"]
    assert left == 2


class _Sleeper:
    def __init__(self) -> None:
        self.wakeup = TrioWakeup()
        self.calls: list[float] = []

    def _timer_due(self, when: float) -> None:
        self.calls.append(when)
        self.wakeup.set()


def test_the_trio_timer_wakes_each_sleeper_at_its_time() -> None:
    """One timer task per run wakes the sleepers due, in time order, an earlier one added
    while it sleeps included; a sleeper gone by its time is skipped."""

    async def main() -> tuple[list[tuple[str, float]], list[float]]:
        seen: list[tuple[str, float]] = []
        start = trio.current_time()
        kept = _Sleeper()

        async def waiter(name: str, after: float) -> None:
            sleeper = _Sleeper()
            wake_at(start + after, weakref.ref(sleeper))
            await sleeper.wakeup.wait()
            seen.append((name, trio.current_time() - start))
            assert sleeper.calls == [start + after]

        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter, "late", 5.0)
            await trio.testing.wait_all_tasks_blocked()
            nursery.start_soon(waiter, "early", 2.0)  # before the one the timer sleeps for
            wake_at(start + 3.0, weakref.ref(_Sleeper()))  # gone at once: skipped
            wake_at(start + 4.0, weakref.ref(kept))
            nursery.start_soon(waiter, "same", 5.0)
        return seen, kept.calls

    seen, kept_calls = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert seen[0] == ("early", 2.0)
    assert sorted(seen[1:]) == [("late", 5.0), ("same", 5.0)]  # trio orders a batch freely
    assert len(kept_calls) == 1
