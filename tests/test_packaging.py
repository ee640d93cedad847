"""Packaging: a plain install brings the adapters' packages; the licence is declared properly."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

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
