"""From the command line, a language mismatch is a one-line error before any work: an English victim on
Arabic data, an English masked LM attacking Arabic text, an English-only encoder fine-tuned on Arabic."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_core import _assert_one_line_error, _run
from tests.stand_ins import tiny_masked_lm, write_dataset
from tests.victims.test_arabic import _arabic_dataset
from textrobust.data import Dataset


@pytest.fixture(scope="module")
def arabic_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from textrobust.victims.training import TrainConfig, train_victim

    root = tmp_path_factory.mktemp("arabic")
    dataset = _arabic_dataset()
    train_only = Dataset(dataset.name, "ar", dataset.label_names, {"train": dataset.split("train")})
    # A folder dataset: one file per split (the same file twice: a test split of training texts, so the
    # commands below pass --allow-overlap to reach the language checks they test).
    for name in ("train.tsv", "test.tsv"):
        write_dataset(train_only, root / name, with_split=False)
    train_victim("wordcnn", dataset, root / "cnn", TrainConfig(epochs=1, progress=False))
    english = tiny_masked_lm(["the", "film", "was", "great", "boring", "actors", "story"])
    english.model.save_pretrained(root / "english-mlm")
    english.tokenizer.save_pretrained(root / "english-mlm")
    return {"data": root, "victim": root / "cnn", "english_mlm": root / "english-mlm"}


def test_an_english_victim_on_arabic_data_is_a_one_line_error(
    arabic_files: dict[str, Path], tiny_wordcnn_dir: Path, tmp_path: Path
) -> None:
    data = str(arabic_files["data"])
    _assert_one_line_error(
        _run("evaluate", "--victim", str(tiny_wordcnn_dir), "--dataset", data, "--allow-overlap"),
        "trained on 'en' text",
    )
    store = tmp_path / "store.sqlite"
    result = _run(
        "attack", "--victim", str(tiny_wordcnn_dir), "--dataset", data, "--recipe", "mlm-synonym",
        "--n", "2", "--store", str(store), "--no-progress",
    )  # fmt: skip
    _assert_one_line_error(result, "trained on 'en' text")
    assert not store.exists(), "checked before the store is opened"


def test_an_english_masked_lm_on_arabic_text_is_a_one_line_error(
    arabic_files: dict[str, Path], tmp_path: Path
) -> None:
    result = _run(
        "attack", "--victim", str(arabic_files["victim"]), "--dataset", str(arabic_files["data"]),
        "--recipe", "mlm-synonym", "--mlm", str(arabic_files["english_mlm"]), "--disable", "pos",
        "--n", "2", "--store", str(tmp_path / "store.sqlite"), "--no-progress",
    )  # fmt: skip
    _assert_one_line_error(result, "does not know language 'ar'")


def test_an_english_encoder_fine_tuned_on_arabic_is_a_one_line_error(
    arabic_files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "bert"
    result = _run(
        "train", "--victim", "bert", "--dataset", str(arabic_files["data"]), "--out", str(out),
        "--model", str(arabic_files["english_mlm"]), "--epochs", "1", "--allow-overlap",
    )  # fmt: skip
    _assert_one_line_error(result, "cannot read this 'ar' text")
    assert not out.exists()
