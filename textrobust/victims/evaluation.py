"""Clean accuracy of a victim on a dataset split, labels matched to the victim's by name."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from textrobust.data import Dataset
from textrobust.errors import DataError, require_at_least
from textrobust.victims.base import check_victim_language, victim_label_ids
from textrobust.victims.protocols import Classifier


@dataclass(frozen=True)
class Evaluation:
    """Accuracy over the first ``n`` examples of a split, and the seconds the predictions took."""

    dataset: str
    split: str
    n: int
    accuracy: float
    seconds: float


def evaluate_victim(
    victim: Classifier, dataset: Dataset, split: str = "test", n: int | None = None
) -> Evaluation:
    """Accuracy of ``victim`` on the first ``n`` examples (all when None) of ``dataset``'s ``split``."""
    require_at_least("n", n, 1)
    examples = dataset.split(split).head(n)
    if not len(examples):  # an accuracy of nothing is nan, not a result
        raise DataError(f"split '{split}' of dataset '{dataset.name}' has no examples to evaluate")
    check_victim_language(getattr(victim, "language", None), dataset.name, dataset.language)
    gold = victim_label_ids(victim.labels, dataset.label_names, examples.labels)
    start = time.perf_counter()
    predictions = victim.predict_proba(examples.texts).argmax(axis=1)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(predictions == np.asarray(gold)))
    return Evaluation(dataset.name, split, len(examples), accuracy, seconds)
