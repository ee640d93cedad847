"""Which protocol a session runner speaks, from ``protocol=``, the config and the URL (no I/O).

One rule for both runners (``open_session``, ``open_trio_session``) and the CLI:

* ``protocol`` (``"v1"`` or ``"v2"``), when given, decides; otherwise a ``ws_url`` whose path
  ends in ``/v2`` means v2; otherwise ``config.protocol`` (v1 by default).
* Over v2 the URL gets ``/v2`` appended when its path does not end in it already, so
  ``protocol="v2"`` works with the same base URL as v1 (``wss://ws-auth.kraken.com`` serves
  v2 on ``/v2``, and so does the simulator).
* ``protocol="v1"`` with a ``/v2`` URL is a contradiction: ``LocalProtocolError`` says so.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit, urlunsplit

from kraken_proto import LocalProtocolError, SessionConfig

__all__ = ["choose_protocol"]


def _is_v2(ws_url: str) -> bool:
    return urlsplit(ws_url).path.rstrip("/").endswith("/v2")


def choose_protocol(
    ws_url: str, config: SessionConfig | None, protocol: str | None
) -> tuple[str, SessionConfig]:
    """The WebSocket URL to open and the ``SessionConfig`` to run, following the rules above."""
    config = config if config is not None else SessionConfig()
    if protocol is None:
        protocol = "v2" if _is_v2(ws_url) else config.protocol
    if protocol not in ("v1", "v2"):
        raise LocalProtocolError(f"protocol: must be 'v1' or 'v2', got {protocol!r}")
    if protocol == "v1" and _is_v2(ws_url):
        raise LocalProtocolError(f"protocol: 'v1' was asked for, but {ws_url} is a v2 URL")
    if protocol == "v2" and not _is_v2(ws_url):
        parts = urlsplit(ws_url)
        ws_url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/v2"))
    if config.protocol != protocol:
        config = dataclasses.replace(config, protocol=protocol)
    return ws_url, config
