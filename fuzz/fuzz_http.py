"""Fuzz the adapters' HTTP response reader (``adapters/http.py``'s ``ResponseReader``) with raw
server bytes, fed whole and then one byte at a time.

Input layout: the first byte holds flags: bits 0-1 pick the request method the reader expects
(POST, HEAD, GET, POST), bit 2 a 64-byte body cap instead of the default. The rest is what the
server sent before closing.

Invariants:

* ``feed``/``feed_eof`` return an ``HttpResponse`` or raise ``HttpResponseError``, nothing else;
* whole or byte by byte, the result is the same (same status, headers and body, or an error);
* the body never exceeds the cap; a HEAD response has no body.

Inputs are capped at 8 KiB: past h11's 16 KiB limit on an incomplete head, a head that arrives
in one piece parses while one arriving byte by byte is refused (h11's documented behaviour).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``fuzz`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kraken_proto.adapters.transport.http import (
    MAX_BODY_SIZE,
    HttpResponse,
    HttpResponseError,
    ResponseReader,
)

from fuzz._harness import Target, run

__all__ = ["TARGET", "check", "main", "seeds"]

_METHODS = ("POST", "HEAD", "GET", "POST")
_SMALL_CAP = 64

Outcome = HttpResponse | str


def _read(chunks: Sequence[bytes], method: str, cap: int) -> Outcome:
    reader = ResponseReader(method=method, max_body_size=cap)
    try:
        for chunk in chunks:
            response = reader.feed(chunk)
            if response is not None:
                break
        else:
            response = reader.feed_eof()
    except HttpResponseError as error:
        if reader.response is not None:
            raise AssertionError(f"error after the response was complete: {error}") from None
        return "HttpResponseError"
    if reader.response is not response:
        raise AssertionError("reader.response is not what feed returned")
    if len(response.body) > cap:
        raise AssertionError(f"{len(response.body)}-byte body over the {cap}-byte cap")
    if method == "HEAD" and response.body:
        raise AssertionError(f"HEAD response with a body: {response.body[:50]!r}")
    if not 100 <= response.status <= 999:
        raise AssertionError(f"status {response.status}")
    return response


def check(data: bytes) -> None:
    """Read the response whole, then byte by byte; the two must agree."""
    if not data:
        return
    method = _METHODS[data[0] & 3]
    cap = _SMALL_CAP if data[0] & 4 else MAX_BODY_SIZE
    payload = data[1:]
    whole = _read([payload], method, cap)
    split = _read([payload[i : i + 1] for i in range(len(payload))], method, cap)
    if whole != split:
        raise AssertionError(f"whole {whole!r} vs bytewise {split!r}")


def seeds() -> list[bytes]:
    """Token-call answers as Kraken and the simulator send them, and framing edge cases."""
    token_body = (
        b'{"error":[],"result":{"token":"1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw",'
        b'"expires":900}}'
    )
    error_body = b'{"error":["EAPI:Invalid nonce"]}'

    def response(status: bytes, headers: bytes, body: bytes) -> bytes:
        return b"HTTP/1.1 " + status + b"\r\n" + headers + b"\r\n" + body

    length = b"Content-Length: %d\r\n" % len(token_body)
    json_type = b"Content-Type: application/json; charset=utf-8\r\n"
    chunked = b"Transfer-Encoding: chunked\r\n"
    answers = [
        response(b"200 OK", json_type + length, token_body),
        response(b"200 OK", json_type + b"Content-Length: %d\r\n" % len(error_body), error_body),
        response(b"200 OK", chunked, b"10\r\n" + token_body[:16] + b"\r\n0\r\n\r\n"),
        response(b"200 OK", b"", token_body),  # read to EOF
        response(b"100 Continue", b"", b"") + response(b"200 OK", length, token_body),
        response(b"500 Internal Server Error", b"Content-Length: 0\r\n", b""),
        response(b"503 Service Unavailable", b"Content-Type: text/html\r\n", b"<html>down</html>"),
        response(b"200 OK", length, token_body[:20]),  # truncated
        response(b"200 OK", length + length, token_body),  # repeated header
        response(b"204 No Content", b"", b""),
        b"HTTP/1.0 200 OK\r\n\r\n" + token_body,
        b"garbage\r\n\r\n",
        b"",
    ]
    out = [bytes([0]) + answer for answer in answers]
    out += [bytes([1]) + answers[0], bytes([4]) + answers[0], bytes([6]) + answers[2]]
    return out


TARGET = Target(
    "http",
    check,
    seeds,
    (
        b"HTTP/1.1 ",
        b"200 OK",
        b"\r\n",
        b"Content-Length: ",
        b"Transfer-Encoding: chunked",
        b"0\r\n\r\n",
        b"Connection: close",
    ),
    max_len=8192,
)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
