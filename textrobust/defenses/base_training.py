"""How the base victim of a defense was trained, read from its config: what every trained method starts
from (its type, options, seed, so the same initial weights, training settings and training examples)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textrobust.defenses.settings import DefenseRun
from textrobust.victims import capability
from textrobust.victims.base import VICTIM_TYPE_KEY, read_config
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

    @classmethod
    def read(cls, base_dir: Path, run: DefenseRun) -> BaseTraining:
        config = read_config(base_dir)
        victim_type = str(config[VICTIM_TYPE_KEY])
        info = dict(config.get("training") or {})
        seed = run.seed if run.seed is not None else int(info.get("seed", 0))
        options = dict(info.get("options") or {})
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
        return cls(victim_type, seed, options, settings, max_train)  # type: ignore[arg-type]
