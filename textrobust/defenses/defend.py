"""Making a defended victim from a saved one: ``defend(base, dataset, out, settings)``.

Every trained method starts from the base victim's own recipe — its type, options, seed (so the same
initial weights), training settings and training examples, read from its config — and changes only what
the method changes. The defended victim is written to ``out`` atomically: a killed run leaves the old
folder as it was and nothing half-written. Its config records the defense (method, settings, base, cost).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from textrobust.data import Dataset, Split
from textrobust.defenses import LABEL_SOURCES, METHODS
from textrobust.defenses.cotune import CoTuningHooks, seeded_share
from textrobust.defenses.embedding import EmbeddingAdversarialHooks
from textrobust.defenses.generation import AdversarialGenerator
from textrobust.errors import ParameterError, require_at_least
from textrobust.files import directory_digest
from textrobust.runs.executor import Executor
from textrobust.store.records import plain_data
from textrobust.victims import TRAINABLE_TYPES, load_victim, victim_label_ids
from textrobust.victims.base import VICTIM_TYPE_KEY, check_victim_language, read_config
from textrobust.victims.protocols import Trainable
from textrobust.victims.training import (
    Settings,
    TrainConfig,
    Trainer,
    TrainerHooks,
    TrainReport,
    new_victim,
    tokens_per_text,
)


@dataclass(frozen=True)
class DefenseSettings:
    """How to defend. ``None`` means: as the base victim was trained (epochs, batch size, learning rate,
    seed, training examples), or the method's default (``adv_share``: 0.2 for co-tune, 1.0 for augment)."""

    method: str
    recipe: str = "a2t"  # co-tune / augment: the attack that makes the training examples
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    seed: int | None = None
    max_train_examples: int | None = None
    clean_epochs: int = 1  # co-tune: A2T's one clean epoch first
    adv_share: float | None = None
    adv_weight: float = 1.0
    label_source: str = "gold"  # augment: "predicted" is the seed paper's choice
    steps: int = 3  # embedding: ascent steps per batch (FreeLB's K = 2-3)
    epsilon: float = 1.0  # embedding: L2 bound of the perturbation per example
    step_size: float = 0.5  # embedding: L2 length of one ascent step
    copies: int = 8  # smooth: M perturbed copies per prediction
    ratio: float = 0.3  # smooth: share of words replaced in a copy
    neighbours: str = "counter-fitted-glove-50d"  # smooth: the substitution table
    workers: int = 1
    mlm: str | None = None
    attack_options: dict[str, Any] = field(default_factory=dict)
    device: str = "auto"
    progress: bool = True
    # Who attacks (co-tune, augment): takes the place of ``workers`` when given. Not a defense parameter.
    executor: Executor | None = field(default=None, compare=False)

    def check(self) -> None:
        """Every setting a user can get wrong, before anything is loaded."""
        if self.method not in METHODS:
            raise ParameterError("method", f"'{self.method}' is unknown; choose one of {', '.join(METHODS)}")
        if self.label_source not in LABEL_SOURCES:
            raise ParameterError("label_source", f"must be one of {', '.join(LABEL_SOURCES)}")
        for name, minimum in (
            ("epochs", 1),
            ("batch_size", 1),
            ("max_train_examples", 1),
            ("clean_epochs", 0),
        ):
            require_at_least(name, getattr(self, name), minimum)
        for name in ("steps", "copies", "workers"):
            require_at_least(name, getattr(self, name), 1)
        if self.adv_share is not None and not 0.0 < self.adv_share <= 1.0:
            raise ParameterError("adv_share", f"must be in (0, 1], got {self.adv_share}")
        for name in ("adv_weight", "epsilon", "step_size"):
            if not getattr(self, name) > 0:
                raise ParameterError(name, f"must be > 0, got {getattr(self, name)}")
        if not 0.0 <= self.ratio <= 1.0:
            raise ParameterError("ratio", f"must be in [0, 1], got {self.ratio}")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ParameterError("learning_rate", f"must be > 0, got {self.learning_rate}")
        if self.method in ("co-tune", "augment"):
            from textrobust.runs.jobs import check_recipe

            check_recipe(self.recipe, None, self.attack_options)

    @property
    def share(self) -> float:
        if self.adv_share is not None:
            return self.adv_share
        return 1.0 if self.method == "augment" else 0.2  # augment attacks the training split once

    def parameters(self) -> dict[str, Any]:
        """The settings that define the defense (stored with it, as plain data)."""
        keys = {
            "co-tune": ("recipe", "clean_epochs", "adv_weight", "attack_options"),
            "augment": ("recipe", "label_source", "attack_options"),
            "embedding": ("steps", "epsilon", "step_size"),
            "smooth": ("copies", "ratio", "neighbours"),
        }[self.method]
        values = {key: getattr(self, key) for key in keys}
        if self.method in ("co-tune", "augment"):
            values["adv_share"] = self.share
        return plain_data(values)


@dataclass
class DefenseOutcome:
    """A defended victim and what making it cost."""

    out: Path
    method: str
    parameters: dict[str, Any]
    victim_type: str
    train_seconds: float  # training steps + example generation (validation excluded, as for the reference)
    generation_seconds: float
    clean_train_seconds: float | None  # the same epochs of clean training on the same data
    forward_passes: int
    report: TrainReport | None = None
    adversarial_examples: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """What the defended victim's config keeps about its defense."""
        return {
            "method": self.method,
            "parameters": self.parameters,
            "train_seconds": round(self.train_seconds, 3),
            "generation_seconds": round(self.generation_seconds, 3),
            "clean_train_seconds": None
            if self.clean_train_seconds is None
            else round(self.clean_train_seconds, 3),
            "forward_passes": self.forward_passes,
            "adversarial_examples": self.adversarial_examples,
            **self.details,
        }


@dataclass(frozen=True)
class BaseRecipe:
    """How the base victim was trained, from its config (defaults where an older config lacks a value)."""

    victim_type: str
    seed: int
    options: dict[str, Any]
    settings: Settings
    max_train_examples: int | None

    @classmethod
    def read(cls, base_dir: Path, defense: DefenseSettings) -> BaseRecipe:
        config = read_config(base_dir)
        victim_type = str(config[VICTIM_TYPE_KEY])
        info = dict(config.get("training") or {})
        seed = defense.seed if defense.seed is not None else int(info.get("seed", 0))
        options = dict(info.get("options") or {})
        if victim_type == "bert" and "model" not in options and config.get("source"):
            options["model"] = config["source"]
        train_config = TrainConfig(
            epochs=defense.epochs or info.get("epochs"),
            batch_size=defense.batch_size or info.get("batch_size"),
            learning_rate=defense.learning_rate or info.get("learning_rate"),
            patience=int(info.get("patience", 2)),
            seed=seed,
            device=defense.device,
            progress=defense.progress,
        )
        settings = Settings.resolve(victim_type, train_config) if victim_type in TRAINABLE_TYPES else None
        max_train = defense.max_train_examples or info.get("max_train_examples")
        return cls(victim_type, seed, options, settings, max_train)  # type: ignore[arg-type]


def _time_clean_epoch(victim: Trainable, train: Split, settings: Settings) -> float:
    """Seconds of one clean training epoch of a copy of ``victim`` (the reference cost)."""
    trial = copy.deepcopy(victim)
    report = Trainer(replace(settings, epochs=1, progress=False), TrainerHooks(train)).fit(trial, None)
    return report.step_seconds[0]


def _check_labels(base_dir: Path, dataset: Dataset) -> None:
    config = read_config(base_dir)
    labels = [str(label) for label in config.get("labels") or []]
    victim_label_ids(labels, dataset.label_names, [])  # a label the base victim lacks is an error here
    check_victim_language(config.get("language"), dataset.name, dataset.language, str(base_dir))
    if labels != list(dataset.label_names):
        raise ParameterError(
            "dataset",
            f"labels {dataset.label_names} are not the base victim's {labels} in the same order; "
            "defend a victim trained on this dataset",
        )


def defend(
    base_dir: str | Path,
    dataset: Dataset,
    out: str | Path,
    settings: DefenseSettings,
    *,
    notify: Callable[[str], None] | None = None,
) -> DefenseOutcome:
    """Make a defended copy of the victim saved in ``base_dir`` and save it to ``out`` (atomically)."""
    settings.check()
    tell = notify or (lambda _message: None)
    base_dir = Path(base_dir).resolve()
    out = Path(out)
    if out.resolve() == base_dir:
        raise ParameterError("out", "must differ from the base victim's folder")
    _check_labels(base_dir, dataset)
    base = BaseRecipe.read(base_dir, settings)
    if settings.method == "smooth":
        return _smooth(base_dir, base, dataset, out, settings)
    if base.victim_type not in TRAINABLE_TYPES:
        raise ParameterError("victim", f"a '{base.victim_type}' victim cannot be retrained; defend its base")
    if settings.method == "co-tune" and base.settings.epochs <= settings.clean_epochs:
        raise ParameterError(
            "epochs", f"must exceed clean_epochs ({settings.clean_epochs}) for any adversarial epoch to run"
        )
    train = dataset.split("train").head(base.max_train_examples)
    validation = dataset.splits.get("validation")
    victim = new_victim(
        base.victim_type, dataset, train, seed=base.seed, device=settings.device, **base.options
    )
    # Adversarial examples never come from the split a defense is evaluated on: a training text that also
    # stands in the test split (a duplicate in the data) is not attacked.
    evaluated = set(dataset.splits["test"].texts) if "test" in dataset.splits else set()
    attackable = [i for i, text in enumerate(train.texts) if text not in evaluated]
    generator = None
    if settings.method in ("co-tune", "augment"):
        generator = AdversarialGenerator(
            settings.recipe,
            language=dataset.language,
            mlm=settings.mlm,
            seed=base.seed,
            workers=settings.workers,
            options=dict(settings.attack_options),
            progress=settings.progress,
            executor=settings.executor,
        )
        if generator.in_process:
            generator.attack()  # a missing resource fails before any training
    generation_seconds = 0.0
    adversarial = 0
    details: dict[str, Any] = {}
    clean_epoch: float | None = None
    if settings.method == "co-tune":
        assert generator is not None
        hooks: TrainerHooks = CoTuningHooks(
            train,
            generator,
            clean_epochs=settings.clean_epochs,
            adv_share=settings.share,
            adv_weight=settings.adv_weight,
            seed=base.seed,
            attackable=attackable,
        )
    elif settings.method == "augment":
        assert generator is not None
        augmented, generation_seconds, adversarial = _augmentation(
            base_dir, train, attackable, generator, settings, base.seed
        )
        hooks = TrainerHooks(augmented)
        details["attacked"] = len(seeded_share(attackable, settings.share, [base.seed, 0]))
    else:
        hooks = EmbeddingAdversarialHooks(
            train, steps=settings.steps, epsilon=settings.epsilon, step_size=settings.step_size
        )
    if not (settings.method == "co-tune" and settings.clean_epochs > 0):
        tell("timing one clean epoch for the cost reference")
        clean_epoch = _time_clean_epoch(victim, train, base.settings)
    trainer = Trainer(base.settings, hooks, description=f"{settings.method} {base.victim_type}")
    report = trainer.fit(victim, validation, victim_type=base.victim_type)
    details["step_seconds"] = [round(x, 3) for x in report.step_seconds]  # per epoch, training steps only
    details["example_seconds"] = [round(x, 3) for x in report.example_seconds]  # per epoch, the hook's
    if clean_epoch is not None:
        details["clean_epoch_seconds"] = round(clean_epoch, 3)
    if isinstance(hooks, CoTuningHooks):
        generation_seconds = hooks.generation_seconds
        adversarial = sum(int(h["successes"]) for h in hooks.history)
        details["epochs"] = hooks.history
        if clean_epoch is None:
            clean_epoch = float(np.mean(report.step_seconds[: settings.clean_epochs]))
            details["clean_epoch_seconds"] = round(clean_epoch, 3)
    train_seconds = (
        sum(report.step_seconds)
        + sum(report.example_seconds)
        + (generation_seconds if settings.method == "augment" else 0.0)
    )
    outcome = DefenseOutcome(
        out=out,
        method=settings.method,
        parameters=settings.parameters(),
        victim_type=base.victim_type,
        train_seconds=train_seconds,
        generation_seconds=generation_seconds,
        clean_train_seconds=None if clean_epoch is None else clean_epoch * report.epochs_run,
        forward_passes=1,
        report=report,
        adversarial_examples=adversarial,
        details=details,
    )
    victim.training_info = {
        "victim_type": base.victim_type,
        "dataset": dataset.name,
        "seed": base.seed,
        "max_train_examples": base.max_train_examples,
        **{key: value for key, value in asdict(base.settings).items() if key != "progress"},
        "options": base.options,
        "epochs_run": report.epochs_run,
        "best_epoch": report.best_epoch,
        "base": str(base_dir),
        "base_fingerprint": directory_digest(base_dir),
        "defense": outcome.record(),
        "tokens_per_text": tokens_per_text(victim, dataset),
    }
    victim.save(out)
    return outcome


def _augmentation(
    base_dir: Path,
    train: Split,
    attackable: list[int],
    generator: AdversarialGenerator,
    settings: DefenseSettings,
    seed: int,
) -> tuple[Split, float, int]:
    """The training split plus the successful attacks on a seeded share of it against the base victim.

    Adversarial examples come only from the training split (never from the split a defense is evaluated on);
    their label is the gold one, or the base victim's prediction with ``label_source="predicted"``.
    """
    base = load_victim(base_dir)
    if not attackable:
        raise ParameterError("adv_share", "no training example may be attacked")
    chosen = seeded_share(attackable, settings.share, [seed, 0])
    sample = Split([train.texts[i] for i in chosen], [train.labels[i] for i in chosen])
    generation = generator(base, sample, f"augment: attack {len(sample)}")
    texts, labels = [], []
    for index, result in generation.successes:
        texts.append(result.adversarial_text or "")
        predicted = result.adversarial_prediction
        labels.append(
            sample.labels[index] if settings.label_source == "gold" or predicted is None else predicted
        )
    return Split(train.texts + texts, train.labels + labels), generation.seconds, len(texts)


def _smooth(
    base_dir: Path, base: BaseRecipe, dataset: Dataset, out: Path, settings: DefenseSettings
) -> DefenseOutcome:
    from textrobust.resources.neighbours import load_neighbour_table
    from textrobust.resources.stopwords import stopwords
    from textrobust.victims.smoothed import SmoothedVictim

    start = time.perf_counter()
    smoothed = SmoothedVictim(
        load_victim(base_dir),
        load_neighbour_table(settings.neighbours, show_progress=settings.progress),
        base_directory=base_dir,
        table_name=settings.neighbours,
        copies=settings.copies,
        ratio=settings.ratio,
        seed=base.seed,
        stopwords=stopwords(dataset.language),
        language=dataset.language,
    )
    smoothed.save(out)
    return DefenseOutcome(
        out=out,
        method="smooth",
        parameters=settings.parameters(),
        victim_type=SmoothedVictim.victim_type,
        train_seconds=0.0,
        generation_seconds=0.0,
        clean_train_seconds=None,
        forward_passes=smoothed.forward_passes,
        details={"build_seconds": round(time.perf_counter() - start, 3)},
    )


def defense_of(defended_dir: str | Path) -> dict[str, Any]:
    """What a defended victim's folder says about its defense (method, settings, base, cost)."""
    config = read_config(defended_dir)
    if config[VICTIM_TYPE_KEY] == "smoothed":
        return {
            "method": "smooth",
            "parameters": {k: config[k] for k in ("copies", "ratio", "neighbours")},
            "base": config["base"],
            "train_seconds": 0.0,
            "generation_seconds": 0.0,
            "clean_train_seconds": None,
            "forward_passes": int(config["copies"]),
        }
    info = dict(config.get("training") or {})
    if "defense" not in info:
        raise ParameterError("out", f"{defended_dir} holds no defended victim (its config names no defense)")
    return {**info["defense"], "base": info.get("base")}
