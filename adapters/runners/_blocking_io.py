"""The blocking runner's I/O attempts, off the caller's thread.

A WebSocket connect (TCP, TLS, upgrade: up to ``connect_timeout``) or a REST call (up to
``http_timeout``) run inline would hold the caller's ``events(timeout=0.2)`` for seconds.
:class:`Attempts` runs them on worker threads instead; the caller waits with ``select`` on its
WebSocket and on :meth:`Attempts.fileno`, which becomes readable when an attempt finishes, and
hands the results to the session itself (the session stays single-threaded). An attempt the
session gave up (a ``CloseConnection`` while connecting) or one that finishes after the runner
closed has its socket closed, never reported.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from kraken_proto.adapters.transport._endpoint import Endpoint
from kraken_proto.adapters.transport._net import open_socket, timed_out
from kraken_proto.adapters.transport._ws import DEFAULT_MAX_MESSAGE_SIZE, WebSocketSession

from ._reading import READ_SIZE

__all__ = ["Attempts", "connect_websocket"]

Key = tuple[str, int]  # ("open", conn) or ("http", call)


def connect_websocket(
    endpoint: Endpoint,
    ssl_context: ssl.SSLContext | None,
    timeout: float,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
) -> tuple[socket.socket, WebSocketSession, list[str]]:
    """Open a WebSocket within ``timeout`` seconds (one deadline for TCP, TLS and upgrade).

    Returns the socket, the ``WebSocketSession`` and the messages that arrived together with
    the upgrade (give them to the session after ``connection_made``).
    """
    deadline = time.monotonic() + timeout
    sock = open_socket(endpoint, ssl_context, timeout)
    websocket = WebSocketSession(endpoint, max_message_size=max_message_size)
    messages: list[str] = []
    try:
        sock.settimeout(max(deadline - time.monotonic(), 1e-3))
        sock.sendall(websocket.handshake())
        while not websocket.accepted:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise timed_out(endpoint.url, timeout)
            sock.settimeout(remaining)
            messages += websocket.receive_data(sock.recv(READ_SIZE) or None)
    except TimeoutError:
        sock.close()
        raise timed_out(endpoint.url, timeout) from None
    except BaseException:
        sock.close()
        raise
    return sock, websocket, messages


def _discard(future: Future[Any]) -> None:
    """Close the socket of a connect nobody will use."""
    if future.cancelled() or future.exception() is not None:
        return
    result = future.result()
    if isinstance(result, tuple) and isinstance(result[0], socket.socket):
        result[0].close()


class Attempts:
    """Blocking attempts on worker threads; their results are taken from the caller's."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kraken-proto-io")
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._lock = threading.Lock()  # guards _done, _abandoned, closed (worker callbacks)
        self._pending: dict[Key, Future[Any]] = {}
        self._done: list[tuple[Key, Future[Any]]] = []
        self._abandoned: set[Key] = set()
        self.closed = False

    @property
    def busy(self) -> bool:
        """True while an attempt runs or waits to be taken."""
        return bool(self._pending)

    def fileno(self) -> int:
        """Readable once an attempt has finished (for ``select``)."""
        return self._wake_r.fileno()

    def start(self, key: Key, work: Callable[[], Any]) -> None:
        """Run ``work()`` on a worker thread; :meth:`take` returns it once done."""
        future = self._pool.submit(work)
        self._pending[key] = future
        future.add_done_callback(lambda done: self._finished(key, done))

    def _finished(self, key: Key, future: Future[Any]) -> None:  # on the worker thread
        with self._lock:
            if self.closed or key in self._abandoned:
                self._abandoned.discard(key)
                _discard(future)
                return
            self._done.append((key, future))
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def take(self) -> list[tuple[Key, Future[Any]]]:
        """The attempts finished since the last call, in the order they finished."""
        if not self._pending:  # nothing runs: no wake byte to drain (a syscall saved)
            return []
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass
        with self._lock:
            done, self._done = self._done, []
        for key, _future in done:
            self._pending.pop(key, None)
        return done

    def abandon(self, key: Key) -> None:
        """Nobody wants ``key``'s result: a socket it opens is closed, nothing is reported."""
        if self._pending.pop(key, None) is None:
            return
        with self._lock:
            for index, (done_key, future) in enumerate(self._done):
                if done_key == key:
                    del self._done[index]
                    _discard(future)
                    return
            self._abandoned.add(key)

    def close(self) -> None:
        """Stop: results still to come are discarded (their sockets closed). Idempotent."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            done, self._done = self._done, []
        for _key, future in done:
            _discard(future)
        self._pending.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._wake_r.close()
        self._wake_w.close()
