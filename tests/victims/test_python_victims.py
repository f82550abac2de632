"""``py:`` victims: any Python object with ``labels`` and ``predict_proba``, named by its factory, attacked
like a saved victim — with the same results as the same model saved by textrobust."""

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

MODEL_FILE = '''
"""A team's own model: a plain class, no textrobust base class."""

from textrobust.victims import load_victim


class TeamModel:
    def __init__(self, folder):
        self._inner = load_victim(folder)
        self.labels = list(self._inner.labels)
        self.language = "en"

    def predict_proba(self, texts):
        return self._inner.predict_proba(texts)


def make():
    return TeamModel({folder!r})


def broken():
    raise RuntimeError("no GPU here")


def unlabelled():
    class NoLabels:
        def predict_proba(self, texts):
            return None

    return NoLabels()


not_a_function = 3


def unnamed():
    model = TeamModel({folder!r})
    model.labels = ["LABEL_0", "LABEL_1"]
    return model
'''


@pytest.fixture(scope="module")
def keyword_victim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A WordCNN trained on the keyword data (its sentiment is in one adjective) and that data as a file."""
    from textrobust.victims.training import TrainConfig, train_victim

    folder = tmp_path_factory.mktemp("python-victims")
    config = TrainConfig(epochs=2, batch_size=32, learning_rate=3e-3, progress=False, seed=0)
    train_victim("wordcnn", keyword_dataset(), folder / "wordcnn", config, vectors=None)
    return folder / "wordcnn", write_dataset(keyword_dataset(), folder / "keywords.csv")


@pytest.fixture
def model_file(tmp_path: Path, keyword_victim: tuple[Path, Path]) -> Path:
    path = tmp_path / "team_model.py"
    path.write_text(MODEL_FILE.format(folder=str(keyword_victim[0])), encoding="utf-8")
    return path


def test_a_factory_resolves_to_its_objects_labels_language_and_file(model_file: Path, keyword_victim):
    ref = resolve_victim(f"py:{model_file}:make")
    folder = resolve_victim(keyword_victim[0])
    assert ref.kind == "python" and ref.family == "TeamModel" and ref.location == f"py:{model_file}:make"
    assert ref.labels == folder.labels and ref.language == "en" and not ref.white_box
    texts = ["a gripping , funny film", "dull and far too long"]
    assert np.array_equal(ref.load().predict_proba(texts), folder.load().predict_proba(texts))
    shipped = pickle.loads(pickle.dumps(ref))  # a worker elsewhere calls the factory itself
    assert shipped.prepared is None and np.array_equal(
        shipped.load().predict_proba(texts), ref.load().predict_proba(texts)
    )
    model_file.write_text(model_file.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert resolve_victim(f"py:{model_file}:make").digest != ref.digest  # an edited model is another victim


@pytest.mark.parametrize("recipe", ["textfooler", "pwws"])
def test_a_python_victim_is_attacked_as_the_same_model_saved_by_textrobust(
    recipe: str, model_file: Path, keyword_victim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if recipe == "pwws":
        pytest.importorskip("spacy", reason="PWWS tags parts of speech with spaCy")
    rows = {}
    folder, data = keyword_victim
    for name, victim in (("python", f"py:{model_file}:make"), ("folder", str(folder))):
        store = tmp_path / f"{name}.sqlite"
        argv = ["attack", "--victim", victim, "--recipe", recipe, "--dataset", str(data), "--n", "10"]
        argv += ["--no-progress", "--store", str(store)]
        assert main(argv) == 0, capsys.readouterr().err
        with Store(store) as opened:
            (run,) = opened.runs()
            rows[name] = [(r.status, r.adversarial_text, r.queries) for r in opened.results(run.id)]
            kinds = run.parameters.victim.type
        assert kinds == ("python" if name == "python" else "wordcnn")
    assert rows["python"] == rows["folder"]
    assert any(status == "success" for status, _text, _queries in rows["python"]), rows


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("py:{file}:missing", "has no 'missing'"),
        ("py:{file}:not_a_function", "is not callable"),
        ("py:{file}:broken", "the factory failed: RuntimeError: no GPU here"),
        ("py:{file}:unlabelled", "needs labels"),
        ("py:{file}", "names no factory"),
        ("py:nowhere/model.py:make", "file not found"),
        ("py:no_such_module_for_textrobust:make", "the module does not import"),
    ],
)
def test_a_bad_factory_is_one_line_error_before_anything_is_written(
    name: str, message: str, model_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(VictimError, match=message):
        resolve_victim(name.format(file=model_file))
    store = tmp_path / "store.sqlite"
    argv = [
        "attack",
        "--victim",
        name.format(file=model_file),
        "--recipe",
        "textfooler",
        "--store",
        str(store),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert not store.exists()


def test_a_python_victim_is_evaluated_like_a_saved_one(model_file: Path, keyword_victim, capsys) -> None:
    folder, data = keyword_victim
    accuracies = []
    for victim in (f"py:{model_file}:make", str(folder)):
        assert main(["evaluate", "--victim", victim, "--dataset", str(data), "--allow-overlap"]) == 0
        accuracies.append(capsys.readouterr().out.split("\n")[-3])  # the table's row
    assert accuracies[0].split("│")[5:7] == accuracies[1].split("│")[5:7]  # n and accuracy


def test_unnamed_classes_need_a_label_map_and_get_the_datasets_names(
    model_file: Path, keyword_victim, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, data = keyword_victim
    name = f"py:{model_file}:unnamed"
    assert main(["evaluate", "--victim", name, "--dataset", str(data)]) == 2
    err = capsys.readouterr().err
    assert "its classes are unnamed (LABEL_0, LABEL_1); name them: --label-map LABEL_0=NAME" in err
    assert err.count("\n") == 1
    labels = resolve_victim(folder).labels
    mapping = f"LABEL_0={labels[0]},LABEL_1={labels[1]}"
    assert (
        main(
            ["evaluate", "--victim", name, "--dataset", str(data), "--label-map", mapping, "--allow-overlap"]
        )
        == 0
    )
    assert "1.0000" in capsys.readouterr().out
    for bad, message in (("LABEL_9=x", "not one of its classes"), ("LABEL_0", "MODEL_LABEL=NAME pairs")):
        assert main(["evaluate", "--victim", name, "--dataset", str(data), "--label-map", bad]) == 2
        assert message in capsys.readouterr().err
