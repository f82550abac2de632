"""Counter-fitting, similarity scans and neighbour tables on small vocabularies (fast, no real resources)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from textrobust.errors import ResourceMissingError, TextrobustError
from textrobust.resources import neighbours as nb
from textrobust.resources._similarity import pairs_above, top_k
from textrobust.resources.counterfit import CounterFitConfig, counter_fit, normalise, vsp_pairs
from textrobust.resources.evaluation import antonym_share
from textrobust.resources.lexical_pairs import FilePairs, LexicalPairs


def _unit(vector: list[float]) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    return array / np.linalg.norm(array)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture()
def small_space() -> tuple[list[str], np.ndarray]:
    """good/bad start close (antonyms in a distributional space), good/great start apart (synonyms),
    cat/dog are close neighbours with no constraint, table is alone."""
    rng = np.random.default_rng(0)
    words = ["good", "bad", "great", "cat", "dog", "table"]
    base = {
        "good": _unit([1, 0.1, 0, 0, 0, 0, 0, 0]),
        "bad": _unit([0.9, 0.45, 0, 0, 0, 0, 0, 0]),
        "great": _unit([0.3, 0, 1, 0, 0, 0, 0, 0]),
        "cat": _unit([0, 0, 0, 1, 0.4, 0, 0, 0]),
        "dog": _unit([0, 0, 0, 1, 0.9, 0, 0, 0]),
        "table": _unit([0, 0, 0, 0, 0, 1, 0, 0]),
    }
    vectors = np.stack([base[w] + rng.normal(0, 0.01, 8).astype(np.float32) for w in words])
    return words, vectors


def test_counter_fitting_pushes_antonyms_apart_and_pulls_synonyms_together(small_space) -> None:
    words, vectors = small_space
    pairs = LexicalPairs.from_pairs([("good", "great")], [("good", "bad")], "test")
    fitted = counter_fit(vectors, words, pairs)
    row = {w: i for i, w in enumerate(words)}
    before_ant, after_ant = (
        _cos(vectors[row["good"]], vectors[row["bad"]]),
        _cos(*fitted[[row["good"], row["bad"]]]),
    )
    before_syn = _cos(vectors[row["good"]], vectors[row["great"]])
    after_syn = _cos(*fitted[[row["good"], row["great"]]])
    assert before_ant > 0.9 and after_ant < 0.3  # repelled towards orthogonal (delta = 1)
    assert before_syn < 0.35 and after_syn > before_syn + 0.3
    np.testing.assert_allclose(np.linalg.norm(fitted, axis=1), 1.0, atol=1e-5)
    # Unconstrained words keep their direction: "table" exactly, cat/dog stay as close as they were.
    np.testing.assert_allclose(fitted[row["table"]], normalise(vectors)[row["table"]], atol=1e-6)
    assert _cos(*fitted[[row["cat"], row["dog"]]]) >= _cos(vectors[row["cat"]], vectors[row["dog"]]) - 1e-4


def test_antonym_repel_stops_at_the_margin(small_space) -> None:
    words, vectors = small_space
    pairs = LexicalPairs.from_pairs([], [("good", "table")], "test")  # already orthogonal: d >= delta
    fitted = counter_fit(vectors, words, pairs, CounterFitConfig(k_vsp=0.0))
    np.testing.assert_allclose(fitted, normalise(vectors), atol=1e-6)


def test_more_steps_separate_antonyms_further(small_space) -> None:
    words, vectors = small_space
    pairs = LexicalPairs.from_pairs([], [("good", "bad")], "test")
    short = counter_fit(vectors, words, pairs, CounterFitConfig(epochs=2))
    long = counter_fit(vectors, words, pairs, CounterFitConfig(epochs=20))
    assert _cos(*long[[0, 1]]) < _cos(*short[[0, 1]]) < _cos(vectors[0], vectors[1])


def test_vector_space_preservation_keeps_neighbours_of_moved_words(small_space) -> None:
    words, vectors = small_space
    words = words + ["goodish"]
    vectors = np.vstack([vectors, vectors[0] + 0.05])  # very close to "good" (cos > 0.8)
    pairs = LexicalPairs.from_pairs([], [("good", "bad")], "test")
    with_vsp = counter_fit(vectors, words, pairs)
    without = counter_fit(vectors, words, pairs, CounterFitConfig(k_vsp=0.0))
    assert _cos(*with_vsp[[0, 6]]) > _cos(*without[[0, 6]])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n_pairs=st.integers(0, 6))
def test_counter_fitted_rows_are_unit_and_unconstrained_rows_only_renormalised(
    seed: int, n_pairs: int
) -> None:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(12)]
    vectors = rng.normal(size=(12, 6)).astype(np.float32)
    pool = [(f"w{i}", f"w{j}") for i in range(6) for j in range(i + 1, 6)]
    chosen = [pool[i] for i in rng.choice(len(pool), size=n_pairs, replace=False)]
    pairs = LexicalPairs.from_pairs(chosen[: n_pairs // 2], chosen[n_pairs // 2 :], "random")
    fitted = counter_fit(vectors, words, pairs, CounterFitConfig(k_vsp=0.0))
    np.testing.assert_allclose(np.linalg.norm(fitted, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(fitted[6:], normalise(vectors)[6:], atol=1e-6)


def test_synonym_pairs_that_are_also_antonyms_are_dropped() -> None:
    pairs = LexicalPairs.from_pairs([("b", "a"), ("a", "c"), ("a", "a")], [("a", "b")], "test")
    assert pairs.synonyms == [("a", "c")]
    assert pairs.antonyms == [("a", "b")]
    assert pairs.restrict({"a", "b"}).synonyms == []


def test_pair_files_are_read_and_restricted_to_the_vocabulary(tmp_path: Path) -> None:
    (tmp_path / "syn.txt").write_text("# comment\nfast quick\nquick rapid\n")
    (tmp_path / "ant.txt").write_text("fast slow\n")
    pairs = FilePairs(tmp_path / "syn.txt", tmp_path / "ant.txt").pairs({"fast", "quick", "slow"})
    assert pairs.synonyms == [("fast", "quick")]
    assert pairs.antonyms == [("fast", "slow")]
    (tmp_path / "bad.txt").write_text("one two three\n")
    with pytest.raises(TextrobustError, match="bad.txt:1"):
        FilePairs(tmp_path / "bad.txt", None).pairs({"one"})
    with pytest.raises(ResourceMissingError, match="pair file not found"):
        FilePairs(tmp_path / "none.txt", None).pairs({"one"})


# ------------------------------------------------------------------------------------------ similarity scans


def _random_unit(n: int, dim: int, seed: int = 0) -> np.ndarray:
    return normalise(np.random.default_rng(seed).normal(size=(n, dim)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_threshold_scan_finds_exactly_the_pairs_above_the_threshold(dtype: torch.dtype) -> None:
    vectors = _random_unit(300, 8)
    first, second, cosine = pairs_above(vectors, 0.6, chunk=64, dtype=dtype)
    full = vectors @ vectors.T
    expected = {(i, j) for i, j in zip(*np.nonzero(full >= 0.6), strict=True) if i < j}
    assert set(zip(first.tolist(), second.tolist(), strict=True)) == expected
    np.testing.assert_allclose(cosine, full[first, second], atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_top_k_matches_a_brute_force_search(dtype: torch.dtype) -> None:
    vectors = _random_unit(500, 12, seed=1)
    ids, cosines = top_k(vectors, 10, chunk=128, dtype=dtype)
    full = vectors @ vectors.T
    np.fill_diagonal(full, -np.inf)
    exact = np.argsort(-full, axis=1)[:, :10]
    assert not np.any(ids == np.arange(500)[:, None])  # a word is never its own neighbour
    np.testing.assert_allclose(cosines, np.take_along_axis(full, ids.astype(np.int64), 1), atol=1e-6)
    assert np.all(np.diff(cosines, axis=1) <= 1e-7)
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids.tolist(), exact.tolist(), strict=True)])
    assert overlap >= (1.0 if dtype == torch.float32 else 0.99)


def test_vsp_pairs_use_the_rho_neighbourhood() -> None:
    vectors = normalise(np.array([[1, 0], [0.9, 0.3], [0, 1]], dtype=np.float32))
    index, cosine = vsp_pairs(vectors, rho=0.2)
    assert list(zip(index.first.tolist(), index.second.tolist(), strict=True)) == [(0, 1)]
    assert cosine[0] == pytest.approx(0.9487, abs=1e-3)


# ------------------------------------------------------------------------------------- neighbour tables


def _write_vectors(path: Path, words: list[str], vectors: np.ndarray) -> Path:
    lines = [f"{w} " + " ".join(f"{x:.6f}" for x in row) for w, row in zip(words, vectors, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def vector_file(tmp_path: Path, small_space) -> Path:
    words, vectors = small_space
    extra = _random_unit(24, 8, seed=3)
    return _write_vectors(
        tmp_path / "tiny.txt", words + [f"word{chr(97 + i)}" for i in range(24)], np.vstack([vectors, extra])
    )


def test_neighbour_table_answers_sorted_neighbours_cosines_and_oov(vector_file: Path, tmp_path: Path) -> None:
    table = nb.load_neighbour_table(str(vector_file), cache=tmp_path / "cache", show_progress=False)
    assert len(table) == 30 and table.k == 29
    near = table.neighbours("good", k=5)
    assert len(near) == 5 and near[0][0] == "bad"
    assert all(a[1] >= b[1] for a, b in zip(near, near[1:], strict=False))
    assert "good" not in [w for w, _ in table.neighbours("good", k=29)]
    assert table.neighbours("Good", k=5) == near  # lower-cased fallback
    above = table.neighbours("good", k=29, min_cos=0.5)
    assert above == [(w, c) for w, c in table.neighbours("good", k=29) if c >= 0.5]
    assert table.neighbours("unknownword") == [] and "unknownword" not in table
    assert table.cosine("good", "unknownword") is None
    assert table.cosine("good", "bad") == pytest.approx(near[0][1], abs=1e-6)
    # More than the precomputed K is answered exactly from the vectors.
    assert len(table.neighbours("good", k=500, min_cos=-1.0)) == 29
    assert all(c >= 0.0 for _, c in table.neighbours("good", k=500))  # min_cos defaults to 0


def test_neighbour_tables_are_cached_and_rebuilt_when_the_input_changes(
    vector_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    nb.load_neighbour_table(str(vector_file), cache=cache, show_progress=False)
    calls = []
    original_build = nb.build_table
    monkeypatch.setattr(
        nb, "build_table", lambda spec, progress=None: calls.append(spec) or original_build(spec)
    )
    nb.load_neighbour_table(str(vector_file), cache=cache, show_progress=False)
    assert calls == []
    vector_file.write_text(vector_file.read_text() + "extra " + " ".join(["0.5"] * 8) + "\n")
    table = nb.load_neighbour_table(str(vector_file), cache=cache, show_progress=False)
    assert len(calls) == 1 and "extra" in table


def test_counter_fitting_a_vector_file_with_pair_files(vector_file: Path, tmp_path: Path) -> None:
    (tmp_path / "ant.txt").write_text("good bad\n")
    plain = nb.load_neighbour_table(str(vector_file), cache=tmp_path / "c", show_progress=False)
    fitted = nb.load_neighbour_table(
        f"counter-fitted:{vector_file}",
        cache=tmp_path / "c",
        pair_source=FilePairs(None, tmp_path / "ant.txt"),
        show_progress=False,
    )
    assert fitted.meta["antonym_pairs"] == 1 and fitted.meta["counter_fitted"] is True
    assert fitted.cosine("good", "bad") < plain.cosine("good", "bad") - 0.5
    assert antonym_share(plain, [("good", "bad")], k=5).hits == 1
    assert antonym_share(fitted, [("good", "bad")], k=5).hits == 0


def test_missing_tables_say_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(ResourceMissingError, match="textrobust resources prepare counter-fitted-original"):
        nb.load_neighbour_table(nb.COUNTER_FITTED_ORIGINAL, cache=tmp_path)
    with pytest.raises(ResourceMissingError, match="unknown neighbour table 'nonsense'"):
        nb.load_neighbour_table("nonsense", cache=tmp_path)
    with pytest.raises(ResourceMissingError, match="word-vector file not found"):
        nb.load_neighbour_table("counter-fitted:/no/such/file.txt", cache=tmp_path)


def test_counter_fitted_resolves_to_the_original_vectors_once_fetched(
    vector_file: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    assert nb.resolve_table(nb.COUNTER_FITTED, cache=cache).name == nb.COUNTER_FITTED_GLOVE
    import zipfile

    archive = tmp_path / "counter-fitted-vectors.txt.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(vector_file, "counter-fitted-vectors.txt")
    nb.fetch_original_vectors(archive, cache)
    table = nb.load_neighbour_table(nb.COUNTER_FITTED, cache=cache, show_progress=False)
    assert table.name == nb.COUNTER_FITTED_ORIGINAL and "good" in table and len(table) == 30


def test_a_damaged_cached_table_is_built_again(
    vector_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    first = nb.load_neighbour_table(str(vector_file), cache=cache, show_progress=False)
    (ids,) = list(cache.rglob("neighbour_ids.npy"))
    ids.write_bytes(ids.read_bytes()[: len(ids.read_bytes()) // 2])  # a copy cut off half-way
    again = nb.load_neighbour_table(str(vector_file), cache=cache, show_progress=False)
    assert "damaged" in capsys.readouterr().err
    assert again.words == first.words
    assert np.array_equal(again.neighbour_ids, first.neighbour_ids)
    assert nb.load_neighbour_table(str(vector_file), cache=cache, show_progress=False).words == first.words
