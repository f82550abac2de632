"""Corpora for masked-LM training: reading texts, a seeded held-out split, packing into sequences.

A corpus source is one of
- a plain text file, one document per line (``.txt``, any other suffix, optionally ``.gz``);
- a ``.csv`` / ``.tsv`` / ``.jsonl`` file (optionally ``.gz``): the text column only, labels are not needed;
- an embedded dataset of :mod:`textrobust.data` (``mr``);
- a Hugging Face dataset ``hf:NAME`` or ``hf:NAME:CONFIG`` (the text column of its splits).

``SOURCE@SPLIT`` keeps one split (``mr@train``; for a file, the rows whose ``split`` column says so).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from textrobust.data.loaders import EMBEDDED_DATASETS, load_dataset, open_hf_dataset
from textrobust.data.readers import read_lines, read_records, table_format
from textrobust.errors import DataError, ParameterError

SPLIT_COLUMN = "split"


@dataclass(frozen=True)
class CorpusSource:
    """A parsed corpus source: where the texts come from and which split (None: all)."""

    source: str
    split: str | None = None

    @classmethod
    def parse(cls, spec: str) -> CorpusSource:
        """``SOURCE`` or ``SOURCE@SPLIT``; an existing path is taken whole even when it contains ``@``."""
        spec = spec.strip()
        if not spec:
            raise DataError("empty corpus source; give a text file, a .csv/.tsv/.jsonl file, 'mr' or hf:NAME")
        if Path(spec).exists() or "@" not in spec:
            return cls(spec)
        source, _, split = spec.rpartition("@")
        if not source or not split:
            raise DataError(f"corpus source '{spec}': write SOURCE@SPLIT, e.g. mr@train")
        return cls(source, split)


def _read_table(path: Path, text_column: str, split: str | None) -> list[str]:
    records = read_records(path, {"text_column": text_column}, "corpus file")
    if split is not None:
        if records and SPLIT_COLUMN not in records[0].fields:
            raise DataError(f"{path}: @{split} asks for a split, but the file has no '{SPLIT_COLUMN}' column")
        records = [
            r for r in records if str(r.fields.get(SPLIT_COLUMN) or "").strip().lower() == split.lower()
        ]
    return [str(r.fields.get(text_column) or "") for r in records]


def _read_hf(spec: str, text_column: str, split: str | None) -> list[str]:
    loaded = open_hf_dataset(spec)
    if split is not None and split not in loaded:
        raise DataError(f"hf:{spec} has no split '{split}'; available: {', '.join(loaded)}")
    texts: list[str] = []
    for split_name in [split] if split is not None else list(loaded):
        part = loaded[split_name]
        if text_column not in part.column_names:
            raise ParameterError(
                "text_column",
                f"'{text_column}' is not a column of hf:{spec} split '{split_name}'; "
                f"columns are {part.column_names}",
            )
        texts.extend(str(t or "") for t in part[text_column])
    return texts


def read_source(source: CorpusSource, *, text_column: str = "text") -> list[str]:
    """The non-empty texts of one source, whitespace-trimmed, in file order."""
    spec = source.source
    path = Path(spec)
    if spec in EMBEDDED_DATASETS and not path.exists():
        dataset = load_dataset(spec)
        names = [source.split] if source.split is not None else list(dataset.splits)
        texts = [t for name in names for t in dataset.split(name).texts]
    elif spec.startswith("hf:"):
        texts = _read_hf(spec[3:], text_column, source.split)
    elif path.is_dir():
        raise DataError(f"corpus path is a directory, expected a text or .csv/.tsv/.jsonl file: {path}")
    elif path.exists():
        if table_format(path) is not None:
            texts = _read_table(path, text_column, source.split)
        else:
            if source.split is not None:
                raise DataError(f"{path}: a plain text file has no splits; drop '@{source.split}'")
            texts = read_lines(path, "corpus file")
    else:
        raise DataError(
            f"corpus not found: '{spec}'; give a text file (one document per line), a .csv/.tsv/.jsonl file, "
            f"an embedded dataset ({', '.join(sorted(EMBEDDED_DATASETS))}) or hf:NAME"
        )
    return [t.strip() for t in texts if t and t.strip()]


def read_corpus(specs: Sequence[str], *, text_column: str = "text") -> list[str]:
    """The texts of several sources, concatenated; a DataError when there are none."""
    if not specs:
        raise ParameterError("corpus", "is required: one or more text files, tables, mr or hf:NAME")
    texts: list[str] = []
    for spec in specs:
        part = read_source(CorpusSource.parse(spec), text_column=text_column)
        if not part:
            raise DataError(f"corpus source '{spec}' has no non-empty texts")
        texts.extend(part)
    return texts


def split_heldout(texts: Sequence[str], holdout: float, seed: int) -> tuple[list[str], list[str]]:
    """A seeded split into (training, held-out) texts; ``holdout`` < 1 is a fraction, ≥ 1 a count."""
    n = len(texts)
    if holdout < 0:
        raise ParameterError("holdout", f"must be ≥ 0, got {holdout}")
    count = int(round(holdout * n)) if holdout < 1 else int(holdout)
    if holdout > 0:
        count = max(count, 1)
    if count >= n:
        raise ParameterError("holdout", f"{holdout} leaves no training text out of {n}; hold out fewer")
    order = np.random.default_rng(seed).permutation(n)
    held = set(order[:count].tolist())
    train = [t for i, t in enumerate(texts) if i not in held]
    heldout = [t for i, t in enumerate(texts) if i in held]
    return train, heldout


def fingerprint(texts: Sequence[str]) -> str:
    """A short hash of a list of texts (to tell a changed corpus from the one a checkpoint was trained on)."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class PackedCorpus:
    """Token sequences of one length: ``[CLS] doc [SEP] doc [SEP] … [PAD]…`` with word-start flags.

    ``word_starts[i, j]`` is True when token j of sequence i begins a word (used by whole-word masking).
    """

    input_ids: np.ndarray  # int64 (n, seq_len)
    attention_mask: np.ndarray  # int64 (n, seq_len)
    word_starts: np.ndarray  # bool (n, seq_len)

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])

    @property
    def n_tokens(self) -> int:
        return int(self.attention_mask.sum())


def _boundary_ids(tokenizer: Any) -> tuple[int, int, int]:
    cls_id = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    sep_id = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    pad_id = tokenizer.pad_token_id
    if cls_id is None or sep_id is None or pad_id is None:
        raise DataError(
            "the tokenizer lacks [CLS]/[SEP]/[PAD] (or <s>/</s>/<pad>) tokens; use a BERT-family tokenizer"
        )
    return int(cls_id), int(sep_id), int(pad_id)


def tokenize_words(
    tokenizer: Any, texts: Sequence[str], batch_size: int = 1000
) -> list[tuple[list[int], list[bool]]]:
    """Token ids (no special tokens) and word-start flags of each text."""
    out: list[tuple[list[int], list[bool]]] = []
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start : start + batch_size])
        encoded = tokenizer(batch, add_special_tokens=False, truncation=False, verbose=False)
        for i, ids in enumerate(encoded["input_ids"]):
            if getattr(tokenizer, "is_fast", False):
                word_ids = encoded.word_ids(i)
                starts = [k == 0 or word_ids[k] != word_ids[k - 1] for k in range(len(ids))]
            else:  # slow tokenizers do not map tokens to words: WordPiece continuations start with "##"
                pieces = tokenizer.convert_ids_to_tokens(ids)
                starts = [not piece.startswith("##") for piece in pieces]
            out.append((list(ids), starts))
    return out


def pack(tokenizer: Any, texts: Sequence[str], seq_len: int) -> PackedCorpus:
    """Texts packed greedily into sequences of ``seq_len`` tokens; a longer text is cut in parts.

    Texts are never split across sequences unless they are longer than one, so most masked tokens see their
    whole sentence.
    """
    if seq_len < 8:
        raise ParameterError("seq_len", f"must be ≥ 8, got {seq_len}")
    cls_id, sep_id, pad_id = _boundary_ids(tokenizer)
    room = seq_len - 2
    rows: list[tuple[list[int], list[bool]]] = []
    ids: list[int] = [cls_id]
    starts: list[bool] = [True]
    for doc_ids, doc_starts in tokenize_words(tokenizer, texts):
        for begin in range(0, len(doc_ids), room):
            piece, piece_starts = doc_ids[begin : begin + room], doc_starts[begin : begin + room]
            piece_starts = [True, *piece_starts[1:]]
            if len(ids) + len(piece) + 1 > seq_len:
                rows.append((ids, starts))
                ids, starts = [cls_id], [True]
            ids += [*piece, sep_id]
            starts += [*piece_starts, True]
    if len(ids) > 1:
        rows.append((ids, starts))
    input_ids = np.full((len(rows), seq_len), pad_id, dtype=np.int64)
    attention = np.zeros((len(rows), seq_len), dtype=np.int64)
    word_starts = np.ones((len(rows), seq_len), dtype=bool)
    for r, (row_ids, row_starts) in enumerate(rows):
        input_ids[r, : len(row_ids)] = row_ids
        attention[r, : len(row_ids)] = 1
        word_starts[r, : len(row_ids)] = row_starts
    return PackedCorpus(input_ids, attention, word_starts)


__all__ = [
    "CorpusSource",
    "PackedCorpus",
    "fingerprint",
    "pack",
    "read_corpus",
    "read_source",
    "split_heldout",
    "tokenize_words",
]
