"""``rfc3339_to_unix``'s fast path (Kraken's ``YYYY-MM-DDTHH:MM:SS.fffZ`` read by table
lookups) and its memos give exactly what the general RFC 3339 parser gives: the same value,
the same digits and exponent, and ``None`` for the same texts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from kraken_proto.v2 import _translation
from kraken_proto.v2._translation import _parse_rfc3339, _rfc3339_general, rfc3339_to_unix


def _same(fast: Decimal | None, general: Decimal | None) -> bool:
    """Equal as values and as digits (``str`` shows the exponent)."""
    return (fast is None and general is None) or (
        fast is not None and general is not None and str(fast) == str(general)
    )


_kraken_shaped = st.builds(
    lambda year, month, day, hour, minute, second, fraction: (
        f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{fraction}Z"
    ),
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 24),
    st.integers(0, 60),
    st.integers(0, 60),
    st.from_regex(r"[0-9]{0,14}", fullmatch=True),
)
# What a careless or hostile sender could put in one position of that shape: other digits,
# separators, and what int() or Decimal() would take but RFC 3339 does not.
_odd_characters = st.sampled_from(list("0159-:.TtZz +_e\u0663\u00b2x"))


@given(_kraken_shaped)
@example("2023-11-17T11:31:40.114325Z")
@example("1969-12-31T23:59:59.5Z")  # before 1970: the general path's sign rule
@example("1970-01-01T00:00:00.000000000000Z")
@example("9999-12-31T23:59:59.999999999999Z")
@example("2024-02-29T12:00:00.1Z")
@example("2023-02-29T12:00:00.1Z")
def test_the_fast_path_reads_kraken_s_shape_as_the_general_parser(text: str) -> None:
    assert _same(_parse_rfc3339(text), _rfc3339_general(text))
    assert _same(rfc3339_to_unix(text), _rfc3339_general(text))


@given(_kraken_shaped, st.data())
def test_a_text_off_the_shape_in_one_place_gets_the_general_answer(
    text: str, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(text) - 1))
    character = data.draw(_odd_characters)
    changed = text[:index] + character + text[index + 1 :]
    assert _same(_parse_rfc3339(changed), _rfc3339_general(changed))
    cut = text[: data.draw(st.integers(0, len(text)))]
    assert _same(_parse_rfc3339(cut), _rfc3339_general(cut))


@given(st.text(alphabet="0123456789-:.TZ+", max_size=34))
def test_any_text_gets_the_general_answer(text: str) -> None:
    assert _same(rfc3339_to_unix(text), _rfc3339_general(text))


def test_the_memos_are_bounded_and_answer_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_translation, "_RECENT_KEPT", 3)
    monkeypatch.setattr(_translation, "_MIDNIGHTS_KEPT", 2)
    monkeypatch.setattr(_translation, "_MINUTE_HEADS_KEPT", 2)
    _translation._RECENT.clear()
    _translation._MIDNIGHTS.clear()
    _translation._MINUTE_HEADS.clear()
    texts = [f"2023-11-{day:02d}T11:{day:02d}:40.11432{day % 10}Z" for day in range(1, 9)]
    first = [rfc3339_to_unix(text) for text in texts]
    assert len(_translation._RECENT) <= 3
    assert len(_translation._MIDNIGHTS) <= 2
    assert len(_translation._MINUTE_HEADS) <= 2
    again = [rfc3339_to_unix(text) for text in texts + texts[::-1]]
    assert again == first + first[::-1]
    assert [str(value) for value in first] == [str(_rfc3339_general(text)) for text in texts]
    assert rfc3339_to_unix("2023-11-17T11:31:40.1Z+") is None  # not remembered, refused again
    assert rfc3339_to_unix("2023-11-17T11:31:40.1Z+") is None
