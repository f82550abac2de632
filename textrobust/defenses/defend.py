"""Making a defended victim from a saved one: ``defend(base, dataset, out, method, settings, run)``.

The steps every method shares live here: checks, the base victim's training read from its config, a new
victim of the same type, options and seed (so the same initial weights), the Trainer, the clean-training
cost reference and the saving. A method (``textrobust.defenses.methods``, or a third party's) adds only
its Trainer hooks, or its wrapper, and its own cost. The defended victim is written to ``out`` atomically:
a killed run leaves the old folder as it was and nothing half-written. Its config records the defense
(method, parameters, base, cost).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from textrobust.data import Dataset, Split
from textrobust.defenses.base_training import BaseTraining
from textrobust.defenses.method import (
    DefenseContext,
    DefenseMethod,
    TrainedDefense,
    TrainingContext,
    WrapperDefense,
)
from textrobust.defenses.registry import resolve_method
from textrobust.defenses.settings import DefenseRun
from textrobust.errors import ParameterError
from textrobust.files import directory_digest
from textrobust.victims import capability, resolve_victim, victim_class, victim_label_ids
from textrobust.victims.base import check_victim_language
from textrobust.victims.folders import check_output_apart
from textrobust.victims.protocols import Trainable
from textrobust.victims.resolve import VictimRef
from textrobust.victims.training import (
    Trainer,
    TrainerHooks,
    TrainingSettings,
    TrainReport,
    new_victim,
    training_record,
)


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


def _time_clean_epoch(victim: Trainable, train: Split, settings: TrainingSettings) -> float:
    """Seconds of one clean training epoch of a copy of ``victim`` (the reference cost)."""
    trial = copy.deepcopy(victim)
    report = Trainer(replace(settings, epochs=1, progress=False), TrainerHooks(train)).fit(trial, None)
    return report.step_seconds[0]


def _check_labels(base: VictimRef, dataset: Dataset) -> None:
    labels = list(base.labels or [])
    victim_label_ids(labels, dataset.label_names, [])  # a label the base victim lacks is an error here
    check_victim_language(base.language, dataset.name, dataset.language, base.location)
    if labels != list(dataset.label_names):
        raise ParameterError(
            "dataset",
            f"labels {dataset.label_names} are not the base victim's {labels} in the same order; "
            "defend a victim trained on this dataset",
        )


def defend(
    base_dir: str | Path | VictimRef,
    dataset: Dataset,
    out: str | Path,
    method: DefenseMethod | type[DefenseMethod] | str,
    settings: Any = None,
    run: DefenseRun | None = None,
    *,
    notify: Callable[[str], None] | None = None,
) -> DefenseOutcome:
    """Make a defended copy of the victim saved in ``base_dir`` (a textrobust victim's or a Hugging Face
    checkpoint's folder, or its resolved ``VictimRef``) with ``method`` (a registered name, or a method) and
    save it to ``out`` (atomically); the defended folder names its base. ``settings``: the method's
    ``Settings`` (default: its defaults); ``run``: how to train and attack (default: as the base was
    trained, attacks in process)."""
    method = resolve_method(method)
    settings = method.Settings() if settings is None else settings
    if not isinstance(settings, method.Settings):
        raise ParameterError(
            "settings",
            f"must be {method.Settings.__name__} for the {method.name} defense, "
            f"got {type(settings).__name__}",
        )
    run = DefenseRun() if run is None else run
    method.check(settings, run)
    ref = resolve_victim(base_dir)
    if not ref.path.is_dir():
        raise ParameterError(
            "victim",
            f"{ref.location}: a defended victim names its base by folder; defend a victim saved in one (a "
            "textrobust victim or a Hugging Face checkpoint folder: save a Hub model with save_pretrained)",
        )
    base_dir = ref.path.resolve()
    out = Path(out)
    check_output_apart(out, base_dir)  # not its base's folder, nor one inside or around it
    _check_labels(ref, dataset)
    base = BaseTraining.read(ref, run)
    context = DefenseContext(base_dir, base, dataset, run, notify or (lambda _message: None))
    if isinstance(method, WrapperDefense):
        return _wrapped(method, settings, context, out)
    assert isinstance(method, TrainedDefense)  # resolve_method admits no other kind
    if not capability(base.victim_type, "trainable"):
        raise ParameterError("victim", f"a '{base.victim_type}' victim cannot be retrained; defend its base")
    method.check_base(settings, base)
    return _trained(method, settings, context, out)


def _trained(method: TrainedDefense, settings: Any, context: DefenseContext, out: Path) -> DefenseOutcome:
    """The base's training again, with the method's hooks; the cost against clean training."""
    base, dataset, run = context.base, context.dataset, context.run
    train = dataset.split("train").head(base.max_train_examples)
    validation = dataset.splits.get("validation")
    victim = new_victim(base.victim_type, dataset, train, seed=base.seed, device=run.device, **base.options)
    # Adversarial examples never come from the split a defense is evaluated on: a training text that also
    # stands in the test split (a duplicate in the data) is not attacked.
    evaluated = set(dataset.splits["test"].texts) if "test" in dataset.splits else set()
    attackable = [i for i, text in enumerate(train.texts) if text not in evaluated]
    training = TrainingContext(
        context.base_dir, base, dataset, run, context.notify, train=train, attackable=attackable
    )
    hooks = method.hooks(settings, training)
    timed: float | None = None
    if method.times_clean_epoch(settings):
        context.notify("timing one clean epoch for the cost reference")
        timed = _time_clean_epoch(victim, train, base.settings)
    trainer = Trainer(base.settings, hooks, description=f"{method.name} {base.victim_type}")
    report = trainer.fit(victim, validation, victim_type=base.victim_type)
    cost = method.cost(settings, hooks, report)
    details: dict[str, Any] = {
        "step_seconds": [round(x, 3) for x in report.step_seconds],  # per epoch, training steps only
        "example_seconds": [round(x, 3) for x in report.example_seconds],  # per epoch, the hook's
        **cost.details,
    }
    clean_epoch = cost.clean_epoch_seconds if cost.clean_epoch_seconds is not None else timed
    if clean_epoch is not None:
        details["clean_epoch_seconds"] = round(clean_epoch, 3)
    outcome = DefenseOutcome(
        out=out,
        method=method.name,
        parameters=method.parameters(settings, run),
        victim_type=base.victim_type,
        train_seconds=sum(report.step_seconds) + sum(report.example_seconds) + cost.preparation_seconds,
        generation_seconds=cost.generation_seconds,
        clean_train_seconds=None if clean_epoch is None else clean_epoch * report.epochs_run,
        forward_passes=cost.forward_passes,
        report=report,
        adversarial_examples=cost.adversarial_examples,
        details=details,
    )
    victim.training_info = training_record(
        victim,
        dataset,
        base.settings,
        report,
        victim_type=base.victim_type,
        options=base.options,
        max_train_examples=base.max_train_examples,
        base=str(context.base_dir),
        base_fingerprint=directory_digest(context.base_dir),
        defense=outcome.record(),
    )
    victim.save(out)
    return outcome


def _wrapped(method: WrapperDefense, settings: Any, context: DefenseContext, out: Path) -> DefenseOutcome:
    """The method's wrapper around the saved base, saved; no training, a cost per prediction."""
    start = time.perf_counter()
    victim = method.wrap(settings, context)
    victim.save(out)
    cost = method.cost(settings, victim)
    return DefenseOutcome(
        out=out,
        method=method.name,
        parameters=method.parameters(settings, context.run),
        victim_type=resolve_victim(out).kind,
        train_seconds=0.0,
        generation_seconds=0.0,
        clean_train_seconds=None,
        forward_passes=cost.forward_passes,
        details={"build_seconds": round(time.perf_counter() - start, 3), **cost.details},
    )


def defense_of(defended_dir: str | Path) -> dict[str, Any]:
    """What a defended victim's folder says about its defense (method, settings, base, cost)."""
    victim = resolve_victim(defended_dir)
    config = victim.config
    # A wrapper victim made by a defense (a smoothed one) says itself what defense made it.
    described = getattr(victim_class(victim.kind), "defense_record", None)
    if described is not None:
        return described(config)
    info = dict(config.get("training") or {})
    if "defense" not in info:
        raise ParameterError("out", f"{defended_dir} holds no defended victim (its config names no defense)")
    return {**info["defense"], "base": info.get("base")}
