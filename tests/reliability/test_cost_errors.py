# ruff: noqa: E501 - one command line per row reads best
"""Bad input to what runs do with victims that cost (``--dry-run``, budgets): one line on stderr that
begins ``error:`` (or, for a spent budget, ``stopped:`` and exit 3), no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.test_cli_errors import assert_one_error_line
from tests.runs.costed import BUDGET_VARIABLE, FOLDER_VARIABLE, write_costed_victim
from tests.stand_ins import keyword_dataset, write_dataset
from textrobust.cli import main

ATTACK = [
    "attack",
    "--victim",
    "py:costed_model.py:make",
    "--recipe",
    "pwws",
    "--dataset",
    "keywords.csv",
    "--store",
    "runs.sqlite",
]

# (case id, command line, what the error line must say)
CASES: list[tuple[str, list[str], str]] = [
    ("--dry-run-sample 0", [*ATTACK, "--dry-run", "--dry-run-sample", "0"], "--dry-run-sample must be ≥ 1, got 0"),
    ("--dry-run-sample -3", [*ATTACK, "--dry-run", "--dry-run-sample", "-3"], "--dry-run-sample must be ≥ 1"),
    ("--dry-run with --resume", [*ATTACK, "--dry-run", "--resume"], "--dry-run stores nothing and estimates a whole run; drop --resume"),
    ("--dry-run with --export", [*ATTACK, "--dry-run", "--export", "out.jsonl"], "drop --export"),
    ("--dry-run with --show-diffs", [*ATTACK, "--dry-run", "--show-diffs"], "drop --show-diffs"),
    ("--dry-run --n 0", [*ATTACK, "--dry-run", "--n", "0"], "--n must be ≥ 1"),
    ("--dry-run-sample not a number", [*ATTACK, "--dry-run", "--dry-run-sample", "few"], "invalid int value"),
    ("--dry-run of a missing factory", ["attack", "--victim", "py:costed_model.py:missing", "--recipe", "pwws", "--dry-run"], "has no 'missing'"),
    ("--hard-label with a TextAttack recipe", [*ATTACK[:4], "textattack:textfooler", *ATTACK[5:], "--hard-label"], "do not apply to TextAttack recipes"),
]  # fmt: skip


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "requests").mkdir()
    monkeypatch.setenv(FOLDER_VARIABLE, str(tmp_path / "requests"))
    monkeypatch.delenv(BUDGET_VARIABLE, raising=False)
    write_costed_victim(tmp_path)
    write_dataset(keyword_dataset(), tmp_path / "keywords.csv")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("case", "argv", "message"), CASES, ids=[case for case, _, _ in CASES])
def test_bad_cost_input_is_one_error_line_and_writes_nothing(
    case: str, argv: list[str], message: str, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_one_error_line(case, argv, workspace, capsys, message, exit_code=2)  # 3 is a spent budget


def test_a_budget_too_small_for_one_sampled_example_is_one_stopped_line_and_exit_3(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BUDGET_VARIABLE, "1")
    assert main([*ATTACK, "--dry-run", "--max-requests", "1", "--no-progress"]) == 3
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == [
        "stopped: the request budget (--max-requests 1) is spent before the first sampled example was "
        "attacked; nothing was stored; give the dry run a larger budget"
    ]
    assert not (workspace / "runs.sqlite").exists()


def test_a_run_stopped_by_its_budget_is_exit_3_not_an_error(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A budget set by the victim alone (no --max-requests: a plugin's, a config's) is the victim's."""
    monkeypatch.setenv(BUDGET_VARIABLE, "3")
    assert main([*ATTACK, "--n", "4", "--no-progress"]) == 3
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "Traceback" not in err[0]
    assert err[0].startswith(
        "stopped: the victim's budget is spent after 0 of 4 examples; run the same command with --resume"
    )
