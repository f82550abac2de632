"""What a defense method implements, built in or from a third party.

A method is a class registered under its name (``textrobust.defenses.registry.DEFENSES``; a third party
uses the ``textrobust.defenses`` entry-point group). It names a frozen settings dataclass holding only its
own parameters, and is one of two kinds:

- ``TrainedDefense``: retrains the base from the base's own recipe (type, options, seed, training settings,
  examples). ``defend`` does everything shared — checks, a new victim, the Trainer, the clean-training
  cost reference, saving — and asks the method for its Trainer hooks and what they cost;
- ``WrapperDefense``: wraps the saved base in a victim of its own (randomized smoothing), which ``defend``
  saves.

A toy method that trains the base again on its own data, as a third party would write it::

    from dataclasses import dataclass, field

    from textrobust.defenses.method import TrainedDefense


    @dataclass(frozen=True)
    class RetrainSettings:
        share: float = field(default=1.0, metadata={"help": "share of the training split trained on"})


    class Retrain(TrainedDefense):
        name = "retrain"  # the name it is registered under
        Settings = RetrainSettings

        def hooks(self, settings, training):
            from textrobust.victims.training import TrainerHooks

            kept = round(settings.share * len(training.train))
            return TrainerHooks(training.train.head(kept))  # plain training on the first examples

and in its ``pyproject.toml``::

    [project.entry-points."textrobust.defenses"]
    retrain = "my_package.defenses:Retrain"

Its settings' fields become ``textrobust defend`` flags (``--share``) and benchmark keys.
Nothing heavy is imported here: the command line reads the method classes to build its flags.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from textrobust.data import Dataset, Split
    from textrobust.defenses.base_training import BaseTraining
    from textrobust.defenses.generation import AdversarialGenerator
    from textrobust.defenses.settings import DefenseRun
    from textrobust.victims.protocols import Victim
    from textrobust.victims.training import TrainerHooks, TrainReport


@dataclass(frozen=True)
class NoSettings:
    """The settings of a method without parameters."""


@dataclass
class Cost:
    """What a method spent beyond the Trainer's own steps, as the stored defense reports it."""

    generation_seconds: float = 0.0  # making adversarial examples (inside or before training)
    # Work before the Trainer ran (an attack made once), added to the training seconds; work inside
    # the Trainer's epochs (co-tuning's attacks) is already in them.
    preparation_seconds: float = 0.0
    adversarial_examples: int = 0
    forward_passes: int = 1  # base-model forward passes per prediction of the defended victim
    # One clean epoch's seconds read from this training (its clean warm-up); None: ``defend`` timed one
    # clean epoch before training, when the method asked for it (``times_clean_epoch``).
    clean_epoch_seconds: float | None = None
    details: dict[str, Any] = field(default_factory=dict)  # stored with the defense as they are


@dataclass
class DefenseContext:
    """What ``defend`` hands every method: the base victim's folder and training, the data, the run."""

    base_dir: Path
    base: BaseTraining
    dataset: Dataset
    run: DefenseRun
    notify: Callable[[str], None]

    def load_base(self) -> Victim:
        """The base victim, loaded (a checkpoint's classes renamed as the user asked)."""
        from textrobust.victims import load_victim

        return load_victim(self.base_dir, label_map=self.base.label_map)


@dataclass
class TrainingContext(DefenseContext):
    """What a trained method builds its hooks from."""

    train: Split  # the base's training examples
    # Indices of ``train`` that may be attacked: a training text that also stands in the test split (a
    # duplicate in the data) never is, so a defense is not trained on the examples it is judged on.
    attackable: list[int]

    def generator(self, recipe: str) -> AdversarialGenerator:
        """Attacks that make training examples with ``recipe`` and the run's attack settings; when they run
        in this process the attack is built now, so a missing resource fails before any training."""
        from textrobust.defenses.generation import AdversarialGenerator

        generator = AdversarialGenerator(
            recipe,
            language=self.dataset.language,
            mlm=self.run.mlm,
            seed=self.base.seed,
            workers=self.run.workers,
            options=dict(self.run.attack_options),
            progress=self.run.progress,
            executor=self.run.executor,
        )
        if generator.in_process:
            generator.attack()
        return generator


class DefenseMethod:
    """A defense: a ``name``, a frozen ``Settings`` dataclass (its parameters, each with a default and a
    ``help``), checks, and the parameters stored with the defense. Subclass ``TrainedDefense`` or
    ``WrapperDefense``; methods are stateless (every call gets the settings), so one instance serves all."""

    name: ClassVar[str] = ""
    Settings: ClassVar[type[Any]] = NoSettings

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def check(self, settings: Any, run: DefenseRun) -> None:
        """Whatever the settings' own ``__post_init__`` cannot check alone (a recipe against the run's
        attack options), before anything is loaded."""

    def check_base(self, settings: Any, base: BaseTraining) -> None:
        """Checks against the base's training (its epochs, say), before any model is built."""

    def parameters(self, settings: Any, run: DefenseRun) -> dict[str, Any]:
        """What defines the defense, stored with it as plain data (default: every setting)."""
        from textrobust.store.records import plain_data

        return plain_data(dataclasses.asdict(settings))


class TrainedDefense(DefenseMethod):
    """A method that retrains the base with its own Trainer hooks."""

    def hooks(self, settings: Any, training: TrainingContext) -> TrainerHooks:
        """The Trainer hooks of this defense (the method's own work: attacks made once go here)."""
        raise NotImplementedError(f"{type(self).__name__} must implement hooks()")

    def times_clean_epoch(self, settings: Any) -> bool:
        """Whether ``defend`` times one clean epoch before training as the cost reference (False when the
        method's ``cost`` reads it from its own clean epochs)."""
        return True

    def cost(self, settings: Any, hooks: TrainerHooks, report: TrainReport) -> Cost:
        """What the training cost beyond the Trainer's steps (examples made, their seconds, details)."""
        return Cost()


class WrapperDefense(DefenseMethod):
    """A method that wraps the saved base victim in a victim of its own, which ``defend`` saves."""

    def wrap(self, settings: Any, context: DefenseContext) -> Victim:
        """The defended victim, built around the base saved in ``context.base_dir``."""
        raise NotImplementedError(f"{type(self).__name__} must implement wrap()")

    def cost(self, settings: Any, victim: Victim) -> Cost:
        """What a prediction of the wrapper costs (``forward_passes``) and details to store."""
        return Cost()
