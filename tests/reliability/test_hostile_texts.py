"""Hostile texts — any unicode, right-to-left, zero-width, emoji, nothing left after normalisation, 10k
words — through the loaders, the word splitters and tokenizers, a victim and an attack: either a result
or a clear ``TextrobustError``, never a crash, and never a text changed on the way."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.stand_ins import DictTagger, DictWordNet, HashingEncoder, KeywordModel, TinyNeighbourTable
from textrobust.attacks.options import AttackOptions
from textrobust.attacks.recipes import RecipeResources, build_attack
from textrobust.data.text import is_word, split_text
from textrobust.errors import TextrobustError
from textrobust.victims.vocab import WordTokenizer

PIECES = [
    "good", "bad", "film", "فيلم", "جميل", "والفيلم", "שלום", "\u200b", "\u200c", "\u200d", "\u200f",
    "\u202e", "😀", "👍🏽", "🇸🇦", "e\u0301", "ﷺ", "\ufeff", "\x00", "\t", "\n", " ", "--", "'", "’", "@", "*",
    "Ⅻ", "𝟕",
]  # fmt: skip
hostile = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=30).map("".join)
settings.register_profile("reliability", max_examples=40, deadline=None)
settings.load_profile("reliability")


@given(hostile)
def test_every_word_rule_splits_any_text_back_into_itself(text: str) -> None:
    for rule in ("textrobust", "textattack"):
        split = split_text(text, rule)
        assert split.text == text
        for i, word in enumerate(split.words):
            assert is_word(word, rule)
            assert split.replace(i, "x").words[i] == "x"


@given(hostile)
def test_word_tokenizers_take_any_text(text: str) -> None:
    for tokenizer in (WordTokenizer(), WordTokenizer(normalize=True, clitics=True)):
        tokens = tokenizer.tokenize(text)
        assert all(isinstance(t, str) and t for t in tokens)


@pytest.fixture(scope="module")
def victim(tiny_wordcnn_dir: Path):  # type: ignore[no-untyped-def]
    from textrobust.victims import load_victim

    return load_victim(tiny_wordcnn_dir)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hostile)
def test_a_victim_scores_any_non_empty_text_or_says_why_not(victim, text: str) -> None:  # type: ignore[no-untyped-def]
    try:
        proba = victim.predict_proba([text])
    except TextrobustError as exc:
        assert not text.strip() and "empty" in str(exc)
        return
    assert proba.shape == (1, 2) and np.isfinite(proba).all() and np.isclose(proba.sum(), 1.0, atol=1e-5)


def test_ten_thousand_words_are_split_tokenized_and_scored_and_two_thousand_attacked(victim) -> None:  # type: ignore[no-untyped-def]
    text = " ".join(["a fine film"] * 3334)
    assert len(split_text(text)) == 10_002 and len(WordTokenizer().tokenize(text)) == 10_002
    assert victim.predict_proba([text]).shape == (1, 2)
    shorter = " ".join(["a fine film"] * 667)
    attack = build_attack("textfooler", None, RecipeResources(**_resources()))
    result = attack.attack(shorter, 1, KeywordModel({"fine": 0.001, "poor": -20.0}, bias=0.5))
    assert result.status == "success" and attack.recheck(result) == []


def _resources() -> dict[str, object]:
    return {
        "neighbours": TinyNeighbourTable({"fine": [("poor", 0.9)], "good": [("bad", 0.9)]}),
        "sentence_encoder": HashingEncoder(),
        "pos_tagger": DictTagger({}),
        "wordnet": DictWordNet({}),
        "stopwords": frozenset({"a", "the"}),
    }


@given(hostile)
def test_an_attack_on_any_text_gives_a_result_that_passes_its_own_recheck(text: str) -> None:
    if not text.strip():
        return  # the victim refuses empty texts (above)
    attack = build_attack("textfooler", AttackOptions(disable=["pos"]), RecipeResources(**_resources()))
    result = attack.attack(text + " good film", 1, KeywordModel({"good": 2.0, "bad": -4.0}))
    assert result.status in ("success", "failed", "skipped")
    assert result.original_text == text + " good film"
    assert attack.recheck(result) == []


@settings(max_examples=25)
@given(st.lists(hostile, min_size=4, max_size=12))
def test_a_file_dataset_of_any_texts_loads_them_unchanged_or_refuses_it(texts: list[str]) -> None:
    import tempfile

    from textrobust.data import load_dataset

    rows = [(t, "positive" if i % 2 else "negative") for i, t in enumerate(texts)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(rows)
        try:
            data = load_dataset(str(path))
        except TextrobustError:
            return  # e.g. texts that are empty, or a file that is not valid text: refused with a reason
        loaded = [t for split in data.splits.values() for t in split.texts]
        assert set(loaded) <= {t for t, _ in rows}
