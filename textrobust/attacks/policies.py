"""Policies: the small rules on which textrobust's recipes and TextAttack 0.3.11 differ, as objects.

The candidate generators and the greedy search ask a policy where the two tools differ instead of
testing a profile: each parameter's default is textrobust's rule, and the TextAttack recipes in
``recipes.py`` hand over TextAttack's. A policy has a ``name`` (what ``describe`` records when it is not
the default) and one job:

- a ``CandidateRule``: what counts as a candidate for a word (how a lexicon is asked, how proposals are
  cased and filtered, which masked-LM tokens are words);
- a ``TieBreaking``: which of equally important words or equally good label flips comes first;
- a ``CandidateOrder``: in which order a position's candidate texts are scored;
- an ``Importance``: how a word's importance is scored (leave-one-out and PWWS).

How a text is cut into words (the word rule, ``textrobust`` or ``textattack``) is the fifth: a name that
``textrobust.data.text`` implements and the engine hands to every split.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from textrobust.attacks.requests import Steps, steps_of
from textrobust.data.text import SegmentedText, is_word, match_case, same_word

if TYPE_CHECKING:
    from textrobust.attacks.mlm import MaskedLanguageModel

# -- case rules: a proposal in the case of the word it replaces ----------------------------------------

CaseRule = Callable[[str, str], str]  # (proposal, the word it replaces) -> the proposal in that word's case


def same_case(word: str, reference: str) -> str:
    """textrobust's rule: ``word`` in ``reference``'s case pattern (UPPER, Capitalised, else as given)."""
    return match_case(reference, word)


def recover_word_case(word: str, reference: str) -> str:
    """``word`` in ``reference``'s case as TextAttack's ``recover_word_case`` does it (lower, UPPER,
    Capitalised, otherwise as given)."""
    if reference.islower():
        return word.lower()
    if reference.isupper() and len(reference) > 1:
        return word.upper()
    if reference[:1].isupper() and reference[1:].islower():
        return word.capitalize()
    return word


def as_given(word: str, reference: str) -> str:
    """No case change (TextAttack's WordNet and masked-LM swaps)."""
    return word


# -- candidate rules -------------------------------------------------------------------------------------


def above_floor(scored: Sequence[tuple[str, float]], min_log_prob: float | None) -> list[str]:
    """The words of ``(word, log-probability)`` proposals at or above ``min_log_prob`` (all without one)."""
    return [word for word, log_prob in scored if min_log_prob is None or log_prob >= min_log_prob]


class CandidateRule(Protocol):
    """What counts as a candidate for a word: how a lexicon is asked, how proposals become candidates."""

    name: str

    def synonyms(self, wordnet: Any, word: str, pos: str | None) -> list[str]:
        """WordNet's proposals for ``word`` (``wordnet.synonyms``)."""
        ...

    def fill_mask_steps(
        self, mlm: Any, text: SegmentedText, indices: Sequence[int], k: int, min_log_prob: float | None
    ) -> Steps[list[list[str]]]:
        """A masked LM's proposals for each masked word position, best first."""
        ...

    def clean(self, word: str, proposals: Sequence[str], k: int | None) -> list[str]:
        """The proposals that are candidates for ``word``, in order; at most ``k`` where the rule caps."""
        ...


@dataclass(frozen=True)
class WholeWords:
    """textrobust's rule: whole single words in the word's case (the ``case`` rule), the word itself (in
    any case) and WordNet's multi-word lemmas left out, at most ``k``; lexicons are asked for the
    lowercased word and masked LMs propose whole words of the language's script."""

    case: CaseRule = same_case
    name: ClassVar[str] = "textrobust"

    def synonyms(self, wordnet: Any, word: str, pos: str | None) -> list[str]:
        return wordnet.synonyms(word.lower(), pos=pos)

    def fill_mask_steps(
        self, mlm: Any, text: SegmentedText, indices: Sequence[int], k: int, min_log_prob: float | None
    ) -> Steps[list[list[str]]]:
        scored = yield from steps_of(mlm, "at_mask", text, indices, k)  # other masked-LM objects: at once
        return [above_floor(found, min_log_prob) for found in scored]

    def clean(self, word: str, proposals: Sequence[str], k: int | None) -> list[str]:
        seen: set[str] = set()
        kept: list[str] = []
        for proposal in proposals:
            candidate = self.case(proposal, word)
            key = candidate.casefold()
            if key in seen or not is_word(candidate) or same_word(candidate, word):
                continue
            if "_" in candidate and "_" not in word:  # WordNet's multi-word lemmas ("ice_cream")
                continue
            seen.add(key)
            kept.append(candidate)
            if k is not None and len(kept) >= k:
                break
        return kept


@dataclass(frozen=True)
class TextAttackCandidates:
    """TextAttack's rule: any proposal but the word itself, compared case-sensitively ("Good" replaces
    "good"), WordNet phrases and duplicates dropped, after the ``case`` rule (``recover_word_case`` in
    ``WordSwapEmbedding``, none in its WordNet and masked-LM swaps); WordNet is asked for the word as
    written with its own lemma kept (compared later), and a masked LM's word pieces count as words
    (``MaskedLanguageModel.at_mask_textattack``). No cap: the source already gave ``k``."""

    case: CaseRule = as_given
    name: ClassVar[str] = "textattack"

    def synonyms(self, wordnet: Any, word: str, pos: str | None) -> list[str]:
        return wordnet.synonyms(word, pos=pos, keep_word=True)

    def fill_mask_steps(
        self,
        mlm: MaskedLanguageModel,
        text: SegmentedText,
        indices: Sequence[int],
        k: int,
        min_log_prob: float | None,
    ) -> Steps[list[list[str]]]:
        # TextAttack ranks tokens by probability and has no floor: ``min_log_prob`` does not apply.
        return (yield from mlm.at_mask_textattack_steps(text, indices, k))

    def clean(self, word: str, proposals: Sequence[str], k: int | None) -> list[str]:
        cased = (self.case(p, word) for p in proposals)
        return list(dict.fromkeys(p for p in cased if p != word and "_" not in p))


WHOLE_WORDS = WholeWords()

# -- tie breaking ------------------------------------------------------------------------------------------


class TieBreaking(Protocol):
    """Which of equally important words, or of equally good label flips, comes first."""

    name: str

    def rank(self, importance: np.ndarray) -> np.ndarray:
        """Indices of ``importance`` from the most to the least important."""
        ...

    def flips(self, winners: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """The candidates that flip the label (indices into ``scores``) in the order they are weighed:
        the first of equally similar ones wins."""
        ...


@dataclass(frozen=True)
class StableTies:
    """textrobust's rule: ties keep text order (words) and generator order (flips)."""

    name: ClassVar[str] = "stable"

    def rank(self, importance: np.ndarray) -> np.ndarray:
        return np.argsort(-importance, kind="stable")

    def flips(self, winners: np.ndarray, scores: np.ndarray) -> np.ndarray:
        return winners


@dataclass(frozen=True)
class TextAttackTies:
    """GreedyWordSwapWIR's: numpy's default (not stable) argsort for the ranking, so tied words fall as
    it orders them; flips walked from the highest score down."""

    name: ClassVar[str] = "textattack"

    def rank(self, importance: np.ndarray) -> np.ndarray:
        return np.argsort(-importance)

    def flips(self, winners: np.ndarray, scores: np.ndarray) -> np.ndarray:
        return winners[np.argsort(-scores[winners], kind="stable")]


STABLE_TIES = StableTies()

# -- candidate order ---------------------------------------------------------------------------------------


class CandidateOrder(Protocol):
    """In which order a position's candidate texts are scored (and so which of equal scores is first,
    and which are scored when the budget runs out)."""

    name: str

    def arrange(self, texts: Sequence[str]) -> list[int]:
        """Indices of ``texts`` in scoring order."""
        ...


@dataclass(frozen=True)
class GeneratorOrder:
    """textrobust's rule: the candidate generator's order (best proposal first)."""

    name: ClassVar[str] = "generator"

    def arrange(self, texts: Sequence[str]) -> list[int]:
        return list(range(len(texts)))


@dataclass(frozen=True)
class TextOrder:
    """TextAttack's: the candidate texts sorted, so ties go to the first text."""

    name: ClassVar[str] = "text"

    def arrange(self, texts: Sequence[str]) -> list[int]:
        return sorted(range(len(texts)), key=lambda j: texts[j])


GENERATOR_ORDER = GeneratorOrder()

# -- importance --------------------------------------------------------------------------------------------


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max())
    return shifted / shifted.sum()


class Importance(Protocol):
    """How a word's importance is scored from the goal's scores (higher: closer to success)."""

    name: str

    def leave_one_out(self, scores: np.ndarray, base: float) -> np.ndarray:
        """Importance from the scores of the texts with each word left out or masked (``base``: the
        original text's score)."""
        ...

    def pwws(self, saliency: np.ndarray, best_scores: np.ndarray, base: float) -> np.ndarray:
        """PWWS (Ren et al.): the words' saliency (``leave_one_out``, −inf where unscored) weighed with
        the score of each word's best swap (−inf for a word without swaps)."""
        ...


@dataclass(frozen=True)
class Gain:
    """textrobust's rule: importance is the gain over the original's score (the drop of p(y)); PWWS
    weighs softmax(saliency) with the best swap's gain, and a word without swaps ranks last."""

    name: ClassVar[str] = "gain"

    def leave_one_out(self, scores: np.ndarray, base: float) -> np.ndarray:
        return scores - base

    def pwws(self, saliency: np.ndarray, best_scores: np.ndarray, base: float) -> np.ndarray:
        finite = np.isfinite(saliency)
        weights = np.zeros(len(saliency))
        if finite.any():
            weights[finite] = _softmax(saliency[finite])
        return np.where(np.isfinite(best_scores), weights * (best_scores - base), -np.inf)


@dataclass(frozen=True)
class TextAttackScores:
    """TextAttack's: importance is the score itself (the same order as the gain up to float rounding);
    PWWS weighs a float32 softmax(saliency) with the best swap's score, 0 for a word without swaps."""

    name: ClassVar[str] = "score"

    def leave_one_out(self, scores: np.ndarray, base: float) -> np.ndarray:
        return scores

    def pwws(self, saliency: np.ndarray, best_scores: np.ndarray, base: float) -> np.ndarray:
        finite = np.isfinite(saliency)
        weights = np.zeros(len(saliency))
        if finite.any():
            weights[finite] = _softmax(saliency[finite].astype(np.float32))
        return weights * np.where(np.isfinite(best_scores), best_scores, 0.0)


GAIN = Gain()

# -- TextAttack's search -----------------------------------------------------------------------------------

# TextAttack's GreedyWordSwapWIR as its recipes run it: the policies, as keyword arguments of
# ``GreedyByImportance`` (``Part(GreedyByImportance, "deletion", **TEXTATTACK_SEARCH)``).
TEXTATTACK_SEARCH: Mapping[str, Any] = MappingProxyType(
    {"tie_breaking": TextAttackTies(), "candidate_order": TextOrder(), "importance": TextAttackScores()}
)
