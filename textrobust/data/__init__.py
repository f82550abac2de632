"""Datasets: labelled texts, label names, a language and named splits.

Sources: the embedded MR sample (``"mr"``), local CSV/TSV/JSONL files, and Hugging Face datasets
(``"hf:NAME"`` or ``"hf:NAME:CONFIG"``). Files without a split column are split with a seeded,
stratified shuffle so the same seed always gives the same splits.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from textrobust.errors import DataError, ResourceMissingError

SPLIT_NAMES = ("train", "validation", "test")
_SPLIT_ALIASES = {"dev": "validation", "valid": "validation", "val": "validation", "eval": "validation"}
EMBEDDED_DIR = Path(__file__).parent
EMBEDDED_DATASETS = {"mr": EMBEDDED_DIR / "mr" / "mr.tsv.gz"}
DEFAULT_RATIOS = (0.8, 0.1, 0.1)


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
    """Labelled texts with label names, a language code and named splits."""

    name: str
    language: str
    label_names: list[str]
    splits: dict[str, Split] = field(default_factory=dict)

    def split(self, name: str) -> Split:
        """The split called ``name``; a DataError naming the available ones otherwise."""
        name = _SPLIT_ALIASES.get(name, name)
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


def _label_names(raw_labels: Sequence[str], given: Sequence[str] | None) -> list[str]:
    if given is not None:
        return [str(label) for label in given]
    unique = sorted(set(raw_labels))
    if all(label.lstrip("-").isdigit() for label in unique):
        unique = sorted(unique, key=int)
    return unique


def build_dataset(
    name: str,
    rows: Sequence[tuple[str, str, str | None]],
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
    has_splits = any(split for _t, _l, split in rows)
    if has_splits:
        members: dict[str, list[int]] = {}
        for i, (_t, _l, split) in enumerate(rows):
            split_name = _SPLIT_ALIASES.get(
                (split or "train").strip().lower(), (split or "train").strip().lower()
            )
            members.setdefault(split_name, []).append(i)
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


def read_text_file(path: Path) -> str:
    """A UTF-8 text file (optionally gzipped); one-line DataErrors for missing, gzip or encoding problems."""
    if not path.exists():
        raise DataError(f"dataset file not found: {path}")
    if path.is_dir():
        raise DataError(f"dataset path is a directory, expected a .csv/.tsv/.jsonl file: {path}")
    raw = path.read_bytes()
    if path.suffix.lower() == ".gz":
        try:
            raw = gzip.decompress(raw)
        except OSError as exc:
            raise DataError(f"{path}: not a valid gzip file ({exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text (byte {exc.start}); re-encode it, e.g. iconv -t UTF-8"
        ) from None


def _file_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in (".csv", ".tsv", ".jsonl", ".json"):
        return suffix.lstrip(".")
    raise DataError(f"{path}: unknown file type '{suffix}'; use .csv, .tsv or .jsonl (optionally .gz)")


def read_rows(
    path: Path, *, text_column: str, label_column: str, split_column: str | None
) -> tuple[list[tuple[str, str, str | None]], list[str]]:
    """``(text, label, split)`` rows of a CSV/TSV/JSONL file and their locations for messages."""
    fmt = _file_format(path)
    content = read_text_file(path)
    records: list[dict] = []
    where: list[str] = []
    if fmt in ("csv", "tsv"):
        reader = csv.DictReader(io.StringIO(content, newline=""), delimiter="\t" if fmt == "tsv" else ",")
        columns = reader.fieldnames or []
        for column in (text_column, label_column):
            if column not in columns:
                raise DataError(
                    f"{path}: no column '{column}'; columns are {columns} "
                    "(choose with --text-column / --label-column)"
                )
        for record in reader:
            records.append(record)
            where.append(f"{path}:{reader.line_num}")
    else:
        for line_number, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{line_number}: invalid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise DataError(f"{path}:{line_number}: expected a JSON object per line")
            for column in (text_column, label_column):
                if column not in record:
                    raise DataError(
                        f"{path}:{line_number}: no field '{column}'; fields are {sorted(record)} "
                        "(choose with --text-column / --label-column)"
                    )
            records.append(record)
            where.append(f"{path}:{line_number}")
    rows: list[tuple[str, str, str | None]] = []
    for record, location in zip(records, where, strict=True):
        text = record.get(text_column)
        label = record.get(label_column)
        if text is None or label is None or (isinstance(label, str) and not label.strip()):
            raise DataError(f"{location}: missing text or label")
        split = record.get(split_column) if split_column else None
        rows.append((str(text), str(label).strip(), str(split) if split else None))
    return rows, where


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


def open_hf_dataset(spec: str):  # noqa: ANN201 - a datasets.DatasetDict; the package is optional
    """``datasets.load_dataset`` for ``NAME`` or ``NAME:CONFIG``, with one-line errors for the CLI."""
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
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise DataError(
            f"could not load Hugging Face dataset '{spec}' (offline, or no such dataset?): {first_line}"
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
    rows: list[tuple[str, str, str | None]] = []
    for split_name, split in loaded.items():
        columns = split.column_names
        for column in (text_column, label_column):
            if column not in columns:
                raise DataError(
                    f"hf:{spec} split '{split_name}' has no column '{column}'; columns are {columns}"
                )
        feature = split.features[label_column]
        if label_names is None and hasattr(feature, "names"):
            label_names = list(feature.names)
        for text, label in zip(split[text_column], split[label_column], strict=True):
            if label_names is not None and isinstance(label, int) and 0 <= label < len(label_names):
                label = label_names[label]
            rows.append((str(text), str(label), split_name))
    if "validation" not in {_SPLIT_ALIASES.get(s, s) for _t, _l, s in rows} or "test" not in {
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


__all__ = [
    "Dataset",
    "Split",
    "build_dataset",
    "detect_language",
    "load_dataset",
    "load_file_dataset",
    "load_hf_dataset",
    "stratified_split",
]
