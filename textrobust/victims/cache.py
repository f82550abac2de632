"""A wrapper that gives any victim an LRU cache keyed by text and a query counter (for attacks)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from textrobust.victims.base import Victim


class CachedVictim:
    """Wraps a victim: repeated texts are answered from an LRU cache, and queries are counted.

    ``queries`` counts texts the wrapped model actually scored (cache misses), the number attack
    papers report; ``requests`` counts every text asked for, hits included.
    """

    def __init__(self, victim: Victim, cache_size: int = 100_000) -> None:
        self.victim = victim
        self.labels = victim.labels
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.queries = 0
        self.requests = 0

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        self.requests += len(texts)
        missing = list(dict.fromkeys(text for text in texts if text not in self._cache))
        if missing:
            scored = self.victim.predict_proba(missing)
            self.queries += len(missing)
            for text, row in zip(missing, scored, strict=True):
                self._cache[text] = row
        rows = []
        for text in texts:
            row = self._cache[text]
            self._cache.move_to_end(text)
            rows.append(row)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        if not rows:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return np.stack(rows)

    def reset_counts(self) -> None:
        self.queries = 0
        self.requests = 0

    def clear_cache(self) -> None:
        self._cache.clear()

    def save(self, directory: str | Path) -> None:
        self.victim.save(directory)

    def __getattr__(self, name: str):  # white-box access (gradients, tokenizer) passes through
        if name == "victim":
            raise AttributeError(name)
        return getattr(self.victim, name)
