"""Number texts and JSON values the number-grammar tests share (issue 19, item 2)."""

from __future__ import annotations

import json

from hypothesis import strategies as st

__all__ = [
    "BAD_TEXTS",
    "GOOD_TEXTS",
    "HUGE_EXPONENT",
    "HUGE_INTEGER",
    "HUGE_NUMBERS",
    "unknown_keys",
    "unknown_values",
]

# Text Decimal() reads as a number (or rejects with InvalidOperation) that is not Kraken's.
BAD_TEXTS = [
    "NaN",
    "sNaN",
    "Infinity",
    "inf",
    "-Infinity",
    "nan",
    "NaN12",
    " 1",
    "1 ",
    "\t1",
    "1_000",
    "+1",
    ".5",
    "-.5",
    "5.",
    "\u0661\u0662",  # Arabic-Indic digits: Decimal reads 12
    "\uff11\uff12",  # fullwidth digits: Decimal reads 12
    "\u0663.\u0665",
    "1e5",
    "1E-5",
    "-",
    "--1",
    "0x1A",
    "1,5",
    "1.2.3",
    "\u00a01",  # no-break space
]
GOOD_TEXTS = ["0", "-0", "007", "0.00000000", "1.50", "-12.345", "1688464896.123456", "9" * 60]
HUGE_INTEGER = "7" * 5000  # int() refuses more than 4,300 digits
HUGE_EXPONENT = "1e99999999999999999999"  # past Decimal's exponent range

HUGE_NUMBERS = st.sampled_from([HUGE_INTEGER, HUGE_EXPONENT, "1e-99999999999999999999", "8e995"])
# Non-ASCII, and encodable: no lone surrogates (category Cs).
non_ascii_text = st.text(
    st.characters(min_codepoint=0x80, exclude_categories=["Cs"]), min_size=1, max_size=30
)
unknown_values = (
    (st.text(max_size=40) | non_ascii_text).map(lambda text: json.dumps(text, ensure_ascii=False))
    | HUGE_NUMBERS
    | st.from_regex(r"-?[0-9]{1,30}(\.[0-9]{1,30})?([eE][+\-]?[0-9]{1,25})?", fullmatch=True)
    | st.lists(HUGE_NUMBERS | st.text(max_size=5).map(json.dumps), max_size=3).map(
        lambda items: "[" + ",".join(items) + "]"
    )
)
unknown_keys = st.text(min_size=1, max_size=8).map(lambda key: json.dumps(key, ensure_ascii=False))
