"""What the ``kraken-proto`` subcommands share: exit codes, options, credentials, JSON output.

Exit codes (every subcommand): ``OK`` (0) success; ``REFUSED`` (1) Kraken (or the simulator)
said no, or the exchange could not be reached, with the reason on stderr; ``USAGE`` (2) a bad
option or a missing ``KRAKEN_API_KEY``/``KRAKEN_API_SECRET``; ``UNKNOWN`` (3) a trading
request whose outcome stayed unknown (it may or may not have been placed: look before you
send it again), also when Ctrl-C stops a command after its request went out;
``INTERRUPTED`` (130) Ctrl-C anywhere else.

Credentials come only from the environment, never from arguments, so they stay out of shell
history and process listings. The URLs may come from the environment too (``ENVIRONMENT``);
every command names the variables it reads in its ``--help``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import enum
import json
import os
import re
import ssl
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, TextIO
from urllib.parse import urlsplit

import msgspec
from kraken_proto import (
    Credentials,
    CredentialsError,
    Event,
    LocalProtocolError,
    ProtocolError,
    SessionEvent,
)
from kraken_proto.adapters.runners._link import choose_protocol
from kraken_proto.adapters.transport.tokens import KRAKEN_REST_URL, KRAKEN_WS_URL
from kraken_proto.rest._signing import API_KEY_ENV, API_SECRET_ENV
from kraken_proto.v1 import OpenOrders, OwnTrades

__all__ = [
    "ENVIRONMENT",
    "INTERRUPTED",
    "OK",
    "REFUSED",
    "REST_URL_ENV",
    "UNKNOWN",
    "USAGE",
    "WS_URL_ENV",
    "WS_V2_URL_ENV",
    "CliError",
    "add_network_options",
    "describe_environment",
    "cell",
    "credentials_from_env",
    "decimal_text",
    "dumps",
    "jsonable",
    "guarded",
    "print_json",
    "print_table",
    "reaching",
    "since_option",
    "unix_time_text",
    "ssl_context_for",
    "url_option",
]

OK: Final = 0
REFUSED: Final = 1
USAGE: Final = 2
UNKNOWN: Final = 3
INTERRUPTED: Final = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


class CliError(Exception):
    """Ends a subcommand: ``message`` goes to stderr, ``code`` becomes the exit code."""

    def __init__(self, message: str, code: int = REFUSED) -> None:
        super().__init__(message)
        self.code = code


REST_URL_ENV: Final = "KRAKEN_REST_URL"
WS_URL_ENV: Final = "KRAKEN_WS_URL"
WS_V2_URL_ENV: Final = "KRAKEN_WS_V2_URL"
ENVIRONMENT: Final[dict[str, str]] = {
    API_KEY_ENV: "your API key (required)",
    API_SECRET_ENV: "your API secret, as Kraken shows it (base64; required)",
    REST_URL_ENV: f"the REST URL when --rest-url is not given (default {KRAKEN_REST_URL})",
    WS_URL_ENV: f"the WebSocket URL when --ws-url is not given (default {KRAKEN_WS_URL})",
    WS_V2_URL_ENV: "the WebSocket URL with --protocol v2 when --ws-url is not given "
    f"(default ${WS_URL_ENV} or {KRAKEN_WS_URL}, with /v2 appended)",
}
"""Every environment variable the commands read, with what it is for (shown in ``--help``)."""


def describe_environment(parser: argparse.ArgumentParser, *names: str) -> None:
    """Name the environment variables ``names`` (keys of ``ENVIRONMENT``, or already in the
    parser's epilog) in the command's ``--help``, after the options."""
    lines = ["environment:"]
    for name in names:
        lines += textwrap.wrap(
            ENVIRONMENT[name],
            width=79,
            initial_indent=f"  {name:<19} ",
            subsequent_indent=" " * 22,
            break_on_hyphens=False,
        )
    parser.epilog = "\n".join(lines)
    # Keep the list's line breaks (argparse reflows an epilog by default).
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def add_network_options(parser: argparse.ArgumentParser, *, websocket: bool = True) -> None:
    """Declare ``--rest-url``, ``--ws-url``, ``--protocol`` and ``--ca-file``, and name the
    variables behind them and the credentials in ``--help``.

    ``websocket=False`` (the REST-only commands): ``--ws-url`` and ``--protocol`` are still
    accepted, so one set of URL options works for every command, but not shown.
    """
    group = parser.add_argument_group("exchange")
    group.add_argument(
        "--rest-url",
        default=None,
        metavar="URL",
        help=f"REST API base URL (default ${REST_URL_ENV}, else {KRAKEN_REST_URL}; the "
        "simulator prints its own)",
    )
    group.add_argument(
        "--ws-url",
        default=None,
        metavar="URL",
        help=f"private WebSocket URL (default ${WS_URL_ENV}, else {KRAKEN_WS_URL}; with "
        f"--protocol v2, ${WS_V2_URL_ENV} first)"
        if websocket
        else argparse.SUPPRESS,
    )
    group.add_argument(
        "--protocol",
        choices=("v1", "v2"),
        default=None,
        help="WebSocket API version (default: v2 when the WebSocket URL ends in /v2, else v1; "
        "v2 appends /v2 to a URL without it)"
        if websocket
        else argparse.SUPPRESS,
    )
    group.add_argument(
        "--ca-file",
        default=None,
        metavar="PATH",
        help="trust the CA certificates in PATH (e.g. `kraken-proto simulator --tls`'s ca_file)",
    )
    urls = (REST_URL_ENV, WS_URL_ENV, WS_V2_URL_ENV) if websocket else (REST_URL_ENV,)
    describe_environment(parser, API_KEY_ENV, API_SECRET_ENV, *urls)


def _url_setting(args: argparse.Namespace, name: str) -> tuple[str, str]:
    """(URL, where it came from) for ``rest_url`` or ``ws_url``: the option, else the
    environment, else Kraken's own URL."""
    given: str | None = getattr(args, name, None)
    if given is not None:
        return given, "--" + name.replace("_", "-")
    if name == "rest_url":
        variables, default = [REST_URL_ENV], KRAKEN_REST_URL
    else:
        variables, default = [WS_URL_ENV], KRAKEN_WS_URL
        if getattr(args, "protocol", None) == "v2":
            variables.insert(0, WS_V2_URL_ENV)
    for variable in variables:
        value = os.environ.get(variable, "").strip()
        if value:
            return value, f"${variable}"
    return default, "the default"


def url_option(args: argparse.Namespace, name: str) -> str:
    """The REST URL (``name="rest_url"``) or the WebSocket URL (``"ws_url"``) to use, from the
    option, else the environment (``KRAKEN_REST_URL``; ``KRAKEN_WS_V2_URL`` with ``--protocol
    v2``, then ``KRAKEN_WS_URL``), else Kraken's; checked: a REST URL must be http(s)://, a
    WebSocket URL ws(s)://, both with a host (else exit 2, naming where the URL came from)."""
    url, source = _url_setting(args, name)
    schemes = ("ws", "wss") if name == "ws_url" else ("http", "https")
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        expected = " or ".join(f"{scheme}://" for scheme in schemes)
        raise CliError(f"{source} {url!r}: expected a {expected} URL", USAGE)
    return url


def protocol_option(args: argparse.Namespace, ws_url: str) -> str | None:
    """``--protocol`` (None: implied by ``ws_url``), checked against ``ws_url`` (exit 2)."""
    protocol: str | None = getattr(args, "protocol", None)
    try:
        choose_protocol(ws_url, None, protocol)
    except LocalProtocolError as error:
        raise CliError(f"--protocol: {error}", USAGE) from None
    return protocol


def ssl_context_for(args: argparse.Namespace) -> ssl.SSLContext | None:
    """The TLS context for ``--ca-file`` (``None``: the system's trust store)."""
    ca_file: str | None = args.ca_file
    if ca_file is None:
        return None
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as error:
        raise CliError(f"--ca-file {ca_file}: cannot load it ({error})", USAGE) from None


def credentials_from_env() -> Credentials:
    """``Credentials.from_env()``; a missing or bad variable is a usage error (exit 2)."""
    try:
        return Credentials.from_env()
    except CredentialsError as error:  # messages never show the secret
        raise CliError(str(error), USAGE) from None


def decimal_text(value: Decimal) -> str:
    """Exact digits in positional notation: ``Decimal("0E-8")`` -> ``"0.00000000"``."""
    return format(value, "f")


def _is_record_pairs(value: object) -> bool:
    return isinstance(value, OwnTrades | OpenOrders)


def jsonable(value: Any) -> Any:
    """``value`` as JSON-ready builtins: structs and dataclasses become objects (fields that
    are ``None`` are left out; an ``Event`` or ``SessionEvent`` gets ``"event_type"``: its
    class name), Decimals
    exact strings, enums their value, frozensets sorted lists. ``OwnTrades``/``OpenOrders``
    list their entries as objects that start with ``trade_id``/``txid``. The value of any
    ``"token"`` key is replaced by ``"<redacted>"``."""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, msgspec.Struct) or dataclasses.is_dataclass(value):
        return _object(value)
    if isinstance(value, Mapping):
        # Captured client frames (a subscribe) and REST bodies can hold a session token; it
        # never reaches our output, which ends up in terminals and logs.
        return {
            str(key): _REDACTED if key == "token" else jsonable(item) for key, item in value.items()
        }
    if isinstance(value, frozenset | set):
        return sorted(jsonable(item) for item in value)
    if isinstance(value, tuple | list):
        return [jsonable(item) for item in value]
    return str(value)


_REDACTED = "<redacted>"


def _fields(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, msgspec.Struct):
        return [(name, getattr(value, name)) for name in value.__struct_fields__]
    return [(field.name, getattr(value, field.name)) for field in dataclasses.fields(value)]


def _object(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(value, Event | SessionEvent):
        out["event_type"] = type(value).__name__
    request_event = getattr(type(value), "event", None)
    if isinstance(request_event, str) and not isinstance(value, Event):
        out["request"] = request_event  # a Request: name its wire event
    for name, item in _fields(value):
        if item is None:
            continue
        if _is_record_pairs(value) and name in ("trades", "orders"):
            key = "trade_id" if name == "trades" else "txid"
            out[name] = [{key: entry_id, **_object(record)} for entry_id, record in item]
        else:
            out[name] = jsonable(item)
    return out


_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TXID = re.compile(r"[A-Z0-9]{6}-[A-Z0-9]{5}-[A-Z0-9]{6}")
_UNIX = re.compile(r"\d+(?:\.\d+)?")


def since_option(text: str, now: float) -> Decimal | str:
    """A ``--since`` value as Kraken takes it: unix seconds (``1700000000``), an ISO 8601
    time (``2026-12-01T19:00:00``, UTC unless it says otherwise), an age (``30m``, ``2h``,
    ``7d``, ``1w``) or a trade/order txid (passed through). Anything else: exit 2."""
    text = text.strip()
    if _TXID.fullmatch(text):
        return text
    if _UNIX.fullmatch(text):
        return Decimal(text)
    relative = _RELATIVE.fullmatch(text)
    if relative:
        seconds = Decimal(relative[1]) * _UNITS[relative[2]]
        return max(Decimal(int(now)) - seconds, Decimal(0))
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(
            f"--since {text!r}: expected unix seconds, an ISO time (2026-12-01T19:00:00), "
            "an age (30m, 2h, 7d) or a txid",
            USAGE,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return Decimal(int(moment.timestamp()))


def unix_time_text(value: Decimal | None) -> str:
    """Unix seconds as ``YYYY-MM-DD HH:MM:SS`` UTC for tables (``-`` for none or zero)."""
    if value is None or value == 0:
        return "-"
    moment = datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def cell(value: object) -> str:
    """A table cell: Decimals in positional notation, ``None`` as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return decimal_text(value)
    return str(value)


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], out: TextIO | None = None
) -> None:
    """Print ``rows`` under ``headers`` in aligned columns (text columns left, others right)."""
    stream = sys.stdout if out is None else out
    texts = [[cell(value) for value in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in texts:
        widths = [max(width, len(text)) for width, text in zip(widths, row, strict=True)]
    numeric = [
        bool(rows) and all(isinstance(row[index], Decimal | int) for row in rows)
        for index in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    stream.write(line(headers) + "\n")
    for row in texts:
        stream.write(line(row) + "\n")
    stream.flush()


def dumps(value: Any) -> str:
    """One compact JSON line for ``value`` (see ``jsonable``)."""
    return json.dumps(jsonable(value), separators=(",", ":"), ensure_ascii=False)


def print_json(value: Any, out: TextIO | None = None) -> None:
    """Write ``dumps(value)`` as one line and flush (the reader may be a pipe)."""
    stream = sys.stdout if out is None else out
    stream.write(dumps(value) + "\n")
    stream.flush()


@contextlib.contextmanager
def reaching(url: str) -> Iterator[None]:
    """Turn an ``OSError`` inside the block into ``CliError("cannot talk to URL: ...")``."""
    try:
        yield
    except BrokenPipeError:
        raise  # our stdout's reader left (`| head`); ``guarded`` ends quietly
    except OSError as error:  # refused, unreachable, TLS failure, closed WebSocket
        detail = error.strerror or str(error) or type(error).__name__
        raise CliError(f"cannot talk to {url}: {detail}") from None


def guarded(name: str, body: Callable[[], int]) -> int:
    """Run ``body`` and map what it raises to a message on stderr and an exit code.

    ``CliError``: its code. ``LocalProtocolError`` (a request or option Kraken would refuse
    before it is sent): 2. Any other ``ProtocolError`` (Kraken's refusal of the token call, a
    broken response): 1. ``OSError``: 1. Messages never show secrets: the library's own
    errors redact them.
    """
    try:
        return body()
    except BrokenPipeError:
        # The reader left early (`kraken-proto watch | head`): not an error. Point stdout at
        # devnull so the interpreter's final flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return OK
    except CliError as error:
        code, message = error.code, str(error)
    except LocalProtocolError as error:
        code, message = USAGE, str(error)
    except ProtocolError as error:
        code, message = REFUSED, str(error)
    except OSError as error:
        code, message = REFUSED, str(error) or type(error).__name__
    print(f"kraken-proto {name}: {message}", file=sys.stderr, flush=True)
    return code
