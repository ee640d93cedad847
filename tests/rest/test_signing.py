"""sign(), Credentials and NonceSource: official vectors, a stdlib reference, redaction."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools

import kraken_proto
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import (
    Credentials,
    CredentialsError,
    InvalidSecretError,
    LocalProtocolError,
    MissingCredentialError,
)
from kraken_proto.rest import NonceSource, sign

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
NONCE = 1616492376594
TOKEN_PATH = "/0/private/GetWebSocketsToken"
OFFICIAL_SIGN = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)
TOKEN_FORM_SIGN = (
    "+mRDmY9Ks0Moc1zjv/BjfvYa98buO0x1yHChZR5onlfAzAUbfIYlLggUZzdQ0RsmXm4Sh+Q8iAIZdo2wSeHeiA=="
)
TOKEN_JSON_SIGN = (
    "HPdpJhpIrtLjJZVt+Hh9BfWStC+WBySrpgTLHtVBJ7ZH9UdJOtersnssuRGVwxefF6bnUPz24Bq23UUmUtafXg=="
)

secrets = st.binary(min_size=64, max_size=64).map(lambda raw: base64.b64encode(raw).decode())


def reference_sign(secret: str, urlpath: str, nonce: int, postdata: bytes) -> str:
    """Kraken's algorithm written independently with the standard library."""
    inner = hashlib.sha256(str(nonce).encode() + postdata).digest()
    mac = hmac.new(base64.b64decode(secret), urlpath.encode() + inner, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


# --- vectors (section 6.3) ----------------------------------------------------------------


def test_official_vector() -> None:
    postdata = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
    assert (
        sign(secret=SECRET, urlpath="/0/private/AddOrder", nonce=NONCE, postdata=postdata)
        == OFFICIAL_SIGN
    )


def test_derived_vector_form_body() -> None:
    assert (
        sign(secret=SECRET, urlpath=TOKEN_PATH, nonce=NONCE, postdata="nonce=1616492376594")
        == TOKEN_FORM_SIGN
    )


def test_derived_vector_json_body_as_bytes_and_string_nonce() -> None:
    assert (
        sign(
            secret=SECRET.encode(),
            urlpath=TOKEN_PATH,
            nonce="1616492376594",
            postdata=b'{"nonce":"1616492376594"}',
        )
        == TOKEN_JSON_SIGN
    )


def test_surrounding_whitespace_in_secret_is_ignored() -> None:
    plain = sign(secret=SECRET, urlpath=TOKEN_PATH, nonce=1, postdata="nonce=1")
    assert sign(secret=f" {SECRET}\n", urlpath=TOKEN_PATH, nonce=1, postdata="nonce=1") == plain


@given(
    secret=secrets,
    path=st.text(max_size=40).map(lambda tail: "/" + tail),
    nonce=st.integers(min_value=0, max_value=2**64 - 1),
    body=st.binary(max_size=200),
)
def test_sign_matches_stdlib_reference(secret: str, path: str, nonce: int, body: bytes) -> None:
    assert sign(secret=secret, urlpath=path, nonce=nonce, postdata=body) == reference_sign(
        secret, path, nonce, body
    )


@given(secret=secrets, body=st.text(max_size=100))
def test_str_postdata_is_signed_as_utf8(secret: str, body: str) -> None:
    expected = reference_sign(secret, TOKEN_PATH, 7, body.encode())
    assert sign(secret=secret, urlpath=TOKEN_PATH, nonce=7, postdata=body) == expected


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "needle"),
    [
        ("not base64!", "not valid base64"),
        (SECRET[:-2], "not valid base64"),  # bad padding
        ("kraken-ünïcode-secret", "not valid base64"),
        ("", "decodes to 0 bytes"),
        (base64.b64encode(b"k" * 42).decode(), "decodes to 42 bytes"),
    ],
)
def test_invalid_secret_raises_clear_value_error(secret: str, needle: str) -> None:
    with pytest.raises(InvalidSecretError, match=needle) as caught:
        sign(secret=secret, urlpath=TOKEN_PATH, nonce=1, postdata="nonce=1")
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, kraken_proto.ProtocolError)
    assert caught.value.__context__ is None
    assert caught.value.__cause__ is None


def test_secret_of_wrong_type() -> None:
    with pytest.raises(InvalidSecretError, match="str or bytes, got int"):
        sign(secret=12, urlpath=TOKEN_PATH, nonce=1, postdata="")  # type: ignore[arg-type]


@given(
    raw=st.binary(min_size=16, max_size=80),
    junk=st.sampled_from(["!", "*", "é", "=A", "-_"]),
    position=st.integers(min_value=0, max_value=200),
)
def test_invalid_secret_message_never_echoes_it(raw: bytes, junk: str, position: int) -> None:
    text = base64.b64encode(raw).decode()
    cut = position % (len(text) + 1)
    secret = text[:cut] + junk + text[cut:]
    with pytest.raises(InvalidSecretError) as caught:
        sign(secret=secret, urlpath=TOKEN_PATH, nonce=1, postdata="nonce=1")
    shown = str(caught.value) + repr(caught.value)
    assert secret not in shown
    assert text not in shown


@given(raw=st.binary(min_size=1, max_size=120).filter(lambda raw: len(raw) != 64))
def test_wrong_length_secret_message_never_echoes_it(raw: bytes) -> None:
    secret = base64.b64encode(raw).decode()
    with pytest.raises(InvalidSecretError, match=f"decodes to {len(raw)} bytes") as caught:
        Credentials(api_key="key", api_secret=secret)
    assert secret not in str(caught.value) + repr(caught.value)


@pytest.mark.parametrize(
    ("nonce", "needle"),
    [
        (True, "got bool"),
        (1.5, "got float"),
        ("12a", "ASCII digits"),
        ("١٢", "ASCII digits"),
        ("", "ASCII digits"),
        (-1, "0..2"),
        (2**64, "0..2"),
        (str(2**64), "0..2"),
    ],
)
def test_invalid_nonce(nonce: object, needle: str) -> None:
    with pytest.raises(LocalProtocolError, match=needle):
        sign(secret=SECRET, urlpath=TOKEN_PATH, nonce=nonce, postdata="")  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["https://api.kraken.com/0/private/AddOrder", "0/private", ""])
def test_urlpath_must_start_with_slash(path: str) -> None:
    with pytest.raises(LocalProtocolError, match="urlpath"):
        sign(secret=SECRET, urlpath=path, nonce=1, postdata="")


def test_postdata_of_wrong_type() -> None:
    with pytest.raises(LocalProtocolError, match="postdata: must be str or bytes, got dict"):
        sign(secret=SECRET, urlpath=TOKEN_PATH, nonce=1, postdata={"nonce": 1})  # type: ignore[arg-type]


# --- Credentials ----------------------------------------------------------------------------


def test_credentials_repr_shows_key_prefix_only() -> None:
    credentials = Credentials(api_key="AbCdEfGh12345", api_secret=SECRET)
    assert repr(credentials) == "Credentials(api_key='AbCd…', api_secret=<redacted>)"
    assert str(credentials) == repr(credentials)
    assert f"{credentials}" == repr(credentials)
    assert repr(Credentials(api_key="abc", api_secret=SECRET)) == (
        "Credentials(api_key='…', api_secret=<redacted>)"
    )


@given(secret=secrets, key=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ+/=", min_size=1))
def test_credentials_repr_never_contains_secret(secret: str, key: str) -> None:
    credentials = Credentials(api_key=key, api_secret=secret)
    for shown in (repr(credentials), str(credentials), repr([credentials])):
        assert secret not in shown
        assert secret.rstrip("=") not in shown


def test_credentials_sign_uses_its_secret() -> None:
    credentials = Credentials(api_key="key", api_secret=SECRET)
    assert credentials.sign(urlpath=TOKEN_PATH, nonce=NONCE, postdata="nonce=1616492376594") == (
        TOKEN_FORM_SIGN
    )


def test_credentials_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        Credentials("key", SECRET)  # type: ignore[call-arg]


@pytest.mark.parametrize("key", ["", "with space", "trailing\n", "ünï", 42])
def test_credentials_reject_bad_key(key: object) -> None:
    with pytest.raises(CredentialsError, match="api_key"):
        Credentials(api_key=key, api_secret=SECRET)  # type: ignore[arg-type]


def test_credentials_reject_bad_secret() -> None:
    with pytest.raises(InvalidSecretError, match="api_secret: must be str, got bytes"):
        Credentials(api_key="key", api_secret=SECRET.encode())  # type: ignore[arg-type]
    with pytest.raises(InvalidSecretError, match="not valid base64"):
        Credentials(api_key="key", api_secret="nope!")


def test_from_env_reads_both_variables() -> None:
    credentials = Credentials.from_env(
        {"KRAKEN_API_KEY": "key123", "KRAKEN_API_SECRET": SECRET + "\n"}
    )
    assert credentials == Credentials(api_key="key123", api_secret=SECRET)


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({"KRAKEN_API_SECRET": SECRET}, ("KRAKEN_API_KEY",)),
        ({"KRAKEN_API_KEY": "key"}, ("KRAKEN_API_SECRET",)),
        ({"KRAKEN_API_KEY": "key", "KRAKEN_API_SECRET": "  "}, ("KRAKEN_API_SECRET",)),
        ({}, ("KRAKEN_API_KEY", "KRAKEN_API_SECRET")),
    ],
)
def test_from_env_names_missing_variables(
    environ: dict[str, str], missing: tuple[str, ...]
) -> None:
    with pytest.raises(MissingCredentialError) as caught:
        Credentials.from_env(environ)
    assert caught.value.variables == missing
    for name in missing:
        assert name in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_from_env_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", "envkey")
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)
    assert Credentials.from_env().api_key == "envkey"
    monkeypatch.delenv("KRAKEN_API_KEY")
    with pytest.raises(MissingCredentialError, match="KRAKEN_API_KEY is not set"):
        Credentials.from_env()


def test_from_env_error_never_contains_secret() -> None:
    with pytest.raises(MissingCredentialError) as caught:
        Credentials.from_env({"KRAKEN_API_SECRET": SECRET})
    assert SECRET not in str(caught.value)


# --- NonceSource ----------------------------------------------------------------------------


def test_nonce_source_uses_microseconds_by_default() -> None:
    source = NonceSource()
    assert source.units_per_second == 1_000_000
    assert source.next(1_700_000_000.25) == 1_700_000_000_250_000
    assert source.last == 1_700_000_000_250_000
    assert repr(source) == "NonceSource(units_per_second=1000000, last=1700000000250000)"


def test_nonce_source_survives_clock_standing_still_and_stepping_back() -> None:
    source = NonceSource(units_per_second=1000)
    assert [source.next(t) for t in (10.0, 10.0, 9.0, 10.0005, 11.0)] == [
        10_000,
        10_001,
        10_002,
        10_003,
        11_000,
    ]


def test_nonce_source_seed_is_respected() -> None:
    source = NonceSource(last=5_000_000_000_000_000)
    assert source.next(1_700_000_000.0) == 5_000_000_000_000_001


@given(
    readings=st.lists(
        st.one_of(
            st.floats(min_value=0, max_value=4e9, allow_nan=False),
            st.integers(min_value=0, max_value=4_000_000_000),
        ),
        min_size=1,
        max_size=60,
    ),
    units=st.sampled_from([1, 1000, 1_000_000, 1_000_000_000]),
)
def test_nonce_source_strictly_increasing(readings: list[float], units: int) -> None:
    source = NonceSource(units_per_second=units)
    nonces = [source.next(now) for now in readings]
    assert all(a < b for a, b in itertools.pairwise(nonces))
    assert all(n >= int(now * units) for n, now in zip(nonces, readings, strict=True))


@given(readings=st.lists(st.floats(min_value=1e9, max_value=2e9), min_size=2, max_size=30))
def test_nonce_source_repeats_and_steps_back(readings: list[float]) -> None:
    # Feed every reading twice and then in reverse: the worst case for a clock.
    source = NonceSource()
    schedule = [t for t in readings for _ in range(2)] + readings[::-1]
    nonces = [source.next(now) for now in schedule]
    assert nonces == sorted(set(nonces))


@pytest.mark.parametrize("now", [float("nan"), float("inf"), -float("inf"), True, "1"])
def test_nonce_source_rejects_bad_now_and_stays_unchanged(now: object) -> None:
    source = NonceSource(last=42)
    with pytest.raises(LocalProtocolError, match="now"):
        source.next(now)  # type: ignore[arg-type]
    assert source.last == 42


def test_nonce_source_refuses_to_overflow_64_bits() -> None:
    source = NonceSource(last=2**64 - 1)
    with pytest.raises(LocalProtocolError, match="2\\*\\*64-1"):
        source.next(1.0)
    assert source.last == 2**64 - 1
    with pytest.raises(LocalProtocolError, match="2\\*\\*64-1"):
        NonceSource(units_per_second=10**12).next(1e9)


@pytest.mark.parametrize("units", [0, -5, True, 1.5])
def test_nonce_source_rejects_bad_units(units: object) -> None:
    with pytest.raises(LocalProtocolError, match="units_per_second"):
        NonceSource(units_per_second=units)  # type: ignore[arg-type]


@pytest.mark.parametrize("last", [-1, 2**64, False, "5"])
def test_nonce_source_rejects_bad_seed(last: object) -> None:
    with pytest.raises(LocalProtocolError, match="last"):
        NonceSource(last=last)  # type: ignore[arg-type]
