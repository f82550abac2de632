"""``sklearn:`` victims: a fitted scikit-learn pipeline saved with skops (or, trusted, as a pickle), attacked
like any victim — with the same results as the same pipeline behind a ``py:`` factory."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from tests.stand_ins import keyword_dataset, write_dataset
from textrobust.cli import main
from textrobust.errors import VictimError
from textrobust.store import Store
from textrobust.victims import resolve_victim
from textrobust.victims.resolve import SourceOptions

sio = pytest.importorskip("skops.io", reason='sklearn: victims need skops: pip install "textrobust[sklearn]"')

FACTORY_FILE = '''
"""The same pipeline, loaded by a team's own code behind a py: factory."""

import skops.io


class Pipeline:
    def __init__(self, path):
        self.model = skops.io.load(path)
        self.labels = [str(label) for label in self.model.classes_]

    def predict_proba(self, texts):
        return self.model.predict_proba(list(texts))


def make():
    return Pipeline({path!r})
'''


def _fit(labels_as_ids: bool = False):
    """A TF-IDF + logistic regression pipeline fitted on the keyword data's training split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    dataset = keyword_dataset()
    train = dataset.splits["train"]
    labels = list(train.labels) if labels_as_ids else [dataset.label_names[i] for i in train.labels]
    return make_pipeline(TfidfVectorizer(), LogisticRegression(C=10.0)).fit(list(train.texts), labels)


@pytest.fixture(scope="module")
def pipeline_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The pipeline as .skops and .pkl files, one fitted on label ids, and the keyword data as a CSV."""
    folder = tmp_path_factory.mktemp("sklearn-victims")
    model = _fit()
    sio.dump(model, folder / "model.skops")
    (folder / "model.pkl").write_bytes(pickle.dumps(model))
    sio.dump(_fit(labels_as_ids=True), folder / "ids.skops")
    return {
        "skops": folder / "model.skops",
        "pickle": folder / "model.pkl",
        "ids": folder / "ids.skops",
        "data": write_dataset(keyword_dataset(), folder / "keywords.csv"),
    }


def _attack(victim: str, data: Path, store: Path, recipe: str, *extra: str) -> list[tuple]:
    argv = ["attack", "--victim", victim, "--recipe", recipe, "--dataset", str(data), "--n", "10"]
    assert main([*argv, "--no-progress", "--store", str(store), *extra]) == 0
    with Store(store) as opened:
        (run,) = opened.runs()
        return [(r.status, r.adversarial_text, r.queries) for r in opened.results(run.id)]


def test_a_skops_file_resolves_to_its_classes_and_file_digest(pipeline_files: dict[str, Path]) -> None:
    path = pipeline_files["skops"]
    ref = resolve_victim(f"sklearn:{path}")
    assert ref.kind == "sklearn" and ref.location == f"sklearn:{path.resolve()}"
    assert ref.labels == ("negative", "positive") and ref.family == "TfidfVectorizer+LogisticRegression"
    assert not ref.trainable and not ref.white_box and not ref.uses_gpu and ref.architecture is None
    texts = ["the film was very good and plot", "the film was bad and plot"]
    probabilities = ref.load().predict_proba(texts)
    assert probabilities.dtype == np.float64 and probabilities.shape == (2, 2)
    assert np.array_equal(probabilities, sio.load(path).predict_proba(texts))
    shipped = pickle.loads(pickle.dumps(ref))  # a worker elsewhere loads the file again
    assert shipped.prepared is None and np.array_equal(shipped.load().predict_proba(texts), probabilities)
    with pytest.raises(VictimError, match="single string"):
        ref.load().predict_proba("one text")
    import hashlib

    assert ref.digest == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("recipe", ["textfooler", "pwws"])
def test_an_sklearn_victim_is_attacked_as_the_same_pipeline_behind_a_factory(
    recipe: str, pipeline_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if recipe == "pwws":
        pytest.importorskip("spacy", reason="PWWS tags parts of speech with spaCy")
    factory = tmp_path / "team_pipeline.py"
    factory.write_text(FACTORY_FILE.format(path=str(pipeline_files["skops"])), encoding="utf-8")
    data = pipeline_files["data"]
    rows = _attack(f"sklearn:{pipeline_files['skops']}", data, tmp_path / "sklearn.sqlite", recipe)
    with Store(tmp_path / "sklearn.sqlite") as opened:
        assert opened.runs()[0].parameters.victim.type == "sklearn"
    assert rows == _attack(f"py:{factory}:make", data, tmp_path / "python.sqlite", recipe)
    assert any(status == "success" for status, _text, _queries in rows), rows


def test_an_sklearn_victim_is_evaluated(pipeline_files: dict[str, Path], capsys) -> None:
    assert (
        main(
            [
                "evaluate",
                "--victim",
                f"sklearn:{pipeline_files['skops']}",
                "--dataset",
                str(pipeline_files["data"]),
                "--allow-overlap",
            ]
        )
        == 0
    )
    assert "1.0000" in capsys.readouterr().out


def _one_line_error(argv: list[str], store: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main([*argv, "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert not store.exists()
    return err


def test_a_pickle_loads_only_with_trust_pickle(
    pipeline_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim, data = f"sklearn:{pipeline_files['pickle']}", str(pipeline_files["data"])
    argv = ["attack", "--victim", victim, "--recipe", "textfooler", "--dataset", data, "--n", "2"]
    err = _one_line_error(argv, tmp_path / "refused.sqlite", capsys)
    assert "runs code" in err and "--trust-pickle" in err
    assert main(["evaluate", "--victim", victim, "--dataset", data, "--trust-pickle", "--allow-overlap"]) == 0
    assert "1.0000" in capsys.readouterr().out
    trusted = resolve_victim(victim, SourceOptions(trust_pickle=True))
    shipped = pickle.loads(pickle.dumps(trusted))  # the user's word travels to workers that load it again
    texts = ["the film was very good and plot", "the film was bad and plot"]
    skops = resolve_victim(f"sklearn:{pipeline_files['skops']}").load().predict_proba(texts)
    assert np.array_equal(shipped.load().predict_proba(texts), skops)


def test_untrusted_types_in_a_skops_file_are_refused_and_listed(tmp_path: Path) -> None:
    model = _fit()
    model.steps[-1][1].note = Note()  # a type of this module: skops does not trust it by default
    sio.dump(model, tmp_path / "odd.skops")
    with pytest.raises(VictimError, match=r"does not trust by default, refused: .*\.Note$"):
        resolve_victim(f"sklearn:{tmp_path / 'odd.skops'}")


class Note(dict):
    """A type skops does not know."""


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("sklearn:nowhere/model.skops", "file not found"),
        ("sklearn:{folder}/keywords.csv", "expected a .skops, .pkl or .joblib file"),
        ("sklearn:", "names no file"),
    ],
)
def test_a_bad_file_is_a_one_line_error(
    name: str, message: str, pipeline_files: dict[str, Path], tmp_path: Path, capsys
) -> None:
    name = name.format(folder=pipeline_files["data"].parent)
    argv = ["attack", "--victim", name, "--recipe", "textfooler"]
    assert message in _one_line_error(argv, tmp_path / "store.sqlite", capsys)


def test_numeric_classes_need_a_label_map(pipeline_files: dict[str, Path], capsys) -> None:
    victim, data = f"sklearn:{pipeline_files['ids']}", str(pipeline_files["data"])
    assert main(["evaluate", "--victim", victim, "--dataset", data]) == 2
    err = capsys.readouterr().err
    assert "its classes are numbers (0, 1); name them: --label-map 0=NAME,1=NAME" in err
    assert err.count("\n") == 1
    assert (
        main(
            [
                "evaluate",
                "--victim",
                victim,
                "--dataset",
                data,
                "--label-map",
                "0=negative,1=positive",
                "--allow-overlap",
            ]
        )
        == 0
    )
    assert "1.0000" in capsys.readouterr().out
    ref = resolve_victim(victim, SourceOptions(label_map={"0": "negative", "1": "positive"}))
    assert ref.labels == ("negative", "positive") and pickle.loads(pickle.dumps(ref)).load().labels == [
        "negative",
        "positive",
    ]
