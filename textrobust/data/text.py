"""Texts as words and the separators between them, so that changing one word leaves the rest byte-identical.

A word is a run of letters, digits, underscores and combining marks (Arabic short vowels, shadda,
accents), with apostrophes, hyphens and zero-width joiners kept inside it when a word character
stands on both sides ("don't", "well-made"). Everything else — spaces, punctuation, emoji — lives
in the separators. ``SegmentedText`` keeps one more separator than words, so ``join`` gives back the
exact original text, and replacing a word by any other word (see ``is_word``) splits back into
the same number of words at the same positions.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from textrobust.errors import require_one_of

# Inside a word only: between two word characters.
JOINERS = frozenset("'’-\u200c\u200d")

# How words are cut: ``textrobust`` (above), or ``textattack``: TextAttack 0.3.11's
# ``words_from_text`` — a run of ``\\w`` characters, homoglyphs and ``'-_*@``, with ``'-_*@`` stripped
# from both ends ("movie--dumb" is one word, "that’s" two: the curly apostrophe is no joiner there).
WordRule = Literal["textrobust", "textattack"]
WORD_RULES: tuple[str, ...] = ("textrobust", "textattack")
_TEXTATTACK_EXTRA = frozenset("˗৭Ȣ𝟕бƼᏎƷᒿlO`ɑЬϲԁе𝚏ɡհіϳ𝒌ⅼｍոорԛⲅѕ𝚝սѵԝ×уᴢ'-_*@")
_TEXTATTACK_STRIP = "'-_*@"


@lru_cache(maxsize=4096)
def is_word_char(char: str) -> bool:
    """Letters, digits, underscore and combining marks (categories L*, N*, M*, Pc '_')."""
    if char.isalnum() or char == "_":
        return True
    return unicodedata.category(char)[0] == "M"


def _word_spans(text: str) -> Iterator[tuple[int, int]]:
    n = len(text)
    i = 0
    while i < n:
        if not is_word_char(text[i]):
            i += 1
            continue
        start = i
        i += 1
        while i < n:
            char = text[i]
            if is_word_char(char):
                i += 1
            elif char in JOINERS and i + 1 < n and is_word_char(text[i + 1]):
                i += 2
            else:
                break
        yield start, i


def _textattack_word_spans(text: str) -> Iterator[tuple[int, int]]:
    n = len(text)
    i = 0
    while i < n:
        if not (text[i].isalnum() or text[i] in _TEXTATTACK_EXTRA):
            i += 1
            continue
        start = i
        while i < n and (text[i].isalnum() or text[i] in _TEXTATTACK_EXTRA):
            i += 1
        end = i
        while start < end and text[start] in _TEXTATTACK_STRIP:
            start += 1
        while end > start and text[end - 1] in _TEXTATTACK_STRIP:
            end -= 1
        if start < end:
            yield start, end


def word_spans(text: str, rule: WordRule = "textrobust") -> Iterator[tuple[int, int]]:
    """Character spans of the words of ``text`` under a word rule."""
    if rule == "textattack":
        return _textattack_word_spans(text)
    if rule != "textrobust":
        require_one_of("rule", rule, WORD_RULES)
    return _word_spans(text)


@dataclass(frozen=True)
class SegmentedText:
    """A text as ``separators[0] + words[0] + separators[1] + ... + words[-1] + separators[-1]``."""

    words: tuple[str, ...]
    separators: tuple[str, ...]
    _text: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.separators) != len(self.words) + 1:
            raise ValueError("a SegmentedText needs exactly one more separator than words")
        if not self._text:
            object.__setattr__(self, "_text", self._join())

    def _join(self) -> str:
        parts = [self.separators[0]]
        for word, separator in zip(self.words, self.separators[1:], strict=True):
            parts.append(word)
            parts.append(separator)
        return "".join(parts)

    @property
    def text(self) -> str:
        return self._text

    def __len__(self) -> int:
        return len(self.words)

    def spans(self) -> list[tuple[int, int]]:
        """Character ``(start, end)`` of every word in ``text``."""
        spans = []
        position = 0
        for word, separator in zip(self.words, self.separators, strict=False):
            position += len(separator)
            spans.append((position, position + len(word)))
            position += len(word)
        return spans

    def replace(self, index: int, word: str) -> SegmentedText:
        """The text with word ``index`` replaced (separators untouched)."""
        words = list(self.words)
        words[index] = word
        return SegmentedText(tuple(words), self.separators)

    def replace_many(self, replacements: Mapping[int, str]) -> SegmentedText:
        words = list(self.words)
        for index, word in replacements.items():
            words[index] = word
        return SegmentedText(tuple(words), self.separators)

    def delete(self, index: int) -> str:
        """The text without word ``index``; the separators around it merge without doubling spaces."""
        left, right = self.separators[index], self.separators[index + 1]
        if index == 0:
            merged = left + right.lstrip()
        elif index == len(self.words) - 1:
            merged = left.rstrip() + right
        elif left[-1:].isspace() and right[:1].isspace():
            merged = left + right.lstrip()
        else:
            merged = left + right
        return (
            self.prefix(index)
            + merged
            + "".join(
                w + s for w, s in zip(self.words[index + 1 :], self.separators[index + 2 :], strict=True)
            )
        )

    def prefix(self, index: int) -> str:
        """Everything before separator ``index`` (i.e. up to the end of word ``index - 1``)."""
        return "".join(s + w for s, w in zip(self.separators[:index], self.words[:index], strict=True))

    def window_bounds(self, index: int, size: int | None) -> tuple[int, int]:
        """Word range ``[start, end)`` of ``size`` words centred on ``index`` (shifted inside the text)."""
        n = len(self.words)
        if size is None or size >= n:
            return 0, n
        start = max(0, min(index - size // 2, n - size))
        return start, start + size

    def span_text(self, start: int, end: int) -> str:
        """The exact substring from the start of word ``start`` to the end of word ``end - 1``."""
        if start >= end:
            return ""
        parts = [self.words[start]]
        for i in range(start + 1, end):
            parts.append(self.separators[i])
            parts.append(self.words[i])
        return "".join(parts)

    def window(self, index: int, size: int | None) -> str:
        """The substring of ``size`` words around word ``index`` (the whole text when ``size`` is None)."""
        if size is None:
            return self.text
        return self.span_text(*self.window_bounds(index, size))


def segment_text(text: str, rule: WordRule = "textrobust") -> SegmentedText:
    """Split ``text`` into words and separators; ``segment_text(t).text == t`` for every string."""
    words: list[str] = []
    separators: list[str] = []
    position = 0
    for start, end in word_spans(text, rule):
        separators.append(text[position:start])
        words.append(text[start:end])
        position = end
    separators.append(text[position:])
    return SegmentedText(tuple(words), tuple(separators), text)


def is_word(candidate: str, rule: WordRule = "textrobust") -> bool:
    """Whether ``candidate`` is exactly one word, so it can replace a word without changing the split."""
    if not candidate:
        return False
    spans = list(word_spans(candidate, rule))
    return spans == [(0, len(candidate))]


def match_case(original: str, replacement: str) -> str:
    """``replacement`` in the case pattern of ``original`` (UPPER, Capitalised or as given)."""
    if len(original) > 1 and original.isupper():
        return replacement.upper()
    if original[:1].isupper() and not replacement[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def same_word(a: str, b: str) -> bool:
    """Case-insensitive equality (what counts as "the original word" among candidates)."""
    return a.casefold() == b.casefold()


def _diff_tokens(text: str) -> list[str]:
    """Words as ``segment_text`` cuts them (combining marks inside: an Arabic word with its short vowels is
    one token) and the separators between them."""
    split = segment_text(text)
    tokens = [split.separators[0]]
    for word, separator in zip(split.words, split.separators[1:], strict=True):
        tokens.extend((word, separator))
    return [token for token in tokens if token]


def word_diff(original: str, changed: str) -> list[tuple[bool, str, str]]:
    """The two texts cut into aligned pieces: ``(same, piece of original, piece of changed)``, so a report
    can mark what was replaced and what replaced it."""
    a, b = _diff_tokens(original), _diff_tokens(changed)
    pieces = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        pieces.append((op == "equal", "".join(a[i1:i2]), "".join(b[j1:j2])))
    return pieces
