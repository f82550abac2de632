"""Jobs: what ``textrobust attack`` runs — a named recipe against a victim over a dataset split — and the
store writes of the layers above (defenses, human evaluation), since ``runs`` is the only store writer.

The victim is resolved once (``textrobust.victims.resolve_victim``); workers in other processes rebuild it
and the attack from picklable specs (a ``VictimRef`` and ``runs.specs.RecipeAttack``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from textrobust.attacks.options import AttackOptions
from textrobust.attacks.result import AttackResult
from textrobust.data import Dataset, Split
from textrobust.errors import AttackError, BudgetExhausted, require_at_least
from textrobust.runs.costs import CostEstimate, OtherExample, SampledExample, estimate_cost
from textrobust.runs.executor import Executor, InProcessExecutor, WorkerSpec, make_shards, spent_before
from textrobust.runs.executors import make_executor
from textrobust.runs.runner import AttackJob, RunOutcome, RunStopped, make_job, run_attack
from textrobust.runs.specs import attack_builder, check_attack, check_mlm_path, uses_masked_lm
from textrobust.store import DEFAULT_STORE, DefenseInfo, DefenseRecord, HumanEvaluation, Store, VictimInfo
from textrobust.store.records import DefenseRole
from textrobust.victims.resolve import VictimRef, resolve_victim
from textrobust.victims.usage import Usage


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


def _prepare_attack(
    victim: str | Path | VictimRef,
    recipe: str,
    *,
    options: AttackOptions | None,
    dataset: Dataset | str | Path,
    split: str,
    n: int | None,
    seed: int,
    mlm: str | None,
    resources: Mapping[str, Any] | None,
    batch_examples: int,
    notify: Callable[[str], None] | None,
) -> AttackJob:
    """The job ``attack_victim`` runs (and ``estimate_attack_cost`` samples), every user input checked
    before any model is loaded."""
    from textrobust.attacks.recipes import check_recipe_options
    from textrobust.attacks.textattack_adapter import is_textattack_recipe
    from textrobust.data import load_dataset

    options = options or AttackOptions()
    check_attack(recipe, options, None, resources)
    check_mlm_path(mlm)
    require_at_least("n", n, 1)
    require_at_least("batch_examples", batch_examples, 1)
    ref = resolve_victim(victim)
    hard = hard_label_for(ref, recipe, options)  # said below, once every check has passed
    data = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    if not is_textattack_recipe(recipe):  # what depends on the language, now that it is known
        check_recipe_options(recipe, hard, data.language)
    label_names, examples = victim_examples(ref, data, split)
    build = attack_builder(recipe, hard, language=data.language, mlm=mlm, seed=seed, resources=resources)
    options = hard_label_for(ref, recipe, options, notify)
    worker = WorkerSpec(
        load_victim=ref, build_attack=build, seed=seed, batch_examples=batch_examples, gpu=ref.uses_gpu
    )
    return make_job(
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


def hard_label_for(
    victim: VictimRef, recipe: str, options: AttackOptions, notify: Callable[[str], None] | None = None
) -> AttackOptions:
    """The options an attack on ``victim`` runs under: hard-label when the victim answers with a class only
    (a labels-only endpoint), said once through ``notify``, so that the run's stored options say so."""
    from textrobust.attacks.textattack_adapter import is_textattack_recipe

    if not victim.hard_label_only or options.hard_label:
        return options
    if is_textattack_recipe(recipe):
        raise AttackError(
            f"{victim.location} answers with labels only, and TextAttack's recipes need class "
            "probabilities; use a textrobust recipe (it runs hard-label)"
        )
    if notify is not None:
        notify(f"note: {victim.location} answers with labels only; the attack is hard-label (--hard-label)")
    return replace(options, hard_label=True)


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

    A victim that answers with labels only (``VictimRef.hard_label_only``) is attacked hard-label (noted
    through ``notify``). A victim that costs records what the run spent (``RunOutcome.spent``,
    ``RunRecord.usage``); when its budget is spent the run stops cleanly with ``RunStopped`` (a
    ``BudgetExhausted``): resume it with a larger budget (the budget is not part of the run's identity).
    """
    executor = executor or make_executor(workers)
    job = _prepare_attack(
        victim, recipe, options=options, dataset=dataset, split=split, n=n, seed=seed, mlm=mlm,
        resources=resources, batch_examples=batch_examples, notify=notify,
    )  # fmt: skip
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


# Examples a dry run attacks. textfooler on 50 MR examples: against a WordCNN the estimate was within 25 % of
# the real query count in 92 % of 26 windows with 15 (81 % with 10); against SmolLM2-135M behind
# llama-server (openai:, 4 requests at a time), 15 gave +18 % where 10 gave +37 % (see runs.costs).
DEFAULT_DRY_RUN_SAMPLE = 15


def estimate_attack_cost(
    victim: str | Path | VictimRef,
    recipe: str,
    *,
    sample: int = DEFAULT_DRY_RUN_SAMPLE,
    options: AttackOptions | None = None,
    dataset: Dataset | str | Path = "mr",
    split: str = "test",
    n: int | None = 200,
    seed: int = 0,
    mlm: str | None = None,
    resources: Mapping[str, Any] | None = None,
    batch_examples: int = 1,
    notify: Callable[[str], None] | None = None,
    executor: Executor | None = None,
) -> CostEstimate:
    """What ``attack_victim`` with the same arguments would cost, from its first ``sample`` examples
    attacked for real (``textrobust attack --dry-run``): victim queries, and for a victim that counts them
    requests, tokens and seconds waiting, each with a rough interval (see ``runs.costs``). The victim is
    also asked about every other example's original text (one query each, which the real run asks anyway),
    so that the examples it will skip are known. Nothing is stored; the answers are in the victim's request
    cache, so the real run does not pay for them again.

    A budget spent during the sample ends it early: the estimate then comes from the examples finished
    (noted through ``notify``), or is a ``RunStopped`` when none was.
    """
    require_at_least("sample", sample, 1)
    tell = notify or (lambda _message: None)
    job = _prepare_attack(
        victim, recipe, options=options, dataset=dataset, split=split, n=n, seed=seed, mlm=mlm,
        resources=resources, batch_examples=batch_examples, notify=notify,
    )  # fmt: skip
    examples = job.examples
    first = min(sample, len(examples))
    shards = make_shards(list(range(first)), examples.texts, examples.labels, max(1, batch_examples))
    finished: dict[int, AttackResult] = {}
    spent: Usage | None = None
    try:
        for index, result in (executor or InProcessExecutor()).run(job.worker, shards):
            finished[index] = result
            if result.usage is not None:
                spent = result.usage if spent is None else spent + result.usage
    except BudgetExhausted as error:
        unfinished = spent_before(error)
        if unfinished is not None:
            spent = unfinished if spent is None else spent + unfinished
        if not finished:
            raise RunStopped(error, None, 0, first, spent or Usage()) from error
        tell(f"note: {error}; the estimate comes from the {len(finished)} sample examples finished")
    sampled = [
        SampledExample(
            word_count(examples.texts[i]), result.queries, result.status == "skipped",
            result.original_proba[examples.labels[i]],
        )
        for i, result in sorted(finished.items())
    ]  # fmt: skip
    rest = [i for i in range(len(examples)) if i not in finished]
    others, survey = _survey(
        job.worker.load_victim, [examples.texts[i] for i in rest], [examples.labels[i] for i in rest], tell
    )
    return estimate_cost(sampled, others, spent, survey)


def _survey(
    load_victim: Callable[[], Any], texts: list[str], labels: list[int], tell: Callable[[str], None]
) -> tuple[list[OtherExample], Usage | None]:
    """The examples not sampled, with whether the victim already gets each wrong (an attack skips it) and
    its probability of the right class, and what asking cost; unknown when the budget runs out first."""
    import numpy as np

    from textrobust.runs.executor import victim_usage

    if not texts:
        return [], None
    victim = load_victim()
    before = victim_usage(victim)
    words = [word_count(text) for text in texts]
    try:
        probabilities = np.asarray(victim.predict_proba(texts), dtype=float)
        others = [
            OtherExample(count, int(row.argmax()) != label, float(row[label]))
            for count, row, label in zip(words, probabilities, labels, strict=True)
        ]
    except BudgetExhausted as error:
        tell(f"note: {error}; which examples the victim gets wrong is not known beyond the sample")
        others = [OtherExample(count) for count in words]
    after = victim_usage(victim)
    close = getattr(victim, "close", None)
    if callable(close) and victim is not getattr(load_victim, "prepared", None):  # its own connections
        close()
    return others, None if before is None or after is None else after - before


def word_count(text: str) -> int:
    """The words of a text as attacks count them (``AttackResult.num_words``)."""
    from textrobust.data.text import segment_text

    return len(segment_text(text).words)


def record_defense(store: Store, info: DefenseInfo, runs: Sequence[tuple[int, DefenseRole]]) -> DefenseRecord:
    """Store a defended victim and link the evaluation runs of it (``defended``) and its base (``base``)."""
    return store.add_defense(info, runs)


def record_human_evaluation(
    store: Store, run_id: int, summary: dict[str, Any], ratings: Sequence[dict[str, Any]]
) -> HumanEvaluation:
    """Store the ratings of a run's adversarial examples and what they add up to; the same ratings imported
    again (in any order of sheets) are not stored twice: the evaluation that holds them is returned."""
    from textrobust.errors import DataError
    from textrobust.store.records import canonical_json

    if not any(
        value is not None for r in ratings for column, value in r.items() if column not in ("rater", "item")
    ):
        raise DataError(f"no rating of run {run_id} is filled in; nothing to store")

    def content(rows: Sequence[dict[str, Any]]) -> list[str]:
        return sorted(canonical_json(row) for row in rows)

    imported = content(ratings)
    for evaluation in store.human_evaluations(run_id):
        if content(evaluation.ratings) == imported:
            return evaluation
    return store.add_human_evaluation(
        run_id, int(summary["raters"]), int(summary["items"]), summary, list(ratings)
    )
