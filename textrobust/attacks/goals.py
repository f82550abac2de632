"""Goals: what counts as a successful attack and how close a text is to it."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class Goal(Protocol):
    """Scores texts from what the attacker sees of the victim's output."""

    name: str
    hard_label: bool

    def observe(self, probabilities: np.ndarray) -> np.ndarray:
        """What the attacker is allowed to see of a batch of probability rows."""
        ...

    def score(self, observed: np.ndarray, label: int) -> np.ndarray:
        """Higher is closer to success; one value per row."""
        ...

    def succeeded(self, observed: np.ndarray, label: int) -> np.ndarray:
        """One boolean per row."""
        ...

    def describe(self) -> dict[str, Any]: ...


class UntargetedLabelFlip:
    """Success when the victim predicts any label but the true one; the score is 1 − p(true label).

    ``hard_label=True``: the attacker sees only the predicted class (a one-hot row), so scores
    are 0 or 1; a greedy search then keeps a substitution only when it flips the label.
    """

    name = "untargeted"

    def __init__(self, hard_label: bool = False) -> None:
        self.hard_label = hard_label

    def observe(self, probabilities: np.ndarray) -> np.ndarray:
        probabilities = np.asarray(probabilities, dtype=np.float64)
        if not self.hard_label or len(probabilities) == 0:
            return probabilities
        one_hot = np.zeros_like(probabilities)
        one_hot[np.arange(len(probabilities)), probabilities.argmax(axis=1)] = 1.0
        return one_hot

    def score(self, observed: np.ndarray, label: int) -> np.ndarray:
        return 1.0 - observed[:, label]

    def succeeded(self, observed: np.ndarray, label: int) -> np.ndarray:
        return observed.argmax(axis=1) != label

    def describe(self) -> dict[str, Any]:
        return {"goal": self.name, "hard_label": self.hard_label}
