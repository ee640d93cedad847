"""docs/architecture.md: its state machine drawing matches the transition tables."""

from __future__ import annotations

import enum
import importlib
import importlib.util
import sys
from pathlib import Path
from types import MappingProxyType, ModuleType

import pytest
from kraken_proto import _connection_state

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "draw_state_machines.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("draw_state_machines", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


draw = load_script()


def test_the_drawing_in_the_doc_is_current() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert draw.update(text, draw.render()) == text, (
        "docs/architecture.md is stale: run python docs/draw_state_machines.py"
    )
    assert draw.main(["--check"]) == 0


def test_every_table_is_discovered_once_under_its_home_module() -> None:
    found = {(table.module, table.name) for table in draw.discover()}
    home = "kraken_proto._connection_state"
    assert {
        (home, "CONNECTION_TRANSITIONS"),
        (home, "TOKEN_TRANSITIONS"),
        (home, "SUBSCRIPTION_TRANSITIONS"),
    } <= found
    names = [name for _, name in found]
    assert len(names) == len(set(names))


def test_the_core_is_walked_into_its_subpackages() -> None:
    modules = draw.core_modules()
    assert "kraken_proto._connection_state" in modules
    for package in ("v1", "v2", "rest", "session"):
        assert any(name.startswith(f"kraken_proto.{package}._") for name in modules), package
    assert not [name for name in modules if ".adapters" in name or name.endswith("__main__")]


def test_a_table_in_a_subpackage_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    table = MappingProxyType({(Light.OFF, Switch.FLIP): Light.ON})
    module = importlib.import_module("kraken_proto.rest._counter")
    monkeypatch.setattr(module, "LIGHT_TRANSITIONS", table, raising=False)
    found = {(table.module, table.name) for table in draw.discover()}
    assert ("kraken_proto.rest._counter", "LIGHT_TRANSITIONS") in found


def test_every_transition_is_drawn() -> None:
    section = draw.render()
    for table in (
        _connection_state.CONNECTION_TRANSITIONS,
        _connection_state.TOKEN_TRANSITIONS,
        _connection_state.SUBSCRIPTION_TRANSITIONS,
    ):
        for (state, trigger), target in table.items():
            assert f"    {state.name} --> {target.name}: {trigger.value}\n" in section


def test_tables_in_subpackages_are_found_and_drawn() -> None:
    from kraken_proto.session import _lifecycle

    found = {(table.module, table.name) for table in draw.discover()}
    assert ("kraken_proto.session._lifecycle", "SESSION_TRANSITIONS") in found
    assert not any(module.startswith("kraken_proto.adapters") for module, _ in found)
    section = draw.render()
    for (state, trigger), target in _lifecycle.SESSION_TRANSITIONS.items():
        assert f"    {state.name} --> {target.name}: {trigger.value}\n" in section


def test_check_fails_on_a_stale_drawing_and_a_run_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "architecture.md"
    doc.write_text(f"# doc\n\n{draw.BEGIN}\nold drawing\n{draw.END}\n\ntail\n", encoding="utf-8")
    assert draw.main(["--check"], doc=doc) == 1
    assert "stale" in capsys.readouterr().err
    assert draw.main([], doc=doc) == 0
    assert "drawing updated" in capsys.readouterr().out
    assert draw.main(["--check"], doc=doc) == 0
    fixed = doc.read_text(encoding="utf-8")
    assert fixed.startswith("# doc\n\n")
    assert fixed.endswith("\n\ntail\n")
    assert draw.main([], doc=doc) == 0  # nothing to change
    assert capsys.readouterr().out == ""


def test_missing_markers_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="markers"):
        draw.update("no markers here", draw.render())


class Light(enum.Enum):
    OFF = "off"
    ON = "on"


class Switch(enum.Enum):
    FLIP = "flip"


def test_a_new_table_is_drawn_without_changing_the_script() -> None:
    table = MappingProxyType(
        {(Light.OFF, Switch.FLIP): Light.ON, (Light.ON, Switch.FLIP): Light.OFF}
    )
    section = draw.render([draw.Table("somewhere", "LIGHT_TRANSITIONS", table)])
    assert "### light: `somewhere.LIGHT_TRANSITIONS`" in section
    assert "    [*] --> OFF\n" in section
    assert "    ON --> OFF: flip\n" in section


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"a": Light.ON},
        {(Light.OFF,): Light.ON},
        {(Light.OFF, "flip"): Light.ON},
        {(Light.OFF, Switch.FLIP): Switch.FLIP},
        [1, 2],
    ],
)
def test_things_that_are_not_tables_are_ignored(value: object) -> None:
    assert not draw._is_table(value)


def test_extra_tables_are_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        draw, "EXTRA_TABLES", ("kraken_proto._connection_state:CONNECTION_TRANSITIONS",)
    )
    names = [table.name for table in draw.discover()]
    assert names.count("CONNECTION_TRANSITIONS") == 1
