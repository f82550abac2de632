"""WordNet 3.0 synonyms and antonyms, from nltk's data or Debian's WordNet files, cached as a small lexicon.

Where the data comes from, in order:

1. nltk's own ``corpora/wordnet`` when ``nltk.data.find`` sees it (``python -m nltk.downloader wordnet``);
2. Debian's ``wordnet-base`` + ``wordnet-sense-index`` (``/usr/share/wordnet`` or ``$WNSEARCHDIR``), copied
   into the cache in nltk's layout with a generated ``lexnames`` file and read with nltk.

Reading WordNet through nltk takes seconds (nltk maps every sense key on first use), so the first load
derives a compact lexicon (synsets, lemma antonyms, similar-to links, morphological exceptions) and caches
it; later loads read only that file and do not import nltk.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textrobust.errors import ResourceMissingError, require_one_of
from textrobust.files import atomic_directory, atomic_write_bytes
from textrobust.paths import cache_dir

POS_TAGS = ("n", "v", "a", "r")

# The WordNet 3.0 lexicographer files, numbered as in lexnames(5WN); nltk needs this file and Debian
# does not ship it (it is generated from this list: "NN<TAB>name<TAB>syntactic category").
LEXNAMES = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling",
    "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object", "noun.person",
    "noun.phenomenon", "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation",
    "noun.shape", "noun.state", "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition",
    "verb.communication", "verb.competition", "verb.consumption", "verb.contact", "verb.creation",
    "verb.emotion", "verb.motion", "verb.perception", "verb.possession", "verb.social", "verb.stative",
    "verb.weather", "adj.ppl",
)  # fmt: skip
_LEXFILE_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}

DEBIAN_WORDNET_DIR = Path("/usr/share/wordnet")
_DEBIAN_FILES = (
    "data.noun", "data.verb", "data.adj", "data.adv", "index.noun", "index.verb", "index.adj", "index.adv",
    "index.sense", "noun.exc", "verb.exc", "adj.exc", "adv.exc",
)  # fmt: skip
_OPTIONAL_DEBIAN_FILES = ("cntlist.rev",)

LEXICON_FORMAT = 1
INSTALL_HINT = (
    "install WordNet: `sudo apt-get install wordnet-base wordnet-sense-index` (Debian/Ubuntu) "
    "or `python -m nltk.downloader wordnet`"
)

# Detachment rules of WordNet's morphy(7WN): (suffix, replacement) tried in order for each POS.
_SUFFIX_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "n": (("s", ""), ("ses", "s"), ("ves", "f"), ("xes", "x"), ("zes", "z"), ("ches", "ch"),
          ("shes", "sh"), ("men", "man"), ("ies", "y")),
    "v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"),
          ("ing", "")),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "r": (),
}  # fmt: skip


@dataclass(frozen=True)
class Lexicon:
    """WordNet reduced to what attacks and counter-fitting use (the cached form).

    ``synsets[i]`` is ``(pos, lemma names)`` with pos in n/v/a/r (satellites folded into "a") and lemma
    names as WordNet writes them (``ice_cream``); ``antonyms`` holds directed lemma antonym links
    ``(synset, lemma, synset, lemma)``; ``similar`` holds ``(satellite, head)`` adjective links;
    ``exceptions[pos]`` maps irregular forms to base forms (``worse`` -> ``bad``).
    """

    synsets: list[tuple[str, tuple[str, ...]]]
    antonyms: list[tuple[int, str, int, str]]
    similar: list[tuple[int, int]]
    exceptions: dict[str, dict[str, list[str]]]
    source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "format": LEXICON_FORMAT,
            "source": self.source,
            "synsets": [[pos, list(lemmas)] for pos, lemmas in self.synsets],
            "antonyms": [list(link) for link in self.antonyms],
            "similar": [list(link) for link in self.similar],
            "exceptions": self.exceptions,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Lexicon:
        return cls(
            synsets=[(pos, tuple(lemmas)) for pos, lemmas in data["synsets"]],
            antonyms=[(int(a), str(la), int(b), str(lb)) for a, la, b, lb in data["antonyms"]],
            similar=[(int(a), int(b)) for a, b in data["similar"]],
            exceptions={pos: dict(table) for pos, table in data["exceptions"].items()},
            source=str(data["source"]),
        )


@dataclass
class WordNet:
    """Synonyms and antonyms by lemma and part of speech (n, v, a, r) over a cached WordNet lexicon."""

    lexicon: Lexicon
    _index: dict[tuple[str, str], list[int]] = field(init=False, repr=False)
    _antonym_links: dict[tuple[int, str], list[tuple[int, str]]] = field(init=False, repr=False)
    _heads: dict[int, list[int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = {}
        for synset_id, (pos, lemmas) in enumerate(self.lexicon.synsets):
            for lemma in lemmas:
                key = (lemma.lower(), pos)
                ids = self._index.setdefault(key, [])
                if not ids or ids[-1] != synset_id:
                    ids.append(synset_id)
        self._antonym_links = {}
        for synset_a, lemma_a, synset_b, lemma_b in self.lexicon.antonyms:
            self._antonym_links.setdefault((synset_a, lemma_a.lower()), []).append((synset_b, lemma_b))
        self._heads = {}
        for satellite, head in self.lexicon.similar:
            self._heads.setdefault(satellite, []).append(head)

    @property
    def source(self) -> str:
        return self.lexicon.source

    def base_forms(self, word: str, pos: str, nltk_morphy: bool = False) -> list[str]:
        """Lemmas WordNet would look ``word`` up as (the word itself first, then morphy's candidates).

        ``nltk_morphy``: as nltk 3.9's ``_morphy`` (what TextAttack asks): the word with its exceptions, or
        with its one-step rule forms ("teens" is looked up as "teens" and "teen"); by default, rule forms
        only when neither the word nor an exception is a lemma.
        """
        word = word.lower()
        if nltk_morphy:
            return self._nltk_base_forms(word, pos)
        forms: list[str] = []
        if (word, pos) in self._index:
            forms.append(word)
        for base in self.lexicon.exceptions.get(pos, {}).get(word, []):
            if (base, pos) in self._index and base not in forms:
                forms.append(base)
        if not forms:
            for suffix, replacement in _SUFFIX_RULES[pos]:
                if word.endswith(suffix) and len(word) > len(suffix):
                    base = word[: len(word) - len(suffix)] + replacement
                    if (base, pos) in self._index and base not in forms:
                        forms.append(base)
        return forms

    def _nltk_base_forms(self, word: str, pos: str) -> list[str]:
        exceptions = self.lexicon.exceptions.get(pos, {})
        if word in exceptions:
            forms = list(exceptions[word])
        else:
            forms = [
                word[: len(word) - len(old)] + new for old, new in _SUFFIX_RULES[pos] if word.endswith(old)
            ]
        return list(dict.fromkeys(f for f in [word, *forms] if (f, pos) in self._index))

    def synset_ids(
        self, word: str, pos: str | None = None, nltk_morphy: bool = False
    ) -> list[tuple[int, str]]:
        """``(synset id, lemma)`` for every sense of ``word`` (optionally of one POS), most frequent first."""
        found: list[tuple[int, str]] = []
        for tag in pos_list(pos):
            for form in self.base_forms(word, tag, nltk_morphy):
                found.extend((synset_id, form) for synset_id in self._index[(form, tag)])
        return found

    def synonyms(
        self, word: str, pos: str | None = None, multiword: bool = False, keep_word: bool = False
    ) -> list[str]:
        """Lemmas sharing a synset with ``word``, most frequent sense first, ``word`` itself excluded
        (``keep_word``: TextAttack's lookup — nltk's morphy, the word's own lemma kept in WordNet's
        spelling, since TextAttack compares case-sensitively later).

        Multi-word lemmas (``ice_cream``) are left out unless ``multiword``, which returns them with spaces.
        """
        lowered = word.lower()
        result: dict[str, None] = {}
        for synset_id, _ in self.synset_ids(word, pos, nltk_morphy=keep_word):
            for lemma in self.lexicon.synsets[synset_id][1]:
                candidate = _surface(lemma, multiword)
                if candidate is not None and (keep_word or candidate.lower() != lowered):
                    result.setdefault(candidate, None)
        return list(result)

    def antonyms(
        self, word: str, pos: str | None = None, multiword: bool = False, indirect: bool = True
    ) -> list[str]:
        """WordNet antonyms of ``word``: direct lemma antonyms and, with ``indirect``, those of the head
        adjectives its satellite senses are similar to (``quick`` -> similar to ``fast`` -> ``slow``)."""
        lowered = word.lower()
        result: dict[str, None] = {}
        for synset_id, form in self.synset_ids(word, pos):
            links = list(self._antonym_links.get((synset_id, form), []))
            if indirect:
                for head in self._heads.get(synset_id, []):
                    for head_lemma in self.lexicon.synsets[head][1]:
                        links.extend(self._antonym_links.get((head, head_lemma.lower()), []))
            for _, lemma in links:
                candidate = _surface(lemma, multiword)
                if candidate is not None and candidate.lower() != lowered:
                    result.setdefault(candidate, None)
        return list(result)

    def lemmas(self) -> set[str]:
        """Every lower-cased lemma name in the lexicon (WordNet spelling, underscores kept)."""
        return {lemma for lemma, _ in self._index}

    def synonym_groups(self) -> Iterable[tuple[str, tuple[str, ...]]]:
        """Each synset as ``(pos, lemmas)``: the raw material of synonym constraints."""
        return iter(self.lexicon.synsets)

    def antonym_lemma_pairs(self, indirect: bool = True) -> set[tuple[str, str]]:
        """Lower-cased antonym lemma pairs, both orders: direct links, plus (``indirect``) each satellite
        lemma against the antonyms of its head adjective."""
        pairs: set[tuple[str, str]] = set()
        for _, lemma_a, _, lemma_b in self.lexicon.antonyms:
            a, b = lemma_a.lower(), lemma_b.lower()
            pairs.add((a, b))
            pairs.add((b, a))
        if indirect:
            antonyms_of_synset: dict[int, list[str]] = {}
            for synset_a, _, _, lemma_b in self.lexicon.antonyms:
                antonyms_of_synset.setdefault(synset_a, []).append(lemma_b.lower())
            for satellite, head in self.lexicon.similar:
                for antonym in antonyms_of_synset.get(head, []):
                    for lemma in self.lexicon.synsets[satellite][1]:
                        pairs.add((lemma.lower(), antonym))
                        pairs.add((antonym, lemma.lower()))
        return {(a, b) for a, b in pairs if a != b}


def pos_list(pos: str | None) -> tuple[str, ...]:
    """The WordNet parts of speech a ``pos`` argument stands for (None: all; ``s`` is ``a``)."""
    if pos is None:
        return POS_TAGS
    if pos == "s":
        return ("a",)
    if pos not in POS_TAGS:
        require_one_of("pos", pos, ("n", "v", "a", "r"))
    return (pos,)


def _surface(lemma: str, multiword: bool) -> str | None:
    if "_" in lemma or " " in lemma:
        return lemma.replace("_", " ") if multiword else None
    return lemma


# --------------------------------------------------------------------------------------------- locating


def nltk_wordnet_path() -> Path | None:
    """Where nltk's own WordNet data is (a folder or zip), or None when nltk or its data is absent."""
    try:
        import nltk
    except ImportError:
        return None
    try:
        pointer = nltk.data.find("corpora/wordnet")
    except LookupError:
        try:
            pointer = nltk.data.find("corpora/wordnet.zip")
        except LookupError:
            return None
    return Path(str(getattr(pointer, "path", pointer)))


def debian_wordnet_dir() -> Path | None:
    """Debian's WordNet dictionary folder (``$WNSEARCHDIR`` or ``/usr/share/wordnet``) when complete."""
    candidates = []
    if os.environ.get("WNSEARCHDIR"):
        candidates.append(Path(os.environ["WNSEARCHDIR"]))
    candidates.append(DEBIAN_WORDNET_DIR)
    for candidate in candidates:
        if all((candidate / name).is_file() for name in _DEBIAN_FILES):
            return candidate
    return None


def nltk_layout_root(cache: Path | None = None) -> Path:
    """The nltk data root in the cache that holds the copied Debian WordNet (``<root>/corpora/wordnet``)."""
    return (cache or cache_dir()) / "nltk_data"


def install_debian_wordnet(source: Path, nltk_root: Path) -> Path:
    """Copies Debian's WordNet files into ``nltk_root/corpora/wordnet`` with a generated ``lexnames``.

    Files are copied, not linked: nltk refuses links that resolve outside its data path.
    """
    target = nltk_root / "corpora" / "wordnet"
    with atomic_directory(target) as staging:
        for name in _DEBIAN_FILES + _OPTIONAL_DEBIAN_FILES:
            if (source / name).is_file():
                shutil.copyfile(source / name, staging / name)
        lines = [f"{number:02d}\t{name}\t{_LEXFILE_CATEGORY[name.split('.')[0]]}" for number, name in
                 enumerate(LEXNAMES)]  # fmt: skip
        (staging / "lexnames").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def _copied_wordnet_ready(nltk_root: Path) -> bool:
    folder = nltk_root / "corpora" / "wordnet"
    return (folder / "lexnames").is_file() and all((folder / name).is_file() for name in _DEBIAN_FILES)


def open_nltk_wordnet(cache: Path | None = None, use_nltk_data: bool = True) -> tuple[Any, str]:
    """An nltk ``WordNetCorpusReader`` and a description of its source; raises when there is none.

    nltk's own data comes first unless ``use_nltk_data`` is False (then only Debian's files are used).
    """
    try:
        import nltk
        from nltk.corpus.reader.wordnet import WordNetCorpusReader
    except ImportError:
        raise ResourceMissingError("WordNet needs nltk: pip install 'textrobust[nlp]'") from None
    found = nltk_wordnet_path() if use_nltk_data else None
    if found is not None:
        from nltk.corpus import wordnet

        wordnet.ensure_loaded()
        return wordnet, f"nltk data ({found})"
    source = debian_wordnet_dir()
    nltk_root = nltk_layout_root(cache)
    if not _copied_wordnet_ready(nltk_root):
        if source is None:
            raise ResourceMissingError(f"WordNet is missing: {INSTALL_HINT}")
        install_debian_wordnet(source, nltk_root)
    # nltk 3.10 reads corpora only under a root on nltk.data.path.
    if str(nltk_root) not in [str(entry) for entry in nltk.data.path]:
        nltk.data.path.append(str(nltk_root))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The multilingual functions")
        reader = WordNetCorpusReader(nltk.data.FileSystemPathPointer(str(nltk_root / "corpora" / "wordnet")),
                                     None)  # fmt: skip
    origin = f"Debian wordnet-base ({source})" if source is not None else "Debian wordnet-base"
    return reader, f"{origin} copied to {nltk_root / 'corpora' / 'wordnet'}"


def build_lexicon(reader: Any, source: str) -> Lexicon:
    """Derives the cached lexicon from an nltk WordNet reader (about 5 s after nltk's own loading)."""
    ids: dict[str, int] = {}
    synsets: list[tuple[str, tuple[str, ...]]] = []
    antonym_links: list[tuple[int, str, str, str]] = []
    similar_links: list[tuple[int, str]] = []
    for synset in reader.all_synsets():
        own = len(synsets)
        ids[synset.name()] = own
        pos = "a" if synset.pos() == "s" else synset.pos()
        synsets.append((pos, tuple(lemma.name() for lemma in synset.lemmas())))
        for lemma in synset.lemmas():
            for antonym in lemma.antonyms():
                antonym_links.append((own, lemma.name(), antonym.synset().name(), antonym.name()))
        if synset.pos() == "s":
            similar_links.extend((own, head.name()) for head in synset.similar_tos() if head.pos() == "a")
    antonyms = [(own, lemma, ids[target], name) for own, lemma, target, name in antonym_links]
    similar = [(own, ids[head]) for own, head in similar_links]
    exceptions = {pos: {k: list(v) for k, v in reader._exception_map[pos].items()} for pos in POS_TAGS}
    return Lexicon(synsets, antonyms, similar, exceptions, source)


def lexicon_path(cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / "wordnet" / f"lexicon-v{LEXICON_FORMAT}.json.gz"


def wordnet_available(cache: Path | None = None) -> bool:
    """Whether ``load_wordnet`` can succeed without the network."""
    if lexicon_path(cache).is_file() or _copied_wordnet_ready(nltk_layout_root(cache)):
        return True
    return nltk_wordnet_path() is not None or debian_wordnet_dir() is not None


def load_wordnet(cache: Path | None = None) -> WordNet:
    """WordNet 3.0 from the cached lexicon, building it on first use (nltk data, else Debian's files)."""
    path = lexicon_path(cache)
    if path.is_file():
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                data = json.load(handle)
            if data.get("format") == LEXICON_FORMAT:
                return WordNet(Lexicon.from_json(data))
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry is rebuilt below
    reader, source = open_nltk_wordnet(cache)
    lexicon = build_lexicon(reader, source)
    payload = json.dumps(lexicon.to_json(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    atomic_write_bytes(path, gzip.compress(payload, compresslevel=6))
    return WordNet(lexicon)
