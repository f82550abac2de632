"""Hostile texts — any unicode, right-to-left, zero-width, emoji, nothing left after normalisation, 10k
words — through the loaders, the word splitters and tokenizers, a victim and an attack: either a result
or a clear ``TextrobustError``, never a crash, and never a text changed on the way."""

from __future__ import annotations

import csv
import gzip
import io
import json
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.stand_ins import DictTagger, DictWordNet, HashingEncoder, KeywordModel, TinyNeighbourTable
from textrobust.attacks.options import AttackOptions
from textrobust.attacks.recipes import RecipeResources, build_attack
from textrobust.data.text import is_word, segment_text
from textrobust.errors import DataError, ParameterError, TextrobustError
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
        split = segment_text(text, rule)
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
    assert len(segment_text(text)) == 10_002 and len(WordTokenizer().tokenize(text)) == 10_002
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


def _table_bytes(texts: list[str], fmt: str) -> bytes:
    """A well-formed CSV or JSONL file of ``texts`` (alternating labels), as a careful writer makes it."""
    rows = [(t, "positive" if i % 2 else "negative") for i, t in enumerate(texts)]
    if fmt.startswith("jsonl"):
        lines = [json.dumps({"text": t, "label": label}, ensure_ascii=False) + "\n" for t, label in rows]
        content = "".join(lines).encode("utf-8")
    else:
        handle = io.StringIO(newline="")
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
        content = handle.getvalue().encode("utf-8")
    return gzip.compress(content, mtime=0) if fmt.endswith(".gz") else content


def _load(content: bytes, suffix: str):  # type: ignore[no-untyped-def]
    """``load_dataset`` of a file holding ``content`` named ``data.<suffix>``."""
    from textrobust.data import load_dataset

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data.{suffix}"
        path.write_bytes(content)
        return load_dataset(str(path))


def _assert_one_line_refusal(error: TextrobustError) -> None:
    """What a bad file may cause: a DataError (or a ParameterError naming a missing column) whose message
    is one line, as the CLI prints it."""
    assert isinstance(error, (DataError, ParameterError)), f"{type(error).__name__}: {error}"
    message = str(error)
    assert message.strip() and len(message.splitlines()) == 1, repr(message)


@settings(max_examples=25)
@given(st.lists(hostile, min_size=4, max_size=12), st.sampled_from(["csv", "jsonl", "csv.gz", "jsonl.gz"]))
def test_a_file_dataset_of_any_texts_loads_them_unchanged_or_names_the_empty_one(
    texts: list[str], fmt: str
) -> None:
    content = _table_bytes(texts, fmt)
    if any(not t.strip() for t in texts):  # the one refusal a well-formed file may meet
        with pytest.raises(DataError, match="empty or whitespace-only text") as refused:
            _load(content, fmt)
        _assert_one_line_refusal(refused.value)
        return
    data = _load(content, fmt)
    loaded = [
        (text, data.label_names[label])
        for split in data.splits.values()
        for text, label in zip(split.texts, split.labels, strict=True)
    ]
    expected = [(t, "positive" if i % 2 else "negative") for i, t in enumerate(texts)]
    assert Counter(loaded) == Counter(expected)  # every text, unchanged, with its own label


def _mutated(draw: st.DrawFn) -> tuple[bytes, str]:
    """A file's bytes and suffix: a well-formed table or random bytes, then maybe cut short, damaged or
    padded with random bytes (before or after gzip)."""
    suffix = draw(st.sampled_from(["csv", "tsv", "jsonl", "csv.gz", "tsv.gz", "jsonl.gz"]))
    plain = suffix.removesuffix(".gz")
    if draw(st.booleans()):
        content = _table_bytes(
            draw(st.lists(hostile, min_size=1, max_size=6)), "jsonl" if plain == "jsonl" else "csv"
        )
        if plain == "tsv":
            content = content.replace(b",", b"\t")
    else:
        content = draw(st.binary(max_size=200))
    gzipped = suffix.endswith(".gz")
    if gzipped and draw(st.booleans()):
        content, gzipped = gzip.compress(content, mtime=0), False  # damage the compressed bytes below
    at = draw(st.integers(0, len(content)))
    how = draw(st.sampled_from(["keep", "cut", "insert", "replace"]))
    noise = draw(st.binary(min_size=1, max_size=8))
    if how == "cut":
        content = content[:at]
    elif how == "insert":
        content = content[:at] + noise + content[at:]
    elif how == "replace":
        content = content[:at] + noise + content[at + len(noise) :]
    if gzipped:
        content = gzip.compress(content, mtime=0)
    return content, suffix


@settings(max_examples=80)
@given(st.composite(_mutated)())
@example((b"text,label\na,\xc2\xb2\nb,1\n", "csv"))  # "²" passes str.isdigit but not int()
@example((gzip.compress(b"text,label\na,x\nb,y\n")[:-6], "csv.gz"))  # cut short: EOFError
@example((gzip.compress(b"text,label\n" + b"a,x\n" * 50)[:20] + b"\xff" * 30, "csv.gz"))  # zlib.error
@example((b'{"text": "a", "label": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "jsonl"))  # RecursionError
@example((b'{"text": "a", "label": ' + b"9" * 5000 + b"}\n", "jsonl"))  # int() digit limit: ValueError
@example((b"text,label\n" + b"a" * 200_000 + b",x\n", "csv"))  # over the csv field limit: csv.Error
@example((b'{"text": "\\ud800", "label": "x"}\n', "jsonl"))  # a lone surrogate: unstorable text
@example((b"text,label\n\xff\xfe,x\n", "csv"))  # not UTF-8
def test_a_hostile_file_loads_or_is_refused_with_one_line_data_error(file: tuple[bytes, str]) -> None:
    content, suffix = file
    try:
        data = _load(content, suffix)
    except TextrobustError as error:
        _assert_one_line_refusal(error)
        return
    # Any other exception fails the test. What loaded is usable: valid, non-empty texts, labels in range.
    assert data.label_names and all(isinstance(name, str) for name in data.label_names)
    for split in data.splits.values():
        assert len(split.texts) == len(split.labels)
        for text, label in zip(split.texts, split.labels, strict=True):
            assert isinstance(text, str) and text.strip() and 0 <= label < len(data.label_names)
            text.encode("utf-8")  # storable: no lone surrogate
