"""The train / evaluate commands, and one-line errors for bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from textrobust.cli import main


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "textrobust", *args], capture_output=True, text=True, env=env, timeout=300
    )


def _assert_one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]


def test_train_then_evaluate_from_cli(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "toy.csv"
    rows = ["text,label"] + [f"great fun film number {i},pos" for i in range(30)]
    rows += [f"boring awful mess number {i},neg" for i in range(30)]
    data.write_text("\n".join(rows), encoding="utf-8")
    out = tmp_path / "cnn"
    code = main(
        [
            "train",
            "--victim",
            "wordcnn",
            "--dataset",
            str(data),
            "--out",
            str(out),
            "--epochs",
            "3",
            "--vectors",
            "none",
            "--seed",
            "1",
        ]
    )
    assert code == 0
    assert {p.name for p in out.iterdir()} == {"config.json", "model.safetensors", "vocab.json"}
    code = main(["evaluate", "--victim", str(out), "--dataset", str(data), "--split", "test"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "WordCNN" in printed
    # Training again into a non-empty directory needs --overwrite.
    assert main(["train", "--victim", "wordcnn", "--dataset", str(data), "--out", str(out)]) == 2


def test_help_everywhere() -> None:
    for command in ([], ["train"], ["evaluate"], ["demo"]):
        result = _run(*command, "--help")
        assert result.returncode == 0 and "usage:" in result.stdout


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"text,label\nfine,pos\n   ,neg\n", "empty or whitespace-only text"),
        (b"text,label\ncaf\xe9,pos\n", "not UTF-8"),
        (b"body,label\nfine,pos\n", "--text-column 'text' is not a column"),
        (b"text,sentiment\nfine,pos\n", "--label-column 'label' is not a column"),
    ],
)
def test_bad_dataset_file_is_a_one_line_error(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    out = tmp_path / "never"
    result = _run(
        "train", "--victim", "wordcnn", "--dataset", str(path), "--out", str(out), "--vectors", "none"
    )
    _assert_one_line_error(result, fragment)
    assert not out.exists(), "nothing may be written when the input is bad"


def test_missing_dataset_file(tmp_path: Path) -> None:
    _assert_one_line_error(
        _run(
            "train", "--victim", "wordcnn", "--dataset", str(tmp_path / "x.csv"), "--out", str(tmp_path / "o")
        ),
        "not found",
    )


def test_unknown_dataset_and_victim_names(tmp_path: Path) -> None:
    _assert_one_line_error(
        _run("train", "--victim", "wordcnn", "--dataset", "imdbb", "--out", str(tmp_path / "o")),
        "unknown dataset",
    )
    result = _run("train", "--victim", "gpt", "--dataset", "mr", "--out", str(tmp_path / "o"))
    assert (
        result.returncode == 2
        and "--victim: 'gpt' is not a victim kind that is trained" in result.stderr
        and "Traceback" not in result.stderr
    )


def test_broken_victim_directory(tiny_wordcnn_dir: Path, tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_wordcnn_dir, broken)
    (broken / "model.safetensors").write_bytes(b"\x00\x01garbage")
    _assert_one_line_error(_run("evaluate", "--victim", str(broken), "--n", "5"), "corrupt")
    (broken / "vocab.json").unlink()
    _assert_one_line_error(_run("evaluate", "--victim", str(broken), "--n", "5"), "missing vocab.json")
    _assert_one_line_error(_run("evaluate", "--victim", str(tmp_path / "none"), "--n", "5"), "not found")


def test_dataset_label_not_in_victim_label_set(tiny_wordcnn_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("text,label\n" + "fine,positive\nbad,neutral\n" * 5, encoding="utf-8")
    _assert_one_line_error(
        _run("evaluate", "--victim", str(tiny_wordcnn_dir), "--dataset", str(path), "--split", "train"),
        "label 'neutral' is not among the victim's labels",
    )


def test_demo_trains_the_victims_writes_a_report_and_reuses_them(tmp_path: Path, capsys) -> None:
    """The demo's wiring (its full run is the benchmark tested in test_benchmark.py): victims only."""
    args = [
        "demo",
        "--out",
        str(tmp_path / "demo"),
        "--victims",
        "wordcnn",
        "--attack-n",
        "0",
        "--no-progress",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "trained" in printed and "wordcnn" in printed and "report:" in printed
    assert (tmp_path / "demo" / "wordcnn" / "model.safetensors").exists()
    assert (tmp_path / "demo" / "report.html").exists() and (tmp_path / "demo" / "textrobust.sqlite").exists()
    assert main(args) == 0
    assert "reused" in capsys.readouterr().out
    assert main(["demo", "--out", str(tmp_path / "demo"), "--victims", "cnn"]) == 2
    assert "--victims: 'cnn' is not a demo victim" in capsys.readouterr().err
