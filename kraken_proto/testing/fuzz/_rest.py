"""Fuzz target ``rest``: every REST response parser of ``kraken_proto.rest``.

Each ``parse_*_response(status, body)``: the token call's, OpenOrders, ClosedOrders,
QueryOrders, TradesHistory and QueryTrades.

Input layout: byte 0 picks the parser (``PARSERS[byte % len]``, sorted by name), byte 1 the
HTTP status (mostly 200); the rest is the body.

Invariants:

* a parser returns its result or raises ``RestError`` (a ``ProtocolError``), nothing else;
* every ``Decimal`` in a result has exactly the digits of a JSON number in the body, or of a
  string in Kraken's number text (never a float's rounding, never ``NaN`` or ``" 1"``);
* no exception message quotes a token-shaped run of the body (20+ base64/url-safe
  characters: a token, a key, a signature); Kraken's error strings themselves are kept
  verbatim in ``.errors`` only;
* a token (a ``"token"`` string in the body) appears in no result's repr and no error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import kraken_proto.rest as kp_rest
from kraken_proto._errors import ProtocolError

from ._core import FuzzTarget, require

__all__ = ["PARSERS", "REST", "check_rest", "rest_seeds"]

Parser = Callable[[int, bytes], object]
PARSERS: tuple[tuple[str, Parser], ...] = tuple(
    (name, getattr(kp_rest, name))
    for name in sorted(dir(kp_rest))
    if name.startswith("parse_") and name.endswith("_response")
)
"""(name, parser) of every ``kraken_proto.rest.parse_*_response``, sorted by name."""
_STATUSES = (200, 200, 200, 200, 200, 404, 500, 520)
_TOKEN_SHAPED = re.compile(rb"[A-Za-z0-9+/=_-]{20,}")
_TOKEN_PAIR = re.compile(r'"token"\s*:\s*"[^"]*"?')


def _values(node: Any) -> Iterator[object]:
    """Every leaf value of a result (dataclasses, msgspec structs, mappings, sequences)."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for item in dataclasses.fields(node):
            yield from _values(getattr(node, item.name))
    elif hasattr(node, "__struct_fields__"):
        for name in node.__struct_fields__:
            yield from _values(getattr(node, name))
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield key
            yield from _values(value)
    elif isinstance(node, tuple | list | frozenset):
        for value in node:
            yield from _values(value)
    else:
        yield node


# Kraken's number text, written out here rather than imported: the target checks the parsers
# against its own reading of the grammar.
_KRAKEN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _body_numbers(body: bytes) -> set[tuple[int, tuple[int, ...], int | str]]:
    """The exact digits (as ``Decimal.as_tuple``) of every JSON number in the body and of every
    string there in Kraken's number text."""
    texts: list[str] = []

    def keep(text: str) -> str:
        texts.append(text)
        return text

    try:
        document = json.loads(body, parse_float=keep, parse_int=keep)
    except (ValueError, RecursionError):
        return set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            texts.extend(text for text in node if _KRAKEN_NUMBER.fullmatch(text))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and _KRAKEN_NUMBER.fullmatch(node):
            texts.append(node)
    digits: set[tuple[int, tuple[int, ...], int | str]] = set()
    for text in texts:
        try:
            number = Decimal(text)
        except InvalidOperation:  # an exponent past Decimal's range: no result holds it
            continue
        sign, digit_tuple, exponent = number.as_tuple()
        digits.add((sign, digit_tuple, exponent))
    return digits


def _tokens_in(body: bytes) -> list[str]:
    """Strings the body gives as a ``"token"`` (long enough not to show up by chance).

    A value that also appears elsewhere in the body, outside every ``"token":"..."`` pair
    (say, in junk after the JSON), is left out: there it is just body text.
    """
    found: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found.extend(v for k, v in pairs if k == "token" and isinstance(v, str) and len(v) >= 6)
        return dict(pairs)

    with contextlib.suppress(ValueError, RecursionError):
        json.loads(body, object_pairs_hook=hook)
    outside = _TOKEN_PAIR.sub("", body.decode("utf-8", "replace"))
    return [token for token in found if token not in outside]


def check_rest(data: bytes) -> None:
    """Parse the body with the parser and status the first two bytes pick; raise
    ``AssertionError`` when an invariant of this module breaks."""
    if len(data) < 2:
        return
    name, parser = PARSERS[data[0] % len(PARSERS)]
    status, body = _STATUSES[data[1] % len(_STATUSES)], data[2:]
    tokens = _tokens_in(body)
    try:
        result = parser(status, body)
    except kp_rest.RestError as error:
        require(isinstance(error, ProtocolError), "%s: %s is not a ProtocolError", name, error)
        message = f"{error} {error!r}"
        for token in tokens:
            require(token not in message, "%s: token in the error: %.300r", name, message)
        quoted = message.encode("utf-8", "surrogateescape")
        for run in _TOKEN_SHAPED.findall(body):
            require(run not in quoted, "%s quoted %r: %.300r", name, run, message)
        return
    shown = repr(result)
    for token in tokens:
        require(token not in shown, "%s: the token is in the result's repr: %.300r", name, shown)
    exact = _body_numbers(body)
    for value in _values(result):
        require(not isinstance(value, float), "%s: a float in the result: %r", name, value)
        if isinstance(value, Decimal):
            sign, digits, exponent = value.as_tuple()
            require(
                (sign, digits, exponent) in exact,
                "%s: %r is not exactly a number in the body",
                name,
                value,
            )


# --- seeds: the REST doc's example answers and Kraken's error shapes -------------------------

_DOC_BODIES: tuple[bytes, ...] = (
    b'{"error":[],"result":{"open":{"OQCLML-BW3P3-BUCMWZ":{"refid":null,"userref":0,"status":'
    b'"open","opentm":1688666559.8974,"starttm":0,"expiretm":0,"descr":{"pair":"XBTUSD","type":'
    b'"buy","ordertype":"limit","price":"30010.0","price2":"0","leverage":"none","order":"buy '
    b'1.25000000 XBTUSD @ limit 30010.0","close":""},"vol":"1.25000000","vol_exec":"0.37500000",'
    b'"cost":"11253.7","fee":"0.00000","price":"30010.0","stopprice":"0.00000","limitprice":'
    b'"0.00000","misc":"","oflags":"fciq","trades":["TCCCTY-WE2O6-P3NB37"]}}}}',
    b'{"error":[],"result":{"closed":{"O37652-RJWRT-IMO74O":{"refid":"None","userref":1,"status":'
    b'"canceled","reason":"User requested","opentm":1688148493.7708,"closetm":1688148610.0482,'
    b'"starttm":0,"expiretm":0,"descr":{"pair":"XBTGBP","type":"buy","ordertype":'
    b'"stop-loss-limit","price":"23667.0","price2":"0","leverage":"none","order":"buy 0.00100000 '
    b'XBTGBP @ limit 23667.0","close":""},"vol":"0.00100000","vol_exec":"0.00000000","cost":'
    b'"0.00000","fee":"0.00000","price":"0.00000","stopprice":"0.00000","limitprice":"0.00000",'
    b'"misc":"","oflags":"fciq","trigger":"index"}},"count":2}}',
    b'{"error":[],"result":{"OBCMZD-JIEE7-77TH3F":{"refid":null,"userref":0,"status":"closed",'
    b'"reason":null,"opentm":1688665496.7808,"closetm":1688665499.1922,"starttm":0,"expiretm":0,'
    b'"descr":{"pair":"XBTUSD","type":"buy","ordertype":"stop-loss-limit","price":"27500.0",'
    b'"price2":"0","leverage":"none","order":"buy 1.25000000 XBTUSD @ limit 27500.0","close":""},'
    b'"vol":"1.25000000","vol_exec":"1.25000000","cost":"27526.2","fee":"26.2","price":"27500.0",'
    b'"stopprice":"0.00000","limitprice":"0.00000","misc":"","oflags":"fciq","trigger":"index",'
    b'"trades":["TZX2WP-XSEOP-FP7WYR"]}}}',
    b'{"error":[],"result":{"trades":{"THVRQM-33VKH-UCI7BS":{"ordertxid":"OQCLML-BW3P3-BUCMWZ",'
    b'"postxid":"TKH2SE-M7IF5-CFI7LT","pair":"XXBTZUSD","time":1688667796.8802,"type":"buy",'
    b'"ordertype":"limit","price":"30010.00000","cost":"600.20000","fee":"0.00000","vol":'
    b'"0.02000000","margin":"0.00000","misc":"","trade_id":40274859,"maker":true}},"count":1}}',
    b'{"error":[],"result":{"THVRQM-33VKH-UCI7BS":{"ordertxid":"OQCLML-BW3P3-BUCMWZ","postxid":'
    b'"TKH2SE-M7IF5-CFI7LT","pair":"XXBTZUSD","time":1688667796.8802,"type":"buy","ordertype":'
    b'"limit","price":"30010.00000","cost":"600.20000","fee":"0.00000","vol":"0.02000000",'
    b'"margin":"0.00000","misc":"","trade_id":93748276,"maker":true}}}',
    b'{"error":[],"result":{"token":"1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw","expires":900}}',
    b'{"error":["EAPI:Invalid nonce"]}',
    b'{"error":["EGeneral:Permission denied"]}',
    b'{"error":["EAPI:Rate limit exceeded"]}',
    b'{"error":["EOrder:Unknown order"]}',
    b'{"error":["EGeneral:Invalid arguments:txid"]}',
    b'{"error":["WGeneral:Something"],"result":{"open":{}}}',
    b'{"error":[],"result":{"closed":{},"count":0}}',
    b"<html><body>The service is temporarily unavailable.</body></html>",
    b'{"error":["EService: Throttled: 1700000000","EGeneral:Invalid arguments:'
    b'1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw"]}',
    b"<html><body>1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw</body></html>",
)


def rest_seeds() -> list[bytes]:
    """Every doc body under every parser, as HTTP 200 (and the first under a 500)."""
    out = [bytes([index, 0]) + body for index in range(len(PARSERS)) for body in _DOC_BODIES]
    out.append(bytes([0, 6]) + _DOC_BODIES[0])
    return out


REST = FuzzTarget(
    "rest",
    check_rest,
    rest_seeds,
    (
        b'"error":[]',
        b'"result":',
        b'"count":',
        b'"token":"',
        b'"expires":900',
        b'"descr":{',
        b'"vol":"',
        b'"opentm":',
        b'"trades":',
        b'"EAPI:Invalid key"',
        b'"W',
    ),
    max_len=8192,
)
"""Every REST response parser: a result or a ``RestError``, exact digits, no token leaks."""
