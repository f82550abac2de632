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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from textrobust.errors import ParameterError, require_at_least
from textrobust.fields import SettingField, convert, dataclass_from_mapping, setting_fields

# Run-level entries the store keeps beside the options (they are not attack options).
RUN_KEYS = frozenset({"language", "mlm"})
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
        for spec in setting_fields(type(self)):
            value = getattr(self, spec.name)
            value = convert(spec, value)
            if isinstance(value, tuple):
                value = tuple(sorted(set(value)))  # a set of names: equal settings give one run key
            object.__setattr__(self, spec.name, value)
            minimum = spec.metadata.get("minimum")
            if minimum is not None:
                require_at_least(spec.name, value, minimum)
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
        return dataclass_from_mapping(cls, mapping, "the attack options")

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
    def fields(cls) -> list[SettingField]:
        """The option fields: name, type, default, help, choices (``textrobust.fields``)."""
        return setting_fields(cls)

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
