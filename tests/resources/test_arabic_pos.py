"""The Arabic POS tagger (qalsadi, the ``arabic`` extra): lexical tags, one per word, cached."""

from __future__ import annotations

from textrobust.attacks.constraints import SamePartOfSpeech, Substitution
from textrobust.data.text import segment_text
from textrobust.resources.pos import QalsadiTagger, load_pos_tagger
from textrobust.resources.registry import READY, statuses


def test_arabic_words_get_coarse_universal_tags() -> None:
    tagger = load_pos_tagger("ar")
    assert isinstance(tagger, QalsadiTagger)
    assert tagger.tag(["الفيلم", "يذهب", "في", "😂"]) == ["NOUN", "VERB", "PART", "X"]
    assert tagger.tag_batch([["الكتاب"], ["يكتب", "من"]]) == [["NOUN"], ["VERB", "PART"]]


def test_the_pos_constraint_keeps_a_noun_from_replacing_a_verb() -> None:
    text = segment_text("الولد يذهب إلى المدرسة")
    constraint = SamePartOfSpeech(load_pos_tagger("ar"))
    reasons = constraint.check_candidates(Substitution(text, text, 1, frozenset()), ["يمشي", "الكتاب"])
    assert reasons[0] is None and reasons[1] is not None


def test_the_arabic_tagger_is_a_resource_with_a_status() -> None:
    row = next(s for s in statuses() if s.name == "pos-ar")
    assert row.state == READY and "qalsadi" in row.source
