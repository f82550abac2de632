"""Candidate generators: where replacement words come from (embedding neighbours, a masked LM, WordNet).

What counts as a candidate among the proposals (their case, the word itself, phrases) is the generator's
``rule`` (``textrobust.attacks.policies``): textrobust's ``WHOLE_WORDS`` by default, TextAttack's in its
profile.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from textrobust.attacks.lazy import Lazy, resolve
from textrobust.attacks.mlm import MaskedLanguageModel
from textrobust.attacks.policies import WHOLE_WORDS, CandidateRule, above_floor
from textrobust.attacks.requests import Steps, at_once, steps_of
from textrobust.data.text import SegmentedText
from textrobust.errors import require_at_least, require_one_of

# Universal POS tag -> WordNet POS.
WORDNET_POS = {"NOUN": "n", "VERB": "v", "ADJ": "a", "ADV": "r"}


class CandidateGenerator(Protocol):
    """Proposes replacement words for word positions of a text, best first, the original word excluded.

    A generator that calls a model also offers ``candidates_steps`` (its calls yielded, see
    ``textrobust.attacks.requests``), which the candidate cache then prefers.
    """

    name: str

    def candidates(self, text: SegmentedText, indices: Sequence[int]) -> list[list[str]]:
        """One list of candidate words per index (computed together: one batch where that helps)."""
        ...

    def prepare(self) -> None:
        """Load what the generator needs (so missing resources fail before an attack starts)."""
        ...

    def describe(self) -> dict[str, Any]: ...


def _rule(rule: CandidateRule) -> dict[str, Any]:
    """The rule in ``describe``, when it is not the default."""
    return {} if rule == WHOLE_WORDS else {"rule": rule.name}


class _WordCache:
    """A small LRU cache for per-word proposals."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._items: OrderedDict[Any, list[str]] = OrderedDict()

    def get(self, key: Any) -> list[str] | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: Any, value: list[str]) -> None:
        self._items[key] = value
        if len(self._items) > self.size:
            self._items.popitem(last=False)


class EmbeddingNeighbours:
    """The ``k`` nearest words in a (counter-fitted) embedding space with cosine ≥ ``min_cos``.

    ``table`` is a ``textrobust.resources.neighbours.NeighbourTable`` (or anything with
    ``neighbours(word, k, min_cos) -> [(word, cosine)]``).
    """

    name = "embedding-neighbours"

    def __init__(
        self, table: Any | Lazy[Any], k: int = 50, min_cos: float = 0.0, *, rule: CandidateRule = WHOLE_WORDS
    ) -> None:
        require_at_least("k", k, 1)
        self._table = table
        self.k = k
        self.min_cos = min_cos
        self.rule = rule
        self._cache = _WordCache()

    @property
    def table(self) -> Any:
        return resolve(self._table)

    def prepare(self) -> None:
        self.table  # noqa: B018 - loads it

    def candidates(self, text: SegmentedText, indices: Sequence[int]) -> list[list[str]]:
        out = []
        for index in indices:
            original = text.words[index]
            key = original
            found = self._cache.get(key)
            if found is None:
                neighbours = self.table.neighbours(original.lower(), k=self.k, min_cos=self.min_cos)
                found = self.rule.clean(original, [word for word, _cos in neighbours], self.k)
                self._cache.put(key, found)
            out.append(found)
        return out

    def describe(self) -> dict[str, Any]:
        return {"generator": self.name, "k": self.k, "min_cos": self.min_cos} | _rule(self.rule)


class MaskedLMCandidates:
    """Whole words a masked language model proposes for the position.

    ``method="mask"``: the word is replaced by the mask token and the top-``k`` whole-word tokens
    are kept (BAE, MLM-synonym). ``method="in-context"``: BERT-Attack's variant — the unmasked text,
    the word's own sub-word positions predicted, multi-piece words built from the top pieces and
    ranked by their summed log-probability. Sub-word pieces ("##ing") never stand as a word, and
    the original word is dropped. All positions of one call go through the model in one batch.
    ``rule``: which proposals count (TextAttack's: word pieces too, at the mask only).
    """

    name = "masked-lm"

    def __init__(
        self,
        mlm: MaskedLanguageModel | Lazy[MaskedLanguageModel],
        k: int = 50,
        method: Literal["mask", "in-context"] = "mask",
        min_log_prob: float | None = None,
        max_pieces: int = 3,
        *,
        rule: CandidateRule = WHOLE_WORDS,
    ) -> None:
        require_one_of("method", method, ("mask", "in-context"))
        require_at_least("k", k, 1)
        require_at_least("max_pieces", max_pieces, 1)
        self.rule = rule
        self._mlm = mlm
        self.k = k
        self.method = method
        self.min_log_prob = min_log_prob
        self.max_pieces = max_pieces

    @property
    def mlm(self) -> MaskedLanguageModel:
        return resolve(self._mlm)

    def prepare(self) -> None:
        self.mlm  # noqa: B018 - loads it

    def candidates_steps(self, text: SegmentedText, indices: Sequence[int]) -> Steps[list[list[str]]]:
        """One list of candidate words per index, all positions in one masked-LM batch."""
        if not indices:
            return []
        mlm = self.mlm
        if self.method == "mask":
            proposals = yield from self.rule.fill_mask_steps(mlm, text, indices, self.k, self.min_log_prob)
        else:
            scored = mlm.in_context(text, indices, self.k, max_pieces=self.max_pieces)
            proposals = [above_floor(found, self.min_log_prob) for found in scored]
        return [
            self.rule.clean(text.words[index], found, self.k)
            for index, found in zip(indices, proposals, strict=True)
        ]

    candidates = at_once(candidates_steps)

    def describe(self) -> dict[str, Any]:
        return {
            "generator": self.name,
            "model": self.mlm.name,
            "k": self.k,
            "method": self.method,
            "min_log_prob": self.min_log_prob,
            **_rule(self.rule),
        }


class WordNetSynonyms:
    """WordNet synonyms (PWWS); with a POS tagger, only the synsets of the word's part of speech.

    ``wordnet`` is a ``textrobust.resources.wordnet.WordNet`` or an
    ``textrobust.resources.arabic_wordnet.ArabicWordNet`` (anything with ``synonyms(word, pos) -> [str]``);
    ``pos_tagger`` a ``POSTagger`` (universal tags), or None: then every synset of the word is used
    (pos=None), as for Arabic, which has no tagger here. Words whose tag has no WordNet part of speech
    (determiners, pronouns, proper nouns, ...) get no synonyms when a tagger is given.
    """

    name = "wordnet"

    def __init__(
        self,
        wordnet: Any | Lazy[Any],
        pos_tagger: Any | Lazy[Any] | None = None,
        k: int | None = None,
        *,
        rule: CandidateRule = WHOLE_WORDS,
    ) -> None:
        require_at_least("k", k, 1)
        self._wordnet = wordnet
        self._pos_tagger = pos_tagger
        self.k = k
        self.rule = rule
        self._cache = _WordCache()
        self._tags: OrderedDict[tuple[str, ...], list[str]] = OrderedDict()

    @property
    def wordnet(self) -> Any:
        return resolve(self._wordnet)

    @property
    def pos_tagger(self) -> Any | None:
        return None if self._pos_tagger is None else resolve(self._pos_tagger)

    def prepare(self) -> None:
        self.wordnet  # noqa: B018
        self.pos_tagger  # noqa: B018

    def _tag(self, text: SegmentedText) -> list[str] | None:
        tagger = self.pos_tagger
        if tagger is None:
            return None
        tags = self._tags.get(text.words)
        if tags is None:
            tags = list(tagger.tag(list(text.words)))
            self._tags[text.words] = tags
            if len(self._tags) > 1_000:
                self._tags.popitem(last=False)
        return tags

    def candidates(self, text: SegmentedText, indices: Sequence[int]) -> list[list[str]]:
        tags = self._tag(text)
        out = []
        for index in indices:
            original = text.words[index]
            pos = None
            if tags is not None:
                pos = WORDNET_POS.get(tags[index])
                if pos is None:
                    out.append([])
                    continue
            key = (original, pos)
            found = self._cache.get(key)
            if found is None:
                found = self.rule.clean(original, self.rule.synonyms(self.wordnet, original, pos), self.k)
                self._cache.put(key, found)
            out.append(found)
        return out

    def describe(self) -> dict[str, Any]:
        described = {"generator": self.name, "k": self.k, "pos_filtered": self._pos_tagger is not None}
        return described | _rule(self.rule)


class CandidateCache:
    """One example's raw candidates, generated once per (text, position); missing positions of a call are
    generated together (one masked-LM batch)."""

    def __init__(self, generator: CandidateGenerator) -> None:
        self.generator = generator
        self._found: dict[tuple[tuple[str, ...], int], list[str]] = {}

    def generate_steps(self, text: SegmentedText, indices: Sequence[int]) -> Steps[list[list[str]]]:
        """The raw candidates of each index; only positions not generated before reach the generator."""
        missing = [i for i in dict.fromkeys(indices) if (text.words, i) not in self._found]
        if missing:
            generated = yield from steps_of(self.generator, "candidates", text, missing)
            for index, found in zip(missing, generated, strict=True):
                self._found[(text.words, index)] = found
        return [self._found[(text.words, i)] for i in indices]

    generate = at_once(generate_steps)

    def has(self, text: SegmentedText, index: int) -> bool:
        return (text.words, index) in self._found
