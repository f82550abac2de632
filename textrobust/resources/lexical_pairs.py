"""Synonym and antonym pairs for counter-fitting, from a pluggable source (WordNet, pair files, ...)."""

from __future__ import annotations

import gzip
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from textrobust.errors import ResourceMissingError, TextrobustError
from textrobust.resources.wordnet import WordNet, load_wordnet


@dataclass(frozen=True)
class LexicalPairs:
    """Unordered word pairs (each stored once, ``a < b``) that should attract or repel."""

    synonyms: list[tuple[str, str]]
    antonyms: list[tuple[str, str]]
    source: str

    @classmethod
    def from_pairs(
        cls, synonyms: Iterable[tuple[str, str]], antonyms: Iterable[tuple[str, str]], source: str
    ) -> LexicalPairs:
        """Normalises pair order, drops self-pairs and duplicates, and drops synonym pairs that are also
        antonym pairs (as the reference implementation does)."""
        antonym_set = {_ordered(a, b) for a, b in antonyms if a != b}
        synonym_set = {_ordered(a, b) for a, b in synonyms if a != b} - antonym_set
        return cls(sorted(synonym_set), sorted(antonym_set), source)

    def restrict(self, vocabulary: Collection[str]) -> LexicalPairs:
        """The pairs whose two words are both in ``vocabulary``."""
        vocab = vocabulary if isinstance(vocabulary, set | frozenset | dict) else set(vocabulary)
        return LexicalPairs(
            [(a, b) for a, b in self.synonyms if a in vocab and b in vocab],
            [(a, b) for a, b in self.antonyms if a in vocab and b in vocab],
            self.source,
        )


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


class PairSource(Protocol):
    """Where synonym/antonym constraints come from; ``pairs`` keeps only pairs inside ``vocabulary``."""

    name: str

    def pairs(self, vocabulary: Collection[str]) -> LexicalPairs: ...


class WordNetPairs:
    """English WordNet: synonyms are single-word lemmas sharing a synset; antonyms are lemma antonyms and,
    with ``indirect_antonyms``, satellite adjectives against their head's antonyms (``quick``/``slow``).

    The reference counter-fitting run used WordNet antonyms plus PPDB; PPDB is not available offline, and
    the indirect antonyms make up for part of its "Exclusion" pairs (about 7k direct vs 48k lemma pairs).
    """

    def __init__(self, wordnet: WordNet | None = None, indirect_antonyms: bool = True) -> None:
        self._wordnet = wordnet
        self.indirect_antonyms = indirect_antonyms
        self.name = "wordnet" + ("+indirect-antonyms" if indirect_antonyms else "")

    @property
    def wordnet(self) -> WordNet:
        if self._wordnet is None:
            self._wordnet = load_wordnet()
        return self._wordnet

    def pairs(self, vocabulary: Collection[str]) -> LexicalPairs:
        vocab = set(vocabulary)
        synonyms: set[tuple[str, str]] = set()
        for _, lemmas in self.wordnet.synonym_groups():
            members = sorted({lemma.lower() for lemma in lemmas if lemma.lower() in vocab})
            for i, first in enumerate(members):
                for second in members[i + 1 :]:
                    synonyms.add((first, second))
        antonyms = {
            (a, b)
            for a, b in self.wordnet.antonym_lemma_pairs(self.indirect_antonyms)
            if a in vocab and b in vocab
        }
        return LexicalPairs.from_pairs(synonyms, antonyms, f"{self.name} ({self.wordnet.source})")


class FilePairs:
    """Pairs from text files, one pair per line (``word1 word2``, whitespace- or tab-separated), as in the
    reference implementation's ``linguistic_constraints``; any language, optionally gzipped."""

    def __init__(self, synonyms: str | Path | None, antonyms: str | Path | None) -> None:
        if synonyms is None and antonyms is None:
            raise TextrobustError("FilePairs needs a synonym file, an antonym file, or both")
        self.synonyms_path = Path(synonyms) if synonyms is not None else None
        self.antonyms_path = Path(antonyms) if antonyms is not None else None
        self.name = "files"

    def pairs(self, vocabulary: Collection[str]) -> LexicalPairs:
        vocab = set(vocabulary)
        synonyms = _read_pairs(self.synonyms_path) if self.synonyms_path else []
        antonyms = _read_pairs(self.antonyms_path) if self.antonyms_path else []
        names = ", ".join(str(path) for path in (self.synonyms_path, self.antonyms_path) if path)
        return LexicalPairs.from_pairs(synonyms, antonyms, f"pair files ({names})").restrict(vocab)


def _read_pairs(path: Path) -> list[tuple[str, str]]:
    if not path.is_file():
        raise ResourceMissingError(f"pair file not found: {path} (one 'word1 word2' pair per line)")
    opener = gzip.open if path.suffix == ".gz" else open
    pairs: list[tuple[str, str]] = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if len(parts) != 2:
                raise TextrobustError(f"{path}:{line_number}: expected two words, got {len(parts)}")
            pairs.append((parts[0], parts[1]))
    return pairs
