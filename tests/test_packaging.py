"""Packaging: a plain install brings the adapters' packages; the licence is declared properly;
the wheel built from the tree holds every module at its installed path."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0] for requirement in requirements}


def test_the_adapters_packages_are_ordinary_dependencies() -> None:
    # `pip install kraken_proto` alone must give working adapters, simulator and CLI.
    assert {"h11", "wsproto", "trio", "cryptography", "msgspec"} <= names(
        PROJECT["project"]["dependencies"]
    )


def test_the_io_extra_still_exists_for_old_install_commands() -> None:
    assert PROJECT["project"]["optional-dependencies"]["io"] == []


def test_the_licence_is_an_spdx_string_with_its_file() -> None:
    assert PROJECT["project"]["license"] == "MIT"
    assert PROJECT["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    # The SPDX string needs setuptools 77 or later (the table form is deprecated).
    assert "setuptools>=77" in PROJECT["build-system"]["requires"][0]


def test_the_installed_metadata_says_so() -> None:
    metadata = importlib.metadata.metadata("kraken_proto")
    assert metadata["License-Expression"] == "MIT"
    required = names(importlib.metadata.requires("kraken_proto") or [])
    assert {"h11", "wsproto", "trio"} <= required


def test_the_console_script_and_python_dash_m_point_at_the_cli() -> None:
    assert PROJECT["project"]["scripts"]["kraken-proto"] == "kraken_proto.adapters.cli:main"
    assert (ROOT / "kraken_proto" / "__main__.py").is_file()


def _tree_files() -> list[str]:
    """The working tree's files a clone would have: tracked or new, never ignored ones."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: no list of the tree's files")
    return [name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


def _installed_path(source: str) -> str | None:
    """Where a source file of the tree lands in the wheel (None: it does not ship)."""
    if source.startswith("kraken_proto/"):
        return source
    if source.startswith("adapters/"):
        return "kraken_proto/" + source
    return None


@pytest.mark.timeout(120)
def test_the_wheel_built_from_the_tree_holds_every_module(tmp_path: Path) -> None:
    # Built offline (no isolation, no index) from a copy of the tree, so that leftovers in the
    # checkout (build/, egg-info, caches) cannot hide a module the packaging config misses.
    assert int(importlib.metadata.version("setuptools").split(".")[0]) >= 77, (
        "the dev extra brings setuptools>=77: pip install -e '.[dev]'"
    )
    source, out = tmp_path / "src", tmp_path / "dist"
    files = _tree_files()
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = out.glob("kraken_proto-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())

    expected = {
        installed
        for name in files
        if name.endswith(".py") and (installed := _installed_path(name)) is not None
    }
    assert "kraken_proto/adapters/cli/__init__.py" in expected  # the mapping is the real one
    assert expected - shipped == set(), "modules missing from the wheel"
    assert "kraken_proto/py.typed" in shipped
    # Nothing else rides along: only the package and its metadata.
    assert {name.split("/", 1)[0] for name in shipped} == {
        "kraken_proto",
        f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info",
    }
