"""The session runners' plumbing, both adapters, over real sockets (TLS on loopback).

A scripted ``FakeSession`` (tests/fake_session.py) stands in for the pure ``Session`` so these
tests check only what the runners do: carry out each action, report each result faithfully
(close codes, HTTP failures, handshake failures, deadlines) and turn outcomes into return
values or typed exceptions, never an ``ExceptionGroup``.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
import trio
from kraken_proto import (
    CancelAll,
    Credentials,
    LocalProtocolError,
    RequestAccepted,
    SessionClosed,
    SessionFailed,
)
from kraken_proto.adapters import OutcomeUnknownError, RequestRefusedError
from kraken_proto.adapters.runners.blocking import BlockingSession, open_session, run_session
from kraken_proto.adapters.runners.trio_runner import open_trio_session, run_trio_session
from kraken_proto.adapters.simulator.model.exchange import Faults
from kraken_proto.adapters.simulator.server import SimulatorThread, run_in_thread
from kraken_proto.v1 import Subscribe

from tests.session.fake_session import FakeSession, add_order

BUY = {"volume": Decimal("0.01000000"), "price": Decimal("1000.0")}
TOO_BIG = {"volume": Decimal("1000000"), "price": Decimal("1000.0")}


@contextmanager
def simulator(**options: Any) -> Iterator[tuple[SimulatorThread, ssl.SSLContext, FakeSession]]:
    with run_in_thread(tls=True, **options) as sim:
        assert sim.ca_file is not None
        context = ssl.create_default_context(cafile=str(sim.ca_file))
        fake = FakeSession(Credentials(api_key=sim.api_key, api_secret=sim.api_secret))
        yield sim, context, fake


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


def _blocking(fake: FakeSession, sim: SimulatorThread, context: ssl.SSLContext, **kw: Any) -> Any:
    options: dict[str, Any] = {"rest_url": sim.rest_url, "ws_url": sim.ws_url}
    options.update(kw)
    return run_session(fake, ssl_context=context, **options)  # type: ignore[arg-type]


# --- blocking ---------------------------------------------------------------------------------


def test_blocking_runner_carries_out_token_connect_send_and_close() -> None:
    with simulator(seed=21) as (sim, context, fake):
        with _blocking(fake, sim, context) as session:
            assert isinstance(session, BlockingSession)
            assert "wss://" in repr(session)
            session.subscribe("openOrders")
            placed = session.add_order(add_order(**BUY))
            assert isinstance(placed, RequestAccepted)
            assert placed.txid is not None
            with pytest.raises(RequestRefusedError, match="refused by Kraken: EOrder:") as refused:
                session.add_order(add_order(**TOO_BIG))
            assert refused.value.error.category == "Order"
            assert session.orders is fake.orders
            assert session.fills is fake.fills
            assert session.state.value == "live"
        assert fake.inputs[:2] == [("rest", 1, 200), ("made", 1)]
        assert ("close",) in fake.inputs
        assert fake.inputs[-1][:2] == ("lost", 1)
        assert any(isinstance(e, SessionClosed) for e in session.events(timeout=0))


def test_blocking_runner_reports_the_drop_and_carries_out_the_reconnect() -> None:
    with simulator(seed=22) as (sim, context, fake), _blocking(fake, sim, context) as session:
        session.events(timeout=0.5)
        (sid,) = sim.session_ids()
        sim.apply(lambda exchange, now: setattr(exchange.faults(sid), "close_after_frames", 0))
        sim.set_system_status("online")  # one more frame: the server drops the socket
        deadline = time.monotonic() + 5
        while ("made", 2) not in fake.inputs and time.monotonic() < deadline:
            session.events(timeout=0.2)
        assert ("lost", 1, 1006) in fake.inputs
        assert ("made", 2) in fake.inputs
        assert isinstance(session.add_order(add_order(**BUY)), RequestAccepted)


def test_blocking_runner_times_out_as_outcome_unknown() -> None:
    with (
        simulator(seed=23, default_faults=Faults(reply_delay=3.0)) as (sim, context, fake),
        _blocking(fake, sim, context) as session,
    ):
        started = time.monotonic()
        with pytest.raises(OutcomeUnknownError, match=r"no final outcome within 0\.3 s") as e:
            session.add_order(add_order(**BUY), timeout=0.3)
        assert time.monotonic() - started < 2
        assert e.value.outcome is None
        assert e.value.handle == 1


def test_blocking_runner_reports_http_and_handshake_failures() -> None:
    with simulator(seed=24) as (sim, context, fake):
        dead_rest = f"https://127.0.0.1:{_free_port()}"
        with _blocking(fake, sim, context, rest_url=dead_rest) as session:
            (failed,) = [e for e in session.events(timeout=1) if isinstance(e, SessionFailed)]
            assert "ConnectionRefusedError" in failed.reason
            assert dead_rest in failed.reason
        fake2 = FakeSession(fake.credentials)
        dead_ws = f"wss://127.0.0.1:{_free_port()}"
        with _blocking(fake2, sim, context, ws_url=dead_ws):
            pass
        assert fake2.inputs[1][:2] == ("failed", 1)
        assert dead_ws in fake2.inputs[1][2]


def test_blocking_runner_serves_the_session_deadline() -> None:
    with simulator(seed=25) as (sim, context, fake), _blocking(fake, sim, context) as session:
        fake.deadline = time.time() + 0.2
        session.events(timeout=1.0)
        assert ("timeout",) in fake.inputs
        assert fake.deadline is None


def test_blocking_runner_refuses_bad_urls_and_mixed_arguments() -> None:
    fake = FakeSession(Credentials(api_key="k", api_secret="A" * 86 + "=="))
    with pytest.raises(ValueError, match="expected http://, https://"):
        run_session(fake, rest_url="ws://x", ws_url="ws://x").__enter__()  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected ws://, wss://"):
        run_session(fake, rest_url="http://x", ws_url="http://x").__enter__()  # type: ignore[arg-type]


# --- trio -------------------------------------------------------------------------------------


def test_trio_runner_carries_out_token_connect_send_and_close() -> None:
    with simulator(seed=31) as (sim, context, fake):

        async def main() -> None:
            async with run_trio_session(
                fake,  # type: ignore[arg-type]
                rest_url=sim.rest_url,
                ws_url=sim.ws_url,
                ssl_context=context,
            ) as session:
                assert "wss://" in repr(session)
                await session.subscribe("openOrders")
                with trio.fail_after(10):
                    placed = await session.add_order(add_order(**BUY))
                assert isinstance(placed, RequestAccepted)
                with pytest.raises(RequestRefusedError):
                    await session.add_order(add_order(**TOO_BIG))
                assert session.orders is fake.orders
                assert session.fills is fake.fills
                assert session.state.value == "live"
            seen = [event async for event in session.events()]
            assert isinstance(seen[-1], SessionClosed)

        trio.run(main)
        assert fake.inputs[:2] == [("rest", 1, 200), ("made", 1)]
        assert fake.inputs[-1][:2] == ("lost", 1)


def test_trio_runner_reports_the_drop_and_times_out_as_unknown() -> None:
    with simulator(seed=32) as (sim, context, fake):

        async def main() -> None:
            async with run_trio_session(
                fake,  # type: ignore[arg-type]
                rest_url=sim.rest_url,
                ws_url=sim.ws_url,
                ssl_context=context,
            ) as session:
                with trio.fail_after(10):
                    while ("made", 1) not in fake.inputs:
                        await trio.sleep(0.01)
                    (sid,) = await trio.to_thread.run_sync(sim.session_ids)

                    def drop() -> None:
                        sim.apply(lambda ex, now: setattr(ex.faults(sid), "close_after_frames", 0))
                        sim.set_system_status("online")

                    await trio.to_thread.run_sync(drop)
                    while ("made", 2) not in fake.inputs:
                        await trio.sleep(0.01)
                assert ("lost", 1, 1006) in fake.inputs
                fake.deadline = time.time() + 0.1
                await session.subscribe("ownTrades")  # an input: the driver rereads the deadline
                with trio.fail_after(5):
                    while ("timeout",) not in fake.inputs:
                        await trio.sleep(0.01)

                def delay_replies() -> None:
                    (sid2,) = sim.session_ids()
                    sim.apply(lambda ex, now: setattr(ex.faults(sid2), "reply_delay", 3.0))

                await trio.to_thread.run_sync(delay_replies)
                with pytest.raises(OutcomeUnknownError) as unknown:
                    await session.add_order(add_order(**BUY), timeout=0.3)
                assert unknown.value.outcome is None

        trio.run(main)


def test_trio_runner_reports_http_and_handshake_failures() -> None:
    with simulator(seed=33) as (sim, context, fake):
        dead_rest = f"https://127.0.0.1:{_free_port()}"

        async def main(session_obj: FakeSession, **urls: str) -> list[Any]:
            async with run_trio_session(
                session_obj,  # type: ignore[arg-type]
                ssl_context=context,
                rest_url=urls.get("rest_url", sim.rest_url),
                ws_url=urls.get("ws_url", sim.ws_url),
            ) as session:
                with trio.fail_after(10):
                    return [event async for event in session.events()]
            raise AssertionError("unreachable")  # pragma: no cover

        seen = trio.run(lambda: main(fake, rest_url=dead_rest))
        assert isinstance(seen[-1], SessionFailed)
        assert dead_rest in seen[-1].reason
        fake2 = FakeSession(fake.credentials)
        dead_ws = f"wss://127.0.0.1:{_free_port()}"
        seen = trio.run(lambda: main(fake2, ws_url=dead_ws))
        assert isinstance(seen[-1], SessionFailed)
        assert fake2.inputs[1][:2] == ("failed", 1)


class _Boom(Exception):
    pass


def test_trio_errors_leave_the_block_as_themselves_not_exception_groups() -> None:
    with simulator(seed=34) as (sim, context, fake):

        async def user_error() -> None:
            async with run_trio_session(
                fake,  # type: ignore[arg-type]
                rest_url=sim.rest_url,
                ws_url=sim.ws_url,
                ssl_context=context,
            ):
                raise _Boom("from the user's code")

        with pytest.raises(_Boom):
            trio.run(user_error)

        broken = FakeSession(fake.credentials)

        def crash(*args: object) -> None:
            raise _Boom("a bug in the session")

        broken.connection_made = crash  # type: ignore[method-assign,assignment]

        async def session_bug() -> None:
            async with run_trio_session(
                broken,  # type: ignore[arg-type]
                rest_url=sim.rest_url,
                ws_url=sim.ws_url,
                ssl_context=context,
            ):
                await trio.sleep(10)

        with pytest.raises(_Boom, match="a bug in the session"):
            trio.run(session_bug)


# --- the real Session: a permanent error ends it, both adapters ----------------------------------


def test_blocking_session_with_a_wrong_secret_fails_for_good() -> None:
    with simulator(seed=41) as (sim, context, _):
        wrong = Credentials(api_key=sim.api_key, api_secret="A" * 86 + "==")
        with open_session(
            wrong, rest_url=sim.rest_url, ws_url=sim.ws_url, ssl_context=context
        ) as session:
            events = session.events(timeout=5)
            (failed,) = [e for e in events if isinstance(e, SessionFailed)]
            assert "signature" in failed.reason.lower()
            assert session.state.value == "failed"
            with pytest.raises(LocalProtocolError):
                session.add_order(add_order(**BUY))
            assert session.events(timeout=0.05) == []


def test_trio_session_with_a_wrong_secret_fails_for_good() -> None:
    with simulator(seed=42) as (sim, context, _):
        wrong = Credentials(api_key=sim.api_key, api_secret="A" * 86 + "==")

        async def main() -> list[Any]:
            async with open_trio_session(
                wrong, rest_url=sim.rest_url, ws_url=sim.ws_url, ssl_context=context
            ) as session:
                with trio.fail_after(10):
                    seen = [event async for event in session.events()]
                with pytest.raises(LocalProtocolError):
                    await session.add_order(add_order(**BUY))
                return seen

        seen = trio.run(main)
        assert isinstance(seen[-1], SessionFailed)
        assert "signature" in seen[-1].reason.lower()


# --- the real Session: every order call, both adapters ------------------------------------------


def test_blocking_session_every_order_call() -> None:
    with simulator(seed=43) as (sim, context, fake):
        with open_session(
            fake.credentials, rest_url=sim.rest_url, ws_url=sim.ws_url, ssl_context=context
        ) as session:
            session.subscribe("openOrders")
            first = session.add_order(add_order(**BUY))
            assert first.txid is not None
            amended = session.amend_order(txid=first.txid, limit_price=Decimal("1001.0"))
            assert isinstance(amended, RequestAccepted)
            edited = session.edit_order(orderid=first.txid, pair="XBT/USD", price=Decimal("1002.0"))
            assert isinstance(edited, RequestAccepted)
            assert edited.txid is not None
            cancelled = session.cancel_order(txid=(edited.txid,))
            assert isinstance(cancelled, RequestAccepted)
            session.add_order(add_order(**BUY))
            assert isinstance(session.cancel_all(), RequestAccepted)
            assert isinstance(session.cancel_all_orders_after(60), RequestAccepted)
            assert isinstance(session.cancel_all_orders_after(0), RequestAccepted)
            with pytest.raises(TypeError, match="not both"):
                session.add_order(add_order(**BUY), pair="XBT/USD")
            with pytest.raises(TypeError, match="expected a AddOrder"):
                session.add_order(CancelAll())  # type: ignore[arg-type]
        assert session.state.value == "closed"


def test_trio_session_every_order_call() -> None:
    with simulator(seed=44) as (sim, context, fake):

        async def main() -> None:
            async with open_trio_session(
                fake.credentials, rest_url=sim.rest_url, ws_url=sim.ws_url, ssl_context=context
            ) as session:
                await session.subscribe(Subscribe(name="openOrders"))
                with trio.fail_after(20):
                    first = await session.add_order(add_order(**BUY))
                    assert first.txid is not None
                    amended = await session.amend_order(
                        txid=first.txid, limit_price=Decimal("1001.0")
                    )
                    assert isinstance(amended, RequestAccepted)
                    edited = await session.edit_order(
                        orderid=first.txid, pair="XBT/USD", price=Decimal("1002.0")
                    )
                    assert edited.txid is not None
                    await session.cancel_order(txid=(edited.txid,))
                    assert isinstance(await session.cancel_all(), RequestAccepted)
                    await session.cancel_all_orders_after(60)
                    await session.cancel_all_orders_after(0)
                assert session.orders.open_orders() == {}
                assert len(session.fills) == 0

        trio.run(main)


def test_closing_while_the_handshake_hangs_ends_promptly_on_both_adapters() -> None:
    # The WebSocket server accepts TCP and never answers the upgrade.
    listener = socket.create_server(("127.0.0.1", 0))
    ws_url = f"ws://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with simulator(seed=45) as (sim, context, fake):
            started = time.monotonic()

            async def main() -> None:
                async with open_trio_session(
                    fake.credentials,
                    rest_url=sim.rest_url,
                    ws_url=ws_url,
                    ssl_context=context,
                    connect_timeout=30,
                ):
                    await trio.sleep(0.3)  # the handshake is under way

            trio.run(main)
            assert time.monotonic() - started < 5
            with open_session(
                fake.credentials,
                rest_url=sim.rest_url,
                ws_url=ws_url,
                ssl_context=context,
                connect_timeout=0.5,
            ) as session:
                reasons = [e.reason for e in session.events(timeout=1) if hasattr(e, "reason")]
            assert any("HandshakeTimeout" in r or "did not complete" in r for r in reasons)
    finally:
        listener.close()


def test_trio_events_consumer_and_close_both_wake() -> None:
    # A consumer task outside the session block waits on events() while the block closes the
    # session: the close must not wait out its timeout, and the consumer sees SessionClosed.
    with simulator(seed=46) as (sim, context, fake):
        seen: list[Any] = []

        async def main() -> float:
            async with trio.open_nursery() as nursery:
                async with run_trio_session(
                    fake,  # type: ignore[arg-type]
                    rest_url=sim.rest_url,
                    ws_url=sim.ws_url,
                    ssl_context=context,
                ) as session:

                    async def consume() -> None:
                        async for event in session.events():
                            seen.append(event)  # noqa: PERF401 - as they come

                    nursery.start_soon(consume)
                    with trio.fail_after(10):
                        await session.add_order(add_order(**BUY))
                    started = time.monotonic()
                return time.monotonic() - started

        elapsed = trio.run(main)
        assert elapsed < 2
        assert isinstance(seen[-1], SessionClosed)
        assert any(isinstance(e, RequestAccepted) for e in seen)
