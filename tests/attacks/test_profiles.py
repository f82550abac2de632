"""The ``textattack`` profile: TextAttack 0.3.11's settings, rule by rule, beside the paper recipes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.stand_ins import (
    DictTagger,
    DictWordNet,
    HashingEncoder,
    KeywordModel,
    TinyNeighbourTable,
    tiny_masked_lm,
)
from textrobust.attacks.candidates import EmbeddingNeighbours, MaskedLMCandidates, WordNetSynonyms
from textrobust.attacks.constraints import SamePartOfSpeech, SentenceSimilarity, Stopwords, Substitution
from textrobust.attacks.options import PROFILES, AttackOptions
from textrobust.attacks.policies import TextAttackCandidates, recover_word_case
from textrobust.attacks.recipes import TEXTATTACK_PROFILE, RecipeResources, build_attack
from textrobust.data.text import is_word, segment_text
from textrobust.errors import ParameterError

STOPWORDS = frozenset({"the", "a", "and", "was"})


@pytest.fixture(scope="module")
def resources() -> dict[str, object]:
    words = ["good", "fine", "poor", "bad", "dull", "movie", "film", "the", "was", "great"]
    return {
        "neighbours": TinyNeighbourTable({"good": [("poor", 0.9), ("bad", 0.85)], "great": [("dull", 0.8)]}),
        "sentence_encoder": HashingEncoder(),
        "pos_tagger": DictTagger({"good": "ADJ", "poor": "ADJ", "bad": "ADJ", "great": "ADJ", "dull": "ADJ"}),
        "wordnet": DictWordNet({("good", None): ["poor", "bad", "Good"]}),
        "stopwords": STOPWORDS,
        "masked_lm": tiny_masked_lm(words, seed=2),
    }


# -- words -----------------------------------------------------------------------------------------


def test_the_textattack_word_rule_cuts_as_words_from_text_does() -> None:
    text = "That’s a movie--dumb , *bad* film @x_y_ and it's fine-ish ."
    split = segment_text(text, "textattack")
    assert split.text == text  # nothing lost
    assert split.words == ("That", "s", "a", "movie--dumb", "bad", "film", "x_y", "and", "it's", "fine-ish")
    assert segment_text(text).words[:1] == ("That’s",)  # textrobust's rule keeps the curly apostrophe inside
    assert is_word("movie--dumb", "textattack") and not is_word("movie--dumb")
    assert not is_word("-bad", "textattack")


def test_textattack_case_recovery() -> None:
    assert recover_word_case("Film", "movie") == "film"
    assert recover_word_case("film", "MOVIE") == "FILM"
    assert recover_word_case("film", "Movie") == "Film"
    assert recover_word_case("film", "A") == "film"  # one capital letter is not "Capitalised" there
    assert recover_word_case("film", "McDonald") == "film"


# -- constraints -----------------------------------------------------------------------------------


def test_stopwords_are_case_sensitive_in_the_profile() -> None:
    text = segment_text("The film was fine")
    substitution = Substitution(text, text, 0, frozenset())
    assert Stopwords(STOPWORDS).check_position(substitution) is not None
    assert Stopwords(STOPWORDS, case_sensitive=True).check_position(substitution) is None


def test_short_texts_skip_the_similarity_check_and_score_one() -> None:
    constraint = SentenceSimilarity(HashingEncoder(), 0.99, window=15, skip_short_texts=True)
    short = segment_text("the movie was good")
    substitution = Substitution(short, short, 3, frozenset())
    assert constraint.scores(substitution, ["awful", "xyz"]).tolist() == [1.0, 1.0]
    assert constraint.check_candidates(substitution, ["awful"]) == [None]
    long = segment_text(" ".join(["word"] * 20) + " good")
    scores = constraint.scores(Substitution(long, long, 20, frozenset()), ["awful"])
    assert scores[0] < 1.0


class RecordingTagger(DictTagger):
    def __init__(self, tags: dict[str, str]) -> None:
        super().__init__(tags)
        self.windows: list[list[str]] = []

    def tag_batch(self, batch):  # type: ignore[no-untyped-def]
        self.windows += [list(words) for words in batch]
        return super().tag_batch(batch)


def test_pos_windows_four_before_three_after_in_the_original_text() -> None:
    tagger = RecordingTagger({"good": "ADJ", "fine": "ADJ"})
    constraint = SamePartOfSpeech(tagger, window=4, window_after=3, context="original")
    original = segment_text("w0 w1 w2 w3 w4 good w6 w7 w8 w9 w10")
    current = original.replace(6, "changed")
    assert constraint.check_candidates(Substitution(original, current, 5, frozenset({6})), ["fine"]) == [None]
    assert tagger.windows == [
        ["w1", "w2", "w3", "w4", "good", "w6", "w7", "w8"],
        ["w1", "w2", "w3", "w4", "fine", "w6", "w7", "w8"],  # the original's w6, not the current "changed"
    ]


# -- candidates ------------------------------------------------------------------------------------


def test_textattack_candidates_compare_with_the_word_case_sensitively() -> None:
    table = TinyNeighbourTable({"good": [("Good", 0.95), ("fine", 0.9)]})
    # neighbours get the word's case first (TextAttack's recover_word_case), so "Good" is the word itself
    neighbours = EmbeddingNeighbours(table, rule=TextAttackCandidates(case=recover_word_case))
    assert neighbours.candidates(segment_text("Good film"), [0]) == [["Fine"]]
    wordnet = DictWordNet({("good", None): ["poor", "Good", "bad"]})
    synonyms = WordNetSynonyms(wordnet, rule=TextAttackCandidates())
    assert synonyms.candidates(segment_text("good film"), [0]) == [
        ["poor", "Good", "bad"]
    ]  # "Good" != "good"
    assert WordNetSynonyms(wordnet).candidates(segment_text("good film"), [0]) == [["poor", "bad"]]


def test_textattack_masked_lm_proposals_accept_word_pieces() -> None:
    mlm = tiny_masked_lm(["good", "film", "movie", "the", "was"], seed=0)
    generator = MaskedLMCandidates(mlm, k=50, method="mask", rule=TextAttackCandidates())
    proposals = generator.candidates(segment_text("the film was good"), [3])[0]
    # the tiny vocabulary's pieces ("##ly" ...) come back without their marker, like whole words
    assert {"s", "ed", "ing", "ly", "er"} <= set(proposals)
    assert "good" not in proposals
    whole_words = MaskedLMCandidates(mlm, k=50, method="mask").candidates(
        segment_text("the film was good"), [3]
    )[0]
    assert not {"s", "ed", "ing", "ly", "er"} & set(whole_words)


# -- recipes and search ----------------------------------------------------------------------------


def test_textattack_profile_declares_textattacks_settings(resources) -> None:
    assert PROFILES == ("paper", "textattack")
    assert set(TEXTATTACK_PROFILE) == {"textfooler", "pwws", "bae"}
    textfooler = build_attack(
        "textfooler", AttackOptions(profile="textattack"), RecipeResources(**resources)
    ).describe()
    similarity = next(c for c in textfooler["constraints"] if c["constraint"] == "sentence-similarity")
    assert similarity["threshold"] == pytest.approx(1 - 0.5 / math.pi)
    assert (similarity["metric"], similarity["window"], similarity["compare_to"]) == (
        "angular",
        15,
        "current",
    )
    assert similarity["skip_short_texts"] is True
    pos = next(c for c in textfooler["constraints"] if c["constraint"] == "pos")
    assert (pos["window"], pos["window_after"], pos["context"]) == (4, 3, "original")
    search = textfooler["search"]
    assert (search["tie_breaking"], search["candidate_order"], search["importance"]) == (
        "textattack",
        "text",
        "score",
    )
    assert (textfooler["profile"], textfooler["word_rule"]) == ("textattack", "textattack")
    paper = build_attack("textfooler", None, RecipeResources(**resources)).describe()
    assert paper["profile"] == "paper"
    assert not {"tie_breaking", "candidate_order", "importance"} & set(paper["search"])
    bae = build_attack("bae", AttackOptions(profile="textattack"), RecipeResources(**resources)).describe()
    similarity = next(c for c in bae["constraints"] if c["constraint"] == "sentence-similarity")
    assert (similarity["threshold"], similarity["metric"], similarity["compare_to"]) == (
        0.936338023,
        "cosine",
        "original",
    )
    assert bae["candidates"]["rule"] == "textattack"
    pwws = build_attack("pwws", AttackOptions(profile="textattack"), RecipeResources(**resources)).describe()
    assert pwws["candidates"]["pos_filtered"] is False  # every synset, every part of speech


def test_profile_errors_are_user_errors(resources) -> None:
    with pytest.raises(ParameterError, match="profile"):
        build_attack("textfooler", AttackOptions(profile="openattack"), RecipeResources(**resources))
    with pytest.raises(ParameterError, match="only 'paper'"):
        build_attack("mlm-synonym", AttackOptions(profile="textattack"), RecipeResources(**resources))
    with pytest.raises(ParameterError, match="English"):
        build_attack("pwws", AttackOptions(profile="textattack"), RecipeResources("ar", **resources))


def test_textattack_candidate_order_breaks_score_ties_by_text(resources) -> None:
    # "poor" and "bad" both flip the label with the same probability; the neighbour table lists "poor" first.
    victim = KeywordModel({"good": 2.0, "poor": -2.0, "bad": -2.0}, bias=-1.0)
    text = "good film"
    disable = ("pos", "sentence-similarity", "word-cosine")
    paper = build_attack("textfooler", AttackOptions(disable=disable), RecipeResources(**resources))
    textattack = build_attack(
        "textfooler", AttackOptions(disable=disable, profile="textattack"), RecipeResources(**resources)
    )
    paper, textattack = paper.attack(text, 1, victim), textattack.attack(text, 1, victim)
    assert paper.adversarial_text == "poor film"  # the first best candidate in generator order
    assert textattack.adversarial_text == "bad film"  # TextAttack sorts candidate texts first
    assert np.isclose(paper.adversarial_proba[1], textattack.adversarial_proba[1])
