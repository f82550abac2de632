"""The runner: attacks the examples of a split with an executor and stores each result as it finishes.

Attacks only decide what to try for one example. The runner does everything around them: picks the
examples, skips those already stored (``resume``), hands shards to an executor, writes every result to
the store the moment it arrives, and shows progress. Same seed, same adversarial texts: each example is
seeded from the run seed and its index, and starts from an empty victim cache.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textrobust import __version__
from textrobust.attacks.executor import (
    Executor,
    InProcessExecutor,
    Shard,
    WorkerSpec,
    make_executor,
    make_shards,
)
from textrobust.attacks.result import Attack, AttackResult, ProbabilityModel
from textrobust.data import Dataset, Split
from textrobust.errors import DataError, TextrobustError
from textrobust.leaderboard.store import DatasetInfo, RunParameters, RunRecord, Store, VictimInfo

DEFAULT_STORE = Path("runs") / "textrobust.sqlite"


@dataclass(frozen=True)
class SavedVictim:
    """Loads a saved victim directory (picklable, for workers in other processes)."""

    directory: str

    def __call__(self) -> ProbabilityModel:
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


@dataclass(frozen=True)
class AttackJob:
    """One run to do: the parameters that identify it, its examples, how workers build victim and attack."""

    parameters: RunParameters
    examples: Split  # example i of the run is example i of the split
    worker: WorkerSpec

    def __post_init__(self) -> None:
        if len(self.examples) != self.parameters.dataset.size:
            raise ValueError("the job's examples do not match its dataset description")
        if self.worker.seed != self.parameters.seed:
            raise ValueError("the worker seed differs from the run seed")


@dataclass(frozen=True)
class RunOutcome:
    """What a call to :func:`run_attack` did: the run (as stored now), and how many examples it attacked."""

    run: RunRecord
    attacked: int
    resumed: bool


def make_job(
    *,
    recipe: str,
    victim: VictimInfo,
    dataset_name: str,
    split_name: str,
    language: str,
    label_names: list[str],
    split: Split,
    n: int | None,
    seed: int,
    budget: int | None,
    options: Mapping[str, Any],
    worker: WorkerSpec,
) -> AttackJob:
    """A job over the first ``n`` examples of ``split`` (all when ``n`` is None)."""
    if n is not None and n < 1:
        raise DataError(f"--n must be ≥ 1, got {n}")
    examples = split.head(n)
    if not len(examples):
        raise DataError(f"split '{split_name}' of dataset '{dataset_name}' is empty")
    dataset = DatasetInfo.from_examples(
        dataset_name, split_name, language, label_names, examples.texts, examples.labels
    )
    parameters = RunParameters(
        recipe=recipe, victim=victim, dataset=dataset, seed=seed, budget=budget, options=dict(options),
        version=__version__,
    )  # fmt: skip
    return AttackJob(parameters, examples, worker)


def _progress_bar() -> Any:  # a rich Progress on stderr, so stdout keeps only results
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[green]{task.fields[success]} ok[/] [red]{task.fields[failed]} failed[/] "
                   "[dim]{task.fields[skipped]} skipped[/]"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )  # fmt: skip


def run_attack(
    job: AttackJob,
    store: Store,
    *,
    executor: Executor | None = None,
    resume: bool = False,
    shard_size: int = 1,
    progress: bool = True,
    on_result: Callable[[int, AttackResult], None] | None = None,
    notify: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Attack the job's examples and store every result as soon as the executor yields it.

    With ``resume``, the newest unfinished run with the same parameters is continued: its stored examples
    are neither attacked again nor lost (a finished one is returned as it is). Without a run to resume, or
    without ``resume``, a new run is started, recorded with its first result (so a victim or attack that
    cannot even load leaves no run behind). A run stopped by an exception is marked ``interrupted``.
    ``notify`` receives one-line messages saying which run this is.
    """
    executor = executor or InProcessExecutor()
    tell = notify or (lambda _message: None)
    total = len(job.examples)
    previous = store.find_runs(job.parameters)
    unfinished = [r for r in previous if r.status != "finished"]
    run = None
    if resume:
        if unfinished:
            run = unfinished[0]
            tell(f"resuming run {run.id}: {store.count_results(run.id)} of {total} examples already stored")
        elif previous:
            tell(f"run {previous[0].id} with these parameters is already finished; nothing to attack")
            return RunOutcome(previous[0], attacked=0, resumed=True)
        else:
            tell("no unfinished run with these parameters; starting a new one")
    elif unfinished:
        stored = store.count_results(unfinished[0].id)
        tell(
            f"note: run {unfinished[0].id} with these parameters is unfinished ({stored} of {total} stored); "
            "pass --resume to continue it instead of starting over"
        )
    resumed = run is not None
    if run is not None and run.status != "running":
        store.set_status(run.id, "running")
    done = store.finished_indices(run.id) if run is not None else set()
    todo = [i for i in range(total) if i not in done]
    shards: list[Shard] = make_shards(todo, job.examples.texts, job.examples.labels, shard_size)
    counts = {"success": 0, "failed": 0, "skipped": 0}
    for result in store.results(run.id) if run is not None else []:
        counts[result.status] += 1

    bar = None
    if progress:
        p = job.parameters
        bar = _progress_bar()
        task = bar.add_task(f"{p.recipe} → {p.victim.type}", total=total, completed=len(done), **counts)
        bar.start()
    attacked = 0
    try:
        for index, result in executor.run(job.worker, shards):
            if (
                run is None
            ):  # started with the first result: a victim or attack that fails to load leaves no run
                run = store.start_run(job.parameters)
            store.add_result(run.id, index, result)
            attacked += 1
            counts[result.status] += 1
            if bar is not None:
                bar.update(task, advance=1, **counts)
            if on_result is not None:
                on_result(index, result)
    except BaseException:
        if run is not None:
            store.set_status(run.id, "interrupted")
        raise
    finally:
        if bar is not None:
            bar.stop()
    if run is None or store.count_results(run.id) != total:  # an executor that dropped shards is a bug
        if run is not None:
            store.set_status(run.id, "interrupted")
        raise TextrobustError("the executor finished without attacking every example; resume with --resume")
    store.set_status(run.id, "finished")
    return RunOutcome(store.run(run.id), attacked=attacked, resumed=resumed)


def victim_label_ids(
    victim_labels: Sequence[str], dataset_labels: Sequence[str], labels: Sequence[int]
) -> list[int]:
    """Dataset label ids re-expressed as the victim's label ids, matched by name."""
    victim_labels = list(victim_labels)
    missing = [name for name in dataset_labels if name not in victim_labels]
    if missing:
        raise DataError(
            f"dataset label '{missing[0]}' is not among the victim's labels {victim_labels}; "
            "attack a victim trained on this dataset's labels"
        )
    return [victim_labels.index(dataset_labels[label]) for label in labels]


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
    from textrobust.attacks.recipes import RECIPES
    from textrobust.data import load_dataset
    from textrobust.victims.base import VICTIM_TYPE_KEY, read_config

    textattack_recipe = None
    if recipe.startswith("textattack:"):  # TextAttack's implementation, through the optional adapter
        from textrobust.attacks.textattack_adapter import parse_recipe

        textattack_recipe = parse_recipe(recipe)
    elif recipe not in RECIPES:
        raise TextrobustError(f"unknown recipe '{recipe}'; choose one of {', '.join(RECIPES)}")
    if budget is not None and budget < 1:
        raise TextrobustError(f"--budget must be ≥ 1 query, got {budget}")
    if workers < 1:
        raise TextrobustError(f"--workers must be ≥ 1, got {workers}")
    config = read_config(victim_dir)
    data = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    examples = data.split(split)
    label_names = list(data.label_names)
    if isinstance(config.get("labels"), list):
        label_names = [str(label) for label in config["labels"]]
        examples = Split(examples.texts, victim_label_ids(label_names, data.label_names, examples.labels))
    attack_options = dict(attack_options or {})
    build: Callable[[], Attack] = RecipeAttack(recipe, data.language, mlm, budget, seed, attack_options)
    if textattack_recipe is not None:
        from textrobust.attacks.textattack_adapter import TextAttackRecipe

        if attack_options:
            raise TextrobustError(f"options {', '.join(attack_options)} do not apply to TextAttack recipes")
        build = TextAttackRecipe(textattack_recipe, data.language, mlm, budget)
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
        return run_attack(
            job, opened, executor=make_executor(workers), resume=resume, progress=progress, notify=notify
        )
    finally:
        if opened is not store:
            opened.close()
