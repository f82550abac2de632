"""The Trainer: one loop for every victim, and the hooks defenses plug into."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import torch

from tests.stand_ins import training_settings
from textrobust.data import Dataset, Split
from textrobust.errors import ParameterError
from textrobust.victims.protocols import Trainable
from textrobust.victims.training import (
    TrainConfig,
    Trainer,
    TrainerHooks,
    new_victim,
    train_victim,
)

TEXTS = ["a gorgeous, moving film.", "dull and lifeless; a waste of time", "it's fine"]


@pytest.fixture
def tiny_dataset(small_mr) -> Dataset:
    return Dataset(
        "mr-tiny",
        "en",
        small_mr.label_names,
        {"train": small_mr.split("train").head(120), "validation": small_mr.split("validation").head(40)},
    )


class RecordingHooks(TrainerHooks):
    """Plain training that records what the Trainer asked and in which mode the model was."""

    def __init__(self, train: Split, extra: Split | None = None) -> None:
        super().__init__(train)
        self.extra = extra
        self.modes_when_asked: list[bool] = []
        self.texts_seen = 0
        self.epoch_ends: list[tuple[int, float | None]] = []

    def examples_for_epoch(self, epoch: int, victim: Trainable) -> Split:
        self.modes_when_asked.append(victim.module.training)
        if epoch > 1 and self.extra is not None:  # e.g. adversarial examples added after a clean epoch
            return Split(self.train.texts + self.extra.texts, self.train.labels + self.extra.labels)
        return self.train

    def batch_loss(self, victim: Trainable, texts: Sequence[str], labels: torch.Tensor) -> torch.Tensor:
        assert victim.module.training, "a batch is trained in train mode"
        self.texts_seen += len(texts)
        return super().batch_loss(victim, texts, labels)

    def on_epoch_end(self, epoch: int, victim: Trainable, validation_accuracy: float | None) -> None:
        self.epoch_ends.append((epoch, validation_accuracy))


def test_train_victim_is_the_trainer_with_plain_hooks(tiny_dataset: Dataset) -> None:
    config = TrainConfig(epochs=2, batch_size=16, learning_rate=1e-3, progress=False, seed=5)
    trained, report = train_victim("wordcnn", tiny_dataset, None, config, vectors=None)
    train = tiny_dataset.split("train")
    victim = new_victim("wordcnn", tiny_dataset, train, seed=5, device="auto", vectors=None)
    Trainer(training_settings(seed=5), TrainerHooks(train)).fit(victim, tiny_dataset.split("validation"))
    np.testing.assert_array_equal(trained.predict_proba(TEXTS), victim.predict_proba(TEXTS))
    assert report.examples_per_epoch == [120, 120][: report.epochs_run]


def test_examples_of_an_epoch_come_from_the_hook_asked_in_eval_mode(tiny_dataset: Dataset) -> None:
    train = tiny_dataset.split("train")
    extra = Split(["an utterly wonderful film"] * 10, [1] * 10)
    hooks = RecordingHooks(train, extra)
    victim = new_victim("wordcnn", tiny_dataset, train, seed=0, device="cpu", vectors=None)
    report = Trainer(training_settings(epochs=3, patience=5), hooks).fit(
        victim, tiny_dataset.split("validation")
    )
    assert report.examples_per_epoch == [120, 130, 130]
    assert hooks.modes_when_asked == [False, False, False]  # never attacked or evaluated in train mode
    assert hooks.texts_seen == 120 + 130 + 130
    assert [epoch for epoch, _acc in hooks.epoch_ends] == [1, 2, 3]
    assert all(acc is not None and 0.0 <= acc <= 1.0 for _epoch, acc in hooks.epoch_ends)
    assert not victim.module.training  # handed back ready to answer queries


def test_a_batch_loss_hook_changes_what_is_learned(tiny_dataset: Dataset) -> None:
    class Frozen(TrainerHooks):
        def batch_loss(self, victim: Trainable, texts: Sequence[str], labels: torch.Tensor) -> torch.Tensor:
            return victim.logits(texts).sum() * 0.0  # no gradient signal

    train = tiny_dataset.split("train")
    victim = new_victim("wordcnn", tiny_dataset, train, seed=0, device="cpu", vectors=None)
    before = victim.predict_proba(TEXTS)
    Trainer(training_settings(epochs=1), Frozen(train)).fit(victim, None)
    np.testing.assert_allclose(victim.predict_proba(TEXTS), before, atol=1e-6)


def test_a_scheduler_steps_once_per_optimizer_step(tiny_dataset: Dataset) -> None:
    train = tiny_dataset.split("train")
    victim = new_victim("wordcnn", tiny_dataset, train, seed=0, device="cpu", vectors=None)
    made: list[torch.optim.lr_scheduler.LambdaLR] = []

    def linear_decay(optimizer: torch.optim.Optimizer, steps_per_epoch: int):
        total = 2 * steps_per_epoch
        made.append(torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - step / total)))
        return made[-1]

    Trainer(training_settings(epochs=2, patience=5), TrainerHooks(train), scheduler=linear_decay).fit(
        victim, None
    )
    (scheduler,) = made
    assert scheduler.last_epoch == 2 * 8  # 120 examples in batches of 16: 8 steps an epoch
    assert scheduler.get_last_lr()[0] == pytest.approx(0.0)


def test_batches_are_padded_to_their_longest_text_not_a_fixed_maximum(tiny_dataset: Dataset) -> None:
    train = tiny_dataset.split("train")
    victim = new_victim("wordlstm", tiny_dataset, train, seed=0, device="cpu", vectors=None)
    encoded = victim.encode(["good", "a good film"])
    assert encoded["input_ids"].shape == (2, 3) and victim.max_length > 3


@pytest.mark.parametrize(
    ("overrides", "parameter"),
    [({"epochs": 0}, "epochs"), ({"batch_size": 0}, "batch_size"), ({"learning_rate": 0.0}, "learning_rate")],
)
def test_impossible_settings_are_parameter_errors(overrides: dict, parameter: str) -> None:
    with pytest.raises(ParameterError) as error:
        training_settings(**overrides)
    assert error.value.parameter == parameter


def test_label_sets_that_cannot_train_a_classifier_are_data_errors(small_mr) -> None:
    from textrobust.errors import DataError
    from textrobust.victims.training import TrainConfig

    train = small_mr.split("train").head(60)
    negatives = Split(
        [t for t, y in zip(train.texts, train.labels, strict=True) if y == 0], [0] * train.labels.count(0)
    )
    config = TrainConfig(epochs=1, progress=False)
    one_class = Dataset("one-class", "en", small_mr.label_names, {"train": negatives})
    with pytest.raises(DataError, match="at least two"):
        train_victim("wordcnn", one_class, config=config, vectors=None)
    three = Dataset(
        "three", "en", [*small_mr.label_names, "neutral"], {"train": train, "test": Split(["meh"], [2])}
    )
    with pytest.raises(DataError, match="'neutral' have no training example.*test"):
        train_victim("wordcnn", three, config=config, vectors=None)
    allowed = TrainConfig(epochs=1, progress=False, allow_missing_classes=True)
    victim, report = train_victim("wordcnn", three, config=allowed, vectors=None)
    assert victim.labels == [*small_mr.label_names, "neutral"]
    assert report.best_validation_accuracy is None  # no validation split: no made-up -1.0
