"""Datasets: the embedded MR sample, file loaders, seeded splits, AJGT and bad input."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from textrobust.data import build_dataset, detect_language, load_dataset, stratified_split
from textrobust.errors import DataError, ParameterError, ResourceMissingError


def test_embedded_mr_is_balanced_with_fixed_splits(mr_dataset) -> None:
    assert mr_dataset.language == "en"
    assert mr_dataset.label_names == ["negative", "positive"]
    sizes = {name: len(split) for name, split in mr_dataset.splits.items()}
    assert sizes == {"train": 8000, "validation": 1000, "test": 1000}
    for split in mr_dataset.splits.values():
        counts = Counter(split.labels)
        assert counts[0] == counts[1] == len(split) // 2
    all_texts = [t for split in mr_dataset.splits.values() for t in split.texts]
    assert len(set(all_texts)) == len(all_texts), "splits must not share sentences"


def test_csv_with_custom_columns_and_seeded_stratified_split(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    lines = ["review,sentiment"] + [
        f'"review number {i}, fine",{"pos" if i % 3 else "neg"}' for i in range(60)
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    first = load_dataset(path, text_column="review", label_column="sentiment", seed=1)
    again = load_dataset(path, text_column="review", label_column="sentiment", seed=1)
    other = load_dataset(path, text_column="review", label_column="sentiment", seed=2)
    assert first.label_names == ["neg", "pos"]
    assert first.splits == again.splits
    assert first.split("test").texts != other.split("test").texts
    assert sum(len(s) for s in first.splits.values()) == 60
    assert first.split("train").texts[0].startswith("review number")
    # stratified: 20 neg / 40 pos → 16 / 32 in train
    assert Counter(first.split("train").labels) == {0: 16, 1: 32}


def test_tsv_split_column_is_respected(tmp_path: Path) -> None:
    path = tmp_path / "data.tsv"
    path.write_text(
        "text\tlabel\tsplit\ngood film\t1\ttrain\nbad film\t0\tdev\nok film\t1\ttest\n", encoding="utf-8"
    )
    dataset = load_dataset(path)
    assert dataset.split("train").texts == ["good film"]
    assert dataset.split("validation").texts == ["bad film"]
    assert dataset.split("dev").texts == ["bad film"]
    assert dataset.split("test").labels == [dataset.label_names.index("1")]


def test_jsonl_loader(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    rows = [{"sentence": f"text {i}", "y": i % 2} for i in range(20)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    dataset = load_dataset(path, text_column="sentence", label_column="y")
    assert dataset.label_names == ["0", "1"]
    assert sum(len(s) for s in dataset.splits.values()) == 20


def test_stratified_split_is_deterministic_and_complete() -> None:
    labels = [0] * 50 + [1] * 30
    parts = stratified_split(labels, seed=7)
    assert parts == stratified_split(labels, seed=7)
    assert sorted(i for idx in parts.values() for i in idx) == list(range(80))


def test_ajgt_loads_as_arabic(ajgt_path: Path) -> None:
    dataset = load_dataset(ajgt_path)
    assert dataset.language == "ar"
    assert dataset.label_names == ["negative", "positive"]
    assert sum(len(s) for s in dataset.splits.values()) == 1800
    assert len(dataset.split("test")) == 180


def test_detect_language() -> None:
    assert detect_language(["هذا فيلم جميل جدا", "سيء"]) == "ar"
    assert detect_language(["a fine film"]) == "en"


# -- bad input ---------------------------------------------------------------------------------
def test_empty_text_is_rejected_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("text,label\ngood,pos\n,neg\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"data.csv:3: empty"):
        load_dataset(path)


def test_whitespace_only_text_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"text": "fine", "label": "a"}\n{"text": "   \\t ", "label": "b"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"data.jsonl:2: empty or whitespace-only"):
        load_dataset(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_dataset(tmp_path / "absent.csv")


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("text,label\ncaf\xe9 cr\xe8me,pos\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        load_dataset(path)


@pytest.mark.parametrize("column", ["text", "label"])
def test_missing_column(tmp_path: Path, column: str) -> None:
    path = tmp_path / "data.csv"
    header = "body,label" if column == "text" else "text,target"
    path.write_text(f"{header}\nhello,pos\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=f"'{column}' is not a column") as missing:
        load_dataset(path)
    assert missing.value.parameter == f"{column}_column"


def test_label_not_in_label_set(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("text,label\ngood,positive\nbad,negativ\n", encoding="utf-8")
    with pytest.raises(DataError, match="label 'negativ' is not in the label set"):
        load_dataset(path, labels=["negative", "positive"])


def test_unknown_dataset_name() -> None:
    with pytest.raises(DataError, match="unknown dataset 'imdbb'"):
        load_dataset("imdbb")


def test_unknown_split(mr_dataset) -> None:
    with pytest.raises(DataError, match="no split 'holdout'"):
        mr_dataset.split("holdout")


def test_empty_dataset() -> None:
    with pytest.raises(DataError, match="no examples"):
        build_dataset("empty", [])


def test_hf_dataset_without_the_datasets_package_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Simulated absence (None in sys.modules makes the import fail), so this path is tested whether or not
    # the package is installed here, and a broken textrobust import is a failure rather than this branch.
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(ResourceMissingError, match="pip install"):
        load_dataset("hf:rotten_tomatoes")


def test_hf_dataset_offline_is_one_line_error() -> None:
    pytest.importorskip("datasets", reason="the hf extra (Hugging Face datasets) is not installed")
    with pytest.raises(DataError) as info:
        load_dataset("hf:no-such-user/no-such-dataset-textrobust")
    message = str(info.value)
    assert "\n" not in message
    assert "could not load Hugging Face dataset" in message
