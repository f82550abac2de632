"""Word lists from hunspell dictionaries or plain lists, and their registry entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from textrobust.errors import ResourceMissingError
from textrobust.resources import registry, wordlist

# A tiny .dic in Debian's ar.dic shape: a count line, stems with affix flags, embedded file headers.
DIC = "6\nكتاب/76\nبيت/AB\n::::::::\nstopwords.dic\nجَميل\nمدرسة/12 po:noun\n"


@pytest.fixture
def dic_file(tmp_path: Path) -> Path:
    path = tmp_path / "ar.dic"
    path.write_text(DIC, encoding="utf-8")
    return path


def test_a_hunspell_dic_gives_its_stems_marks_stripped_and_normalised(dic_file: Path) -> None:
    words = wordlist.read_word_list(dic_file)
    assert len(words) == 4 and words.source == str(dic_file)
    assert words.is_known("كتاب") and words.is_known("جميل") and words.is_known("جَمِيل")
    assert words.is_known("مدرسه")  # ة and ه are one letter after normalisation
    assert words.is_known("الكتاب") and words.is_known("والكتاب") and words.is_known("للبيت")
    assert not words.is_known("قلم") and not words.is_known("stopwords") and not words.is_known("6")
    assert "الكتاب" in words and 3 not in words


def test_a_plain_list_is_read_case_insensitively(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("Film\ngood\n\n", encoding="utf-8")
    words = wordlist.load_word_list("en", path)
    assert words.is_known("film") and words.is_known("FILM") and words.is_known("Good")
    assert not words.is_known("movie")


def test_hunspell_is_found_on_dicpath_else_missing_with_the_package_to_install(
    dic_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wordlist, "DEBIAN_HUNSPELL_DIR", tmp_path / "none")
    monkeypatch.setenv("DICPATH", str(dic_file.parent))
    assert wordlist.hunspell_path("ar") == dic_file
    assert wordlist.load_word_list("ar", "hunspell").is_known("الكتاب")
    assert wordlist.load_word_list("ar").source == str(dic_file)
    rows = {status.name: status for status in registry.statuses(tmp_path)}
    assert rows["hunspell-ar"].state == registry.READY and rows["hunspell-ar"].location == str(dic_file)
    assert rows["hunspell-en"].state == registry.MISSING and "hunspell-en-us" in rows["hunspell-en"].location
    assert "4 words" in registry.prepare(["hunspell-ar"], cache=tmp_path, show_progress=False)["hunspell-ar"]
    with pytest.raises(ResourceMissingError, match="apt-get install hunspell-en-us") as missing:
        wordlist.load_word_list("en")
    assert "\n" not in str(missing.value)
    with pytest.raises(ResourceMissingError, match="no hunspell dictionary for language 'xx'"):
        wordlist.load_word_list("xx")
    with pytest.raises(ResourceMissingError, match="word-list file not found"):
        wordlist.load_word_list("ar", tmp_path / "missing.dic")


@pytest.mark.skipif(
    wordlist.hunspell_path("ar") is None, reason="hunspell-ar is not installed (apt-get install hunspell-ar)"
)
def test_the_real_arabic_hunspell_dictionary() -> None:
    words = wordlist.load_word_list("ar")
    assert len(words) > 50_000
    for word in ("الفيلم", "رائع", "ممتاز", "والكتاب", "للبيت", "مسرور"):
        assert words.is_known(word), word
    assert not words.is_known("كتابزز") and not words.is_known("stopwords")


@pytest.mark.skipif(
    wordlist.hunspell_path("en") is None,
    reason="hunspell-en-us is not installed (apt-get install hunspell-en-us)",
)
def test_the_real_english_hunspell_dictionary() -> None:
    words = wordlist.load_word_list("en")
    assert len(words) > 40_000 and words.is_known("film") and words.is_known("Good")
    assert not words.is_known("qwzxv")
