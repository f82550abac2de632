"""The attack engine: candidates, constraints, search and goal, on small real models."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.stand_ins import (
    DictTagger,
    DictWordNet,
    HashingEncoder,
    KeywordModel,
    LinearGradientModel,
    TinyNeighbourTable,
    tiny_masked_lm,
)
from textrobust.attacks.candidates import EmbeddingNeighbours, MaskedLMCandidates, WordNetSynonyms
from textrobust.attacks.constraints import (
    MaxWordsChanged,
    NoRepeatModification,
    QueryBudget,
    SamePartOfSpeech,
    SentenceSimilarity,
    Stopwords,
    Substitution,
    WordEmbeddingCosine,
)
from textrobust.attacks.engine import WordSubstitutionAttack
from textrobust.attacks.goals import UntargetedLabelFlip
from textrobust.attacks.result import AttackResult, WordChange
from textrobust.attacks.search import GreedyByImportance
from textrobust.data.text import is_word, segment_text
from textrobust.errors import AttackError, ResourceMissingError

WEIGHTS = {
    "good": 2.0,
    "great": 2.5,
    "fine": 0.6,
    "decent": 0.3,
    "okay": 0.1,
    "bad": -2.0,
    "dull": -1.6,
    "film": 0.3,
    "movie": 0.2,
    "flick": -0.45,
    "plot": 0.0,
    "story": -0.3,
    "tale": -0.2,
}
NEIGHBOURS = {
    "good": [("great", 0.9), ("fine", 0.8), ("decent", 0.75), ("okay", 0.6), ("bad", 0.3)],
    "film": [("movie", 0.9), ("flick", 0.8)],
    "plot": [("story", 0.85), ("tale", 0.7)],
}
STOPWORDS = frozenset({"the", "a", "is", "was", "and", "this"})


def keyword_model(bias: float = -0.45) -> KeywordModel:
    return KeywordModel(dict(WEIGHTS), bias=bias)


def textfooler_like(table: TinyNeighbourTable | None = None, **search_options) -> WordSubstitutionAttack:
    table = table or TinyNeighbourTable(NEIGHBOURS)
    return WordSubstitutionAttack(
        "test",
        EmbeddingNeighbours(table, k=10),
        [NoRepeatModification(), Stopwords(STOPWORDS), WordEmbeddingCosine(table, 0.5)],
        GreedyByImportance("deletion", **search_options),
        UntargetedLabelFlip(),
    )


# -- results ---------------------------------------------------------------------------------


def test_attack_flips_the_label_and_records_each_change() -> None:
    model = keyword_model()
    result = textfooler_like().attack("The film is good", 1, model)
    assert result.status == "success"
    assert result.adversarial_prediction == 0 != result.label
    assert model.predict_proba([result.adversarial_text]).argmax() == result.adversarial_prediction
    assert result.words_changed >= 1 and result.num_words == 4
    words = list(segment_text("The film is good").words)
    for change in result.changes:
        assert words[change.index] == change.original
        words[change.index] = change.replacement
    assert segment_text(result.adversarial_text).words == tuple(words)
    assert result.queries >= 1 + result.words_changed


def test_only_changed_words_differ_and_separators_are_kept() -> None:
    text = "The  film, is good!!"
    result = textfooler_like().attack(text, 1, keyword_model())
    assert result.status == "success"
    before, after = segment_text(text), segment_text(result.adversarial_text)
    assert before.separators == after.separators
    changed = {i for i, (a, b) in enumerate(zip(before.words, after.words, strict=True)) if a != b}
    assert changed == {c.index for c in result.changes}


def test_an_example_the_victim_already_gets_wrong_is_skipped_with_one_query() -> None:
    model = keyword_model()
    result = textfooler_like().attack("The film is bad", 1, model)
    assert result.status == "skipped"
    assert result.queries == 1 and model.calls == [1]
    assert result.adversarial_text is None


def test_failure_reports_which_constraints_rejected_candidates() -> None:
    table = TinyNeighbourTable({"good": [("bad", 0.3), ("dull", 0.2)]})
    result = textfooler_like(table).attack("a good film", 1, keyword_model())
    assert result.status == "failed"
    assert "word-cosine" in result.failure_reason


def test_no_changeable_word_is_reported() -> None:
    result = textfooler_like().attack("this is the", 1, KeywordModel({}, bias=1.0))
    assert result.status == "failed"
    assert "stopwords 3" in result.failure_reason


def test_result_round_trips_through_a_dict() -> None:
    result = textfooler_like().attack("The film is good", 1, keyword_model())
    again = AttackResult.from_dict(result.to_dict())
    assert again == result


# -- constraints -----------------------------------------------------------------------------


def test_stopwords_are_never_changed() -> None:
    table = TinyNeighbourTable({**NEIGHBOURS, "the": [("bad", 0.9)], "is": [("dull", 0.9)]})
    model = keyword_model()
    result = textfooler_like(table).attack("the film is good", 1, model)
    assert all(c.original.lower() not in STOPWORDS for c in result.changes)


def test_max_words_changed_caps_the_number_of_substitutions() -> None:
    # Needs two changes: 'good' alone can at best become 'okay' (logit stays > 0 with the bias below).
    model = KeywordModel(dict(WEIGHTS), bias=0.2)
    table = TinyNeighbourTable(NEIGHBOURS)
    base = textfooler_like(table)
    assert base.attack("good film plot", 1, model).words_changed >= 2
    capped = WordSubstitutionAttack(
        "capped",
        EmbeddingNeighbours(table),
        [MaxWordsChanged(fraction=0.34), WordEmbeddingCosine(table, 0.5)],
        GreedyByImportance("deletion"),
        UntargetedLabelFlip(),
    )
    result = capped.attack("good film plot", 1, model)
    assert result.status == "failed" and result.words_changed == 0
    assert MaxWordsChanged(0.4).limit(10) == 4 and MaxWordsChanged(0.1, min_words=4).limit(20) == 4


def test_word_embedding_cosine_rejects_far_and_unknown_words() -> None:
    table = TinyNeighbourTable(NEIGHBOURS)
    substitution = Substitution(segment_text("good film"), segment_text("good film"), 0, frozenset())
    reasons = WordEmbeddingCosine(table, 0.5).check_candidates(substitution, ["great", "bad", "zzz"])
    assert reasons[0] is None
    assert reasons[1].startswith("word cosine 0.300")
    assert reasons[2] == "not in the embedding vocabulary"


def test_same_part_of_speech_allows_noun_verb_swaps_only_when_asked() -> None:
    tagger = DictTagger({"run": "VERB", "quickly": "ADV", "film": "NOUN", "show": "NOUN", "play": "VERB"})
    text = segment_text("the film ends")
    substitution = Substitution(text, text, 1, frozenset())
    strict = SamePartOfSpeech(tagger).check_candidates(substitution, ["show", "play", "quickly"])
    assert strict[0] is None and strict[1] == "part of speech VERB ≠ NOUN" and strict[2] is not None
    loose = SamePartOfSpeech(tagger, allow_noun_verb_swap=True).check_candidates(
        substitution, ["show", "play", "quickly"]
    )
    assert loose[0] is None and loose[1] is None and loose[2] is not None


def test_part_of_speech_tags_all_candidates_in_one_batch() -> None:
    tagger = DictTagger({})
    text = segment_text("one two three four five six seven eight nine ten eleven")
    SamePartOfSpeech(tagger, window=2).check_candidates(
        Substitution(text, text, 5, frozenset()), ["a1", "b1", "c1"]
    )
    assert tagger.calls == 1


def test_sentence_similarity_compares_a_window_around_the_change() -> None:
    encoder = HashingEncoder()
    text = segment_text("w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12")
    substitution = Substitution(text, text, 10, frozenset())
    windowed = SentenceSimilarity(encoder, 0.0, window=3)
    whole = SentenceSimilarity(encoder, 0.0, window=None)
    # One word of 3 changed vs one of 12: the window sees a bigger change.
    assert windowed.scores(substitution, ["zz"])[0] == pytest.approx(2 / 3, abs=1e-6)
    assert whole.scores(substitution, ["zz"])[0] == pytest.approx(11 / 12, abs=1e-6)
    assert encoder.calls[-1] == 2  # reference + one candidate, one call


def test_sentence_similarity_angular_metric_and_threshold_reasons() -> None:
    constraint = SentenceSimilarity(HashingEncoder(), threshold=1 - 0.3 / math.pi, metric="angular")
    assert constraint.similarity(np.array([1.0, 0.0]))[1] == pytest.approx(0.5)
    text = segment_text("good film plot here now")
    reasons = constraint.check_candidates(Substitution(text, text, 0, frozenset()), ["great"])
    assert reasons[0].startswith("sentence similarity 0.")


def test_sentence_similarity_uses_the_short_text_threshold_below_the_window() -> None:
    constraint = SentenceSimilarity(HashingEncoder(), 0.99, window=15, short_text_threshold=0.1)
    assert constraint.threshold_for(segment_text("a short text")) == 0.1
    assert constraint.threshold_for(segment_text(" ".join(["w"] * 15))) == 0.99


def test_sentence_similarity_against_current_or_original_text() -> None:
    encoder = HashingEncoder()
    original = segment_text("aa bb cc dd")
    current = original.replace(0, "zz")
    substitution = Substitution(original, current, 1, frozenset({0}))
    to_original = SentenceSimilarity(encoder, 0.0, compare_to="original").scores(substitution, ["yy"])[0]
    to_current = SentenceSimilarity(encoder, 0.0, compare_to="current").scores(substitution, ["yy"])[0]
    assert to_original == pytest.approx(0.5) and to_current == pytest.approx(0.75)


# -- budget, batching, caching ---------------------------------------------------------------


def test_query_budget_caps_the_queries_and_says_so() -> None:
    model = KeywordModel(dict(WEIGHTS), bias=3.0)  # out of reach: every candidate is tried
    table = TinyNeighbourTable(NEIGHBOURS)
    attack = WordSubstitutionAttack(
        "budgeted",
        EmbeddingNeighbours(table),
        [QueryBudget(5)],
        GreedyByImportance("order"),
        UntargetedLabelFlip(),
    )
    result = attack.attack("good film plot", 1, model)
    assert result.status == "failed" and result.queries == 5
    assert "budget exhausted" in result.failure_reason
    assert sum(model.calls) == 5


def test_all_candidates_of_a_position_go_to_the_victim_in_one_call() -> None:
    model = KeywordModel(dict(WEIGHTS), bias=3.0)
    result = textfooler_like().attack("good film plot", 1, model)
    assert result.status == "failed"
    # original, one batch for the deletion ranking, then one batch per position
    assert model.calls == [1, 3, 4, 2, 2]
    assert result.queries == sum(model.calls)


# -- search ----------------------------------------------------------------------------------


def test_words_are_tried_in_order_of_deletion_importance() -> None:
    model = KeywordModel({"alpha": 0.5, "beta": 3.0, "gamma": 1.0, "weak": -0.1}, bias=-0.2)
    table = TinyNeighbourTable({w: [("weak", 0.9)] for w in ("alpha", "beta", "gamma")})
    attack = WordSubstitutionAttack(
        "rank", EmbeddingNeighbours(table), [], GreedyByImportance("deletion"), UntargetedLabelFlip()
    )
    result = attack.attack("alpha beta gamma", 1, model)
    assert result.status == "success"
    assert [c.original for c in result.changes] == ["beta", "gamma", "alpha"]


def test_pwws_weights_saliency_by_the_best_substitution() -> None:
    # 'beta' is the most salient word but has only a weak synonym; 'alpha' has a strong one.
    model = KeywordModel({"alpha": 1.0, "beta": 2.0, "anti": -4.0, "bet": 1.9}, bias=-0.5)
    wordnet = DictWordNet({("alpha", "n"): ["anti"], ("beta", "n"): ["bet"]})
    attack = WordSubstitutionAttack(
        "pwws",
        WordNetSynonyms(wordnet, pos_tagger=DictTagger({})),
        [],
        GreedyByImportance("pwws"),
        UntargetedLabelFlip(),
    )
    result = attack.attack("beta alpha", 1, model)
    assert result.status == "success"
    assert result.changes == [WordChange(1, "alpha", "anti")]


def test_gradient_ranking_uses_the_white_box_victim() -> None:
    weights = {"alpha": 0.5, "beta": 3.0, "gamma": 1.0, "weak": -0.1}
    table = TinyNeighbourTable({w: [("weak", 0.9)] for w in ("alpha", "beta", "gamma")})
    attack = WordSubstitutionAttack(
        "a2t", EmbeddingNeighbours(table), [], GreedyByImportance("gradient"), UntargetedLabelFlip()
    )
    result = attack.attack("alpha beta gamma", 1, LinearGradientModel(weights, bias=-0.2))
    assert [c.original for c in result.changes] == ["beta", "gamma", "alpha"]
    assert result.queries == 1 + 1 + 3  # original, gradient, three positions
    with pytest.raises(AttackError, match="white-box"):
        attack.attack("alpha beta gamma", 1, KeywordModel(weights, bias=-0.2))


def test_beam_search_finds_an_attack_greedy_misses() -> None:
    # Greedy takes 'aa' (best alone) at x; only 'bb' followed by 'cc' flips the label.
    model = KeywordModel(
        {"x": 0.0, "aa": -0.6, "bb": -0.3, "cc": -0.2}, bias=1.0, bigrams={("bb", "cc"): -3.0}
    )
    table = TinyNeighbourTable({"x": [("aa", 0.9), ("bb", 0.8)], "y": [("cc", 0.9)]})

    def attack(beam: int) -> AttackResult:
        search = GreedyByImportance("order", beam_width=beam)
        return WordSubstitutionAttack(
            "b", EmbeddingNeighbours(table), [], search, UntargetedLabelFlip()
        ).attack("x y", 1, model)

    assert attack(1).status == "failed"
    result = attack(2)
    assert result.status == "success" and result.adversarial_text == "bb cc"


def test_hard_label_attack_sees_only_the_top_class() -> None:
    model = KeywordModel(dict(WEIGHTS), bias=0.2)
    soft = textfooler_like().attack("good film plot", 1, model)
    assert soft.status == "success" and soft.words_changed >= 2
    table = TinyNeighbourTable(NEIGHBOURS)
    hard = WordSubstitutionAttack(
        "hard",
        EmbeddingNeighbours(table),
        [NoRepeatModification(), WordEmbeddingCosine(table, 0.5)],
        GreedyByImportance("deletion"),
        UntargetedLabelFlip(hard_label=True),
    )
    result = hard.attack("good film plot", 1, model)
    assert (
        result.status == "failed"
    )  # no single word flips it, and 0/1 scores give the greedy search no gradient
    assert result.original_proba[1] < 1.0  # the stored probabilities are the victim's own
    one_word = hard.attack("The film is good", 1, keyword_model())
    assert one_word.status == "success" and one_word.words_changed == 1


def test_random_ranking_depends_on_the_seed_only() -> None:
    def ranking(seed: int) -> list[int]:
        attack = WordSubstitutionAttack(
            "r",
            EmbeddingNeighbours(TinyNeighbourTable({})),
            [],
            GreedyByImportance("random"),
            UntargetedLabelFlip(),
            seed=seed,
        )
        from textrobust.attacks.candidates import CandidateCache
        from textrobust.attacks.constraints import CandidateFilter
        from textrobust.attacks.oracle import QueryOracle
        from textrobust.attacks.search import Problem

        problem = Problem(
            segment_text(" ".join(f"w{i}" for i in range(12))),
            QueryOracle(keyword_model(), attack.goal, 1),
            CandidateCache(attack.candidates),
            CandidateFilter([]),
            seed=seed,
        )
        return attack.search.rank(problem, list(range(12)))

    assert ranking(0) == ranking(0)
    assert ranking(0) != ranking(1)
    assert sorted(ranking(3)) == list(range(12))


def test_same_seed_gives_the_same_adversarial_texts() -> None:
    texts = ["The film is good", "good film plot", "a good plot and a good film"]

    def run() -> list[str | None]:
        model = KeywordModel(dict(WEIGHTS), bias=0.0)
        return [textfooler_like().attack(t, 1, model).adversarial_text for t in texts]

    first = run()
    assert first == run()
    assert any(text is not None for text in first)  # the attacks found something to compare


# -- candidates ------------------------------------------------------------------------------


def test_embedding_neighbours_keep_the_case_and_drop_the_original() -> None:
    table = TinyNeighbourTable({"good": [("good", 1.0), ("great", 0.9), ("new york", 0.8), ("fine", 0.4)]})
    generator = EmbeddingNeighbours(table, k=5, min_cos=0.5)
    assert generator.candidates(segment_text("Good film"), [0]) == [["Great"]]


def test_wordnet_synonyms_follow_the_part_of_speech_and_skip_multiword_lemmas() -> None:
    wordnet = DictWordNet({("run", "v"): ["sprint", "go_away"], ("run", "n"): ["trial"]})
    tagger = DictTagger({"run": "VERB", "the": "DET"})
    generator = WordNetSynonyms(wordnet, pos_tagger=tagger)
    assert generator.candidates(segment_text("run the"), [0, 1]) == [["sprint"], []]
    assert sorted(WordNetSynonyms(wordnet).candidates(segment_text("run"), [0])[0]) == ["sprint", "trial"]


VOCAB = "the a movie film good bad great dull plot acting is was not very were fun".split()


def test_masked_lm_proposes_whole_words_only_without_the_original() -> None:
    mlm = tiny_masked_lm(VOCAB)
    generator = MaskedLMCandidates(mlm, k=8, method="mask")
    text = segment_text("The movie was good, the plot dull!")
    for index, found in zip([1, 3, 6], generator.candidates(text, [1, 3, 6]), strict=True):
        assert 0 < len(found) <= 8
        assert all(is_word(w) and not w.startswith("#") for w in found)
        assert text.words[index].lower() not in {w.lower() for w in found}
        assert all(w.lower() in VOCAB for w in found)


def test_masked_lm_batches_all_positions_in_one_forward_pass() -> None:
    mlm = tiny_masked_lm(VOCAB)
    calls: list[int] = []
    mlm.model.base_model.register_forward_hook(
        lambda _m, _args, kwargs, _out: calls.append(kwargs["input_ids"].shape[0]), with_kwargs=True
    )
    text = segment_text("the movie was good and the plot was dull")
    MaskedLMCandidates(mlm, k=5).candidates(text, [1, 3, 7, 8])
    assert calls == [4]
    MaskedLMCandidates(mlm, k=5).candidates(text, [1, 3])  # cached
    assert calls == [4]


def test_masked_lm_in_context_builds_multi_piece_words_from_pieces() -> None:
    mlm = tiny_masked_lm(VOCAB)
    text = segment_text("the movies were fun")  # 'movies' = movie + ##s
    found = MaskedLMCandidates(mlm, k=10, method="in-context").candidates(text, [1])[0]
    assert found and all(is_word(w) for w in found)
    pieces = {"s", "ed", "ing", "ly", "er"}
    assert all(any(w.endswith(p) and w[: -len(p)] in VOCAB for p in pieces) for w in found)
    assert "movies" not in found


def test_masked_lm_applies_its_head_only_where_needed_with_the_same_logits() -> None:
    import torch

    mlm = tiny_masked_lm(VOCAB)
    assert mlm._head is mlm.model.cls
    encoded, _ = mlm._encode(["the movie was good", "the plot was dull and bad"])
    rows, columns = [0, 1, 1], [2, 1, 6]
    fast = mlm._logits_at(encoded, rows, columns)
    with torch.inference_mode():
        full = mlm.model(**encoded).logits[rows, columns]
    torch.testing.assert_close(fast, full, rtol=1e-4, atol=1e-5)
    text = segment_text("the movie was good and the plot was dull")
    expected = mlm.at_mask(text, [1, 3], 6) + mlm.in_context(text, [1, 8], 6)
    mlm._head = None  # the generic path: full logits
    mlm._cache.clear()
    again = mlm.at_mask(text, [1, 3], 6) + mlm.in_context(text, [1, 8], 6)
    assert [[w for w, _ in found] for found in again] == [[w for w, _ in found] for found in expected]
    for found, wanted in zip(again, expected, strict=True):
        np.testing.assert_allclose([lp for _, lp in found], [lp for _, lp in wanted], rtol=1e-5)


def test_a_masked_lm_folder_loads_by_path_and_proposes_the_same_words(tmp_path) -> None:
    from textrobust.attacks.mlm import load_masked_lm

    mlm = tiny_masked_lm(VOCAB, seed=2)
    mlm.model.save_pretrained(str(tmp_path / "mlm"))
    mlm.tokenizer.save_pretrained(str(tmp_path / "mlm"))
    loaded = load_masked_lm(tmp_path / "mlm")
    text = segment_text("the movie was good and the plot was dull")
    assert [[w for w, _ in f] for f in loaded.at_mask(text, [1, 3], 5)] == [
        [w for w, _ in f] for f in mlm.at_mask(text, [1, 3], 5)
    ]
    with pytest.raises(ResourceMissingError, match="not found"):
        load_masked_lm(tmp_path / "missing")


def test_masked_lm_matches_the_case_of_the_original_word() -> None:
    mlm = tiny_masked_lm(VOCAB)
    found = MaskedLMCandidates(mlm, k=5).candidates(segment_text("The Movie was good"), [1])[0]
    assert found and all(w[0].isupper() for w in found)


# -- recheck ---------------------------------------------------------------------------------


def full_attack(encoder: HashingEncoder) -> WordSubstitutionAttack:
    table = TinyNeighbourTable(NEIGHBOURS)
    tagger = DictTagger(
        {"good": "ADJ", "great": "ADJ", "fine": "ADJ", "decent": "ADJ", "okay": "ADJ", "bad": "ADJ"}
    )
    return WordSubstitutionAttack(
        "full",
        EmbeddingNeighbours(table),
        [
            NoRepeatModification(),
            Stopwords(STOPWORDS),
            MaxWordsChanged(0.5),
            WordEmbeddingCosine(table, 0.5),
            SamePartOfSpeech(tagger),
            SentenceSimilarity(encoder, 0.3, window=5),
            QueryBudget(50),
        ],
        GreedyByImportance("deletion"),
        UntargetedLabelFlip(),
    )


def test_recheck_passes_the_attacks_own_results() -> None:
    attack = full_attack(HashingEncoder())
    model = KeywordModel(dict(WEIGHTS), bias=0.0)
    results = [
        attack.attack(t, 1, model) for t in ["The film is good", "good film plot", "a good plot and a film"]
    ]
    assert any(r.status == "success" for r in results)
    for result in results:
        assert attack.recheck(result) == []
    # A fresh attack object (no caches) agrees.
    fresh = full_attack(HashingEncoder())
    assert all(fresh.recheck(AttackResult.from_dict(r.to_dict())) == [] for r in results)


def test_recheck_finds_each_kind_of_violation() -> None:
    attack = full_attack(HashingEncoder())
    model = KeywordModel(dict(WEIGHTS), bias=0.0)
    result = attack.attack("The film is good", 1, model)
    assert result.status == "success"

    def tampered(**changes) -> AttackResult:
        record = result.to_dict()
        record.update(changes)
        return AttackResult.from_dict(record)

    stopword = tampered(
        adversarial_text="A film is good", changes=[{"index": 0, "original": "The", "replacement": "A"}]
    )
    assert any("stopwords" in v for v in attack.recheck(stopword))
    far = tampered(
        adversarial_text="The film is bad", changes=[{"index": 3, "original": "good", "replacement": "bad"}]
    )
    assert any("word-cosine" in v for v in attack.recheck(far))
    mismatch = tampered(adversarial_text="The film is nice")
    assert "the changes do not reproduce the adversarial text" in attack.recheck(mismatch)
    over_budget = tampered(queries=51)
    assert any(v.startswith("budget") for v in attack.recheck(over_budget))
    not_flipped = tampered(adversarial_prediction=1, adversarial_proba=[0.2, 0.8])
    assert any(v.startswith("goal") for v in attack.recheck(not_flipped))
    too_many = tampered(
        adversarial_text="The movie is great",
        changes=[
            {"index": 1, "original": "film", "replacement": "movie"},
            {"index": 3, "original": "good", "replacement": "great"},
            {"index": 3, "original": "great", "replacement": "fine"},
        ],
    )
    violations = attack.recheck(too_many)
    assert any("repeat" in v for v in violations) and any("max-words" in v for v in violations)
