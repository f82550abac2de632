# ruff: noqa: E501 - one command line per row reads best
"""Data and training that would give a meaningless result with exit 0 are refused on one line instead:
labels that are one value spelled two ways, a header naming a column twice, evaluating no examples, a test
split made of training texts, and training that diverged (a NaN loss saved as a victim).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from tests.reliability.test_cli_errors import assert_one_error_line
from tests.stand_ins import keyword_dataset
from textrobust.cli import main
from textrobust.data import Dataset, Split, load_dataset
from textrobust.errors import DataError, TextrobustError


def _csv(rows: list[tuple[str, str, str]]) -> str:
    return "text,label,split\n" + "".join(f"{t},{label},{s}\n" for t, label, s in rows)


def _rows(n: int, split: str, offset: int = 0) -> list[tuple[str, str, str]]:
    return [
        (f"film number {i + offset} was {'good' if i % 2 else 'bad'}", ["negative", "positive"][i % 2], split)
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, tiny_wordcnn_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("sense")
    shutil.copytree(tiny_wordcnn_dir, root / "wc")
    (root / "twice.csv").write_text("text,label,label\na fine film,positive,positive\n", encoding="utf-8")
    (root / "twice.jsonl").write_text(
        '{"text": "a fine film", "label": "positive", "label": "negative"}\n', encoding="utf-8"
    )
    (root / "cases.csv").write_text(
        _csv([*_rows(8, "train"), ("a fine film", "Positive", "test"), ("a fine one", "positive", "test")]),
        encoding="utf-8",
    )
    train = _rows(20, "train")
    (root / "overlap.csv").write_text(
        _csv(
            [
                *train,
                *_rows(4, "validation", 100),
                *[(t, label, "test") for t, label, _ in train[:6]],
                *_rows(4, "test", 200),
            ]
        ),
        encoding="utf-8",
    )
    (root / "clean.csv").write_text(
        _csv([*train, *_rows(4, "validation", 100), *_rows(6, "test", 200)]), encoding="utf-8"
    )
    two = "text,label\na fine film,positive\na dull film,negative\n"
    (root / "two.csv").write_text(two, encoding="utf-8")  # too few examples for a test split
    keywords = keyword_dataset(n=120)
    lines = [
        f"{text},{keywords.label_names[label]},{name}\n"
        for name, split in keywords.splits.items()
        if name != "test"
        for text, label in zip(split.texts, split.labels, strict=True)
    ]
    (root / "keywords.csv").write_text("text,label,split\n" + "".join(lines), encoding="utf-8")
    return root


# (case id, command line, what the error line says)
CASES: list[tuple[str, list[str], str]] = [
    # -- label sets that are not what the user meant -------------------------------------------------------
    ("labels differing only by case", ["evaluate", "--victim", "wc", "--dataset", "cases.csv"], "differ only by case"),
    # -- leakage and degenerate splits ----------------------------------------------------------------------
    ("csv header names a column twice", ["evaluate", "--victim", "wc", "--dataset", "twice.csv"], "'label'"),
    ("jsonl line names a field twice", ["evaluate", "--victim", "wc", "--dataset", "twice.jsonl"], "'label'"),
    ("evaluate a split with no examples", ["evaluate", "--victim", "wc", "--dataset", "two.csv"], "no examples"),
    ("evaluate a test split made of training texts", ["evaluate", "--victim", "wc", "--dataset", "overlap.csv"], "--allow-overlap"),
    ("train on a dataset whose test split holds training texts", ["train", "--victim", "wordcnn", "--dataset", "overlap.csv", "--vectors", "none", "--epochs", "1", "--out", "new-victim"], "6 of 10"),
    # -- training that diverged ------------------------------------------------------------------------------
    ("train with an absurd learning rate", ["train", "--victim", "wordcnn", "--dataset", "keywords.csv", "--vectors", "none", "--epochs", "2", "--lr", "1e12", "--out", "new-victim"], "diverged"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "argv", "says"), CASES, ids=[case for case, _, _ in CASES])
def test_nonsense_is_one_error_line_and_changes_nothing(
    case: str, argv: list[str], says: str, workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.chdir(workspace)
    assert_one_error_line(case, argv, workspace, capsys, says)


def test_allow_overlap_goes_on_and_says_how_many(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.chdir(workspace)
    assert main(["evaluate", "--victim", "wc", "--dataset", "overlap.csv", "--allow-overlap"]) == 0
    captured = capsys.readouterr()
    assert "6 of 10" in captured.err
    assert main(["evaluate", "--victim", "wc", "--dataset", "clean.csv"]) == 0
    assert "overlap" not in capsys.readouterr().err


# -- the library: label normalisation ----------------------------------------------------------------------
LABEL_CASES: list[tuple[str, list[str], list[str] | str]] = [
    # (case id, labels in file order, expected label names or the text of the DataError)
    ("integers and their float spelling are one class", ["1", "0", "1.0", "0.0", "1"], ["0", "1"]),
    ("named as first seen", ["1.0", "0", "1", "0"], ["0", "1.0"]),
    ("leading zeros and signs are numbers too", ["01", "1", "+1", "-1", "-1.00"], ["-1", "01"]),
    ("numbers that differ stay apart", ["1", "1.5", "2"], ["1", "1.5", "2"]),
    ("case-only difference is refused", ["Positive", "negative", "positive"], "differ only by case"),
    ("different words stay apart", ["pos", "neg", "posi"], ["neg", "pos", "posi"]),
]


@pytest.mark.parametrize(("case", "labels", "expected"), LABEL_CASES, ids=[c for c, _, _ in LABEL_CASES])
def test_label_spellings(case: str, labels: list[str], expected: list[str] | str, tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(
        "text,label\n" + "".join(f"text {i},{label}\n" for i, label in enumerate(labels)), "utf-8"
    )
    if isinstance(expected, str):
        with pytest.raises(DataError) as caught:
            load_dataset(path, language="en")
        assert expected in str(caught.value) and "\n" not in str(caught.value), case
        return
    dataset = load_dataset(path, language="en")
    assert dataset.label_names == expected, case
    merged = len(set(labels)) > len(expected)
    assert bool(dataset.notes) == merged, (case, dataset.notes)
    n_examples = sum(len(split) for split in dataset.splits.values())
    assert n_examples == len(labels)


def test_given_label_names_match_numbers_too(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("text,label\na,1.0\nb,0\nc,1\nd,0.0\n", "utf-8")
    dataset = load_dataset(path, language="en", labels=["0", "1"])
    every = [label for split in dataset.splits.values() for label in split.labels]
    assert sorted(every) == [0, 0, 1, 1]


# -- the library: overlap and empty evaluation ----------------------------------------------------------------
def test_overlap_counts_test_texts_found_in_training() -> None:
    from textrobust.data.overlap import check_overlap, overlap_count

    dataset = Dataset(
        "d",
        "en",
        ["a", "b"],
        {"train": Split(["x", "y  z", "w"], [0, 1, 0]), "test": Split(["y z", "q", "x"], [1, 0, 1])},
    )
    assert overlap_count(dataset, "test") == (2, 3)  # whitespace does not make a text new
    with pytest.raises(DataError, match="2 of 3 test texts"):
        check_overlap(dataset, "test", allow=False, option="--allow-overlap")
    note = check_overlap(dataset, "test", allow=True, option="--allow-overlap")
    assert note == "2 of 3 test texts of dataset 'd' are also in its train split (allowed by --allow-overlap)"
    assert check_overlap(dataset, "train", allow=False, option="--allow-overlap") is None
    assert overlap_count(keyword_dataset(), "validation")[0] >= 0


def test_evaluating_no_examples_is_an_error(tiny_wordcnn_dir: Path) -> None:
    from textrobust.victims import load_victim
    from textrobust.victims.evaluation import evaluate_victim

    victim = load_victim(tiny_wordcnn_dir)
    dataset = Dataset("d", "en", list(victim.labels), {"test": Split([], [])})
    with pytest.raises(DataError, match="no examples"):
        evaluate_victim(victim, dataset, "test")


# -- the library: divergence ------------------------------------------------------------------------------
def test_a_diverging_trainer_stops_with_one_line(tmp_path: Path) -> None:
    from textrobust.victims.training import TrainConfig, train_victim

    config = TrainConfig(epochs=2, batch_size=16, learning_rate=1e12, progress=False, seed=0)
    with pytest.raises(TextrobustError, match="diverged") as caught:
        train_victim("wordcnn", keyword_dataset(n=120), tmp_path / "v", config, vectors=None)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "v" / "config.json").exists()


def test_non_finite_loss_check() -> None:
    from textrobust.fitting import check_finite_loss

    check_finite_loss(torch.tensor(0.5), "epoch 1")
    for bad in (float("nan"), float("inf")):
        with pytest.raises(TextrobustError, match="epoch 1"):
            check_finite_loss(torch.tensor(bad), "epoch 1")
