"""CLI building blocks: request options from fields, --since, tables, exit-code mapping."""

from __future__ import annotations

import argparse
import io
import json
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import (
    AddOrder,
    AmendOrder,
    CancelAllOrdersAfter,
    EditOrder,
    LocalProtocolError,
    RemoteProtocolError,
)
from kraken_proto.adapters.cli._common import (
    USAGE,
    CliError,
    guarded,
    print_table,
    since_option,
    unix_time_text,
)
from kraken_proto.adapters.cli._request_options import add_request_options, request_from_args


def parser_for(request_class: type) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="test", exit_on_error=False)
    add_request_options(parser, request_class)
    return parser


@pytest.mark.parametrize("request_class", [AddOrder, EditOrder, AmendOrder, CancelAllOrdersAfter])
def test_every_field_is_an_option(request_class: type) -> None:
    help_text = parser_for(request_class).format_help()
    for field in msgspec.structs.fields(request_class):
        assert "--" + field.name.replace("_", "-") in help_text


def test_add_order_from_options_is_exact() -> None:
    args = parser_for(AddOrder).parse_args(
        [
            "--ordertype",
            "stop-loss-limit",
            "--type",
            "sell",
            "--pair",
            "XBT/USD",
            "--volume",
            "1.25000000",
            "--price",
            "37500.1",
            "--price2=-1%",
            "--oflags",
            "fciq, nompp",
            "--no-reduce-only",
            "--validate",
            "--starttm",
            "+60",
            "--userref",
            "-7",
            "--timeinforce",
            "GTC",
        ]
    )
    order = request_from_args(AddOrder, args)
    assert order.volume == Decimal("1.25000000")
    assert str(order.volume) == "1.25000000"
    assert order.price == Decimal("37500.1")
    assert order.price2 == "-1%"
    assert order.oflags == frozenset({"fciq", "nompp"})
    assert order.reduce_only is False
    assert order.validate is True
    assert order.starttm == "+60"
    assert order.userref == -7
    assert order.margin is None


def test_required_fields_and_choices_are_enforced() -> None:
    parser = parser_for(AddOrder)
    with pytest.raises(SystemExit):
        parser.parse_args(["--type", "buy"])  # --ordertype, --pair, --volume missing
    with pytest.raises((SystemExit, argparse.ArgumentError)):
        parser.parse_args(
            ["--ordertype", "limit", "--type", "hold", "--pair", "X", "--volume", "1"]
        )


@pytest.mark.parametrize("bad", ["abc", "1e", "NaN", "Infinity"])
def test_a_bad_decimal_is_a_usage_error(bad: str) -> None:
    with pytest.raises((SystemExit, argparse.ArgumentError)):
        parser_for(AddOrder).parse_args(
            ["--ordertype", "limit", "--type", "buy", "--pair", "X", "--volume", bad]
        )


def test_int_options_and_int_or_text() -> None:
    with pytest.raises((SystemExit, argparse.ArgumentError)):
        parser_for(CancelAllOrdersAfter).parse_args(["--timeout", "soon"])
    edit = request_from_args(
        EditOrder,
        parser_for(EditOrder).parse_args(["--orderid", "42", "--pair", "XBT/USD", "--volume", "2"]),
    )
    assert edit.orderid == 42
    amend = request_from_args(
        AmendOrder,
        parser_for(AmendOrder).parse_args(
            ["--txid", "OABCDE-FGHIJ-KLMNOP", "--limit-price", "+5", "--post-only"]
        ),
    )
    assert amend.limit_price == "+5"
    assert amend.post_only is True


def test_the_request_validates_what_the_options_let_through() -> None:
    args = parser_for(AddOrder).parse_args(
        ["--ordertype", "limit", "--type", "buy", "--pair", "XBT/USD", "--volume", "-1"]
    )
    with pytest.raises(LocalProtocolError, match="volume"):
        request_from_args(AddOrder, args)


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1699990000", Decimal("1699990000")),
        ("1699990000.5", Decimal("1699990000.5")),
        ("2h", Decimal(1_700_000_000 - 7200)),
        ("30m", Decimal(1_700_000_000 - 1800)),
        ("1.5d", Decimal(1_700_000_000 - 129600)),
        ("1w", Decimal(1_700_000_000 - 604800)),
        ("100000w", Decimal(0)),
        ("2023-11-14T22:13:20", Decimal(1_700_000_000)),
        ("2023-11-14T22:13:20Z", Decimal(1_700_000_000)),
        ("2023-11-14T23:13:20+01:00", Decimal(1_700_000_000)),
        ("TDLH43-DVQXD-2KHVYY", "TDLH43-DVQXD-2KHVYY"),
    ],
)
def test_since_forms(text: str, expected: Decimal | str) -> None:
    assert since_option(text, NOW) == expected


def test_since_nonsense_is_a_usage_error() -> None:
    with pytest.raises(CliError) as caught:
        since_option("yesterday-ish", NOW)
    assert caught.value.code == USAGE


def test_print_table_aligns_numbers_right() -> None:
    out = io.StringIO()
    print_table(["NAME", "VOL"], [["a", Decimal("0E-8")], ["bbb", Decimal("12.5")]], out)
    assert out.getvalue().splitlines() == [
        "NAME         VOL",
        "a     0.00000000",
        "bbb         12.5",
    ]
    empty = io.StringIO()
    print_table(["A", "B"], [], empty)
    assert empty.getvalue() == "A  B\n"


def test_unix_time_text() -> None:
    assert unix_time_text(None) == "-"
    assert unix_time_text(Decimal(0)) == "-"
    assert unix_time_text(Decimal("1700000000.123456")) == "2023-11-14 22:13:20"


def test_guarded_maps_errors_to_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    def raising(error: BaseException) -> int:
        raise error

    assert guarded("x", lambda: raising(CliError("nope", 3))) == 3
    assert guarded("x", lambda: raising(LocalProtocolError("volume: bad"))) == 2
    assert guarded("x", lambda: raising(RemoteProtocolError("broken"))) == 1
    assert guarded("x", lambda: raising(ConnectionRefusedError())) == 1
    err = capsys.readouterr().err
    assert "kraken-proto x: nope" in err
    assert "kraken-proto x: volume: bad" in err
    assert "ConnectionRefusedError" in err


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_json_decimals_are_exact_and_positional(value: Decimal) -> None:
    from kraken_proto.adapters.cli._common import dumps

    text = json.loads(dumps({"v": value}))["v"]
    assert Decimal(text) == value
    assert "E" not in text.upper()
    if value.as_tuple().exponent <= 0:  # type: ignore[operator]
        assert text == format(value, "f")  # every digit Kraken sent, trailing zeros too
