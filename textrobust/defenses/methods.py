"""The built-in defense methods: what each one's parameters are, what it adds to the shared training (its
Trainer hooks, or its wrapper) and what it costs. Their work lives in ``cotune.py``, ``augment.py``,
``embedding.py`` and ``victims/smoothed.py``, imported only when a method runs: the command line reads
these classes to build its flags and must not load torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textrobust.defenses.method import Cost, DefenseContext, TrainedDefense, TrainingContext, WrapperDefense
from textrobust.defenses.settings import DefenseRun
from textrobust.errors import ParameterError, require_at_least

if TYPE_CHECKING:
    from textrobust.defenses.augment import AugmentedHooks
    from textrobust.defenses.base_training import BaseTraining
    from textrobust.defenses.cotune import CoTuningHooks
    from textrobust.victims.protocols import Victim
    from textrobust.victims.smoothed import SmoothedVictim
    from textrobust.victims.training import TrainerHooks, TrainReport

LABEL_SOURCES = ("gold", "predicted")
RECIPE_HELP = "the attack that makes the training examples (textattack:NAME too)"


def _check_share(value: float) -> None:
    if not 0.0 < value <= 1.0:
        raise ParameterError("adv_share", f"must be in (0, 1], got {value}")


def _check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ParameterError(name, f"must be > 0, got {value}")


def _check_recipe(recipe: str, run: DefenseRun) -> None:
    from textrobust.runs.specs import check_attack, split_attack_options

    options, resources = split_attack_options(run.attack_options)
    check_attack(recipe, options, None, resources)


def _attack_parameters(settings: Any, run: DefenseRun) -> dict[str, Any]:
    """Every setting and the run's attack options: they change the examples trained on."""
    from dataclasses import asdict

    from textrobust.store.records import plain_data

    return plain_data({**asdict(settings), "attack_options": run.attack_options})


# -- co-tuning ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoTuneSettings:
    """Online adversarial training (A2T, Yoo & Qi 2021)."""

    recipe: str = field(default="a2t", metadata={"help": RECIPE_HELP})
    clean_epochs: int = field(default=1, metadata={"help": "clean epochs first"})  # A2T: one
    adv_share: float = field(  # A2T: 20 % of the training set attacked every epoch
        default=0.2, metadata={"help": "share of the training split attacked every adversarial epoch"}
    )
    adv_weight: float = field(default=1.0, metadata={"help": "loss weight of adversarial examples"})

    def __post_init__(self) -> None:
        require_at_least("clean_epochs", self.clean_epochs, 0)
        _check_share(self.adv_share)
        _check_positive("adv_weight", self.adv_weight)


class CoTune(TrainedDefense):
    """``clean_epochs`` clean epochs, then every epoch attacks a seeded share of the training split against
    the current model and trains on clean + successful adversarial examples with their gold labels; the
    weights kept are those of the best adversarial epoch."""

    name = "co-tune"
    Settings = CoTuneSettings

    def check(self, settings: CoTuneSettings, run: DefenseRun) -> None:
        _check_recipe(settings.recipe, run)

    def check_base(self, settings: CoTuneSettings, base: BaseTraining) -> None:
        if base.settings.epochs <= settings.clean_epochs:
            raise ParameterError(
                "epochs",
                f"must exceed clean_epochs ({settings.clean_epochs}) for any adversarial epoch to run",
            )

    def parameters(self, settings: CoTuneSettings, run: DefenseRun) -> dict[str, Any]:
        return _attack_parameters(settings, run)

    def hooks(self, settings: CoTuneSettings, training: TrainingContext) -> TrainerHooks:
        from textrobust.defenses.cotune import CoTuningHooks

        return CoTuningHooks(
            training.train,
            training.generator(settings.recipe),
            clean_epochs=settings.clean_epochs,
            adv_share=settings.adv_share,
            adv_weight=settings.adv_weight,
            seed=training.base.seed,
            attackable=training.attackable,
        )

    def times_clean_epoch(self, settings: CoTuneSettings) -> bool:
        return settings.clean_epochs == 0  # otherwise its own warm-up epochs are the clean reference

    def cost(self, settings: CoTuneSettings, hooks: CoTuningHooks, report: TrainReport) -> Cost:  # type: ignore[override]
        clean = report.step_seconds[: settings.clean_epochs]
        return Cost(
            generation_seconds=hooks.generation_seconds,  # inside the epochs: already training seconds
            adversarial_examples=sum(int(epoch["successes"]) for epoch in hooks.history),
            clean_epoch_seconds=sum(clean) / len(clean) if clean else None,
            details={"epochs": hooks.history},
        )


# -- augmentation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AugmentSettings:
    """The training split attacked once against the undefended victim, the successes added."""

    recipe: str = field(default="a2t", metadata={"help": RECIPE_HELP})
    adv_share: float = field(default=1.0, metadata={"help": "share of the training split attacked once"})
    label_source: str = field(  # "predicted" is the seed paper's choice
        default="gold",
        metadata={
            "help": "labels of the added examples: gold, or the base's predictions",
            "choices": LABEL_SOURCES,
        },
    )

    def __post_init__(self) -> None:
        if self.label_source not in LABEL_SOURCES:
            raise ParameterError("label_source", f"must be one of {', '.join(LABEL_SOURCES)}")
        _check_share(self.adv_share)


class Augment(TrainedDefense):
    """Adversarial augmentation: attack once, add the successes, retrain from the same initialisation."""

    name = "augment"
    Settings = AugmentSettings

    def check(self, settings: AugmentSettings, run: DefenseRun) -> None:
        _check_recipe(settings.recipe, run)

    def parameters(self, settings: AugmentSettings, run: DefenseRun) -> dict[str, Any]:
        return _attack_parameters(settings, run)

    def hooks(self, settings: AugmentSettings, training: TrainingContext) -> TrainerHooks:
        from textrobust.defenses.augment import augmented_hooks

        return augmented_hooks(training, settings.recipe, settings.adv_share, settings.label_source)

    def cost(self, settings: AugmentSettings, hooks: AugmentedHooks, report: TrainReport) -> Cost:  # type: ignore[override]
        return Cost(
            generation_seconds=hooks.generation_seconds,
            preparation_seconds=hooks.generation_seconds,  # attacked before training: count it
            adversarial_examples=hooks.adversarial,
            details={"attacked": hooks.attacked},
        )


# -- embedding-space training ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EmbeddingSettings:
    """FreeLB/PGD-style perturbations of the input embeddings."""

    steps: int = field(default=3, metadata={"help": "ascent steps per batch"})  # FreeLB's K = 2-3
    epsilon: float = field(default=1.0, metadata={"help": "L2 bound of the perturbation"})  # per example
    step_size: float = field(default=0.5, metadata={"help": "L2 length of an ascent step"})

    def __post_init__(self) -> None:
        require_at_least("steps", self.steps, 1)
        _check_positive("epsilon", self.epsilon)
        _check_positive("step_size", self.step_size)


class EmbeddingTraining(TrainedDefense):
    """Every batch takes ``steps`` ascent steps on an L2-bounded perturbation of the input embeddings and
    trains on the average loss (BERT and the word victims)."""

    name = "embedding"
    Settings = EmbeddingSettings

    def hooks(self, settings: EmbeddingSettings, training: TrainingContext) -> TrainerHooks:
        from textrobust.defenses.embedding import EmbeddingAdversarialHooks

        return EmbeddingAdversarialHooks(
            training.train, steps=settings.steps, epsilon=settings.epsilon, step_size=settings.step_size
        )


# -- randomized smoothing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmoothSettings:
    """SAFER-style randomized substitution."""

    copies: int = field(default=8, metadata={"help": "perturbed copies per prediction (M)"})
    ratio: float = field(default=0.3, metadata={"help": "share of words replaced in a copy"})
    neighbours: str = field(
        default="counter-fitted-glove-50d", metadata={"help": "substitution table (a name or a vector file)"}
    )

    def __post_init__(self) -> None:
        require_at_least("copies", self.copies, 1)
        if not 0.0 <= self.ratio <= 1.0:
            raise ParameterError("ratio", f"must be in [0, 1], got {self.ratio}")


class Smooth(WrapperDefense):
    """A victim wrapper averaging its base's probabilities over perturbed copies of the text;
    deterministic per text, saved as a folder naming its base (and the digest of its files)."""

    name = "smooth"
    Settings = SmoothSettings

    def wrap(self, settings: SmoothSettings, context: DefenseContext) -> Victim:
        from textrobust.resources.neighbours import load_neighbour_table
        from textrobust.resources.stopwords import stopwords
        from textrobust.victims.smoothed import SmoothedVictim

        return SmoothedVictim(
            context.load_base(),
            load_neighbour_table(settings.neighbours, show_progress=context.run.progress),
            base_directory=context.base_dir,
            table_name=settings.neighbours,
            copies=settings.copies,
            ratio=settings.ratio,
            seed=context.base.seed,
            stopwords=stopwords(context.dataset.language),
            language=context.dataset.language,
        )

    def cost(self, settings: SmoothSettings, victim: SmoothedVictim) -> Cost:  # type: ignore[override]
        return Cost(forward_passes=victim.forward_passes)
