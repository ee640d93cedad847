"""``RestRequest`` and ``build_private_request``: the one signing and nonce path of every
private REST call (``GetWebSocketsToken``, ``OpenOrders``, ``ClosedOrders``, ...).

The body is form-encoded with ``nonce`` first (as Kraken's peers send it), the ``API-Sign``
header is computed over exactly those bytes, and each request carries its cost in Kraken's REST
call-counter units so the caller can pace it with ``RestCallCounter``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from kraken_proto._errors import LocalProtocolError

from ._signing import Credentials, _nonce_text

__all__ = [
    "HISTORY_CALL_COST",
    "PRIVATE_PREFIX",
    "RestRequest",
    "build_private_request",
    "call_cost",
]

PRIVATE_PREFIX = "/0/private/"
HISTORY_CALL_COST = 2
"""Counter units of a history call (``ClosedOrders``, ``TradesHistory``, ``Ledgers``)."""
_HISTORY_CALLS = frozenset({"ClosedOrders", "TradesHistory", "Ledgers"})
# Kraken's rate-limit guide: AddOrder and CancelOrder "operate on a different limiter".
_FREE_CALLS = frozenset({"AddOrder", "CancelOrder"})
_METHOD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def call_cost(method: str) -> int:
    """REST call-counter units of one call of ``method`` (``"TradesHistory"`` -> 2).

    Kraken's guide: +2 for ledger/trade history calls, +1 for every other call, 0 for
    ``AddOrder``/``CancelOrder``. Which calls count as history is not listed; like ccxt we count
    ``ClosedOrders``, ``TradesHistory`` and ``Ledgers``.
    """
    if method in _HISTORY_CALLS:
        return HISTORY_CALL_COST
    return 0 if method in _FREE_CALLS else 1


@dataclass(frozen=True, kw_only=True, repr=False)
class RestRequest:
    """A signed private REST request, ready to frame as HTTP/1.1.

    ``method`` is ``"POST"``; ``path`` e.g. ``"/0/private/OpenOrders"``; ``headers`` ordered
    ``(name, value)`` pairs without ``Host``, ``Content-Length`` or ``Connection`` (the HTTP
    layer adds those); ``body`` the exact signed form body, ``nonce`` first; ``cost`` the call's
    units on Kraken's REST call counter. The ``repr`` lists header names only and the body's
    length: no ``API-Sign`` value, no body (it may hold a 2FA code).
    """

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    cost: int = 1

    @property
    def call(self) -> str:
        """The API method: the last part of ``path`` (``"OpenOrders"``)."""
        return self.path.rsplit("/", 1)[-1]

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def __repr__(self) -> str:
        names = ", ".join(name for name, _ in self.headers)
        return (
            f"RestRequest(method={self.method!r}, path={self.path!r}, headers=[{names}], "
            f"body=<{len(self.body)} bytes>, cost={self.cost})"
        )

    __str__ = __repr__


def _user_agent() -> str:
    # Imported at call time: the package's __init__ imports this module before __version__.
    from kraken_proto import __version__

    return f"kraken_proto/{__version__}"


def build_private_request(
    credentials: Credentials,
    *,
    path: str,
    nonce: int,
    params: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    cost: int | None = None,
) -> RestRequest:
    """Sign ``POST path`` with the form body ``nonce=N&<params in order>``.

    ``path`` is ``/0/private/<Method>``; ``nonce`` must exceed every nonce used before with
    this key (see ``NonceSource``); ``params`` are the other form fields, already as text, in
    the order to send them; ``cost`` overrides ``call_cost(<Method>)``.

    Raises ``TypeError`` for non-``Credentials`` and ``LocalProtocolError`` for a bad path, a
    nonce that is not an unsigned 64-bit int, a field named ``nonce`` (or not an identifier), a
    value that is not ``str``, or a negative cost.
    """
    if not isinstance(credentials, Credentials):
        raise TypeError(f"credentials: expected Credentials, got {type(credentials).__name__}")
    if not isinstance(path, str) or not path.startswith(PRIVATE_PREFIX):
        raise LocalProtocolError(f"path: must start with {PRIVATE_PREFIX!r}, got {path!r}")
    method = path[len(PRIVATE_PREFIX) :]
    if not _METHOD.fullmatch(method):
        raise LocalProtocolError(f"path: {path!r} does not name one API method")
    fields = [("nonce", _nonce_text(nonce))]
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    for name, value in pairs:
        if not isinstance(name, str) or not _FIELD.fullmatch(name) or name == "nonce":
            raise LocalProtocolError(f"params: bad field name {name!r}")
        if not isinstance(value, str):
            raise LocalProtocolError(f"params[{name!r}]: must be str, got {type(value).__name__}")
        fields.append((name, value))
    if cost is None:
        cost = call_cost(method)
    elif isinstance(cost, bool) or not isinstance(cost, int) or cost < 0:
        raise LocalProtocolError(f"cost: must be a non-negative int, got {cost!r}")
    body = urlencode(fields).encode("ascii")
    signature = credentials.sign(urlpath=path, nonce=nonce, postdata=body)
    headers = (
        ("API-Key", credentials.api_key),
        ("API-Sign", signature),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("User-Agent", _user_agent()),
    )
    return RestRequest(method="POST", path=path, headers=headers, body=body, cost=cost)
