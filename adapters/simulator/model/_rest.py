"""REST ``GetWebSocketsToken`` and the lifecycle of the tokens it issues (pure)."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from kraken_proto.rest._signing import sign

from ._format import RandomLike, new_token

__all__ = [
    "TOKEN_PATH",
    "KeyState",
    "RestReply",
    "TokenBook",
    "fault_reply",
    "handle_token_request",
    "route",
]

TOKEN_PATH = "/0/private/GetWebSocketsToken"


@dataclass(frozen=True)
class RestReply:
    """One HTTP answer: status code, ``Content-Type`` and body bytes."""

    status: int
    content_type: str
    body: bytes


@dataclass
class _Token:
    last_used: float
    holders: set[int] = field(default_factory=set)  # sessions with an acked subscription
    revoked: bool = False


class TokenBook:
    """Issued WebSocket tokens.

    A token expires when it has not been used for ``ttl`` seconds, unless a live session holds
    it through an acknowledged subscription; ``revoke_all`` invalidates every token at once.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._tokens: dict[str, _Token] = {}

    def issue(self, rng: RandomLike, now: float) -> str:
        token = new_token(rng)
        self._tokens[token] = _Token(last_used=now)
        return token

    def use(self, token: object, now: float) -> bool:
        """True (and refresh the idle timer) when ``token`` is currently valid."""
        entry = self._tokens.get(token) if isinstance(token, str) else None
        if entry is None or entry.revoked:
            return False
        if not entry.holders and now - entry.last_used > self.ttl:
            return False
        entry.last_used = now
        return True

    def hold(self, token: str, session: int) -> None:
        self._tokens[token].holders.add(session)

    def release(self, token: str, session: int, now: float) -> None:
        entry = self._tokens.get(token)
        if entry is not None and session in entry.holders:
            entry.holders.discard(session)
            entry.last_used = now

    def forget_idle(self, before: float) -> int:
        """Drop the tokens no session holds that were last used more than ``ttl`` seconds
        before ``before`` (expired: ``use`` refuses them either way). Returns how many."""
        idle = [
            token
            for token, entry in self._tokens.items()
            if not entry.holders and entry.last_used + self.ttl < before
        ]
        for token in idle:
            del self._tokens[token]
        return len(idle)

    def revoke_all(self) -> None:
        for entry in self._tokens.values():
            entry.revoked = True


@dataclass
class KeyState:
    """Per API key: the highest nonce accepted so far."""

    last_nonce: int = -1


def _error(message: str) -> RestReply:
    return RestReply(
        200, "application/json", json.dumps({"error": [message]}, separators=(",", ":")).encode()
    )


def _form_nonce(body: bytes, content_type: str) -> str | None:
    """The ``nonce`` field of a form or JSON body, or None when absent/unreadable."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    if content_type.split(";")[0].strip().lower() == "application/json":
        try:
            data = json.loads(text)
        except ValueError:
            return None
        value = data.get("nonce") if isinstance(data, dict) else None
        return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    values = parse_qs(text, keep_blank_values=True).get("nonce")
    return values[-1] if values else None


def handle_token_request(
    *,
    headers: Mapping[str, str],
    body: bytes,
    api_key: str,
    api_secret: str,
    websocket_permission: bool,
    keys: dict[str, KeyState],
    tokens: TokenBook,
    rng: RandomLike,
    now: float,
) -> RestReply:
    """Answer one well-routed ``POST /0/private/GetWebSocketsToken`` like Kraken does."""
    lowered = {name.lower(): value for name, value in headers.items()}
    key = lowered.get("api-key")
    if key is None or not hmac.compare_digest(key.encode(), api_key.encode()):
        return _error("EAPI:Invalid key")
    nonce_text = _form_nonce(body, lowered.get("content-type", ""))
    if nonce_text is None or nonce_text == "":
        return _error("EGeneral:Invalid arguments")
    # The length test first: int() refuses strings of more than 4300 digits with ValueError.
    if not (nonce_text.isascii() and nonce_text.isdigit()) or len(nonce_text) > 20:
        return _error("EAPI:Invalid nonce")
    if int(nonce_text) >= 2**64:
        return _error("EAPI:Invalid nonce")
    expected = sign(secret=api_secret, urlpath=TOKEN_PATH, nonce=nonce_text, postdata=body)
    given = lowered.get("api-sign", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return _error("EAPI:Invalid signature")
    state = keys.setdefault(key, KeyState())
    nonce = int(nonce_text)
    if nonce <= state.last_nonce:
        return _error("EAPI:Invalid nonce")
    state.last_nonce = nonce
    if not websocket_permission:
        return _error("EGeneral:Permission denied")
    token = tokens.issue(rng, now)
    payload = {"error": [], "result": {"token": token, "expires": int(tokens.ttl)}}
    return RestReply(200, "application/json", json.dumps(payload, separators=(",", ":")).encode())


def route(method: str, path: str) -> RestReply | None:
    """404/405 for anything but ``POST`` to the token path; None when routed."""
    if path.split("?")[0] != TOKEN_PATH:
        return RestReply(404, "text/plain; charset=utf-8", b"Not Found\n")
    if method.upper() != "POST":
        return RestReply(405, "text/plain; charset=utf-8", b"Method Not Allowed\n")
    return None


def fault_reply(fault: str) -> RestReply:
    """The reply for an injected REST fault (``http_500`` or ``non_json``)."""
    if fault == "http_500":
        return RestReply(500, "text/plain; charset=utf-8", b"Internal Server Error\n")
    return RestReply(
        200,
        "text/html; charset=utf-8",
        b"<html><head><title>Service unavailable</title></head>"
        b"<body>The service is temporarily unavailable.</body></html>",
    )
