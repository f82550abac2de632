"""Datasets: labelled texts, label names, a language and named splits.

Sources: the embedded MR sample (``"mr"``), local CSV/TSV/JSONL files and Hugging Face datasets
(``"hf:NAME"`` or ``"hf:NAME:CONFIG"``). ``dataset`` holds the records, ``readers`` the one file reader,
``loaders`` the sources.
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
