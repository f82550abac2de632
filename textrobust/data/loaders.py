"""Loading datasets: the embedded MR sample, local CSV/TSV/JSONL files, folders of split files,
installed named datasets (the Arabic sets) and Hugging Face datasets.

Files without a split column are split with a seeded, stratified shuffle, so the same seed always gives
the same splits. A folder holds one file per split (``train.tsv``, ``test.tsv``, optionally
``validation.tsv`` / ``dev.tsv``); without a validation file, a seeded stratified tenth of the training
file becomes the validation split, and each split is shuffled with the seed: such files are often sorted
by label, and the first N examples of a split (``--n``) must be a fair sample.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from textrobust.data.dataset import (
    DEFAULT_RATIOS,
    SPLIT_ALIASES,
    SPLIT_NAMES,
    Dataset,
    Split,
    canonical_split_name,
    detect_language,
    stratified_split,
)
from textrobust.data.labels import normalise_labels
from textrobust.data.readers import read_records, table_format
from textrobust.errors import DataError, ParameterError, ResourceMissingError
from textrobust.hub import first_line
from textrobust.paths import cache_dir

EMBEDDED_DIR = Path(__file__).parent
EMBEDDED_DATASETS = {"mr": EMBEDDED_DIR / "mr" / "mr.tsv.gz"}


@dataclass(frozen=True)
class InstalledDataset:
    """A named dataset that is not shipped in the package (license or size) but installed by the user:
    a folder under a data root (``$TEXTROBUST_DATA``, then ``<cache>/data``)."""

    name: str
    path: str  # relative to the data root: a folder of split files, or one file
    language: str
    source: str  # where users get it


INSTALLED_DATASETS = {
    d.name: d
    for d in (
        InstalledDataset(
            "arabic-tweets",
            "arabic-tweets",
            "ar",
            "train.tsv / test.tsv (label pos/neg, text) from GitHub motazsaad/arabic-sentiment-analysis, "
            "arabic_tweets_tsv (Apache-2.0)",
        ),
        InstalledDataset(
            "ajgt",
            "ajgt/ajgt.tsv",
            "ar",
            "ajgt.tsv (text, label) from GitHub komari6/Arabic-twitter-corpus-AJGT (AFL-3.0)",
        ),
    )
}
VALIDATION_SHARE = 0.1  # of a folder's training file, when it has no validation file


def data_roots() -> list[Path]:
    """Where installed datasets are looked for: each folder of ``$TEXTROBUST_DATA`` (os.pathsep-separated),
    then ``<cache>/data``."""
    roots = [Path(p).expanduser() for p in os.environ.get("TEXTROBUST_DATA", "").split(os.pathsep) if p]
    return [*roots, cache_dir() / "data"]


def installed_dataset_path(name: str) -> Path:
    """The file or folder of an installed dataset; a one-line error saying how to install it otherwise."""
    entry = INSTALLED_DATASETS[name]
    for root in data_roots():
        candidate = root / entry.path
        if candidate.exists():
            return candidate
    first = entry.path.split("/")[0]
    raise ResourceMissingError(
        f"dataset '{name}' is not installed: put its folder at {cache_dir() / 'data' / first} "
        f"(or in a folder named by TEXTROBUST_DATA); it holds {entry.source}"
    )


Row = tuple[str, str, str | None]  # text, label, split (None: not given)


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
    """A Dataset from ``(text, label, split_or_None)`` rows, validating texts and labels (spellings of one
    label merged or refused by the rules of ``textrobust.data.labels``).

    ``where`` gives, for each row, a location such as ``file.csv:12`` used in error messages.
    """
    if not rows:
        raise DataError(f"dataset '{name}' has no examples")
    for i, (text, label, _split) in enumerate(rows):
        location = where[i] if where else f"example {i}"
        if not text.strip():
            raise DataError(f"{location}: empty or whitespace-only text")
        if not (_is_unicode(text) and _is_unicode(label)):
            # A JSON escape of half a surrogate pair ("\ud800"): no file, store or tokenizer can hold it.
            raise DataError(f"{location}: text or label is not valid Unicode (a lone surrogate)")
    label_names, spelling, notes = normalise_labels([label for _t, label, _s in rows], labels, where)
    index = {label: i for i, label in enumerate(label_names)}
    for i, (_text, label, _split) in enumerate(rows):
        if spelling[label] not in index:
            location = where[i] if where else f"example {i}"
            raise DataError(f"{location}: label '{label}' is not in the label set {label_names}")
    texts = [text for text, _l, _s in rows]
    label_ids = [index[spelling[label]] for _t, label, _s in rows]
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
        notes=tuple(notes),
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


def _split_files(folder: Path) -> dict[str, Path]:
    """The split files of a folder by canonical split name (``dev.tsv`` → validation)."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or table_format(path) is None:
            continue
        split = canonical_split_name(path.name.partition(".")[0])
        if split in SPLIT_NAMES:
            if split in found:
                raise DataError(
                    f"{folder}: two files for the {split} split ({found[split].name}, {path.name})"
                )
            found[split] = path
    return found


def load_folder_dataset(
    folder: str | Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    language: str | None = None,
    labels: Sequence[str] | None = None,
    seed: int = 0,
    name: str | None = None,
) -> Dataset:
    """A Dataset from a folder with one file per split: ``train`` and ``test`` (csv/tsv/jsonl, optionally
    gzipped) and optionally ``validation`` (or ``dev``/``valid``/``val``); without one, a seeded
    stratified tenth of the training file is held out as validation. Every split is shuffled with
    ``seed`` (files sorted by label are common; the first N examples must be a fair sample)."""
    folder = Path(folder)
    files = _split_files(folder)
    missing = [split for split in ("train", "test") if split not in files]
    if missing:
        raise DataError(
            f"{folder}: no {' or '.join(missing)} file; a dataset folder holds train.tsv and test.tsv "
            "(or .csv/.jsonl), and optionally validation.tsv"
        )
    rows: list[Row] = []
    where: list[str] = []
    rng = np.random.default_rng(seed)
    for split, path in files.items():
        file_rows, file_where = read_rows(
            path, text_column=text_column, label_column=label_column, split_column=None
        )
        for i in rng.permutation(len(file_rows)):
            rows.append((file_rows[i][0], file_rows[i][1], split))
            where.append(file_where[i])
    if "validation" not in files:
        train = [i for i, row in enumerate(rows) if row[2] == "train"]
        names = sorted({rows[i][1] for i in train})
        held = stratified_split(
            [names.index(rows[i][1]) for i in train], seed, (1 - VALIDATION_SHARE, VALIDATION_SHARE, 0.0)
        )["validation"]
        for position in held:
            text, label, _s = rows[train[position]]
            rows[train[position]] = (text, label, "validation")
    return build_dataset(name or folder.name, rows, language=language, labels=labels, seed=seed, where=where)


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


def check_language_code(language: str | None) -> None:
    """A language is an ISO 639 code ("en", "ar", "deu"): anything else would be written into a victim's
    config and compared with datasets and masked LMs as if it were one."""
    if language is not None and not re.fullmatch(r"[a-z]{2,3}", language):
        raise ParameterError(
            "language", f"'{language}' is not a language code; use an ISO 639 code such as en, ar or de"
        )


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
    check_language_code(language)
    source_text = str(source)
    if source_text in EMBEDDED_DATASETS:
        return load_file_dataset(
            EMBEDDED_DATASETS[source_text], language="en", labels=("negative", "positive"), name=source_text
        )
    if source_text in INSTALLED_DATASETS:
        entry = INSTALLED_DATASETS[source_text]
        location = installed_dataset_path(source_text)
        options: dict[str, Any] = {
            "text_column": text_column,
            "label_column": label_column,
            "language": language or entry.language,
            "labels": labels,
            "seed": seed,
            "name": entry.name,
        }
        if location.is_dir():
            return load_folder_dataset(location, **options)
        return load_file_dataset(location, split_column=split_column, ratios=ratios, **options)
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
            f"unknown dataset '{source_text}': use one of {sorted([*EMBEDDED_DATASETS, *INSTALLED_DATASETS])}"
            ", "
            "a .csv/.tsv/.jsonl file, a folder of split files, or hf:NAME"
        )
    if path.is_dir():
        return load_folder_dataset(
            path,
            text_column=text_column,
            label_column=label_column,
            language=language,
            labels=labels,
            seed=seed,
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
