"""Arabic text helpers, and the Arabic datasets as folders of split files."""

from __future__ import annotations

from pathlib import Path

import pytest

from textrobust.data import load_dataset
from textrobust.data.arabic import is_arabic_word, is_clitic_only, normalise, split_proclitics, strip_marks
from textrobust.data.loaders import load_folder_dataset
from textrobust.errors import DataError, ResourceMissingError

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("والكتاب", (("و", "ال"), "كتاب")),
        ("بالمدرسة", (("ب", "ال"), "مدرسة")),
        ("للبيت", (("ل", "ال"), "بيت")),
        ("وللبيت", (("و", "ل", "ال"), "بيت")),
        ("الفيلم", (("ال",), "فيلم")),
        ("وطن", ((), "وطن")),  # و is part of the word: no article follows it
        ("الله", ((), "الله")),  # one word, not ال + له
        ("ال", ((), "ال")),
        ("film", ((), "film")),
    ],
)
def test_proclitics_are_split_only_before_the_article(word: str, expected: tuple) -> None:
    assert split_proclitics(word) == expected


def test_normalisation_merges_spellings_and_drops_marks() -> None:
    assert strip_marks("فِيلْمٌ") == "فيلم"
    assert normalise("أَحمد إلى مدرسةٌ آخر") == "احمد الي مدرسه اخر"
    assert normalise("ـــرائع") == "رائع"  # tatweel


def test_arabic_words_fragments_and_other_scripts() -> None:
    assert is_arabic_word("كتاب") and is_arabic_word("فِيلْمٌ")
    assert not is_arabic_word("de") and not is_arabic_word("كتابde") and not is_arabic_word("٣")
    assert all(is_clitic_only(w) for w in ("ال", "وال", "لل", "بال", "و", "ب"))
    assert not any(is_clitic_only(w) for w in ("كتاب", "من", "الفيلم"))


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    path.write_text("label\ttext\n" + "".join(f"{label}\t{text}\n" for label, text in rows), encoding="utf-8")


def test_a_folder_of_split_files_is_a_dataset(tmp_path: Path) -> None:
    # Sorted by label, as many published files are; the first tweet begins with a quote mark.
    train = [("pos", f'"صباح الخير {i}" يا جماعة') for i in range(50)] + [
        ("neg", f"يوم سيء {i}") for i in range(50)
    ]
    _write(tmp_path / "train.tsv", train)
    _write(tmp_path / "test.tsv", [("pos", "فيلم رائع")] * 10 + [("neg", "فيلم ممل")] * 10)
    dataset = load_folder_dataset(tmp_path)
    assert dataset.language == "ar" and dataset.label_names == ["neg", "pos"]
    assert {name: len(split) for name, split in dataset.splits.items()} == {
        "train": 90, "validation": 10, "test": 20,
    }  # fmt: skip
    # The quote mark is text, not CSV quoting: no line was swallowed and the text is as written.
    assert '"صباح الخير 0" يا جماعة' in dataset.split("train").texts + dataset.split("validation").texts
    # Shuffled with the seed: the first examples of a split mix the labels, the same way every time.
    assert len(set(dataset.split("test").labels[:6])) == 2
    assert load_folder_dataset(tmp_path).split("test").texts == dataset.split("test").texts
    assert load_dataset(str(tmp_path)).split("train").texts == dataset.split("train").texts


def test_a_folder_needs_train_and_test_files(tmp_path: Path) -> None:
    _write(tmp_path / "train.tsv", [("pos", "جيد")])
    with pytest.raises(DataError, match="no test file"):
        load_folder_dataset(tmp_path)


def test_installed_datasets_are_found_through_textrobust_data(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TEXTROBUST_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("TEXTROBUST_DATA", raising=False)
    with pytest.raises(ResourceMissingError, match="dataset 'arabic-tweets' is not installed"):
        load_dataset("arabic-tweets")
    folder = tmp_path / "data" / "arabic-tweets"
    folder.mkdir(parents=True)
    _write(
        folder / "train.tsv",
        [("pos", f"جميل {i}") for i in range(20)] + [("neg", f"قبيح {i}") for i in range(20)],
    )
    _write(folder / "test.tsv", [("pos", "جميل"), ("neg", "قبيح")])
    monkeypatch.setenv("TEXTROBUST_DATA", str(tmp_path / "data"))
    dataset = load_dataset("arabic-tweets")
    assert dataset.name == "arabic-tweets" and dataset.language == "ar" and len(dataset.split("test")) == 2


def test_the_shared_arabic_tweets_load_whole(monkeypatch) -> None:
    if not (SHARED_DATA / "arabic-tweets" / "test.tsv").exists():
        pytest.skip("the Arabic tweets are not available (expected ../shared/data/arabic-tweets)")
    monkeypatch.setenv("TEXTROBUST_DATA", str(SHARED_DATA))
    dataset = load_dataset("arabic-tweets")
    sizes = {name: len(split) for name, split in dataset.splits.items()}
    assert sizes["test"] == 11_751 and sizes["train"] + sizes["validation"] == 47_000
    assert 0.4 < sum(dataset.split("test").labels[:200]) / 200 < 0.6
