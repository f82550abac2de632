"""Jobs: what ``textrobust attack`` runs — a named recipe against a victim over a dataset split — and the
store writes of the layers above (defenses, human evaluation), since ``runs`` is the only store writer.

The victim is resolved once (``textrobust.victims.resolve_victim``); workers in other processes rebuild it
and the attack from picklable specs (a ``VictimRef`` and ``runs.specs.RecipeAttack``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from textrobust.attacks.options import AttackOptions
from textrobust.attacks.result import AttackResult
from textrobust.data import Dataset, Split
from textrobust.errors import require_at_least
from textrobust.runs.executor import Executor, WorkerSpec
from textrobust.runs.executors import make_executor
from textrobust.runs.runner import RunOutcome, make_job, run_attack
from textrobust.runs.specs import attack_builder, check_attack, check_mlm_path, uses_masked_lm
from textrobust.store import DEFAULT_STORE, DefenseInfo, DefenseRecord, HumanEvaluation, Store, VictimInfo
from textrobust.store.records import DefenseRole
from textrobust.victims.resolve import VictimRef, resolve_victim


def victim_examples(victim: VictimRef, data: Dataset, split: str) -> tuple[list[str], Split]:
    """The victim's label names and the split's examples with labels re-expressed as the victim's ids
    (matched by name); a ``DataError`` when the victim's language or labels do not fit the dataset."""
    from textrobust.victims.base import check_victim_language, victim_label_ids

    examples = data.split(split)
    check_victim_language(victim.language, data.name, data.language, victim.location)
    if victim.labels is None:
        return list(data.label_names), examples
    labels = list(victim.labels)
    return labels, Split(examples.texts, victim_label_ids(labels, data.label_names, examples.labels))


def attack_victim(
    victim: str | Path | VictimRef,
    recipe: str,
    *,
    options: AttackOptions | None = None,
    dataset: Dataset | str | Path = "mr",
    split: str = "test",
    n: int | None = 200,
    seed: int = 0,
    mlm: str | None = None,
    resources: Mapping[str, Any] | None = None,
    store: Store | str | Path = DEFAULT_STORE,
    workers: int = 1,
    batch_examples: int = 1,
    resume: bool = False,
    progress: bool = True,
    notify: Callable[[str], None] | None = None,
    executor: Executor | None = None,
    on_result: Callable[[int, AttackResult], None] | None = None,
) -> RunOutcome:
    """Attack a victim with a named recipe over a dataset split (what ``textrobust attack`` runs).

    Checks what a user can get wrong before any model is loaded: the recipe and its ``options``,
    ``workers``, the victim, the dataset, split and ``n``. ``batch_examples``: examples each worker attacks
    side by side, their model calls pooled (the same results, fewer and bigger batches). ``resources``:
    recipe resources by name/path (stored with the run) or, in this process, as objects. Labels are
    matched to the victim's by name; stored label ids index the victim's labels. ``executor`` (a process
    pool, Ray actors…) takes the place of ``workers`` when given; ``on_result`` is called with each
    example's result as it is stored.
    """
    from textrobust.attacks.recipes import check_recipe_options
    from textrobust.attacks.textattack_adapter import is_textattack_recipe
    from textrobust.data import load_dataset

    options = options or AttackOptions()
    check_attack(recipe, options, None, resources)
    check_mlm_path(mlm)
    require_at_least("n", n, 1)
    require_at_least("batch_examples", batch_examples, 1)
    executor = executor or make_executor(workers)
    ref = resolve_victim(victim)
    data = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    if not is_textattack_recipe(recipe):  # what depends on the language, now that it is known
        check_recipe_options(recipe, options, data.language)
    label_names, examples = victim_examples(ref, data, split)
    build = attack_builder(recipe, options, language=data.language, mlm=mlm, seed=seed, resources=resources)
    worker = WorkerSpec(
        load_victim=ref, build_attack=build, seed=seed, batch_examples=batch_examples, gpu=ref.uses_gpu
    )
    job = make_job(
        recipe=recipe,
        victim=VictimInfo.from_ref(ref),
        dataset_name=data.name,
        split_name=split,
        language=data.language,
        label_names=label_names,
        split=examples,
        n=n,
        seed=seed,
        budget=options.budget,
        # The fill-mask model is a setting only of the recipes that use one: a textfooler run with or
        # without --mlm is the same run.
        options={
            "language": data.language,
            **({"mlm": mlm} if uses_masked_lm(recipe) else {}),
            **options.to_json(),
            **dict(resources or {}),
        },
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
