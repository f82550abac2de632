"""Arabic text helpers shared by tokenizers, word lists and synonym lookups: script tests, spelling
normalisation and proclitic splitting.

Normalisation (optional everywhere it is used) merges the spellings that Arabic writers, and tweets
above all, use interchangeably: hamzated alefs and alef wasla become bare alef (أ إ آ ٱ → ا), alef
maqsura becomes ya (ى → ي) and ta marbuta becomes ha (ة → ه). Short vowels, shadda, sukun and the
tatweel are always dropped: no bag-of-words model needs them and most text has none.

Proclitics are split conservatively, because many Arabic words begin with the letters that are also
clitics (وطن "homeland" is not و + طن): the article ال is split from a stem of at least two letters,
and a conjunction (و ف) or a preposition (ب ك ل) only when the article follows it (والكتاب → و + ال +
كتاب; للبيت → ل + ال + بيت).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Short vowels, tanwin, shadda, sukun, Quranic marks, dagger alef, and the tatweel (kashida).
_MARKS = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]")
_NORMALISE = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
ARTICLE = "ال"
CONJUNCTIONS = ("و", "ف")
PREPOSITIONS = ("ب", "ك", "ل")


@lru_cache(maxsize=8192)
def is_arabic_char(char: str) -> bool:
    """A character of the Arabic script (letters, marks, Arabic-Indic digits), any Unicode block."""
    return "ARABIC" in unicodedata.name(char, "")


def is_arabic_word(word: str) -> bool:
    """Every character is Arabic script and at least one is a letter (so "ـ" or "٣" alone is not a word)."""
    return (
        bool(word)
        and all(is_arabic_char(char) for char in word)
        and any(unicodedata.category(char).startswith("L") for char in word)
    )


def strip_marks(text: str) -> str:
    """The text without short vowels, shadda, sukun, Quranic marks and tatweel."""
    return _MARKS.sub("", text)


def normalise(text: str) -> str:
    """Marks dropped and alef / ya / ta marbuta spellings merged (see the module's docstring)."""
    return strip_marks(text).translate(_NORMALISE)


def split_proclitics(word: str) -> tuple[tuple[str, ...], str]:
    """``(proclitics, stem)``: ``"والكتاب"`` → ``(("و", "ال"), "كتاب")``; a word with none → ``((), word)``.

    Conservative rules (see the module's docstring); the stem keeps at least two letters.
    """
    if not word or not is_arabic_char(word[0]):
        return (), word
    prefixes: list[str] = []
    rest = word
    if rest[:1] in CONJUNCTIONS and (_has_article(rest[1:]) or _has_lam_article(rest[1:])):
        prefixes.append(rest[0])
        rest = rest[1:]
    if _has_lam_article(rest):  # ل + ال with the alef dropped, as Arabic spells it
        return (*prefixes, "ل", ARTICLE), rest[2:]
    if rest[:1] in PREPOSITIONS and _has_article(rest[1:]):
        prefixes.append(rest[0])
        rest = rest[1:]
    if _has_article(rest):
        prefixes.append(ARTICLE)
        rest = rest[2:]
    return tuple(prefixes), rest


def is_clitic_only(word: str) -> bool:
    """Nothing but proclitics ("ال", "وال", "لل", "وب"): a fragment, never a word of its own."""
    return bool(_CLITIC_ONLY.fullmatch(strip_marks(word)))


_CLITIC_ONLY = re.compile(r"[وف]?(?:[بكل]?ال|لل|[بكل])|[وف]")


def _has_article(text: str) -> bool:
    # الله (God) is one word, not ال + له.
    return text.startswith(ARTICLE) and len(text) >= 4 and text[2:] != "له"


def _has_lam_article(text: str) -> bool:
    return text.startswith("لل") and len(text) >= 4
