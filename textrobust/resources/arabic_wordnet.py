"""Arabic WordNet synonyms from the Open Multilingual Wordnet tab files, cached as a small index.

The data are the OMW ``arb`` files (Arabic WordNet, CC BY-SA 3.0): one line per lemma,
``OFFSET-POS<TAB>lemma<TAB>WORD`` (``arb:lemma`` in the diacritised file), where the offsets are
Princeton WordNet 3.0 synsets, so two lemmas on the same offset are synonyms. ``wn-nodia-arb.tab``
(no diacritics) is read first and its spellings win; ``wn-data-arb.tab`` (AWN v2, diacritised) adds
the lemmas the first lacks (about 15,000 of 36,000, most of the verbs). Marks are stripped from
every lemma, and lookups use ``textrobust.data.arabic.normalise`` so spelling variants (أ/ا, ى/ي,
ة/ه) meet. Root and broken-plural lines are ignored: they are not synonyms of the word.

Where the files come from, in order: a path given to ``load_arabic_wordnet`` / ``textrobust resources
prepare arabic-wordnet --from PATH`` (a tab file, a folder holding them, or nltk's ``omw-1.4.zip``);
the cached index; nltk's ``omw-1.4`` package when installed (``python -m nltk.downloader omw-1.4``).
"""

from __future__ import annotations

import gzip
import json
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textrobust.data.arabic import ARTICLE, normalise, split_proclitics, strip_marks
from textrobust.errors import ResourceMissingError
from textrobust.files import atomic_write_bytes
from textrobust.paths import cache_dir
from textrobust.resources.wordnet import POS_TAGS, pos_list

NAME = "arabic-wordnet"
INDEX_FORMAT = 1
# Preference order: the no-diacritics file's spellings win where both have a lemma.
TAB_FILES = ("wn-nodia-arb.tab", "wn-data-arb.tab")
LEMMA_TYPES = frozenset({"lemma", "arb:lemma"})
# A word carrying the article is a noun or an adjective: its verb senses would give ungrammatical
# "ال + verb" substitutes.
NOMINAL_TAGS = ("n", "a")
NLTK_OMW = "corpora/omw-1.4"
MISSING_MESSAGE = (
    "Arabic WordNet is not prepared: run `textrobust resources prepare arabic-wordnet --from PATH` "
    "(PATH: Open Multilingual Wordnet's wn-nodia-arb.tab / wn-data-arb.tab or their folder), "
    "or `python -m nltk.downloader omw-1.4` and then `textrobust resources prepare arabic-wordnet`"
)


@dataclass(frozen=True)
class ArabicSynset:
    """One synset: its WordNet 3.0 id (``09885145-n``) and its Arabic lemmas (marks stripped)."""

    id: str
    lemmas: tuple[str, ...]

    @property
    def pos(self) -> str:
        """n, v, a or r (adjective satellites ``s`` are folded into ``a``, as WordNet users expect)."""
        tag = self.id.rsplit("-", 1)[-1]
        return "a" if tag == "s" else tag


@dataclass(frozen=True)
class ArabicLexicon:
    """The cached form: the synsets in file order and a description of where they came from."""

    synsets: tuple[ArabicSynset, ...]
    source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "format": INDEX_FORMAT,
            "source": self.source,
            "synsets": [[synset.id, list(synset.lemmas)] for synset in self.synsets],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArabicLexicon:
        synsets = tuple(ArabicSynset(str(sid), tuple(lemmas)) for sid, lemmas in data["synsets"])
        return cls(synsets, str(data["source"]))


@dataclass
class ArabicWordNet:
    """Synonyms of Arabic words: other lemmas of the word's synsets, clitic-aware.

    ``synonyms("والكتاب")`` looks up ``كتاب`` (the word itself is no lemma) and gives each synonym
    back with the same proclitics (``والمؤلف``).
    """

    lexicon: ArabicLexicon
    _index: dict[str, list[int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = {}
        for number, synset in enumerate(self.lexicon.synsets):
            for lemma in synset.lemmas:
                ids = self._index.setdefault(normalise(lemma), [])
                if not ids or ids[-1] != number:
                    ids.append(number)

    @property
    def source(self) -> str:
        return self.lexicon.source

    def is_lemma(self, word: str) -> bool:
        return normalise(word.strip()) in self._index

    def lemmas(self) -> set[str]:
        """Every lemma, normalised (the keys lookups use)."""
        return set(self._index)

    def synset_ids(self, word: str, pos: str | None = None) -> list[str]:
        """The WordNet 3.0 ids of the senses of ``word`` itself (no clitic splitting), in file order."""
        tags = pos_list(pos)
        ids = self._index.get(normalise(word.strip()), [])
        return [self.lexicon.synsets[i].id for i in ids if self.lexicon.synsets[i].pos in tags]

    def synonyms(self, word: str, pos: str | None = None) -> list[str]:
        """Single-word lemmas sharing a synset with ``word``, most shared synsets first, never ``word``.

        When ``word`` is no lemma, its stem after ``split_proclitics`` is looked up and each synonym
        gets the word's proclitics back (one article only: a synonym spelled with ال gets no second).
        """
        tags = pos_list(pos)
        surface = strip_marks(word).strip()
        key = normalise(surface)
        clitics, stem = split_proclitics(surface)
        stem_key = normalise(stem)
        if key in self._index:
            # Some synsets list a noun both with and without the article (الحكومة, حكومة): neither
            # is a synonym of the other.
            return self._ranked(self._index[key], tags, exclude={key, stem_key})
        if not clitics:
            return []
        if ARTICLE in clitics:
            tags = tuple(tag for tag in tags if tag in NOMINAL_TAGS)
        found: dict[str, str] = {}
        for synonym in self._ranked(self._index.get(stem_key, []), tags, exclude={stem_key}):
            attached = attach_proclitics(clitics, synonym)
            found.setdefault(normalise(attached), attached)
        found.pop(key, None)
        return list(found.values())

    def _ranked(self, ids: Sequence[int], tags: Sequence[str], exclude: set[str]) -> list[str]:
        counts: Counter[str] = Counter()
        spelling: dict[str, str] = {}  # normalised -> first spelling met (dict order = first appearance)
        for number in ids:
            synset = self.lexicon.synsets[number]
            if synset.pos not in tags:
                continue
            for lemma in synset.lemmas:
                normal = normalise(lemma)
                if normal in exclude or normalise(split_proclitics(lemma)[1]) in exclude:
                    continue
                if not _single_word(lemma):
                    continue
                spelling.setdefault(normal, lemma)
                counts[normal] += 1
        order = {normal: rank for rank, normal in enumerate(spelling)}
        return [spelling[n] for n in sorted(spelling, key=lambda n: (-counts[n], order[n]))]


def attach_proclitics(clitics: Sequence[str], stem: str) -> str:
    """The word ``clitics + stem`` as Arabic spells it: ``(و, ال) + كتاب`` → ``والكتاب``; ل before the
    article drops its alef (``ل + البيت`` → ``للبيت``); a stem already carrying ال gets no second one."""
    prefixes = list(clitics)
    if ARTICLE in prefixes and stem.startswith(ARTICLE):
        prefixes.remove(ARTICLE)
    word = stem
    for prefix in reversed(prefixes):
        if prefix == ARTICLE:
            word = ARTICLE + word
        elif prefix == "ل" and word.startswith(ARTICLE):
            word = "ل" + word[1:]
        else:
            word = prefix + word
    return word


def _single_word(lemma: str) -> bool:
    return bool(lemma) and not any(char.isspace() or char == "_" for char in lemma)


# ------------------------------------------------------------------------------------ reading tab files


@dataclass(frozen=True)
class TabText:
    """One tab file's text and where it was read from (a path, or ``zip!member``)."""

    label: str
    text: str


def read_tab_files(source: Path) -> list[TabText]:
    """The Arabic tab files at ``source`` (a ``.tab`` file, a folder, an OMW folder with ``arb/``, or a
    zip such as nltk's ``omw-1.4.zip``), in ``TAB_FILES`` order; raises when there is none."""
    source = Path(source).expanduser()
    found: list[TabText] = []
    if source.is_file() and source.suffix == ".zip":
        with zipfile.ZipFile(source) as archive:
            members = {Path(name).name: name for name in archive.namelist() if "/arb/" in f"/{name}"}
            for name in TAB_FILES:
                if name in members:
                    text = archive.read(members[name]).decode("utf-8")
                    found.append(TabText(f"{source}!{members[name]}", text))
    elif source.is_file():
        found.append(TabText(str(source), source.read_text(encoding="utf-8")))
    elif source.is_dir():
        for folder in (source, source / "arb"):
            for name in TAB_FILES:
                if (folder / name).is_file():
                    found.append(TabText(str(folder / name), (folder / name).read_text(encoding="utf-8")))
            if found:
                break
    if not found:
        raise ResourceMissingError(f"no Arabic WordNet tab file ({' or '.join(TAB_FILES)}) at {source}")
    return found


def build_lexicon(tabs: Iterable[TabText]) -> ArabicLexicon:
    """Synsets from OMW tab texts: lemma lines only, marks stripped, duplicates (after normalisation)
    dropped; the first file's spelling of a lemma wins."""
    lemmas: dict[str, dict[str, str]] = {}  # synset id -> normalised lemma -> spelling
    labels: list[str] = []
    for tab in tabs:
        labels.append(tab.label)
        for line in tab.text.splitlines():
            if line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) < 3 or parts[1] not in LEMMA_TYPES:
                continue
            synset_id, lemma = parts[0].strip(), " ".join(strip_marks(parts[2]).split())
            if not lemma or synset_id.rsplit("-", 1)[-1] not in (*POS_TAGS, "s"):
                continue
            lemmas.setdefault(synset_id, {}).setdefault(normalise(lemma), lemma)
    synsets = tuple(ArabicSynset(sid, tuple(spellings.values())) for sid, spellings in lemmas.items())
    return ArabicLexicon(synsets, "Open Multilingual Wordnet (arb): " + " + ".join(labels))


# --------------------------------------------------------------------------------------------- locating


def nltk_omw_path() -> Path | None:
    """nltk's ``omw-1.4`` folder or zip when it holds the Arabic file, else None (also without nltk)."""
    try:
        import nltk
    except ImportError:
        return None
    for root in nltk.data.path:
        folder = Path(root) / NLTK_OMW
        if any((folder / "arb" / name).is_file() for name in TAB_FILES):
            return folder
        archive = folder.with_name(folder.name + ".zip")
        if archive.is_file():
            return archive
    return None


def index_path(cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / NAME / f"index-v{INDEX_FORMAT}.json.gz"


def cached_source(cache: Path | None = None) -> str | None:
    """The source recorded in the cached index, or None when there is no usable one."""
    lexicon = _read_cache(index_path(cache))
    return None if lexicon is None else lexicon.source


def _read_cache(path: Path) -> ArabicLexicon | None:
    if not path.is_file():
        return None
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("format") == INDEX_FORMAT:
            return ArabicLexicon.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        pass  # a damaged cache entry is treated as absent (and rebuilt when a source is found)
    return None


def prepare_arabic_wordnet(source: Path, cache: Path | None = None) -> ArabicWordNet:
    """Builds the index from ``source`` (see ``read_tab_files``) and caches it, replacing any older one."""
    lexicon = build_lexicon(read_tab_files(source))
    if not lexicon.synsets:
        raise ResourceMissingError(f"no Arabic WordNet lemma lines in {source}")
    payload = json.dumps(lexicon.to_json(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    atomic_write_bytes(index_path(cache), gzip.compress(payload, compresslevel=6))
    return ArabicWordNet(lexicon)


def arabic_wordnet_available(cache: Path | None = None) -> bool:
    """Whether ``load_arabic_wordnet`` can succeed without a path (cached index or nltk's omw-1.4)."""
    return index_path(cache).is_file() or nltk_omw_path() is not None


def load_arabic_wordnet(cache: Path | None = None, source: Path | None = None) -> ArabicWordNet:
    """The Arabic WordNet: built from ``source`` when given, else the cached index, else built from
    nltk's omw-1.4; raises ``ResourceMissingError`` (saying how to prepare it) when there is none."""
    if source is not None:
        return prepare_arabic_wordnet(source, cache)
    lexicon = _read_cache(index_path(cache))
    if lexicon is not None:
        return ArabicWordNet(lexicon)
    found = nltk_omw_path()
    if found is None:
        raise ResourceMissingError(MISSING_MESSAGE)
    return prepare_arabic_wordnet(found, cache)
