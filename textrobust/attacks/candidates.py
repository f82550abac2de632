"""Candidate generators: where replacement words come from (embedding neighbours, a masked LM, WordNet)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from textrobust.attacks.lazy import Lazy, resolve
from textrobust.attacks.mlm import MaskedLanguageModel
from textrobust.attacks.requests import Steps, run_now
from textrobust.data.text import SplitText, is_word, match_case, same_word

# Universal POS tag -> WordNet POS.
WORDNET_POS = {"NOUN": "n", "VERB": "v", "ADJ": "a", "ADV": "r"}


class CandidateGenerator(Protocol):
    """Proposes replacement words for word positions of a text, best first, the original word excluded."""

    name: str

    def candidates(self, text: SplitText, indices: Sequence[int]) -> list[list[str]]:
        """One list of candidate words per index (computed together: one batch where that helps)."""
        ...

    def prepare(self) -> None:
        """Load what the generator needs (so missing resources fail before an attack starts)."""
        ...

    def describe(self) -> dict[str, Any]: ...


def _clean(original: str, proposals: Sequence[str], k: int | None) -> list[str]:
    """Whole single words, not the original, no duplicates, in the original's case; at most ``k``."""
    seen: set[str] = set()
    kept: list[str] = []
    for proposal in proposals:
        word = match_case(original, proposal)
        key = word.casefold()
        if key in seen or not is_word(word) or same_word(word, original):
            continue
        if "_" in word and "_" not in original:  # WordNet's multi-word lemmas ("ice_cream")
            continue
        seen.add(key)
        kept.append(word)
        if k is not None and len(kept) >= k:
            break
    return kept


def textattack_case(word: str, reference: str) -> str:
    """``word`` in ``reference``'s case as TextAttack's ``recover_word_case`` does it (lower, UPPER,
    Capitalised, otherwise as given)."""
    if reference.islower():
        return word.lower()
    if reference.isupper() and len(reference) > 1:
        return word.upper()
    if reference[:1].isupper() and reference[1:].islower():
        return word.capitalize()
    return word


def _textattack_clean(original: str, proposals: Sequence[str]) -> list[str]:
    """TextAttack's filter: any proposal but the word itself (case-sensitive), no WordNet phrases,
    duplicates dropped (they would give the same text)."""
    return list(dict.fromkeys(p for p in proposals if p != original and "_" not in p))


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
        self, table: Any | Lazy[Any], k: int = 50, min_cos: float = 0.0, *, textattack: bool = False
    ) -> None:
        self._table = table
        self.k = k
        self.min_cos = min_cos
        self.textattack = textattack  # TextAttack's case rule and filter (``WordSwapEmbedding``)
        self._cache = _WordCache()

    @property
    def table(self) -> Any:
        return resolve(self._table)

    def prepare(self) -> None:
        self.table  # noqa: B018 - loads it

    def candidates(self, text: SplitText, indices: Sequence[int]) -> list[list[str]]:
        out = []
        for index in indices:
            original = text.words[index]
            key = original
            found = self._cache.get(key)
            if found is None:
                neighbours = self.table.neighbours(original.lower(), k=self.k, min_cos=self.min_cos)
                words = [word for word, _cos in neighbours]
                if self.textattack:
                    found = _textattack_clean(original, [textattack_case(w, original) for w in words])
                else:
                    found = _clean(original, words, self.k)
                self._cache.put(key, found)
            out.append(found)
        return out

    def describe(self) -> dict[str, Any]:
        described = {"generator": self.name, "k": self.k, "min_cos": self.min_cos}
        return described | ({"textattack": True} if self.textattack else {})


class MaskedLMCandidates:
    """Whole words a masked language model proposes for the position.

    ``method="mask"``: the word is replaced by the mask token and the top-``k`` whole-word tokens
    are kept (BAE, MLM-synonym). ``method="in-context"``: BERT-Attack's variant — the unmasked text,
    the word's own sub-word positions predicted, multi-piece words built from the top pieces and
    ranked by their summed log-probability. Sub-word pieces ("##ing") never stand as a word, and
    the original word is dropped. All positions of one call go through the model in one batch.
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
        textattack: bool = False,
    ) -> None:
        if method not in ("mask", "in-context"):
            raise ValueError(f"unknown masked-LM method {method!r}")
        if textattack and method != "mask":
            raise ValueError("TextAttack's word-piece proposals exist for method='mask' (BAE) only")
        # TextAttack's BAE: word pieces count as words ("##ly" -> "ly"), no case matching.
        self.textattack = textattack
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

    def candidates(self, text: SplitText, indices: Sequence[int]) -> list[list[str]]:
        return run_now(self.candidates_steps(text, indices))

    def candidates_steps(self, text: SplitText, indices: Sequence[int]) -> Steps[list[list[str]]]:
        if not indices:
            return []
        mlm = self.mlm
        if self.textattack:
            words = yield from mlm.at_mask_textattack_steps(text, indices, self.k)
            return [_textattack_clean(text.words[i], found) for i, found in zip(indices, words, strict=True)]
        if self.method == "mask":
            stepwise = getattr(mlm, "at_mask_steps", None)  # other masked-LM objects answer at once
            if stepwise is not None:
                proposals = yield from stepwise(text, indices, self.k)
            else:
                proposals = mlm.at_mask(text, indices, self.k)
        else:
            proposals = mlm.in_context(text, indices, self.k, max_pieces=self.max_pieces)
        out = []
        for index, scored in zip(indices, proposals, strict=True):
            words = [w for w, lp in scored if self.min_log_prob is None or lp >= self.min_log_prob]
            out.append(_clean(text.words[index], words, self.k))
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "generator": self.name,
            "model": self.mlm.name,
            "k": self.k,
            "method": self.method,
            "min_log_prob": self.min_log_prob,
            **({"textattack": True} if self.textattack else {}),
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
        textattack: bool = False,
    ) -> None:
        self._wordnet = wordnet
        self._pos_tagger = pos_tagger
        self.k = k
        self.textattack = textattack  # TextAttack's filter: the word's own lemma in another case stays
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

    def _tag(self, text: SplitText) -> list[str] | None:
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

    def candidates(self, text: SplitText, indices: Sequence[int]) -> list[list[str]]:
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
                if self.textattack:
                    lemmas = self.wordnet.synonyms(original, pos=pos, keep_word=True)
                    found = _textattack_clean(original, lemmas)
                else:
                    found = _clean(original, self.wordnet.synonyms(original.lower(), pos=pos), self.k)
                self._cache.put(key, found)
            out.append(found)
        return out

    def describe(self) -> dict[str, Any]:
        described = {"generator": self.name, "k": self.k, "pos_filtered": self._pos_tagger is not None}
        return described | ({"textattack": True} if self.textattack else {})


class CandidateCache:
    """One example's raw candidates, generated once per (text, position); missing positions of a call are
    generated together (one masked-LM batch)."""

    def __init__(self, generator: CandidateGenerator) -> None:
        self.generator = generator
        self._found: dict[tuple[tuple[str, ...], int], list[str]] = {}

    def generate(self, text: SplitText, indices: Sequence[int]) -> list[list[str]]:
        return run_now(self.generate_steps(text, indices))

    def generate_steps(self, text: SplitText, indices: Sequence[int]) -> Steps[list[list[str]]]:
        missing = [i for i in dict.fromkeys(indices) if (text.words, i) not in self._found]
        if missing:
            stepwise = getattr(self.generator, "candidates_steps", None)
            if stepwise is not None:
                generated = yield from stepwise(text, missing)
            else:
                generated = self.generator.candidates(text, missing)
            for index, found in zip(missing, generated, strict=True):
                self._found[(text.words, index)] = found
        return [self._found[(text.words, i)] for i in indices]

    def has(self, text: SplitText, index: int) -> bool:
        return (text.words, index) in self._found
