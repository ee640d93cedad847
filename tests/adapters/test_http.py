"""adapters/http.py against an independent h11 server-side connection."""

from __future__ import annotations

import json

import h11
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import Credentials, LocalProtocolError, RemoteProtocolError
from kraken_proto.adapters.transport.http import (
    KRAKEN_API_HOST,
    HttpResponse,
    HttpResponseError,
    ResponseReader,
    encode_request,
    parse_token_http_response,
    token_request_bytes,
)
from kraken_proto.rest import InvalidNonceError, TokenRequest, build_token_request

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
CREDENTIALS = Credentials(api_key="PUBLICKEY1234", api_secret=SECRET)
TOKEN_BODY = (
    b'{"error":[],"result":{"token":"1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw","expires":900}}'
)


def server_receives(data: bytes) -> tuple[h11.Connection, h11.Request, bytes]:
    """Parse request bytes with h11's server side; return the connection, request and body."""
    server = h11.Connection(h11.SERVER)
    server.receive_data(data)
    request = server.next_event()
    assert isinstance(request, h11.Request)
    body = b""
    while True:
        event = server.next_event()
        if isinstance(event, h11.EndOfMessage):
            return server, request, body
        assert isinstance(event, h11.Data)
        body += event.data


def server_response(server: h11.Connection, body: bytes, *, chunked: bool) -> bytes:
    """The server's response bytes: content-length framed, or chunked in 7-byte pieces."""
    if chunked:
        headers = [("Transfer-Encoding", "chunked"), ("Content-Type", "application/json")]
        pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
    else:
        headers = [("Content-Length", str(len(body))), ("Content-Type", "application/json")]
        pieces = [body]
    out = server.send(h11.Response(status_code=200, headers=headers)) or b""
    for piece in pieces:
        out += server.send(h11.Data(data=piece)) or b""
    return out + (server.send(h11.EndOfMessage()) or b"")


def feed_bytewise(reader: ResponseReader, data: bytes) -> HttpResponse:
    for index in range(len(data)):
        result = reader.feed(data[index : index + 1])
        if index < len(data) - 1:
            assert result is None
    assert result is not None
    return result


# --- request ------------------------------------------------------------------------------


def test_request_bytes_parse_on_h11_server() -> None:
    request = build_token_request(CREDENTIALS, nonce=1616492376594, otp="123456")
    _, parsed, body = server_receives(encode_request(request, host="api.kraken.com"))
    assert parsed.method == b"POST"
    assert parsed.target == b"/0/private/GetWebSocketsToken"
    headers = {name.decode(): value.decode() for name, value in parsed.headers}
    assert headers["host"] == "api.kraken.com"
    assert headers["content-length"] == str(len(request.body))
    assert headers["connection"] == "close"
    assert headers["api-key"] == "PUBLICKEY1234"
    assert headers["api-sign"] == request.header("API-Sign")
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert headers["user-agent"].startswith("kraken_proto/")
    assert body == request.body == b"nonce=1616492376594&otp=123456"


def test_token_request_bytes_is_encode_of_build() -> None:
    expected = encode_request(build_token_request(CREDENTIALS, nonce=5), host=KRAKEN_API_HOST)
    assert token_request_bytes(CREDENTIALS, nonce=5) == expected
    _, parsed, _ = server_receives(token_request_bytes(CREDENTIALS, nonce=5, host="127.0.0.1:8"))
    assert (b"host", b"127.0.0.1:8") in list(parsed.headers)


@pytest.mark.parametrize("host", ["", "evil\r\nX-Injected: 1"])
def test_bad_host_is_a_local_error(host: str) -> None:
    request = build_token_request(CREDENTIALS, nonce=5)
    with pytest.raises(LocalProtocolError, match="HTTP request"):
        encode_request(request, host=host)


def test_header_rejected_by_h11_is_a_local_error() -> None:
    request = TokenRequest(
        method="POST", path="/0/private/X", headers=(("X-Bad", "a\r\nInjected: 1"),), body=b""
    )
    with pytest.raises(LocalProtocolError, match=r"HTTP request: .*header"):
        encode_request(request, host=KRAKEN_API_HOST)


# --- response -----------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("bytewise", [False, True])
def test_response_round_trip(chunked: bool, bytewise: bool) -> None:
    request = build_token_request(CREDENTIALS, nonce=7)
    server, _, _ = server_receives(encode_request(request, host=KRAKEN_API_HOST))
    wire = server_response(server, TOKEN_BODY, chunked=chunked)
    reader = ResponseReader()
    response = feed_bytewise(reader, wire) if bytewise else reader.feed(wire)
    assert response is not None
    assert response.status == 200
    assert response.body == TOKEN_BODY
    assert ("content-type", "application/json") in response.headers
    assert reader.response is response
    assert reader.feed_eof() is response  # EOF after completion changes nothing


@given(
    body=st.binary(max_size=3000),
    chunked=st.booleans(),
    split=st.lists(st.integers(min_value=1, max_value=50), max_size=30),
)
def test_response_any_body_any_split(body: bytes, chunked: bool, split: list[int]) -> None:
    server, _, _ = server_receives(token_request_bytes(CREDENTIALS, nonce=9))
    wire = server_response(server, body, chunked=chunked)
    reader = ResponseReader()
    position, result = 0, None
    for size in split:
        result = reader.feed(wire[position : position + size])
        position += size
    result = reader.feed(wire[position:]) or result
    assert result is not None
    assert (result.status, result.body) == (200, body)


def test_status_and_error_body_come_back() -> None:
    wire = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 5\r\n\r\nnope!"
    assert ResponseReader().feed(wire) == HttpResponse(502, (("content-length", "5"),), b"nope!")


def test_bytes_after_the_response_are_ignored() -> None:
    reader = ResponseReader()
    first = reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE")
    assert first is not None
    assert first.body == b"ok"
    assert reader.feed(b"more garbage") is first


def test_empty_feed_is_not_eof() -> None:
    reader = ResponseReader()
    assert reader.feed(b"") is None
    assert reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") is not None


def test_read_until_close_body_completes_at_eof() -> None:
    reader = ResponseReader()
    assert reader.feed(b"HTTP/1.0 200 OK\r\n\r\n" + TOKEN_BODY) is None
    response = reader.feed_eof()
    assert response.body == TOKEN_BODY


def test_informational_response_is_skipped() -> None:
    wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    response = feed_bytewise(ResponseReader(), wire)
    assert (response.status, response.body) == (200, b"ok")


def test_head_response_has_no_body() -> None:
    reader = ResponseReader(method="HEAD")
    response = reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n")
    assert response is not None
    assert response.body == b""


@pytest.mark.parametrize(
    "wire",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
)
def test_malformed_response(wire: bytes) -> None:
    with pytest.raises(HttpResponseError, match="malformed") as caught:
        ResponseReader().feed(wire)
    assert isinstance(caught.value, RemoteProtocolError)


@pytest.mark.parametrize(
    ("wire", "needle"),
    [
        (b"", "no status line"),
        (b"HTTP/1.1 200 OK\r\nContent-Le", "no status line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "3 body bytes"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "3 body bytes"),
    ],
)
def test_eof_before_the_end(wire: bytes, needle: str) -> None:
    reader = ResponseReader()
    assert reader.feed(wire) is None
    with pytest.raises(HttpResponseError, match=f"closed before .*{needle}"):
        reader.feed_eof()


def test_body_over_the_limit() -> None:
    reader = ResponseReader(max_body_size=10)
    with pytest.raises(HttpResponseError, match="exceeds 10 bytes"):
        reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n" + b"x" * 11)


# --- convenience --------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True])
def test_parse_token_http_response(chunked: bool) -> None:
    server, _, _ = server_receives(token_request_bytes(CREDENTIALS, nonce=11))
    token = parse_token_http_response(server_response(server, TOKEN_BODY, chunked=chunked))
    assert token.token == "1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw"
    assert token.expires == 900


def test_parse_token_http_response_until_eof_and_errors() -> None:
    body = json.dumps({"error": ["EAPI:Invalid nonce"]}).encode()
    with pytest.raises(InvalidNonceError):
        parse_token_http_response(b"HTTP/1.0 200 OK\r\n\r\n" + body)
    with pytest.raises(HttpResponseError, match="closed before"):
        parse_token_http_response(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{}")
