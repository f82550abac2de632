"""Seeding for reproducible runs: one seed for a whole run, and local generators derived from it.

Training seeds the global generators once (``seed_everything``): model initialisation, dropout and the
data order draw from them. Attacks never touch them: what an attack draws comes from a generator of its
own, derived from the run seed and the example (``example_generator``), so an example's result does not
depend on what ran before it in the process, and attacks run between training steps (co-tuning) leave the
training's draws as they were.
"""

from __future__ import annotations

import random
import sys
import zlib

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


def example_generator(seed: int, text: str) -> np.random.Generator:
    """A NumPy generator of its own for the draws made about one text (an attack's random order, a
    smoothed victim's perturbed copies): from the run seed and the text only, so the same text gets the
    same draws in any batch, worker or order, and no global generator moves."""
    return np.random.default_rng([seed, zlib.crc32(text.encode("utf-8"))])
