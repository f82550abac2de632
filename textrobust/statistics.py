"""Intervals on measured numbers: the percentile bootstrap of a mean, seeded (same data, same interval)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from textrobust.errors import ParameterError

BOOTSTRAP_SAMPLES = 2000


@dataclass(frozen=True)
class Interval:
    """A mean over ``n`` values with its bootstrap 95 % interval (all None for no values)."""

    mean: float | None
    low: float | None
    high: float | None
    n: int

    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    def percent(self, *, signed: bool = False, unit: str = "") -> str:
        """``71.0 [64.5, 77.0]`` (×100, one decimal; ``+`` signs with ``signed``; ``unit`` after the mean);
        ``n/a`` for no values."""
        if self.mean is None or self.low is None or self.high is None:
            return "n/a"
        f = "+.1f" if signed else ".1f"
        return f"{100 * self.mean:{f}}{unit} [{100 * self.low:{f}}, {100 * self.high:{f}}]"

    def as_dict(self) -> dict[str, float | int | None]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n}


def bootstrap_mean(values: Sequence[float], seed: int = 0, samples: int = BOOTSTRAP_SAMPLES) -> Interval:
    """The mean of ``values`` and the 2.5/97.5 percentiles of the means of ``samples`` resamples."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return Interval(None, None, None, 0)
    draws = np.random.default_rng(seed).integers(0, data.size, size=(samples, data.size))
    means = data[draws].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Interval(float(data.mean()), float(low), float(high), int(data.size))


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' κ (Fleiss 1971) for ``counts[item][category]`` = raters who put the item in the category;
    every item must have the same number of raters (≥ 2). None when agreement by chance is total."""
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] == 0:
        raise ParameterError("counts", "must be a non-empty items × categories table")
    raters = table.sum(axis=1)
    if raters.min() != raters.max() or raters[0] < 2:
        raise ParameterError("counts", "must give every item the same number of raters, at least two")
    n = raters[0]
    agreement = ((table * (table - 1)).sum(axis=1) / (n * (n - 1))).mean()  # P̄
    shares = table.sum(axis=0) / table.sum()
    chance = float((shares**2).sum())  # P̄e
    if chance >= 1.0:
        return None
    return float((agreement - chance) / (1.0 - chance))
