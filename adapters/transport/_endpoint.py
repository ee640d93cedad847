"""Where to connect: a URL parsed once into host, port, TLS and request target, for the
WebSocket and the REST clients alike."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Endpoint", "parse_endpoint", "parse_ws_endpoint"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where to connect: parsed from a URL by :func:`parse_endpoint`."""

    host: str
    port: int
    secure: bool
    target: str
    url: str = ""

    @property
    def host_header(self) -> str:
        default = 443 if self.secure else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def parse_endpoint(
    url: str, *, schemes: tuple[str, ...] = ("ws", "wss", "http", "https")
) -> Endpoint:
    """Parse ``url``; raise ``ValueError`` for a scheme not in ``schemes`` or no host.

    The WebSocket clients pass ``schemes=("ws", "wss")``; REST calls use http/https.
    """
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        expected = ", ".join(f"{scheme}://" for scheme in schemes)
        raise ValueError(f"unsupported URL {url!r}: expected {expected}")
    secure = parts.scheme in ("wss", "https")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Endpoint(parts.hostname, parts.port or (443 if secure else 80), secure, target, url)


@functools.lru_cache(maxsize=16)
def parse_ws_endpoint(url: str) -> Endpoint:
    """Parse a WebSocket URL: ``ws://`` or ``wss://`` only. (Remembered: the sessions of one
    process share an ``Endpoint``, frozen, instead of keeping ~0.25 KiB each.)"""
    return parse_endpoint(url, schemes=("ws", "wss"))
