"""``textrobust attack``: one-line errors for bad input, and a real run end to end (store, export, resume)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from textrobust.cli import main
from textrobust.store import Store


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["attack", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def no_victim(tmp_path: Path) -> Path:
    (tmp_path / "empty-victim").mkdir()
    return tmp_path / "empty-victim"


BAD_INPUTS = [
    (["--recipe", "textfoolr"], "--recipe 'textfoolr' is unknown; choose one of"),
    (["--victim", "{tmp}/nowhere"], "victim directory not found"),
    (["--victim", "{empty}"], "is not a saved victim"),
    (["--dataset", "no-such-dataset"], "unknown dataset 'no-such-dataset'"),
    (["--dataset", "{tmp}/missing.csv"], "dataset file not found"),
    (["--split", "nosuch"], "has no split 'nosuch'"),
    (["--n", "0"], "--n must be ≥ 1"),
    (["--budget", "0"], "--budget must be ≥ 1"),
    (["--workers", "0"], "--workers must be ≥ 1"),
    (["--disable", "pos,colour"], "--disable 'colour' is unknown; choose one of repeat"),
    (["--beam-width", "0"], "--beam-width must be ≥ 1"),
    (["--store", "{tmp}"], "store path is a directory"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_INPUTS, ids=[m for _o, m in BAD_INPUTS])
def test_bad_input_is_a_one_line_error(
    overrides: list[str], message: str, tiny_wordcnn_dir: Path, no_victim: Path, tmp_path: Path, capsys
) -> None:
    options = {
        "--victim": str(tiny_wordcnn_dir),
        "--recipe": "textfooler",
        "--store": str(tmp_path / "s.sqlite"),
    }
    for flag, value in zip(overrides[::2], overrides[1::2], strict=True):
        options[flag] = value.format(tmp=tmp_path, empty=no_victim)
    argv = [part for flag, value in options.items() for part in (flag, value)]
    code, out, err = run_cli(capsys, *argv, "--n", options.get("--n", "3"), "--no-progress")
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
    assert out == ""
    assert not (tmp_path / "s.sqlite").exists()  # rejected before anything was stored


def _tiny_masked_lm(directory: Path, texts: list[str]) -> Path:
    """A random 1-layer BERT fill-mask model over the 1,500 most frequent words of ``texts``, saved."""
    from tests.stand_ins import tiny_masked_lm

    counts = Counter(word for text in texts for word in re.findall(r"[a-z]+", text.lower()))
    mlm = tiny_masked_lm([word for word, _count in counts.most_common(1500)], seed=0)
    mlm.model.save_pretrained(directory)
    mlm.tokenizer.save_pretrained(directory)
    return directory


@pytest.mark.slow
def test_attack_command_stores_exports_resumes_and_pools(
    tiny_wordcnn_dir: Path, small_mr, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mlm = _tiny_masked_lm(tmp_path / "mlm", small_mr.split("train").texts)
    store_path, export = tmp_path / "runs.sqlite", tmp_path / "out" / "results.jsonl"
    # A random masked LM proposes nonsense: without the POS and similarity filters it still fools the victim.
    argv = [
        "--victim", str(tiny_wordcnn_dir), "--recipe", "mlm-synonym", "--mlm", str(mlm), "--n", "5",
        "--disable", "pos,sentence-similarity", "--no-progress",
    ]  # fmt: skip
    code, out, err = run_cli(
        capsys, *argv, "--store", str(store_path), "--export", str(export), "--show-diffs"
    )
    assert code == 0, err
    for label in ("Number of successful attacks", "Number of skipped attacks", "Original accuracy",
                  "Accuracy under attack", "Attack success rate", "Average perturbed word %",
                  "Average num. words per input", "Avg num queries", "Average similarity"):  # fmt: skip
        assert label in out
    with Store(store_path) as store:
        (run,) = store.runs()
        results = store.results(run.id)
    assert run.status == "finished" and run.parameters.recipe == "mlm-synonym" and len(results) == 5
    assert run.parameters.options == {
        "language": "en",
        "mlm": str(mlm),
        "disable": ["pos", "sentence-similarity"],
    }
    assert [r.original_text for r in results] == small_mr.split("test").texts[:5]
    lines = export.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["example_index"] for line in lines] == list(range(5))
    successes = [(i, r) for i, r in enumerate(results) if r.status == "success"]
    assert successes, "the weak victim should fall for at least one substitution"
    for index, result in successes:  # a diff per success: header, then the adversarial text
        assert f"#{index} " in out and result.adversarial_text in out

    code, again, err = run_cli(capsys, *argv, "--store", str(store_path), "--resume")
    assert code == 0 and "already finished" in err
    assert again == out[out.index(f"run {run.id}:") :]  # the same summary, straight from the store

    pooled_store = tmp_path / "pooled.sqlite"
    code, _out, err = run_cli(capsys, *argv, "--store", str(pooled_store), "--workers", "2")
    assert code == 0, err
    with Store(pooled_store) as store:
        pooled = store.results(store.runs()[0].id)
    assert [(r.status, r.adversarial_text, r.queries) for r in pooled] == [
        (r.status, r.adversarial_text, r.queries) for r in results
    ]
