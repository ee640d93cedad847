"""Opening TCP/TLS streams for both adapters, under one deadline, with errors naming the URL."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time

import trio

from ._endpoint import Endpoint
from ._ws import HandshakeTimeout

__all__ = ["naming_url", "open_asyncio_stream", "open_socket", "open_trio_stream", "timed_out"]


def naming_url(exc: OSError, url: str) -> OSError:
    """A copy of ``exc`` (same class and errno, so ``except ConnectionRefusedError`` still
    works) whose message names ``url``. Raise it ``from exc``."""
    detail = exc.strerror or str(exc) or type(exc).__name__
    message = f"{detail} (connecting to {url})"
    try:
        renamed = type(exc)(exc.errno, message) if exc.errno is not None else type(exc)(message)
    except Exception:  # an OSError subclass with an unusual constructor
        renamed = OSError(exc.errno, message)
    return renamed


def timed_out(url: str, timeout: float) -> HandshakeTimeout:
    return HandshakeTimeout(f"{url}: connect and handshake did not complete within {timeout:g} s")


def open_socket(
    endpoint: Endpoint, ssl_context: ssl.SSLContext | None, timeout: float
) -> socket.socket:
    """Connect (and do the TLS handshake for ``wss``/``https``) within ``timeout`` seconds.

    CPython's TLS handshake keeps one deadline over all its reads, so a server that drips
    bytes cannot stretch it; the TCP connect gets what is left of the same budget.
    """
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    except TimeoutError:
        raise timed_out(endpoint.url, timeout) from None
    except OSError as exc:
        raise naming_url(exc, endpoint.url) from exc
    if not endpoint.secure:
        return sock
    context = ssl_context or ssl.create_default_context()
    try:
        sock.settimeout(max(deadline - time.monotonic(), 1e-3))
        return context.wrap_socket(sock, server_hostname=endpoint.host)
    except TimeoutError:
        sock.close()
        raise timed_out(endpoint.url, timeout) from None
    except OSError as exc:
        sock.close()
        raise naming_url(exc, endpoint.url) from exc
    except BaseException:
        sock.close()
        raise


async def open_trio_stream(
    endpoint: Endpoint, ssl_context: ssl.SSLContext | None
) -> trio.abc.Stream:
    """Connect (and do TLS for ``wss``/``https``); the caller bounds the time."""
    try:
        stream: trio.abc.Stream = await trio.open_tcp_stream(endpoint.host, endpoint.port)
    except OSError as exc:
        # trio wraps the per-address errors; with one address, surface the real one
        # (e.g. ConnectionRefusedError) instead of a generic OSError.
        cause = exc.__cause__
        if isinstance(cause, ExceptionGroup) and len(cause.exceptions) == 1:
            inner = cause.exceptions[0]
            if isinstance(inner, OSError):
                exc = inner
        raise naming_url(exc, endpoint.url) from exc
    if endpoint.secure:
        context = ssl_context or ssl.create_default_context()
        tls = trio.SSLStream(stream, context, server_hostname=endpoint.host, https_compatible=True)
        try:
            await tls.do_handshake()
        except trio.BrokenResourceError as exc:
            await trio.aclose_forcefully(stream)
            cause = exc.__cause__
            if isinstance(cause, OSError):
                raise naming_url(cause, endpoint.url) from exc
            raise ConnectionError(f"TLS handshake failed (connecting to {endpoint.url})") from exc
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
        stream = tls
    return stream


async def open_asyncio_stream(
    endpoint: Endpoint, ssl_context: ssl.SSLContext | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect (and do TLS for ``wss``/``https``) with asyncio streams; the caller bounds the
    time. Errors are ``OSError`` naming the URL (``ssl.SSLError`` is one)."""
    context = None
    if endpoint.secure:
        context = ssl_context or ssl.create_default_context()
    try:
        return await asyncio.open_connection(
            endpoint.host,
            endpoint.port,
            ssl=context,
            server_hostname=endpoint.host if context is not None else None,
        )
    except OSError as exc:
        raise naming_url(exc, endpoint.url) from exc
