"""Arabic substitutions: WordNet synonyms without a POS tagger, PWWS for Arabic, the known-word constraint."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stand_ins import SHARED, HashingEncoder, KeywordModel
from textrobust.attacks.candidates import WordNetSynonyms
from textrobust.attacks.constraints import CONSTRAINT_NAMES, KnownWord, Substitution
from textrobust.attacks.options import AttackOptions
from textrobust.attacks.recipes import RecipeResources, build_attack, check_recipe_options
from textrobust.data.text import segment_text
from textrobust.errors import ParameterError, ResourceMissingError
from textrobust.resources.arabic_wordnet import ArabicWordNet, TabText, build_lexicon, load_arabic_wordnet
from textrobust.resources.stopwords import stopwords
from textrobust.resources.wordlist import WordList, read_word_list

SHARED_AWN = SHARED / "data" / "arabic-wordnet"
TAB = """00000001-n\tlemma\tكتاب
00000001-n\tlemma\tسفر
00000001-n\tlemma\tمجلد
00000002-n\tlemma\tبيت
00000002-n\tlemma\tمسكن
00000002-n\tlemma\tمنزل
00000003-a\tlemma\tجميل
00000003-a\tlemma\tحسن
"""
SENTENCE = "قرأت الكتاب الجميل في البيت"
TEXT = segment_text(SENTENCE)


@pytest.fixture(scope="module")
def arabic_wordnet() -> ArabicWordNet:
    return ArabicWordNet(build_lexicon([TabText("test", TAB)]))


def arabic_resources(wordnet: object) -> dict[str, object]:
    return {"wordnet": wordnet, "stopwords": stopwords("ar"), "sentence_encoder": HashingEncoder()}


def test_wordnet_synonyms_without_a_tagger_use_every_synset(arabic_wordnet: ArabicWordNet) -> None:
    generator = WordNetSynonyms(arabic_wordnet, pos_tagger=None)
    found = generator.candidates(TEXT, [0, 1, 2, 4])
    assert found == [[], ["السفر", "المجلد"], ["الحسن"], ["المسكن", "المنزل"]]
    assert generator.describe()["pos_filtered"] is False


def test_pwws_builds_for_arabic_without_a_tagger_and_flips_a_keyword_victim(
    arabic_wordnet: ArabicWordNet,
) -> None:
    attack = build_attack("pwws", None, RecipeResources("ar", **arabic_resources(arabic_wordnet)))
    assert attack.language == "ar" and attack.describe()["candidates"]["pos_filtered"] is False
    assert attack.candidates.candidates(TEXT, [1, 4]) == [["السفر", "المجلد"], ["المسكن", "المنزل"]]
    victim = KeywordModel({"الكتاب": 3.0, "البيت": 1.0}, bias=-2.0)
    result = attack.attack(SENTENCE, 1, victim)
    assert result.status == "success" and "الكتاب" not in (result.adversarial_text or "")
    assert any(word in (result.adversarial_text or "") for word in ("السفر", "المجلد"))


def test_other_languages_still_have_no_wordnet(arabic_wordnet: ArabicWordNet) -> None:
    resources = arabic_resources(arabic_wordnet)
    del resources["wordnet"]
    with pytest.raises(ResourceMissingError, match="no recipe data for 'fr'"):
        build_attack("pwws", None, RecipeResources("fr", pos_tagger=object(), **resources))


def test_known_word_rejects_candidates_outside_the_list(tmp_path: Path) -> None:
    words = WordList(frozenset({"مسكن", "سفر"}), "test")
    constraint = KnownWord(words)
    substitution = Substitution(TEXT, TEXT, 4, frozenset())
    verdicts = constraint.check_candidates(substitution, ["المسكن", "المنزل", "والسفر", "للمسكن"])
    assert verdicts[0] is None and verdicts[2] is None and verdicts[3] is None
    assert verdicts[1] == "'المنزل' is not in the word list"
    assert constraint.describe() == {"constraint": "known-word", "source": "test"}
    assert "known-word" in CONSTRAINT_NAMES


def test_build_attack_word_list_option(arabic_wordnet: ArabicWordNet, tmp_path: Path) -> None:
    resources = arabic_resources(arabic_wordnet)
    plain = build_attack("pwws", None, RecipeResources("ar", **resources))
    assert "known-word" not in plain.constraint_names  # no recipe uses it by default
    dic = tmp_path / "ar.dic"
    dic.write_text("2\nمسكن/12\nسفر/7\n", encoding="utf-8")
    given = RecipeResources("ar", word_list=read_word_list(dic), **resources)  # a loaded list, by name too
    for options, given_resources in (
        (AttackOptions(word_list=dic), RecipeResources("ar", **resources)),
        (AttackOptions(word_list=str(dic)), RecipeResources("ar", **resources)),
        (AttackOptions(word_list=str(dic)), given),
    ):
        attack = build_attack("pwws", options, given_resources)
        assert attack.constraint_names[:3] == ["repeat", "stopwords", "known-word"]
        victim = KeywordModel({"الكتاب": 3.0, "البيت": 1.0}, bias=-2.0)
        result = attack.attack(SENTENCE, 1, victim)
        assert result.status == "success" and "السفر" in (result.adversarial_text or "")
        assert "المجلد" not in result.adversarial_text and "المنزل" not in result.adversarial_text
    off = build_attack(
        "pwws", AttackOptions(word_list=dic, disable=["known-word"]), RecipeResources("ar", **resources)
    )
    assert "known-word" not in off.constraint_names
    with pytest.raises(ParameterError, match="neither 'hunspell' nor a word-list file") as bad:
        build_attack(
            "pwws", AttackOptions(word_list=tmp_path / "missing.dic"), RecipeResources("ar", **resources)
        )
    assert bad.value.parameter == "word_list" and "\n" not in str(bad.value)
    # "hunspell" is checked when loaded: it depends on the language
    check_recipe_options("pwws", AttackOptions(word_list="hunspell"))


@pytest.mark.skipif(
    not SHARED_AWN.is_dir(), reason="Arabic WordNet is not available (../shared/data/arabic-wordnet)"
)
def test_pwws_with_the_real_arabic_wordnet_proposes_arabic_candidates(tmp_path: Path) -> None:
    wordnet = load_arabic_wordnet(tmp_path, source=SHARED_AWN)
    attack = build_attack("pwws", None, RecipeResources("ar", **arabic_resources(wordnet)))
    text = segment_text("قرأت الكتاب في البيت مع صديق")
    found = attack.candidates.candidates(text, [1, 3, 5])
    assert all(found), found
    assert all(candidate.startswith("ال") for candidate in found[0] + found[1])
    assert "المنزل" in found[1]
