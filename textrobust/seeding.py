"""Seeding for reproducible runs: one seed for a whole run, one derived seed per example."""

from __future__ import annotations

import random
import sys

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (when something imported it) so a run with the same seed repeats itself.

    torch is never imported here: code that uses it has imported it before it draws random numbers.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def example_seed(seed: int, index: int) -> int:
    """The seed for one example: derived from the run seed and the example index only, so results do not
    depend on which worker attacks an example, in which order, or whether the run was resumed."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
