"""Advisory file locks (``fcntl.flock``) for the journal and the shared key state.

``flock`` locks belong to an open file description, not to a process: a second ``open`` of the
same file in the same process conflicts like another process would, and the kernel drops the
lock when the last descriptor closes, which includes the process dying (even by SIGKILL).
Lock files are never deleted: a process could otherwise lock a file another one just
unlinked. POSIX only (Linux, macOS); on NFS ``flock`` may not exclude other machines.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from kraken_proto.session._journal import JournalLockedError

__all__ = ["ExclusiveLock", "open_lock_file"]


def open_lock_file(path: Path) -> int:
    """A descriptor on ``path`` (created ``0o600`` if missing), closed on ``exec``."""
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


class ExclusiveLock:
    """An exclusive lock on ``path`` held from ``acquire`` until ``release``.

    ``acquire`` never waits: when another holder has it, it raises ``JournalLockedError``
    naming the holder's pid (written in the file by whoever holds it).
    """

    __slots__ = ("_fd", "path")

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, path: Path, what: str) -> ExclusiveLock:
        """Take the lock on ``path`` for ``what`` (named in the error), or raise at once."""
        fd = open_lock_file(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise JournalLockedError(
                f"{what} is in use{holder}: one store per journal at a time (lock file {path})"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        # Informational only (the lock is the flock): tells the next opener who holds it.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        """Drop the lock; idempotent."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):  # pragma: no cover - a damaged lock file
        return ""
    return f" by process {text}" if text.isdigit() else ""
