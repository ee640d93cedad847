"""Command-line options generated from a request's own fields, so none is ever missing.

``add_request_options(parser, AddOrder)`` declares one ``--option`` per field of the request
struct (``cl_ord_id`` -> ``--cl-ord-id``), typed from its annotation: Decimals parsed
exactly from the text (never through a float), prices that may be relative (``+1%``) kept
as text, literal choices as ``choices``, booleans as flags, sets as comma-separated lists.
Fields without a default are required. ``request_from_args`` builds the request; its own
validation then names any bad field (``LocalProtocolError``, exit 2).
"""

from __future__ import annotations

import argparse
import re
import types
import typing
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

import msgspec
from kraken_proto import LocalProtocolError, Request

__all__ = ["add_request_options", "option_name", "request_from_args"]

RequestT = TypeVar("RequestT", bound=Request)

_DEST_PREFIX = "request_"


def option_name(field: str) -> str:
    """``cl_ord_id`` -> ``--cl-ord-id``."""
    return "--" + field.replace("_", "-")


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a decimal number: {text!r}") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _decimal_or_text(text: str) -> Decimal | str:
    # A relative price ("+1%", "#5", "-10") stays text: the request validates its forms.
    stripped = text.strip()
    if stripped[:1] in ("+", "-", "#") or stripped.endswith("%"):
        return stripped
    return _decimal(stripped)


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _int_or_text(text: str) -> int | str:
    stripped = text.strip()
    return int(stripped) if stripped.isdigit() else stripped


def _words(text: str) -> frozenset[str]:
    return frozenset(word.strip() for word in text.split(",") if word.strip())


def _members(hint: Any) -> tuple[Any, ...]:
    """The non-None members of a union (or the type itself)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return tuple(arg for arg in typing.get_args(hint) if arg is not type(None))
    return (hint,)


def _literal_choices(members: tuple[Any, ...]) -> list[str] | None:
    if len(members) == 1 and typing.get_origin(members[0]) is Literal:
        return [str(choice) for choice in typing.get_args(members[0])]
    return None


def _converter(hint: Any) -> Callable[[str], Any]:
    members = set(_members(hint))
    if members == {Decimal}:
        return _decimal
    if members == {Decimal, str}:
        return _decimal_or_text
    if members == {int}:
        return _int
    if members == {int, str}:
        return _int_or_text
    if any(typing.get_origin(member) is frozenset for member in members):
        return _words
    return str


def add_request_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    request_class: type[Request],
    *,
    helps: Mapping[str, str] | None = None,
    skip: frozenset[str] = frozenset(),
    choices: Mapping[str, Collection[str]] | None = None,
    names: Mapping[str, str] | None = None,
) -> None:
    """Declare one option per field of ``request_class`` (except ``skip``).

    ``choices``: the values a text field may take (offered in ``--help``, others refused by
    argparse); ``names``: an option name for a field other than its own (``{"txid":
    "order_id"}`` declares ``--order-id`` for ``txid``).
    """
    hints = typing.get_type_hints(request_class)
    helps = helps or {}
    choices = choices or {}
    names = names or {}
    for field in msgspec.structs.fields(request_class):
        name = field.name
        if name in skip:
            continue
        hint = hints[name]
        required = field.required
        text = helps.get(name, f"Kraken's {name}")
        dest = _DEST_PREFIX + name
        members = _members(hint)
        option = option_name(names.get(name, name))
        if members == (bool,):
            if hint is bool:
                parser.add_argument(option, dest=dest, action="store_true", default=None, help=text)
            else:
                parser.add_argument(
                    option,
                    dest=dest,
                    action=argparse.BooleanOptionalAction,
                    default=None,
                    help=text,
                )
            continue
        allowed = sorted(choices[name]) if name in choices else _literal_choices(members)
        kind: dict[str, Any] = (
            {"choices": allowed}
            if allowed
            else {"type": _converter(hint), "metavar": names.get(name, name).upper()}
        )
        parser.add_argument(
            option,
            dest=dest,
            required=required,
            default=None,
            help=text + (" (required)" if required else ""),
            **kind,
        )


def request_from_args(
    request_class: type[RequestT],
    args: argparse.Namespace,
    *,
    names: Mapping[str, str] | None = None,
) -> RequestT:
    """Build ``request_class`` from the options ``add_request_options`` declared (fields left
    unset keep their defaults). Raises the request's ``LocalProtocolError`` for bad values;
    when it names a field declared under another option name (``names``, as given to
    ``add_request_options``), the message says which option that is."""
    values: dict[str, Any] = {}
    for field in msgspec.structs.fields(request_class):
        value = getattr(args, _DEST_PREFIX + field.name, None)
        if value is None:
            continue
        values[field.name] = value
    try:
        return request_class(**values)
    except LocalProtocolError as error:
        message = str(error)
        renamed = [
            f"{field} is {option_name(option)} here"
            for field, option in (names or {}).items()
            if re.search(rf"\b{field}\b", message)
        ]
        if not renamed:
            raise
        raise LocalProtocolError(f"{message} ({'; '.join(renamed)})") from None
