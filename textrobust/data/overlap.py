"""Train/test leakage: texts of an evaluated split that are also training texts.

A test split made of training texts measures what the model memorised: its accuracy is far above the
validation accuracy and means nothing about unseen text. Texts are compared after collapsing whitespace
(a trailing space or a doubled one does not make a text new); case and punctuation count.
"""

from __future__ import annotations

from textrobust.data.dataset import SPLIT_ALIASES, Dataset
from textrobust.errors import DataError


def _normal(text: str) -> str:
    return " ".join(text.split())


def overlap_count(dataset: Dataset, split: str, against: str = "train") -> tuple[int, int]:
    """How many examples of ``split`` have a text that is also in ``against``, and how many it has."""
    examples = dataset.split(split)
    if against not in dataset.splits:
        return 0, len(examples)
    seen = {_normal(text) for text in dataset.splits[against].texts}
    return sum(_normal(text) in seen for text in examples.texts), len(examples)


def check_overlap(dataset: Dataset, split: str, *, allow: bool, option: str) -> str | None:
    """Refuse evaluating ``split`` when it shares texts with the train split: a one-line DataError with the
    count that names ``option`` (how the caller lets it go on). With ``allow``, the same count as a note to
    show instead; None when there is nothing to say (no overlap, no train split, or ``split`` is train)."""
    split = SPLIT_ALIASES.get(split, split)
    if split == "train" or "train" not in dataset.splits:
        return None
    shared, total = overlap_count(dataset, split)
    if not shared:
        return None
    what = f"{shared} of {total} {split} texts of dataset '{dataset.name}' are also in its train split"
    if not allow:
        raise DataError(f"{what}: its accuracy would measure memory; remove them or pass {option}")
    return f"{what} (allowed by {option})"


__all__ = ["check_overlap", "overlap_count"]
