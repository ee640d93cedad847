"""Regression tests for the runners' defects of issue 19 part 4, on each runner, against the
simulator on 127.0.0.1: deadlines immune to wall-clock steps, no session token in any
traceback frame's locals, the blocking runner's ``events(timeout)`` on time while a connect
or REST call hangs, and the async runners' errors (a timeout's reason, a bare
``KeyboardInterrupt``)."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from kraken_proto import SessionConfig
from kraken_proto.adapters import OutcomeUnknownError
from kraken_proto.adapters.runners import _common, asyncio_runner, blocking, trio_runner
from kraken_proto.adapters.transport._ws import WebSocketSession

from tests.adapters.test_session_runners import (
    LIMIT,
    OPEN,
    RUN,
    RUNNERS,
    Calls,
    _urls,
    drive,
    exchange,
    simulator,
)

RUNNER_MODULES = (_common, blocking, trio_runner, asyncio_runner)


def _wall_steps_back(monkeypatch: pytest.MonkeyPatch, by: float) -> Callable[[], None]:
    """``time.time`` as the runners see it: real until the returned function is called, then
    ``by`` seconds behind. (The simulator, in this process, keeps the real clock.)"""
    stepped = {"back": 0.0}
    fake = types.SimpleNamespace(
        time=lambda: time.time() - stepped["back"],
        monotonic=time.monotonic,
        sleep=time.sleep,
    )
    for module in RUNNER_MODULES:
        monkeypatch.setattr(module, "time", fake)

    def step() -> None:
        stepped["back"] = by

    return step


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_a_wall_clock_step_back_does_not_delay_an_order_timeout(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = _wall_steps_back(monkeypatch, 1000.0)
    with exchange(seed=71) as (sim, urls, credentials):

        async def scenario(session: Calls) -> float:
            await session.subscribe("openOrders")
            await session.until(lambda: session.state.value == "live")
            sids = await session.sim_sessions(sim)
            await session.off_loop(sim.set_fault, "reply-delay=30", session=sids[-1])
            step()
            started = time.monotonic()
            with pytest.raises(OutcomeUnknownError, match=r"within 2 s"):
                await session.add_order(LIMIT, timeout=2)
            return time.monotonic() - started

        took = drive(kind, OPEN[kind], scenario, credentials, **urls)
    assert took < 4.0


# --- no token in a traceback's locals ---------------------------------------------------------


def _frames_locals(exc: BaseException) -> Iterator[tuple[str, str, str]]:
    """(function, local name, repr) for every local of every frame ``exc`` passed through,
    but this module's own (the test and its stand-ins hold the token on purpose)."""
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename == __file__:
            tb = tb.tb_next
            continue
        for name, value in frame.f_locals.items():
            try:
                text = repr(value)
            except Exception as error:  # a half-built object: its repr failed, so it shows nothing
                text = f"<repr failed: {error!r}>"
            yield frame.f_code.co_name, name, text
        tb = tb.tb_next


def _assert_no_token(exc: BaseException, token: str) -> None:
    assert len(token) >= 20
    leaks = [(f, n) for f, n, text in _frames_locals(exc) if token in text]
    assert leaks == [], f"the token shows in these frames' locals: {leaks}"


class Boom(RuntimeError):
    pass


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_no_token_in_the_locals_when_a_send_fails(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    original = WebSocketSession.send_text

    def send_text(self: WebSocketSession, text: str) -> bytes:
        sent.append(str(text))
        data = original(self, text)
        if '"token"' in text:
            raise Boom("the send failed")
        return data

    monkeypatch.setattr(WebSocketSession, "send_text", send_text)
    with exchange(seed=72) as (_sim, urls, credentials):

        async def scenario(session: Calls) -> None:
            await session.subscribe("openOrders")
            await session.until(lambda: False, timeout=10)

        with pytest.raises(Boom) as info:
            drive(kind, OPEN[kind], scenario, credentials, **urls)
    (token,) = {m for text in sent for m in re.findall(r'"token":\s*"([^"]+)"', text)}
    frames = {f for f, _n, _t in _frames_locals(info.value)}
    assert "_do" in frames  # the runner's send path is in the traceback
    _assert_no_token(info.value, token)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_no_token_in_the_locals_when_the_token_answer_fails_to_parse(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kraken_proto.session import _lifecycle

    bodies: list[bytes] = []
    original = _lifecycle.parse_token_response  # type: ignore[attr-defined]

    def parse(*args: Any) -> Any:
        bodies.append(bytes(args[1]))
        original(*args)
        raise Boom("parsing failed")

    monkeypatch.setattr(_lifecycle, "parse_token_response", parse)
    with exchange(seed=73) as (_sim, urls, credentials):

        async def scenario(session: Calls) -> None:
            await session.until(lambda: False, timeout=10)

        with pytest.raises(Boom) as info:
            drive(kind, OPEN[kind], scenario, credentials, **urls)
    (token,) = re.findall(rb'"token":\s*"([^"]+)"', bodies[0])
    frames = {f for f, _n, _t in _frames_locals(info.value)}
    assert "rest_response" in frames
    _assert_no_token(info.value, token.decode())


# --- the async runners' errors -----------------------------------------------------------------


@contextmanager
def silent_server() -> Iterator[str]:
    """An ``http://`` URL whose server accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for sock in held:
            sock.close()
        server.close()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_a_rest_timeout_reason_names_the_call_and_the_timeout(kind: str) -> None:
    with simulator(seed=74) as (sim, context, fake), silent_server() as rest_url:

        async def scenario(session: Calls) -> None:
            await session.until(lambda: any(i[0] == "rest_failed" for i in fake.inputs), 10)

        urls = {**_urls(sim, context), "rest_url": rest_url}
        drive(kind, RUN[kind], scenario, fake, **urls, http_timeout=0.3)
    (reason,) = [i[2] for i in fake.inputs if i[0] == "rest_failed"]
    assert reason.startswith("TimeoutError: ")
    assert "GetWebSocketsToken" in reason
    assert "0.3 s" in reason


def _raised(call: Callable[[], object]) -> BaseException | None:
    """What ``call()`` raised, exactly as raised (a group stays a group)."""
    try:
        call()
    except BaseException as exc:  # KeyboardInterrupt and groups included, on purpose
        return exc
    return None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_a_keyboard_interrupt_in_a_background_task_reaches_the_caller_bare(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    with simulator(seed=75) as (sim, context, fake):
        monkeypatch.setattr(fake, "rest_response", interrupted)

        async def scenario(session: Calls) -> None:
            await session.until(lambda: False, 10)

        caught = _raised(lambda: drive(kind, RUN[kind], scenario, fake, **_urls(sim, context)))
    assert type(caught) is KeyboardInterrupt


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_a_keyboard_interrupt_in_the_block_reaches_the_caller_bare(kind: str) -> None:
    with simulator(seed=76) as (sim, context, fake):

        async def scenario(session: Calls) -> None:
            await session.until(lambda: ("made", 1) in fake.inputs)
            raise KeyboardInterrupt

        caught = _raised(lambda: drive(kind, RUN[kind], scenario, fake, **_urls(sim, context)))
    assert type(caught) is KeyboardInterrupt


def test_bare_picks_the_stop_request_else_the_only_error_else_the_group() -> None:
    from kraken_proto.adapters.runners._bare import bare

    interrupt, error = KeyboardInterrupt(), ValueError("x")
    nested = BaseExceptionGroup("outer", [ValueError("y"), BaseExceptionGroup("in", [interrupt])])
    assert bare(nested) is interrupt
    assert bare(BaseExceptionGroup("one", [error])) is error
    two = BaseExceptionGroup("two", [error, ValueError("z")])
    assert bare(two) is two


# --- the blocking runner's waits keep their timeout while an attempt hangs -------------------


def _latest_events_call(runner: Any, seconds: float) -> float:
    """Call ``events(timeout=0.2)`` for ``seconds``; the longest any call took."""
    worst = 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        list(runner.events(timeout=0.2))
        worst = max(worst, time.monotonic() - started)
    return worst


def _quick_retries() -> SessionConfig:
    return SessionConfig(backoff_initial=0.05, backoff_floor=0.1, backoff_max=0.2)


@pytest.mark.timeout(60)
def test_blocking_events_keep_their_timeout_while_a_rest_call_hangs() -> None:
    with exchange(seed=77) as (_sim, urls, credentials), silent_server() as rest_url:
        urls = {**urls, "rest_url": rest_url}
        options: dict[str, Any] = {"http_timeout": 2.0, "config": _quick_retries()}
        with blocking.open_session(credentials, **urls, **options) as runner:
            assert runner._io.busy or runner.state.value == "waiting"
            worst = _latest_events_call(runner, 3.0)
    assert worst < 0.6, f"events(timeout=0.2) took {worst:.2f} s"


@pytest.mark.timeout(60)
def test_blocking_events_keep_their_timeout_while_a_connect_hangs() -> None:
    with exchange(seed=78) as (_sim, urls, credentials), silent_server() as ws_base:
        urls = {**urls, "ws_url": ws_base.replace("http", "ws")}
        options: dict[str, Any] = {"connect_timeout": 2.0, "config": _quick_retries()}
        with blocking.open_session(credentials, **urls, **options) as runner:
            worst = _latest_events_call(runner, 3.0)
            assert runner.session.connection_attempts >= 2
    assert worst < 0.6, f"events(timeout=0.2) took {worst:.2f} s"
