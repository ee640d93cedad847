"""One API key's nonces and REST call budget, shared by every process on the machine.

Kraken keeps one nonce high-water mark and one REST call counter per API key. Two processes
(or two sessions) on one key that each kept their own would, sooner or later, send a nonce
below one the other already used, or together overrun the counter. ``SharedNonceSource`` and
``SharedRestCallCounter`` keep both in one small state file per key, in a directory beside
the journals, read and rewritten under an exclusive ``flock`` of a lock file next to it.

* The file is named by a hash of the API key (``key-<32 hex>.json``), never the key itself,
  and holds no secret: a format number, the nonce high-water mark and its units, the counter's
  level and when it was measured.
* Each change is written to a temporary file, fsynced, renamed over the state file, and the
  directory fsynced, all before the lock is released: a nonce is durable before it is handed
  out, so neither a restart (even with the clock stepped back) nor another process ever draws
  one that is not greater than every nonce drawn before on that key.
* Both are drop-in subclasses of ``NonceSource``/``RestCallCounter`` (the same calls,
  contracts and errors), so a ``Session`` takes them as they are.

Nonces are *drawn* in increasing order; Kraken checks them in the order requests *arrive*,
and two requests sent at the same moment over two connections may overtake each other. So a
``SharedNonceSource`` also hands out the key's *turn to send* (``acquire``/``release``, an
``flock`` of ``key-<hash>.turn``, never waited for): the session takes it before drawing a
nonce and gives it back once the request has its answer, so one request per key is out at a
time across all processes, and none can be overtaken. Kraken's call counter already spaces a
key's REST calls far wider than one round trip, so this costs little; a request that hangs
holds the turn until the session's HTTP timeout. A process that dies releases it with its
descriptors. (Signers that draw with ``next`` alone, without the turn, are not ordered.)
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from kraken_proto import LocalProtocolError
from kraken_proto.rest import NonceSource, RestCallCounter

from ._lock import open_lock_file

__all__ = [
    "SharedNonceSource",
    "SharedRestCallCounter",
    "SharedStateError",
    "key_state_path",
]

_FORMAT: Final = 1
_MAX_NONCE: Final = 2**64 - 1
_DOMAIN: Final = b"kraken_proto shared key state\x00"


class SharedStateError(OSError):
    """A key's shared state file cannot be used: unreadable, damaged, or of another format.

    Never repaired silently: starting the nonce over could reuse one.
    """


def key_state_path(directory: str | os.PathLike[str], api_key: str) -> Path:
    """The state file of ``api_key`` in ``directory``: named by a SHA-256 of the key."""
    if not isinstance(api_key, str) or not api_key:
        raise LocalProtocolError("api_key: must be a non-empty str")
    digest = hashlib.sha256(_DOMAIN + api_key.encode()).hexdigest()[:32]
    return Path(directory) / f"key-{digest}.json"


class _SharedState:
    """The state file of one key and the lock that guards it (one descriptor per object)."""

    __slots__ = ("_fd", "_held", "lock_path", "path")

    def __init__(self, directory: str | os.PathLike[str], api_key: str) -> None:
        self.path = key_state_path(directory, api_key)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.lock_path = self.path.with_suffix(".lock")
        self._fd: int | None = open_lock_file(self.lock_path)
        self._held: dict[str, Any] | None = None

    @contextmanager
    def locked(self) -> Iterator[dict[str, Any]]:
        """Hold the lock; yield the state to read and change; write it back if changed
        (unless the block raised). Re-entrant: a nested block shares the outer one's state."""
        if self._held is not None:
            yield self._held
            return
        if self._fd is None:
            raise SharedStateError(errno.EBADF, "the shared key state is closed", str(self.path))
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            state = self._read()
            before = dict(state)
            self._held = state
            yield state
            if state != before:
                self._write(state)
        finally:
            self._held = None
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            return {
                "format": _FORMAT,
                "nonce": 0,
                "units_per_second": None,
                "rest_level": 0.0,
                "rest_since": None,
            }
        try:
            state = json.loads(text)
        except ValueError:
            state = None
        if not _valid(state):
            raise SharedStateError(
                errno.EINVAL,
                "damaged shared key state (not repaired: a nonce could be reused; move the "
                "file away only when no process uses the key and every nonce was older than "
                "the clock)",
                str(self.path),
            )
        assert isinstance(state, dict)
        if state["format"] != _FORMAT:
            raise SharedStateError(
                errno.EINVAL,
                f"shared key state of format {state['format']}, this kraken_proto reads {_FORMAT}",
                str(self.path),
            )
        return state

    def _write(self, state: dict[str, Any]) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        data = json.dumps(state, sort_keys=True).encode()
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        # The rename is durable only once the directory is.
        directory = os.open(self.path.parent, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _valid(state: object) -> bool:
    if not isinstance(state, dict):
        return False
    nonce, units = state.get("nonce"), state.get("units_per_second")
    level, since = state.get("rest_level"), state.get("rest_since")
    return (
        _is_int(state.get("format"))
        and isinstance(nonce, int)
        and _is_int(nonce)
        and 0 <= nonce <= _MAX_NONCE
        and (units is None or (_is_int(units) and units > 0))
        and _is_number(level)
        and (since is None or _is_number(since))
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


class SharedNonceSource(NonceSource):
    """A ``NonceSource`` whose high-water mark is shared by every process on ``api_key``,
    kept in ``directory``.

    ``next(now)`` returns a nonce greater than every nonce drawn before on this key by any
    ``SharedNonceSource`` (any process, before any restart), whatever ``now`` says, and
    ``int(now * units_per_second)`` when the clock is ahead of them. ``last`` seeds the key's
    mark (e.g. a journal's ``nonce_high_water``); after construction ``last`` is the greater
    of it and the shared mark, then the last nonce this source drew.

    Raises ``LocalProtocolError`` for another ``units_per_second`` than the key's nonces were
    drawn in (mixing units would go backwards), ``SharedStateError`` for a damaged state
    file, ``OSError`` when the directory cannot be written. ``acquire``/``release``: the
    key's turn to send, shared by every process (see the module). Not thread-safe (like
    ``NonceSource``); ``close()`` (or ``with``) releases its file descriptors.
    """

    __slots__ = ("_shared", "_turn", "_turn_held")

    def __init__(
        self,
        directory: str | os.PathLike[str],
        api_key: str,
        *,
        units_per_second: int = 1_000_000,
        last: int = 0,
    ) -> None:
        super().__init__(units_per_second=units_per_second, last=last)
        self._shared = _SharedState(directory, api_key)
        self._turn: int | None = None
        self._turn_held = False
        try:
            self._turn = open_lock_file(self._shared.path.with_suffix(".turn"))
            with self._shared.locked() as state:
                units = state["units_per_second"]
                if units is not None and units != units_per_second:
                    raise LocalProtocolError(
                        f"units_per_second: this key's nonces are drawn in {units} units per "
                        f"second, not {units_per_second}"
                    )
                state["units_per_second"] = units_per_second
                state["nonce"] = max(state["nonce"], last)
                self._last = state["nonce"]
        except BaseException:
            self.close()
            raise

    @property
    def path(self) -> Path:
        """The key's state file."""
        return self._shared.path

    def next(self, now: float) -> int:
        """A nonce greater than every one drawn before on this key (see the class)."""
        with self._shared.locked() as state:
            self._last = max(self._last, state["nonce"])
            nonce = NonceSource.next(self, now)  # validates now, refuses to pass 2**64-1
            state["nonce"] = nonce
        return nonce

    def acquire(self) -> bool:
        """Take this key's turn to send (see the module): True when taken or already held by
        this source, False at once when another source (any process) holds it."""
        if self._turn_held:
            return True
        if self._turn is None:
            raise SharedStateError(errno.EBADF, "the shared key state is closed", str(self.path))
        try:
            fcntl.flock(self._turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._turn_held = True
        return True

    def release(self) -> None:
        """Give the turn back (the request signed with the last nonce has its answer);
        does nothing when this source does not hold it."""
        if self._turn_held and self._turn is not None:
            fcntl.flock(self._turn, fcntl.LOCK_UN)
        self._turn_held = False

    def high_water(self) -> int:
        """The greatest nonce drawn on this key so far, by any process."""
        with self._shared.locked() as state:
            nonce: int = state["nonce"]
        return nonce

    def close(self) -> None:
        """Release the lock files' descriptors (and the turn); idempotent. ``next`` and
        ``acquire`` raise afterwards."""
        turn, self._turn = self._turn, None
        self._turn_held = False
        if turn is not None:
            os.close(turn)
        self._shared.close()

    def __enter__(self) -> SharedNonceSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"SharedNonceSource({str(self._shared.path)!r}, "
            f"units_per_second={self.units_per_second}, last={self.last})"
        )


class SharedRestCallCounter(RestCallCounter):
    """A ``RestCallCounter`` whose level is shared by every process on ``api_key``, kept in
    ``directory`` (the same file as the key's nonces).

    Every call reads the shared level under the lock, and ``spend``/``saturate`` write it
    back before the lock is released, so calls of all processes together stay within the
    tier's budget: a ``spend`` that another process made impossible since ``ready_at``
    raises ``LocalProtocolError`` (changing nothing), which the session's REST queue already
    answers by asking again shortly. Each process passes its own ``tier`` and ``headroom``.
    Not thread-safe; ``close()`` (or ``with``) releases its file descriptor.
    """

    __slots__ = ("_shared",)

    def __init__(
        self,
        directory: str | os.PathLike[str],
        api_key: str,
        tier: str = "starter",
        *,
        headroom: float = 1.0,
    ) -> None:
        super().__init__(tier, headroom=headroom)
        self._shared = _SharedState(directory, api_key)

    @property
    def path(self) -> Path:
        """The key's state file."""
        return self._shared.path

    @contextmanager
    def _synced(self) -> Iterator[None]:
        with self._shared.locked() as state:
            self._level = float(state["rest_level"])
            since = state["rest_since"]
            self._since = None if since is None else float(since)
            yield
            state["rest_level"] = self._level
            state["rest_since"] = self._since

    def level(self, now: float) -> float:
        """The key's counter at ``now`` (after decay), as every process sees it."""
        with self._synced():
            return RestCallCounter.level(self, now)

    def ready_at(self, cost: int, now: float) -> float:
        """The earliest time (>= ``now``) at which a call of ``cost`` fits the shared budget."""
        with self._synced():
            return RestCallCounter.ready_at(self, cost, now)

    def spend(self, cost: int, now: float) -> None:
        """Record a call of ``cost`` sent at ``now`` by this process (see ``RestCallCounter``)."""
        with self._synced():
            RestCallCounter.spend(self, cost, now)

    def saturate(self, now: float) -> None:
        """Kraken answered ``EAPI:Rate limit exceeded``: the key's counter is full at ``now``."""
        with self._synced():
            RestCallCounter.saturate(self, now)

    def close(self) -> None:
        """Release the lock file's descriptor; idempotent. Calls raise afterwards."""
        self._shared.close()

    def __enter__(self) -> SharedRestCallCounter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"SharedRestCallCounter({str(self._shared.path)!r}, tier={self.tier!r}, "
            f"headroom={self.headroom:g})"
        )
