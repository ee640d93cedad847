"""``has_exponent(text)``: does ``text`` show a number in exponent notation (``0E-8``)?

Txids such as ``OABCDE-FGHIJ-KLMNOP`` contain ``E-`` too, so a plain substring test is not
enough: a number must stand alone (not inside a word or a txid).
"""

from __future__ import annotations

import re

_EXPONENT = re.compile(r"(?<![\w.-])\d+(?:\.\d+)?[eE][-+]?\d+(?![\w.-])")


def has_exponent(text: str) -> bool:
    """True when ``text`` contains a number written with an exponent."""
    return _EXPONENT.search(text) is not None
