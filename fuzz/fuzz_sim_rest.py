"""Fuzz the simulator's REST request handling (``Exchange.handle_rest``) with client requests.

Input layout: byte 0 holds flags: bits 0-2 pick the path (``PATHS``; 7 takes the first line of
the rest as the path), bit 3 sends GET instead of POST, bit 6 trades first (a resting, a
filled and a canceled order, so the queries have something to find), bits 4-5 the signing:
0 the headers are the next lines of the input (``Name: value``), 1 a valid API-Key and
API-Sign over the body (whatever its nonce), 2 the same with a fresh nonce prepended to the
body, 3 a valid key and a wrong signature. The body follows the first blank line.

Invariants:

* ``handle_rest`` never raises and answers an HTTP status with a body;
* a 200 answer with a JSON type is a JSON object whose ``"error"`` is a list of Kraken error
  strings (``E...:...`` or ``W...:...``), with a ``"result"`` when the list has no ``E`` error;
* our own parser for that path reads the answer without a ``Malformed...`` error: the simulator
  answers in Kraken's shapes even to a client sending nonsense.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``fuzz`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kraken_proto as kp
import kraken_proto.rest as kp_rest

from fuzz._harness import Target, run
from fuzz._sim import SimRun, new_exchange, signed_headers, trade

__all__ = ["PATHS", "TARGET", "check", "main", "seeds"]

PATHS = (
    "/0/private/GetWebSocketsToken",
    "/0/private/OpenOrders",
    "/0/private/ClosedOrders",
    "/0/private/QueryOrders",
    "/0/private/TradesHistory",
    "/0/private/QueryTrades",
    "/0/private/Balance",
)
_ERROR_TEXT = re.compile(r"[EW][A-Za-z]+:.+")
_MALFORMED: type[Exception] = getattr(
    kp, "MalformedRestResponseError", kp_rest.MalformedTokenResponseError
)


def _parser(path: str) -> Callable[[int, bytes], object] | None:
    """Our parser for the answer to ``path`` (None for paths we have no parser for)."""
    name = {
        "GetWebSocketsToken": "parse_token_response",
        "OpenOrders": "parse_open_orders_response",
        "ClosedOrders": "parse_closed_orders_response",
        "QueryOrders": "parse_query_orders_response",
        "TradesHistory": "parse_trades_history_response",
        "QueryTrades": "parse_query_trades_response",
    }.get(path.rsplit("/", 1)[-1])
    parser: Callable[[int, bytes], object] | None = getattr(kp, name, None) if name else None
    return parser


def _request(sim: SimRun, data: bytes) -> tuple[str, str, dict[str, str], bytes]:
    flags = data[0]
    head, _, body = data[1:].partition(b"\n\n")
    lines = head.decode("utf-8", "replace").split("\n")
    path = PATHS[flags & 7] if flags & 7 < len(PATHS) else lines.pop(0)
    method = "GET" if flags & 8 else "POST"
    signing = (flags >> 4) & 3
    if signing == 0:
        headers = dict(line.partition(":")[::2] for line in lines if line)
        headers = {name.strip(): value.strip() for name, value in headers.items()}
        return method, path, headers, body
    if signing == 2:
        sim.nonce += 1
        body = b"nonce=%d&" % sim.nonce + body
    match = re.search(rb"(?:^|&)nonce=([^&]*)", body)
    nonce = match.group(1).decode("latin-1") if match else ""
    headers = signed_headers(sim.config, path.split("?")[0], nonce, body)
    if signing == 3:
        headers["API-Sign"] = headers["API-Sign"][::-1]
    return method, path, headers, body


def check(data: bytes) -> None:
    """Send one request to a fresh exchange and check the answer's shape."""
    if not data:
        return
    sim = new_exchange()
    if data[0] & 0x40:
        trade(sim, sim.exchange.open_session(sim.now))
    method, path, headers, body = _request(sim, data)
    reply = sim.exchange.handle_rest(
        method=method, path=path, headers=headers, body=body, now=sim.now + 1
    )
    if not isinstance(reply.status, int) or not isinstance(reply.body, bytes):
        raise AssertionError(f"reply {reply!r}")
    if reply.status != 200 or not reply.content_type.startswith("application/json"):
        return
    try:
        document = json.loads(reply.body)
    except ValueError:
        raise AssertionError(f"200 JSON answer is not JSON: {reply.body[:300]!r}") from None
    if not isinstance(document, dict) or not isinstance(document.get("error"), list):
        raise AssertionError(f"answer without an error list: {reply.body[:300]!r}")
    errors = document["error"]
    for error in errors:
        if not isinstance(error, str) or not _ERROR_TEXT.fullmatch(error):
            raise AssertionError(f"not a Kraken error string: {error!r}")
    if not any(error.startswith("E") for error in errors) and "result" not in document:
        raise AssertionError(f"no error and no result: {reply.body[:300]!r}")
    parser = _parser(path.split("?")[0])
    if parser is None:
        return
    try:
        parser(reply.status, reply.body)
    except _MALFORMED as error:
        raise AssertionError(f"our parser refuses the simulator's answer: {error}") from None
    except kp.ProtocolError:
        pass  # Kraken said no, in a shape the parser knows


def _traded_ids() -> tuple[bytes, bytes]:
    """The order and trade ids the setup trades make (the exchange's rng is seeded)."""
    sim = new_exchange()
    orders: list[str] = []
    trades: list[str] = []
    for text in trade(sim, sim.exchange.open_session(sim.now)):
        message = json.loads(text)
        if isinstance(message, dict) and message.get("event") == "addOrderStatus":
            orders.append(message["txid"])
        elif isinstance(message, list) and message[1] == "ownTrades":
            trades.extend(trade_id for entry in message[0] for trade_id in entry)
    return ",".join(orders).encode(), ",".join(trades).encode()


def seeds() -> list[bytes]:
    """Each path signed with a fresh nonce (plus typical parameters, and the ids the setup
    trades make), unsigned, badly signed."""
    order_ids, trade_ids = _traded_ids()
    params = [
        b"txid=" + order_ids,
        b"txid=" + trade_ids + b"&trades=true",
        b"",
        b"trades=true",
        b"trades=true&userref=7",
        b"txid=OQCLML-BW3P3-BUCMWZ,OBCMZD-JIEE7-77TH3F",
        b"start=1688666559&end=1688667796.8802&ofs=0",
        b"closetime=open",
        b"cl_ord_id=abc",
        b"otp=123456",
    ]
    out = []
    for index in range(len(PATHS)):
        out += [bytes([index | 0x20 | traded]) + b"\n\n" + p for p in params for traded in (0, 64)]
        out.append(bytes([index]) + b"API-Key: kraken-proto-simulator-key\nAPI-Sign: x\n\nnonce=5")
        out.append(bytes([index | 0x30]) + b"\n\nnonce=9")
        out.append(bytes([index | 0x10]) + b"\n\nnonce=1")  # replayed nonce
        out.append(bytes([index | 0x28]) + b"\n\n")  # GET
    out.append(b"\x27/0/private/OpenOrders?x=1\n\ntrades=1")
    out.append(b"\x07/0/public/Time\n\n")
    out.append(b"\x10\n\n")  # signed, no nonce
    return out


TARGET = Target(
    "sim_rest",
    check,
    seeds,
    (
        b"nonce=",
        b"&trades=true",
        b"&userref=",
        b"&txid=",
        b"&start=",
        b"&end=",
        b"&ofs=",
        b"&closetime=",
        b"&cl_ord_id=",
        b"API-Key: ",
        b"API-Sign: ",
        b"Content-Type: application/json",
        b"%00",
        b"%FF",
    ),
    max_len=4096,
)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
