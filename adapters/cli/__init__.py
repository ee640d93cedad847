"""The ``kraken-proto`` command: a thin dispatcher over subcommand modules.

Each subcommand lives in its own module exposing ``configure(parser)`` and ``run(args) -> int``;
only the chosen one is imported, so ``kraken-proto sign`` never loads trio.

Two endings are the dispatcher's, for every command: Ctrl-C prints one line and exits 130 (a
trading command that already sent its request says so itself and exits 3), and a reader that
leaves early (``kraken-proto demo | head``) ends the command quietly with exit 0. Neither
prints a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import sys
from collections.abc import Sequence

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("kraken_proto.adapters.demo", "run a scripted trading session against the simulator"),
    "sign": ("kraken_proto.adapters.cli.sign", "print the API-Sign value for a request"),
    "simulator": ("kraken_proto.adapters.simulator.cli", "serve a local Kraken v1 simulator"),
    "simulator-ctl": (
        "kraken_proto.adapters.simulator.ctl",
        "drive a running simulator: price, status, fault, invalidate-tokens, book, trades",
    ),
    "token": ("kraken_proto.adapters.cli.token", "fetch and print a WebSocket session token"),
    "decode": ("kraken_proto.adapters.cli.decode", "decode captured frames into JSON lines"),
    "orders": ("kraken_proto.adapters.cli.orders", "list open (or --closed) orders via REST"),
    "trades": ("kraken_proto.adapters.cli.trades", "list trades via REST"),
    "watch": ("kraken_proto.adapters.cli.watch", "live view of orders and fills (or JSON lines)"),
    "add-order": ("kraken_proto.adapters.cli.add_order", "place an order"),
    "edit-order": ("kraken_proto.adapters.cli.edit_order", "replace an order (new txid)"),
    "amend-order": ("kraken_proto.adapters.cli.amend_order", "change an order in place"),
    "cancel-order": ("kraken_proto.adapters.cli.cancel_order", "cancel orders by id"),
    "cancel-all": ("kraken_proto.adapters.cli.cancel_all", "cancel every open order"),
    "dead-man": ("kraken_proto.adapters.cli.dead_man", "arm (or 0: disarm) the dead man's switch"),
    "fuzz": ("kraken_proto.adapters.cli.fuzz", "fuzz the decoders, connections or REST parsers"),
    "journal": ("kraken_proto.adapters.cli.journal", "show a session journal: intents, fills"),
}


def _usage() -> str:
    lines = ["usage: kraken-proto COMMAND [options]  (or --version)", "", "commands:"]
    lines += [f"  {name:<13} {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    name = args[0]
    if name == "--version":
        from kraken_proto import __version__

        print(f"kraken-proto {__version__}")
        return 0
    if name not in COMMANDS:
        print(f"kraken-proto: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(COMMANDS[name][0])
        parser = argparse.ArgumentParser(prog=f"kraken-proto {name}", description=COMMANDS[name][1])
        module.configure(parser)
        code: int = module.run(parser.parse_args(args[1:]))
    except BaseException as error:
        return _ending(name, error)
    return code


def _ending(name: str, error: BaseException) -> int:
    """The exit code for Ctrl-C (130) or a reader that left (0), said in one line at most;
    anything else is raised again. Both may come wrapped in exception groups (trio's
    nurseries wrap what their tasks raise)."""
    if _only(error, KeyboardInterrupt):
        print(f"kraken-proto {name}: interrupted", file=sys.stderr, flush=True)
        return 130
    if _only(error, BrokenPipeError):
        _quiet_stdout()
        return 0
    raise error


def _only(error: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``error`` is ``kind``, or a group (nested or not) of nothing else."""
    if isinstance(error, BaseExceptionGroup):
        return all(_only(inner, kind) for inner in error.exceptions)
    return isinstance(error, kind)


def _quiet_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush of the buffered
    output does not fail on the closed pipe again."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
