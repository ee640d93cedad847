"""HTTP/1.1 framing for Kraken's private REST calls (any ``RestRequest``), with h11 and no I/O.

The blocking and trio adapters open TLS to ``api.kraken.com:443``, write ``encode_request(...)``,
then feed whatever they read into a ``ResponseReader`` until it returns a response (or they hit
EOF and call ``feed_eof()``), and hand ``status`` and ``body`` to
``kraken_proto.rest.parse_token_response``::

    request = build_token_request(credentials, nonce=nonces.next(time.time()))
    sock.sendall(encode_request(request, host=KRAKEN_API_HOST))
    reader = ResponseReader()
    response = None
    while response is None:
        data = sock.recv(65536)
        response = reader.feed(data) if data else reader.feed_eof()
    token = parse_token_response(response.status, response.body)
"""

from __future__ import annotations

import contextlib
from typing import NamedTuple

import h11
from kraken_proto import Credentials, LocalProtocolError, RemoteProtocolError
from kraken_proto.rest import RestRequest, WebSocketToken, build_token_request, parse_token_response
from kraken_proto.rest._errors import body_fragment

__all__ = [
    "KRAKEN_API_HOST",
    "MAX_BODY_SIZE",
    "HttpResponse",
    "HttpResponseError",
    "ResponseReader",
    "encode_request",
    "parse_token_http_response",
    "token_request_bytes",
]

KRAKEN_API_HOST = "api.kraken.com"
MAX_BODY_SIZE = 1 << 20
"""Default cap on a response body; a token response is about 100 bytes."""


class HttpResponseError(RemoteProtocolError):
    """The server's bytes are not a valid HTTP/1.1 response, or it closed mid-response."""


class HttpResponse(NamedTuple):
    """A complete HTTP response: status code, headers (names lower-cased) and the whole body.

    The ``repr`` shows the body's length only: a token response's body holds the token, and a
    traceback rendered with its locals must not show it.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def __repr__(self) -> str:
        return f"HttpResponse(status={self.status}, body=<{len(self.body)} bytes>)"


def encode_request(request: RestRequest, *, host: str) -> bytes:
    """Frame any private REST ``request`` as HTTP/1.1 bytes, adding ``Host``, ``Content-Length`` and
    ``Connection: close`` (one request per connection).

    Raises ``kraken_proto.LocalProtocolError`` for an empty ``host`` or one with whitespace, and
    when h11 rejects a header value.
    """
    if not host or any(c.isspace() or not c.isprintable() for c in host):
        raise LocalProtocolError(
            f"HTTP request: host must be a non-empty host[:port], got {host!r}"
        )
    headers = [
        ("Host", host),
        *request.headers,
        ("Content-Length", str(len(request.body))),
        ("Connection", "close"),
    ]
    connection = h11.Connection(h11.CLIENT)
    try:
        head = connection.send(
            h11.Request(method=request.method, target=request.path, headers=headers)
        )
    except h11.LocalProtocolError as error:
        # h11's message names the rule broken, never a header's value.
        raise LocalProtocolError(f"HTTP request: {error}") from None
    body = connection.send(h11.Data(data=request.body))
    end = connection.send(h11.EndOfMessage())
    return b"".join(part for part in (head, body, end) if part)


class ResponseReader:
    """Incremental parser of one HTTP/1.1 response (content-length, chunked or read-to-EOF).

    ``feed(data)`` returns ``None`` until the response is complete, then the ``HttpResponse``
    (bytes after the end of the response are ignored). ``feed_eof()`` reports that the peer
    closed. Both raise ``HttpResponseError`` for malformed bytes, a body over
    ``max_body_size``, or EOF before the end; after an error the reader is unusable.
    Interim ``1xx`` responses are skipped. ``method`` is the request's method (a ``HEAD``
    response has no body).
    """

    def __init__(self, *, method: str = "POST", max_body_size: int = MAX_BODY_SIZE) -> None:
        self._connection = h11.Connection(h11.CLIENT)
        # h11 parses a response only after a request went out; send a stand-in with the same
        # method (its bytes are discarded) so framing rules such as HEAD apply.
        self._connection.send(
            h11.Request(method=method, target="/", headers=[("Host", "_"), ("Content-Length", "0")])
        )
        self._connection.send(h11.EndOfMessage())
        self._max_body_size = max_body_size
        self._status: int | None = None
        self._headers: tuple[tuple[str, str], ...] = ()
        self._body = bytearray()
        self._response: HttpResponse | None = None

    @property
    def response(self) -> HttpResponse | None:
        """The complete response, or ``None`` while it is still incomplete."""
        return self._response

    def feed(self, data: bytes) -> HttpResponse | None:
        """Add bytes read from the connection; return the response once it is complete.

        An empty ``data`` is ignored (use ``feed_eof()`` for end of stream).
        """
        if self._response is None and data:
            self._connection.receive_data(data)
            del data  # see _drain: no local holds response bytes while parsing
            self._drain()
        return self._response

    def receive(self, data: bytes) -> HttpResponse | None:
        """``feed(data)``, or ``feed_eof()`` when ``data`` is empty (what a read returns once
        the peer closed). Pass the read's result directly (``reader.receive(sock.recv(n))``)
        so no caller's local holds the bytes either."""
        if not data:
            return self.feed_eof()
        if self._response is None:
            self._connection.receive_data(data)
            del data
            self._drain()
        return self._response

    def feed_eof(self) -> HttpResponse:
        """Report that the peer closed; return the response or raise ``HttpResponseError``."""
        if self._response is None:
            self._connection.receive_data(b"")
            # h11 reports some truncations as protocol errors; the error below names the cause.
            with contextlib.suppress(HttpResponseError):
                self._drain()
        if self._response is None:
            got = "no status line" if self._status is None else f"{len(self._body)} body bytes"
            raise HttpResponseError(
                f"HTTP response: connection closed before the response was complete ({got})"
            )
        return self._response

    def _drain(self) -> None:
        # No local may hold response bytes when this raises (a traceback rendered with its
        # locals would show a token): each event is dropped before the next, h11's error
        # (which quotes the offending line) is turned into redacted text inside ``except``.
        while True:
            event: object = None
            detail = None
            try:
                event = self._connection.next_event()
            except h11.RemoteProtocolError as error:
                detail = body_fragment(str(error), 200)
            if detail is not None:
                raise HttpResponseError(f"HTTP response: malformed: {detail}")
            if event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
                return
            if isinstance(event, h11.Response):
                self._status = event.status_code
                self._headers = tuple(
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, value in event.headers
                )
            elif isinstance(event, h11.Data):
                self._body += event.data
                if len(self._body) > self._max_body_size:
                    event = None
                    raise HttpResponseError(
                        f"HTTP response: body exceeds {self._max_body_size} bytes"
                    )
            elif isinstance(event, h11.EndOfMessage):
                assert self._status is not None  # h11 emits Response before EndOfMessage
                self._response = HttpResponse(self._status, self._headers, bytes(self._body))
                return
            # InformationalResponse (1xx): nothing to keep; the final response follows.


def token_request_bytes(
    credentials: Credentials, *, nonce: int, host: str = KRAKEN_API_HOST, otp: str | None = None
) -> bytes:
    """``encode_request(build_token_request(credentials, nonce=nonce, otp=otp), host=host)``."""
    return encode_request(build_token_request(credentials, nonce=nonce, otp=otp), host=host)


def parse_token_http_response(data: bytes) -> WebSocketToken:
    """Parse everything the server sent (up to EOF) into a token.

    Raises ``HttpResponseError`` for bad HTTP framing and the ``TokenRequestError`` family
    (see ``kraken_proto.rest.parse_token_response``) for what the response says.
    """
    reader = ResponseReader()
    response = reader.feed(data) or reader.feed_eof()
    return parse_token_response(response.status, response.body)
