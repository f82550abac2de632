"""Label normalisation: which spellings in a file are one class.

The rules, applied when a dataset is read (files, folders, installed and Hugging Face datasets alike):

- Numeric labels are compared as numbers: ``1``, ``1.0``, ``01`` and ``+1`` are one class, named as its
  first spelling in the file, and the dataset keeps a note saying which spellings were merged (the CLI
  prints it). A file whose labels are all numbers has its classes in numeric order.
- Labels that differ only by case (``Positive`` and ``positive``) are refused with a one-line DataError
  naming both spellings and where each first occurs: whether they are one class or two is the user's call,
  and guessing either way silently changes what the benchmark measures. Write one spelling in the file.
- Anything else is compared as written (after stripping surrounding spaces, which the reader does).

With the label names given (``labels=``), a file's label matches a given name by the same rules (``1.0``
is the given ``1``).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from decimal import Decimal

from textrobust.errors import DataError

# Plain decimal numbers, optionally signed or with an exponent; short enough for Decimal to be instant.
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
MAX_NUMBER_LENGTH = 40


def label_key(label: str) -> Hashable:
    """What two spellings of one label share: the number for numeric labels, the text otherwise."""
    if len(label) <= MAX_NUMBER_LENGTH and NUMBER.fullmatch(label):
        return Decimal(label)  # Decimal("1") == Decimal("1.0") and their hashes agree
    return label


def normalise_labels(
    raw_labels: Sequence[str], given: Sequence[str] | None = None, where: Sequence[str] | None = None
) -> tuple[list[str], dict[str, str], list[str]]:
    """The label names, each raw spelling's name, and notes on merged spellings.

    ``where`` gives each raw label's location (``file.csv:12``) for the case error. With ``given`` names,
    the names are those (in that order) and a raw label that matches none keeps its own spelling (the
    caller then reports it as outside the label set).
    """
    first_seen: dict[str, str] = {}  # spelling -> where it first occurs
    for i, label in enumerate(raw_labels):
        first_seen.setdefault(label, where[i] if where else f"example {i}")
    if given is not None:
        names = [str(label) for label in given]
        by_key = {label_key(name): name for name in names}
        mapping = {spelling: by_key.get(label_key(spelling), spelling) for spelling in first_seen}
    else:
        by_key = {}
        for spelling in first_seen:
            by_key.setdefault(label_key(spelling), spelling)
        _refuse_case_only(list(by_key.values()), first_seen)
        names = list(by_key.values())
        if all(isinstance(key, Decimal) for key in by_key):
            names = [by_key[key] for key in sorted(by_key)]  # numeric order: 2 before 10
        else:
            names = sorted(names)
        mapping = {spelling: by_key[label_key(spelling)] for spelling in first_seen}
    merged: dict[str, list[str]] = {}
    for spelling, name in mapping.items():
        if spelling != name and name in names:
            merged.setdefault(name, []).append(spelling)
    notes = [
        f"labels {', '.join(repr(s) for s in [name, *others])} are the same number: one class, '{name}'"
        for name, others in merged.items()
    ]
    return names, mapping, notes


def _refuse_case_only(names: Sequence[str], first_seen: dict[str, str]) -> None:
    by_fold: dict[str, str] = {}
    for name in names:
        other = by_fold.setdefault(name.casefold(), name)
        if other != name:
            raise DataError(
                f"labels '{other}' ({first_seen[other]}) and '{name}' ({first_seen[name]}) differ only by "
                "case: write one spelling for one class, or two different words for two"
            )


__all__ = ["label_key", "normalise_labels"]
