"""Seeding for reproducible runs."""

import random

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and (when imported) torch so a run with the same seed repeats itself."""
    random.seed(seed)
    np.random.seed(seed)
    import torch

    torch.manual_seed(seed)
