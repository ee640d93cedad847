"""``kraken-proto simulator``: serve a local Kraken v1 private endpoint until SIGINT/SIGTERM.

The first line on stdout is one JSON object with ``rest_url``, ``ws_url``, ``api_key``,
``api_secret`` (and ``ca_file`` with ``--tls``) so a script can start the simulator and read
where to connect. The credentials are throw-away values derived from ``--seed``; printing them
is the point.

``--replay FILE`` serves a recorded session (JSON lines, see ``_replay``) to the first client
that subscribes. ``--max-message-size`` and ``--handshake-timeout`` set the per-connection
bounds (``_bounds``). ``kraken-proto simulator-ctl --url REST_URL ...`` drives the running
server (``ctl``).
"""

from __future__ import annotations

import argparse
import functools
import json
import signal
import sys
from decimal import Decimal, InvalidOperation

import trio
from kraken_proto.adapters.simulator.model._pairs import kraken_pairs
from kraken_proto.adapters.simulator.model.exchange import Faults, SimulatorConfig

from ._bounds import DEFAULT_LIMITS, ServerLimits
from ._faultspec import FAULT_FORMS, REST_FAULTS, FaultSpecError, apply_fault, parse_fault
from ._replay import ReplayFormatError, ReplayScript, load_replay
from .server import make_config, open_simulator

__all__ = ["configure", "run"]

_STATUSES = ("online", "maintenance", "cancel_only", "post_only")
_PAIR_NAMES = ", ".join(kraken_pairs())
_FAULT_HELP = f"fault applied to every new WebSocket session (repeatable): {FAULT_FORMS}"


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the subcommand's options on ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default 0: any free)")
    parser.add_argument(
        "--tls", action="store_true", help="serve https/wss with a throw-away CA (see ca_file)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for credentials, ids and randomness"
    )
    parser.add_argument(
        "--fault", action="append", default=[], metavar="NAME[=VALUE]", help=_FAULT_HELP
    )
    parser.add_argument(
        "--rest-fault", choices=REST_FAULTS, help="make every token request fail this way"
    )
    parser.add_argument(
        "--price",
        action="append",
        default=[],
        metavar="PAIR=PRICE",
        help="reference (market) price of a pair, e.g. XBT/USD=30000.0 (repeatable)",
    )
    parser.add_argument("--status", choices=_STATUSES, default="online", help="engine status")
    parser.add_argument(
        "--pair",
        action="append",
        default=[],
        metavar="PAIR",
        help=f"trade only these pairs of the table (repeatable; default all: {_PAIR_NAMES})",
    )
    parser.add_argument(
        "--owntrades-userref",
        action="store_true",
        help="put userref/cl_ord_id on ownTrades updates as Kraken's doc says (captured "
        "traffic has neither, the default)",
    )
    parser.add_argument(
        "--replay",
        metavar="FILE",
        help='serve this recorded session (JSON lines of {"t": SECONDS, "frame": ...}) '
        "to the first WebSocket client that subscribes",
    )
    parser.add_argument(
        "--max-message-size",
        type=int,
        default=DEFAULT_LIMITS.max_message_size,
        metavar="BYTES",
        help="largest WebSocket message accepted; bigger ones are closed with code 1009 "
        f"(default {DEFAULT_LIMITS.max_message_size})",
    )
    parser.add_argument(
        "--handshake-timeout",
        type=float,
        default=DEFAULT_LIMITS.handshake_timeout,
        metavar="SECONDS",
        help="drop a connection that has not sent a whole HTTP request (or WebSocket upgrade) "
        f"by then (default {DEFAULT_LIMITS.handshake_timeout:g})",
    )
    parser.add_argument(
        "--max-backlog",
        type=int,
        default=DEFAULT_LIMITS.max_backlog,
        metavar="CHARS",
        help="drop a WebSocket session whose unsent frames pass this size, i.e. a client that "
        f"does not read (default {DEFAULT_LIMITS.max_backlog})",
    )


class _UsageError(Exception):
    """A bad option value; the message is printed to stderr and the exit code is 2."""


def _parse_faults(specs: list[str]) -> Faults:
    faults = Faults()
    for spec in specs:
        try:
            change = parse_fault(spec)
        except FaultSpecError as exc:
            raise _UsageError(f"--fault {spec!r}: {exc}") from None
        if change.rest:
            raise _UsageError(f"--fault {spec!r}: use --rest-fault for the token call's fault")
        apply_fault(faults, change)
    return faults


def _select_pairs(config: SimulatorConfig, names: list[str]) -> None:
    if not names:
        return
    unknown = [name for name in names if name not in config.pairs]
    if unknown:
        raise _UsageError(f"--pair {unknown[0]!r}: unknown pair (known: {_PAIR_NAMES})")
    config.pairs = {name: pair for name, pair in config.pairs.items() if name in names}


def _apply_prices(config: SimulatorConfig, specs: list[str]) -> None:
    for spec in specs:
        pair, _, text = spec.partition("=")
        if pair not in config.pairs:
            known = ", ".join(sorted(config.pairs))
            raise _UsageError(f"--price {spec!r}: unknown pair {pair!r} (known: {known})")
        try:
            price = Decimal(text)
        except InvalidOperation:
            price = Decimal(0)
        if not (price.is_finite() and price > 0):
            raise _UsageError(f"--price {spec!r}: the price must be a positive decimal")
        places = config.pairs[pair].price_decimals
        exponent = price.normalize().as_tuple().exponent  # "30000.10" is one decimal
        if isinstance(exponent, int) and -exponent > places:
            # Kraken's own wording for an order price with too many decimals
            raise _UsageError(
                f"--price {spec!r}: {pair} price can only be specified up to {places} decimals"
            )
        config.pairs[pair].reference_price = price


def _limits(args: argparse.Namespace) -> ServerLimits:
    try:
        return ServerLimits(
            max_message_size=args.max_message_size,
            handshake_timeout=args.handshake_timeout,
            max_backlog=args.max_backlog,
        )
    except ValueError as exc:
        raise _UsageError(f"limits: {exc}") from None


def _replay(path: str | None) -> ReplayScript | None:
    if path is None:
        return None
    try:
        return load_replay(path)
    except OSError as exc:
        raise _UsageError(f"--replay: cannot read {path}: {exc.strerror or exc}") from None
    except ReplayFormatError as exc:
        raise _UsageError(f"--replay: {exc}") from None


async def _serve(
    args: argparse.Namespace,
    config: SimulatorConfig,
    faults: Faults,
    *,
    limits: ServerLimits = DEFAULT_LIMITS,
    replay: ReplayScript | None = None,
) -> None:
    # Listen for signals before announcing the URLs, so a signal sent right after reading
    # the first line is never lost.
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with open_simulator(
            config,
            host=args.host,
            port=args.port,
            tls=args.tls,
            seed=args.seed,
            default_faults=faults,
            rest_fault=args.rest_fault,
            limits=limits,
            replay=replay,
        ) as server:
            announcement: dict[str, str] = {
                "rest_url": server.rest_url,
                "ws_url": server.ws_url,
                "api_key": server.api_key,
                "api_secret": server.api_secret,
            }
            if server.ca_file is not None:
                announcement["ca_file"] = server.ca_file
            print(json.dumps(announcement), flush=True)
            async for _ in signals:
                break


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; return 0, 2 for a bad option value, 1 if binding fails."""
    config = make_config(args.seed)
    config.system_status = args.status
    config.owntrades_userref = args.owntrades_userref
    try:
        faults = _parse_faults(args.fault)
        _select_pairs(config, args.pair)
        _apply_prices(config, args.price)
        limits = _limits(args)
        replay = _replay(args.replay)
    except _UsageError as exc:
        print(f"kraken-proto simulator: {exc}", file=sys.stderr)
        return 2
    try:
        trio.run(functools.partial(_serve, limits=limits, replay=replay), args, config, faults)
    except OSError as exc:  # binding the port is the only I/O before serving starts
        print(
            f"kraken-proto simulator: cannot listen on {args.host}:{args.port}: {exc}",
            file=sys.stderr,
        )
        return 1
    return 0
