"""``AttackOptions``: every setting of an attack beyond its recipe, in one frozen dataclass.

The dataclass is the one place these options are spelled out: the ``attack`` command's flags, the
benchmark config's attack keys (``[attacks]`` and its variants), the store's run key (``to_json``) and
the leaderboard's name of a run (``label``) are all generated from its fields. A field added here appears
in all of them at once; its ``metadata`` says how (``help``, ``label``, ``choices``).

Only options that differ from their default are stored (``to_json``), so the key of a default run never
changes when a field is added.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textrobust.errors import ParameterError

# Run-level entries the store keeps beside the options (they are not attack options).
RUN_KEYS = frozenset({"language", "mlm"})
HUNSPELL = "hunspell"  # the language's hunspell dictionary as the known-word list
# Settings profiles: ``paper`` (the recipes as their authors set them) or ``textattack`` (TextAttack
# 0.3.11's settings, so results compare with numbers from that tool; see ``recipes.TEXTATTACK_PROFILE``).
PROFILES = ("paper", "textattack")
# One budget for every recipe, so results compare across recipes and with published defenses.
BUDGET_PROTOCOLS = ("textdefender",)


def option(
    default: Any,
    *,
    help: str,
    label: Callable[[Any], str | None] | None = None,
    choices: Callable[[], Sequence[str]] | None = None,
    minimum: int | None = None,
) -> Any:
    """A field of ``AttackOptions`` (or of a subclass): its default, the help of its flag, how the
    leaderboard names a non-default value (default: the name and the value), the names it may take
    (a function, so registries are read only when needed) and the least whole number it may be."""
    metadata = {"help": help, "label": label, "choices": choices, "minimum": minimum}
    return field(default=default, metadata=metadata)


def _constraint_names() -> Sequence[str]:
    from textrobust.attacks.constraints import CONSTRAINT_NAMES

    return CONSTRAINT_NAMES


def _profiles() -> Sequence[str]:
    return PROFILES


def _orders() -> Sequence[str]:
    from textrobust.attacks.search import ORDERS

    return ORDERS


def _budget_protocols() -> Sequence[str]:
    return BUDGET_PROTOCOLS


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


@dataclass(frozen=True)
class AttackOptions:
    """How to run a recipe; the defaults are the recipe as published. Checked when made."""

    profile: str = option(
        "paper",
        help="recipe settings: the paper's (default) or TextAttack 0.3.11's (textfooler, pwws, bae)",
        label=lambda value: f"{value} profile",
        choices=_profiles,
    )
    order: str = option(
        "constraints-first",
        help="victim-first: score every candidate, check constraints from the best down (the same texts, "
        "fewer encoder/tagger calls, more queries; no budget)",
        label=str,
        choices=_orders,
    )
    max_words: int | None = option(
        None,
        help="change at most N words (1: the Arabic synonym paper's one-word attack)",
        label=lambda value: f"max {_plural(value, 'word')}",
        minimum=1,
    )
    budget_protocol: str | None = option(
        None,
        help="one budget for every recipe: 'textdefender' (≤ 30 %% of the words, K = 50, USE ≥ 0.84)",
        label=lambda value: f"{value} budget",
        choices=_budget_protocols,
    )
    word_list: str | None = option(
        None,
        help="candidates must be known words: 'hunspell' (the language's hunspell dictionary) or a "
        "word-list file",
        label=lambda _value: "known words",
    )
    disable: tuple[str, ...] = option(
        (),
        help="comma-separated constraints to switch off",
        label=lambda value: "no " + ", ".join(value),
        choices=_constraint_names,
    )
    hard_label: bool = option(
        False, help="the attacker sees only the predicted class", label=lambda _value: "hard label"
    )
    beam_width: int | None = option(
        None,
        help="keep this many texts in the search",
        label=lambda value: f"beam {value}",
        minimum=1,
    )
    budget: int | None = option(
        None,
        help="maximum victim queries per example",
        label=lambda value: f"≤ {value} queries",
        minimum=1,
    )

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for spec in dataclasses.fields(self):
            value = _coerce(spec.name, getattr(self, spec.name), hints[spec.name])
            object.__setattr__(self, spec.name, value)
            minimum = spec.metadata.get("minimum")
            if minimum is not None and value is not None and value < minimum:
                raise ParameterError(spec.name, f"must be ≥ {minimum}, got {value}")
            choices = spec.metadata.get("choices")
            if choices is not None and value is not None:
                allowed = list(choices())
                for item in value if isinstance(value, tuple) else (value,):
                    if item not in allowed:
                        if spec.name == "disable":
                            raise ParameterError(
                                "disable",
                                f"names unknown constraint(s) {item}; choose from {', '.join(allowed)}",
                            )
                        raise ParameterError(
                            spec.name, f"'{item}' is unknown; choose one of {', '.join(allowed)}"
                        )
        if self.order == "victim-first" and self.budget is not None:
            raise ParameterError(
                "order",
                "'victim-first' spends queries on candidates the constraints would reject, so a query budget "
                "would end attacks early; use it without a budget",
            )

    # -- reading -------------------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> AttackOptions:
        """Options from plain data (a TOML table, JSON); an unknown key is a ``ParameterError`` naming it."""
        known = [spec.name for spec in dataclasses.fields(cls)]
        unknown = sorted(set(mapping) - set(known))
        if unknown:
            raise ParameterError(unknown[0], f"is no attack option; known: {', '.join(known)}")
        return cls(**dict(mapping))

    @classmethod
    def from_run(cls, options: Mapping[str, Any], budget: int | None = None) -> AttackOptions:
        """The options of a stored run (its ``options`` without the run-level entries, and its budget).
        Keys of options this version no longer has are left out rather than refused: old stores stay
        readable."""
        names = {spec.name for spec in dataclasses.fields(cls)}
        kept = {key: value for key, value in options.items() if key in names}
        if budget is not None:
            kept["budget"] = budget
        return cls(**kept)

    @classmethod
    def fields(cls) -> list[dataclasses.Field[Any]]:
        """The option fields with their metadata (``help``, ``label``, ``choices``, ``minimum``), and
        their types resolved (``Field.type``)."""
        hints = _hints(cls)
        specs = []
        for spec in dataclasses.fields(cls):
            spec.type = hints[spec.name]
            specs.append(spec)
        return specs

    # -- writing -------------------------------------------------------------------------------
    def changed(self) -> dict[str, Any]:
        """The options that differ from their default, in field order."""
        return {
            spec.name: getattr(self, spec.name)
            for spec in dataclasses.fields(self)
            if getattr(self, spec.name) != spec.default
        }

    def to_json(self, *, with_budget: bool = False) -> dict[str, Any]:
        """The options that differ from their default as plain data: what a run's key is made of. The
        budget is left out unless asked for (a run stores it in a column of its own)."""
        changed = self.changed()
        if not with_budget:
            changed.pop("budget", None)
        return {key: list(value) if isinstance(value, tuple) else value for key, value in changed.items()}

    def label(self, recipe: str) -> str:
        """The run's name in reports: the recipe and every option that changes its results
        (``"mlm-synonym (max 1 word; hard label)"``)."""
        parts = []
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if value == spec.default:
                continue
            name = spec.metadata.get("label") if spec.metadata else None
            text = name(value) if name is not None else f"{spec.name.replace('_', ' ')} {_plain(value)}"
            if text:
                parts.append(text)
        return f"{recipe} ({'; '.join(parts)})" if parts else recipe

    def without(self, *names: str) -> AttackOptions:
        """These options with the named ones back at their defaults."""
        defaults = {spec.name: spec.default for spec in dataclasses.fields(self) if spec.name in names}
        return dataclasses.replace(self, **defaults)


def _plain(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def _hints(cls: type) -> dict[str, Any]:
    import textrobust.attacks.options as module

    return typing.get_type_hints(cls, globalns={**vars(module), **vars(typing)})


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """``value`` as the field's type (a list or comma-separated string as a sorted tuple of names, a path
    as a string); a ``ParameterError`` naming the field when it is of another type."""
    optional = False
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        arguments = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(arguments) < len(typing.get_args(hint))
        hint = arguments[0] if len(arguments) == 1 else hint
        origin = typing.get_origin(hint)
    if value is None:
        if optional:
            return None
        raise ParameterError(name, "must be given")
    if origin is tuple:
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        if not isinstance(value, list | tuple | set | frozenset) or not all(
            isinstance(v, str) for v in value
        ):
            raise ParameterError(name, f"must be a list of names, got {value!r}")
        return tuple(sorted(set(value)))
    if hint is bool:
        if not isinstance(value, bool):
            raise ParameterError(name, f"must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(name, f"must be a whole number, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(name, f"must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if isinstance(value, Path):
            return str(value)
        if not isinstance(value, str):
            raise ParameterError(name, f"must be a string, got {value!r}")
        return value
    return value
