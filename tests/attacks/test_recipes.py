"""Recipes: each builds and attacks, and every adversarial example it makes passes all its constraints."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.stand_ins import (
    SHARED,
    DictTagger,
    DictWordNet,
    HashingEncoder,
    KeywordModel,
    LinearGradientModel,
    TinyNeighbourTable,
    tiny_masked_lm,
)
from textrobust.attacks.constraints import CONSTRAINT_NAMES, QueryBudget, SamePartOfSpeech
from textrobust.attacks.engine import WordSubstitutionAttack
from textrobust.attacks.options import AttackOptions
from textrobust.attacks.recipes import RECIPES, RecipeResources, build_attack
from textrobust.attacks.result import AttackResult
from textrobust.errors import AttackError, ParameterError, ResourceMissingError

WEIGHTS = {
    "good": 1.6,
    "great": 1.8,
    "fun": 1.0,
    "fine": 0.8,
    "bad": -2.0,
    "dull": -2.0,
    "poor": -2.0,
    "not": -0.5,
}
TEXTS = [
    "the movie was good and the acting was great , a very fun plot",
    "a good film with fine acting and a plot that was fun to see",
    "the plot was good , the movie was fun and the acting was fine",
]
VOCAB = sorted(
    {w for t in TEXTS for w in t.split() if w.isalpha()} | set(WEIGHTS) | {"film", "movie", "story"}
)
ADJECTIVES = {w: "ADJ" for w in ("good", "great", "fun", "fine", "bad", "dull", "poor")}
STOPWORDS = frozenset({"the", "a", "and", "was", "with", "that", "to", "very"})


@pytest.fixture(scope="module")
def tiny_resources() -> dict[str, object]:
    table = TinyNeighbourTable(
        {
            "good": [("fine", 0.9), ("bad", 0.85), ("poor", 0.82)],
            "great": [("good", 0.9), ("dull", 0.85)],
            "fun": [("dull", 0.84)],
            "fine": [("poor", 0.83)],
            "acting": [("story", 0.81)],
        }
    )
    wordnet = DictWordNet({("good", "a"): ["poor", "fine"], ("great", "a"): ["dull"], ("fun", "a"): ["dull"]})
    return {
        "neighbours": table,
        "sentence_encoder": HashingEncoder(),
        "pos_tagger": DictTagger(ADJECTIVES),
        "wordnet": wordnet,
        "stopwords": STOPWORDS,
        "masked_lm": tiny_masked_lm(VOCAB, seed=1),
    }


def model_for(recipe: str) -> KeywordModel:
    return (LinearGradientModel if recipe == "a2t" else KeywordModel)(dict(WEIGHTS), bias=-1.5)


def test_the_six_recipes_are_listed() -> None:
    assert list(RECIPES) == ["mlm-synonym", "textfooler", "bert-attack", "bae", "pwws", "a2t"]


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_every_recipe_attacks_and_its_results_pass_its_own_recheck(recipe: str, tiny_resources) -> None:
    attack = build_attack(recipe, None, RecipeResources(**tiny_resources))
    assert isinstance(attack, WordSubstitutionAttack) and attack.name == recipe
    json.dumps(attack.describe())
    model = model_for(recipe)
    results = [attack.attack(text, 1, model) for text in TEXTS]
    assert {r.status for r in results} <= {"success", "failed"}
    assert any(r.status == "success" for r in results), [r.failure_reason for r in results]
    for result in results:
        assert attack.recheck(AttackResult.from_dict(result.to_dict())) == []
        if result.status == "success":
            replay = model.predict_proba([result.adversarial_text])[0]
            assert int(np.argmax(replay)) == result.adversarial_prediction != result.label
            assert result.similarity is not None


def test_recipe_declarations_keep_the_papers_settings(tiny_resources) -> None:
    def settings(recipe: str) -> dict[str, dict]:
        described = build_attack(recipe, None, RecipeResources(**tiny_resources)).describe()
        return {c["constraint"]: c for c in described["constraints"]} | {
            "candidates": described["candidates"],
            "search": described["search"],
        }

    textfooler = settings("textfooler")
    assert textfooler["candidates"]["k"] == 50 and textfooler["word-cosine"]["min_cos"] == 0.5
    assert textfooler["sentence-similarity"]["window"] == 15 and textfooler["pos"]["allow_noun_verb_swap"]
    mlm_synonym = settings("mlm-synonym")
    assert mlm_synonym["candidates"]["k"] == 50 and mlm_synonym["sentence-similarity"]["threshold"] == 0.8
    assert not mlm_synonym["pos"]["allow_noun_verb_swap"] and "max-words" not in mlm_synonym
    bert_attack = settings("bert-attack")
    assert bert_attack["candidates"]["k"] == 48 and bert_attack["max-words"]["fraction"] == 0.4
    assert bert_attack["candidates"]["method"] == "in-context"
    assert (
        settings("bae")["candidates"]["method"] == "mask"
        and settings("bae")["search"]["rank_by"] == "deletion"
    )
    assert settings("pwws")["search"]["rank_by"] == "pwws"
    a2t = settings("a2t")
    assert a2t["search"]["rank_by"] == "gradient" and a2t["max-words"] == {
        "constraint": "max-words",
        "fraction": 0.1,
        "min_words": 4,
    }


def test_unknown_names_are_user_errors(tiny_resources) -> None:
    with pytest.raises(ParameterError, match="recipe 'fooler' is unknown") as bad_recipe:
        build_attack("fooler")
    assert bad_recipe.value.parameter == "recipe"
    with pytest.raises(ParameterError, match="'grammar' is unknown") as bad_disable:
        build_attack("textfooler", AttackOptions(disable=["grammar"]), RecipeResources(**tiny_resources))
    assert bad_disable.value.parameter == "disable"
    with pytest.raises(ParameterError, match="unknown name.s. glove") as bad_resource:
        RecipeResources(glove="x", **tiny_resources)
    assert bad_resource.value.parameter == "resources"
    with pytest.raises(ParameterError, match="budget must be ≥ 1, got 0"):
        AttackOptions(budget=0)
    assert set(CONSTRAINT_NAMES) >= {"pos", "sentence-similarity", "stopwords", "word-cosine", "budget"}


def test_a_disabled_constraint_is_gone_and_its_resource_never_loaded(tiny_resources) -> None:
    resources = dict(tiny_resources)
    resources["pos_tagger"] = "no-such-tagger-model"  # a name: loading it would fail
    attack = build_attack("textfooler", AttackOptions(disable=["pos"]), RecipeResources(**resources))
    assert "pos" not in attack.constraint_names
    assert not any(isinstance(c, SamePartOfSpeech) for c in attack.constraints)
    assert "disabled: pos" in attack.notes
    assert attack.attack(TEXTS[0], 1, model_for("textfooler")).status in {"success", "failed"}


def test_budget_hard_label_and_beam_options_reach_the_attack(tiny_resources) -> None:
    attack = build_attack(
        "textfooler",
        AttackOptions(budget=7, hard_label=True, beam_width=3),
        RecipeResources(**tiny_resources),
        seed=5,
    )
    assert attack.max_queries == 7 and any(isinstance(c, QueryBudget) for c in attack.constraints)
    assert attack.goal.hard_label and attack.search.beam_width == 3 and attack.seed == 5
    assert attack.attack(TEXTS[0], 1, model_for("textfooler")).queries <= 7
    budgeted = build_attack("textfooler", AttackOptions(budget=60), RecipeResources(**tiny_resources))
    result = budgeted.attack(TEXTS[0], 1, model_for("textfooler"))
    assert result.status == "success" and budgeted.recheck(result) == []
    over = AttackResult.from_dict({**result.to_dict(), "queries": 61})
    assert [v for v in budgeted.recheck(over) if v.startswith("budget")] == ["budget: 61 queries > 60"]


def test_a2t_needs_a_white_box_victim(tiny_resources) -> None:
    attack = build_attack("a2t", None, RecipeResources(**tiny_resources))
    with pytest.raises(AttackError, match="white-box"):
        attack.attack(TEXTS[0], 1, KeywordModel(dict(WEIGHTS), bias=-1.5))


def test_similarity_is_reported_even_for_recipes_without_a_similarity_constraint(tiny_resources) -> None:
    attack = build_attack("pwws", None, RecipeResources(**tiny_resources))
    results = [attack.attack(t, 1, model_for("pwws")) for t in TEXTS]
    assert all(r.similarity is not None and 0 < r.similarity < 1 for r in results if r.status == "success")
    quiet = build_attack("pwws", None, RecipeResources(**tiny_resources), report_similarity=False)
    assert all(quiet.attack(t, 1, model_for("pwws")).similarity is None for t in TEXTS)


def test_recipes_are_deterministic(tiny_resources) -> None:
    def run(recipe: str) -> list[str | None]:
        attack = build_attack(recipe, None, RecipeResources(**tiny_resources), seed=3)
        return [attack.attack(t, 1, model_for(recipe)).adversarial_text for t in TEXTS]

    for recipe in ("textfooler", "mlm-synonym", "bert-attack"):
        first = run(recipe)
        assert first == run(recipe)
        assert any(text is not None for text in first), f"{recipe} found nothing: nothing was compared"


# -- with the real resources and victims ---------------------------------------------------


def _attack_examples(attack: WordSubstitutionAttack, victim, split, n: int) -> Iterator[AttackResult]:
    for text, label in zip(split.texts[:n], split.labels[:n], strict=True):
        yield attack.attack(text, label, victim)


def _check_results(attack: WordSubstitutionAttack, victim, results: list[AttackResult]) -> None:
    attacked = [r for r in results if r.status != "skipped"]
    assert attacked, "the victim misclassified every example"
    successes = [r for r in attacked if r.status == "success"]
    assert successes, [r.failure_reason for r in attacked]
    for result in results:
        assert attack.recheck(AttackResult.from_dict(result.to_dict())) == []
    replay = victim.predict_proba([r.adversarial_text for r in successes]).argmax(axis=1)
    assert replay.tolist() == [r.adversarial_prediction for r in successes]


@pytest.mark.slow
def test_textfooler_with_the_real_resources_fools_a_wordcnn(real_resources, mr_wordcnn) -> None:
    victim, test = mr_wordcnn
    attack = build_attack("textfooler", None, RecipeResources(**real_resources))
    results = list(_attack_examples(attack, victim, test, 20))
    _check_results(attack, victim, results)
    again = build_attack(
        "textfooler", None, RecipeResources(**real_resources)
    )  # fresh caches, same seed: same texts
    assert [r.adversarial_text for r in _attack_examples(again, victim, test, 8)] == [
        r.adversarial_text for r in results[:8]
    ]


@pytest.mark.slow
def test_mlm_synonym_with_the_shared_masked_lm_fools_a_wordcnn(real_resources, mr_wordcnn) -> None:
    mlm_dir = SHARED / "models" / "minilm-mlm-en"
    if not mlm_dir.exists():
        pytest.skip("the shared masked LM is not available (expected ../shared/models/minilm-mlm-en)")
    victim, test = mr_wordcnn
    attack = build_attack("mlm-synonym", None, RecipeResources(mlm=str(mlm_dir), **real_resources))
    results = list(_attack_examples(attack, victim, test, 20))
    _check_results(attack, victim, results)


@pytest.mark.slow
def test_mlm_synonym_runs_end_to_end_on_arabic_ajgt(ajgt_path: Path, one_thread) -> None:
    from textrobust.data import Dataset, load_dataset
    from textrobust.data.text import segment_text
    from textrobust.resources.sentence_encoder import load_sentence_encoder
    from textrobust.resources.stopwords import stopwords
    from textrobust.victims.training import TrainConfig, train_victim

    data = load_dataset(ajgt_path)
    assert data.language == "ar"
    small = Dataset(
        "ajgt-small",
        "ar",
        data.label_names,
        {
            "train": data.split("train").head(600),
            "validation": data.split("validation").head(100),
            "test": data.split("test").head(12),
        },
    )
    victim, _report = train_victim(
        "wordcnn", small, config=TrainConfig(epochs=3, progress=False, seed=0), vectors=None
    )
    words = sorted({w for t in small.split("train").texts for w in segment_text(t).words})[:400]
    mlm = tiny_masked_lm(words, seed=0)
    options: dict[str, object] = {}
    try:
        from textrobust.resources.pos import load_pos_tagger

        options["pos_tagger"] = load_pos_tagger("ar")
    except (ImportError, ResourceMissingError):
        options["disable"] = [
            "pos"
        ]  # no Arabic POS tagger offline: the constraint is switched off, and says so
    attack = build_attack(
        "mlm-synonym",
        None,
        RecipeResources(
            "ar",
            mlm=mlm,
            stopwords=stopwords("ar"),
            sentence_encoder=load_sentence_encoder("use-multilingual"),
            **options,
        ),
    )
    results = list(_attack_examples(attack, victim, small.split("test"), 12))
    assert all(r.status in {"success", "failed", "skipped"} for r in results)
    attacked = [r for r in results if r.status != "skipped"]
    assert attacked
    for result in results:
        assert attack.recheck(result) == []
        for change in result.changes:
            assert change.original.lower() not in stopwords("ar")
    successes = [r for r in results if r.status == "success"]
    assert successes, [r.failure_reason for r in attacked]
    replay = victim.predict_proba([r.adversarial_text for r in successes]).argmax(axis=1)
    assert replay.tolist() == [r.adversarial_prediction for r in successes]
