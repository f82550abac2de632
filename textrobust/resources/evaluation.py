"""How well a neighbour table keeps antonyms out of a word's neighbourhood."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textrobust.resources.neighbours import NeighbourTable


@dataclass(frozen=True)
class AntonymShare:
    """Of ``pairs`` antonym pairs inside the vocabulary, ``hits`` have one word among the other's top-``k``
    neighbours with cosine >= ``min_cos`` (the candidate set of a TextFooler-style attack)."""

    pairs: int
    hits: int
    k: int
    min_cos: float

    @property
    def share(self) -> float:
        return self.hits / self.pairs if self.pairs else 0.0


def antonym_share(
    table: NeighbourTable, antonyms: Iterable[tuple[str, str]], k: int = 50, min_cos: float = 0.5
) -> AntonymShare:
    """Counts antonym pairs that an attack drawing ``k`` neighbours above ``min_cos`` could swap."""
    seen: set[tuple[str, str]] = set()
    hits = 0
    for a, b in antonyms:
        pair = (a, b) if a < b else (b, a)
        if a == b or pair in seen or a not in table or b not in table:
            continue
        seen.add(pair)
        near_a = {word for word, _ in table.neighbours(a, k, min_cos)}
        near_b = {word for word, _ in table.neighbours(b, k, min_cos)}
        if b in near_a or a in near_b:
            hits += 1
    return AntonymShare(len(seen), hits, k, min_cos)
