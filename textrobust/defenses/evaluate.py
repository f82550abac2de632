"""One evaluation protocol for every defense: the defended victim and its undefended base are attacked on
the *same* first N test examples, with the same recipes and seed; clean accuracy and accuracy under each
attack are compared per example, and the paired difference gets a bootstrap 95 % interval.

Every attack is an ordinary stored run (so a base evaluated once is reused by every defense of it), and the
defense row links them, so the leaderboard can show before and after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from textrobust import __version__
from textrobust.attacks.options import AttackOptions
from textrobust.attacks.result import AttackResult
from textrobust.data import Dataset
from textrobust.defenses import DEFAULT_EVAL_RECIPES
from textrobust.errors import ParameterError, require_at_least
from textrobust.runs.executor import Executor
from textrobust.runs.jobs import attack_victim, record_defense
from textrobust.runs.specs import check_attack, split_attack_options
from textrobust.statistics import bootstrap_mean
from textrobust.store import DefenseInfo, Store, VictimInfo
from textrobust.store.records import DefenseRole


@dataclass(frozen=True)
class PairedDifference:
    """Mean of defended − base over paired examples, with a bootstrap 95 % interval."""

    base: float
    defended: float
    difference: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        """Whether the interval excludes 0."""
        return self.low > 0 or self.high < 0


def paired_bootstrap(base: Sequence[float], defended: Sequence[float], seed: int = 0) -> PairedDifference:
    """Percentile bootstrap of the mean paired difference (examples resampled with replacement)."""
    a, b = np.asarray(base, dtype=np.float64), np.asarray(defended, dtype=np.float64)
    if a.shape != b.shape or a.size == 0:
        raise ParameterError("n", "the paired samples must be non-empty and of equal length")
    difference = bootstrap_mean(b - a, seed)
    assert difference.mean is not None and difference.low is not None and difference.high is not None
    return PairedDifference(
        float(a.mean()), float(b.mean()), difference.mean, difference.low, difference.high
    )


@dataclass(frozen=True)
class RecipeComparison:
    """One recipe on both victims: the stored runs and accuracy under attack, paired."""

    recipe: str
    base_run: int
    defended_run: int
    under_attack: PairedDifference


@dataclass(frozen=True)
class DefenseEvaluation:
    """Before and after, on the same examples."""

    n: int
    clean: PairedDifference
    recipes: list[RecipeComparison] = field(default_factory=list)
    defense_id: int | None = None

    def rows(self) -> list[dict[str, Any]]:
        """A row per measure (clean, then each recipe): base, defended, difference and its interval."""
        measures = [("clean", self.clean)] + [(f"under {c.recipe}", c.under_attack) for c in self.recipes]
        return [
            {
                "accuracy": name,
                "base": round(d.base, 4),
                "defended": round(d.defended, 4),
                "difference": round(d.difference, 4),
                "95% interval": f"[{d.low:+.3f}, {d.high:+.3f}]",
            }
            for name, d in measures
        ]


def check_evaluation(recipes: Sequence[str], n: int | None, budget_protocol: str | None = None) -> None:
    """The evaluation's settings, checked before anything runs (a defense checks them before training)."""
    if not recipes:
        raise ParameterError("recipes", "name at least one recipe to evaluate under")
    require_at_least("n", n, 1)
    options = AttackOptions(budget_protocol=budget_protocol)
    for recipe in recipes:
        check_attack(recipe, options)


def evaluate_defense(
    defended_dir: str | Path,
    base_dir: str | Path,
    dataset: Dataset,
    *,
    recipes: Sequence[str] = DEFAULT_EVAL_RECIPES,
    n: int | None = 200,
    seed: int = 0,
    store: Store | str | Path,
    mlm: str | None = None,
    budget_protocol: str | None = None,
    workers: int = 1,
    progress: bool = True,
    defense: dict[str, Any] | None = None,
    executor: Executor | None = None,
    attack_options: dict[str, Any] | None = None,
) -> DefenseEvaluation:
    """Attack both victims on the first ``n`` test examples with each recipe; record the defense (when
    ``defense`` describes it: method, parameters, cost) linked to every run. A base already attacked with
    the same parameters is not attacked again: its stored run is reused. ``attack_options``: further
    ``build_attack`` options for every recipe (resources by name)."""
    check_evaluation(recipes, n, budget_protocol)
    shared, resources = split_attack_options(attack_options)
    options = replace(shared, budget_protocol=budget_protocol) if budget_protocol else shared
    opened = store if isinstance(store, Store) else Store(store)
    try:
        runs: dict[tuple[str, str], int] = {}
        results: dict[tuple[str, str], list[AttackResult]] = {}
        for recipe in recipes:
            for role, directory in (("base", base_dir), ("defended", defended_dir)):
                outcome = attack_victim(
                    directory, recipe, options=options, dataset=dataset, split="test", n=n, seed=seed,
                    mlm=mlm, resources=resources, store=opened, workers=workers, resume=True,
                    progress=progress, executor=executor,
                )  # fmt: skip
                runs[(recipe, role)] = outcome.run.id
                results[(recipe, role)] = opened.results(outcome.run.id)
        first = recipes[0]
        clean = paired_bootstrap(
            [float(r.correct_before) for r in results[(first, "base")]],
            [float(r.correct_before) for r in results[(first, "defended")]],
            seed,
        )
        comparisons = [
            RecipeComparison(
                recipe,
                runs[(recipe, "base")],
                runs[(recipe, "defended")],
                paired_bootstrap(
                    [float(r.correct_after) for r in results[(recipe, "base")]],
                    [float(r.correct_after) for r in results[(recipe, "defended")]],
                    seed,
                ),
            )
            for recipe in recipes
        ]
        defense_id = None
        if defense is not None:
            info = DefenseInfo(
                method=str(defense["method"]),
                parameters=dict(defense.get("parameters") or {}),
                base=_victim_info(base_dir),
                defended=_victim_info(defended_dir),
                dataset=dataset.name,
                train_seconds=float(defense.get("train_seconds") or 0.0),
                generation_seconds=float(defense.get("generation_seconds") or 0.0),
                clean_train_seconds=defense.get("clean_train_seconds"),
                forward_passes=int(defense.get("forward_passes") or 1),
                version=__version__,
            )
            links: list[tuple[int, DefenseRole]] = [
                (run_id, "base" if role == "base" else "defended") for (_recipe, role), run_id in runs.items()
            ]
            defense_id = record_defense(opened, info, links).id
        n_examples = len(results[(first, "base")])
        return DefenseEvaluation(n_examples, clean, comparisons, defense_id)
    finally:
        if opened is not store:
            opened.close()


def _victim_info(directory: str | Path) -> VictimInfo:
    return VictimInfo.from_directory(directory)
