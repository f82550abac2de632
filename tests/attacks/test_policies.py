"""Policies: textrobust's rules are the defaults, TextAttack's reproduce TextAttack 0.3.11 rule by rule.

Each TextAttack policy is checked against the branch it replaced (``if textattack`` code of the search
and the candidate generators, kept here as the reference); the recipes' results are covered by the golden
and peer tests.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.stand_ins import DictWordNet, TinyNeighbourTable
from textrobust.attacks.candidates import EmbeddingNeighbours, WordNetSynonyms
from textrobust.attacks.policies import (
    GAIN,
    GENERATOR_ORDER,
    STABLE_TIES,
    TEXTATTACK_SEARCH,
    WHOLE_WORDS,
    Gain,
    StableTies,
    TextAttackCandidates,
    TextAttackScores,
    TextAttackTies,
    TextOrder,
    as_given,
    recover_word_case,
    same_case,
)
from textrobust.attacks.search import GreedyByImportance
from textrobust.data.text import segment_text


def test_textrobusts_policies_are_the_defaults() -> None:
    search = GreedyByImportance()
    assert (search.tie_breaking, search.candidate_order, search.importance) == (
        STABLE_TIES,
        GENERATOR_ORDER,
        GAIN,
    )
    assert EmbeddingNeighbours(TinyNeighbourTable({})).rule == WHOLE_WORDS
    assert search.describe() == {
        "search": "greedy",
        "rank_by": "deletion",
        "beam_width": 1,
        "candidates_from": "current",
    }  # default policies are not named


def test_textattack_search_hands_over_textattacks_three_policies() -> None:
    assert dict(TEXTATTACK_SEARCH) == {
        "tie_breaking": TextAttackTies(),
        "candidate_order": TextOrder(),
        "importance": TextAttackScores(),
    }
    described = GreedyByImportance("pwws", **TEXTATTACK_SEARCH).describe()
    assert (described["tie_breaking"], described["candidate_order"], described["importance"]) == (
        "textattack",
        "text",
        "score",
    )


# -- tie breaking ------------------------------------------------------------------------------------


def test_textattack_ranks_ties_with_numpys_default_sort_and_textrobust_keeps_text_order() -> None:
    importance = np.array([float(i % 3) for i in range(40)])  # many ties: the sort's kind shows
    assert StableTies().rank(importance).tolist() == np.argsort(-importance, kind="stable").tolist()
    assert TextAttackTies().rank(importance).tolist() == np.argsort(-importance).tolist()
    assert StableTies().rank(importance).tolist() != TextAttackTies().rank(importance).tolist()


def test_textattack_weighs_flips_from_the_highest_score_down() -> None:
    scores = np.array([0.6, 0.1, 0.9, 0.7, 0.9])
    winners = np.array([0, 2, 3, 4])
    assert StableTies().flips(winners, scores).tolist() == [0, 2, 3, 4]  # generator order
    assert TextAttackTies().flips(winners, scores).tolist() == [2, 4, 3, 0]  # equal scores keep their order


# -- candidate order ---------------------------------------------------------------------------------


def test_textattack_scores_candidate_texts_in_sorted_order() -> None:
    texts = ["poor film", "bad film", "awful film", "bad film!"]
    assert GENERATOR_ORDER.arrange(texts) == [0, 1, 2, 3]
    assert TextOrder().arrange(texts) == [2, 1, 3, 0]


# -- importance --------------------------------------------------------------------------------------


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max())
    return shifted / shifted.sum()


def _replaced_pwws(saliency: np.ndarray, best: np.ndarray, base: float, textattack: bool) -> np.ndarray:
    """The two branches ``GreedyByImportance._pwws`` had before the policies."""
    finite = np.isfinite(saliency)
    weights = np.zeros(len(saliency))
    if textattack:
        if finite.any():
            weights[finite] = _softmax(saliency[finite].astype(np.float32))
        return weights * np.where(np.isfinite(best), best, 0.0)
    if finite.any():
        weights[finite] = _softmax(saliency[finite])
    return np.where(np.isfinite(best), weights * (best - base), -np.inf)


@pytest.mark.parametrize("seed", range(5))
def test_importance_policies_give_the_replaced_branches_numbers(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.random(9)
    saliency = np.where(rng.random(9) < 0.2, -np.inf, rng.random(9))
    best = np.where(rng.random(9) < 0.3, -np.inf, rng.random(9))
    base = float(rng.random())
    assert np.array_equal(Gain().leave_one_out(scores, base), scores - base)
    assert np.array_equal(TextAttackScores().leave_one_out(scores, base), scores)  # the score itself
    with np.errstate(invalid="ignore"):  # 0 × −inf (a word without saliency): NaN, then masked by −inf
        ours, replaced = Gain().pwws(saliency, best, base), _replaced_pwws(saliency, best, base, False)
        assert np.array_equal(ours, replaced)
        theirs, replaced = (
            TextAttackScores().pwws(saliency, best, base),
            _replaced_pwws(saliency, best, base, True),
        )
        assert np.array_equal(theirs, replaced)


def test_a_word_without_swaps_ranks_last_in_textrobust_and_scores_zero_in_textattack() -> None:
    saliency, best = np.array([0.5, 0.1]), np.array([-np.inf, 0.8])
    assert Gain().pwws(saliency, best, 0.3)[0] == -np.inf
    assert TextAttackScores().pwws(saliency, best, 0.3)[0] == 0.0


# -- candidate rules and case rules ------------------------------------------------------------------


def test_case_rules() -> None:
    assert same_case("great", "Good") == "Great" and same_case("great", "GOOD") == "GREAT"
    assert same_case("great", "gOOD") == "great"
    assert recover_word_case("Great", "good") == "great"  # TextAttack lowercases for a lowercase word
    assert same_case("Great", "good") == "Great"  # textrobust keeps a proposal's own capital
    assert as_given("gReat", "GOOD") == "gReat"


def test_textrobust_drops_the_word_in_any_case_textattack_only_as_written() -> None:
    proposals = ["good", "Good", "great", "great", "ice_cream", "new york", "fine"]
    assert WHOLE_WORDS.clean("good", proposals, 2) == ["great", "fine"]  # whole words, at most k
    # TextAttack: no cap, no single-word check ("new york" stays), "Good" is another word than "good"
    assert TextAttackCandidates().clean("good", proposals, 2) == ["Good", "great", "new york", "fine"]
    cased = TextAttackCandidates(case=recover_word_case).clean("Good", ["good", "great"], None)
    assert cased == ["Great"]  # "good" became "Good", the word itself


class RecordingWordNet(DictWordNet):
    def __init__(self, synonyms: dict[tuple[str, str | None], list[str]]) -> None:
        super().__init__(synonyms)
        self.asked: list[tuple[str, str | None, bool]] = []

    def synonyms(self, word: str, pos: str | None = None, keep_word: bool = False) -> list[str]:
        self.asked.append((word, pos, keep_word))
        return super().synonyms(word, pos=pos, keep_word=keep_word)


def test_wordnet_is_asked_for_the_lowercased_word_or_as_written_with_its_lemma_kept() -> None:
    wordnet = RecordingWordNet({("good", None): ["Good", "fine"]})
    text = segment_text("Good film")
    assert WordNetSynonyms(wordnet).candidates(text, [0]) == [["Fine"]]
    assert WordNetSynonyms(wordnet, rule=TextAttackCandidates()).candidates(text, [0]) == [["fine"]]
    assert wordnet.asked == [("good", None, False), ("Good", None, True)]


def test_generators_name_a_rule_that_is_not_the_default() -> None:
    table = TinyNeighbourTable({})
    assert "rule" not in EmbeddingNeighbours(table).describe()
    assert EmbeddingNeighbours(table, rule=TextAttackCandidates()).describe()["rule"] == "textattack"
