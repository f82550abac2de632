"""The registry helper behind victim kinds, recipes, defenses and executors: names bound to importable
objects, imported on first use, and extended by third parties through Python entry points."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stand_ins import install_plugin
from textrobust.errors import ParameterError, TextrobustError
from textrobust.registry import Registry


def test_built_in_names_come_first_and_load_on_first_use() -> None:
    registry: Registry[object] = Registry("widget", {"path": "pathlib:Path", "join": "os.path:join"})
    assert registry.names() == ["path", "join"] and "path" in registry and "nothing" not in registry
    assert registry.get("path") is Path


def test_an_unknown_name_is_a_parameter_error_listing_the_known_ones() -> None:
    registry: Registry[object] = Registry("widget", {"path": "pathlib:Path"})
    with pytest.raises(ParameterError) as unknown:
        registry.get("paht", "kind")
    assert unknown.value.parameter == "kind" and "choose one of path" in unknown.value.problem


def test_a_broken_target_is_one_line_naming_it() -> None:
    registry: Registry[object] = Registry("widget", {"gone": "no_such_module_here:Thing"})
    with pytest.raises(TextrobustError, match="widget 'gone' is registered as 'no_such_module_here:Thing'"):
        registry.get("gone")
    with pytest.raises(ValueError, match="must be 'module:attr'"):
        Registry("widget", {"bad": "no-colon"})


def test_a_third_party_entry_point_adds_a_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry: Registry[object] = Registry("widget", {"path": "pathlib:Path"}, group="textrobust.test_widgets")
    assert "gadget" not in registry
    install_plugin(
        tmp_path / "site", monkeypatch, "widget_plugin", "class Gadget:\n    pass\n",
        {"textrobust.test_widgets": {"gadget": "widget_plugin:Gadget", "path": "widget_plugin:Gadget"}},
    )  # fmt: skip
    assert registry.names() == ["path", "gadget"]
    assert registry.get("gadget").__name__ == "Gadget"
    assert registry.get("path") is Path  # a plugin cannot replace a built-in name


def test_names_added_in_code_are_known_to_this_registry_only() -> None:
    registry: Registry[object] = Registry("widget", {"path": "pathlib:Path"})
    registry.add("here", object)
    assert registry.get("here") is object and "here" not in Registry("widget", {"path": "pathlib:Path"})
    with pytest.raises(ParameterError, match="built in"):
        registry.add("path", object)
