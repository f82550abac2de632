"""Loading datasets: the embedded MR sample, local CSV/TSV/JSONL files and Hugging Face datasets.

Files without a split column are split with a seeded, stratified shuffle, so the same seed always gives
the same splits.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textrobust.data.dataset import (
    DEFAULT_RATIOS,
    SPLIT_ALIASES,
    Dataset,
    Split,
    canonical_split_name,
    detect_language,
    stratified_split,
)
from textrobust.data.readers import read_records
from textrobust.errors import DataError, ResourceMissingError
from textrobust.hub import first_line

EMBEDDED_DIR = Path(__file__).parent
EMBEDDED_DATASETS = {"mr": EMBEDDED_DIR / "mr" / "mr.tsv.gz"}

Row = tuple[str, str, str | None]  # text, label, split (None: not given)


def _label_names(raw_labels: Sequence[str], given: Sequence[str] | None) -> list[str]:
    if given is not None:
        return [str(label) for label in given]
    unique = sorted(set(raw_labels))
    if all(label.lstrip("-").isdigit() for label in unique):
        unique = sorted(unique, key=int)
    return unique


def build_dataset(
    name: str,
    rows: Sequence[Row],
    *,
    language: str | None = None,
    labels: Sequence[str] | None = None,
    seed: int = 0,
    ratios: tuple[float, float, float] = DEFAULT_RATIOS,
    where: Sequence[str] | None = None,
) -> Dataset:
    """A Dataset from ``(text, label, split_or_None)`` rows, validating texts and labels.

    ``where`` gives, for each row, a location such as ``file.csv:12`` used in error messages.
    """
    if not rows:
        raise DataError(f"dataset '{name}' has no examples")
    for i, (text, _label, _split) in enumerate(rows):
        if not text.strip():
            location = where[i] if where else f"example {i}"
            raise DataError(f"{location}: empty or whitespace-only text")
    label_names = _label_names([label for _t, label, _s in rows], labels)
    index = {label: i for i, label in enumerate(label_names)}
    for i, (_text, label, _split) in enumerate(rows):
        if label not in index:
            location = where[i] if where else f"example {i}"
            raise DataError(f"{location}: label '{label}' is not in the label set {label_names}")
    texts = [text for text, _l, _s in rows]
    label_ids = [index[label] for _t, label, _s in rows]
    if any(split for _t, _l, split in rows):
        members: dict[str, list[int]] = {}
        for i, (_t, _l, split) in enumerate(rows):
            members.setdefault(canonical_split_name(split or "train"), []).append(i)
    else:
        members = stratified_split(label_ids, seed, ratios)
    splits = {
        split_name: Split([texts[i] for i in idx], [label_ids[i] for i in idx])
        for split_name, idx in members.items()
    }
    return Dataset(
        name=name,
        language=language or detect_language(texts),
        label_names=label_names,
        splits=splits,
    )


def read_rows(
    path: Path, *, text_column: str, label_column: str, split_column: str | None
) -> tuple[list[Row], list[str]]:
    """``(text, label, split)`` rows of a CSV/TSV/JSONL file and their locations for messages."""
    records = read_records(path, {"text_column": text_column, "label_column": label_column}, "dataset file")
    rows: list[Row] = []
    for record in records:
        text = record.fields.get(text_column)
        label = record.fields.get(label_column)
        if text is None or label is None or (isinstance(label, str) and not label.strip()):
            raise DataError(f"{record.location}: missing text or label")
        split = record.fields.get(split_column) if split_column else None
        rows.append((str(text), str(label).strip(), str(split) if split else None))
    return rows, [record.location for record in records]


def load_file_dataset(
    path: str | Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    split_column: str | None = "split",
    language: str | None = None,
    labels: Sequence[str] | None = None,
    seed: int = 0,
    ratios: tuple[float, float, float] = DEFAULT_RATIOS,
    name: str | None = None,
) -> Dataset:
    """A Dataset from a local CSV/TSV/JSONL file (a ``split`` column, when present, gives the splits)."""
    path = Path(path)
    rows, where = read_rows(
        path, text_column=text_column, label_column=label_column, split_column=split_column
    )
    return build_dataset(
        name or path.name.split(".")[0],
        rows,
        language=language,
        labels=labels,
        seed=seed,
        ratios=ratios,
        where=where,
    )


def open_hf_dataset(spec: str) -> Any:
    """``datasets.load_dataset`` for ``NAME`` or ``NAME:CONFIG`` (a ``DatasetDict``), with one-line errors."""
    try:
        import datasets as hf_datasets
    except ImportError:
        raise ResourceMissingError(
            "Hugging Face datasets need the 'datasets' package: pip install 'textrobust[hf]'"
        ) from None
    name, _, config = spec.partition(":")
    try:
        return hf_datasets.load_dataset(name, config or None)
    except Exception as exc:  # noqa: BLE001 - the datasets library raises many kinds; all mean "not loadable"
        raise DataError(
            f"could not load Hugging Face dataset '{spec}' (offline, or no such dataset?): {first_line(exc)}"
        ) from None


def load_hf_dataset(
    spec: str,
    *,
    text_column: str = "text",
    label_column: str = "label",
    language: str | None = None,
    seed: int = 0,
    ratios: tuple[float, float, float] = DEFAULT_RATIOS,
) -> Dataset:
    """A Hugging Face dataset, ``NAME`` or ``NAME:CONFIG``, through the ``datasets`` package."""
    loaded = open_hf_dataset(spec)
    label_names: list[str] | None = None
    rows: list[Row] = []
    for split_name, split in loaded.items():
        columns = split.column_names
        for parameter, column in (("text_column", text_column), ("label_column", label_column)):
            if column not in columns:
                raise DataError(
                    f"hf:{spec} split '{split_name}' has no column '{column}' ({parameter}); "
                    f"columns are {columns}"
                )
        feature = split.features[label_column]
        if label_names is None and hasattr(feature, "names"):
            label_names = list(feature.names)
        for text, label in zip(split[text_column], split[label_column], strict=True):
            if label_names is not None and isinstance(label, int) and 0 <= label < len(label_names):
                label = label_names[label]
            rows.append((str(text), str(label), split_name))
    if "validation" not in {SPLIT_ALIASES.get(s, s) for _t, _l, s in rows if s} or "test" not in {
        s for _t, _l, s in rows
    }:
        # Hub datasets often lack a validation (or labelled test) split: re-split seeded instead.
        rows = [(t, label, None) for t, label, _s in rows if label != "-1"]
    return build_dataset(f"hf:{spec}", rows, language=language, labels=label_names, seed=seed, ratios=ratios)


def load_dataset(
    source: str | Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    split_column: str | None = "split",
    language: str | None = None,
    labels: Sequence[str] | None = None,
    seed: int = 0,
    ratios: tuple[float, float, float] = DEFAULT_RATIOS,
) -> Dataset:
    """Load a dataset by embedded name (``mr``), file path, or ``hf:NAME[:CONFIG]``."""
    source_text = str(source)
    if source_text in EMBEDDED_DATASETS:
        return load_file_dataset(
            EMBEDDED_DATASETS[source_text], language="en", labels=("negative", "positive"), name=source_text
        )
    if source_text.startswith("hf:"):
        return load_hf_dataset(
            source_text[3:],
            text_column=text_column,
            label_column=label_column,
            language=language,
            seed=seed,
            ratios=ratios,
        )
    path = Path(source_text)
    if not path.exists() and not path.suffix:
        raise DataError(
            f"unknown dataset '{source_text}': use one of {sorted(EMBEDDED_DATASETS)}, "
            "a .csv/.tsv/.jsonl file, or hf:NAME"
        )
    return load_file_dataset(
        path,
        text_column=text_column,
        label_column=label_column,
        split_column=split_column,
        language=language,
        labels=labels,
        seed=seed,
        ratios=ratios,
    )
