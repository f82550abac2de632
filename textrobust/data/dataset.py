"""What a dataset is: labelled texts, label names, a language code and named splits."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from textrobust.errors import DataError

SPLIT_NAMES = ("train", "validation", "test")
SPLIT_ALIASES = {"dev": "validation", "valid": "validation", "val": "validation", "eval": "validation"}
DEFAULT_RATIOS = (0.8, 0.1, 0.1)


def canonical_split_name(name: str) -> str:
    """``dev``/``valid``/``val``/``eval`` are ``validation``; other names are kept (lower-cased)."""
    name = name.strip().lower()
    return SPLIT_ALIASES.get(name, name)


@dataclass(frozen=True)
class Split:
    """One split: texts and their integer labels (indices into the dataset's label names)."""

    texts: list[str]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.texts)

    def head(self, n: int | None) -> Split:
        """The first ``n`` examples (all when ``n`` is None)."""
        if n is None:
            return self
        return Split(self.texts[:n], self.labels[:n])


@dataclass(frozen=True)
class Dataset:
    """Labelled texts with label names, a language code and named splits; ``notes``: what reading it
    decided that the user should hear of (label spellings merged), one line each."""

    name: str
    language: str
    label_names: list[str]
    splits: dict[str, Split] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def split(self, name: str) -> Split:
        """The split called ``name``; a DataError naming the available ones otherwise."""
        name = SPLIT_ALIASES.get(name, name)
        if name not in self.splits:
            raise DataError(
                f"dataset '{self.name}' has no split '{name}'; available: {', '.join(self.splits)}"
            )
        return self.splits[name]

    def label_index(self, label: str) -> int:
        """The index of a label name; a DataError when it is not in the label set."""
        try:
            return self.label_names.index(label)
        except ValueError:
            raise DataError(
                f"label '{label}' is not in the label set {self.label_names} of dataset '{self.name}'"
            ) from None


def detect_language(texts: Iterable[str], sample: int = 200) -> str:
    """``"ar"`` when most letters of a sample are Arabic script, ``"en"`` otherwise."""
    arabic = letters = 0
    for text in list(texts)[:sample]:
        for char in text:
            if char.isalpha():
                letters += 1
                if "ARABIC" in unicodedata.name(char, ""):
                    arabic += 1
    return "ar" if letters and arabic / letters > 0.5 else "en"


def stratified_split(
    labels: Sequence[int], seed: int, ratios: tuple[float, float, float] = DEFAULT_RATIOS
) -> dict[str, list[int]]:
    """Indices of train/validation/test, stratified by label, from a seeded shuffle."""
    if len(ratios) != 3 or any(r < 0 for r in ratios) or abs(sum(ratios) - 1.0) > 1e-6:
        raise DataError(f"split ratios must be three non-negative numbers summing to 1, got {ratios}")
    rng = np.random.default_rng(seed)
    parts: dict[str, list[int]] = {name: [] for name in SPLIT_NAMES}
    label_array = np.asarray(labels)
    for label in sorted(set(labels)):
        members = np.flatnonzero(label_array == label)
        rng.shuffle(members)
        n_train = int(round(ratios[0] * len(members)))
        n_val = int(round(ratios[1] * len(members)))
        parts["train"].extend(members[:n_train].tolist())
        parts["validation"].extend(members[n_train : n_train + n_val].tolist())
        parts["test"].extend(members[n_train + n_val :].tolist())
    for name in SPLIT_NAMES:  # interleave labels so that heads of splits are mixed
        order = rng.permutation(len(parts[name]))
        parts[name] = [parts[name][i] for i in order]
    return parts
