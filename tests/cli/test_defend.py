"""``textrobust defend``: one-line errors before any work, and a real run end to end (smoothing, PWWS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stand_ins import NEGATIVE, NOUNS, POSITIVE, keyword_dataset, write_dataset
from textrobust.cli import main
from textrobust.store import Store
from textrobust.victims.training import TrainConfig, train_victim


@pytest.fixture(scope="module")
def keyword_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The keyword dataset as a CSV file, a WordCNN trained on it, and a tiny word-vector file."""
    folder = tmp_path_factory.mktemp("defend-cli")
    dataset = keyword_dataset()
    data = write_dataset(dataset, folder / "keywords.csv")
    config = TrainConfig(epochs=4, batch_size=32, learning_rate=3e-3, progress=False, seed=1)
    train_victim("wordcnn", dataset, folder / "base", config, vectors=None)
    vectors = folder / "vectors.txt"
    rows = [f"{w} 1.0 0.1 {i / 10:.1f}" for i, w in enumerate(POSITIVE)]
    rows += [f"{w} -1.0 0.1 {i / 10:.1f}" for i, w in enumerate(NEGATIVE)]
    rows += [f"{w} 0.0 1.0 {i / 10:.1f}" for i, w in enumerate(NOUNS)]
    vectors.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return data, folder / "base", vectors


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--adv-share", "2"], "error: --adv-share must be in (0, 1], got 2.0"),
        (["--eval-recipes", "textfooler,nope"], "error: --eval-recipes: recipe 'nope' is unknown"),
        (["--n", "0"], "error: --n must be ≥ 1, got 0"),
        (["--method", "smooth", "--copies", "0"], "error: --copies must be ≥ 1, got 0"),
        (["--recipe", "textattack:nope"], "error: unknown TextAttack recipe 'textattack:nope'"),
        (["--method", "smooth", "--steps", "2"], "error: --steps does not apply to --method smooth"),
        (
            ["--method", "augment", "--label-source", "oracle"],
            "error: --label-source: invalid choice: 'oracle'",
        ),
    ],
)
def test_bad_input_is_a_one_line_error_before_any_work(
    extra: list[str], message: str, keyword_files, tmp_path: Path, capsys
) -> None:
    data, base, _vectors = keyword_files
    argv = ["defend", "--victim", str(base), "--dataset", str(data), "--out", str(tmp_path / "out"),
            "--store", str(tmp_path / "s.sqlite"), "--no-progress", *extra]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists() and not (tmp_path / "s.sqlite").exists()


def test_an_occupied_output_folder_needs_overwrite(keyword_files, tmp_path: Path, capsys) -> None:
    data, base, _vectors = keyword_files
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine", encoding="utf-8")
    argv = ["defend", "--victim", str(base), "--dataset", str(data), "--out", str(tmp_path / "out")]
    assert main(argv) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert (tmp_path / "out" / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_defend_smooth_then_evaluate_prints_before_and_after_and_stores_the_defense(
    keyword_files, tmp_path: Path, capsys
) -> None:
    pytest.importorskip("spacy", reason="PWWS tags parts of speech with spaCy")
    data, base, vectors = keyword_files
    store = tmp_path / "s.sqlite"
    argv = ["defend", "--victim", str(base), "--dataset", str(data), "--method", "smooth", "--copies", "4",
            "--neighbours", str(vectors), "--out", str(tmp_path / "smoothed"), "--eval-recipes", "pwws",
            "--n", "12", "--store", str(store), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    for expected in ("clean", "under pwws", "95% interval", "smooth"):
        assert expected in out
    with Store(store) as opened:
        (defense,) = opened.defenses()
        assert defense.info.method == "smooth" and defense.info.forward_passes == 4
        assert len(defense.runs) == 2 and {run.parameters.recipe for run in opened.runs()} == {"pwws"}
    again = [*argv[:-1], "--evaluate-only", "--no-progress"]  # judged again from the folder alone
    assert main(again) == 0
    with Store(store) as opened:
        assert len(opened.defenses()) == 2 and len(opened.runs()) == 2  # the runs were reused
