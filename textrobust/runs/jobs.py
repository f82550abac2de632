"""Jobs: what ``textrobust attack`` runs — a named recipe against a saved victim over a dataset split.

Workers in other processes rebuild the victim and the attack from picklable specs (``SavedVictim``,
``RecipeAttack``); the transfer job and the defenses' adversarial-example generation will live here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textrobust.attacks.result import Attack
from textrobust.data import Dataset, Split
from textrobust.errors import ParameterError, require_at_least
from textrobust.runs.executor import WorkerSpec, make_executor
from textrobust.runs.runner import RunOutcome, make_job, run_attack
from textrobust.store import Store, VictimInfo
from textrobust.victims.protocols import Classifier

DEFAULT_STORE = Path("runs") / "textrobust.sqlite"


@dataclass(frozen=True)
class SavedVictim:
    """Loads a saved victim directory (picklable, for workers in other processes)."""

    directory: str

    def __call__(self) -> Classifier:
        from textrobust.victims import load_victim

        return load_victim(self.directory)


@dataclass(frozen=True)
class RecipeAttack:
    """Builds a named recipe (picklable, for workers in other processes).

    ``options``: further keyword arguments of ``build_attack`` (``disable``, ``hard_label``,
    ``beam_width``, resource names or paths), JSON-serialisable since they are stored with the run.
    """

    recipe: str
    language: str = "en"
    mlm: str | None = None
    budget: int | None = None
    seed: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self) -> Attack:
        from textrobust.attacks.recipes import build_attack

        return build_attack(
            self.recipe,
            language=self.language,
            mlm=self.mlm,
            budget=self.budget,
            seed=self.seed,
            **self.options,
        )


def attack_saved_victim(
    victim_dir: str | Path,
    recipe: str,
    *,
    dataset: Dataset | str | Path = "mr",
    split: str = "test",
    n: int | None = 200,
    seed: int = 0,
    budget: int | None = None,
    mlm: str | None = None,
    attack_options: Mapping[str, Any] | None = None,
    store: Store | str | Path = DEFAULT_STORE,
    workers: int = 1,
    resume: bool = False,
    progress: bool = True,
    notify: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Attack a saved victim with a named recipe over a dataset split (what ``textrobust attack`` runs).

    Checks what a user can get wrong before any model is loaded: the recipe name, ``budget``,
    ``workers``, the victim directory, the dataset, split and ``n``. Labels are matched to the victim's
    by name; stored label ids index the victim's labels.
    """
    from textrobust.attacks.recipes import check_attack_options
    from textrobust.attacks.textattack_adapter import TextAttackRecipe, is_textattack_recipe, parse_recipe
    from textrobust.data import load_dataset
    from textrobust.victims.base import VICTIM_TYPE_KEY, read_config, victim_label_ids

    attack_options = dict(attack_options or {})
    if is_textattack_recipe(recipe):  # TextAttack's implementation, through the optional adapter
        textattack_recipe = parse_recipe(recipe)
        if attack_options:
            raise ParameterError(
                "attack_options", f"{', '.join(attack_options)} do not apply to TextAttack recipes"
            )
        require_at_least("budget", budget, 1)
    else:
        check_attack_options(
            recipe,
            budget=budget,
            disable=attack_options.get("disable", ()),
            beam_width=attack_options.get("beam_width"),
        )
    require_at_least("n", n, 1)
    executor = make_executor(workers)
    config = read_config(victim_dir)
    data = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    examples = data.split(split)
    label_names = list(data.label_names)
    if isinstance(config.get("labels"), list):
        label_names = [str(label) for label in config["labels"]]
        examples = Split(examples.texts, victim_label_ids(label_names, data.label_names, examples.labels))
    build: Callable[[], Attack]
    if is_textattack_recipe(recipe):
        build = TextAttackRecipe(textattack_recipe, data.language, mlm, budget)
    else:
        build = RecipeAttack(recipe, data.language, mlm, budget, seed, attack_options)
    victim = SavedVictim(str(Path(victim_dir).resolve()))
    worker = WorkerSpec(load_victim=victim, build_attack=build, seed=seed)
    job = make_job(
        recipe=recipe,
        victim=VictimInfo.from_directory(victim_dir, str(config[VICTIM_TYPE_KEY])),
        dataset_name=data.name,
        split_name=split,
        language=data.language,
        label_names=label_names,
        split=examples,
        n=n,
        seed=seed,
        budget=budget,
        options={"language": data.language, "mlm": mlm, **attack_options},
        worker=worker,
    )
    opened = store if isinstance(store, Store) else Store(store)
    try:
        return run_attack(job, opened, executor=executor, resume=resume, progress=progress, notify=notify)
    finally:
        if opened is not store:
            opened.close()
