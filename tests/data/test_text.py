"""Words and separators: changing one word and joining gives back the original text everywhere else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from textrobust.data.text import is_word, match_case, same_word, segment_text

# Latin and Arabic letters, Arabic marks (fatha, shadda, tanween), digits, joiners, spaces, punctuation.
ALPHABET = (
    "abcXYZéß019" + "كتبالفيلمرائعجداً" + "\u064e\u0651\u064b\u0640" + "'’-_\u200c" + ' \t\n.,!?؟،;:()"' + "🙂"
)
WORD_ALPHABET = "abcdefXYZé0" + "كتبالفيلمرائع" + "\u064e\u0651" + "'-"

texts = st.text(alphabet=ALPHABET, max_size=80)
words = st.text(alphabet=WORD_ALPHABET, min_size=1, max_size=12).filter(is_word)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_joining_the_split_gives_back_the_exact_text(text: str) -> None:
    split = segment_text(text)
    assert split.text == text
    assert len(split.separators) == len(split.words) + 1
    assert all(is_word(word) for word in split.words)
    assert not any(is_word(sep) for sep in split.separators if sep)


@settings(max_examples=300, deadline=None)
@given(texts, st.data())
def test_replacing_a_word_changes_only_that_word(text: str, data: st.DataObject) -> None:
    split = segment_text(text)
    if not split.words:
        return
    index = data.draw(st.integers(0, len(split.words) - 1))
    replacement = data.draw(words)
    changed = split.replace(index, replacement)
    start, end = split.spans()[index]
    assert changed.text == text[:start] + replacement + text[end:]
    resplit = segment_text(changed.text)
    assert resplit.words == split.words[:index] + (replacement,) + split.words[index + 1 :]
    assert resplit.separators == split.separators


@settings(max_examples=200, deadline=None)
@given(texts)
def test_spans_locate_every_word(text: str) -> None:
    split = segment_text(text)
    assert [text[s:e] for s, e in split.spans()] == list(split.words)


@settings(max_examples=200, deadline=None)
@given(texts, st.data())
def test_windows_are_exact_substrings(text: str, data: st.DataObject) -> None:
    split = segment_text(text)
    if not split.words:
        return
    index = data.draw(st.integers(0, len(split.words) - 1))
    size = data.draw(st.integers(1, 20))
    start, end = split.window_bounds(index, size)
    assert start <= index < end
    assert end - start == min(size, len(split.words))
    window = split.window(index, size)
    assert window in text
    assert segment_text(window).words == split.words[start:end]


def test_english_contractions_and_hyphens_stay_one_word() -> None:
    split = segment_text("It's a well-made film -- don't miss it, 'really'.")
    assert split.words == ("It's", "a", "well-made", "film", "don't", "miss", "it", "really")
    assert split.separators[-1] == "'."


def test_arabic_words_keep_their_diacritics_and_punctuation_is_a_separator() -> None:
    split = segment_text("الفيلمُ رائعٌ جداً، أليس كذلك؟")
    assert split.words == ("الفيلمُ", "رائعٌ", "جداً", "أليس", "كذلك")
    assert split.separators == ("", " ", " ", "، ", " ", "؟")
    assert split.replace(1, "ممتاز").text == "الفيلمُ ممتاز جداً، أليس كذلك؟"


def test_deleting_a_word_merges_the_separators_without_doubling_spaces() -> None:
    split = segment_text("a good , movie")
    assert split.delete(1) == "a , movie"
    assert split.delete(0) == "good , movie"
    assert split.delete(2) == "a good ,"
    assert segment_text("one").delete(0) == ""


def test_is_word_accepts_exactly_one_word() -> None:
    assert is_word("don't") and is_word("well-made") and is_word("رائعٌ")
    assert not is_word("") and not is_word("##ing") and not is_word("'s") and not is_word("new york")
    assert not is_word("good!") and not is_word("-good")


def test_match_case_copies_the_case_pattern() -> None:
    assert match_case("Good", "great") == "Great"
    assert match_case("GOOD", "great") == "GREAT"
    assert match_case("good", "Paris") == "Paris"
    assert match_case("رائع", "ممتاز") == "ممتاز"
    assert same_word("Good", "gOOD") and not same_word("good", "goods")
