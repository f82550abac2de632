"""The pieces every training loop shares: resumable checkpoints, random state, one optimizer step.

Two loops use them, the victim ``Trainer`` (``victims/training.py``) and masked-LM adaptation
(``lm/adapt.py``). What makes a resumed run take exactly the steps an uninterrupted one takes is kept
here once:

- ``rng_state``/``restore_rng_state``: every generator a step may draw from (Python's ``random``,
  NumPy's global generator, torch's CPU generator and every CUDA device's), as plain data;
- ``OptimizerStep``: one optimizer step made of micro-batches (gradient accumulation), with optional
  fp16 loss scaling, gradient clipping and a learning-rate scheduler stepped once per optimizer step;
  its ``state_dict`` is what a checkpoint needs of it;
- ``linear_warmup``: the learning-rate factor of a linear warm-up (then constant, or a linear decay);
- ``save_checkpoint``/``read_checkpoint``/``checkpoints``: a checkpoint is a folder ``step-NNNNNNN``
  written atomically (a run killed while writing one leaves the previous ones as they were), holding
  ``state.json`` (counters and options, readable by people) and ``trainer_state.pt`` (tensors).

torch is imported inside the functions, like every core module does, so importing this costs nothing.
"""

from __future__ import annotations

import json
import math
import pickle
import random
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from textrobust.errors import TextrobustError, require_at_least
from textrobust.files import atomic_directory

if TYPE_CHECKING:
    import torch

CHECKPOINTS_DIR = "checkpoints"
STATE_FILE = "state.json"  # written last inside the staging folder: a checkpoint without it is not one
TRAINER_STATE_FILE = "trainer_state.pt"
CHECKPOINTS_KEPT = 2  # the newest is enough to resume; one more costs little and guards a damaged disk
CHECKPOINT_PREFIX = "step-"


# -- random state ----------------------------------------------------------------------------------------
def rng_state() -> dict[str, Any]:
    """The state of every global random generator a training step may draw from, as plain data that
    ``torch.load(weights_only=True)`` reads back (lists and tensors, no NumPy arrays)."""
    import torch

    numpy_state = np.random.get_state(legacy=False)
    state: dict[str, Any] = {
        "python": _listed(random.getstate()),
        "numpy": {
            **numpy_state,
            "state": {**numpy_state["state"], "key": numpy_state["state"]["key"].tolist()},
        },
        "cpu": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: Mapping[str, Any]) -> None:
    """Put back what ``rng_state`` took. A state without the Python or NumPy part (written before they were
    kept) leaves those generators as they are; CUDA states of another device count are skipped (only
    dropout masks on the GPU then differ)."""
    import torch

    if "python" in state:
        random.setstate(_tupled(state["python"]))
    if "numpy" in state:
        numpy_state = dict(state["numpy"])
        numpy_state["state"] = {
            **numpy_state["state"],
            "key": np.asarray(numpy_state["state"]["key"], dtype=np.uint32),
        }
        np.random.set_state(numpy_state)
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        cuda = list(state["cuda"])
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)


def _listed(value: Any) -> Any:
    return [_listed(v) for v in value] if isinstance(value, tuple) else value


def _tupled(value: Any) -> Any:
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value


# -- the learning rate -----------------------------------------------------------------------------------
def linear_warmup(warmup: int, total: int | None = None) -> Callable[[int], float]:
    """The factor of the peak learning rate at optimizer step ``step`` (0-based), for ``LambdaLR``: it rises
    linearly over ``warmup`` steps — the first step already takes 1/warmup, so no step is wasted at zero —
    then stays at 1 (``total`` None) or falls linearly to zero at step ``total`` (RoBERTa's schedule)."""
    require_at_least("warmup", warmup, 0)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if total is None:
            return 1.0
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor


def warmup_steps(steps: int, ratio: float, total: int) -> int:
    """Warm-up steps given as a count or as a share of ``total`` optimizer steps (the count wins when set)."""
    return steps if steps or not ratio else max(1, round(ratio * total))


# -- one optimizer step ----------------------------------------------------------------------------------
class OptimizerStep:
    """Gradient accumulation, loss scaling, clipping and the scheduler around one optimizer.

    ``backward(loss, parts)`` adds the gradient of ``loss / parts`` (``parts`` micro-batches make the step,
    so the step follows the mean loss whatever the accumulation); ``step()`` then unscales (fp16), clips the
    norm of ``parameters``' gradients to ``max_grad_norm`` (None: no clipping), steps the optimizer and the
    scheduler, and clears the gradients. Gradients are also cleared before the first micro-batch of a step,
    so that whatever a loss function left on the parameters before it (an ascent step of adversarial
    training, say) never leaks into the update.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        *,
        parameters: Iterable[torch.Tensor] | None = None,
        max_grad_norm: float | None = None,
        scheduler: Any = None,
        scaler: Any = None,
    ) -> None:
        self.optimizer = optimizer
        # The clipping norm is a sum over parameters in this order; callers keep theirs so results repeat.
        self.parameters = (
            list(parameters)
            if parameters is not None
            else [p for group in optimizer.param_groups for p in group["params"]]
        )
        self.max_grad_norm = max_grad_norm
        self.scheduler = scheduler
        self.scaler = scaler
        self.pending = 0  # micro-batches since the last optimizer step

    def backward(self, loss: torch.Tensor, parts: int = 1) -> torch.Tensor:
        """Add the gradient of ``loss / parts``; returns that share of the loss, detached."""
        if self.pending == 0:
            self.optimizer.zero_grad(set_to_none=True)
        share = loss / parts if parts != 1 else loss
        (self.scaler.scale(share) if self.scaler is not None else share).backward()
        self.pending += 1
        return share.detach()

    def step(self) -> None:
        """Update the parameters with the accumulated gradient, then step the scheduler."""
        import torch

        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        if self.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.parameters, self.max_grad_norm)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.pending = 0

    def state_dict(self) -> dict[str, Any]:
        """Optimizer, scheduler and loss-scaler state (what a checkpoint needs to continue the steps)."""
        return {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "scaler": None if self.scaler is None else self.scaler.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler") is not None:
            self.scaler.load_state_dict(state["scaler"])


def check_finite_loss(
    loss: torch.Tensor, where: str, *, error: type[TextrobustError] = TextrobustError, hint: str = ""
) -> float:
    """The loss as a number; an ``error`` (the caller's kind) naming ``where`` when it is NaN or infinite.

    Training that diverged only gets worse: every later prediction is NaN, and saving or scoring it would
    hand on a model that answers nothing. ``hint`` says what to change (a lower learning rate, clipping).
    """
    value = float(loss.detach().item())
    if not math.isfinite(value):
        raise error(f"training diverged: the loss is {value} at {where}{'; ' + hint if hint else ''}")
    return value


def check_finite_parameters(
    module: torch.nn.Module, where: str, *, error: type[TextrobustError] = TextrobustError, hint: str = ""
) -> None:
    """An ``error`` naming ``where`` when any parameter of ``module`` is NaN or infinite (a last optimizer
    step can break the weights after the last loss was computed)."""
    import torch

    for name, parameter in module.named_parameters():
        if not bool(torch.isfinite(parameter.detach()).all()):
            raise error(
                f"training diverged: parameter '{name}' is not finite at {where}{'; ' + hint if hint else ''}"
            )


def accumulation_parts(batches: int, accumulation: int, index: int) -> int:
    """How many micro-batches make the optimizer step that batch ``index`` (0-based) of ``batches`` belongs
    to: ``accumulation``, except for a shorter last group at the end of an epoch."""
    start = index - index % accumulation
    return min(accumulation, batches - start)


# -- checkpoints -----------------------------------------------------------------------------------------
def checkpoints(root: str | Path) -> list[Path]:
    """Finished checkpoints under ``root``, oldest first (a folder being written is not one yet)."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [
        p
        for p in root.iterdir()
        if p.is_dir()
        and p.name.removeprefix(CHECKPOINT_PREFIX).isdigit()
        and p.name.startswith(CHECKPOINT_PREFIX)
        and (p / STATE_FILE).is_file()
    ]
    return sorted(found, key=lambda p: int(p.name.removeprefix(CHECKPOINT_PREFIX)))


def save_checkpoint(
    root: str | Path,
    step: int,
    state: Mapping[str, Any],
    tensors: Mapping[str, Any] | None = None,
    *,
    write: Callable[[Path], None] | None = None,
    keep: int = CHECKPOINTS_KEPT,
) -> Path:
    """Write checkpoint ``root/step-NNNNNNN`` atomically and keep only the newest ``keep``.

    ``state``: JSON data (counters, options); ``tensors``: what ``torch.save`` writes (model, optimizer and
    random states); ``write(folder)``: anything else, e.g. a model in its own format. Folders left by a run
    killed while writing (dot-named staging folders) are removed first.
    """
    import torch

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for leftover in root.iterdir():
        if leftover.name.startswith("."):
            shutil.rmtree(leftover, ignore_errors=True)
    with atomic_directory(root / f"{CHECKPOINT_PREFIX}{step:07d}") as staging:
        if write is not None:
            write(staging)
        if tensors is not None:
            torch.save(dict(tensors), staging / TRAINER_STATE_FILE)
        (staging / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    found = checkpoints(root)
    for old in found[: max(0, len(found) - keep)]:
        shutil.rmtree(old, ignore_errors=True)
    return root / f"{CHECKPOINT_PREFIX}{step:07d}"


def read_checkpoint(
    checkpoint: str | Path, *, tensors: bool = True, error: type[TextrobustError] = TextrobustError
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON state of a checkpoint and, with ``tensors``, what ``torch.save`` wrote there (on the CPU).

    A damaged checkpoint is an ``error`` (the caller's kind: ``MLMError``, ``VictimError``) naming it.
    """
    import torch

    checkpoint = Path(checkpoint)
    try:
        state = json.loads((checkpoint / STATE_FILE).read_text(encoding="utf-8"))
        saved = (
            torch.load(checkpoint / TRAINER_STATE_FILE, map_location="cpu", weights_only=True)
            if tensors
            else {}
        )
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as exc:
        raise error(
            f"checkpoint {checkpoint} is damaged ({type(exc).__name__}); delete it and resume"
        ) from None
    return state, saved


def remove_checkpoints(root: str | Path) -> None:
    """Remove every checkpoint under ``root`` (a finished run does not need them)."""
    shutil.rmtree(root, ignore_errors=True)


__all__ = [
    "CHECKPOINTS_DIR",
    "OptimizerStep",
    "accumulation_parts",
    "check_finite_loss",
    "check_finite_parameters",
    "checkpoints",
    "linear_warmup",
    "read_checkpoint",
    "remove_checkpoints",
    "restore_rng_state",
    "rng_state",
    "save_checkpoint",
    "warmup_steps",
]
