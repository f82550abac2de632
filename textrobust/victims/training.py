"""One training loop for every victim, with hooks: plain training, and next adversarial co-tuning or
embedding-space training, are the same loop with different hooks.

The ``Trainer`` owns what every run needs — seeded batch order, optimizer, gradient accumulation, clipping
and warm-up, early stopping on validation accuracy (the best epoch's weights are kept), resumable
checkpoints, a progress bar — and asks its ``TrainerHooks`` for what differs: the examples of each epoch
(``examples_for_epoch(epoch, victim)``, called with the model in eval mode, so an attack run there sees the
model that answers queries) and the loss of a batch (``batch_loss``). Known pitfalls of adversarial-training
loops are handled here once: batches are padded to their own longest text by the victims' encoders (never
to a fixed maximum), the model is switched to eval mode for any evaluation or example generation inside
training and back to train mode after, and a learning-rate scheduler, when given, steps once per optimizer
step. The loop's pieces shared with masked-LM adaptation (checkpoint files, random state, accumulation,
clipping, warm-up) are ``textrobust.fitting``'s.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from textrobust.data import Dataset, Split
from textrobust.errors import DataError, ParameterError, VictimError, require_at_least
from textrobust.fitting import (
    CHECKPOINTS_DIR,
    OptimizerStep,
    accumulation_parts,
    check_finite_loss,
    check_finite_parameters,
    checkpoints,
    linear_warmup,
    read_checkpoint,
    remove_checkpoints,
    restore_rng_state,
    rng_state,
    save_checkpoint,
    warmup_steps,
)
from textrobust.progress import progress_bar
from textrobust.seeding import seed_everything
from textrobust.victims import victim_class
from textrobust.victims.protocols import Classifier, Trainable


@dataclass
class TrainConfig:
    """Training settings; ``None`` means the victim kind's default (its class's ``training_defaults``)."""

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
    grad_accumulation: int = 1  # batches per optimizer step
    max_grad_norm: float | None = None  # clip the gradient norm to this (None: no clipping)
    warmup_steps: int = 0  # optimizer steps of linear learning-rate warm-up ...
    warmup_ratio: float = 0.0  # ... or this share of all optimizer steps
    # With an output folder: a checkpoint every N optimizer steps and at each epoch's end (0: none).
    checkpoint_every: int = 500
    resume: bool = False  # continue the run whose checkpoints are in the output folder


# Epochs, batch size and learning rate of a victim kind whose class names none (``training_defaults``).
DEFAULT_TRAINING: dict[str, Any] = {"epochs": 3, "batch_size": 32, "learning_rate": 1e-3}

# Settings whose default leaves training as it was before they existed; the training record names them only
# when they differ (so a victim trained with the defaults saves the same config.json as before).
OPTIONAL_SETTINGS: dict[str, Any] = {
    "grad_accumulation": 1,
    "max_grad_norm": None,
    "warmup_steps": 0,
    "warmup_ratio": 0.0,
}


@dataclass(frozen=True)
class TrainingSettings:
    """Resolved training settings (no defaults left open)."""

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float = 0.0
    patience: int = 2
    seed: int = 0
    progress: bool = True
    grad_accumulation: int = 1  # batches per optimizer step (the last step of an epoch may take fewer)
    max_grad_norm: float | None = None  # None: gradients are not clipped
    warmup_steps: int = 0  # linear warm-up from lr/warmup to lr over this many optimizer steps, then constant
    warmup_ratio: float = 0.0  # the warm-up as a share of epochs × optimizer steps of the first epoch

    def __post_init__(self) -> None:
        require_at_least("epochs", self.epochs, 1)
        require_at_least("batch_size", self.batch_size, 1)
        require_at_least("patience", self.patience, 1)
        require_at_least("grad_accumulation", self.grad_accumulation, 1)
        require_at_least("warmup_steps", self.warmup_steps, 0)
        if not self.learning_rate > 0:
            raise ParameterError("learning_rate", f"must be > 0, got {self.learning_rate}")
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise ParameterError("max_grad_norm", f"must be > 0, got {self.max_grad_norm}")
        if not 0 <= self.warmup_ratio < 1:
            raise ParameterError("warmup_ratio", f"must be in [0, 1), got {self.warmup_ratio}")
        if self.warmup_steps and self.warmup_ratio:
            raise ParameterError("warmup_ratio", "and warmup_steps exclude each other; give one")

    @property
    def warms_up(self) -> bool:
        return bool(self.warmup_steps or self.warmup_ratio)

    @classmethod
    def resolve(cls, victim_type: str, config: TrainConfig) -> TrainingSettings:
        values = {**DEFAULT_TRAINING, **getattr(victim_class(victim_type), "training_defaults", {})}
        for key in ("epochs", "batch_size", "learning_rate"):
            if getattr(config, key) is not None:
                values[key] = getattr(config, key)
        return cls(
            **values,
            weight_decay=config.weight_decay,
            patience=config.patience,
            seed=config.seed,
            progress=config.progress,
            grad_accumulation=config.grad_accumulation,
            max_grad_norm=config.max_grad_norm,
            warmup_steps=config.warmup_steps,
            warmup_ratio=config.warmup_ratio,
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
    optimizer_steps: int = 0
    resumed_from_step: int | None = None  # the checkpoint's optimizer step when the run was resumed


def accuracy(victim: Classifier, texts: Sequence[str], labels: Sequence[int]) -> float:
    """Share of ``texts`` whose most probable class is the label (nan for no texts)."""
    if not texts:
        return float("nan")
    probabilities = np.asarray(victim.predict_proba(list(texts)))
    if not np.isfinite(probabilities).all():  # argmax of NaN is class 0: an accuracy that means nothing
        raise VictimError("training diverged: the model's predictions are not finite numbers")
    return float(np.mean(probabilities.argmax(axis=1) == np.asarray(labels)))


@contextlib.contextmanager
def _erased_on_error(progress: Any) -> Iterator[None]:
    """A run that fails ends with its one error line: the progress bar is then erased, not left above it."""
    try:
        yield
    except BaseException:
        progress.live.transient = True
        raise


class TrainerHooks:
    """Plain supervised training on ``train``; subclasses change what an epoch trains on or how a batch
    is scored.

    ``examples_for_epoch(epoch, victim)``: the examples of epoch ``epoch`` (1-based), asked for at the
    start of the epoch with the model in eval mode. ``batch_loss(victim, texts, labels)``: the loss to
    minimise on one batch (the model is in train mode); it may take gradients with ``torch.autograd.grad``
    but should leave none on the parameters. ``on_epoch_end(epoch, victim, validation_accuracy)``:
    called after validation (None without a validation split). ``selectable(epoch)``: whether early
    stopping may keep that epoch's weights and count it towards its patience. ``state_dict()`` and
    ``load_state_dict(state)``: what a resumed run needs of the hooks' own state (tensors, lists, numbers,
    strings), saved in each checkpoint; plain training has none.
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

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        return None


SchedulerFactory = Callable[[torch.optim.Optimizer, int], Any]


@dataclass(frozen=True)
class Checkpointing:
    """Where a Trainer keeps resumable checkpoints and how often it writes one.

    A checkpoint (``directory/step-NNNNNNN``) is written every ``every`` optimizer steps and at the end of
    each epoch but the last; it holds the weights, optimizer, scheduler, every random state, the batch order
    and examples of the epoch in progress, and the early-stopping record, so a run continued from it
    (``resume``) takes exactly the steps an uninterrupted one would. ``resume`` without a checkpoint starts
    from the beginning. ``identity``: what else a resumed run must share with the checkpoint (dataset,
    victim options), compared key by key. ``remove_when_done``: delete the checkpoints when ``fit`` ends
    (``train_victim`` leaves that to its atomic save, which replaces the whole output folder).
    """

    directory: Path
    every: int = 500
    resume: bool = False
    identity: Mapping[str, Any] = field(default_factory=dict)
    remove_when_done: bool = True

    def __post_init__(self) -> None:
        require_at_least("checkpoint_every", self.every, 1)


@dataclass
class _Position:
    """Where a fit stands: the counters a checkpoint stores and a resumed run starts from."""

    epoch: int = 1  # the epoch in progress (or the next one, before its first batch)
    batch: int = 0  # batches of that epoch already trained
    step: int = 0  # optimizer steps so far
    steps_per_epoch: int | None = None  # optimizer steps of the first epoch (the scheduler is built from it)
    best_accuracy: float = -1.0
    best_epoch: int = 0
    stale: int = 0
    running: float = 0.0  # loss summed over the batches of the epoch in progress (for the progress bar)
    epoch_seconds: float = 0.0  # training-step seconds of the epoch in progress before a resume
    seconds: float = 0.0  # seconds of the run before a resume
    history: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    example_seconds: list[float] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)
    validation_seconds: list[float] = field(default_factory=list)


@dataclass
class _Epoch:
    """The examples of the epoch in progress and their seeded order."""

    examples: Split
    order: list[int]


class Trainer:
    """Trains a victim with early stopping on validation accuracy; the hooks say what to train on.

    ``scheduler``: optional ``(optimizer, optimizer steps per epoch) -> LR scheduler``, stepped once per
    optimizer step (the settings' warm-up is such a scheduler; give one or the other). Randomness: the batch
    order comes from a generator seeded with ``settings.seed``; dropout draws from torch's global generator,
    which the caller seeds (``train_victim`` does, before building the model). ``checkpoints``: where and how
    often to save resumable checkpoints, and whether to resume (None: no checkpoints).
    """

    def __init__(
        self,
        settings: TrainingSettings,
        hooks: TrainerHooks,
        *,
        scheduler: SchedulerFactory | None = None,
        description: str = "train",
        checkpoints: Checkpointing | None = None,
    ) -> None:
        if scheduler is not None and settings.warms_up:
            raise ParameterError(
                "warmup_steps" if settings.warmup_steps else "warmup_ratio",
                "cannot be combined with a scheduler of its own; put the warm-up in that scheduler",
            )
        self.settings = settings
        self.hooks = hooks
        self.scheduler_factory = scheduler
        self.description = description
        self.checkpoints = checkpoints

    def _optimizer(self, victim: Trainable) -> torch.optim.Optimizer:
        parameters = [p for p in victim.module.parameters() if p.requires_grad]
        return torch.optim.AdamW(
            parameters, lr=self.settings.learning_rate, weight_decay=self.settings.weight_decay
        )

    def _scheduler(self, optimizer: torch.optim.Optimizer, steps_per_epoch: int) -> Any:
        settings = self.settings
        if self.scheduler_factory is not None:
            return self.scheduler_factory(optimizer, steps_per_epoch)
        if settings.warms_up:
            total = settings.epochs * steps_per_epoch
            warmup = warmup_steps(settings.warmup_steps, settings.warmup_ratio, total)
            return torch.optim.lr_scheduler.LambdaLR(optimizer, linear_warmup(warmup))
        return None

    def fit(
        self, victim: Trainable, validation: Split | None = None, *, victim_type: str = ""
    ) -> TrainReport:
        """Train ``victim`` in place; its module ends in eval mode with the best epoch's weights.

        With checkpoints and ``resume``, ``victim`` is a freshly built victim of the same recipe: the newest
        checkpoint's weights, optimizer, random states and position replace what it started with.
        """
        settings = self.settings
        module = victim.module
        stepper = OptimizerStep(self._optimizer(victim), max_grad_norm=settings.max_grad_norm)
        generator = torch.Generator().manual_seed(settings.seed)
        position, best_state, current = _Position(), None, None
        resumed_from = None
        checkpoint = self._checkpoint_to_resume()
        if checkpoint is not None:
            position, best_state, current = self._restore(checkpoint, victim, stepper, generator)
            resumed_from = position.step
        start = time.perf_counter()
        batch_size = settings.batch_size
        bar = progress_bar("{task.fields[status]}", enabled=settings.progress)
        with bar as progress, _erased_on_error(progress):
            task = progress.add_task(self.description, total=None, status="")
            for epoch in range(position.epoch, settings.epochs + 1):
                position.epoch = epoch
                if current is None:  # a new epoch (else the one in progress when the checkpoint was saved)
                    # Any attack or evaluation inside the hook sees the model that answers queries.
                    module.eval()
                    started = time.perf_counter()
                    examples = self.hooks.examples_for_epoch(epoch, victim)
                    position.example_seconds.append(time.perf_counter() - started)
                    position.sizes.append(len(examples))
                    batches = math.ceil(len(examples) / batch_size)
                    if position.steps_per_epoch is None:
                        position.steps_per_epoch = math.ceil(batches / settings.grad_accumulation)
                        stepper.scheduler = self._scheduler(stepper.optimizer, position.steps_per_epoch)
                    current = _Epoch(examples, torch.randperm(len(examples), generator=generator).tolist())
                examples, order = current.examples, current.order
                batches = math.ceil(len(examples) / batch_size)
                before = sum(math.ceil(n / batch_size) for n in position.sizes[:-1])
                progress.update(
                    task,
                    total=before + batches * (settings.epochs - epoch + 1),
                    completed=before + position.batch,
                )
                labels = torch.tensor(examples.labels, dtype=torch.long)
                module.train()
                started = time.perf_counter()
                for index in range(position.batch, batches):
                    idx = order[index * batch_size : (index + 1) * batch_size]
                    texts = [examples.texts[i] for i in idx]
                    loss = self.hooks.batch_loss(victim, texts, labels[idx].to(victim.device))
                    value = check_finite_loss(
                        loss, f"epoch {epoch}, batch {index + 1}", error=VictimError, hint=self._hint()
                    )
                    parts = accumulation_parts(batches, settings.grad_accumulation, index)
                    stepper.backward(loss, parts)
                    position.running += value
                    progress.update(
                        task, advance=1, status=f"epoch {epoch} loss {position.running / (index + 1):.3f}"
                    )
                    if stepper.pending < parts:
                        continue
                    stepper.step()
                    position.step, position.batch = position.step + 1, index + 1
                    # Mid-epoch only: the epoch's last step is followed by its end-of-epoch checkpoint.
                    if self._due(position.step) and index + 1 < batches:
                        epoch_seconds = position.epoch_seconds + time.perf_counter() - started
                        self._save(
                            victim, stepper, generator, position, best_state, current, start, epoch_seconds
                        )
                module.eval()
                check_finite_parameters(
                    module, f"the end of epoch {epoch}", error=VictimError, hint=self._hint()
                )
                position.step_seconds.append(position.epoch_seconds + time.perf_counter() - started)
                position.batch, position.running, position.epoch_seconds, current = 0, 0.0, 0.0, None
                best_state, stop = self._end_epoch(
                    epoch, victim, validation, position, best_state, progress, task
                )
                if stop:
                    break
                if self.checkpoints is not None and epoch < settings.epochs:
                    position.epoch = epoch + 1
                    self._save(victim, stepper, generator, position, best_state, None, start, 0.0)
        if best_state is not None:
            module.load_state_dict(best_state)
        module.eval()
        if self.checkpoints is not None and self.checkpoints.remove_when_done:
            remove_checkpoints(self.checkpoints.directory)
        return TrainReport(
            victim_type=victim_type,
            epochs_run=len(position.step_seconds),
            best_epoch=position.best_epoch,
            best_validation_accuracy=position.best_accuracy if position.history else None,
            validation_history=position.history,
            seconds=position.seconds + time.perf_counter() - start,
            train_examples=position.sizes[0] if position.sizes else 0,
            examples_per_epoch=position.sizes,
            example_seconds=position.example_seconds,
            step_seconds=position.step_seconds,
            validation_seconds=position.validation_seconds,
            optimizer_steps=position.step,
            resumed_from_step=resumed_from,
        )

    def _hint(self) -> str:
        """What to change when training diverged."""
        clipping = "" if self.settings.max_grad_norm is not None else " or clip the gradient norm"
        return f"lower the learning rate (now {self.settings.learning_rate:g}){clipping}"

    def _end_epoch(
        self,
        epoch: int,
        victim: Trainable,
        validation: Split | None,
        position: _Position,
        best_state: dict[str, torch.Tensor] | None,
        progress: Any,
        task: Any,
    ) -> tuple[dict[str, torch.Tensor] | None, bool]:
        """Validation and early stopping after an epoch: the weights to keep, and whether to stop."""
        if validation is None or len(validation) == 0:
            position.best_epoch = epoch  # the last epoch is kept
            self.hooks.on_epoch_end(epoch, victim, None)
            return None, False
        started = time.perf_counter()
        val_accuracy = accuracy(victim, validation.texts, validation.labels)
        position.validation_seconds.append(time.perf_counter() - started)
        position.history.append(val_accuracy)
        progress.update(task, status=f"epoch {epoch} val acc {val_accuracy:.3f}")
        self.hooks.on_epoch_end(epoch, victim, val_accuracy)
        if not self.hooks.selectable(epoch):
            return best_state, False
        if val_accuracy > position.best_accuracy:
            position.best_accuracy, position.best_epoch, position.stale = val_accuracy, epoch, 0
            state = victim.module.state_dict()
            return copy.deepcopy({k: v.detach().clone() for k, v in state.items()}), False
        position.stale += 1
        return best_state, position.stale >= self.settings.patience

    # -- checkpoints -------------------------------------------------------------------------------------
    def _due(self, step: int) -> bool:
        return self.checkpoints is not None and step % self.checkpoints.every == 0

    def _checkpoint_to_resume(self) -> Path | None:
        """The newest checkpoint when resuming; a fresh run first removes an earlier run's checkpoints
        (a later resume must never continue someone else's run)."""
        plan = self.checkpoints
        if plan is None:
            return None
        found = checkpoints(plan.directory)
        if plan.resume and found:
            return found[-1]
        remove_checkpoints(plan.directory)
        return None

    def _same_run(self) -> dict[str, dict[str, Any]]:
        """What a resumed run must share with its checkpoint, as JSON data."""
        assert self.checkpoints is not None
        settings = {k: v for k, v in asdict(self.settings).items() if k != "progress"}
        plain = {"settings": settings, "identity": dict(self.checkpoints.identity)}
        return json.loads(json.dumps(plain))

    def _save(
        self,
        victim: Trainable,
        stepper: OptimizerStep,
        generator: torch.Generator,
        position: _Position,
        best_state: dict[str, torch.Tensor] | None,
        current: _Epoch | None,
        start: float,
        epoch_seconds: float,
    ) -> None:
        assert self.checkpoints is not None
        counters = asdict(position)
        counters.update(epoch_seconds=epoch_seconds, seconds=position.seconds + time.perf_counter() - start)
        tensors = {
            "model": victim.module.state_dict(),
            "best": best_state,
            **stepper.state_dict(),
            "rng": rng_state(),
            "order_rng": generator.get_state(),
            "examples": None
            if current is None
            else {"texts": current.examples.texts, "labels": current.examples.labels, "order": current.order},
            "hooks": self.hooks.state_dict(),
        }
        save_checkpoint(self.checkpoints.directory, position.step, {**counters, **self._same_run()}, tensors)

    def _restore(
        self, checkpoint: Path, victim: Trainable, stepper: OptimizerStep, generator: torch.Generator
    ) -> tuple[_Position, dict[str, torch.Tensor] | None, _Epoch | None]:
        state, saved = read_checkpoint(checkpoint, error=VictimError)
        self._check_same_run(state)
        position = _Position(**{name: state[name] for name in _Position.__dataclass_fields__})
        victim.module.load_state_dict(saved["model"])
        if position.steps_per_epoch is not None:
            stepper.scheduler = self._scheduler(stepper.optimizer, position.steps_per_epoch)
        stepper.load_state_dict(saved)
        generator.set_state(saved["order_rng"])
        self.hooks.load_state_dict(saved["hooks"])
        current = None
        if saved["examples"] is not None:
            examples = saved["examples"]
            current = _Epoch(
                Split(list(examples["texts"]), list(examples["labels"])), list(examples["order"])
            )
        restore_rng_state(saved["rng"])  # last: from here on, every draw is the uninterrupted run's
        return position, saved["best"], current

    def _check_same_run(self, state: Mapping[str, Any]) -> None:
        mine = self._same_run()
        for part in ("settings", "identity"):
            stored = state.get(part) or {}
            for key in sorted(set(mine[part]) | set(stored)):
                value, then = mine[part].get(key), stored.get(key)
                if value == then:
                    continue
                if key == TRAINING_DATA_KEY:
                    raise DataError(
                        "the training examples differ from those the checkpoint was trained on; resume "
                        "with the same dataset and number of training examples, or start a new run"
                    )
                raise ParameterError(
                    key,
                    f"is {value!r} but the checkpoint was trained with {then!r}; "
                    "resume with the same options or start a new run",
                )


TRAINING_DATA_KEY = "training_data"  # identity key: a digest of the training texts and labels


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


def training_record(
    victim: Any,
    dataset: Dataset,
    settings: TrainingSettings,
    report: TrainReport,
    *,
    victim_type: str,
    options: Mapping[str, Any],
    max_train_examples: int | None,
    **extra: Any,
) -> dict[str, Any]:
    """The training record a victim keeps in its config (``training`` key) — the one writer of it.

    How the victim was trained (type, dataset, seed, settings, the victim's options), what the run did
    (epochs, best epoch, examples), the tokens its tokenizer makes of a text, and ``extra`` keys after them
    (a defended victim's ``base``, ``base_fingerprint`` and ``defense``). The settings added after the first
    saved victims (accumulation, clipping, warm-up) appear only when they differ from their defaults, and
    there are no times: the same training saves the same files, so the store's fingerprint stays the same.
    """
    record: dict[str, Any] = {
        "victim_type": victim_type,
        "dataset": dataset.name,
        "seed": settings.seed,
        "max_train_examples": max_train_examples,
        "epochs": settings.epochs,
        "batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate,
        "weight_decay": settings.weight_decay,
        "patience": settings.patience,
        **{
            key: getattr(settings, key)
            for key, default in OPTIONAL_SETTINGS.items()
            if getattr(settings, key) != default
        },
        "options": _plain_options(options),
        "epochs_run": report.epochs_run,
        "best_epoch": report.best_epoch,
        "train_examples": report.train_examples,
        "tokens_per_text": tokens_per_text(victim, dataset),
    }
    clashes = sorted(set(extra) & set(record))
    if clashes:
        raise ParameterError("extra", f"may not replace the record's own keys {clashes}")
    return {**record, **extra}


def _plain_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The victim options a config can keep (numbers, strings, flags; not objects)."""
    return {k: v for k, v in options.items() if isinstance(v, str | int | float | bool | None)}


def training_data_digest(split: Split) -> str:
    """sha256 of a split's texts and labels: a resumed run must train on the very same examples."""
    digest = hashlib.sha256()
    for text, label in zip(split.texts, split.labels, strict=True):
        digest.update(f"{label}\t{text}\0".encode())
    return digest.hexdigest()


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
    once training has finished (atomically), so a crash leaves nothing but checkpoints: with ``out_dir``,
    checkpoints go to ``out_dir/checkpoints`` every ``config.checkpoint_every`` optimizer steps and at each
    epoch's end, ``config.resume`` continues from the newest with the same options, and the final save
    replaces them.
    """
    from textrobust.victims.kinds import TRAINABLE_TYPES, capability

    config = config or TrainConfig()
    victim_class(victim_type)  # an unknown type fails before any work
    if not capability(victim_type, "trainable"):
        raise ParameterError(
            "victim_type",
            f"'{victim_type}' is not trained from data; choose one of {', '.join(TRAINABLE_TYPES)}",
        )
    settings = TrainingSettings.resolve(victim_type, config)
    require_at_least("max_train_examples", config.max_train_examples, 1)
    require_at_least("max_length", victim_options.get("max_length"), 1)
    require_at_least("checkpoint_every", config.checkpoint_every, 0)
    train = dataset.split("train").head(config.max_train_examples)
    check_training_labels(dataset, train, config.allow_missing_classes)
    identity = {
        "victim_type": victim_type,
        "dataset": dataset.name,
        "max_train_examples": config.max_train_examples,
        **_plain_options(victim_options),
        TRAINING_DATA_KEY: training_data_digest(train),
    }
    plan = _checkpointing(out_dir, config, identity)
    victim = new_victim(victim_type, dataset, train, seed=config.seed, device=config.device, **victim_options)
    trainer = Trainer(settings, hooks(train), description=f"train {victim_type}", checkpoints=plan)
    report = trainer.fit(victim, dataset.splits.get("validation"), victim_type=victim_type)
    victim.training_info = training_record(
        victim,
        dataset,
        settings,
        report,
        victim_type=victim_type,
        options=victim_options,
        max_train_examples=config.max_train_examples,
    )
    if out_dir is not None:
        victim.save(out_dir)  # replaces the folder, checkpoints included
    return victim, report


def _checkpointing(
    out_dir: str | Path | None, config: TrainConfig, identity: Mapping[str, Any]
) -> Checkpointing | None:
    """Checkpoints of a run saved to ``out_dir`` (none without one), after checking a resume can resume."""
    if out_dir is None or not config.checkpoint_every:
        if config.resume:
            raise ParameterError(
                "resume",
                "needs the run's output folder and checkpoints"
                + ("" if out_dir is None else " (checkpoint_every is 0)"),
            )
        return None
    out = Path(out_dir)
    if config.resume and not checkpoints(out / CHECKPOINTS_DIR):
        # As `mlm adapt --resume`: a run killed before its first checkpoint starts again from the beginning;
        # a folder that holds anything else is not a run to resume.
        if not out.is_dir():
            raise ParameterError("resume", f"finds nothing to resume: {out} does not exist; start a new run")
        others = sorted(p.name for p in out.iterdir() if p.name != CHECKPOINTS_DIR)
        if others:
            what = (
                "a finished victim" if "config.json" in others else f"other files ({', '.join(others[:3])})"
            )
            raise ParameterError(
                "resume", f"finds no checkpoint in {out / CHECKPOINTS_DIR} but {what}; start a new run"
            )
    return Checkpointing(
        out / CHECKPOINTS_DIR,
        every=config.checkpoint_every,
        resume=config.resume,
        identity=identity,
        remove_when_done=False,
    )
