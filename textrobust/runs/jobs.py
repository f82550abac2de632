"""Jobs: what ``textrobust attack`` runs — a named recipe against a saved victim over a dataset split.

Workers in other processes rebuild the victim and the attack from picklable specs (``SavedVictim``,
``RecipeAttack``); the transfer job and the defenses' adversarial-example generation will live here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textrobust.attacks.result import Attack, AttackResult
from textrobust.data import Dataset, Split
from textrobust.errors import ParameterError, TextrobustError, require_at_least
from textrobust.runs.executor import Executor, WorkerSpec, make_executor
from textrobust.runs.runner import RunOutcome, make_job, run_attack
from textrobust.store import DefenseInfo, DefenseRecord, HumanEvaluation, Store, VictimInfo
from textrobust.store.records import DefenseRole
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


def _uses_mlm(recipe: str) -> bool:
    from textrobust.attacks.recipes import MASKED_LM_RECIPES
    from textrobust.attacks.textattack_adapter import MLM_RECIPES, PREFIX

    return (
        recipe in MASKED_LM_RECIPES
        or recipe.removeprefix(PREFIX) in MLM_RECIPES
        and recipe.startswith(PREFIX)
    )


def check_recipe(recipe: str, budget: int | None, attack_options: Mapping[str, Any]) -> None:
    """What can be checked of a recipe and its options before anything is loaded (``textattack:NAME``
    included: TextAttack takes no textrobust options)."""
    from textrobust.attacks.recipes import check_attack_options
    from textrobust.attacks.textattack_adapter import is_textattack_recipe, parse_recipe

    if is_textattack_recipe(recipe):  # TextAttack's implementation, through the optional adapter
        parse_recipe(recipe)
        if attack_options:
            raise ParameterError(
                "attack_options", f"{', '.join(attack_options)} do not apply to TextAttack recipes"
            )
        require_at_least("budget", budget, 1)
        return
    check_attack_options(
        recipe,
        budget=budget,
        disable=attack_options.get("disable", ()),
        beam_width=attack_options.get("beam_width"),
        budget_protocol=attack_options.get("budget_protocol"),
        max_words=attack_options.get("max_words"),
        word_list=attack_options.get("word_list"),
        profile=attack_options.get("profile", "paper"),
        order=attack_options.get("order", "constraints-first"),
    )


def victim_uses_gpu(victim_dir: str | Path) -> bool:
    """Whether a saved victim is a transformer (or smooths one), which a GPU worker runs faster; word
    victims are small enough for CPU workers, and quantized ones run on the CPU."""
    from textrobust.victims.base import VICTIM_TYPE_KEY, find_base, read_config

    config = read_config(victim_dir)
    if config.get(VICTIM_TYPE_KEY) == "quantized":  # the quantized kernels are CPU kernels
        return False
    if config.get(VICTIM_TYPE_KEY) == "smoothed":
        try:
            return victim_uses_gpu(find_base(victim_dir, config, "smoothed", check=False))
        except TextrobustError:
            return False
    return config.get(VICTIM_TYPE_KEY) == "bert"


def check_mlm_path(mlm: str | None) -> None:
    """A ``--mlm`` written as a local path (absolute, ``./``, ``~``, or with more than one ``/``; a Hub name
    is ``org/name``) must exist before the run starts."""
    if mlm is None:
        return
    looks_local = mlm.startswith(("/", ".", "~")) or mlm.count("/") > 1 or "\\" in mlm
    if looks_local and not Path(mlm).expanduser().exists():
        raise ParameterError("mlm", f"folder not found: {mlm}")


def recipe_builder(
    recipe: str,
    language: str,
    mlm: str | None,
    budget: int | None,
    seed: int,
    attack_options: Mapping[str, Any],
) -> Callable[[], Attack]:
    """A picklable zero-argument builder of the named attack (textrobust's or ``textattack:NAME``)."""
    from textrobust.attacks.textattack_adapter import TextAttackRecipe, is_textattack_recipe, parse_recipe

    if is_textattack_recipe(recipe):
        return TextAttackRecipe(parse_recipe(recipe), language, mlm, budget)
    return RecipeAttack(recipe, language, mlm, budget, seed, dict(attack_options))


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
    batch_examples: int = 1,
    resume: bool = False,
    progress: bool = True,
    notify: Callable[[str], None] | None = None,
    executor: Executor | None = None,
    on_result: Callable[[int, AttackResult], None] | None = None,
) -> RunOutcome:
    """Attack a saved victim with a named recipe over a dataset split (what ``textrobust attack`` runs).

    Checks what a user can get wrong before any model is loaded: the recipe name, ``budget``,
    ``workers``, the victim directory, the dataset, split and ``n``. ``batch_examples``: examples each
    worker attacks side by side, their model calls pooled (the same results, fewer and bigger batches).
    Labels are matched to the victim's by name; stored label ids index the victim's labels.
    ``executor`` (a process pool, Ray actors…) takes the place of ``workers`` when given; ``on_result``
    is called with each example's result as it is stored.
    """
    from textrobust.data import load_dataset
    from textrobust.victims.base import VICTIM_TYPE_KEY, check_victim_language, read_config, victim_label_ids

    attack_options = dict(attack_options or {})
    check_recipe(recipe, budget, attack_options)
    check_mlm_path(mlm)
    require_at_least("n", n, 1)
    require_at_least("batch_examples", batch_examples, 1)
    executor = executor or make_executor(workers)
    config = read_config(victim_dir)
    data = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    examples = data.split(split)
    check_victim_language(config.get("language"), data.name, data.language, str(victim_dir))
    label_names = list(data.label_names)
    if isinstance(config.get("labels"), list):
        label_names = [str(label) for label in config["labels"]]
        examples = Split(examples.texts, victim_label_ids(label_names, data.label_names, examples.labels))
    build = recipe_builder(recipe, data.language, mlm, budget, seed, attack_options)
    victim = SavedVictim(str(Path(victim_dir).resolve()))
    worker = WorkerSpec(
        load_victim=victim, build_attack=build, seed=seed, batch_examples=batch_examples,
        gpu=victim_uses_gpu(victim_dir),
    )  # fmt: skip
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
        # The fill-mask model is a setting only of the recipes that use one: a textfooler run with or
        # without --mlm is the same run.
        options={"language": data.language, **({"mlm": mlm} if _uses_mlm(recipe) else {}), **attack_options},
        worker=worker,
    )
    opened = store if isinstance(store, Store) else Store(store)
    try:
        return run_attack(
            job,
            opened,
            executor=executor,
            resume=resume,
            progress=progress,
            notify=notify,
            on_result=on_result,
        )
    finally:
        if opened is not store:
            opened.close()


def record_defense(store: Store, info: DefenseInfo, runs: Sequence[tuple[int, DefenseRole]]) -> DefenseRecord:
    """Store a defended victim and link the evaluation runs of it (``defended``) and its base (``base``)."""
    return store.add_defense(info, runs)


def record_human_evaluation(
    store: Store, run_id: int, summary: dict[str, Any], ratings: Sequence[dict[str, Any]]
) -> HumanEvaluation:
    """Store the ratings of a run's adversarial examples and what they add up to."""
    return store.add_human_evaluation(
        run_id, int(summary["raters"]), int(summary["items"]), summary, list(ratings)
    )
