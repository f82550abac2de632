"""A defense from plain data — a benchmark's ``[[defenses]]`` table, JSON, command-line flags — checked
before any work: the method by its registered name, its settings from the keys it knows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from textrobust.defenses.method import DefenseMethod
from textrobust.defenses.registry import resolve_method
from textrobust.defenses.settings import DefenseRun
from textrobust.errors import ParameterError
from textrobust.fields import dataclass_from_mapping, replace_from_mapping, setting_fields


def settings_from_mapping(
    method: DefenseMethod | type[DefenseMethod] | str, mapping: Mapping[str, Any]
) -> Any:
    """A method's settings from plain data (a TOML table, JSON, flags): an unknown key is a
    ``ParameterError`` naming it and listing the known ones; a value of the wrong type or outside its
    choices is one naming the key; what is not given keeps its default."""
    resolved = resolve_method(method)
    return dataclass_from_mapping(resolved.Settings, mapping, f"the {resolved.name} defense")


class DefensePlan(NamedTuple):
    """A defense as a benchmark lists it: the method, its settings and the run (``defend``'s arguments)."""

    method: DefenseMethod
    settings: Any
    run: DefenseRun


def defense_from_mapping(
    method: DefenseMethod | type[DefenseMethod] | str,
    mapping: Mapping[str, Any],
    run: DefenseRun | None = None,
) -> DefensePlan:
    """A defense from one table of plain data (a benchmark's ``[[defenses]]`` without its evaluation
    keys): the keys of ``DefenseRun.TRAINING`` (epochs, …) change ``run``, every other key is the method's
    (an unknown one is a ``ParameterError`` listing both). The settings are checked (``method.check``)."""
    resolved = resolve_method(method)
    run = DefenseRun() if run is None else run
    names = [spec.name for spec in setting_fields(resolved.Settings)]
    unknown = [key for key in mapping if key not in names and key not in DefenseRun.TRAINING]
    if unknown:
        known = ", ".join([*names, *DefenseRun.TRAINING])
        raise ParameterError(
            str(unknown[0]), f"is not a setting of the {resolved.name} defense; known: {known}"
        )
    settings = settings_from_mapping(resolved, {k: v for k, v in mapping.items() if k in names})
    shared = {key: value for key, value in mapping.items() if key in DefenseRun.TRAINING and key not in names}
    if shared:
        run = replace_from_mapping(run, shared, "the training")
    resolved.check(settings, run)
    return DefensePlan(resolved, settings, run)
