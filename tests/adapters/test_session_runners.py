"""The three session runners (blocking, trio, asyncio), every test run on each, over real
sockets against the simulator on 127.0.0.1 (TLS).

Each scenario is written once, as a coroutine over :class:`Calls`: the runner's own API,
awaited (the blocking runner's calls simply run inline). First the runners' plumbing with a
scripted ``FakeSession`` (tests/session/fake_session.py) standing in for the pure Session:
carry out each action, report each result faithfully (close codes, HTTP and handshake
failures, deadlines), never an ``ExceptionGroup``. Then the real Session, over v1 and v2:
every order call, fills, reconnects after a fault, the same exception for the same failure,
and the order table showing each call's outcome when the call returns.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

import pytest
import trio
from kraken_proto import (
    AddOrder,
    CancelAll,
    Credentials,
    FillReceived,
    LocalProtocolError,
    Reconnected,
    Reconnecting,
    RequestAccepted,
    RequestApplied,
    SessionClosed,
    SessionEvent,
    SessionFailed,
)
from kraken_proto.adapters import (
    AsyncioSession,
    BlockingSession,
    OutcomeUnknownError,
    RequestRefusedError,
    TrioSession,
    open_asyncio_session,
    open_session,
    open_trio_session,
)
from kraken_proto.adapters.runners import asyncio_runner, blocking, trio_runner
from kraken_proto.adapters.simulator.model.exchange import Faults
from kraken_proto.adapters.simulator.server import SimulatorThread, run_in_thread
from kraken_proto.v1 import Subscribe

from tests.session.fake_session import FakeSession, add_order

T = TypeVar("T")
RUNNERS = ["blocking", "trio", "asyncio"]
ASYNC_RUNNERS = ["trio", "asyncio"]
PROTOCOLS = ["v1", "v2"]
OPEN: dict[str, Any] = {
    "blocking": open_session,
    "trio": open_trio_session,
    "asyncio": open_asyncio_session,
}
RUN: dict[str, Any] = {
    "blocking": blocking.run_session,
    "trio": trio_runner.run_trio_session,
    "asyncio": asyncio_runner.run_asyncio_session,
}
BUY = {"volume": Decimal("0.01000000"), "price": Decimal("1000.0")}
TOO_BIG = {"volume": Decimal("1000000"), "price": Decimal("1000.0")}
LIMIT = AddOrder(
    ordertype="limit", type="buy", pair="XBT/USD", volume=BUY["volume"], price=BUY["price"]
)
MARKET = AddOrder(ordertype="market", type="buy", pair="XBT/USD", volume=Decimal("0.01"))


class Calls:
    """A runner's API, awaitable whatever the runner: the async runners' methods as they are,
    the blocking runner's wrapped in coroutines that call them inline."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self.blocking = isinstance(runner, BlockingSession)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.runner, name)
        if not self.blocking or not callable(attr):
            return attr

        async def inline(*args: Any, **kwargs: Any) -> Any:
            return attr(*args, **kwargs)

        return inline

    async def off_loop(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)`` from a worker thread (the simulator's control calls
        block, and trio refuses them on its own thread)."""
        if isinstance(self.runner, TrioSession):
            return await trio.to_thread.run_sync(lambda: function(*args, **kwargs))
        return function(*args, **kwargs)

    async def together(self, *calls: Callable[[], Awaitable[Any]]) -> list[Any]:
        """Run ``calls`` concurrently (async runners); each one's result or exception."""
        results: list[Any] = [None] * len(calls)

        async def one(index: int) -> None:
            try:
                results[index] = await calls[index]()
            except Exception as exc:
                results[index] = exc

        if isinstance(self.runner, TrioSession):
            async with trio.open_nursery() as nursery:
                for index in range(len(calls)):
                    nursery.start_soon(one, index)
        else:
            await asyncio.gather(*(one(index) for index in range(len(calls))))
        return results

    async def sim_sessions(self, sim: SimulatorThread) -> list[int]:
        """The simulator's open WebSocket sessions, once it has one (it may register the
        connection a moment after the client saw the upgrade)."""
        give_up = time.monotonic() + 10
        while not (ids := await self.off_loop(sim.session_ids)):
            assert time.monotonic() < give_up
            await self.collect(0.02)
        return ids

    async def collect(self, timeout: float | None) -> list[SessionEvent]:
        """``events(timeout)`` as a list (it runs the session that long)."""
        if self.blocking:
            return list(self.runner.events(timeout))
        return [event async for event in self.runner.events(timeout)]

    async def until(self, ready: Callable[[], bool], timeout: float = 15.0) -> list[SessionEvent]:
        """Collect events until ``ready()``; fail after ``timeout`` seconds."""
        seen: list[SessionEvent] = []
        give_up = time.monotonic() + timeout
        while not ready():
            assert time.monotonic() < give_up, f"timed out; saw {seen}"
            seen += await self.collect(0.05)
        return seen


def drive(
    kind: str,
    manager: Any,
    scenario: Callable[[Calls], Awaitable[T]],
    *args: Any,
    after: Callable[[Calls], Awaitable[Any]] | None = None,
    **kwargs: Any,
) -> T:
    """Enter ``manager(*args, **kwargs)`` (a runner's open/run function), run ``scenario`` in
    the block, then ``after`` outside it (same event loop); return the scenario's result."""

    async def main() -> T:
        if kind == "blocking":
            with manager(*args, **kwargs) as runner:
                result = await scenario(Calls(runner))
        else:
            async with manager(*args, **kwargs) as runner:
                result = await scenario(Calls(runner))
        if after is not None:
            await after(Calls(runner))
        return result

    if kind == "trio":
        return trio.run(main)
    return asyncio.run(main())


class Fake(FakeSession):
    connection = None  # what Waiters reads to tell whether openOrders is followed


@contextmanager
def simulator(**options: Any) -> Iterator[tuple[SimulatorThread, ssl.SSLContext, Fake]]:
    with run_in_thread(tls=True, **options) as sim:
        assert sim.ca_file is not None
        context = ssl.create_default_context(cafile=str(sim.ca_file))
        fake = Fake(Credentials(api_key=sim.api_key, api_secret=sim.api_secret))
        yield sim, context, fake


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


def _urls(sim: SimulatorThread, context: ssl.SSLContext, **more: Any) -> dict[str, Any]:
    return {"rest_url": sim.rest_url, "ws_url": sim.ws_url, "ssl_context": context, **more}


# --- one API --------------------------------------------------------------------------------


def _public(kind: type) -> set[str]:
    return {name for name in dir(kind) if not name.startswith("_")}


def test_the_three_runners_offer_the_same_names() -> None:
    names = _public(BlockingSession)
    assert _public(TrioSession) == names
    assert _public(AsyncioSession) == names
    assert {"drive", "guarded", "crash", "aclose", "fetch_token_trio"}.isdisjoint(names)
    calls = {"subscribe", "add_order", "edit_order", "amend_order", "cancel_order", "cancel_all"}
    calls |= {"cancel_all_orders_after", "next_events", "close"}
    calls |= {"batch_add_orders", "batch_cancel_orders"}
    assert calls | {"events", "orders", "fills", "state", "ack"} == names  # and .session
    for name in calls:
        assert not inspect.iscoroutinefunction(getattr(BlockingSession, name))
    assert inspect.isgeneratorfunction(BlockingSession.events)
    for runner in (TrioSession, AsyncioSession):
        assert inspect.iscoroutinefunction(runner.next_events)
        assert inspect.iscoroutinefunction(runner.close)
        assert inspect.isasyncgenfunction(runner.events)
        # the order calls and subscribe return awaitables (shared with the blocking runner)
    for module in (blocking, trio_runner, asyncio_runner):
        assert "fetch_token" in module.__all__


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_fetch_token_in_every_runner(kind: str) -> None:
    fetch = {"blocking": blocking, "trio": trio_runner, "asyncio": asyncio_runner}[kind]
    with simulator(seed=20) as (sim, context, fake):

        def call() -> Any:
            return fetch.fetch_token(fake.credentials, rest_url=sim.rest_url, ssl_context=context)

        if kind == "trio":
            token = trio.run(call)
        elif kind == "asyncio":
            token = asyncio.run(call())
        else:
            token = call()
        assert token.token


# --- the plumbing (a scripted session) --------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_runner_carries_out_token_connect_send_and_close(kind: str) -> None:
    with simulator(seed=21) as (sim, context, fake):

        async def scenario(session: Calls) -> None:
            assert "wss://" in repr(session.runner)
            await session.subscribe("openOrders")
            placed = await session.add_order(add_order(**BUY), timeout=10)
            assert isinstance(placed, RequestAccepted)
            assert placed.txid is not None
            with pytest.raises(RequestRefusedError, match="refused by Kraken: EOrder:") as no:
                await session.add_order(add_order(**TOO_BIG), timeout=10)
            assert no.value.error.category == "Order"
            assert session.orders is fake.orders
            assert session.fills is fake.fills
            assert session.state.value == "live"

        seen: list[SessionEvent] = []

        async def after(session: Calls) -> None:
            seen.extend(await session.collect(None))  # ends: the terminal event is there
            assert await session.collect(None) == []
            assert await session.next_events(1.0) == []

        drive(kind, RUN[kind], scenario, fake, **_urls(sim, context), after=after)
        assert fake.inputs[:2] == [("rest", 1, 200), ("made", 1)]
        assert ("close",) in fake.inputs
        assert fake.inputs[-1][:2] == ("lost", 1)
        assert isinstance(seen[-1], SessionClosed)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_runner_reports_the_drop_and_carries_out_the_reconnect(kind: str) -> None:
    with simulator(seed=22) as (sim, context, fake):

        async def scenario(session: Calls) -> None:
            await session.until(lambda: ("made", 1) in fake.inputs)
            (sid,) = await session.sim_sessions(sim)
            await session.off_loop(sim.set_fault, "close-after=0", session=sid)
            await session.off_loop(
                sim.set_system_status, "online"
            )  # one more frame: the server drops the socket
            await session.until(lambda: ("made", 2) in fake.inputs)
            assert ("lost", 1, 1006) in fake.inputs
            assert isinstance(await session.add_order(add_order(**BUY)), RequestAccepted)

        drive(kind, RUN[kind], scenario, fake, **_urls(sim, context))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_runner_times_out_as_outcome_unknown(kind: str) -> None:
    with simulator(seed=23, default_faults=Faults(reply_delay=3.0)) as (sim, context, fake):

        async def scenario(session: Calls) -> None:
            started = time.monotonic()
            with pytest.raises(OutcomeUnknownError, match=r"no final outcome within 0\.3 s") as e:
                await session.add_order(add_order(**BUY), timeout=0.3)
            assert time.monotonic() - started < 2
            assert e.value.outcome is None
            assert e.value.handle == 1

        drive(kind, RUN[kind], scenario, fake, **_urls(sim, context))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_runner_reports_http_and_handshake_failures(kind: str) -> None:
    async def until_the_end(session: Calls) -> list[SessionEvent]:
        return await session.collect(10)

    with simulator(seed=24) as (sim, context, fake):
        dead_rest = f"https://127.0.0.1:{_free_port()}"
        urls = _urls(sim, context, rest_url=dead_rest)
        seen = drive(kind, RUN[kind], until_the_end, fake, **urls)
        assert isinstance(seen[-1], SessionFailed)
        assert "ConnectionRefusedError" in seen[-1].reason
        assert dead_rest in seen[-1].reason
        other = Fake(fake.credentials, nonce=100)
        dead_ws = f"wss://127.0.0.1:{_free_port()}"
        seen = drive(kind, RUN[kind], until_the_end, other, **_urls(sim, context, ws_url=dead_ws))
        assert isinstance(seen[-1], SessionFailed)
        assert other.inputs[1][:2] == ("failed", 1)
        assert dead_ws in other.inputs[1][2]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_runner_serves_the_session_deadline(kind: str) -> None:
    with simulator(seed=25) as (sim, context, fake):

        async def scenario(session: Calls) -> None:
            await session.until(lambda: ("made", 1) in fake.inputs)
            fake.deadline = time.monotonic() + 0.2  # the runners' clock
            await session.subscribe("ownTrades")  # an input: the driver rereads the deadline
            await session.until(lambda: ("timeout",) in fake.inputs, timeout=5)
            assert fake.deadline is None

        drive(kind, RUN[kind], scenario, fake, **_urls(sim, context))


@pytest.mark.parametrize("kind", RUNNERS)
def test_runner_refuses_bad_urls_and_mixed_arguments(kind: str) -> None:
    async def nothing(session: Calls) -> None:
        raise AssertionError("unreachable")  # pragma: no cover

    fake = Fake(Credentials(api_key="k", api_secret="A" * 86 + "=="))
    with pytest.raises(ValueError, match="expected http://, https://"):
        drive(kind, RUN[kind], nothing, fake, rest_url="ws://x", ws_url="ws://x")
    with pytest.raises(ValueError, match="expected ws://, wss://"):
        drive(kind, RUN[kind], nothing, fake, rest_url="http://x", ws_url="http://x")
    with pytest.raises(TypeError):
        drive(kind, RUN[kind], nothing, fake, rest_url="http://x", ws_url="ws://x", bogus=1)
    assert fake.inputs == []


class _Boom(Exception):
    pass


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_errors_leave_the_block_as_themselves_not_exception_groups(kind: str) -> None:
    with simulator(seed=34) as (sim, context, fake):

        async def user_error(session: Calls) -> None:
            raise _Boom("from the user's code")

        with pytest.raises(_Boom, match="user's code"):
            drive(kind, RUN[kind], user_error, fake, **_urls(sim, context))

        broken = Fake(fake.credentials, nonce=100)  # the first used 2: nonces must grow

        def crash(*args: object) -> None:
            raise _Boom("a bug in the session")

        broken.connection_made = crash  # type: ignore[method-assign,assignment]

        async def wait(session: Calls) -> None:
            await session.collect(10)

        with pytest.raises(_Boom, match="a bug in the session"):
            drive(kind, RUN[kind], wait, broken, **_urls(sim, context))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_closing_while_the_handshake_hangs_ends_promptly(kind: str) -> None:
    # The WebSocket server accepts TCP and never answers the upgrade.
    with socket.create_server(("127.0.0.1", 0)) as listener, simulator(seed=45) as sim_etc:
        sim, context, fake = sim_etc
        ws_url = f"ws://127.0.0.1:{listener.getsockname()[1]}"

        async def a_while(session: Calls) -> list[SessionEvent]:
            return await session.collect(0.3)  # the handshake is under way

        started = time.monotonic()
        urls = _urls(sim, context, ws_url=ws_url)
        # The blocking runner opens inside its own calls: only connect_timeout bounds that.
        first = 0.5 if kind == "blocking" else 30
        drive(kind, OPEN[kind], a_while, fake.credentials, **urls, connect_timeout=first)
        assert time.monotonic() - started < 5
        seen = drive(kind, OPEN[kind], a_while, fake.credentials, **urls, connect_timeout=0.1)
        reasons = [e.reason for e in seen if isinstance(e, Reconnecting)]
        assert any("HandshakeTimeout" in r and "did not complete" in r for r in reasons)


@pytest.mark.timeout(60)
def test_trio_events_consumer_and_close_both_wake() -> None:
    # A consumer task outside the session block waits on events() while the block closes the
    # session: the close must not wait out its timeout, and the consumer sees SessionClosed.
    with simulator(seed=46) as (sim, context, fake):
        seen: list[Any] = []

        async def main() -> float:
            async with trio.open_nursery() as nursery:
                async with trio_runner.run_trio_session(fake, **_urls(sim, context)) as session:  # type: ignore[arg-type]

                    async def consume() -> None:
                        async for event in session.events():
                            seen.append(event)  # noqa: PERF401 - as they come

                    nursery.start_soon(consume)
                    await session.add_order(add_order(**BUY), timeout=10)
                    started = time.monotonic()
                return time.monotonic() - started

        assert trio.run(main) < 2
        assert isinstance(seen[-1], SessionClosed)
        assert any(isinstance(e, RequestAccepted) for e in seen)


@pytest.mark.timeout(60)
def test_asyncio_events_consumer_and_close_both_wake() -> None:
    with simulator(seed=47) as (sim, context, fake):
        seen: list[Any] = []

        async def main() -> float:
            async with asyncio_runner.run_asyncio_session(fake, **_urls(sim, context)) as session:  # type: ignore[arg-type]

                async def consume() -> None:
                    async for event in session.events():
                        seen.append(event)  # noqa: PERF401 - as they come

                consumer = asyncio.create_task(consume())
                await session.add_order(add_order(**BUY), timeout=10)
                started = time.monotonic()
            await consumer
            return time.monotonic() - started

        assert asyncio.run(main()) < 2
        assert isinstance(seen[-1], SessionClosed)
        assert any(isinstance(e, RequestAccepted) for e in seen)


# --- the real Session -------------------------------------------------------------------------


@contextmanager
def exchange(seed: int) -> Iterator[tuple[SimulatorThread, dict[str, Any], Credentials]]:
    with run_in_thread(tls=True, seed=seed) as sim:
        assert sim.ca_file is not None
        context = ssl.create_default_context(cafile=str(sim.ca_file))
        yield sim, _urls(sim, context), Credentials(api_key=sim.api_key, api_secret=sim.api_secret)


def _is_open(session: Calls, txid: str | None) -> bool:
    order = session.orders.get(txid or "")
    return order is not None and bool(order.is_open)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("kind", RUNNERS)
def test_every_order_call_returns_once_the_table_shows_it(kind: str, protocol: str) -> None:
    with exchange(seed=43) as (sim, urls, credentials):

        async def scenario(session: Calls) -> None:
            await session.subscribe(Subscribe(name="openOrders"))
            for _ in range(3):  # the race the table must not lose, several times over
                placed = await session.add_order(LIMIT, timeout=20)
                assert _is_open(session, placed.txid)
                await session.cancel_order(txid=(placed.txid,), timeout=20)
                assert not _is_open(session, placed.txid)
            first = await session.add_order(LIMIT, timeout=20)
            amended = await session.amend_order(txid=first.txid, limit_price=Decimal("1001.0"))
            assert isinstance(amended, RequestAccepted)
            assert session.orders.get(first.txid).descr.price == Decimal("1001.0")
            edited = await session.edit_order(
                orderid=first.txid, pair="XBT/USD", price=Decimal("1002.0")
            )
            assert isinstance(edited, RequestAccepted)
            assert _is_open(session, edited.txid)
            assert not _is_open(session, first.txid)
            await session.add_order(LIMIT)
            assert isinstance(await session.cancel_all(), RequestAccepted)
            assert session.orders.open_orders() == {}
            assert isinstance(await session.cancel_all_orders_after(60), RequestAccepted)
            assert isinstance(await session.cancel_all_orders_after(0), RequestAccepted)
            with pytest.raises(TypeError, match="not both"):
                await session.add_order(LIMIT, pair="XBT/USD")
            with pytest.raises(TypeError, match="expected a AddOrder"):
                await session.add_order(CancelAll())
            assert await session.off_loop(sim.open_orders) == {}

        drive(kind, OPEN[kind], scenario, credentials, **urls, protocol=protocol)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("kind", RUNNERS)
def test_fills_arrive_once_and_the_table_totals_them(kind: str, protocol: str) -> None:
    with exchange(seed=51) as (_sim, urls, credentials):

        async def scenario(session: Calls) -> None:
            await session.subscribe("ownTrades")
            await session.subscribe("openOrders")
            placed = await session.add_order(MARKET, timeout=20)
            fills: list[FillReceived] = []

            def bought() -> Decimal:
                return sum((f.trade.vol or Decimal(0) for f in fills), Decimal(0))

            while bought() < MARKET.volume:
                fills += [e for e in await session.collect(0.1) if isinstance(e, FillReceived)]
            assert bought() == MARKET.volume
            assert {f.trade.ordertxid for f in fills} == {placed.txid}
            assert len({f.trade_id for f in fills}) == len(fills)
            await session.until(lambda: session.orders.get(placed.txid).vol_exec == MARKET.volume)

        drive(kind, OPEN[kind], scenario, credentials, **urls, protocol=protocol)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("kind", RUNNERS)
def test_reconnect_after_a_fault_and_reconcile_a_lost_reply(kind: str, protocol: str) -> None:
    with exchange(seed=61) as (sim, urls, credentials):

        async def scenario(session: Calls) -> None:
            await session.subscribe("openOrders")
            await session.subscribe("ownTrades")
            await session.until(lambda: session.state.value == "live")
            sids = await session.sim_sessions(sim)
            await session.off_loop(sim.set_fault, "close-after=0", session=sids[-1])
            await session.off_loop(
                sim.set_system_status, "online"
            )  # the next frame is not sent: the socket drops
            seen = await session.until(lambda: session.session.connection_attempts >= 2)
            seen += await session.until(lambda: session.state.value == "live")
            assert any(isinstance(e, Reconnecting) for e in seen)
            assert any(isinstance(e, Reconnected) for e in seen)
            placed = await session.add_order(LIMIT, timeout=20)
            assert _is_open(session, placed.txid)
            # The reply to the next order is lost with its connection: reconciled, applied.
            sids = await session.sim_sessions(sim)
            await session.off_loop(sim.set_fault, "drop-after-request=1", session=sids[-1])
            lost = await session.add_order(LIMIT, timeout=30)
            assert isinstance(lost, RequestApplied)
            assert lost.txid in await session.off_loop(sim.open_orders)
            assert _is_open(session, lost.txid)

        drive(kind, OPEN[kind], scenario, credentials, **urls, protocol=protocol, config=_fast())


def _fast() -> Any:
    from kraken_proto import SessionConfig

    return SessionConfig(backoff_initial=0.05, backoff_floor=0.1, backoff_max=0.5)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("kind", RUNNERS)
def test_a_wrong_secret_is_the_same_refusal_on_every_runner(kind: str, protocol: str) -> None:
    with exchange(seed=41) as (sim, urls, _):
        wrong = Credentials(api_key=sim.api_key, api_secret="A" * 86 + "==")

        async def scenario(session: Calls) -> None:
            # On the async runners this call is made before Kraken has answered the token
            # request: the session ends it unsent when it fails. Either way: refused.
            with pytest.raises(RequestRefusedError, match="failed for good") as early:
                await session.add_order(LIMIT)
            assert "signature" in early.value.error.text.lower()
            seen = await session.collect(10)
            assert isinstance(seen[-1], SessionFailed)
            assert "signature" in seen[-1].reason.lower()
            assert session.state.value == "failed"
            with pytest.raises(RequestRefusedError) as late:
                await session.cancel_all()
            assert late.value.handle == 0
            assert late.value.outcome is None
            assert await session.collect(None) == []
            assert await session.next_events(None) == []
            with pytest.raises(LocalProtocolError):
                await session.subscribe("ownTrades")

        drive(kind, OPEN[kind], scenario, wrong, **urls, protocol=protocol)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("kind", RUNNERS)
def test_a_stale_token_is_a_refusal(kind: str, protocol: str) -> None:
    with exchange(seed=71) as (sim, urls, credentials):

        async def scenario(session: Calls) -> None:
            await session.subscribe("openOrders")
            await session.add_order(LIMIT, timeout=20)
            await session.off_loop(sim.invalidate_tokens)
            with pytest.raises(RequestRefusedError, match="refused by Kraken") as no:
                await session.add_order(LIMIT, timeout=20)
            assert no.value.error.category in ("Session", "API")
            await session.until(lambda: session.state.value == "live")
            assert isinstance(await session.add_order(LIMIT, timeout=20), RequestAccepted)
            if session.blocking:
                return
            # Several in flight with the token: Kraken refuses each; none is lost with the
            # connection the rejection drops (and then reconciled as "not applied").
            await session.off_loop(sim.invalidate_tokens)
            results = await session.together(*[lambda: session.add_order(LIMIT)] * 3)
            assert [type(result) for result in results] == [RequestRefusedError] * 3

        drive(kind, OPEN[kind], scenario, credentials, **urls, protocol=protocol, config=_fast())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_calls_after_close_are_misuse(kind: str) -> None:
    with exchange(seed=81) as (_sim, urls, credentials):

        async def scenario(session: Calls) -> None:
            await session.close()
            await session.close()  # idempotent
            assert session.state.value == "closed"
            with pytest.raises(LocalProtocolError):
                await session.add_order(LIMIT)
            seen = await session.collect(None)
            assert isinstance(seen[-1], SessionClosed)

        drive(kind, OPEN[kind], scenario, credentials, **urls)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_events_end_at_their_timeout(kind: str) -> None:
    with exchange(seed=82) as (_sim, urls, credentials):

        async def scenario(session: Calls) -> None:
            await session.until(lambda: session.state.value == "live")
            await session.collect(0.2)
            started = time.monotonic()
            assert await session.collect(0.3) == []
            assert await session.next_events(0.3) == []
            assert 0.5 <= time.monotonic() - started < 3

        drive(kind, OPEN[kind], scenario, credentials, **urls)
