"""build_token_request and parse_token_response: the GetWebSocketsToken call without I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qsl

import kraken_proto
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import Credentials, LocalProtocolError, RemoteProtocolError
from kraken_proto.rest import (
    TOKEN_PATH,
    InvalidKeyError,
    InvalidNonceError,
    InvalidSignatureError,
    MalformedTokenResponseError,
    PermissionDeniedError,
    RateLimitExceededError,
    ServiceUnavailableError,
    TemporaryLockoutError,
    TokenHTTPError,
    TokenRequestError,
    WebSocketToken,
    build_token_request,
    parse_token_response,
)

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
NONCE = 1616492376594
CREDENTIALS = Credentials(api_key="PUBLICKEY1234", api_secret=SECRET)
TOKEN = "1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw"

tokens = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    min_size=20,
    max_size=60,
)


def response(error: list[str], result: object = None) -> bytes:
    document: dict[str, object] = {"error": error}
    if result is not None:
        document["result"] = result
    return json.dumps(document).encode()


# --- request ------------------------------------------------------------------------------


def test_build_token_request_matches_derived_vector() -> None:
    request = build_token_request(CREDENTIALS, nonce=NONCE)
    assert request.method == "POST"
    assert request.path == TOKEN_PATH == "/0/private/GetWebSocketsToken"
    assert request.body == b"nonce=1616492376594"
    assert dict(request.headers) == {
        "API-Key": "PUBLICKEY1234",
        "API-Sign": (
            "+mRDmY9Ks0Moc1zjv/BjfvYa98buO0x1yHChZR5onlfAzAUbfIYlLggUZzdQ0RsmXm4Sh+Q8iAIZdo2wSeHeiA=="
        ),
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": f"kraken_proto/{kraken_proto.__version__}",
    }
    assert request.header("api-sign") == request.headers[1][1]
    assert request.header("Host") is None


def test_build_token_request_with_otp_signs_the_whole_body() -> None:
    request = build_token_request(CREDENTIALS, nonce=NONCE, otp="12 34&5")
    assert parse_qsl(request.body.decode()) == [("nonce", str(NONCE)), ("otp", "12 34&5")]
    inner = hashlib.sha256(str(NONCE).encode() + request.body).digest()
    expected = hmac.new(base64.b64decode(SECRET), TOKEN_PATH.encode() + inner, hashlib.sha512)
    assert request.header("API-Sign") == base64.b64encode(expected.digest()).decode()


def test_token_request_repr_is_tidy() -> None:
    request = build_token_request(CREDENTIALS, nonce=NONCE, otp="123456")
    shown = repr(request)
    assert shown == (
        "RestRequest(method='POST', path='/0/private/GetWebSocketsToken', "
        "headers=[API-Key, API-Sign, Content-Type, User-Agent], body=<30 bytes>, cost=1)"
    )
    assert request.header("API-Sign") not in shown  # type: ignore[operator]
    assert SECRET not in shown
    assert "123456" not in shown


@pytest.mark.parametrize("otp", ["", 123456])
def test_build_token_request_rejects_bad_otp(otp: object) -> None:
    with pytest.raises(LocalProtocolError, match="otp"):
        build_token_request(CREDENTIALS, nonce=1, otp=otp)  # type: ignore[arg-type]


def test_build_token_request_rejects_bad_nonce_and_credentials() -> None:
    with pytest.raises(LocalProtocolError, match="nonce"):
        build_token_request(CREDENTIALS, nonce=-1)
    with pytest.raises(TypeError, match="expected Credentials, got dict"):
        build_token_request({"key": "k"}, nonce=1)  # type: ignore[arg-type]


# --- success ------------------------------------------------------------------------------


def test_parse_documented_success() -> None:
    body = b'{"error":[],"result":{"token":"%s","expires":900}}' % TOKEN.encode()
    token = parse_token_response(200, body)
    assert token == WebSocketToken(token=TOKEN, expires=900)
    assert token.warnings == ()


def test_parse_unescapes_json_slashes() -> None:
    body = b'{"error":[],"result":{"token":"xeAQ\\/RCChBYNVh53sTv1yZ5H4wIbwDF20PiHtTF+4UI",' + (
        b'"expires":900}}'
    )
    assert parse_token_response(200, body).token == "xeAQ/RCChBYNVh53sTv1yZ5H4wIbwDF20PiHtTF+4UI"


def test_parse_accepts_missing_error_list() -> None:
    body = b'{"result":{"token":"abc","expires":60}}'
    assert parse_token_response(200, body).expires == 60


def test_warnings_alongside_result_do_not_fail() -> None:
    body = response(["WGeneral:Deprecated endpoint"], {"token": TOKEN, "expires": 900})
    token = parse_token_response(200, body)
    assert token.token == TOKEN
    assert token.warnings == ("WGeneral:Deprecated endpoint",)
    assert repr(token) == (
        "WebSocketToken(token=<redacted>, expires=900, warnings=('WGeneral:Deprecated endpoint',))"
    )


def test_websockettoken_repr_redacts() -> None:
    token = WebSocketToken(token=TOKEN, expires=900)
    assert repr(token) == "WebSocketToken(token=<redacted>, expires=900)"
    assert str(token) == repr(token)


@given(value=tokens, expires=st.integers(min_value=1, max_value=10**6))
def test_token_never_in_repr(value: str, expires: int) -> None:
    token = parse_token_response(200, response([], {"token": value, "expires": expires}))
    assert token.token == value
    assert token.expires == expires
    for shown in (repr(token), str(token), repr([token]), f"{token}"):
        assert value not in shown


# --- Kraken errors ------------------------------------------------------------------------

KNOWN = [
    ("EAPI:Invalid key", InvalidKeyError, "KRAKEN_API_KEY"),
    ("EAPI:Invalid signature", InvalidSignatureError, "kraken-proto sign"),
    ("EAPI:Invalid nonce", InvalidNonceError, "NonceSource"),
    ("EGeneral:Permission denied", PermissionDeniedError, "WebSocket interface"),
    ("EGeneral:Temporary lockout", TemporaryLockoutError, "15 minutes"),
    ("EAPI:Rate limit exceeded", RateLimitExceededError, "back off"),
    ("EService:Unavailable", ServiceUnavailableError, "retry later"),
]


@pytest.mark.parametrize(("text", "cls", "hint"), KNOWN)
def test_each_kraken_error_maps_to_its_class(
    text: str, cls: type[TokenRequestError], hint: str
) -> None:
    with pytest.raises(cls) as caught:
        parse_token_response(200, response([text]))
    error = caught.value
    assert type(error) is cls
    assert isinstance(error, TokenRequestError)
    assert isinstance(error, kraken_proto.ProtocolError)
    assert text in str(error)
    assert hint in str(error)
    assert error.errors == (text,)
    assert error.status == 200
    assert error.error is not None
    assert error.error.text == text


@pytest.mark.parametrize(("text", "cls", "hint"), KNOWN)
def test_kraken_errors_match_by_prefix(text: str, cls: type[TokenRequestError], hint: str) -> None:
    detailed = f"{text}:some detail"
    with pytest.raises(cls, match=hint) as caught:
        parse_token_response(200, response([detailed], {}))
    assert detailed in str(caught.value)


def test_permission_denied_names_both_permission_labels() -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        parse_token_response(200, response(["EGeneral:Permission denied"]))
    assert "WebSocket interface" in str(caught.value)
    assert "Access WebSockets API" in str(caught.value)


@pytest.mark.parametrize(
    "text", ["EGeneral:Something new", "EAPI:Bad request", "EService:Sleepy", "Malformed"]
)
def test_unknown_errors_raise_base_class_verbatim(text: str) -> None:
    with pytest.raises(TokenRequestError) as caught:
        parse_token_response(200, response([text]))
    assert type(caught.value) is TokenRequestError
    assert str(caught.value) == f"GetWebSocketsToken failed: {text}"
    assert caught.value.errors == (text,)


def test_error_wins_over_result_and_warnings() -> None:
    errors = ["WGeneral:Something", "EAPI:Invalid nonce", "EAPI:Invalid key"]
    with pytest.raises(InvalidNonceError) as caught:
        parse_token_response(200, response(errors, {"token": TOKEN, "expires": 900}))
    assert caught.value.errors == tuple(errors)
    assert caught.value.error is not None
    assert caught.value.error.category == "API"
    assert TOKEN not in str(caught.value)


# --- HTTP and format errors -----------------------------------------------------------------


def test_non_200_status_names_status_and_excerpt() -> None:
    body = b"<html><head><title>502 Bad Gateway</title></head>\r\n<body>cloudflare</body></html>"
    with pytest.raises(TokenHTTPError) as caught:
        parse_token_response(502, body)
    message = str(caught.value)
    assert "HTTP status 502" in message
    assert "<title>502 Bad Gateway</title>" in message
    assert "\r" not in message
    assert "\n" not in message
    assert caught.value.status == 502
    assert caught.value.error is None


def test_http_error_excerpt_is_short() -> None:
    with pytest.raises(TokenHTTPError) as caught:
        parse_token_response(500, b"x " * 5_000 + b"\x00\xff")
    assert len(str(caught.value)) < 250
    assert str(caught.value).endswith("…'")


@given(value=tokens, status=st.sampled_from([201, 400, 403, 500, 503]))
def test_http_error_excerpt_redacts_tokens(value: str, status: int) -> None:
    body = response([], {"token": value, "expires": 900})
    for cut in (len(body), len(body) - 20):  # also a truncated body
        with pytest.raises(TokenHTTPError) as caught:
            parse_token_response(status, body[:cut])
        assert value not in str(caught.value)
        assert value[:16] not in str(caught.value)


@pytest.mark.parametrize(
    "body", [b"", b"<html>down</html>", b"\xff\xfe\x00", b'{"error": [', b"[" * 100_000]
)
def test_non_json_body(body: bytes) -> None:
    with pytest.raises(MalformedTokenResponseError, match="not JSON") as caught:
        parse_token_response(200, body)
    assert isinstance(caught.value, RemoteProtocolError)
    assert isinstance(caught.value, TokenRequestError)
    assert len(str(caught.value)) < 250


def test_truncated_success_body_never_leaks_token() -> None:
    body = response([], {"token": TOKEN, "expires": 900})[:-3]
    with pytest.raises(MalformedTokenResponseError) as caught:
        parse_token_response(200, body)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"[]", "expected a JSON object, got an array"),
        (b"null", "expected a JSON object, got null"),
        (b'"text"', "expected a JSON object, got a string"),
        (b'{"error": "EAPI:Invalid key"}', '"error" is not a list of strings'),
        (b'{"error": [1]}', '"error" is not a list of strings'),
        (b'{"error": []}', '"result" is missing'),
        (b'{"error": [], "result": [1]}', '"result" should be an object, got an array'),
        (b'{"result": {"expires": 900}}', '"result.token" should be a non-empty string, got null'),
        (b'{"result": {"token": "", "expires": 900}}', "got an empty string"),
        (
            b'{"result": {"token": 7, "expires": 900}}',
            'token" should be a non-empty string, got an',
        ),
        (b'{"result": {"token": "t"}}', '"result.expires" should be a positive integer, got null'),
        (b'{"result": {"token": "t", "expires": "900"}}', "got a string"),
        (b'{"result": {"token": "t", "expires": 900.0}}', "got a number"),
        (b'{"result": {"token": "t", "expires": true}}', "got a boolean"),
        (b'{"result": {"token": "t", "expires": 0}}', "got a non-positive integer"),
        (b'{"result": {"token": "t", "expires": {}}}', "got an object"),
    ],
)
def test_malformed_shapes(body: bytes, needle: str) -> None:
    with pytest.raises(MalformedTokenResponseError) as caught:
        parse_token_response(200, body)
    assert needle in str(caught.value)
    assert caught.value.status == 200


@given(value=tokens)
def test_malformed_shape_messages_never_contain_token(value: str) -> None:
    body = json.dumps({"error": [], "result": {"token": value, "expires": str(900)}}).encode()
    with pytest.raises(MalformedTokenResponseError) as caught:
        parse_token_response(200, body)
    assert value not in str(caught.value)
