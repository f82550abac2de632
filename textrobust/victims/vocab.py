"""Word tokenizer and vocabulary for the word-level victims (English and Arabic)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from textrobust.data.arabic import normalise, split_proclitics
from textrobust.errors import VictimError

PAD, UNK = "<pad>", "<unk>"
# Words (letters/digits/underscore, with inner apostrophes or hyphens) or single punctuation marks.
_TOKEN = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]", re.UNICODE)
# Arabic short vowels and tatweel carry no meaning a bag of words needs; dropping them merges spellings.
_ARABIC_MARKS = re.compile(r"[\u064B-\u065F\u0670\u0640]")


def word_tokenize(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens; Arabic diacritics and tatweel removed."""
    return _TOKEN.findall(_ARABIC_MARKS.sub("", text.lower()))


# Marks a split-off proclitic ("و+", "ال+"), so it never meets the free-standing word of the same letters.
CLITIC_MARK = "+"


@dataclass(frozen=True)
class WordTokenizer:
    """How a word victim turns text into tokens; saved in the victim's config so it reloads the same.

    ``normalize``: merge Arabic alef / ya / ta marbuta spellings (``textrobust.data.arabic.normalise``).
    ``clitics``: split Arabic proclitics (و ف ب ك ل + ال) off their stem as tokens of their own, so
    "والفيلم" and "الفيلم" share the stem's vector. Both default off (plain ``word_tokenize``); the
    Arabic default is both on (``for_language``).
    """

    normalize: bool = False
    clitics: bool = False

    @classmethod
    def for_language(cls, language: str) -> WordTokenizer:
        return cls(normalize=True, clitics=True) if language == "ar" else cls()

    @classmethod
    def from_config(cls, config: Any) -> WordTokenizer:
        if not isinstance(config, dict):
            return cls()
        return cls(normalize=bool(config.get("normalize", False)), clitics=bool(config.get("clitics", False)))

    def to_config(self) -> dict[str, bool]:
        return asdict(self)

    def tokenize(self, text: str) -> list[str]:
        if self.normalize:
            text = normalise(text)
        tokens = word_tokenize(text)
        if not self.clitics:
            return tokens
        out: list[str] = []
        for token in tokens:
            prefixes, stem = split_proclitics(token)
            out.extend(prefix + CLITIC_MARK for prefix in prefixes)
            out.append(stem)
        return out


@dataclass
class Vocabulary:
    """Word ↔ id mapping; id 0 is padding, id 1 the unknown word."""

    words: list[str]
    tokenizer: WordTokenizer = field(default_factory=WordTokenizer)

    def __post_init__(self) -> None:
        if self.words[:2] != [PAD, UNK]:
            raise VictimError("a vocabulary must start with the padding and unknown tokens")
        self._index = {word: i for i, word in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self._index

    def encode(self, text: str) -> list[int]:
        return [self._index.get(token, 1) for token in self.tokenizer.tokenize(text)]

    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        min_count: int = 1,
        max_size: int | None = None,
        tokenizer: WordTokenizer | None = None,
    ) -> Vocabulary:
        """A vocabulary of the tokens seen at least ``min_count`` times, most frequent first."""
        tokenizer = tokenizer or WordTokenizer()
        counts = Counter(token for text in texts for token in tokenizer.tokenize(text))
        ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        if max_size is not None:
            ranked = ranked[: max(0, max_size - 2)]
        return cls([PAD, UNK, *ranked], tokenizer)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.words, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, tokenizer: WordTokenizer | None = None) -> Vocabulary:
        try:
            words = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise VictimError(f"{path} is corrupt: {exc}") from None
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words) or len(words) < 2:
            raise VictimError(f"{path} is corrupt: expected a JSON list of words")
        return cls(words, tokenizer or WordTokenizer())


def pad_batch(
    sequences: Sequence[list[int]], min_length: int = 1, max_length: int | None = None
) -> list[list[int]]:
    """Right-pad id sequences with 0 to the longest (at least ``min_length``, at most ``max_length``)."""
    if max_length is not None:
        sequences = [seq[:max_length] for seq in sequences]
    width = max(min_length, max((len(seq) for seq in sequences), default=0))
    return [seq + [0] * (width - len(seq)) for seq in sequences]
