"""Datasets: labelled texts, label names, a language and named splits.

Sources: the embedded MR sample (``"mr"``), local CSV/TSV/JSONL files and Hugging Face datasets
(``"hf:NAME"`` or ``"hf:NAME:CONFIG"``). ``dataset`` holds the records, ``readers`` the one file reader,
``loaders`` the sources, ``labels`` the label rules, ``overlap`` the train/test leakage check.

What is read is checked so that a result never silently means something else than the user meant:

- labels: numeric labels are compared as numbers (``1``, ``1.0`` and ``01`` are one class, named as first
  seen, with a note in ``Dataset.notes``); labels that differ only by case (``Positive``/``positive``) are
  refused with a one-line DataError naming both spellings and where they occur;
- a header (CSV/TSV) or a JSON line that names a column twice is a DataError naming the column and file;
- ``overlap.check_overlap``: a split sharing texts with the train split is refused with the count, unless
  the caller allows it (``--allow-overlap``); then the count is a note.
"""

from textrobust.data.dataset import SPLIT_NAMES, Dataset, Split, detect_language, stratified_split
from textrobust.data.loaders import (
    EMBEDDED_DATASETS,
    build_dataset,
    load_dataset,
    load_file_dataset,
    load_hf_dataset,
    open_hf_dataset,
)

__all__ = [
    "EMBEDDED_DATASETS",
    "SPLIT_NAMES",
    "Dataset",
    "Split",
    "build_dataset",
    "detect_language",
    "load_dataset",
    "load_file_dataset",
    "load_hf_dataset",
    "open_hf_dataset",
    "stratified_split",
]
