"""``kraken-proto --version``, ``python -m kraken_proto``, ``token`` and ``decode``."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import runpy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kraken_proto import __version__
from kraken_proto.adapters import cli
from kraken_proto.adapters.cli._common import dumps, jsonable
from kraken_proto.adapters.cli.decode import decode_lines
from kraken_proto.adapters.simulator.server import SimulatorThread, run_in_thread

from tests.exponents import has_exponent
from tests.v1.fixtures_v1 import INBOUND

EXAMPLE_SECRET = base64.b64encode(bytes(64)).decode()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorThread]:
    with run_in_thread(seed=11) as server:
        yield server


@pytest.fixture
def sim_env(sim: SimulatorThread, monkeypatch: pytest.MonkeyPatch) -> SimulatorThread:
    monkeypatch.setenv("KRAKEN_API_KEY", sim.api_key)
    monkeypatch.setenv("KRAKEN_API_SECRET", sim.api_secret)
    return sim


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"kraken-proto {__version__}"


def test_python_dash_m_runs_the_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["kraken_proto", "--version"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("kraken_proto", run_name="__main__")
    assert exited.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_python_dash_m_in_a_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kraken_proto", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"kraken-proto {__version__}"


# --- token ---------------------------------------------------------------------------------


def test_token_prints_the_token(
    sim_env: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["token", "--rest-url", sim_env.rest_url]) == 0
    token = capsys.readouterr().out.strip()
    assert len(token) > 10
    assert " " not in token


def test_token_json(sim_env: SimulatorThread, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["token", "--json", "--rest-url", sim_env.rest_url]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"token", "expires"}
    assert document["expires"] == 900


def test_token_refused_by_kraken_exits_1_with_its_message(
    sim: SimulatorThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", "not-a-known-key")
    monkeypatch.setenv("KRAKEN_API_SECRET", EXAMPLE_SECRET)
    assert cli.main(["token", "--rest-url", sim.rest_url]) == 1
    err = capsys.readouterr().err
    assert "EAPI:Invalid key" in err
    assert EXAMPLE_SECRET not in err


def test_token_without_credentials_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KRAKEN_API_KEY", raising=False)
    monkeypatch.delenv("KRAKEN_API_SECRET", raising=False)
    assert cli.main(["token", "--rest-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "KRAKEN_API_KEY" in err
    assert "KRAKEN_API_SECRET" in err


def test_token_bad_url_is_a_usage_error(
    sim_env: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["token", "--rest-url", sim_env.ws_url]) == 2
    assert "expected a http:// or https:// URL" in capsys.readouterr().err


def test_token_unreachable_exchange_names_the_url(
    sim_env: SimulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
        assert cli.main(["token", "--rest-url", url]) == 1
    assert f"cannot talk to {url}" in capsys.readouterr().err


def test_token_with_a_missing_ca_file_is_a_usage_error(
    sim_env: SimulatorThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.pem"
    assert cli.main(["token", "--rest-url", sim_env.rest_url, "--ca-file", str(missing)]) == 2
    assert "--ca-file" in capsys.readouterr().err


def test_token_over_tls_with_ca_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with run_in_thread(tls=True, seed=5) as sim:
        monkeypatch.setenv("KRAKEN_API_KEY", sim.api_key)
        monkeypatch.setenv("KRAKEN_API_SECRET", sim.api_secret)
        assert sim.ca_file is not None
        args = ["token", "--rest-url", sim.rest_url, "--ca-file", sim.ca_file]
        assert cli.main(args) == 0
    assert capsys.readouterr().out.strip()


def test_token_http_error_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with run_in_thread(seed=6, rest_fault="http_500") as sim:
        monkeypatch.setenv("KRAKEN_API_KEY", sim.api_key)
        monkeypatch.setenv("KRAKEN_API_SECRET", sim.api_secret)
        assert cli.main(["token", "--rest-url", sim.rest_url]) == 1
    assert "500" in capsys.readouterr().err


# --- decode --------------------------------------------------------------------------------


def test_decode_every_doc_frame() -> None:
    frames = [frame.encode() + b"\n" for frame, _, _ in INBOUND]
    out = io.StringIO()
    assert decode_lines(frames, out) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == len(INBOUND)
    for line, (_, _, expected) in zip(lines, INBOUND, strict=True):
        document = json.loads(line)
        assert document["event_type"] == type(expected).__name__
        assert not has_exponent(line)  # Decimals in positional notation


def test_decode_goes_on_after_a_malformed_line_and_exits_1() -> None:
    lines = [b'{"event":"heartbeat"}\n', b"\n", b"[1,2\n", b'{"event":"pong","reqid":4}\n']
    out = io.StringIO()
    assert decode_lines(lines, out) == 1
    first, error, last = (json.loads(line) for line in out.getvalue().splitlines())
    assert first == {"event_type": "Heartbeat"}
    assert error["line"] == 3
    assert error["error"]
    assert last == {"event_type": "Pong", "reqid": 4}


def test_decode_keeps_exact_decimals() -> None:
    frame = (
        b'[[{"T1":{"vol":"0.00000000","price":1E+3,"fee":"0.0001000"}}],"ownTrades",{"sequence":2}]'
    )
    out = io.StringIO()
    assert decode_lines([frame], out) == 0
    document = json.loads(out.getvalue())
    assert document == {
        "event_type": "OwnTrades",
        "trades": [{"trade_id": "T1", "price": "1000", "fee": "0.0001000", "vol": "0.00000000"}],
        "sequence": 2,
    }


def test_decode_reads_a_file_and_stdin(tmp_path: Path) -> None:
    path = tmp_path / "frames.txt"
    path.write_bytes(b'{"event":"heartbeat"}\nnot json\n')
    result = subprocess.run(
        [sys.executable, "-m", "kraken_proto", "decode", str(path)],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout.decode().splitlines()[0] == '{"event_type":"Heartbeat"}'
    piped = subprocess.run(
        [sys.executable, "-m", "kraken_proto", "decode"],
        input=b'{"event":"heartbeat"}\n',
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert piped.returncode == 0
    assert piped.stdout == b'{"event_type":"Heartbeat"}\n'


def test_decode_file_from_main_and_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "frames.txt"
    path.write_bytes(b'{"event":"heartbeat"}\n')
    assert cli.main(["decode", str(path)]) == 0
    assert capsys.readouterr().out == '{"event_type":"Heartbeat"}\n'
    assert cli.main(["decode", str(tmp_path / "missing.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_decode_stdin_in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class FakeStdin:
        buffer = io.BytesIO(b'{"event":"heartbeat"}\n')

    monkeypatch.setattr(sys, "stdin", FakeStdin())
    assert cli.main(["decode"]) == 0
    assert capsys.readouterr().out == '{"event_type":"Heartbeat"}\n'


def test_jsonable_shapes() -> None:
    import enum
    from decimal import Decimal

    from kraken_proto import AddOrder

    class Color(enum.Enum):
        RED = "red"

    order = AddOrder(
        ordertype="limit",
        type="buy",
        pair="XBT/USD",
        volume=Decimal("1E-8"),
        price=Decimal("100"),
        oflags=frozenset({"post", "fciq"}),
    )
    document = jsonable(order)
    assert document["request"] == "addOrder"
    assert document["volume"] == "0.00000001"
    assert document["oflags"] == ["fciq", "post"]
    assert jsonable(Color.RED) == "red"
    assert jsonable({"a": (1, [2.5])}) == {"a": [1, [2.5]]}
    assert jsonable(object).startswith("<class")
    assert dumps({"x": Decimal("0E-8")}) == '{"x":"0.00000000"}'


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_every_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([name, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert f"kraken-proto {name}" in text


REST_COMMANDS = ["token", "orders", "trades"]
NETWORK_COMMANDS = [
    "token",
    "orders",
    "trades",
    "watch",
    "add-order",
    "edit-order",
    "amend-order",
    "cancel-order",
    "cancel-all",
    "dead-man",
]


@pytest.mark.parametrize("name", NETWORK_COMMANDS)
def test_every_network_command_takes_the_urls_and_a_ca_file(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        cli.main([name, "--help"])
    text = capsys.readouterr().out
    # The REST commands accept --ws-url (one set of URL options for every command) but do not
    # show it: they never open a WebSocket.
    shown = ("--rest-url", "--ca-file") if name in REST_COMMANDS else ("--rest-url", "--ws-url")
    for option in (*shown, "--ca-file"):
        assert option in text
    assert "--api-secret" not in text  # credentials never come from arguments
    if name in REST_COMMANDS:  # --ws-url accepted (the bad URL or missing key stops it)
        assert cli.main([name, "--ws-url", "ws://127.0.0.1:1", "--rest-url", "nope"]) == 2
        assert "unrecognized arguments" not in capsys.readouterr().err


def test_decode_never_prints_a_token() -> None:
    token = "WW91ciBhdXRoZW50aWNhdGlvbiB0b2tlbiBnb2VzIGhlcmUu"
    frames = [
        f'{{"event":"subscribe","subscription":{{"name":"ownTrades","token":"{token}"}}}}'.encode(),
        f'{{"error":[],"result":{{"token":"{token}","expires":900}}}}'.encode(),
    ]
    out = io.StringIO()
    assert decode_lines(frames, out) == 0
    assert token not in out.getvalue()
    assert out.getvalue().count('"token":"<redacted>"') == 2


def test_a_reader_that_leaves_early_is_no_error() -> None:
    # `kraken-proto decode big.txt | head -1`: once head exits, writes fail with EPIPE.
    process = subprocess.Popen(
        [sys.executable, "-m", "kraken_proto", "decode"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdin.write(b'{"event":"heartbeat"}\n')
    process.stdin.flush()
    assert process.stdout.readline() == b'{"event_type":"Heartbeat"}\n'
    process.stdout.close()  # the reader leaves
    with contextlib.suppress(BrokenPipeError):  # it may already have ended
        process.stdin.write(b'{"event":"heartbeat"}\n' * 20000)
    with contextlib.suppress(BrokenPipeError):
        process.stdin.close()
    assert process.wait(timeout=30) == 0
    assert process.stderr.read() == b""
    process.stderr.close()
