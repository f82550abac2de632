"""Settings dataclasses as plain data: their fields (name, type, default, help, choices) for generating
command-line flags and config keys, and instances made from plain data (a TOML table, JSON, flags) with
every key known and every value converted to its field's type. One implementation for every options or
settings dataclass (``AttackOptions``, a defense method's ``Settings``, ``DefenseRun``).

A field says how it is shown in its ``metadata``: ``help`` (one line) and ``choices`` (the names it may
take, or a function returning them, so that registries are read only when needed).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textrobust.errors import ParameterError, require_one_of


@dataclass(frozen=True)
class SettingField:
    """One field of a settings dataclass, as a flag or a config key needs it."""

    name: str
    type: Any  # int, float, str or bool for the fields a flag can set; other types as annotated
    optional: bool  # None is a value it may take
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # everything the field declares

    @property
    def scalar(self) -> bool:
        """Whether a command-line flag can hold it (a number, a string or a switch)."""
        return self.type in (int, float, str, bool)


def setting_fields(settings_class: type[Any]) -> list[SettingField]:
    """The fields of a settings dataclass: name, type, default, help and choices, in declaration order."""
    if not dataclasses.is_dataclass(settings_class):
        raise TypeError(f"{settings_class!r} is not a dataclass")
    hints = typing.get_type_hints(settings_class)
    specs = []
    for spec in dataclasses.fields(settings_class):
        if not spec.init:
            continue
        hint, optional = _unwrap_optional(hints[spec.name])
        if spec.default is not dataclasses.MISSING:
            default = spec.default
        elif spec.default_factory is not dataclasses.MISSING:
            default = spec.default_factory()
        else:
            default = dataclasses.MISSING
        choices = spec.metadata.get("choices")
        specs.append(
            SettingField(
                name=spec.name,
                type=hint,
                optional=optional,
                default=default,
                help=str(spec.metadata.get("help", "")),
                choices=None if choices is None else tuple(choices() if callable(choices) else choices),
                metadata=dict(spec.metadata),
            )
        )
    return specs


def dataclass_from_mapping(cls: type[Any], mapping: Mapping[str, Any], what: str) -> Any:
    """``cls(**mapping)`` with every key known (an unknown one is a ``ParameterError`` naming it and listing
    the known ones, as fields of ``what``) and every value converted to its field's type."""
    return cls(**_converted(cls, mapping, what))


def replace_from_mapping(instance: Any, mapping: Mapping[str, Any], what: str) -> Any:
    """``dataclasses.replace(instance, **mapping)``, keys and values checked as ``dataclass_from_mapping``
    does."""
    return dataclasses.replace(instance, **_converted(type(instance), mapping, what))


def _converted(cls: type[Any], mapping: Mapping[str, Any], what: str) -> dict[str, Any]:
    fields = {spec.name: spec for spec in setting_fields(cls)}
    unknown = [key for key in mapping if key not in fields]
    if unknown:
        known = ", ".join(fields) or "none"
        raise ParameterError(str(unknown[0]), f"is not a setting of {what}; known: {known}")
    return {key: convert(fields[key], value) for key, value in mapping.items()}


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        arguments = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(arguments) < len(typing.get_args(hint))
        return (arguments[0] if len(arguments) == 1 else hint), optional
    return hint, False


def convert(spec: SettingField, value: Any) -> Any:
    """``value`` as the field's type (a whole number is a float where one is wanted, a path a string)."""
    if value is None:
        if spec.optional:
            return None
        raise ParameterError(spec.name, "must be given")
    kind = spec.type
    if kind is bool:
        if not isinstance(value, bool):
            raise ParameterError(spec.name, f"must be true or false, got {value!r}")
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(spec.name, f"must be a whole number, got {value!r}")
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(spec.name, f"must be a number, got {value!r}")
        value = float(value)
    elif kind is str:
        if isinstance(value, Path):
            value = str(value)
        if not isinstance(value, str):
            raise ParameterError(spec.name, f"must be a string, got {value!r}")
    elif typing.get_origin(kind) is dict or kind is dict:
        if not isinstance(value, Mapping):
            raise ParameterError(spec.name, f"must be a table, got {value!r}")
        value = dict(value)
    elif typing.get_origin(kind) is tuple:
        if isinstance(value, str) or not isinstance(value, Sequence | set | frozenset):
            raise ParameterError(spec.name, f"must be a list, got {value!r}")
        item_type = next(iter(typing.get_args(kind)), Any)
        if item_type is str and any(not isinstance(item, str) for item in value):
            raise ParameterError(spec.name, f"must be a list of names, got {value!r}")
        value = tuple(value)
    if spec.choices is not None:
        for item in value if isinstance(value, tuple) else (value,):
            require_one_of(spec.name, item, spec.choices)
    return value
