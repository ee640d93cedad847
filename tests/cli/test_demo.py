"""The demo tells the same story on every run and with either adapter, and fails loudly."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
import trio
from kraken_proto.adapters import demo
from kraken_proto.adapters.cli import main
from kraken_proto.v1 import RequestCompleted

from tests.exponents import has_exponent


def run_trio(seed: int = 7) -> tuple[int, str]:
    out = io.StringIO()
    code = trio.run(lambda: demo.run_demo(out, seed=seed))
    return code, out.getvalue()


def test_the_demo_prints_the_same_story_twice() -> None:
    code, first = run_trio()
    again, second = run_trio()
    assert code == again == 0
    assert first == second
    assert "demo OK" in first


def test_the_blocking_adapter_tells_the_same_story() -> None:
    _, story = run_trio(seed=3)
    out = io.StringIO()
    assert demo.run_demo_blocking(out, seed=3) == 0
    blocking = out.getvalue()
    assert "adapter: blocking" in blocking
    assert blocking.splitlines()[1:] == story.splitlines()[1:]


def test_every_order_line_shows_side_type_price_and_volume() -> None:
    _, story = run_trio()
    order_lines = [line for line in story.splitlines() if line.startswith("  order  ")]
    assert order_lines
    shape = re.compile(
        r"  order  O\S+ \w+ (buy|sell) (limit|market) \d+\.\d+ XBT/USD( @ \d+\.\d+)?"
        r"( \(executed \d+\.\d+\))?"
    )
    for line in order_lines:
        assert shape.fullmatch(line), line
        if " limit " in line:
            assert " @ " in line, line
    assert not has_exponent(story)


def test_the_amend_shows_old_and_new_price_and_events_stay_in_their_step() -> None:
    _, story = run_trio()
    steps = story.split("\n\n")
    amend = next(step for step in steps if step.startswith("2. amend"))
    assert re.search(r"amended \S+: price 29500\.0+ -> 29400\.0+, volume 0\.5", amend)
    assert "AmendOrderStatus ok" in amend
    market = next(step for step in steps if step.startswith("3. market buy"))
    assert "closed buy market" in market
    assert "  fill   " in market
    falls = next(step for step in steps if step.startswith("4. the market falls"))
    assert "closed buy limit 0.75000000" in falls
    assert "  fill   " in falls
    assert "Try next" in story
    assert "simulator-ctl" in story
    assert "kraken-proto watch" in story


def test_a_step_that_never_completes_fails_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "STEP_TIMEOUT", 0.0)
    out = io.StringIO()
    story = demo._Story(out)
    steps = story.until("the impossible", lambda: False)
    assert isinstance(next(steps), demo.Poll)
    with pytest.raises(demo.DemoFailed, match="timed out waiting for the impossible"):
        steps.send(([], 100.0))


def test_a_refused_request_fails_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    real_script = demo.script

    def broken_script(story: Any, market: Decimal) -> Any:
        yield from real_script(story, market * 1000)  # a sell far above: insufficient funds

    monkeypatch.setattr(demo, "script", broken_script)
    code, story = run_trio()
    assert code == 1
    assert "demo FAILED" in story
    out = io.StringIO()
    assert demo.run_demo_blocking(out) == 1
    assert "demo FAILED" in out.getvalue()


def test_txid_is_required_in_the_reply() -> None:
    from kraken_proto.v1 import Ping, Pong

    outcome = RequestCompleted(reqid=1, request=Ping(), replies=(Pong(reqid=1),))
    with pytest.raises(demo.DemoFailed, match="no txid"):
        demo._txid(outcome)
    story = demo._Story(io.StringIO())
    with pytest.raises(demo.DemoFailed, match="not in the table"):
        story.order("OMISSING")


def test_demo_command_line_with_the_blocking_adapter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--adapter", "blocking", "--seed", "5"]) == 0
    assert "adapter: blocking" in capsys.readouterr().out


def test_demo_from_a_fresh_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kraken_proto", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo OK" in result.stdout
