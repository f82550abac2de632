"""One training function for every victim: seeded, early stopping on validation, progress bar."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from textrobust.data import Dataset
from textrobust.errors import TextrobustError
from textrobust.seeding import seed_everything
from textrobust.victims import victim_class
from textrobust.victims.torch_victim import TorchVictim


@dataclass
class TrainConfig:
    """Training settings; ``None`` means the victim type's default (see DEFAULTS)."""

    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    weight_decay: float = 0.0
    patience: int = 2  # epochs without validation improvement before stopping
    seed: int = 0
    device: str = "auto"
    max_train_examples: int | None = None
    progress: bool = True


# Per victim type: epochs, batch size, learning rate.
DEFAULTS: dict[str, dict[str, Any]] = {
    "wordcnn": {"epochs": 10, "batch_size": 50, "learning_rate": 1e-3},  # Kim 2014 used batch 50 (Adadelta)
    "wordlstm": {"epochs": 10, "batch_size": 32, "learning_rate": 1e-3},
    "bert": {"epochs": 3, "batch_size": 32, "learning_rate": 5e-5},  # Devlin et al. 2019 fine-tuning grid
}


@dataclass
class TrainReport:
    """What a training run did."""

    victim_type: str
    epochs_run: int
    best_epoch: int
    best_validation_accuracy: float
    validation_history: list[float] = field(default_factory=list)
    seconds: float = 0.0
    train_examples: int = 0


def accuracy(victim: TorchVictim, texts: list[str], labels: list[int]) -> float:
    if not texts:
        return float("nan")
    predictions = victim.predict_proba(texts).argmax(axis=1)
    return float(np.mean(predictions == np.asarray(labels)))


def _settings(victim_type: str, config: TrainConfig) -> dict[str, Any]:
    settings = dict(DEFAULTS[victim_type])
    for key in ("epochs", "batch_size", "learning_rate"):
        value = getattr(config, key)
        if value is not None:
            settings[key] = value
    if settings["epochs"] < 1 or settings["batch_size"] < 1 or settings["learning_rate"] <= 0:
        raise TextrobustError("epochs and batch size must be ≥ 1 and the learning rate > 0")
    return settings


def train_victim(
    victim_type: str,
    dataset: Dataset,
    out_dir: str | Path | None = None,
    config: TrainConfig | None = None,
    **victim_options: Any,
) -> tuple[TorchVictim, TrainReport]:
    """Train a new victim of ``victim_type`` on ``dataset``'s train split; save it to ``out_dir`` if given.

    Early stopping keeps the weights of the epoch with the best validation accuracy. The output
    directory is written only once training has finished (atomically), so a crash leaves nothing.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    config = config or TrainConfig()
    cls = victim_class(victim_type)
    settings = _settings(victim_type, config)
    train = dataset.split("train").head(config.max_train_examples)
    validation = dataset.splits.get("validation")
    seed_everything(config.seed)
    if victim_type != "bert" and dataset.language != "en":
        victim_options.setdefault("vectors", None)  # GloVe is English-only
    victim = cls.from_dataset(
        train.texts,
        dataset.label_names,
        language=dataset.language,
        seed=config.seed,
        device=config.device,
        **victim_options,
    )
    module = victim.module
    optimizer = torch.optim.AdamW(
        [p for p in module.parameters() if p.requires_grad],
        lr=settings["learning_rate"],
        weight_decay=config.weight_decay,
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(config.seed)
    labels = torch.tensor(train.labels, dtype=torch.long)
    batch_size = settings["batch_size"]
    steps_per_epoch = (len(train) + batch_size - 1) // batch_size
    best_state: dict[str, torch.Tensor] | None = None
    best_accuracy, best_epoch, stale = -1.0, 0, 0
    history: list[float] = []
    start = time.perf_counter()
    epochs_run = 0
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeRemainingColumn(),
        disable=not config.progress,
        transient=False,
    ) as progress:
        task = progress.add_task(
            f"train {victim_type}", total=settings["epochs"] * steps_per_epoch, status=""
        )
        for epoch in range(1, settings["epochs"] + 1):
            module.train()
            order = torch.randperm(len(train), generator=generator).tolist()
            running = 0.0
            for step in range(steps_per_epoch):
                idx = order[step * batch_size : (step + 1) * batch_size]
                logits = victim.logits([train.texts[i] for i in idx])
                loss = loss_fn(logits, labels[idx].to(victim.device))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                running += loss.item()
                progress.update(task, advance=1, status=f"epoch {epoch} loss {running / (step + 1):.3f}")
            module.eval()
            epochs_run = epoch
            if validation is None or len(validation) == 0:
                best_state, best_epoch = None, epoch
                continue
            val_accuracy = accuracy(victim, validation.texts, validation.labels)
            history.append(val_accuracy)
            progress.update(task, status=f"epoch {epoch} val acc {val_accuracy:.3f}")
            if val_accuracy > best_accuracy:
                best_accuracy, best_epoch, stale = val_accuracy, epoch, 0
                best_state = copy.deepcopy({k: v.detach().clone() for k, v in module.state_dict().items()})
            else:
                stale += 1
                if stale >= config.patience:
                    break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    report = TrainReport(
        victim_type=victim_type,
        epochs_run=epochs_run,
        best_epoch=best_epoch,
        best_validation_accuracy=best_accuracy,
        validation_history=history,
        seconds=time.perf_counter() - start,
        train_examples=len(train),
    )
    if out_dir is not None:
        victim.save(out_dir)
    return victim, report
