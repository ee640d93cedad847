"""Strategies that damage frames: byte-level (flips, cuts, insertions) and JSON-level (type
swaps, dropped or added members, duplicate keys, numbers past every limit).

Each takes a strategy of frames (``bytes``; any, valid or not) and returns a strategy of
damaged copies. The JSON-level ones parse the frame first; a frame that is not JSON comes back
unchanged from them, so they compose with the byte-level ones in any order.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from ._json import Path, encode_frame, json_values, node_paths, parse_frame, replace_at, texts

__all__ = [
    "PROTOCOL_KEYS",
    "byte_flips",
    "duplicate_keys",
    "huge_numbers",
    "insertions",
    "mutated_frames",
    "structural_mutations",
    "truncations",
    "type_swaps",
]

Frames = st.SearchStrategy[bytes]

PROTOCOL_KEYS: tuple[str, ...] = (
    # v1
    "event",
    "status",
    "reqid",
    "sequence",
    "count",
    "price",
    "errorMessage",
    "channelName",
    # v2
    "channel",
    "method",
    "type",
    "data",
    "req_id",
    "success",
    "error",
    "result",
)
"""Keys that steer Kraken's decoders; generated objects use them often."""

# Fragments that reach interesting branches of any JSON parser.
_FRAGMENTS: tuple[bytes, ...] = (
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\\",
    b"null",
    b"1e9999",
    b"-",
    b"\xff",
    b"\xed\xa0\x80",  # a UTF-8-encoded lone surrogate
)
# Numbers past the limits of int64, uint64, float and Decimal's default context.
_HUGE: tuple[str, ...] = (
    "18446744073709551616",
    "-9223372036854775809",
    "1e999999999",
    "-1e999999999",
    "1e-999999999",
    "1e4950811667203285981",
    "8e995674407370955189",
    "1E+5000",
    "1" * 400,
    "0." + "0" * 300 + "1",
    "123456789012345678901234567890.123456789012345678901234567890",
    "-0",
    "-0.0",
)
_MARKER = "@@kraken_proto.testing: huge number@@"
# Built once: a recursive strategy is costly to construct, and these are drawn per example.
_VALUES = json_values(keys=PROTOCOL_KEYS)
_SMALL_VALUES = json_values(keys=PROTOCOL_KEYS, max_leaves=4)
_NEW_KEYS = st.sampled_from(PROTOCOL_KEYS) | texts(max_size=8)
# A value of each JSON type; a swap draws from the other five. Built here, not filtered per
# draw: a new filtered strategy is validated afresh, which for a recursive one takes long.
_OF_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "number": st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False),
    "str": texts(max_size=20),
    "list": st.lists(_SMALL_VALUES, max_size=4),
    "dict": st.dictionaries(_NEW_KEYS, _SMALL_VALUES, max_size=5),
}
_OTHER_TYPE = {
    kind: st.one_of([other for name, other in _OF_TYPE.items() if name != kind])
    for kind in _OF_TYPE
}
_NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def byte_flips(frames: Frames) -> Frames:
    """``frames`` with one to four of their bytes XORed with a non-zero mask (so each flipped
    byte really changes); an empty frame stays empty."""

    @st.composite
    def flipped(draw: st.DrawFn) -> bytes:
        frame = bytearray(draw(frames))
        if frame:
            where = st.integers(0, len(frame) - 1)
            for index in draw(st.lists(where, min_size=1, max_size=4, unique=True)):
                frame[index] ^= draw(st.integers(1, 255))
        return bytes(frame)

    return flipped()


def truncations(frames: Frames) -> Frames:
    """``frames`` cut at any position, keeping either the head (a message cut short) or the
    tail."""

    @st.composite
    def cut(draw: st.DrawFn) -> bytes:
        frame = draw(frames)
        at = draw(st.integers(0, len(frame)))
        return frame[:at] if draw(st.booleans()) else frame[at:]

    return cut()


def insertions(frames: Frames) -> Frames:
    """``frames`` with up to eight random bytes, or one JSON fragment (a quote, a bracket, a
    backslash, ``null``, ``1e9999``, an invalid UTF-8 byte...), inserted at any position."""

    @st.composite
    def inserted(draw: st.DrawFn) -> bytes:
        frame = draw(frames)
        at = draw(st.integers(0, len(frame)))
        piece = draw(st.binary(min_size=1, max_size=8) | st.sampled_from(_FRAGMENTS))
        return frame[:at] + piece + frame[at:]

    return inserted()


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    return type(value).__name__  # str, list, dict


def type_swaps(frames: Frames) -> Frames:
    """``frames`` (JSON) with one value, anywhere (the whole frame included), replaced by a
    JSON value of another type: a string where a number was, an object where an array was,
    ``null`` where a string was... Frames that are not JSON come back unchanged."""

    @st.composite
    def swapped(draw: st.DrawFn) -> bytes:
        frame = draw(frames)
        try:
            tree = parse_frame(frame)
        except ValueError:
            return frame
        path: Path = draw(st.sampled_from([(), *node_paths(tree)]))
        new = draw(_OTHER_TYPE[_kind(_at(tree, path))])
        return encode_frame(replace_at(tree, path, new))

    return swapped()


def _at(tree: Any, path: Path) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def structural_mutations(frames: Frames) -> Frames:
    """``frames`` (JSON) with one object or array changed: a member dropped, a member added
    (often under one of Kraken's own keys), or an array item repeated. Frames that are not
    JSON, or hold no object or array, come back unchanged."""

    @st.composite
    def changed(draw: st.DrawFn) -> bytes:
        frame = draw(frames)
        try:
            tree = parse_frame(frame)
        except ValueError:
            return frame
        containers = [
            path for path in [(), *node_paths(tree)] if isinstance(_at(tree, path), dict | list)
        ]
        if not containers:
            return frame
        path = draw(st.sampled_from(containers))
        node = _at(tree, path)
        action = draw(st.sampled_from(["drop", "add", "repeat"]))
        copy: Any
        if isinstance(node, dict):
            copy = dict(node)
            if action == "drop" and copy:
                del copy[draw(st.sampled_from(sorted(copy)))]
            else:
                copy[draw(_NEW_KEYS)] = draw(_VALUES)
        else:
            copy = list(node)
            index = draw(st.integers(0, max(0, len(copy) - 1)))
            if action == "drop" and copy:
                del copy[index]
            elif action == "repeat" and copy:
                copy.insert(index, copy[index])
            else:
                copy.insert(index, draw(_VALUES))
        return encode_frame(replace_at(tree, path, copy))

    return changed()


def duplicate_keys(frames: Frames) -> Frames:
    """``frames`` with a member inserted at the start of one of their objects, under a key
    that object (or Kraken's protocol) already uses, so the object holds that key twice. Done
    on the text, so the rest of the frame keeps its exact bytes; frames without an object
    come back unchanged."""

    @st.composite
    def doubled(draw: st.DrawFn) -> bytes:
        frame = draw(frames)
        starts = [match.end() for match in re.finditer(rb'\{\s*"', frame)]
        if not starts:
            return frame
        at = draw(st.sampled_from(starts)) - 1  # just before the first key's quote
        own = sorted({key.decode("utf-8", "replace") for key in re.findall(rb'"(\w+)"\s*:', frame)})
        key = draw(st.sampled_from(own or ["event"]) | st.sampled_from(PROTOCOL_KEYS))
        value = encode_frame(draw(_SMALL_VALUES))
        return frame[:at] + encode_frame(key) + b":" + value + b"," + frame[at:]

    return doubled()


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | Decimal):
        return True
    return isinstance(value, str) and _NUMBER_TEXT.fullmatch(value) is not None


def huge_numbers(frames: Frames) -> Frames:
    """``frames`` (JSON) with one number, or one string of digits (v1 sends amounts as
    strings), replaced by a number past some limit: beyond 64 bits, ``1e999999999`` and other
    exponents past ``Decimal``'s range, 400 digits, ``-0``. The replacement is written as a
    bare JSON number or, for a string, as a string or bare, drawn. Frames that are not JSON or
    hold no number come back unchanged."""
    extra = st.builds(
        lambda digits, exponent: f"{digits}e{exponent}",
        st.integers(1, 10**30),
        st.integers(-(10**20), 10**20),
    )

    @st.composite
    def grown(draw: st.DrawFn) -> bytes:
        frame = draw(frames)
        try:
            tree = parse_frame(frame)
        except ValueError:
            return frame
        numbers = [path for path in node_paths(tree) if _is_number(_at(tree, path))]
        if _is_number(tree):
            numbers.append(())
        if not numbers:
            return frame
        path = draw(st.sampled_from(numbers))
        text = draw(st.sampled_from(_HUGE) | extra)
        quoted = isinstance(_at(tree, path), str) and draw(st.booleans())
        raw = encode_frame(text) if quoted else text.encode()
        return encode_frame(replace_at(tree, path, _MARKER)).replace(encode_frame(_MARKER), raw, 1)

    return grown()


def mutated_frames(frames: Frames) -> Frames:
    """``frames`` damaged by one of the mutations of this module, drawn: ``byte_flips``,
    ``truncations``, ``insertions``, ``type_swaps``, ``structural_mutations``,
    ``duplicate_keys`` or ``huge_numbers``. Each result is one mutation away from a frame of
    ``frames``; nest the call for more."""
    return st.one_of(
        byte_flips(frames),
        truncations(frames),
        insertions(frames),
        type_swaps(frames),
        structural_mutations(frames),
        duplicate_keys(frames),
        huge_numbers(frames),
    )
