"""The TextAttack adapter: recipe names, the paragramcf export, tag mapping, runner/CLI wiring, and (where
TextAttack is installed) a TextAttack recipe run through textrobust's runner into the store."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from textrobust.attacks.options import AttackOptions
from textrobust.attacks.textattack_adapter import (
    TEXTATTACK_RECIPES,
    _VictimWrapper,
    is_textattack_recipe,
    paragramcf_ready,
    parse_recipe,
    textattack_available,
    write_nltk_stopwords,
    write_paragramcf,
)
from textrobust.cli import main
from textrobust.errors import TextrobustError
from textrobust.resources.neighbours import NeighbourTable


def test_recipe_names_are_parsed_and_unknown_ones_rejected() -> None:
    assert is_textattack_recipe("textattack:textfooler")
    assert not is_textattack_recipe("textfooler")
    for name in TEXTATTACK_RECIPES:
        assert parse_recipe(f"textattack:{name}") == name
    with pytest.raises(
        TextrobustError, match="unknown TextAttack recipe 'textattack:hotflip'; choose one of"
    ):
        parse_recipe("textattack:hotflip")
    with pytest.raises(TextrobustError, match="not a TextAttack recipe"):
        parse_recipe("pwws")


def _table() -> NeighbourTable:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, 4)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    similarities = vectors @ vectors.T
    np.fill_diagonal(similarities, -np.inf)
    ids = np.argsort(-similarities, axis=1)[:, :3].astype(np.int32)
    cos = np.take_along_axis(similarities, ids, axis=1).astype(np.float32)
    return NeighbourTable("tiny", ["good", "great", "bad", "awful", "film", "movie"], vectors, ids, cos)


def test_paragramcf_export_has_textattacks_layout(tmp_path: Path) -> None:
    table = _table()
    folder = write_paragramcf(table, tmp_path / "paragramcf")
    assert paragramcf_ready(folder)
    embedding = np.load(folder / "paragram.npy")
    assert embedding.dtype == np.float32 and np.allclose(embedding, table.vectors)
    words = np.load(folder / "wordlist.pickle", allow_pickle=True)  # how TextAttack reads it
    assert words == {w: i for i, w in enumerate(table.words)}
    nn = np.load(folder / "nn.npy")
    assert nn.shape == (6, 4)
    assert (nn[:, 0] == np.arange(6)).all()  # column 0: the word itself
    assert (nn[:, 1:] == table.neighbour_ids).all()
    for row, word in enumerate(table.words):  # TextAttack's nearest_neighbours(i, k) = nn[i][1 : k + 1]
        expected = [w for w, _c in table.neighbours(word, k=2)]
        assert [table.words[i] for i in nn[row][1:3]] == expected
    for name in ("mse_dist.p", "cos_sim.p"):
        with open(folder / name, "rb") as handle:
            cache = pickle.load(handle)
        cache[1][4] = 0.5  # TextAttack fills its caches as cache[a][b]
        assert cache[1] == {4: 0.5} and len(cache) == 1


def test_stopwords_are_written_as_an_nltk_corpus(tmp_path: Path) -> None:
    path = write_nltk_stopwords({"the", "a", "of"}, tmp_path)
    assert path == tmp_path / "corpora" / "stopwords" / "english"
    assert path.read_text().split() == ["a", "of", "the"]


class _CountingTagger:
    """Tags capitalised words PROPN, others NOUN; counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    def tag(self, words: list[str]) -> list[str]:
        self.calls += 1
        return ["PROPN" if w[:1].isupper() else "NOUN" for w in words]


def test_textattack_pos_check_gets_our_taggers_tags_cached_per_context() -> None:
    from textrobust.attacks.textattack_adapter import _pos_with

    class PartOfSpeechStandIn:  # the two attributes TextAttack's PartOfSpeech._get_pos uses
        _pos_tag_cache: dict = {}

    tagger = _CountingTagger()
    constraint = PartOfSpeechStandIn()
    constraint._pos_tag_cache = {}
    get_pos = _pos_with(tagger).__get__(constraint)
    assert get_pos(["from", "Warner"], "Bros", ["films"]) == "PROPN"
    assert get_pos(["from", "Warner"], "bros", ["films"]) == "NOUN"
    assert get_pos(["from", "Warner"], "Bros", ["films"]) == "PROPN"
    assert tagger.calls == 2  # the repeated context came from the cache


def test_victim_wrapper_returns_the_victims_probabilities() -> None:
    from tests.stand_ins import KeywordModel

    victim = KeywordModel({"good": 2.0, "bad": -2.0})
    wrapper = _VictimWrapper(victim)
    out = wrapper(["good film", "bad film"])
    assert out.shape == (2, 2) and out.dtype == np.float32
    assert out[0, 1] > 0.8 and out[1, 0] > 0.8
    with pytest.raises(RuntimeError, match="no victim"):
        _VictimWrapper()(["x"])


def test_unknown_textattack_recipe_is_a_one_line_cli_error(
    tiny_wordcnn_dir: Path, tmp_path: Path, capsys
) -> None:
    store = tmp_path / "s.sqlite"
    argv = ["attack", "--victim", str(tiny_wordcnn_dir), "--recipe", "textattack:hotflip",
            "--store", str(store), "--n", "2", "--no-progress"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown TextAttack recipe 'textattack:hotflip'") and err.count("\n") == 1
    assert not store.exists()


def test_runner_rejects_textrobust_only_options_for_textattack_recipes(
    tiny_wordcnn_dir: Path, tmp_path: Path
):
    from textrobust.runs.jobs import attack_victim

    with pytest.raises(TextrobustError, match="do not apply to TextAttack recipes"):
        attack_victim(tiny_wordcnn_dir, "textattack:pwws", options=AttackOptions(beam_width=2), n=2,
                      store=tmp_path / "s.sqlite", progress=False)  # fmt: skip


@pytest.mark.skipif(textattack_available(), reason="TextAttack is installed here")
def test_without_textattack_the_run_says_how_to_install_it(tiny_wordcnn_dir: Path, tmp_path: Path) -> None:
    from textrobust.errors import ResourceMissingError
    from textrobust.runs.jobs import attack_victim
    from textrobust.store import Store

    with pytest.raises(ResourceMissingError, match="TextAttack is not installed: install TextAttack"):
        attack_victim(tiny_wordcnn_dir, "textattack:pwws", n=2, store=tmp_path / "s.sqlite", progress=False)
    with Store(tmp_path / "s.sqlite") as store:
        assert store.runs() == []  # the attack failed to build: no run left behind


@pytest.mark.skipif(
    not textattack_available(),
    reason="TextAttack is not importable in this environment (it pins transformers<5; "
    "benchmarks/peer_textattack/run.py --setup-only builds a venv with it)",
)
def test_a_textattack_recipe_runs_through_the_runner_into_the_store(tiny_wordcnn_dir: Path, tmp_path: Path):
    from textrobust.runs.jobs import attack_victim
    from textrobust.store import Store
    from textrobust.victims import load_victim

    outcome = attack_victim(tiny_wordcnn_dir, "textattack:pwws", n=4, store=tmp_path / "s.sqlite",
                            progress=False)  # fmt: skip
    assert outcome.run.parameters.recipe == "textattack:pwws"
    victim = load_victim(tiny_wordcnn_dir)
    with Store(tmp_path / "s.sqlite") as store:
        results = store.results(outcome.run.id)
    assert len(results) == 4
    for result in results:
        assert result.status in ("success", "failed", "skipped")
        if result.status == "success":
            prediction = int(np.argmax(victim.predict_proba([result.adversarial_text])[0]))
            assert prediction != result.label == result.original_prediction
            assert result.changes and result.queries > 1
