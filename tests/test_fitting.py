"""textrobust.fitting: the training-loop pieces the victim Trainer and masked-LM adaptation share."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from textrobust.errors import MLMError, TextrobustError
from textrobust.fitting import (
    STATE_FILE,
    TRAINER_STATE_FILE,
    OptimizerStep,
    accumulation_parts,
    checkpoints,
    linear_warmup,
    read_checkpoint,
    restore_rng_state,
    rng_state,
    save_checkpoint,
    warmup_steps,
)


def _draws() -> tuple[float, float, list[float]]:
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


# -- random state ----------------------------------------------------------------------------------------
def test_restored_random_state_repeats_python_numpy_and_torch_draws(tmp_path: Path) -> None:
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    _draws()  # somewhere in the middle of every stream
    state = rng_state()
    expected = _draws()
    torch.save(state, tmp_path / "rng.pt")
    _draws(), _draws()
    restore_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))  # plain data: no pickled arrays
    assert _draws() == expected


def test_a_torch_only_state_of_older_checkpoints_leaves_python_and_numpy_alone() -> None:
    state = {"cpu": torch.get_rng_state()}
    torch_first = torch.rand(2).tolist()
    random.seed(7), np.random.seed(7)
    python_next, numpy_next = random.Random(7).random(), float(np.random.RandomState(7).rand())
    restore_rng_state(state)
    assert torch.rand(2).tolist() == torch_first
    assert (random.random(), float(np.random.rand())) == (python_next, numpy_next)


# -- learning rate ---------------------------------------------------------------------------------------
def test_linear_warmup_rises_from_the_first_step_then_stays_or_decays() -> None:
    constant = linear_warmup(4)
    assert [constant(step) for step in range(7)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0]
    decaying = linear_warmup(2, total=6)
    assert [decaying(step) for step in range(7)] == [0.5, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
    assert [linear_warmup(0)(step) for step in range(3)] == [1.0, 1.0, 1.0]


def test_warmup_is_a_count_or_a_share_of_all_steps() -> None:
    assert warmup_steps(7, 0.0, 1000) == 7
    assert warmup_steps(0, 0.06, 1000) == 60
    assert warmup_steps(0, 0.001, 100) == 1  # a share never rounds down to no warm-up
    assert warmup_steps(0, 0.0, 1000) == 0


# -- one optimizer step ----------------------------------------------------------------------------------
def _linear(seed: int = 0) -> torch.nn.Linear:
    torch.manual_seed(seed)
    return torch.nn.Linear(4, 1)


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    return torch.randn(8, 4, generator=generator), torch.randn(8, 1, generator=generator)


def test_two_accumulated_half_batches_take_the_step_of_the_whole_batch() -> None:
    x, y = _data()
    whole, halves = _linear(), _linear()
    one = OptimizerStep(torch.optim.SGD(whole.parameters(), lr=0.1))
    one.backward(torch.nn.functional.mse_loss(whole(x), y))
    one.step()
    accumulated = OptimizerStep(torch.optim.SGD(halves.parameters(), lr=0.1))
    for part in (slice(0, 4), slice(4, 8)):
        accumulated.backward(torch.nn.functional.mse_loss(halves(x[part]), y[part]), parts=2)
        assert accumulated.pending == (1 if part.start == 0 else 2)
    accumulated.step()
    for a, b in zip(whole.parameters(), halves.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-7)
    assert all(p.grad is None for p in halves.parameters()) and accumulated.pending == 0


def test_clipping_bounds_the_norm_of_the_update() -> None:
    model = _linear()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    stepper = OptimizerStep(torch.optim.SGD(model.parameters(), lr=1.0), max_grad_norm=0.01)
    x, y = _data()
    stepper.backward(100 * torch.nn.functional.mse_loss(model(x), y))  # a gradient far above 0.01
    stepper.step()
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert float(torch.linalg.vector_norm(after - before)) == pytest.approx(0.01, rel=1e-4)


def test_gradients_left_on_the_parameters_before_a_step_do_not_leak_into_it() -> None:
    x, y = _data()
    clean, dirty = _linear(), _linear()
    for model in (clean, dirty):
        stepper = OptimizerStep(torch.optim.SGD(model.parameters(), lr=0.1))
        if model is dirty:
            model(x).sum().backward()  # e.g. a loss function's own gradient ascent step
        stepper.backward(torch.nn.functional.mse_loss(model(x), y))
        stepper.step()
    for a, b in zip(clean.parameters(), dirty.parameters(), strict=True):
        assert torch.equal(a, b)


def test_the_scheduler_steps_once_per_optimizer_step_not_per_micro_batch() -> None:
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_warmup(4))
    stepper = OptimizerStep(optimizer, scheduler=scheduler)
    x, y = _data()
    for _ in range(2):
        for part in (slice(0, 4), slice(4, 8)):
            stepper.backward(torch.nn.functional.mse_loss(model(x[part]), y[part]), parts=2)
        stepper.step()
    assert scheduler.last_epoch == 2 and optimizer.param_groups[0]["lr"] == 0.75


def test_a_stepper_restored_from_its_state_continues_exactly() -> None:
    x, y = _data()

    def stepper_for(model: torch.nn.Module) -> OptimizerStep:
        optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_warmup(3))
        return OptimizerStep(optimizer, scheduler=scheduler, max_grad_norm=0.5)

    def step(model: torch.nn.Module, stepper: OptimizerStep) -> None:
        stepper.backward(torch.nn.functional.mse_loss(model(x), y))
        stepper.step()

    straight = _linear()
    straight_stepper = stepper_for(straight)
    for _ in range(4):
        step(straight, straight_stepper)
    first = _linear()
    first_stepper = stepper_for(first)
    for _ in range(2):
        step(first, first_stepper)
    saved = {"model": first.state_dict(), **first_stepper.state_dict()}
    second = _linear(seed=99)  # a fresh process builds the model again before it loads the checkpoint
    second.load_state_dict(saved["model"])
    second_stepper = stepper_for(second)
    second_stepper.load_state_dict(saved)
    for _ in range(2):
        step(second, second_stepper)
    for a, b in zip(straight.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)


def test_the_last_step_of_an_epoch_may_take_fewer_batches() -> None:
    assert [accumulation_parts(10, 3, i) for i in range(10)] == [3, 3, 3, 3, 3, 3, 3, 3, 3, 1]
    assert [accumulation_parts(4, 1, i) for i in range(4)] == [1, 1, 1, 1]
    assert [accumulation_parts(2, 5, i) for i in range(2)] == [2, 2]


# -- checkpoints -----------------------------------------------------------------------------------------
def test_a_checkpoint_holds_its_state_and_tensors_and_only_the_newest_are_kept(tmp_path: Path) -> None:
    root = tmp_path / "checkpoints"
    for step in (5, 10, 15):
        save_checkpoint(root, step, {"step": step}, {"weights": torch.full((2,), float(step))})
    assert [p.name for p in checkpoints(root)] == ["step-0000010", "step-0000015"]
    state, tensors = read_checkpoint(checkpoints(root)[-1])
    assert state == {"step": 15} and torch.equal(tensors["weights"], torch.tensor([15.0, 15.0]))


def test_a_checkpoint_write_killed_halfway_leaves_the_previous_one(tmp_path: Path) -> None:
    root = tmp_path / "checkpoints"
    save_checkpoint(root, 1, {"step": 1}, {"w": torch.zeros(1)})

    def dies(folder: Path) -> None:
        (folder / "model.bin").write_bytes(b"half of it")
        raise KeyboardInterrupt  # stands for a kill in the middle of the write

    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(root, 2, {"step": 2}, {"w": torch.ones(1)}, write=dies)
    assert [p.name for p in checkpoints(root)] == ["step-0000001"]
    # A SIGKILL leaves the staging folder behind (no cleanup runs): it is not a checkpoint, and the next
    # write removes it.
    leftover = root / ".step-0000002.abc123"
    leftover.mkdir()
    (leftover / STATE_FILE).write_text("{}", encoding="utf-8")
    assert [p.name for p in checkpoints(root)] == ["step-0000001"]
    save_checkpoint(root, 3, {"step": 3}, {"w": torch.ones(1)}, write=lambda folder: None)
    assert not leftover.exists()
    assert [p.name for p in checkpoints(root)] == ["step-0000001", "step-0000003"]


def test_a_folder_without_its_state_file_is_not_a_checkpoint(tmp_path: Path) -> None:
    root = tmp_path / "checkpoints"
    (root / "step-0000009").mkdir(parents=True)
    (root / "notes").mkdir()
    (root / "step-latest").mkdir()
    (root / "step-latest" / STATE_FILE).write_text("{}", encoding="utf-8")  # not a step number
    assert checkpoints(root) == [] and checkpoints(tmp_path / "missing") == []


def test_a_damaged_checkpoint_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    root = tmp_path / "checkpoints"
    checkpoint = save_checkpoint(root, 4, {"step": 4}, {"w": torch.zeros(3)})
    torn = checkpoint / TRAINER_STATE_FILE
    torn.write_bytes(torn.read_bytes()[: torn.stat().st_size // 2])  # a disk that lost half the file
    with pytest.raises(
        TextrobustError, match=r"step-0000004 is damaged \(\w+\); delete it and resume"
    ) as error:
        read_checkpoint(checkpoint)
    assert "\n" not in str(error.value)
    with pytest.raises(MLMError):  # of the caller's kind
        read_checkpoint(checkpoint, error=MLMError)
    assert read_checkpoint(checkpoint, tensors=False) == ({"step": 4}, {})
    assert json.loads((checkpoint / STATE_FILE).read_text(encoding="utf-8")) == {"step": 4}
