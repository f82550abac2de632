"""WordNet: Debian's files read through nltk, the cached lexicon, synonyms/antonyms, missing-data messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from textrobust.errors import ResourceMissingError
from textrobust.resources import wordnet as wn
from textrobust.resources.lexical_pairs import WordNetPairs


@pytest.fixture(scope="module")
def lexicon() -> wn.WordNet:
    """The real WordNet lexicon from the user's cache (built once on a fresh machine, ~15 s)."""
    if not wn.wordnet_available():
        pytest.skip("WordNet is absent: apt-get install wordnet-base wordnet-sense-index (scripts/setup.sh)")
    return wn.load_wordnet()


@pytest.mark.skipif(
    wn.debian_wordnet_dir() is None, reason="Debian wordnet-base/wordnet-sense-index not installed"
)
def test_debian_wordnet_is_copied_in_nltk_layout_and_read_by_nltk(tmp_path: Path) -> None:
    reader, source = wn.open_nltk_wordnet(cache=tmp_path, use_nltk_data=False)
    folder = tmp_path / "nltk_data" / "corpora" / "wordnet"
    assert "Debian" in source and str(folder) in source
    lexnames = (folder / "lexnames").read_text().splitlines()
    assert len(lexnames) == 45
    assert (
        lexnames[0] == "00\tadj.all\t3"
        and lexnames[44] == "44\tadj.ppl\t3"
        and lexnames[3] == "03\tnoun.Tops\t1"
    )
    assert not any(path.is_symlink() for path in folder.iterdir())  # nltk refuses links leaving its data path
    assert len(reader.synsets("good")) == 27
    assert reader.get_version() == "3.0"
    slow = {a.name() for lemma in reader.synset("fast.a.01").lemmas() for a in lemma.antonyms()}
    assert slow == {"slow"}


def test_lexicon_round_trips_through_json() -> None:
    lexicon = wn.Lexicon(
        synsets=[("a", ("fast", "quick")), ("a", ("slow",)), ("a", ("speedy",))],
        antonyms=[(0, "fast", 1, "slow"), (1, "slow", 0, "fast")],
        similar=[(2, 0)],
        exceptions={"a": {}, "n": {"mice": ["mouse"]}, "v": {}, "r": {}},
        source="test",
    )
    again = wn.Lexicon.from_json(lexicon.to_json())
    assert again == lexicon
    words = wn.WordNet(again)
    assert words.synonyms("fast") == ["quick"]
    assert words.antonyms("fast") == ["slow"] and words.antonyms("slow") == ["fast"]
    assert words.antonyms("quick") == []  # WordNet antonymy links lemmas, not synsets
    assert words.antonyms("speedy") == ["slow"]  # indirect: speedy is similar to fast
    assert words.antonyms("speedy", indirect=False) == []
    assert ("speedy", "slow") in words.antonym_lemma_pairs() and (
        "slow",
        "speedy",
    ) in words.antonym_lemma_pairs()


def test_synonyms_and_antonyms_by_lemma_and_pos(lexicon: wn.WordNet) -> None:
    assert "bad" in lexicon.antonyms("good") and "good" in lexicon.antonyms("bad")
    assert "bad" in lexicon.antonyms("good", pos="a") and "evil" in lexicon.antonyms("good", pos="n")
    assert lexicon.antonyms("good", pos="v") == [] and "bad" not in lexicon.antonyms("good", pos="r")
    assert "slow" in lexicon.antonyms("quick")  # through "fast"
    assert "slow" not in lexicon.antonyms("quick", indirect=False)
    assert {"film", "picture"} <= set(lexicon.synonyms("movie", pos="n"))
    assert lexicon.synonyms("movie", pos="v") == []
    assert "good" not in lexicon.synonyms("good") and "Good" not in lexicon.synonyms("Good")
    assert all(" " not in s and "_" not in s for s in lexicon.synonyms("good"))
    assert "ice cream" in lexicon.synonyms("icecream", multiword=True)
    assert "ice cream" not in lexicon.synonyms("icecream") and "ice_cream" not in lexicon.synonyms("icecream")
    assert lexicon.base_forms("ran", "v") == ["run"] and "operate" in lexicon.synonyms("ran", pos="v")
    assert lexicon.base_forms("movies", "n") == ["movie"]
    assert lexicon.base_forms("worse", "a") == ["worse", "bad"]  # a lemma itself, and an irregular form
    assert lexicon.synonyms("qwzxv") == [] and lexicon.antonyms("qwzxv") == []
    with pytest.raises(ValueError, match="pos .x. is unknown"):
        lexicon.synonyms("good", pos="x")


def test_wordnet_pairs_for_counter_fitting(lexicon: wn.WordNet) -> None:
    pairs = WordNetPairs(lexicon).pairs({"good", "bad", "quick", "fast", "slow", "speedy", "movie", "film"})
    assert ("bad", "good") in pairs.antonyms and ("quick", "slow") in pairs.antonyms
    assert ("film", "movie") in pairs.synonyms and ("fast", "quick") in pairs.synonyms
    assert all(a < b for a, b in pairs.synonyms + pairs.antonyms)
    assert not set(pairs.synonyms) & set(pairs.antonyms)
    direct = WordNetPairs(lexicon, indirect_antonyms=False).pairs({"quick", "slow", "fast"})
    assert direct.antonyms == [("fast", "slow")]


def test_the_lexicon_is_cached_and_loaded_without_nltk(lexicon: wn.WordNet) -> None:
    assert wn.lexicon_path().is_file()
    again = wn.load_wordnet()
    assert again.lexicon.synsets == lexicon.lexicon.synsets and len(again.lexicon.synsets) == 117_659


def test_missing_wordnet_names_the_commands_that_provide_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wn, "nltk_wordnet_path", lambda: None)
    monkeypatch.setattr(wn, "debian_wordnet_dir", lambda: None)
    assert not wn.wordnet_available(tmp_path)
    with pytest.raises(ResourceMissingError) as error:
        wn.load_wordnet(tmp_path)
    message = str(error.value)
    assert "apt-get install wordnet-base wordnet-sense-index" in message
    assert "nltk.downloader wordnet" in message and "\n" not in message


def test_textattacks_lookup_takes_the_word_and_its_rule_forms_together(lexicon: wn.WordNet) -> None:
    # nltk 3.9's morphy (what TextAttack's PWWS asks): "teens" is also looked up as "teen"
    assert lexicon.base_forms("teens", "n") == ["teens"]
    assert lexicon.base_forms("teens", "n", nltk_morphy=True) == ["teens", "teen"]
    assert "adolescent" in lexicon.synonyms("Teens", keep_word=True)
    assert "adolescent" not in lexicon.synonyms("teens")
    # an exception replaces the rules: "saw" is "saw" or "see", never a rule form
    assert lexicon.base_forms("saw", "v", nltk_morphy=True) == ["saw", "see"]
