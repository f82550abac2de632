"""Constraints: what a substitution must satisfy; each can be switched off by name and says why it rejected.

Two kinds: a *position* constraint decides whether a word may be changed at all (checked before
any candidate is generated, so it costs nothing); a *candidate* constraint judges the candidate
words for one position together, in one vectorised call. Both see a ``Substitution``: the original
text, the current text (earlier substitutions applied), the position and the positions already changed.
Because a substitution is a pure function of the original text and the substitutions made before it, a
stored result can be re-checked by replaying its changes in order (``recheck`` in the engine).
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from textrobust.attacks.lazy import Lazy, resolve
from textrobust.attacks.requests import Call, Steps, at_once, steps_of
from textrobust.data.text import SegmentedText, WordRule, is_word
from textrobust.errors import ParameterError, require_at_least, require_one_of

# The names recipes and the CLI use to switch constraints off.
CONSTRAINT_NAMES = (
    "repeat",
    "stopwords",
    "stopword-candidate",
    "max-words",
    "pos",
    "word-cosine",
    "sentence-similarity",
    "known-word",
    "budget",
)


@dataclass(frozen=True)
class Substitution:
    """One substitution under consideration: word ``index`` of ``current``."""

    original: SegmentedText
    current: SegmentedText
    index: int
    modified: frozenset[int]


@runtime_checkable
class PositionConstraint(Protocol):
    """Decides whether a word position may be changed; returns the reason when not."""

    name: str

    def check_position(self, substitution: Substitution) -> str | None: ...


@runtime_checkable
class CandidateConstraint(Protocol):
    """Judges candidate words for one position; one reason (or None for accepted) per candidate."""

    name: str

    def check_candidates(self, substitution: Substitution, candidates: Sequence[str]) -> list[str | None]: ...


class _Base:
    name = ""

    def prepare(self) -> None:
        """Load resources now (missing ones fail before the attack starts)."""

    def describe(self) -> dict[str, Any]:
        return {"constraint": self.name}


class NoRepeatModification(_Base):
    """A word is changed at most once."""

    name = "repeat"

    def check_position(self, substitution: Substitution) -> str | None:
        return "word already changed" if substitution.index in substitution.modified else None


class Stopwords(_Base):
    """Stopwords are never changed (case-insensitive; ``case_sensitive``: as TextAttack, where "The"
    is no stopword)."""

    name = "stopwords"

    def __init__(
        self, stopwords: Collection[str] | Lazy[Collection[str]], *, case_sensitive: bool = False
    ) -> None:
        self._stopwords = stopwords
        self.case_sensitive = case_sensitive

    @property
    def stopwords(self) -> Collection[str]:
        return resolve(self._stopwords)

    def prepare(self) -> None:
        self.stopwords  # noqa: B018

    def check_position(self, substitution: Substitution) -> str | None:
        word = substitution.original.words[substitution.index]
        key = word if self.case_sensitive else word.lower()
        return f"'{word}' is a stopword" if key in self.stopwords else None

    def describe(self) -> dict[str, Any]:
        described = {"constraint": self.name, "count": len(self.stopwords)}
        return described | ({"case_sensitive": True} if self.case_sensitive else {})


class MaxWordsChanged(_Base):
    """At most ``fraction`` of the words (rounded down, at least ``min_words``) are changed, and never
    more than ``cap`` words when a cap is given."""

    name = "max-words"

    def __init__(self, fraction: float, min_words: int = 1, cap: int | None = None) -> None:
        if not 0 < fraction <= 1:
            raise ParameterError("fraction", f"must be in (0, 1], got {fraction}")
        require_at_least("min_words", min_words, 0)
        require_at_least("cap", cap, 1)
        self.fraction = fraction
        self.min_words = min_words
        self.cap = cap

    def limit(self, num_words: int) -> int:
        limit = max(self.min_words, math.floor(self.fraction * num_words + 1e-9))
        return limit if self.cap is None else min(limit, self.cap)

    def check_position(self, substitution: Substitution) -> str | None:
        changed, total = len(substitution.modified), len(substitution.original)
        limit = self.limit(total)
        return f"{changed} of {total} words already changed (limit {limit})" if changed >= limit else None

    def describe(self) -> dict[str, Any]:
        described = {"constraint": self.name, "fraction": self.fraction, "min_words": self.min_words}
        return described if self.cap is None else {**described, "cap": self.cap}


class WordEmbeddingCosine(_Base):
    """Cosine between the original word and the candidate in a word-embedding space ≥ ``min_cos``."""

    name = "word-cosine"

    def __init__(self, table: Any | Lazy[Any], min_cos: float) -> None:
        self._table = table
        self.min_cos = min_cos

    @property
    def table(self) -> Any:
        return resolve(self._table)

    def prepare(self) -> None:
        self.table  # noqa: B018

    def check_candidates(self, substitution: Substitution, candidates: Sequence[str]) -> list[str | None]:
        original = substitution.original.words[substitution.index].lower()
        reasons: list[str | None] = []
        for candidate in candidates:
            cosine = self.table.cosine(original, candidate.lower())
            if cosine is None:
                reasons.append("not in the embedding vocabulary")
            elif cosine < self.min_cos:
                reasons.append(f"word cosine {cosine:.3f} < {self.min_cos}")
            else:
                reasons.append(None)
        return reasons

    def describe(self) -> dict[str, Any]:
        return {"constraint": self.name, "min_cos": self.min_cos}


class _TagCache:
    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self.items: OrderedDict[tuple[str, ...], list[str]] = OrderedDict()


class SamePartOfSpeech(_Base):
    """The candidate has the original word's part of speech (optionally NOUN↔VERB swaps allowed).

    Tags come from a ``POSTagger`` (universal tags) run on a window of ``window`` words before and
    ``window_after`` (default: ``window``) after the word: the original word in the original text,
    each candidate in the ``context`` text — the ``current`` one (TextFooler's released code, ±4
    words) or the ``original`` one (TextAttack's ``PartOfSpeech``: 4 words before, 3 after).
    """

    name = "pos"
    SWAPPABLE = frozenset({"NOUN", "VERB"})

    def __init__(
        self,
        tagger: Any | Lazy[Any],
        allow_noun_verb_swap: bool = False,
        window: int = 4,
        *,
        window_after: int | None = None,
        context: Literal["current", "original"] = "current",
    ) -> None:
        require_one_of("context", context, ("current", "original"))
        require_at_least("window", window, 0)
        require_at_least("window_after", window_after, 0)
        self._tagger = tagger
        self.allow_noun_verb_swap = allow_noun_verb_swap
        self.window = window
        self.window_after = window if window_after is None else window_after
        self.context = context
        self._cache = _TagCache()

    @property
    def tagger(self) -> Any:
        return resolve(self._tagger)

    def prepare(self) -> None:
        self.tagger  # noqa: B018

    def _window(self, text: SegmentedText, index: int) -> tuple[tuple[str, ...], int]:
        start = max(0, index - self.window)
        end = min(len(text), index + self.window_after + 1)
        return text.words[start:end], index - start

    def _tags(self, windows: list[tuple[str, ...]]) -> Steps[list[list[str]]]:
        cache = self._cache.items
        missing = list(dict.fromkeys(w for w in windows if w not in cache))
        if missing:
            tagger = self.tagger
            tagged = yield Call(("pos", id(tagger)), self._tag_windows, missing)
            for words, tags in zip(missing, tagged, strict=True):
                cache[words] = list(tags)
            while len(cache) > self._cache.size:
                cache.popitem(last=False)
        return [cache[w] for w in windows]

    def _tag_windows(self, windows: list[tuple[str, ...]]) -> list[list[str]]:
        return self.tagger.tag_batch([list(w) for w in windows])

    def check_candidates_steps(
        self, substitution: Substitution, candidates: Sequence[str]
    ) -> Steps[list[str | None]]:
        """Why each candidate's tag differs from the word's (None: the same, or a NOUN↔VERB swap allowed)."""
        reference, position = self._window(substitution.original, substitution.index)
        windows = [reference]
        context = substitution.current if self.context == "current" else substitution.original
        for candidate in candidates:
            words, _ = self._window(context.replace(substitution.index, candidate), substitution.index)
            windows.append(words)
        tags = yield from self._tags(windows)
        wanted = tags[0][position]
        reasons: list[str | None] = []
        for candidate_tags in tags[1:]:
            got = candidate_tags[position]
            ok = got == wanted or (
                self.allow_noun_verb_swap and got in self.SWAPPABLE and wanted in self.SWAPPABLE
            )
            reasons.append(None if ok else f"part of speech {got} ≠ {wanted}")
        return reasons

    check_candidates = at_once(check_candidates_steps)

    def describe(self) -> dict[str, Any]:
        described = {
            "constraint": self.name,
            "allow_noun_verb_swap": self.allow_noun_verb_swap,
            "window": self.window,
        }
        if self.window_after != self.window or self.context != "current":
            described |= {"window_after": self.window_after, "context": self.context}
        return described


class SentenceSimilarity(_Base):
    """Sentence-encoder similarity between a window around the change and the same window before it.

    ``metric="cosine"`` compares the cosine itself; ``"angular"`` compares 1 − arccos(cos)/π
    (TextFooler/TextAttack). ``window``: words around the changed word (None: the whole text).
    ``compare_to``: the ``original`` text, or the ``current`` one (the text just before this
    substitution, as TextFooler's code does). ``short_text_threshold``: the threshold used instead
    when the text has fewer words than the window (TextFooler's code lowers it to 0.1 there).
    ``skip_short_texts``: texts with fewer words than the window are not checked at all, every
    candidate scoring 1 (TextAttack's ``skip_text_shorter_than_window``).
    """

    name = "sentence-similarity"

    def __init__(
        self,
        encoder: Any | Lazy[Any],
        threshold: float,
        *,
        metric: Literal["cosine", "angular"] = "cosine",
        window: int | None = None,
        compare_to: Literal["original", "current"] = "original",
        short_text_threshold: float | None = None,
        skip_short_texts: bool = False,
        cache_size: int = 8192,
    ) -> None:
        require_one_of("metric", metric, ("cosine", "angular"))
        require_one_of("compare_to", compare_to, ("original", "current"))
        require_at_least("window", window, 1)
        require_at_least("cache_size", cache_size, 1)
        self._encoder = encoder
        self.threshold = threshold
        self.metric = metric
        self.window = window
        self.compare_to = compare_to
        self.short_text_threshold = short_text_threshold
        self.skip_short_texts = skip_short_texts
        self.cache_size = cache_size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def encoder(self) -> Any:
        return resolve(self._encoder)

    def prepare(self) -> None:
        self.encoder  # noqa: B018

    def _unit_vectors(self, texts: list[str]) -> np.ndarray:
        vectors = np.asarray(self.encoder.encode(texts), dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def encode_steps(self, texts: Sequence[str]) -> Steps[np.ndarray]:
        """The texts' sentence vectors, rows L2-normalised; cached by text."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            encoder = self.encoder
            vectors = yield Call(("encoder", id(encoder)), self._unit_vectors, missing)
            for text, vector in zip(missing, vectors, strict=True):
                self._vectors[text] = vector
        rows = []
        for text in texts:
            self._vectors.move_to_end(text)
            rows.append(self._vectors[text])
        while len(self._vectors) > self.cache_size:
            self._vectors.popitem(last=False)
        return np.stack(rows) if rows else np.zeros((0, 1), dtype=np.float32)

    encode = at_once(encode_steps)

    def similarity(self, cosines: np.ndarray) -> np.ndarray:
        cosines = np.clip(cosines, -1.0, 1.0)
        if self.metric == "angular":
            return 1.0 - np.arccos(cosines) / math.pi
        return cosines

    def threshold_for(self, text: SegmentedText) -> float:
        if self.short_text_threshold is not None and self.window is not None and len(text) < self.window:
            return self.short_text_threshold
        return self.threshold

    def scores_steps(self, substitution: Substitution, candidates: Sequence[str]) -> Steps[np.ndarray]:
        """The similarity of each candidate (in this constraint's metric)."""
        if not candidates:
            return np.zeros(0, dtype=np.float32)
        if self.skip_short_texts and self.window is not None and len(substitution.original) < self.window:
            return np.ones(len(candidates), dtype=np.float32)
        index, current = substitution.index, substitution.current
        reference_text = substitution.original if self.compare_to == "original" else current
        texts = [reference_text.window(index, self.window)]
        texts += [current.replace(index, c).window(index, self.window) for c in candidates]
        vectors = yield from self.encode_steps(texts)
        return self.similarity(vectors[1:] @ vectors[0])

    scores = at_once(scores_steps)

    def check_candidates_steps(
        self, substitution: Substitution, candidates: Sequence[str]
    ) -> Steps[list[str | None]]:
        """Why each candidate is too dissimilar (None: similar enough)."""
        threshold = self.threshold_for(substitution.original)
        scores = yield from self.scores_steps(substitution, candidates)
        return [None if s >= threshold else f"sentence similarity {s:.3f} < {threshold:.3f}" for s in scores]

    check_candidates = at_once(check_candidates_steps)

    def text_similarity_steps(self, a: str, b: str) -> Steps[float]:
        """Cosine between two whole texts (reported in results)."""
        vectors = yield from self.encode_steps([a, b])
        return float(np.clip(vectors[0] @ vectors[1], -1.0, 1.0))

    text_similarity = at_once(text_similarity_steps)

    def describe(self) -> dict[str, Any]:
        return {
            "constraint": self.name,
            "threshold": self.threshold,
            "metric": self.metric,
            "window": self.window,
            "compare_to": self.compare_to,
            "short_text_threshold": self.short_text_threshold,
            **({"skip_short_texts": True} if self.skip_short_texts else {}),
        }


class StopwordCandidate(Stopwords):
    """The candidate is not a stopword: a function word put in a content word's place is no synonym
    (small masked LMs propose them often). Not in TextAttack's recipes; the Arabic MLM-synonym uses it."""

    name = "stopword-candidate"

    def check_position(self, substitution: Substitution) -> str | None:
        return None

    def check_candidates(self, substitution: Substitution, candidates: Sequence[str]) -> list[str | None]:
        stopwords = self.stopwords
        return [f"'{c}' is a stopword" if c.lower() in stopwords else None for c in candidates]


class KnownWord(_Base):
    """The candidate is a known word of the language: in a word list, itself or its stem after
    ``split_proclitics`` (no recipe uses it by default; ``build_attack(..., word_list=...)`` adds it).

    ``words`` is a ``textrobust.resources.wordlist.WordList`` (anything with ``is_known(word) -> bool``).
    """

    name = "known-word"

    def __init__(self, words: Any | Lazy[Any]) -> None:
        self._words = words

    @property
    def words(self) -> Any:
        return resolve(self._words)

    def prepare(self) -> None:
        self.words  # noqa: B018

    def check_candidates(self, substitution: Substitution, candidates: Sequence[str]) -> list[str | None]:
        words = self.words
        return [None if words.is_known(c) else f"'{c}' is not in the word list" for c in candidates]

    def describe(self) -> dict[str, Any]:
        return {"constraint": self.name, "source": getattr(self.words, "source", None)}


class QueryBudget(_Base):
    """At most ``max_queries`` victim queries per example (unique texts scored, the original included)."""

    name = "budget"

    def __init__(self, max_queries: int) -> None:
        require_at_least("max_queries", max_queries, 1)
        self.max_queries = max_queries

    def describe(self) -> dict[str, Any]:
        return {"constraint": self.name, "max_queries": self.max_queries}


class CandidateFilter:
    """Applies an attack's constraints to one example's substitutions and counts every rejection by name.

    The search asks it whether a position may change (``position_reason``) and which candidates survive
    (``filter``, cheap constraints first, as ordered); ``recheck`` asks it, for a stored substitution, every
    constraint it breaks (``violations``).
    """

    def __init__(self, constraints: Sequence[Any], word_rule: WordRule = "textrobust") -> None:
        self.word_rule = word_rule
        self.position_constraints = [c for c in constraints if isinstance(c, PositionConstraint)]
        self.candidate_constraints = [c for c in constraints if isinstance(c, CandidateConstraint)]
        self.rejections: Counter[str] = Counter()

    def position_reason(self, substitution: Substitution) -> str | None:
        """Why word ``substitution.index`` may not be changed (``"name: reason"``), or None when it may."""
        for constraint in self.position_constraints:
            reason = constraint.check_position(substitution)
            if reason is not None:
                return f"{constraint.name}: {reason}"
        return None

    def single_words(self, substitution: Substitution, candidates: Sequence[str]) -> list[str]:
        """The candidates that are single words other than the current one (no constraint checked yet)."""
        current_word = substitution.current.words[substitution.index]
        return [c for c in candidates if is_word(c, self.word_rule) and c != current_word]

    def filter_steps(self, substitution: Substitution, candidates: Sequence[str]) -> Steps[list[str]]:
        """The candidates every candidate constraint accepts (cheap constraints first, as ordered)."""
        alive = self.single_words(substitution, candidates)
        for constraint in self.candidate_constraints:
            if not alive:
                break
            verdicts = yield from steps_of(constraint, "check_candidates", substitution, alive)
            rejected = sum(v is not None for v in verdicts)
            if rejected:
                self.rejections[constraint.name] += rejected
                alive = [c for c, v in zip(alive, verdicts, strict=True) if v is None]
        return alive

    filter = at_once(filter_steps)

    def violations(self, substitution: Substitution, replacement: str, tolerance: float) -> list[str]:
        """Every constraint that ``replacement`` at ``substitution`` breaks, as ``"name: reason"``.

        Sentence similarity is allowed ``tolerance`` below its threshold: scores re-computed later may
        differ in the last float digits (the encoder batches texts differently).
        """
        found = [
            f"{constraint.name}: {reason}"
            for constraint in self.position_constraints
            if (reason := constraint.check_position(substitution)) is not None
        ]
        for constraint in self.candidate_constraints:
            if isinstance(constraint, SentenceSimilarity):
                score = float(constraint.scores(substitution, [replacement])[0])
                threshold = constraint.threshold_for(substitution.original)
                reason = (
                    None
                    if score >= threshold - tolerance
                    else f"sentence similarity {score:.4f} < {threshold}"
                )
            else:
                reason = constraint.check_candidates(substitution, [replacement])[0]
            if reason is not None:
                found.append(f"{constraint.name}: {reason}")
        return found

    def summary(self) -> str:
        """``rejected by pos 12, sentence-similarity 3`` (empty when nothing was rejected)."""
        if not self.rejections:
            return ""
        return "rejected by " + ", ".join(f"{name} {count}" for name, count in self.rejections.most_common())
