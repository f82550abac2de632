"""What the Trainer does in one optimizer step — gradient accumulation, clipping, warm-up — and the one
training record a victim keeps of how it was trained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.stand_ins import training_settings
from textrobust.cli import main
from textrobust.data import Dataset, Split
from textrobust.errors import ParameterError
from textrobust.victims.protocols import Trainable
from textrobust.victims.training import (
    TrainConfig,
    Trainer,
    TrainerHooks,
    TrainingSettings,
    new_victim,
    train_victim,
    training_record,
)

# The keys every saved victim's training record has had; a record with default settings has exactly these.
RECORD_KEYS = [
    "victim_type",
    "dataset",
    "seed",
    "max_train_examples",
    "epochs",
    "batch_size",
    "learning_rate",
    "weight_decay",
    "patience",
    "options",
    "epochs_run",
    "best_epoch",
    "train_examples",
    "tokens_per_text",
]


@pytest.fixture
def tiny(small_mr) -> Dataset:
    return Dataset(
        "mr-tiny",
        "en",
        small_mr.label_names,
        {"train": small_mr.split("train").head(120), "test": small_mr.split("test").head(20)},
    )


def _victim(data: Dataset, **options) -> Trainable:
    return new_victim("wordcnn", data, data.split("train"), seed=0, device="cpu", vectors=None, **options)


def _weights(victim: Trainable) -> torch.Tensor:
    return torch.cat([p.detach().flatten().clone() for p in victim.module.parameters()])


class FirstEpochOnly(TrainerHooks):
    """Later epochs have no examples: only the first epoch's steps change the weights."""

    def examples_for_epoch(self, epoch: int, victim: Trainable) -> Split:
        return self.train if epoch == 1 else Split([], [])


def _first_step_move(data: Dataset, **settings) -> float:
    """The largest change of any weight in the one optimizer step of a first epoch of 16 examples."""
    one_batch = data.split("train").head(16)
    victim = _victim(data)
    before = _weights(victim)
    Trainer(training_settings(**{"epochs": 1, **settings}), FirstEpochOnly(one_batch)).fit(victim)
    return float((_weights(victim) - before).abs().max())


# -- accumulation, clipping, warm-up ---------------------------------------------------------------------
def test_accumulated_half_batches_train_like_whole_batches(tiny: Dataset) -> None:
    # Without dropout the only difference is rounding: a batch of 16 and two accumulated batches of 8 in the
    # same seeded order follow the same mean loss (the last batch of 8 is a step of its own in both runs).
    whole, halves = _victim(tiny, dropout=0.0), _victim(tiny, dropout=0.0)
    a = Trainer(training_settings(), TrainerHooks(tiny.split("train"))).fit(whole)
    b = Trainer(training_settings(batch_size=8, grad_accumulation=2), TrainerHooks(tiny.split("train"))).fit(
        halves
    )
    assert a.optimizer_steps == b.optimizer_steps == 2 * 8
    torch.testing.assert_close(_weights(whole), _weights(halves), rtol=0, atol=1e-5)
    assert not torch.equal(_weights(whole), _weights(_victim(tiny, dropout=0.0)))  # it did train


def test_accumulation_makes_one_optimizer_step_every_n_batches(tiny: Dataset) -> None:
    report = Trainer(training_settings(grad_accumulation=3), TrainerHooks(tiny.split("train"))).fit(
        _victim(tiny)
    )
    assert report.optimizer_steps == 2 * 3  # 8 batches an epoch: steps of 3, 3 and 2 batches


def test_clipping_a_tiny_norm_holds_back_the_first_step(tiny: Dataset) -> None:
    # AdamW's first step moves a weight by about the learning rate whatever its gradient's size, unless the
    # gradient is clipped below its epsilon (1e-8).
    assert _first_step_move(tiny) == pytest.approx(1e-3, rel=1e-3)
    assert _first_step_move(tiny, max_grad_norm=1e-10) < 1e-3 / 50


def test_warmup_starts_at_a_fraction_of_the_learning_rate(tiny: Dataset) -> None:
    assert _first_step_move(tiny, warmup_steps=10) == pytest.approx(1e-4, rel=1e-3)
    # As a share of epochs × the first epoch's steps: 4 × 1, half of them warm-up: the first step takes half.
    assert _first_step_move(tiny, epochs=4, warmup_ratio=0.5) == pytest.approx(5e-4, rel=1e-3)


@pytest.mark.parametrize(
    ("overrides", "parameter"),
    [
        ({"grad_accumulation": 0}, "grad_accumulation"),
        ({"max_grad_norm": 0.0}, "max_grad_norm"),
        ({"warmup_steps": -1}, "warmup_steps"),
        ({"warmup_ratio": 1.0}, "warmup_ratio"),
        ({"warmup_steps": 5, "warmup_ratio": 0.1}, "warmup_ratio"),
    ],
)
def test_impossible_step_settings_are_parameter_errors(overrides: dict, parameter: str) -> None:
    with pytest.raises(ParameterError) as error:
        training_settings(**overrides)
    assert error.value.parameter == parameter


def test_a_warmup_and_a_scheduler_of_ones_own_exclude_each_other(tiny: Dataset) -> None:
    def constant(optimizer: torch.optim.Optimizer, steps_per_epoch: int):
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)

    with pytest.raises(ParameterError, match="warmup_steps cannot be combined"):
        Trainer(training_settings(warmup_steps=3), TrainerHooks(tiny.split("train")), scheduler=constant)


# -- the training record ---------------------------------------------------------------------------------
def test_default_settings_record_exactly_the_keys_saved_victims_have(tiny: Dataset) -> None:
    victim, _ = train_victim("wordcnn", tiny, None, TrainConfig(epochs=1, progress=False), vectors=None)
    assert list(victim.training_info) == RECORD_KEYS
    assert victim.training_info["tokens_per_text"]["split"] == "test"


def test_step_settings_other_than_the_defaults_are_recorded(tiny: Dataset) -> None:
    config = TrainConfig(epochs=1, progress=False, grad_accumulation=2, max_grad_norm=1.0, warmup_ratio=0.1)
    victim, _ = train_victim("wordcnn", tiny, None, config, vectors=None)
    info = victim.training_info
    assert (info["grad_accumulation"], info["max_grad_norm"], info["warmup_ratio"]) == (2, 1.0, 0.1)
    assert "warmup_steps" not in info  # still its default


def test_a_defended_victim_record_adds_its_base_and_defense(tiny: Dataset) -> None:
    victim, report = train_victim("wordcnn", tiny, None, TrainConfig(epochs=1, progress=False), vectors=None)
    settings = TrainingSettings.resolve("wordcnn", TrainConfig(epochs=1, progress=False))
    extra = {"base": "/victims/cnn", "base_fingerprint": "ab12", "defense": {"method": "embedding"}}
    record = training_record(
        victim, tiny, settings, report, victim_type="wordcnn", options={}, max_train_examples=None, **extra
    )
    assert list(record) == [*RECORD_KEYS, "base", "base_fingerprint", "defense"]
    assert {k: record[k] for k in extra} == extra
    assert record["options"] == {} and record["epochs_run"] == report.epochs_run
    with pytest.raises(ParameterError, match="may not replace"):
        training_record(
            victim, tiny, settings, report, victim_type="wordcnn", options={}, max_train_examples=None, seed=1
        )


# -- the command line ------------------------------------------------------------------------------------
def test_train_flags_for_accumulation_clipping_and_warmup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--victim", "wordcnn", "--dataset", "mr", "--vectors", "none", "--max-train", "120",
            "--epochs", "1", "--batch-size", "16", "--out", str(tmp_path / "v")]  # fmt: skip
    steps = ["--grad-accumulation", "2", "--max-grad-norm", "1", "--warmup-steps", "3"]
    assert main([*argv, *steps]) == 0
    info = json.loads((tmp_path / "v" / "config.json").read_text(encoding="utf-8"))["training"]
    assert (info["grad_accumulation"], info["max_grad_norm"], info["warmup_steps"]) == (2, 1.0, 3)
    capsys.readouterr()
    assert main([*argv[:-1], str(tmp_path / "w"), "--grad-accumulation", "0"]) == 2
    assert capsys.readouterr().err.strip() == "error: --grad-accumulation must be ≥ 1, got 0"
