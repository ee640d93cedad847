"""The README's Python examples run as written (against the local simulator)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.exponents import has_exponent

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLE = re.compile(r"<!-- README example: (\w+) -->\n```python\n(.*?)```", re.DOTALL)
EXAMPLES = dict(EXAMPLE.findall(README.read_text(encoding="utf-8")))


def test_readme_has_its_examples() -> None:
    assert set(EXAMPLES) == {
        "session_blocking",
        "session_trio",
        "session_asyncio",
        "session_pure",
        "simulator",
        "rest",
        "client_blocking",
        "client_trio",
        "v1_core",
        "v1_codec",
        "v2_codec",
        "testing",
    }


def test_quick_start_has_exactly_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert section.strip().splitlines() == [
        "pip install -e '.[dev]' && kraken-proto demo",
        "python -m tests",
    ]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_readme_example_runs(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", EXAMPLES[name]],
        capture_output=True,
        text=True,
        timeout=45,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    # amounts print as a reader expects (0.00000000), never as str(Decimal) may (0E-8)
    assert not has_exponent(result.stdout), result.stdout
