"""Word victims read Arabic: clitics split, spellings merged, vectors trained here; and no victim judges a
language it was not trained on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from textrobust.data import Dataset, Split
from textrobust.errors import DataError, VictimError
from textrobust.resources.trained_vectors import train_ppmi_vectors
from textrobust.victims import load_victim
from textrobust.victims.bert import check_tokenizer_coverage
from textrobust.victims.evaluation import evaluate_victim
from textrobust.victims.training import TrainConfig, train_victim
from textrobust.victims.vocab import Vocabulary, WordTokenizer


def test_the_arabic_tokenizer_splits_proclitics_and_merges_spellings() -> None:
    arabic = WordTokenizer.for_language("ar")
    assert arabic.tokenize("والفيلمُ رائعٌ جدًا!") == ["و+", "ال+", "فيلم", "رائع", "جدا", "!"]
    assert arabic.tokenize("مدرسة إلى") == arabic.tokenize("مدرسه الي")
    # English (and the default) keeps the plain tokenizer: victims saved before this stay the same.
    assert WordTokenizer.for_language("en") == WordTokenizer()
    assert WordTokenizer().tokenize("والفيلم") == ["والفيلم"]
    vocab = Vocabulary.build(["والفيلم رائع", "الفيلم ممل"], tokenizer=arabic)
    assert vocab.encode("بالفيلم")[-1] == vocab.words.index("فيلم")  # the stem is known in any form


def test_ppmi_vectors_put_words_of_the_same_contexts_together() -> None:
    rng = np.random.default_rng(0)
    topics = [["قط", "كلب", "حصان"], ["سيارة", "قطار", "طائرة"]]
    context = [["يأكل", "يجري", "ينام", "حيوان"], ["سريع", "محرك", "وقود", "طريق"]]
    sentences = []
    for _ in range(400):
        t = int(rng.integers(2))
        sentences.append([str(rng.choice(topics[t])), *rng.choice(context[t], 3).tolist()])
    words = ["<pad>", "<unk>", "قط", "كلب", "سيارة", "نادر"]
    vectors, trained = train_ppmi_vectors(sentences, words, dim=4, window=3, min_count=2, seed=0)
    assert trained.tolist() == [False, False, True, True, True, False]
    cat, dog, car = vectors[2], vectors[3], vectors[4]
    assert cat @ dog > cat @ car + 0.3
    again, _ = train_ppmi_vectors(sentences, words, dim=4, window=3, min_count=2, seed=0)
    assert np.array_equal(vectors, again)


def _arabic_dataset(n: int = 120) -> Dataset:
    rng = np.random.default_rng(1)
    good, bad = ["رائع", "جميل", "ممتاز"], ["سيء", "ممل", "رديء"]
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        word = str(rng.choice(good if label else bad))
        texts.append(f"والفيلم {word} جدا {'والممثلين' if i % 3 else 'الممثلين'} {word}")
        labels.append(label)
    split = Split(texts, labels)
    return Dataset(
        "ar-tiny", "ar", ["negative", "positive"], {"train": split, "validation": split, "test": split}
    )


def test_an_arabic_word_victim_trains_saves_and_reloads_identically(tmp_path: Path) -> None:
    dataset = _arabic_dataset()
    victim, _ = train_victim("wordcnn", dataset, tmp_path / "cnn", TrainConfig(epochs=2, progress=False))
    reloaded = load_victim(tmp_path / "cnn")
    assert reloaded.vocab.tokenizer == WordTokenizer(normalize=True, clitics=True)
    assert "و+" in reloaded.vocab and "فيلم" in reloaded.vocab
    texts = dataset.split("test").texts[:8]
    assert np.array_equal(victim.predict_proba(texts), reloaded.predict_proba(texts))
    assert reloaded.training_info["victim_type"] == "wordcnn"


def test_a_victim_refuses_a_dataset_in_another_language(tiny_wordcnn_dir: Path) -> None:
    with pytest.raises(DataError, match="trained on 'en' text but dataset 'ar-tiny' is 'ar'"):
        evaluate_victim(load_victim(tiny_wordcnn_dir), _arabic_dataset())


def test_an_encoder_that_cannot_read_the_language_is_refused() -> None:
    from tests.stand_ins import tiny_masked_lm

    english = tiny_masked_lm(["the", "film", "was", "great", "boring", "actors"]).tokenizer
    arabic_texts = _arabic_dataset().split("train").texts
    with pytest.raises(VictimError, match="cannot read this 'ar' text"):
        check_tokenizer_coverage(english, arabic_texts, "ar", "tiny-english")
    check_tokenizer_coverage(english, ["the film was great", "boring actors"], "en", "tiny-english")
