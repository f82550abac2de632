"""How the base victim of a defense was trained, read from its config: what every trained method starts
from (its type, options, seed, so the same initial weights, training settings and training examples)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textrobust.defenses.settings import DefenseRun
from textrobust.victims import capability, victim_class
from textrobust.victims.resolve import VictimRef
from textrobust.victims.training import TrainConfig, TrainingSettings

# Training settings a base's record may hold beyond epochs, batch size and learning rate.
RECIPE_KEYS = ("weight_decay", "grad_accumulation", "max_grad_norm", "warmup_steps", "warmup_ratio")


@dataclass(frozen=True)
class BaseTraining:
    """How the base victim was trained, from its config (defaults where an older config lacks a value),
    with what the run changes (epochs, batch size, learning rate, seed, training examples)."""

    victim_type: str
    seed: int
    options: dict[str, Any]
    settings: TrainingSettings  # None for a base that cannot be retrained (a wrapper may still defend it)
    max_train_examples: int | None
    label_map: dict[str, str] | None = None  # how the user renamed a checkpoint's classes (--label-map)

    @classmethod
    def read(cls, ref: VictimRef, run: DefenseRun) -> BaseTraining:
        """From the resolved base. A victim trained elsewhere (a checkpoint) has no training record: its
        class says as what kind it is trained further (``retraining``: a ``bert`` victim starting from its
        weights), with that kind's default settings where the run sets none."""
        config = dict(ref.config)
        victim_type = ref.kind
        info = dict(config.get("training") or {})
        options = dict(info.get("options") or {})
        retraining = getattr(victim_class(victim_type), "retraining", None)
        if retraining is not None:
            victim_type, options = retraining(ref)
        seed = run.seed if run.seed is not None else int(info.get("seed", 0))
        if "model" not in options and config.get("source"):  # an encoder victim names its model there
            options["model"] = config["source"]
        train_config = TrainConfig(
            epochs=run.epochs or info.get("epochs"),
            batch_size=run.batch_size or info.get("batch_size"),
            learning_rate=run.learning_rate or info.get("learning_rate"),
            patience=int(info.get("patience", 2)),
            # The rest of the base's recipe, as its training record keeps it (defaults where it does not).
            **{key: info[key] for key in RECIPE_KEYS if key in info},
            seed=seed,
            device=run.device,
            progress=run.progress,
        )
        trainable = capability(victim_type, "trainable")
        settings = TrainingSettings.resolve(victim_type, train_config) if trainable else None
        max_train = run.max_train_examples or info.get("max_train_examples")
        label_map = dict(config.get("label_map") or {}) or None
        return cls(victim_type, seed, options, settings, max_train, label_map)  # type: ignore[arg-type]
