"""The runner: attacks the examples of a split with an executor and stores each result as it finishes.

Attacks only decide what to try for one example. The runner does everything around them: picks the
examples, skips those already stored (``resume``), hands shards to an executor, writes every result to
the store the moment it arrives, and shows progress. Same seed, same adversarial texts: each example is
seeded from the run seed and its index, and starts from an empty victim cache.

Victims that cost (``usage()``: HTTP endpoints, LLMs) have what they spent added to the run with each
result, and what an interrupted example spent when the run stops. A victim whose budget is spent
(``BudgetExhausted``) stops the run cleanly: every finished example is stored, the one in progress is not
(the resumed run redoes it, its answers from the victim's request cache), and :class:`RunStopped` says how
far the run got.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from textrobust import __version__
from textrobust.attacks.result import AttackResult
from textrobust.data import Split
from textrobust.errors import BudgetExhausted, DataError, TextrobustError, require_at_least
from textrobust.progress import progress_bar
from textrobust.runs.executor import (
    Executor,
    InProcessExecutor,
    Shard,
    WorkerSpec,
    make_shards,
    spent_before,
)
from textrobust.store import DatasetInfo, RunParameters, RunRecord, Store, VictimInfo
from textrobust.victims.usage import Usage


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


class RunStopped(BudgetExhausted):
    """A run stopped cleanly because its victim's budget is spent (``--max-requests``, ``--max-tokens``):
    every finished example is stored and the run is ``interrupted``; resuming it (with a larger budget)
    continues it. ``budget`` is the victim's own error, ``spent`` what this call's attack cost."""

    def __init__(self, budget: BudgetExhausted, run: RunRecord | None, stored: int, total: int, spent: Usage):
        self.budget = budget
        self.run = run
        self.stored = stored
        self.total = total
        self.spent = spent
        where = f"run {run.id}" if run is not None else "no run was started"
        super().__init__(
            f"{budget}; stopped after {stored} of {total} examples ({where}); resume the run with a larger "
            "budget to continue"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.budget, self.run, self.stored, self.total, self.spent))


@dataclass(frozen=True)
class RunOutcome:
    """What a call to :func:`run_attack` did: the run (as stored now), how many examples it attacked, and
    what they cost (``spent``: this call's part of ``run.usage``; None for victims that count nothing)."""

    run: RunRecord
    attacked: int
    resumed: bool
    spent: Usage | None = None


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
    require_at_least("n", n, 1)
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


def _to_attack(total: int, done: set[int], pooled: int, shard_size: int) -> list[int]:
    """The examples to attack: those not stored and, when examples are attacked side by side (``pooled``
    at a time, in groups at fixed positions), the stored members of a group partly stored too, so that the
    group's pooled victim calls are those the interrupted run made. An HTTP victim's request cache, keyed
    by the whole request, then answers every call made before the stop: a resumed run sends no request
    twice. The results of stored members are not stored again (they are the same: attacks are
    deterministic)."""
    if pooled <= 1 or shard_size % pooled:  # no pooling, or shards that do not keep the groups whole
        return [i for i in range(total) if i not in done]
    groups = (range(start, min(start + pooled, total)) for start in range(0, total, pooled))
    return [i for group in groups if any(j not in done for j in group) for i in group]


def run_attack(
    job: AttackJob,
    store: Store,
    *,
    executor: Executor | None = None,
    resume: bool = False,
    shard_size: int | None = None,
    progress: bool = True,
    on_result: Callable[[int, AttackResult], None] | None = None,
    notify: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Attack the job's examples and store every result as soon as the executor yields it.

    With ``resume``, the newest unfinished run with the same parameters is continued: its stored examples
    are neither lost nor stored again (a finished one is returned as it is; examples attacked side by
    side are attacked again with the rest of their group, see ``_to_attack``). Without a run to resume, or
    without ``resume``, a new run is started, recorded with its first result (so a victim or attack that
    cannot even load leaves no run behind). A run stopped by an exception is marked ``interrupted``, with
    what its victim spent recorded; a spent budget raises :class:`RunStopped` (a ``BudgetExhausted``).
    ``shard_size`` (default: the worker's ``batch_examples``, so examples meant to share batches share a
    shard) is how many examples a worker gets at a time.
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
            "resume it to continue instead of starting over"
        )
    resumed = run is not None
    if run is not None and run.status != "running":
        store.set_status(run.id, "running")
    done = store.finished_indices(run.id) if run is not None else set()
    size = shard_size if shard_size is not None else job.worker.batch_examples
    todo = _to_attack(total, done, job.worker.batch_examples, size)
    shards: list[Shard] = make_shards(todo, job.examples.texts, job.examples.labels, size)
    counts = {"success": 0, "failed": 0, "skipped": 0}
    for result in store.results(run.id) if run is not None else []:
        counts[result.status] += 1

    bar = None
    if progress:
        p = job.parameters
        bar = progress_bar(
            "[green]{task.fields[success]} ok[/] [red]{task.fields[failed]} failed[/] "
            "[dim]{task.fields[skipped]} skipped[/]"
        )
        task = bar.add_task(f"{p.recipe} → {p.victim.type}", total=total, completed=len(done), **counts)
        bar.start()
    attacked = 0
    spent: Usage | None = None  # what this call's attack cost, where the victim counts it
    try:
        for index, result in executor.run(job.worker, shards):
            if (
                run is None
            ):  # started with the first result: a victim or attack that fails to load leaves no run
                run = store.start_run(job.parameters)
            if result.usage is not None:
                spent = result.usage if spent is None else spent + result.usage
            if index in done:  # attacked again with its pooling group: stored already, its cost is new
                if result.usage is not None:
                    store.add_usage(run.id, result.usage)
                continue
            store.add_result(run.id, index, result, result.usage)
            attacked += 1
            counts[result.status] += 1
            if bar is not None:
                bar.update(task, advance=1, **counts)
            if on_result is not None:
                on_result(index, result)
    except BaseException as error:
        unstored = spent_before(error)  # what the examples in progress spent
        if unstored is not None:
            spent = unstored if spent is None else spent + unstored
            if run is None and unstored != Usage():  # requests were paid for: the run that paid them is kept
                run = store.start_run(job.parameters)
            if run is not None:
                store.add_usage(run.id, unstored)
        if run is not None:
            store.set_status(run.id, "interrupted")
        elif bar is not None:  # nothing attacked (a victim or attack that cannot load): no bar left behind
            bar.live.transient = True
        if isinstance(error, BudgetExhausted) and not isinstance(error, RunStopped):
            stored = store.count_results(run.id) if run is not None else 0
            record = store.run(run.id) if run is not None else None
            raise RunStopped(error, record, stored, total, spent or Usage()) from error
        raise
    finally:
        if bar is not None:
            bar.stop()
    if run is None or store.count_results(run.id) != total:  # an executor that dropped shards is a bug
        if run is not None:
            store.set_status(run.id, "interrupted")
        raise TextrobustError("the executor finished without attacking every example; resume the run")
    store.set_status(run.id, "finished")
    return RunOutcome(store.run(run.id), attacked=attacked, resumed=resumed, spent=spent)
