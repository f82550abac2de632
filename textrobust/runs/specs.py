"""What workers build their attack from: a picklable spec of a named recipe under ``AttackOptions``
(textrobust's recipes and TextAttack's own, ``textattack:NAME``), and the checks made of it before anything
is loaded. Workers build their victim from a ``textrobust.victims.VictimRef``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textrobust.attacks.options import AttackOptions
from textrobust.attacks.result import Attack
from textrobust.errors import ParameterError


@dataclass(frozen=True)
class RecipeAttack:
    """Builds a named textrobust recipe (picklable, for workers in other processes).

    ``resources``: any of the recipe resources (``attacks.recipes.RESOURCE_NAMES``), each a name/path or,
    for workers in this process, a loaded object.
    """

    recipe: str
    options: AttackOptions = field(default_factory=AttackOptions)
    language: str = "en"
    mlm: str | None = None
    seed: int = 0
    resources: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self) -> Attack:
        from textrobust.attacks.recipes import RecipeResources, build_attack

        resources = RecipeResources(self.language, self.mlm, **dict(self.resources))
        return build_attack(self.recipe, self.options, resources, seed=self.seed)


def split_attack_options(mapping: Mapping[str, Any] | None) -> tuple[AttackOptions, dict[str, Any]]:
    """A mapping of attack options and recipe resources (as a defense's settings or a Python caller keep
    them together) as ``AttackOptions`` and the resources; a ``ParameterError`` names an unknown key."""
    from textrobust.attacks.recipes import RESOURCE_NAMES

    mapping = dict(mapping or {})
    resources = {key: mapping.pop(key) for key in list(mapping) if key in RESOURCE_NAMES}
    return AttackOptions.from_mapping(mapping), resources


def uses_masked_lm(recipe: str) -> bool:
    """Whether a recipe draws its candidates from a fill-mask model (the only ones ``--mlm`` changes)."""
    from textrobust.attacks.recipes import MASKED_LM_RECIPES
    from textrobust.attacks.textattack_adapter import MLM_RECIPES, is_textattack_recipe, parse_recipe

    if is_textattack_recipe(recipe):
        return parse_recipe(recipe) in MLM_RECIPES
    return recipe in MASKED_LM_RECIPES


def check_attack(
    recipe: str,
    options: AttackOptions,
    language: str | None = None,
    resources: Mapping[str, Any] | None = None,
) -> None:
    """What can be checked of a recipe and its options before anything is loaded (``textattack:NAME``
    included: TextAttack's recipes take no textrobust option but the budget). ``language``: the data's,
    when known (None: what depends on it is checked when the attack is built)."""
    from textrobust.attacks.recipes import RESOURCE_NAMES, check_recipe_options
    from textrobust.attacks.textattack_adapter import is_textattack_recipe, parse_recipe

    unknown = sorted(set(resources or {}) - set(RESOURCE_NAMES))
    if unknown:
        raise ParameterError(
            "resources", f"has unknown name(s) {', '.join(unknown)}; known: {', '.join(RESOURCE_NAMES)}"
        )
    if is_textattack_recipe(recipe):  # TextAttack's implementation, through the optional adapter
        parse_recipe(recipe)
        other = options.without("budget").to_json()
        if other or resources:
            names = [*other, *(resources or {})]
            raise ParameterError("attack_options", f"{', '.join(names)} do not apply to TextAttack recipes")
        return
    check_recipe_options(recipe, options, language)


def attack_builder(
    recipe: str,
    options: AttackOptions,
    *,
    language: str = "en",
    mlm: str | None = None,
    seed: int = 0,
    resources: Mapping[str, Any] | None = None,
) -> Callable[[], Attack]:
    """A picklable zero-argument builder of the named attack (textrobust's or ``textattack:NAME``)."""
    from textrobust.attacks.textattack_adapter import TextAttackRecipe, is_textattack_recipe, parse_recipe

    if is_textattack_recipe(recipe):
        return TextAttackRecipe(parse_recipe(recipe), language, mlm, options.budget)
    return RecipeAttack(recipe, options, language, mlm, seed, dict(resources or {}))


def check_mlm_path(mlm: str | None) -> None:
    """A ``--mlm`` written as a local path (absolute, ``./``, ``~``, or with more than one ``/``; a Hub name
    is ``org/name``) must exist before the run starts."""
    if mlm is None:
        return
    looks_local = mlm.startswith(("/", ".", "~")) or mlm.count("/") > 1 or "\\" in mlm
    if looks_local and not Path(mlm).expanduser().exists():
        raise ParameterError("mlm", f"folder not found: {mlm}")
