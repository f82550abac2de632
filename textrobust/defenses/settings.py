"""Settings of a defense as data: the run every method shares, and each method's own frozen dataclass.

A method's settings are a frozen dataclass whose fields hold only its parameters, each with a default and a
one-line ``field(metadata={"help": ...})`` (``"choices"`` too, where the value is one of a few names). The
``defend`` command's flags and the benchmark's ``[[defenses]]`` keys are generated from those fields
(``textrobust.fields``; ``spec.settings_from_mapping``), so a field added to a method is a flag and a key
at once. Ranges are checked by the dataclass itself (``__post_init__``), types and names by ``fields``.

This module imports nothing heavy: the command line reads it to build its flags.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any

from textrobust.errors import ParameterError, require_at_least


@dataclass(frozen=True)
class DefenseRun:
    """How to train and how to attack, shared by every method; ``None``: as the base victim was trained
    (epochs, batch size, learning rate, seed, training examples), so a method starts from the base's
    initial weights."""

    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    seed: int | None = None
    max_train_examples: int | None = None
    workers: int = 1  # processes that attack (methods that make adversarial examples)
    mlm: str | None = None  # fill-mask model of MLM recipes
    attack_options: dict[str, Any] = field(default_factory=dict)  # further build_attack options
    # Who attacks: takes the place of ``workers`` when given. A runs.executor.Executor, typed Any so that
    # this module imports nothing of runs/ (the command line reads it).
    executor: Any = field(default=None, compare=False)
    device: str = "auto"
    progress: bool = True

    # The fields a defense's table (a benchmark's [[defenses]]) may set beside the method's own.
    TRAINING: typing.ClassVar[tuple[str, ...]] = (
        "epochs",
        "batch_size",
        "learning_rate",
        "seed",
        "max_train_examples",
    )

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "max_train_examples", "workers"):
            require_at_least(name, getattr(self, name), 1)
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ParameterError("learning_rate", f"must be > 0, got {self.learning_rate}")
