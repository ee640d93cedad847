"""Secrets never show: Secret, Credentials, tokens, redacted bodies, tracebacks with locals."""

from __future__ import annotations

import copy
import json
import logging
import pickle
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import (
    Credentials,
    InvalidSecretError,
    LocalProtocolError,
    MissingCredentialError,
    RestError,
    Secret,
)
from kraken_proto.rest import (
    MalformedRestResponseError,
    WebSocketToken,
    build_open_orders_request,
    parse_closed_orders_response,
    parse_open_orders_response,
    parse_query_orders_response,
    parse_query_trades_response,
    parse_token_response,
    parse_trades_history_response,
    sign,
)
from kraken_proto.rest._errors import body_excerpt, redact_body_text

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
TOKEN = "1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw"
PARSERS: list[Callable[[int, bytes], Any]] = [
    parse_open_orders_response,
    parse_closed_orders_response,
    parse_query_orders_response,
    parse_trades_history_response,
    parse_query_trades_response,
    parse_token_response,
]
token_values = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    min_size=20,
    max_size=60,
)


def rendered_with_locals(error: BaseException) -> str:
    """The traceback as an error reporter renders it, locals included, restricted to the
    library's own frames (the test's frames hold the secret on purpose)."""
    exception = traceback.TracebackException.from_exception(error, capture_locals=True)
    library = [frame for frame in exception.stack if "/kraken_proto/" in frame.filename]
    assert library, "the error should pass through the library"
    exception.stack = traceback.StackSummary.from_list(library)
    return "".join(exception.format())


def test_secret_redacts_everywhere() -> None:
    secret = Secret("hunter2-very-secret")
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret:>30}", "{}".format(secret)):  # noqa: UP032
        assert shown == "Secret('…')"
    assert secret.reveal() == "hunter2-very-secret"
    assert Secret(secret).reveal() == "hunter2-very-secret"
    assert secret == Secret("hunter2-very-secret")
    assert secret != Secret("other")
    assert secret != "hunter2-very-secret"
    assert hash(secret) == hash(Secret("hunter2-very-secret"))
    assert len(secret) == 19
    assert bool(secret)
    assert not Secret("")
    assert not hasattr(secret, "__dict__")
    with pytest.raises(AttributeError):
        secret._value = "x"
    with pytest.raises(TypeError, match="refusing to pickle"):
        pickle.dumps(secret)
    assert copy.copy(secret) is secret
    assert copy.deepcopy({"k": secret})["k"] is secret
    with pytest.raises(TypeError, match="expected str, got bytes"):
        Secret(b"raw")  # type: ignore[arg-type]


def test_credentials_hold_the_secret_redacted() -> None:
    credentials = Credentials(api_key="AbCdEfGh", api_secret=SECRET)
    assert isinstance(credentials.api_secret, Secret)
    assert credentials.api_secret.reveal() == SECRET
    assert Credentials(api_key="AbCdEfGh", api_secret=Secret(SECRET)) == credentials
    assert credentials != Credentials(api_key="Other", api_secret=SECRET)
    assert credentials != "AbCdEfGh"
    assert hash(credentials) == hash(Credentials(api_key="AbCdEfGh", api_secret=SECRET))
    with pytest.raises(AttributeError):
        credentials.api_key = "x"  # type: ignore[misc]
    with pytest.raises(TypeError, match="refusing to pickle"):
        pickle.dumps(credentials)
    assert copy.copy(credentials) is credentials
    assert copy.deepcopy([credentials])[0] is credentials
    assert SECRET not in repr(vars(Credentials)) or True  # slots: no instance __dict__
    assert not hasattr(credentials, "__dict__")
    assert sign(
        secret=credentials.api_secret, urlpath="/0/private/X", nonce=1, postdata=b"nonce=1"
    ) == sign(secret=SECRET, urlpath="/0/private/X", nonce=1, postdata=b"nonce=1")
    assert sign(
        secret=SECRET.encode(), urlpath="/0/private/X", nonce=1, postdata=b"nonce=1"
    ) == credentials.sign(urlpath="/0/private/X", nonce=1, postdata=b"nonce=1")


def test_traceback_locals_never_show_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    credentials = Credentials(api_key="AbCdEfGh", api_secret=SECRET)

    with pytest.raises(LocalProtocolError) as caught:
        build_open_orders_request(credentials, nonce=1, userref="x")  # type: ignore[arg-type]
    text = rendered_with_locals(caught.value)
    assert "credentials = Credentials(api_key='AbCd…', api_secret=<redacted>)" in text
    assert SECRET not in text
    with pytest.raises(LocalProtocolError) as signing:
        sign(secret=SECRET, urlpath="no-slash", nonce=1, postdata=b"")
    assert SECRET not in rendered_with_locals(signing.value)
    assert "Secret('…')" in rendered_with_locals(signing.value)
    logging.getLogger("test").warning("credentials %s %r", credentials, credentials.api_secret)
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    "secret",
    [SECRET[:-4], "!" + SECRET[1:], "QUJD" * 10],  # too short, not base64, wrong length
)
def test_bad_secret_errors_leave_no_secret_in_locals(secret: str) -> None:
    with pytest.raises(InvalidSecretError) as caught:
        Credentials(api_key="key", api_secret=secret)
    text = rendered_with_locals(caught.value)
    assert secret not in text
    assert secret[:20] not in text


def test_from_env_errors_do_not_show_the_environment() -> None:
    environ = {"KRAKEN_API_SECRET": SECRET}
    with pytest.raises(MissingCredentialError) as caught:
        Credentials.from_env(environ)
    assert SECRET not in rendered_with_locals(caught.value)
    environ["KRAKEN_API_KEY"] = "key"
    assert Credentials.from_env(environ).api_secret.reveal() == SECRET


def test_token_is_held_as_a_secret() -> None:
    body = json.dumps({"error": [], "result": {"token": TOKEN, "expires": 900}}).encode()
    token = parse_token_response(200, body)
    assert token.token == TOKEN
    assert token.secret == Secret(TOKEN)
    assert token == WebSocketToken(token=TOKEN, expires=900)
    assert token != WebSocketToken(token=TOKEN, expires=899)
    assert token != TOKEN
    assert hash(token) == hash(WebSocketToken(token=Secret(TOKEN), expires=900))
    assert TOKEN not in repr(token)
    assert not hasattr(token, "__dict__")
    with pytest.raises(AttributeError):
        token.expires = 5


@pytest.mark.parametrize(
    "body",
    [
        {"error": [], "result": {"token": TOKEN, "expires": 0}},
        {"error": [], "result": {"token": TOKEN, "expires": "soon"}},
        {"error": [f"EGeneral:Invalid arguments:{TOKEN}"], "result": {"token": TOKEN}},
    ],
)
def test_token_parse_errors_keep_the_token_out_of_locals(body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    with pytest.raises(RestError) as caught:
        parse_token_response(200, raw)
    text = rendered_with_locals(caught.value)
    assert TOKEN not in text
    assert TOKEN not in str(caught.value)


@given(
    token=token_values,
    before=st.text(max_size=30),
    after=st.text(max_size=30),
    status=st.sampled_from([200, 400, 500, 502]),
    shape=st.sampled_from(["raw", "error", "key", "field", "html", "token"]),
)
def test_no_token_shaped_value_reaches_a_message(
    token: str, before: str, after: str, status: int, shape: str
) -> None:
    """Whatever the body, no message carries a token-shaped value from it."""
    if shape == "raw":
        body = (before + token + after).encode()
    elif shape == "error":
        body = json.dumps({"error": [f"{before}{token}{after}"]}).encode()
    elif shape == "key":
        body = json.dumps({"error": [], "result": {"open": {token: 5}, token: 5}}).encode()
    elif shape == "field":
        body = json.dumps({"error": [], "result": {"open": {"O-1": {token: token}}}}).encode()
    elif shape == "html":
        body = f"<html><p>{before}</p><code>{token}</code>{after}</html>".encode()
    else:
        body = json.dumps({"error": [], "result": {"token": token, "expires": True}}).encode()
    for parse in PARSERS:
        try:
            parse(status, body)
        except RestError as error:
            message = str(error)
        else:
            continue
        assert token not in message
        assert token[:20] not in message


def test_excerpt_drops_a_token_cut_by_the_scan_limit() -> None:
    body = b"x " * 2047 + TOKEN.encode() * 3
    excerpt = body_excerpt(body)
    assert TOKEN[:8] not in excerpt
    assert body_excerpt(b'{"token":"abc') == repr('{"token":<redacted>')
    assert redact_body_text(f"id OQCLML-BW3P3-BUCMWZ and {TOKEN}") == (
        "id OQCLML-BW3P3-BUCMWZ and <redacted>"
    )


def test_malformed_key_path_is_redacted_and_bounded() -> None:
    body = json.dumps({"result": {"open": {TOKEN + "\n" + "k" * 90: []}}}).encode()
    with pytest.raises(MalformedRestResponseError) as caught:
        parse_open_orders_response(200, body)
    message = str(caught.value)
    assert TOKEN not in message
    assert "\n" not in message


def test_rest_fuzz_harness_holds_both_invariants() -> None:
    from fuzz import _harness, fuzz_rest

    ran = _harness.run_loop(fuzz_rest.TARGET, iterations=1500, seed=5)
    assert ran == 1500 + len(_harness.corpus_inputs(fuzz_rest.TARGET))


def test_rest_fuzz_harness_catches_a_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    from kraken_proto.testing.fuzz import _rest  # where the check (and its PARSERS) lives

    from fuzz import fuzz_rest

    def leaky(status: int, body: bytes) -> None:
        raise RestError(body.decode("utf-8", "replace"))

    monkeypatch.setattr(_rest, "PARSERS", (("leaky", leaky),))
    with pytest.raises(AssertionError, match="quoted"):
        fuzz_rest.check(b"\x00\x00" + TOKEN.encode())


def test_an_error_inside_the_hmac_shows_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import base64
    import types

    import kraken_proto.rest._signing as signing

    def exploding_hmac(key: bytes, algorithm: object) -> None:
        raise KeyboardInterrupt  # e.g. Ctrl-C while signing

    monkeypatch.setattr(signing, "crypto_hmac", types.SimpleNamespace(HMAC=exploding_hmac))
    credentials = Credentials(api_key="AbCdEfGh", api_secret=SECRET)
    with pytest.raises(KeyboardInterrupt) as caught:
        build_open_orders_request(credentials, nonce=1)
    text = rendered_with_locals(caught.value)
    assert "<API secret bytes redacted>" in text
    assert SECRET not in text
    assert repr(base64.b64decode(SECRET))[2:30] not in text
    with pytest.raises(KeyboardInterrupt) as plain:
        sign(secret=SECRET.encode(), urlpath="/0/private/X", nonce=1, postdata=b"")
    assert SECRET not in rendered_with_locals(plain.value)
