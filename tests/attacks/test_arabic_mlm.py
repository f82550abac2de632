"""A masked LM proposes substitutes in the data's script only, whole words only, and refuses a language it
does not know; the Arabic MLM-synonym never puts a function word in a content word's place."""

from __future__ import annotations

import pytest

from tests.stand_ins import HashingEncoder, KeywordModel, tiny_masked_lm
from textrobust.attacks.constraints import StopwordCandidate, Substitution
from textrobust.attacks.mlm import MaskedLanguageModel
from textrobust.attacks.options import AttackOptions
from textrobust.attacks.recipes import RecipeResources, build_attack
from textrobust.data.arabic import is_arabic_word, is_clitic_only
from textrobust.data.text import segment_text
from textrobust.errors import ResourceMissingError
from textrobust.resources.stopwords import stopwords

ARABIC = ["فيلم", "رائع", "جميل", "ممتاز", "ممل", "سيء", "الممثلين", "القصة", "من", "في", "ال", "و", "ب"]
ENGLISH = ["film", "great", "boring", "de", "were", "g"]
SENTENCE = "الفيلم رائع والقصة جميلة"


def _mixed_mlm(language: str | None, seed: int = 0) -> MaskedLanguageModel:
    english_and_arabic = tiny_masked_lm([*ARABIC, *ENGLISH], seed=seed)
    return MaskedLanguageModel(
        english_and_arabic.model, english_and_arabic.tokenizer, name="mixed", language=language
    )


def test_proposals_for_arabic_text_are_arabic_whole_words() -> None:
    text = segment_text(SENTENCE)
    unfiltered = _mixed_mlm(None).at_mask(text, [1, 3], 40)
    assert any(not is_arabic_word(w) for proposals in unfiltered for w, _ in proposals)  # the trap is real
    for proposals in _mixed_mlm("ar").at_mask(text, [1, 3], 40):
        words = [w for w, _ in proposals]
        assert words and all(is_arabic_word(w) and not is_clitic_only(w) and len(w) >= 2 for w in words)


def test_a_masked_lm_that_does_not_know_the_language_is_refused() -> None:
    english = tiny_masked_lm(["the", "film", "was", "great", "boring"])
    with pytest.raises(ResourceMissingError, match="does not know language 'ar'"):
        MaskedLanguageModel(english.model, english.tokenizer, name="tiny-english", language="ar")
    MaskedLanguageModel(english.model, english.tokenizer, name="tiny-english", language="en")


def test_stopword_candidates_are_rejected() -> None:
    constraint = StopwordCandidate(stopwords("ar"))
    text = segment_text(SENTENCE)
    substitution = Substitution(text, text, 1, frozenset())
    reasons = constraint.check_candidates(substitution, ["ممتاز", "من", "في"])
    assert reasons[0] is None and reasons[1] and reasons[2]
    assert constraint.check_position(substitution) is None  # it never forbids a position


def test_arabic_mlm_synonym_changes_content_words_to_arabic_content_words() -> None:
    attack = build_attack(
        "mlm-synonym",
        AttackOptions(disable=["pos", "sentence-similarity"]),
        RecipeResources("ar", masked_lm=_mixed_mlm("ar", seed=3), sentence_encoder=HashingEncoder()),
    )
    assert "stopword-candidate" in [c.name for c in attack.constraints]
    victim = KeywordModel({"رائع": 4.0, "جميلة": 1.0}, bias=-1.0)
    result = attack.attack(SENTENCE, 1, victim)
    assert result.status == "success"
    original, adversarial = segment_text(SENTENCE).words, segment_text(result.adversarial_text or "").words
    changed = [new for old, new in zip(original, adversarial, strict=True) if old != new]
    assert changed and all(is_arabic_word(w) and w not in stopwords("ar") for w in changed)
    english_attack = build_attack(
        "mlm-synonym",
        AttackOptions(disable=["pos"]),
        RecipeResources(masked_lm=tiny_masked_lm(ENGLISH), sentence_encoder=HashingEncoder()),
    )
    assert "stopword-candidate" not in [c.name for c in english_attack.constraints]  # the paper's recipe
