"""JSON building blocks: any JSON value, exact decimal digits, and frames as trees.

Frames are parsed with ``Decimal`` for every number with a fraction or exponent and encoded with
``Decimal`` as a JSON number, so a frame that goes through ``parse_frame``/``encode_frame``
keeps every digit it had (a v2 ``26500.0`` stays ``26500.0``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import msgspec
from hypothesis import strategies as st

__all__ = [
    "Path",
    "decimal_texts",
    "encode_frame",
    "json_values",
    "node_paths",
    "parse_frame",
    "rendered",
    "replace_at",
    "texts",
]

Path = tuple[str | int, ...]
"""Where a node sits in a parsed frame: object keys and array indices from the root."""

_parser: msgspec.json.Decoder[Any] = msgspec.json.Decoder(float_hook=Decimal)
# Any character but a lone surrogate (JSON text cannot carry one). Said by category rather than
# by Hypothesis's default (a UTF-8 codec), whose character table takes seconds to build on a
# first run: long enough for the health check to fail the first test that draws a string.
_CHARACTERS = st.characters(exclude_categories=["Cs"])


def texts(*, max_size: int) -> st.SearchStrategy[str]:
    """Strings of up to ``max_size`` characters, any but lone surrogates."""
    return st.text(_CHARACTERS, max_size=max_size)


_encoder = msgspec.json.Encoder(decimal_format="number")


def json_values(*, keys: Sequence[str] = (), max_leaves: int = 20) -> st.SearchStrategy[Any]:
    """Any JSON value as Python builtins: ``None``, booleans, integers within ``±2**70`` (past
    64 bits on purpose), finite floats, strings of up to 20 characters, and arrays and objects
    of those, nested, with at most ``max_leaves`` leaves. Object keys are short strings or one
    of ``keys`` (pass a protocol's own keys, such as ``"event"`` or ``"channel"``, so objects
    reach the branches a decoder takes on them)."""
    leaves = (
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | texts(max_size=20)
    )
    key = st.sampled_from(list(keys)) | texts(max_size=6) if keys else texts(max_size=6)
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(key, children, max_size=5)
        ),
        max_leaves=max_leaves,
    )


def decimal_texts(
    *, places: int | None = None, max_digits: int = 12, signed: bool = False
) -> st.SearchStrategy[str]:
    """Decimal numbers as exact digit strings in positional notation, never through a float:
    ``"0.00010000"``, ``"26500.4"``, ``"7"``. ``places``: exactly that many digits after the
    point (Kraken v1 pads every amount: ``"0.00000000"``); ``None``: 0 to 10 of them.
    ``max_digits`` bounds the digits before the point; ``signed`` allows a leading ``-``."""
    if places is None:
        return st.one_of(
            [
                decimal_texts(places=count, max_digits=max_digits, signed=signed)
                for count in range(11)
            ]
        )
    # One integer per number: drawing is what costs, so the digits come from a single draw.
    limit = 10 ** (max_digits + places) - 1
    return st.integers(-limit if signed else 0, limit).map(lambda number: _digits(number, places))


def _digits(number: int, places: int) -> str:
    sign = "-" if number < 0 else ""
    whole, fraction = divmod(abs(number), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}" if places else f"{sign}{whole}"


def parse_frame(frame: bytes) -> Any:
    """``frame`` as builtins (numbers with a fraction or exponent as ``Decimal``); raises
    ``ValueError`` when it is not JSON this parser reads (malformed, nested too deeply, or with
    an exponent past ``Decimal``'s limits)."""
    try:
        return _parser.decode(frame)
    except (ArithmeticError, RecursionError) as error:
        raise ValueError(f"not a frame these strategies can parse: {error!r}") from None


def encode_frame(value: Any, *, pretty: bool = False) -> bytes:
    """``value`` as compact JSON (``pretty``: indented, as Kraken's seed page shows frames),
    every ``Decimal`` as a JSON number with its exact digits."""
    data = _encoder.encode(value)
    return msgspec.json.format(data, indent=2) if pretty else data


def rendered(values: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """``values`` encoded as frames: compact JSON three times in four, as the live service
    sends; otherwise pretty-printed, as the docs show frames (a decoder must read both)."""
    return st.builds(encode_frame, values, pretty=st.sampled_from([False, False, False, True]))


def node_paths(value: Any, prefix: Path = ()) -> list[Path]:
    """The path of every node below the root of ``value`` (object members and array items,
    depth first, parents before their children)."""
    paths: list[Path] = []
    items: list[tuple[str | int, Any]]
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return paths
    for key, child in items:
        path = (*prefix, key)
        paths.append(path)
        paths.extend(node_paths(child, path))
    return paths


def replace_at(value: Any, path: Path, new: Any) -> Any:
    """A copy of ``value`` with the node at ``path`` replaced by ``new`` (``path`` from
    ``node_paths``; the empty path replaces the whole value)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy: Any = dict(value)
    else:
        copy = list(value)
    copy[head] = replace_at(copy[head], rest, new)
    return copy
