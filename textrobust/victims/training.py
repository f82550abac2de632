"""One training loop for every victim, with hooks: plain training, and next adversarial co-tuning or
embedding-space training, are the same loop with different hooks.

The ``Trainer`` owns what every run needs — seeded batch order, optimizer, early stopping on validation
accuracy (the best epoch's weights are kept), a progress bar — and asks its ``TrainerHooks`` for what
differs: the examples of each epoch (``examples_for_epoch(epoch, victim)``, called with the model in eval
mode, so an attack run there sees the model that answers queries) and the loss of a batch
(``batch_loss``). Known pitfalls of adversarial-training loops are handled here once: batches are padded
to their own longest text by the victims' encoders (never to a fixed maximum), the model is switched to
eval mode for any evaluation or example generation inside training and back to train mode after, and a
learning-rate scheduler, when given, steps once per optimizer step.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from textrobust.data import Dataset, Split
from textrobust.errors import DataError, ParameterError, require_at_least
from textrobust.progress import progress_bar
from textrobust.seeding import seed_everything
from textrobust.victims import victim_class
from textrobust.victims.protocols import Classifier, Trainable


@dataclass
class TrainConfig:
    """Training settings; ``None`` means the victim type's default (see ``DEFAULTS``)."""

    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    weight_decay: float = 0.0
    patience: int = 2  # epochs without validation improvement before stopping
    seed: int = 0
    device: str = "auto"
    max_train_examples: int | None = None
    progress: bool = True
    # Train although some class of the dataset has no training example (it then is never predicted).
    allow_missing_classes: bool = False


# Per victim type: epochs, batch size, learning rate.
DEFAULTS: dict[str, dict[str, Any]] = {
    "wordcnn": {"epochs": 10, "batch_size": 50, "learning_rate": 1e-3},  # Kim 2014 used batch 50 (Adadelta)
    "wordlstm": {"epochs": 10, "batch_size": 32, "learning_rate": 1e-3},
    "bert": {"epochs": 3, "batch_size": 32, "learning_rate": 5e-5},  # Devlin et al. 2019 fine-tuning grid
}


@dataclass(frozen=True)
class Settings:
    """Resolved training settings (no defaults left open)."""

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float = 0.0
    patience: int = 2
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        require_at_least("epochs", self.epochs, 1)
        require_at_least("batch_size", self.batch_size, 1)
        require_at_least("patience", self.patience, 1)
        if not self.learning_rate > 0:
            raise ParameterError("learning_rate", f"must be > 0, got {self.learning_rate}")

    @classmethod
    def resolve(cls, victim_type: str, config: TrainConfig) -> Settings:
        values = dict(DEFAULTS.get(victim_type, DEFAULTS["bert"]))
        for key in ("epochs", "batch_size", "learning_rate"):
            if getattr(config, key) is not None:
                values[key] = getattr(config, key)
        return cls(
            **values,
            weight_decay=config.weight_decay,
            patience=config.patience,
            seed=config.seed,
            progress=config.progress,
        )


@dataclass
class TrainReport:
    """What a training run did."""

    victim_type: str
    epochs_run: int
    best_epoch: int
    best_validation_accuracy: float | None  # None without a validation split
    validation_history: list[float] = field(default_factory=list)
    seconds: float = 0.0
    train_examples: int = 0
    examples_per_epoch: list[int] = field(default_factory=list)
    # Per epoch: seconds in the hook's examples_for_epoch (e.g. attack generation), in training steps,
    # and in validation.
    example_seconds: list[float] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)
    validation_seconds: list[float] = field(default_factory=list)


def accuracy(victim: Classifier, texts: Sequence[str], labels: Sequence[int]) -> float:
    """Share of ``texts`` whose most probable class is the label (nan for no texts)."""
    if not texts:
        return float("nan")
    predictions = victim.predict_proba(list(texts)).argmax(axis=1)
    return float(np.mean(predictions == np.asarray(labels)))


class TrainerHooks:
    """Plain supervised training on ``train``; subclasses change what an epoch trains on or how a batch
    is scored.

    ``examples_for_epoch(epoch, victim)``: the examples of epoch ``epoch`` (1-based), asked for at the
    start of the epoch with the model in eval mode. ``batch_loss(victim, texts, labels)``: the loss to
    minimise on one batch (the model is in train mode). ``on_epoch_end(epoch, victim, validation_accuracy)``:
    called after validation (None without a validation split). ``selectable(epoch)``: whether early
    stopping may keep that epoch's weights and count it towards its patience.
    """

    def __init__(self, train: Split) -> None:
        self.train = train

    def examples_for_epoch(self, epoch: int, victim: Trainable) -> Split:
        return self.train

    def batch_loss(self, victim: Trainable, texts: Sequence[str], labels: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(victim.logits(texts), labels)

    def on_epoch_end(self, epoch: int, victim: Trainable, validation_accuracy: float | None) -> None:
        return None

    def selectable(self, epoch: int) -> bool:
        """Whether early stopping may keep this epoch's weights (a defense excludes its clean warm-up)."""
        return True


SchedulerFactory = Callable[[torch.optim.Optimizer, int], Any]


class Trainer:
    """Trains a victim with early stopping on validation accuracy; the hooks say what to train on.

    ``scheduler``: optional ``(optimizer, steps_per_epoch) -> LR scheduler``, stepped once per optimizer
    step. Randomness: the batch order comes from a generator seeded with ``settings.seed``; dropout draws
    from torch's global generator, which the caller seeds (``train_victim`` does, before building the model).
    """

    def __init__(
        self,
        settings: Settings,
        hooks: TrainerHooks,
        *,
        scheduler: SchedulerFactory | None = None,
        description: str = "train",
    ) -> None:
        self.settings = settings
        self.hooks = hooks
        self.scheduler_factory = scheduler
        self.description = description

    def _optimizer(self, victim: Trainable) -> torch.optim.Optimizer:
        parameters = [p for p in victim.module.parameters() if p.requires_grad]
        return torch.optim.AdamW(
            parameters, lr=self.settings.learning_rate, weight_decay=self.settings.weight_decay
        )

    def fit(
        self, victim: Trainable, validation: Split | None = None, *, victim_type: str = ""
    ) -> TrainReport:
        """Train ``victim`` in place; its module ends in eval mode with the best epoch's weights."""
        settings = self.settings
        module = victim.module
        optimizer = self._optimizer(victim)
        scheduler = None
        generator = torch.Generator().manual_seed(settings.seed)
        best_state: dict[str, torch.Tensor] | None = None
        best_accuracy, best_epoch, stale = -1.0, 0, 0
        history: list[float] = []
        sizes: list[int] = []
        example_seconds: list[float] = []
        step_seconds: list[float] = []
        validation_seconds: list[float] = []
        start = time.perf_counter()
        epochs_run = 0
        with progress_bar("{task.fields[status]}", enabled=settings.progress) as progress:
            task = progress.add_task(self.description, total=None, status="")
            for epoch in range(1, settings.epochs + 1):
                module.eval()  # any attack or evaluation inside the hook sees the model that answers queries
                started = time.perf_counter()
                examples = self.hooks.examples_for_epoch(epoch, victim)
                example_seconds.append(time.perf_counter() - started)
                sizes.append(len(examples))
                batch_size = settings.batch_size
                steps = (len(examples) + batch_size - 1) // batch_size
                if scheduler is None and self.scheduler_factory is not None:
                    scheduler = self.scheduler_factory(optimizer, steps)
                done = sum((n + batch_size - 1) // batch_size for n in sizes[:-1])
                progress.update(task, total=done + steps * (settings.epochs - epoch + 1), completed=done)
                labels = torch.tensor(examples.labels, dtype=torch.long)
                order = torch.randperm(len(examples), generator=generator).tolist()
                module.train()
                started = time.perf_counter()
                running = 0.0
                for step in range(steps):
                    idx = order[step * batch_size : (step + 1) * batch_size]
                    texts = [examples.texts[i] for i in idx]
                    loss = self.hooks.batch_loss(victim, texts, labels[idx].to(victim.device))
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    if scheduler is not None:
                        scheduler.step()
                    running += loss.item()
                    progress.update(task, advance=1, status=f"epoch {epoch} loss {running / (step + 1):.3f}")
                module.eval()
                step_seconds.append(time.perf_counter() - started)
                epochs_run = epoch
                if validation is None or len(validation) == 0:
                    best_state, best_epoch = None, epoch  # the last epoch is kept
                    self.hooks.on_epoch_end(epoch, victim, None)
                    continue
                started = time.perf_counter()
                val_accuracy = accuracy(victim, validation.texts, validation.labels)
                validation_seconds.append(time.perf_counter() - started)
                history.append(val_accuracy)
                progress.update(task, status=f"epoch {epoch} val acc {val_accuracy:.3f}")
                self.hooks.on_epoch_end(epoch, victim, val_accuracy)
                if not self.hooks.selectable(epoch):
                    continue
                if val_accuracy > best_accuracy:
                    best_accuracy, best_epoch, stale = val_accuracy, epoch, 0
                    best_state = copy.deepcopy(
                        {k: v.detach().clone() for k, v in module.state_dict().items()}
                    )
                else:
                    stale += 1
                    if stale >= settings.patience:
                        break
        if best_state is not None:
            module.load_state_dict(best_state)
        module.eval()
        return TrainReport(
            victim_type=victim_type,
            epochs_run=epochs_run,
            best_epoch=best_epoch,
            best_validation_accuracy=best_accuracy if history else None,
            validation_history=history,
            seconds=time.perf_counter() - start,
            train_examples=sizes[0] if sizes else 0,
            examples_per_epoch=sizes,
            example_seconds=example_seconds,
            step_seconds=step_seconds,
            validation_seconds=validation_seconds,
        )


def new_victim(
    victim_type: str, dataset: Dataset, train: Split, *, seed: int, device: str, **victim_options: Any
) -> Trainable:
    """A new, untrained victim of ``victim_type`` for ``dataset`` (vocabulary from ``train``), after seeding
    every generator with ``seed`` (the initial weights depend on it)."""
    cls = victim_class(victim_type)
    seed_everything(seed)
    if victim_type != "bert" and dataset.language != "en":
        # GloVe is English-only: vectors trained on the training split instead (PPMI-SVD, seconds).
        victim_options.setdefault("vectors", "trained")
    return cls.from_dataset(
        train.texts,
        dataset.label_names,
        language=dataset.language,
        seed=seed,
        device=device,
        **victim_options,
    )


def training_info(
    victim_type: str,
    dataset: Dataset,
    settings: Settings,
    config: TrainConfig,
    victim_options: dict[str, Any],
    report: TrainReport,
) -> dict[str, Any]:
    """What ``train_victim`` did, as plain data kept in the victim's config (``training`` key)."""
    return {
        "victim_type": victim_type,
        "dataset": dataset.name,
        "seed": settings.seed,
        "max_train_examples": config.max_train_examples,
        "epochs": settings.epochs,
        "batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate,
        "weight_decay": settings.weight_decay,
        "patience": settings.patience,
        "options": {
            k: v for k, v in victim_options.items() if isinstance(v, str | int | float | bool | None)
        },
        "epochs_run": report.epochs_run,
        "best_epoch": report.best_epoch,
        "train_examples": report.train_examples,
    }  # no times: the same training saves the same files (and the store's fingerprint stays the same)


def tokens_per_text(victim: Any, dataset: Dataset, n: int = 1000) -> dict[str, Any] | None:
    """Mean tokens the victim's tokenizer makes of a text (special tokens left out, nothing truncated) over
    the first ``n`` of the test split (else validation, else train): one of the leaderboard's victim facts,
    since a tokenizer that needs fewer tokens makes a faster model."""
    count = getattr(victim, "count_tokens", None)
    if count is None:
        return None
    name = next((s for s in ("test", "validation", "train") if s in dataset.splits), None)
    if name is None or not len(dataset.split(name)):
        return None
    texts = dataset.split(name).head(n).texts
    counts = count(texts)
    return {
        "dataset": dataset.name,
        "split": name,
        "n": len(texts),
        "mean": round(sum(counts) / len(texts), 3),
    }


def check_training_labels(dataset: Dataset, train: Split, allow_missing: bool = False) -> None:
    """A classifier needs two classes to learn from, and every class it may be asked about must be seen in
    training (else a label found only in the test split becomes a class no example taught)."""
    present = set(train.labels)
    if len(present) < 2:
        only = ", ".join(f"'{dataset.label_names[i]}'" for i in sorted(present)) or "none"
        raise DataError(
            f"the training split of '{dataset.name}' has {len(present)} class ({only}); a classifier needs "
            "at least two: check the label column"
        )
    missing = [name for i, name in enumerate(dataset.label_names) if i not in present]
    if missing and not allow_missing:
        where = [n for n, split in dataset.splits.items() if n != "train" and set(split.labels) - present]
        raise DataError(
            f"class(es) {', '.join(repr(m) for m in missing)} have no training example"
            + (f" (found in the {', '.join(where)} split)" if where else "")
            + "; fix the data, or pass --allow-missing-classes to train anyway"
        )


def train_victim(
    victim_type: str,
    dataset: Dataset,
    out_dir: str | Path | None = None,
    config: TrainConfig | None = None,
    *,
    hooks: Callable[[Split], TrainerHooks] = TrainerHooks,
    **victim_options: Any,
) -> tuple[Trainable, TrainReport]:
    """Train a new victim of ``victim_type`` on ``dataset``'s train split; save it to ``out_dir`` if given.

    ``hooks`` builds the Trainer's hooks from the training split (default: plain training). Early stopping
    keeps the weights of the epoch with the best validation accuracy. The output directory is written only
    once training has finished (atomically), so a crash leaves nothing.
    """
    from textrobust.victims import TRAINABLE_TYPES

    config = config or TrainConfig()
    victim_class(victim_type)  # an unknown type fails before any work
    if victim_type not in TRAINABLE_TYPES:
        raise ParameterError(
            "victim_type", f"'{victim_type}' is a wrapper, not trained; choose {TRAINABLE_TYPES}"
        )
    settings = Settings.resolve(victim_type, config)
    require_at_least("max_train_examples", config.max_train_examples, 1)
    require_at_least("max_length", victim_options.get("max_length"), 1)
    train = dataset.split("train").head(config.max_train_examples)
    check_training_labels(dataset, train, config.allow_missing_classes)
    victim = new_victim(victim_type, dataset, train, seed=config.seed, device=config.device, **victim_options)
    trainer = Trainer(settings, hooks(train), description=f"train {victim_type}")
    report = trainer.fit(victim, dataset.splits.get("validation"), victim_type=victim_type)
    victim.training_info = training_info(victim_type, dataset, settings, config, victim_options, report)
    victim.training_info["tokens_per_text"] = tokens_per_text(victim, dataset)
    if out_dir is not None:
        victim.save(out_dir)
    return victim, report
