"""Generating adversarial examples for training: attack examples with any executor, keep the results in
memory (not in the store: they are training data, regenerated against each new model).

Used by the defenses: adversarial co-tuning attacks a share of the training split against the current
model every epoch; augmentation attacks it once against the undefended victim.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from textrobust.attacks.result import AttackResult
from textrobust.data import Split
from textrobust.progress import progress_bar
from textrobust.runs.executor import Executor, InProcessExecutor, WorkerSpec, make_shards


@dataclass
class Generation:
    """The results of one generation pass, by example index, and what it cost."""

    results: dict[int, AttackResult] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def successes(self) -> list[tuple[int, AttackResult]]:
        """``(index, result)`` of the successful attacks, in example order."""
        return [(i, r) for i, r in sorted(self.results.items()) if r.status == "success"]

    def counts(self) -> dict[str, int]:
        counts = {"success": 0, "failed": 0, "skipped": 0}
        for result in self.results.values():
            counts[result.status] += 1
        return counts


def generate_adversarial(
    spec: WorkerSpec,
    examples: Split,
    *,
    indices: Sequence[int] | None = None,
    executor: Executor | None = None,
    shard_size: int = 8,
    progress: bool = True,
    description: str = "generate",
) -> Generation:
    """Attack ``examples`` (or those at ``indices``) with the victim and attack ``spec`` builds.

    Each example is seeded from ``spec.seed`` and its index, as in an attack run, so the same model,
    examples and seed give the same adversarial texts whichever executor runs them.
    """
    executor = executor or InProcessExecutor()
    chosen = list(range(len(examples))) if indices is None else list(indices)
    shards = make_shards(chosen, examples.texts, examples.labels, shard_size)
    generation = Generation()
    start = time.perf_counter()
    status = "[green]{task.fields[success]} ok[/] [red]{task.fields[failed]} failed[/]"
    with progress_bar(status, enabled=progress, transient=True) as bar:
        task = bar.add_task(description, total=len(chosen), success=0, failed=0)
        for index, result in executor.run(spec, shards):
            generation.results[index] = result
            counts = generation.counts()
            bar.update(task, advance=1, success=counts["success"], failed=counts["failed"])
    generation.seconds = time.perf_counter() - start
    return generation
