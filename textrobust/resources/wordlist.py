"""Word lists: the words a language is known to have, from a hunspell dictionary or a plain list.

Used by the ``known-word`` constraint to reject substitutes that are not words (an MLM's fragments,
a synonym glued to a clitic it cannot take). A hunspell ``.dic`` lists stems with affix flags
(``كتاب/76``); only the stem column is read, without the affix rules, so an inflected form is known
only when the dictionary lists it (Debian's Arabic dictionary lists many clitic forms; ``en_US``
lists base forms, so English plurals and past tenses are mostly unknown). Entries are stored without
marks and normalised (``textrobust.data.arabic.normalise``, case-folded); a word is known when it, or
its stem after ``split_proclitics``, is in the list.

Default dictionaries: ``$DICPATH`` (hunspell's own search path), then Debian's ``/usr/share/hunspell``
(``hunspell-ar`` → ``ar.dic``, ``hunspell-en-us`` → ``en_US.dic``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from textrobust.data.arabic import normalise, split_proclitics, strip_marks
from textrobust.data.text import is_word
from textrobust.errors import ResourceMissingError

HUNSPELL = "hunspell"  # the name that selects the language's default hunspell dictionary
DEBIAN_HUNSPELL_DIR = Path("/usr/share/hunspell")
HUNSPELL_FILES = {"ar": "ar.dic", "en": "en_US.dic"}
DEBIAN_PACKAGES = {"ar": "hunspell-ar", "en": "hunspell-en-us"}


@dataclass(frozen=True)
class WordList:
    """A set of known words (normalised, case-folded) and where it was read from."""

    words: frozenset[str]
    source: str

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.is_known(word)

    def is_known(self, word: str) -> bool:
        """``word`` or its stem after ``split_proclitics`` (``والكتاب`` → ``كتاب``) is in the list."""
        key = _key(word)
        if key in self.words:
            return True
        clitics, stem = split_proclitics(strip_marks(word))
        return bool(clitics) and _key(stem) in self.words


def _key(word: str) -> str:
    return normalise(word.strip()).casefold()


def _entry(line: str) -> str | None:
    """The word of one ``.dic`` / list line: the text before the flags (``/``) or morphology fields."""
    fields = line.split()
    if not fields:
        return None
    word = fields[0]
    cut = word.find("/")
    while cut > 0 and word[cut - 1] == "\\":  # hunspell escapes a slash inside a word as \\/
        cut = word.find("/", cut + 1)
    if cut >= 0:
        word = word[:cut]
    word = strip_marks(word.replace("\\/", "/"))
    # Debian's ar.dic embeds file headers ("::::", "stopwords.dic"): whatever is not one word goes.
    return word if is_word(word) else None


def read_word_list(path: Path) -> WordList:
    """A hunspell ``.dic`` (its first line, the entry count, skipped) or a plain list, one word a line."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ResourceMissingError(f"word-list file not found: {path}")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if lines and path.suffix == ".dic" and lines[0].strip().isdigit():
        lines = lines[1:]
    words = {_key(word) for line in lines if (word := _entry(line)) is not None}
    return WordList(frozenset(words), str(path))


def hunspell_path(language: str) -> Path | None:
    """The language's hunspell ``.dic`` on ``$DICPATH`` or in Debian's folder, or None."""
    name = HUNSPELL_FILES.get(language)
    if name is None:
        return None
    folders = [Path(p) for p in os.environ.get("DICPATH", "").split(os.pathsep) if p]
    for folder in [*folders, DEBIAN_HUNSPELL_DIR]:
        if (folder / name).is_file():
            return folder / name
    return None


def install_hint(language: str) -> str:
    package = DEBIAN_PACKAGES.get(language)
    how = f"`sudo apt-get install {package}` (Debian/Ubuntu), or " if package else ""
    return f"{how}give a word list (--word-list PATH): a hunspell .dic or one word a line"


def load_word_list(language: str, path: Path | str | None = None) -> WordList:
    """The word list at ``path``, or (``None`` / ``"hunspell"``) the language's hunspell dictionary."""
    if path is not None and str(path) != HUNSPELL:
        return read_word_list(Path(path))
    found = hunspell_path(language)
    if found is None:
        raise ResourceMissingError(
            f"no hunspell dictionary for language '{language}': {install_hint(language)}"
        )
    return read_word_list(found)
