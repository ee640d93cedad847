"""The README and docs/architecture.md name only paths and modules that exist.

A file move leaves prose behind easily; these checks catch a path, a dotted name or an old
module name that no longer resolves.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", "docs/architecture.md")

# A repository path: one of the project's folders, then path characters. Possessive, so that a
# pattern such as ``fuzz/fuzz_<target>.py`` is skipped whole instead of matched in part.
PATH = re.compile(
    r"(?<![\w/.-])(?:kraken_proto|adapters|tests|docs|examples|fuzz|benchmarks)/[\w/.-]*+(?![<*{])"
)
DOTTED = re.compile(r"(?<![\w.])kraken_proto(?:\.\w+)+")
# Module names the layout change removed (each now lives elsewhere under another name).
OLD_NAMES = re.compile(
    r"(?<!\w)(?:sync_client|sync_session|trio_session\.py|_session_common|_session_protocol"
    r"|sign_cli|cli_\w+\.py|_cli_\w+|_rest_calls|_rest_results|_v2_connection|_v2_decode"
    r"|_v2_events|_v2_requests|_v2_mapping)\b"
)


def text_of(doc: str) -> str:
    return (ROOT / doc).read_text(encoding="utf-8")


def resolves(dotted: str) -> bool:
    """``dotted`` is a module of the package, or an attribute reached from one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            if not hasattr(value, name):
                return False
            value = getattr(value, name)
        return True
    return False


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_named_exists(doc: str) -> None:
    paths = {match.rstrip(".") for match in PATH.findall(text_of(doc))}
    assert "kraken_proto/" in paths or "adapters/" in paths  # the pattern does find paths
    assert sorted(path for path in paths if not (ROOT / path).exists()) == []


@pytest.mark.parametrize("doc", DOCS)
def test_every_dotted_name_resolves(doc: str) -> None:
    names = set(DOTTED.findall(text_of(doc)))
    assert names
    assert sorted(name for name in names if not resolves(name)) == []


@pytest.mark.parametrize("doc", DOCS)
def test_no_module_name_from_before_the_layout_change(doc: str) -> None:
    assert OLD_NAMES.findall(text_of(doc)) == []


def test_the_checks_catch_a_stale_reference() -> None:
    stale = "see `adapters/_ws.py`, `kraken_proto.v1.NoSuchThing` and adapters/sync_client.py"
    assert [path for path in PATH.findall(stale) if not (ROOT / path).exists()] == [
        "adapters/_ws.py",
        "adapters/sync_client.py",
    ]
    assert not resolves("kraken_proto.v1.NoSuchThing")
    assert resolves("kraken_proto.adapters.simulator.server.run_in_thread")
    assert OLD_NAMES.findall(stale) == ["sync_client"]
    assert OLD_NAMES.findall("open_trio_session, fuzz/fuzz_<target>.py") == []
    assert PATH.findall("python fuzz/fuzz_<target>.py") == []
