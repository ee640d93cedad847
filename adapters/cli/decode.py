"""``kraken-proto decode [FILE]``: decode captured frames, one per line, into JSON lines.

Reads FILE (or stdin) line by line; each non-blank line is one WebSocket text frame. For each
it prints one JSON object: ``{"event_type": "OwnTrades", ...fields}`` with Decimals as exact
strings, or ``{"error": "...", "line": N}`` when the frame is malformed, and goes on with the
next line. Exit 0 when every line decoded, 1 when any failed, 2 when FILE cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import BinaryIO, TextIO

from kraken_proto import RemoteProtocolError, decode

from ._common import OK, REFUSED, USAGE, CliError, dumps, guarded

__all__ = ["configure", "decode_lines", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the optional FILE argument."""
    parser.add_argument(
        "file",
        nargs="?",
        default=None,
        metavar="FILE",
        help="frames, one per line (default: stdin)",
    )


def decode_lines(lines: Iterable[bytes], out: TextIO) -> int:
    """Decode each non-blank line of ``lines`` and write one JSON line per frame to ``out``.

    Returns the exit code: ``OK`` when every frame decoded, ``REFUSED`` (1) otherwise.
    """
    failed = False
    for number, line in enumerate(lines, start=1):
        frame = line.strip()
        if not frame:
            continue
        try:
            text = dumps(decode(frame))
        except RemoteProtocolError as error:
            failed = True
            text = dumps({"error": str(error), "line": number})
        out.write(text + "\n")
        out.flush()
    return REFUSED if failed else OK


def _decode(args: argparse.Namespace) -> int:
    if args.file is None:
        return decode_lines(sys.stdin.buffer, sys.stdout)
    try:
        stream: BinaryIO = open(args.file, "rb")  # noqa: SIM115 - closed below
    except OSError as error:
        raise CliError(f"cannot read {args.file}: {error.strerror}", USAGE) from None
    with stream:
        return decode_lines(stream, sys.stdout)


def run(args: argparse.Namespace) -> int:
    """Decode FILE (or stdin) to stdout."""
    return guarded("decode", lambda: _decode(args))
