"""Resumable victim training: a run killed at any point and resumed (``train --resume``) ends with the very
weights of a run that was never interrupted, same seed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from textrobust.cli import main
from textrobust.data import Dataset, Split
from textrobust.errors import DataError, ParameterError, VictimError
from textrobust.fitting import checkpoints
from textrobust.victims.protocols import Trainable
from textrobust.victims.training import TrainConfig, TrainerHooks, TrainReport, train_victim


class Killed(Exception):
    """Stands for the process dying: nothing after it runs, what was written stays."""


def stop_after(batches: int):
    """Hooks that train normally and die when batch ``batches + 1`` of the run is due."""

    class StopAfter(TrainerHooks):
        seen = 0

        def batch_loss(self, victim: Trainable, texts: Sequence[str], labels: torch.Tensor) -> torch.Tensor:
            if StopAfter.seen == batches:
                raise Killed
            StopAfter.seen += 1
            return super().batch_loss(victim, texts, labels)

    return StopAfter


@pytest.fixture
def data(small_mr) -> Dataset:
    """200 training and 100 validation sentences: 13 batches of 16 an epoch."""
    return Dataset(
        "mr-resume",
        "en",
        small_mr.label_names,
        {"train": small_mr.split("train").head(200), "validation": small_mr.split("validation").head(100)},
    )


def _config(**overrides) -> TrainConfig:
    values = dict(epochs=3, batch_size=16, learning_rate=2e-3, patience=5, seed=4, progress=False)
    return TrainConfig(**{**values, **overrides})


def _weights(directory: Path) -> dict[str, torch.Tensor]:
    return load_file(str(directory / "model.safetensors"))


def _assert_same_weights(a: Path, b: Path) -> None:
    first, second = _weights(a), _weights(b)
    assert first.keys() == second.keys()
    for name in first:
        assert first[name].dtype == second[name].dtype
        assert torch.equal(first[name], second[name]), f"{name} differs"


def _same_run(a: TrainReport, b: TrainReport) -> None:
    assert (a.epochs_run, a.best_epoch, a.optimizer_steps) == (b.epochs_run, b.best_epoch, b.optimizer_steps)
    assert a.validation_history == b.validation_history
    assert a.examples_per_epoch == b.examples_per_epoch


# -- the acceptance test: a real kill of the command line ------------------------------------------------
def _train_command(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "textrobust", "train", "--victim", "wordcnn", "--dataset", "mr",
            "--vectors", "none", "--max-train", "1000", "--batch-size", "10", "--epochs", "2",
            "--seed", "3", "--device", "cpu", "--out", str(out), *extra]  # fmt: skip


@pytest.mark.slow
def test_train_killed_mid_epoch_and_resumed_gives_the_uninterrupted_weights(tmp_path: Path) -> None:
    # One thread in every process, so that the sums inside a convolution are made in the same order.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    done = subprocess.run(
        _train_command(whole, "--checkpoint-every", "0"), env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr

    # 100 batches an epoch; a checkpoint every 3 optimizer steps: the first is written early in epoch 1.
    killed = subprocess.Popen(
        _train_command(cut, "--checkpoint-every", "3"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not checkpoints(cut / "checkpoints") and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(timeout=60) == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (cut / "model.safetensors").exists()
    newest = json.loads((checkpoints(cut / "checkpoints")[-1] / "state.json").read_text(encoding="utf-8"))
    assert newest["batch"] > 0, "the checkpoint to resume from is in the middle of an epoch"

    resumed = subprocess.run(
        _train_command(cut, "--checkpoint-every", "3", "--resume"),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed at step" in resumed.stdout
    _assert_same_weights(whole, cut)
    # The saved victim is the same to the byte: no trace of the interruption, no checkpoints left behind.
    assert sorted(p.name for p in cut.iterdir()) == sorted(p.name for p in whole.iterdir())
    assert (cut / "config.json").read_bytes() == (whole / "config.json").read_bytes()


# -- the same in process, with a hook that dies at a chosen batch ----------------------------------------
@pytest.mark.parametrize(
    ("dies_after", "every", "resumed_at"),
    [
        # Mid-epoch 2, in the middle of an accumulation group: 13 batches in groups of 3, 3, 3, 3, 1 make
        # steps 1-5 of epoch 1; in epoch 2, run batches 13-15 make step 6, ..., 22-24 step 9. Death at batch
        # 23 loses half of step 9; the newest checkpoint (every 2 steps) is step 8.
        (23, 2, 8),
        # between epochs: only the end-of-epoch checkpoints (every 1000 steps is never)
        (26, 1000, 10),
    ],
)
def test_a_run_stopped_anywhere_resumes_to_the_same_weights_and_record(
    data: Dataset, tmp_path: Path, dies_after: int, every: int, resumed_at: int
) -> None:
    # Accumulation, clipping and warm-up on, so that the optimizer, the scheduler and the position inside an
    # accumulation group must all come back; WordCNN's dropout draws from torch's generator every batch.
    options = dict(grad_accumulation=3, max_grad_norm=1.0, warmup_steps=4, checkpoint_every=every)
    _, whole = train_victim("wordcnn", data, tmp_path / "whole", _config(**options), vectors=None)
    out = tmp_path / "cut"
    with pytest.raises(Killed):
        train_victim("wordcnn", data, out, _config(**options), hooks=stop_after(dies_after), vectors=None)
    assert checkpoints(out / "checkpoints") and not (out / "config.json").exists()
    _, resumed = train_victim("wordcnn", data, out, _config(**options, resume=True), vectors=None)
    assert resumed.resumed_from_step == resumed_at and whole.resumed_from_step is None
    _same_run(whole, resumed)
    _assert_same_weights(tmp_path / "whole", out)
    assert not (out / "checkpoints").exists()


def test_early_stopping_keeps_the_best_epoch_across_a_resume(data: Dataset, tmp_path: Path) -> None:
    # A large learning rate and patience 2: validation accuracy falls after the first epochs, so the weights
    # kept are those of an epoch before the checkpoint resumed from (kept in it, not the model's own).
    config = _config(learning_rate=0.05, patience=2, epochs=8, checkpoint_every=1000)
    _, whole = train_victim("wordcnn", data, tmp_path / "whole", config, vectors=None)
    assert whole.best_epoch < whole.epochs_run - 1, "this setting is meant to stop early"
    stopped_at = 13 * whole.epochs_run - 1  # during the last epoch, after its best one
    with pytest.raises(Killed):
        train_victim("wordcnn", data, tmp_path / "cut", config, hooks=stop_after(stopped_at), vectors=None)
    _, resumed = train_victim(
        "wordcnn", data, tmp_path / "cut", _config(**{**vars(config), "resume": True}), vectors=None
    )
    _same_run(whole, resumed)
    _assert_same_weights(tmp_path / "whole", tmp_path / "cut")


# -- what a resume refuses -------------------------------------------------------------------------------
@pytest.fixture
def stopped(data: Dataset, tmp_path: Path) -> Path:
    """The output folder of a run that died in epoch 2 (checkpoints every 3 steps)."""
    out = tmp_path / "stopped"
    with pytest.raises(Killed):
        train_victim("wordcnn", data, out, _config(checkpoint_every=3), hooks=stop_after(20), vectors=None)
    return out


def test_resume_with_other_settings_names_the_setting(data: Dataset, stopped: Path) -> None:
    with pytest.raises(
        ParameterError, match="learning_rate is 0.001 but the checkpoint was trained with 0.002"
    ):
        train_victim("wordcnn", data, stopped, _config(learning_rate=1e-3, resume=True), vectors=None)
    with pytest.raises(ParameterError) as error:
        train_victim("wordcnn", data, stopped, _config(max_train_examples=150, resume=True), vectors=None)
    assert error.value.parameter == "max_train_examples"


def test_resume_on_other_training_examples_is_a_data_error(data: Dataset, stopped: Path) -> None:
    train = data.split("train")
    changed = Split(["an entirely different sentence", *train.texts[1:]], train.labels)
    other = Dataset(data.name, data.language, data.label_names, {**data.splits, "train": changed})
    with pytest.raises(DataError, match="training examples differ"):
        train_victim("wordcnn", other, stopped, _config(resume=True), vectors=None)


def test_a_damaged_checkpoint_is_named_and_the_one_before_it_still_resumes(
    data: Dataset, stopped: Path
) -> None:
    older, newest = checkpoints(stopped / "checkpoints")
    torn = newest / "trainer_state.pt"
    torn.write_bytes(torn.read_bytes()[: torn.stat().st_size // 2])
    with pytest.raises(VictimError, match=f"{newest.name} is damaged .*; delete it and resume"):
        train_victim("wordcnn", data, stopped, _config(checkpoint_every=3, resume=True), vectors=None)
    shutil.rmtree(newest)
    _, report = train_victim("wordcnn", data, stopped, _config(checkpoint_every=3, resume=True), vectors=None)
    assert report.resumed_from_step == int(older.name.removeprefix("step-"))


def test_resume_needs_a_run_to_resume(data: Dataset, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="does not exist"):
        train_victim("wordcnn", data, tmp_path / "nowhere", _config(resume=True), vectors=None)
    finished = tmp_path / "finished"
    train_victim("wordcnn", data, finished, _config(epochs=1), vectors=None)
    with pytest.raises(ParameterError, match="finished victim"):
        train_victim("wordcnn", data, finished, _config(epochs=1, resume=True), vectors=None)
    with pytest.raises(ParameterError, match="resume needs the run's output folder"):
        train_victim("wordcnn", data, None, _config(resume=True), vectors=None)


def test_a_run_killed_before_its_first_checkpoint_resumes_from_the_start(
    data: Dataset, tmp_path: Path
) -> None:
    fresh, early = tmp_path / "fresh", tmp_path / "early"
    train_victim("wordcnn", data, fresh, _config(epochs=1), vectors=None)
    (early / "checkpoints" / ".step-0000003.x1y2").mkdir(parents=True)  # a write the kill cut short
    _, report = train_victim("wordcnn", data, early, _config(epochs=1, resume=True), vectors=None)
    assert report.resumed_from_step is None
    _assert_same_weights(fresh, early)


def test_a_new_run_never_continues_the_checkpoints_of_an_earlier_one(
    data: Dataset, stopped: Path, tmp_path: Path
) -> None:
    # Not resumed (say --overwrite): the earlier run's checkpoints are cleared, not silently continued.
    _, report = train_victim("wordcnn", data, stopped, _config(seed=9, epochs=1), vectors=None)
    train_victim("wordcnn", data, tmp_path / "clean", _config(seed=9, epochs=1), vectors=None)
    assert report.resumed_from_step is None
    _assert_same_weights(stopped, tmp_path / "clean")


# -- the command line ------------------------------------------------------------------------------------
def _cli(out: Path, *extra: str) -> list[str]:
    return ["train", "--victim", "wordcnn", "--dataset", "mr", "--vectors", "none", "--max-train", "120",
            "--batch-size", "16", "--epochs", "2", "--out", str(out), *extra]  # fmt: skip


def test_cli_names_resume_for_a_folder_with_checkpoints_and_flags_for_a_mismatch(
    stopped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_cli(stopped)) == 2
    message = capsys.readouterr().err.strip()
    assert "unfinished run: pass --resume" in message and "\n" not in message
    assert main(_cli(stopped, "--resume", "--overwrite")) == 2
    assert "give one" in capsys.readouterr().err
    # The stopped run trained on 200 MR-small sentences with other settings: the first difference is named
    # by its flag.
    assert main(_cli(stopped, "--resume", "--lr", "0.002", "--seed", "4", "--patience", "5")) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("error: --epochs is 2 but the checkpoint was trained with 3"), message
    assert main(_cli(tmp_path / "missing", "--resume")) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("error: --resume finds nothing to resume") and "\n" not in message
