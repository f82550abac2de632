"""Settings of a defense as data: the run every method shares, and each method's own frozen dataclass.

A method's settings are a frozen dataclass whose fields hold only its parameters, each with a default and a
one-line ``field(metadata={"help": ...})`` (``"choices"`` too, where the value is one of a few names). The
``defend`` command's flags and the benchmark's ``[[defenses]]`` keys are generated from those fields
(``setting_fields``; ``spec.settings_from_mapping``), so a field added to a method is a flag and a key at
once. Ranges are checked by the dataclass itself (``__post_init__``), types and names here.

This module imports nothing heavy: the command line reads it to build its flags.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textrobust.errors import ParameterError, require_at_least


@dataclass(frozen=True)
class DefenseRun:
    """How to train and how to attack, shared by every method; ``None``: as the base victim was trained
    (epochs, batch size, learning rate, seed, training examples), so a method starts from the base's
    initial weights."""

    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    seed: int | None = None
    max_train_examples: int | None = None
    workers: int = 1  # processes that attack (methods that make adversarial examples)
    mlm: str | None = None  # fill-mask model of MLM recipes
    attack_options: dict[str, Any] = field(default_factory=dict)  # further build_attack options
    # Who attacks: takes the place of ``workers`` when given. A runs.executor.Executor, typed Any so that
    # this module imports nothing of runs/ (the command line reads it).
    executor: Any = field(default=None, compare=False)
    device: str = "auto"
    progress: bool = True

    # The fields a defense's table (a benchmark's [[defenses]]) may set beside the method's own.
    TRAINING: typing.ClassVar[tuple[str, ...]] = (
        "epochs",
        "batch_size",
        "learning_rate",
        "seed",
        "max_train_examples",
    )

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "max_train_examples", "workers"):
            require_at_least(name, getattr(self, name), 1)
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ParameterError("learning_rate", f"must be > 0, got {self.learning_rate}")


@dataclass(frozen=True)
class SettingField:
    """One field of a settings dataclass, as a flag or a config key needs it."""

    name: str
    type: Any  # int, float, str or bool for the fields a flag can set; other types as annotated
    optional: bool  # None is a value it may take
    default: Any
    help: str
    choices: tuple[str, ...] | None = None

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
    return {key: _convert(fields[key], value) for key, value in mapping.items()}


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        arguments = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(arguments) < len(typing.get_args(hint))
        return (arguments[0] if len(arguments) == 1 else hint), optional
    return hint, False


def _convert(spec: SettingField, value: Any) -> Any:
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
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise ParameterError(spec.name, f"must be a list, got {value!r}")
        value = tuple(value)
    if spec.choices is not None and value not in spec.choices:
        raise ParameterError(spec.name, f"must be one of {', '.join(spec.choices)}")
    return value
