"""Adversarial examples for training, generated against a live model by the ``runs`` executors.

In this process (``workers=1``, no other executor) the attack is built once and reused every epoch,
attacking the model object itself; with more workers the current model is saved to a temporary folder
each time and every worker (a local process, a Ray actor) loads it and builds the attack (the executors
only move picklable specs).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textrobust.attacks.options import AttackOptions
from textrobust.attacks.result import Attack
from textrobust.data import Split
from textrobust.errors import require_at_least
from textrobust.runs.executor import Executor, InProcessExecutor, ProcessPoolExecutor, WorkerSpec
from textrobust.runs.generation import Generation, generate_adversarial
from textrobust.runs.specs import attack_builder, check_attack, split_attack_options
from textrobust.victims.protocols import Victim
from textrobust.victims.resolve import resolve_victim


@dataclass
class AdversarialGenerator:
    """Attacks examples against whatever model it is given, with a named recipe (``textattack:NAME`` too).

    ``options``: further ``build_attack`` options (``disable``, ``budget_protocol``, resources).
    """

    recipe: str
    language: str = "en"
    mlm: str | None = None
    seed: int = 0
    workers: int = 1
    options: dict[str, Any] = field(default_factory=dict)
    progress: bool = True
    # Takes the place of ``workers`` when given (Ray actors, say); the model then travels as a saved folder.
    executor: Executor | None = None
    _attack: Attack | None = field(default=None, init=False, repr=False)
    _options: AttackOptions = field(init=False, repr=False)  # ``options`` split: the attack options …
    _resources: dict[str, Any] = field(init=False, repr=False)  # … and the recipe resources

    def __post_init__(self) -> None:
        require_at_least("workers", self.workers, 1)
        self._options, self._resources = split_attack_options(self.options)
        check_attack(self.recipe, self._options, self.language, self._resources)

    @property
    def in_process(self) -> bool:
        """Attacks run in this process, against the model object itself."""
        if self.executor is not None:
            return isinstance(self.executor, InProcessExecutor)
        return self.workers == 1

    def _builder(self) -> Callable[[], Attack]:
        return attack_builder(
            self.recipe,
            self._options,
            language=self.language,
            mlm=self.mlm,
            seed=self.seed,
            resources=self._resources,
        )

    def attack(self) -> Attack:
        """The attack this process uses (built on first use, then reused)."""
        if self._attack is None:
            self._attack = self._builder()()
        return self._attack

    def __call__(self, victim: Victim, examples: Split, description: str = "generate") -> Generation:
        """Attack every example of ``examples`` (labels in the victim's label ids) against ``victim``."""
        if self.in_process:
            attack = self.attack()
            spec = WorkerSpec(lambda: victim, lambda: attack, self.seed)
            return generate_adversarial(
                spec, examples, executor=InProcessExecutor(), progress=self.progress, description=description
            )
        with tempfile.TemporaryDirectory(prefix="textrobust-generate-") as folder:
            saved = Path(folder) / "victim"
            victim.save(saved)
            ref = resolve_victim(saved)
            spec = WorkerSpec(ref, self._builder(), self.seed, gpu=ref.uses_gpu)
            return generate_adversarial(
                spec,
                examples,
                executor=self.executor or ProcessPoolExecutor(self.workers),
                progress=self.progress,
                description=description,
            )


__all__ = ["AdversarialGenerator"]
