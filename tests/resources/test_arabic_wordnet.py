"""Arabic WordNet: OMW tab files, the normalised clitic-aware index, its cache, the registry entry."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.stand_ins import SHARED
from textrobust.errors import ParameterError, ResourceMissingError
from textrobust.resources import arabic_wordnet as awn
from textrobust.resources import registry

SHARED_AWN = SHARED / "data" / "arabic-wordnet"

# A tiny OMW file: a header, lemma lines (some with marks), a root line and a multi-word lemma.
TAB = "\n".join(
    [
        "# Arabic WordNet (test)\tarb\thttp://example.org\tCC BY SA 3.0",
        "00000001-n\tlemma\tكتاب",
        "00000001-n\tlemma\tسِفْر",  # marks are stripped
        "00000001-n\tlemma\tمجلد",
        "00000001-n\tlemma:root\tكتب",  # a root is not a synonym
        "00000002-n\tlemma\tكتاب",
        "00000002-n\tlemma\tمجلد",
        "00000002-n\tlemma\tمؤلَّف",
        "00000003-v\tlemma\tكتب",
        "00000003-v\tlemma\tسجل",
        "00000004-n\tlemma\tكتاب",
        "00000004-n\tlemma\tكتاب مقدس",  # multi-word: never a substitute
        "00000005-a\tlemma\tجميل",
        "00000005-a\tlemma\tحسن",
        "00000006-s\tlemma\tجميل",
        "00000006-s\tlemma\tوسيم",
        "00000007-n\tlemma\tبيت",
        "00000007-n\tlemma\tمسكن",
        "00000007-n\tlemma\tالدار",  # already has the article
        "00000008-n\tlemma\tأسرة",
        "00000008-n\tlemma\tاسره",  # a spelling variant of the same lemma
        "00000008-n\tlemma\tعائلة",
        "00000009-n\tlemma\tالحكومة",
        "00000009-n\tlemma\tحكومة",  # the same noun without the article
        "00000009-n\tlemma\tالسلطة",
    ]
)


@pytest.fixture
def tab_file(tmp_path: Path) -> Path:
    path = tmp_path / "wn-nodia-arb.tab"
    path.write_text(TAB + "\n", encoding="utf-8")
    return path


@pytest.fixture
def words(tab_file: Path, tmp_path: Path) -> awn.ArabicWordNet:
    return awn.load_arabic_wordnet(cache=tmp_path / "cache", source=tab_file)


def test_synonyms_are_other_single_word_lemmas_most_shared_first(words: awn.ArabicWordNet) -> None:
    assert words.synonyms("كتاب") == ["مجلد", "سفر", "مؤلف"]  # مجلد shares two synsets
    assert "كتاب مقدس" not in words.synonyms("كتاب") and "كتب" not in words.synonyms("كتاب")
    assert words.synonyms("كتاب", pos="v") == [] and words.synonyms("كتب", pos="v") == ["سجل"]
    assert words.synonyms("جميل") == ["حسن", "وسيم"] and words.synonyms("جميل", pos="s") == ["حسن", "وسيم"]
    assert words.synonyms("قلم") == []
    assert words.synset_ids("كتاب", pos="n") == ["00000001-n", "00000002-n", "00000004-n"]
    with pytest.raises(ValueError, match="pos .x. is unknown"):
        words.synonyms("كتاب", pos="x")


def test_lookup_is_normalised_and_never_returns_the_word_itself(words: awn.ArabicWordNet) -> None:
    assert words.synonyms("أسرة") == ["عائلة"]  # اسره is the same word spelled otherwise
    assert words.synonyms("اسره") == ["عائلة"] and words.synonyms("إسرة") == ["عائلة"]
    assert words.synonyms("كِتَاب") == words.synonyms("كتاب")  # marks in the text are ignored
    assert words.synonyms("الحكومة") == ["السلطة"]  # حكومة is the word without its article
    assert words.is_lemma("اسرة") and not words.is_lemma("والكتاب")


def test_clitics_are_split_off_and_attached_to_each_synonym(words: awn.ArabicWordNet) -> None:
    assert words.synonyms("الكتاب") == ["المجلد", "السفر", "المؤلف"]
    assert words.synonyms("والكتاب") == ["والمجلد", "والسفر", "والمؤلف"]
    assert words.synonyms("للبيت") == ["للمسكن", "للدار"]  # ل + ال drops the alef; no second article
    assert words.synonyms("بالبيت") == ["بالمسكن", "بالدار"]
    assert words.synonyms("البيت") == ["المسكن", "الدار"]
    assert words.synonyms("الكتب") == []  # كتب is only a verb here, and a verb takes no article
    assert words.synonyms("وكتاب") == []  # و alone is not split (وطن is no و + طن)


def test_attach_proclitics_spells_like_arabic() -> None:
    assert awn.attach_proclitics(("و", "ال"), "كتاب") == "والكتاب"
    assert awn.attach_proclitics(("ل", "ال"), "بيت") == "للبيت"
    assert awn.attach_proclitics(("ف", "ل", "ال"), "الدار") == "فللدار"
    assert awn.attach_proclitics(("ال",), "الدار") == "الدار"
    assert awn.attach_proclitics((), "دار") == "دار"


def test_the_index_is_cached_with_its_source(
    tab_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    built = awn.prepare_arabic_wordnet(tab_file, cache)
    assert awn.index_path(cache).is_file() and str(tab_file) in (awn.cached_source(cache) or "")
    monkeypatch.setattr(awn, "nltk_omw_path", lambda: None)
    tab_file.unlink()  # the cache alone is enough from now on
    again = awn.load_arabic_wordnet(cache)
    assert again.lexicon == built.lexicon and again.synonyms("والكتاب") == built.synonyms("والكتاب")
    assert awn.arabic_wordnet_available(cache)
    awn.index_path(cache).write_bytes(b"not gzip")  # a damaged cache is treated as absent
    with pytest.raises(ResourceMissingError):
        awn.load_arabic_wordnet(cache)


def test_a_folder_or_zip_is_read_with_the_no_diacritics_spelling_first(tmp_path: Path) -> None:
    folder = tmp_path / "omw" / "arb"
    folder.mkdir(parents=True)
    (folder / "wn-nodia-arb.tab").write_text("00000001-n\tlemma\tشأن\n00000001-n\tlemma\tأمر\n", "utf-8")
    (folder / "wn-data-arb.tab").write_text(
        "00000001-n\tarb:lemma\tشَأْن\n00000001-n\tarb:lemma\tقضية\n"
        "00000001-n\tarb:lemma:brokenplural\tشؤون\n00000002-v\tarb:lemma\tقال\n00000002-v\tarb:lemma\tتكلم\n",
        "utf-8",
    )
    from_folder = awn.load_arabic_wordnet(tmp_path / "c1", source=tmp_path / "omw")
    assert from_folder.lexicon.synsets[0].lemmas == ("شأن", "أمر", "قضية")  # one شأن; no plural
    assert from_folder.synonyms("قال") == ["تكلم"]
    assert "wn-nodia-arb.tab + " in from_folder.source
    archive = tmp_path / "omw-1.4.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(folder / "wn-data-arb.tab", "omw-1.4/arb/wn-data-arb.tab")
    from_zip = awn.load_arabic_wordnet(tmp_path / "c2", source=archive)
    assert (
        from_zip.synonyms("شأن") == ["قضية"] and "omw-1.4.zip!omw-1.4/arb/wn-data-arb.tab" in from_zip.source
    )


def test_missing_data_says_how_to_prepare_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(awn, "nltk_omw_path", lambda: None)
    assert not awn.arabic_wordnet_available(tmp_path)
    with pytest.raises(ResourceMissingError) as missing:
        awn.load_arabic_wordnet(tmp_path)
    message = str(missing.value)
    assert "textrobust resources prepare arabic-wordnet --from" in message and "omw-1.4" in message
    assert "\n" not in message
    with pytest.raises(ResourceMissingError, match="no Arabic WordNet tab file"):
        awn.load_arabic_wordnet(tmp_path, source=tmp_path / "nowhere")


def test_registry_status_and_prepare(tab_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setattr(awn, "nltk_omw_path", lambda: None)
    rows = {status.name: status for status in registry.statuses(cache)}
    assert rows["arabic-wordnet"].state == registry.MISSING
    assert "prepare arabic-wordnet --from" in rows["arabic-wordnet"].location
    done = registry.prepare(["arabic-wordnet"], cache=cache, source=tab_file, show_progress=False)
    assert "synsets" in done["arabic-wordnet"] and str(tab_file) in done["arabic-wordnet"]
    rows = {status.name: status for status in registry.statuses(cache)}
    assert rows["arabic-wordnet"].state == registry.READY
    with pytest.raises(ParameterError, match="applies to one of"):
        registry.prepare(["wordnet"], cache=cache, source=tab_file)
    with pytest.raises(ResourceMissingError):
        registry.prepare(["arabic-wordnet"], cache=cache, source=tmp_path / "nowhere")


@pytest.fixture(scope="module")
def shared_wordnet(tmp_path_factory: pytest.TempPathFactory) -> awn.ArabicWordNet:
    if not SHARED_AWN.is_dir():
        pytest.skip(
            "Arabic WordNet is not available (expected ../shared/data/arabic-wordnet next to the checkout)"
        )
    return awn.load_arabic_wordnet(tmp_path_factory.mktemp("awn"), source=SHARED_AWN)


def test_common_words_get_synonyms_from_the_real_arabic_wordnet(shared_wordnet: awn.ArabicWordNet) -> None:
    assert len(shared_wordnet.lexicon.synsets) > 9_000 and len(shared_wordnet.lemmas()) > 12_000
    for word in ("كتاب", "بيت", "سعيد", "قصة", "طعام", "صديق"):
        synonyms = shared_wordnet.synonyms(word)
        assert synonyms, word
        assert all(" " not in s and awn.normalise(s) != awn.normalise(word) for s in synonyms)
    assert "منزل" in shared_wordnet.synonyms("بيت")
    assert shared_wordnet.synonyms("الكتاب") and all(
        s.startswith("ال") for s in shared_wordnet.synonyms("الكتاب")
    )
    assert "للمنزل" in shared_wordnet.synonyms("للبيت")
