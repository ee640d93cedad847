"""The control API: drive a running simulator over HTTP on its own port, under ``/_sim/``.

``kraken-proto simulator-ctl`` is its client; any HTTP client will do. Every answer is JSON:
``{"result": ...}`` with status 200, or ``{"error": "..."}`` with 400 (bad request), 403 (not
from loopback), 404 (unknown path, pair or session), 405 (wrong method) or 415 (a POST whose
body is not ``application/json``).

=====================================  =====================================================
``POST /_sim/price``                   ``{"pair": "XBT/USD", "price": "29000"}``
``POST /_sim/status``                  ``{"status": "maintenance"}``
``POST /_sim/fault``                   ``{"fault": "skip-sequence=1", "session": 2}``: one
                                       open session; ``"scope": "current"``: the sessions
                                       open now; ``"scope": "all"``: those and every later
                                       one, until cleared (``"fault": "clear"`` with scope
                                       all). One of them is required, except for the
                                       ``rest=...`` fault (every token request).
``POST /_sim/invalidate-tokens``       ``{}``
``GET /_sim/book``                     open orders (txid -> order) and balances
``GET /_sim/trades``                   every trade so far (trade id -> trade)
``GET /_sim/sessions``                 ids of the open WebSocket sessions, oldest first
=====================================  =====================================================

Only loopback peers are served. Two more checks keep a web page in the user's own browser
from driving the simulator: the ``Host`` header must name a loopback address or
``localhost`` (defeats DNS rebinding), and a POST must carry ``Content-Type:
application/json``, which a cross-site form cannot send without a CORS preflight (never
answered here). Prices travel as JSON strings so no float ever touches money.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from kraken_proto.adapters.simulator.model._rest import RestReply
from kraken_proto.adapters.simulator.model._views import OrderView, TradeView

from ._faultspec import FaultSpecError, parse_fault

__all__ = ["CONTROL_PREFIX", "ControlTarget", "handle_control", "is_control_path", "is_loopback"]

CONTROL_PREFIX = "/_sim/"
_MAX_BODY = 4096
_JSON = "application/json"


class ControlTarget(Protocol):
    """What the control API drives: ``SimulatorServer`` (from its own trio thread)."""

    def set_reference_price(self, pair: str, price: Decimal) -> None: ...
    def set_system_status(self, status: str) -> None: ...
    def set_fault(self, spec: str, *, session: int | None = None) -> None: ...
    def invalidate_tokens(self) -> None: ...
    def open_orders(self) -> dict[str, OrderView]: ...
    def trades(self) -> dict[str, TradeView]: ...
    def balances(self) -> dict[str, Decimal]: ...
    def session_ids(self) -> list[int]: ...


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_control_path(path: str) -> bool:
    """Whether a request target belongs to the control API (query strings ignored)."""
    return path.partition("?")[0].startswith(CONTROL_PREFIX)


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an address literal, maybe ``[v6]`` or IPv4-mapped) is loopback."""
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _host_is_loopback(value: str | None) -> bool:
    if value is None:
        return False
    name = value.strip()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else ""
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    return name.lower() in ("localhost", "localhost.") or is_loopback(name)


def _reply(status: int, document: object) -> RestReply:
    return RestReply(status, _JSON, json.dumps(document, sort_keys=True).encode() + b"\n")


def _plain(value: object) -> object:
    """A view's field as JSON: Decimals as strings (exact digits), the rest as they are."""
    return str(value) if isinstance(value, Decimal) else value


def _view(view: OrderView | TradeView) -> dict[str, object]:
    return {field.name: _plain(getattr(view, field.name)) for field in dataclasses.fields(view)}


def _string(document: Mapping[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        raise _Refused(400, f"{name!r} must be a JSON string")
    return value


def _price(target: ControlTarget, document: Mapping[str, Any]) -> object:
    pair = _string(document, "pair")
    text = _string(document, "price")
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise _Refused(400, f"price {text!r} is not a decimal number") from None
    try:
        target.set_reference_price(pair, price)
    except KeyError as exc:
        raise _Refused(404, str(exc.args[0]) if exc.args else "unknown pair") from None
    except ValueError as exc:
        raise _Refused(400, str(exc)) from None
    return {"pair": pair, "price": text}


def _status(target: ControlTarget, document: Mapping[str, Any]) -> object:
    status = _string(document, "status")
    try:
        target.set_system_status(status)
    except ValueError as exc:
        raise _Refused(400, str(exc)) from None
    return {"status": status}


_SCOPES = ("current", "all")
_WHICH_SESSIONS = (
    "say which sessions the fault is for: 'session': ID (one open session), 'scope': 'current' "
    "(the sessions open now, not later ones) or 'scope': 'all' (those and every later one, "
    "until a 'clear' with scope 'all')"
)


def _fault(target: ControlTarget, document: Mapping[str, Any]) -> object:
    spec = _string(document, "fault")
    session, scope = document.get("session"), document.get("scope")
    if session is not None and (type(session) is not int or session < 1):
        raise _Refused(400, "'session' must be a positive integer (a session id) or absent")
    if scope is not None and scope not in _SCOPES:
        raise _Refused(400, "'scope' must be 'current' or 'all' (or absent with 'session')")
    if session is not None and scope is not None:
        raise _Refused(400, "give 'session' or 'scope', not both")
    try:
        change = parse_fault(spec)
    except FaultSpecError as exc:
        raise _Refused(400, str(exc)) from None
    if change.rest:
        # The REST fault is the exchange's, not a session's: no scope but "all" makes sense.
        if session is not None or scope == "current":
            raise _Refused(400, "the rest fault applies to every token request, not a session")
        target.set_fault(spec)
        return {"fault": spec, "scope": "all"}
    if session is None and scope is None:
        raise _Refused(400, _WHICH_SESSIONS)
    if scope == "current":
        changed = []
        for session_id in target.session_ids():
            with contextlib.suppress(KeyError):  # it closed since: nothing left to change
                target.set_fault(spec, session=session_id)
                changed.append(session_id)
        return {"fault": spec, "scope": "current", "sessions": changed}
    try:
        target.set_fault(spec, session=session)  # no session: scope all
    except KeyError:
        raise _Refused(404, f"no open session {session}") from None
    if session is None:
        return {"fault": spec, "scope": "all"}
    return {"fault": spec, "session": session}


def _invalidate(target: ControlTarget, document: Mapping[str, Any]) -> object:
    target.invalidate_tokens()
    return {"invalidated": True}


def _book(target: ControlTarget) -> object:
    orders = {txid: _view(view) for txid, view in target.open_orders().items()}
    balances = {asset: str(amount) for asset, amount in target.balances().items()}
    return {"open_orders": orders, "balances": balances}


def _trades(target: ControlTarget) -> object:
    return {"trades": {trade_id: _view(view) for trade_id, view in target.trades().items()}}


def _sessions(target: ControlTarget) -> object:
    return {"sessions": target.session_ids()}


_POSTS: dict[str, Callable[[ControlTarget, Mapping[str, Any]], object]] = {
    "price": _price,
    "status": _status,
    "fault": _fault,
    "invalidate-tokens": _invalidate,
}
_GETS: dict[str, Callable[[ControlTarget], object]] = {
    "book": _book,
    "trades": _trades,
    "sessions": _sessions,
}


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _body(headers: Mapping[str, str], body: bytes) -> Mapping[str, Any]:
    content_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type != _JSON:
        raise _Refused(415, "a POST to the control API needs Content-Type: application/json")
    if len(body) > _MAX_BODY:
        raise _Refused(400, f"body larger than {_MAX_BODY} bytes")
    try:
        # Floats are refused: money comes as strings, and parse_float keeps us honest.
        document = json.loads(body or b"{}", parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise _Refused(400, "the body is not a JSON object") from None
    if not isinstance(document, dict):
        raise _Refused(400, "the body is not a JSON object")
    return document


def handle_control(
    target: ControlTarget,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    peer: str | None,
) -> RestReply:
    """Answer one control request. ``headers`` keys are lower-case; ``peer`` is the client's
    address literal (``None`` if unknown, which is refused like any non-loopback peer)."""
    try:
        if not is_loopback(peer):
            raise _Refused(403, "the control API serves loopback clients only")
        if not _host_is_loopback(headers.get("host")):
            raise _Refused(403, "the Host header must name a loopback address or localhost")
        name = path.partition("?")[0][len(CONTROL_PREFIX) :]
        if name in _POSTS:
            if method != "POST":
                raise _Refused(405, f"use POST for {CONTROL_PREFIX}{name}")
            result = _POSTS[name](target, _body(headers, body))
        elif name in _GETS:
            if method not in ("GET", "HEAD"):
                raise _Refused(405, f"use GET for {CONTROL_PREFIX}{name}")
            result = _GETS[name](target)
        else:
            known = ", ".join(CONTROL_PREFIX + path for path in [*_POSTS, *_GETS])
            raise _Refused(404, f"no control endpoint {path!r} (known: {known})")
    except _Refused as refused:
        return _reply(refused.status, {"error": refused.message})
    return _reply(200, {"result": result})
