"""The core must stay sans-IO: importing it loads no socket, TLS, loop, clock or RNG module.

``kraken_proto.testing`` is the one part of the package that may use Hypothesis (an optional
extra); it is as pure as the rest otherwise, and ``import kraken_proto`` never loads it.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

BANNED = ("socket", "ssl", "asyncio", "trio", "threading", "time", "random", "wsproto", "h11")
CORE = Path(__file__).resolve().parent.parent / "kraken_proto"
TESTING = CORE / "testing"


def _loaded_by(statement: str) -> set[str]:
    probe = (
        f"import sys, json; before = set(sys.modules); {statement}; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(result.stdout))


def test_import_kraken_proto_loads_no_io_clock_or_randomness() -> None:
    loaded = _loaded_by("import kraken_proto")
    assert "kraken_proto" in loaded
    leaked = sorted(name for name in loaded if name.split(".")[0] in (*BANNED, "hypothesis"))
    assert leaked == []
    assert "kraken_proto.testing" not in loaded


def _imported_modules(path: Path) -> set[str]:
    """The top-level names of every module ``path`` imports (absolute imports only)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_core_module_imports_io_clock_or_randomness_and_only_testing_uses_hypothesis() -> None:
    offenders: list[str] = []
    for path in sorted(CORE.rglob("*.py")):
        imported = _imported_modules(path)
        allowed_here = {"hypothesis"} if TESTING in path.parents else set()
        forbidden = imported & ({*BANNED, "hypothesis"} - allowed_here)
        offenders.extend(f"{path.relative_to(CORE.parent)} imports {name}" for name in forbidden)
    assert offenders == []


def test_the_testing_package_brings_hypothesis_but_no_io_clock_or_randomness_of_its_own() -> None:
    # Hypothesis itself uses the clock and threads; what matters is that our modules do not
    # (checked statically above) and that the package loads with only the core behind it.
    loaded = _loaded_by("import kraken_proto.testing, kraken_proto.testing.fuzz")
    assert "hypothesis" in loaded
    ours = sorted(name for name in loaded if name.startswith("kraken_proto."))
    assert not [name for name in ours if name.startswith("kraken_proto.adapters")]
