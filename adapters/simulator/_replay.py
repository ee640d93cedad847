"""Replay mode: serve a recorded session's frames, with their timing, to one client.

The file is JSON lines, one object per line (blank lines are skipped)::

    {"t": 0.0, "frame": "{\\"channelName\\":\\"openOrders\\",\\"event\\":\\"subscriptionStatus\\"}"}
    {"t": 0.25, "frame": [[{"OABC-...": {"status": "open"}}], "openOrders", {"sequence": 2}]}
    {"t": 0.30, "from": "client", "frame": {"event": "ping"}}

* ``t``: seconds (any origin, e.g. unix time from a capture); non-decreasing down the file.
  The first replayed frame goes out as soon as the replay starts, each next one
  ``t - t_first`` seconds after that.
* ``frame``: a JSON string is sent byte for byte as the text frame; any other JSON value is
  re-encoded compactly (key order and number digits kept, whitespace dropped).
* ``from``: ``"server"`` (default) or ``"client"``. Client lines are skipped, so a capture of
  both directions can be replayed as it is.

This module is pure: parsing and the schedule. The server does the sending.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

__all__ = ["ReplayFormatError", "ReplayFrame", "ReplayScript", "load_replay", "parse_replay"]

_KEYS = frozenset({"t", "frame", "from"})
_MAX_TIME = Decimal("1e15")  # unix time in seconds for the next 30 million years


class ReplayFormatError(ValueError):
    """A replay file that does not follow the format; the message names the line."""


@dataclass(frozen=True)
class ReplayFrame:
    """One frame to send ``delay`` seconds after the replay starts."""

    delay: float
    text: str


@dataclass(frozen=True)
class ReplayScript:
    """A parsed replay file: the server's frames in order, with their delays."""

    frames: tuple[ReplayFrame, ...]

    @property
    def duration(self) -> float:
        """Seconds from the first frame to the last (0 for an empty script)."""
        return self.frames[-1].delay if self.frames else 0.0


def _encode(value: object) -> str:
    """Compact JSON, numbers written as parsed (``Decimal`` keeps the digits sent)."""
    if isinstance(value, dict):
        items = ",".join(f"{json.dumps(key)}:{_encode(item)}" for key, item in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _time(value: object, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ReplayFormatError(f"{where}: 't' must be a number of seconds")
    seconds = Decimal(value)
    if not abs(seconds) < _MAX_TIME:
        raise ReplayFormatError(f"{where}: 't' is out of range (|t| < 1e15)")
    return seconds


def parse_replay(text: str, *, source: str = "replay") -> ReplayScript:
    """Parse a replay file's text; raise ``ReplayFormatError`` naming the first bad line."""
    frames: list[ReplayFrame] = []
    # Decimal until the subtraction, so unix-time stamps keep their sub-millisecond gaps.
    first: Decimal | None = None
    previous = Decimal("-Infinity")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            record = json.loads(line, parse_float=Decimal, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            raise ReplayFormatError(f"{where}: not a JSON object") from None
        if not isinstance(record, dict):
            raise ReplayFormatError(f"{where}: not a JSON object")
        unknown = sorted(set(record) - _KEYS)
        if unknown:
            raise ReplayFormatError(f"{where}: unknown key(s) {unknown}; expected t, frame, from")
        if "t" not in record or "frame" not in record:
            raise ReplayFormatError(f"{where}: needs both 't' and 'frame'")
        seconds = _time(record["t"], where)
        if seconds < previous:
            raise ReplayFormatError(f"{where}: 't' goes back in time ({seconds} < {previous})")
        previous = seconds
        direction = record.get("from", "server")
        if direction not in ("server", "client"):
            raise ReplayFormatError(f'{where}: \'from\' must be "server" or "client"')
        if direction == "client":
            continue
        frame = record["frame"]
        if first is None:
            first = seconds
        text = frame if isinstance(frame, str) else _encode(frame)
        frames.append(ReplayFrame(float(seconds - first), text))
    return ReplayScript(tuple(frames))


def load_replay(path: str | Path) -> ReplayScript:
    """Read and parse a replay file (UTF-8). Raises ``OSError`` or ``ReplayFormatError``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ReplayFormatError(f"{path}: not UTF-8 text") from None
    return parse_replay(text, source=str(path))
