# ruff: noqa: E501 - one command line per row reads best
"""Reports from nothing and human evaluations that are not one: a leaderboard of an empty store, of a dataset
the store lacks or of a store whose runs were all deleted; a transfer onto the run's own victim; a headline
from zero transferred examples; blank, doubled or re-imported rating sheets. Each is refused with one line
(nothing written), or, for a re-import, recognised and stored once."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from tests.reliability.test_cli_errors import assert_one_error_line
from tests.stand_ins import make_result
from textrobust.cli import main

LEADERBOARD = ["leaderboard", "--format", "md", "--out", "report.md"]
SHEETS = ["--key", "kit/key.json", "--store", "runs.sqlite"]

# (case id, command line, what the error line must say)
CASES: list[tuple[str, list[str], str]] = [
    # -- reports from nothing ---------------------------------------------------------------------------
    ("leaderboard of an empty store", [*LEADERBOARD, "--store", "empty.sqlite"], "empty.sqlite holds no finished attack run"),
    ("leaderboard of an empty store, terminal", ["leaderboard", "--store", "empty.sqlite"], "holds no finished attack run"),
    ("leaderboard of an empty store, json to stdout", ["leaderboard", "--store", "empty.sqlite", "--format", "json"], "holds no finished attack run"),
    ("leaderboard of a dataset the store lacks", [*LEADERBOARD, "--store", "runs.sqlite", "--dataset", "imdb"], "no finished attack run on dataset 'imdb' (it holds: mr)"),
    ("leaderboard after every run was deleted", [*LEADERBOARD, "--store", "deleted.sqlite"], "holds no finished attack run"),
    ("leaderboard of a store with only an unfinished run", [*LEADERBOARD, "--store", "unfinished.sqlite"], "none of its 1 run is finished"),
    # -- self-transfer ----------------------------------------------------------------------------------
    ("transfer onto the run's own victim", ["transfer", "--run", "1", "--targets", "wc", "--store", "runs.sqlite"], "is run 1's own victim"),
    ("transfer matrix naming one victim twice", ["transfer", "--matrix", "--victims", "wc", "./wc", "--recipe", "pwws", "--dataset", "data.csv", "--split", "train", "--n", "2", "--store", "runs.sqlite"], "wc is named twice (the same fingerprint)"),
    # -- human evaluation -------------------------------------------------------------------------------
    ("humaneval import of a blank sheet", ["humaneval", "import", "kit/rater-1.csv", "kit/rater-3.csv", *SHEETS], "kit/rater-3.csv: no rating filled in"),
    ("humaneval import of only blank sheets", ["humaneval", "import", "kit/rater-3.csv", "kit/rater-4.csv", *SHEETS], "kit/rater-3.csv: no rating filled in"),
    ("humaneval import of one sheet twice", ["humaneval", "import", "kit/rater-1.csv", "kit/rater-1.csv", *SHEETS], "given twice"),
    ("humaneval import of one rater twice", ["humaneval", "import", "kit/rater-1.csv", "other/rater-1.csv", *SHEETS], "rater 'rater-1'"),
    ("humaneval import of a copied sheet", ["humaneval", "import", "kit/rater-1.csv", "kit/copy.csv", *SHEETS], "kit/copy.csv is the same file as kit/rater-1.csv"),
]  # fmt: skip


def _fill(sheet: Path, key: dict, meaning: str) -> None:
    items = {item["item"]: item for item in key["items"]}
    rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
    for row in rows:
        gold = items[row["item"]]["gold"]
        row.update(grammar_a="4", grammar_b="3", meaning=meaning, label_a=gold, label_b=gold)
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, tiny_wordcnn_dir: Path) -> Path:
    from textrobust.leaderboard.humaneval import export_kit
    from textrobust.store import DatasetInfo, RunParameters, Store, VictimInfo

    root = tmp_path_factory.mktemp("reports-from-nothing")
    shutil.copytree(tiny_wordcnn_dir, root / "wc")
    parameters = RunParameters(
        recipe="pwws",
        victim=VictimInfo.from_directory(root / "wc"),
        dataset=DatasetInfo.from_examples(
            "mr", "test", "en", ["negative", "positive"], ["a b", "c d", "e f", "g h"], [1, 1, 1, 1]
        ),
        seed=0,
        budget=None,
        options={"language": "en"},
        version="test",
    )
    with Store(root / "runs.sqlite") as store:
        run = store.start_run(parameters)
        for index in range(4):
            store.add_result(run.id, index, make_result("success", 3 + index, changes=1, queries=3))
        store.set_status(run.id, "finished")
        export_kit(store, run.id, root / "kit", n=4, raters=4)
    (root / "data.csv").write_text(
        "text,label\na fine film,positive\na dull film,negative\n", encoding="utf-8"
    )
    with Store(root / "empty.sqlite"):
        pass
    shutil.copy(root / "runs.sqlite", root / "deleted.sqlite")
    with Store(root / "deleted.sqlite") as store:
        store.delete_run(1)
    with Store(root / "unfinished.sqlite") as store:
        store.start_run(parameters)
    key = json.loads((root / "kit" / "key.json").read_text(encoding="utf-8"))
    _fill(root / "kit" / "rater-1.csv", key, "4")
    _fill(root / "kit" / "rater-2.csv", key, "5")
    shutil.copy(root / "kit" / "rater-1.csv", root / "kit" / "copy.csv")
    (root / "other").mkdir()
    shutil.copy(root / "kit" / "rater-2.csv", root / "other" / "rater-1.csv")
    return root


@pytest.mark.parametrize(("case", "argv", "says"), CASES, ids=[case for case, _, _ in CASES])
def test_a_report_or_evaluation_of_nothing_is_one_error_line_and_writes_nothing(
    case: str, argv: list[str], says: str, workspace: Path, capsys, monkeypatch
) -> None:
    """Before this change every case wrote an empty report, ran the transfer or stored the evaluation with
    exit 0."""
    from tests.reliability import test_cli_errors

    # A read-only SQLite connection to a store in WAL mode leaves SQLite's own -wal and -shm files beside it
    # (and the next writer removes them): they are not something the command wrote. The store's own bytes
    # are still compared.
    snapshot = test_cli_errors._snapshot
    monkeypatch.setattr(
        test_cli_errors,
        "_snapshot",
        lambda root: {k: v for k, v in snapshot(root).items() if not k.endswith(("-wal", "-shm"))},
    )
    monkeypatch.chdir(workspace)
    assert_one_error_line(case, argv, workspace, capsys, says=says, exit_code=2)


def test_a_report_of_a_store_with_runs_is_still_written(
    workspace: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(workspace)
    out = tmp_path / "report.json"
    argv = ["leaderboard", "--store", "runs.sqlite", "--dataset", "mr", "--format", "json", "--out", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    assert len(json.loads(out.read_text(encoding="utf-8"))["entries"]) == 1


def test_importing_the_same_sheets_twice_stores_one_evaluation(
    workspace: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    from textrobust.store import Store

    monkeypatch.chdir(workspace)
    store = tmp_path / "runs.sqlite"
    shutil.copy(workspace / "runs.sqlite", store)
    with Store(store, read_only=True) as opened:
        before = len(opened.human_evaluations())
    sheets = ["kit/rater-1.csv", "kit/rater-2.csv"]
    number = before + 1
    for order, says in (
        (sheets, f"stored as human evaluation {number} "),
        (sheets[::-1], f"already imported as evaluation {number} "),
    ):
        assert main(["humaneval", "import", *order, "--key", "kit/key.json", "--store", str(store)]) == 0
        assert says in capsys.readouterr().err
    with Store(store, read_only=True) as opened:
        assert len(opened.human_evaluations()) == before + 1


# -- what the leaderboard makes of transfers that compare nothing ---------------------------------------

WRONG_ON_ORIGINAL = [(0, 1, 0, 0), (1, 1, 0, 0)]  # (example, gold, on the original, on the adversarial)
TRANSFERS: list[tuple[str, str, list[tuple[int, int, int, int]]]] = [
    ("onto the source victim itself", "self", [(0, 1, 1, 0), (1, 1, 1, 0)]),
    ("with no transferred example", "other", []),
    ("whose target had every original wrong", "other", WRONG_ON_ORIGINAL),
]


@pytest.mark.parametrize(("case", "target", "rows"), TRANSFERS, ids=[case for case, _, _ in TRANSFERS])
def test_a_transfer_that_compares_nothing_has_no_headline(
    case: str, target: str, rows: list[tuple[int, int, int, int]], workspace: Path, tmp_path: Path
) -> None:
    from textrobust.leaderboard.render import to_markdown
    from textrobust.leaderboard.report import build_report
    from textrobust.store import Store, TransferRow, VictimInfo

    path = tmp_path / "runs.sqlite"
    shutil.copy(workspace / "runs.sqlite", path)
    with Store(path) as store:
        source = store.run(1).parameters.victim
        other = VictimInfo("wordcnn", str(tmp_path / "other"), "f" * 64)
        record = store.start_transfer(1, source if target == "self" else other, "test")
        store.add_transfer_rows(
            record.id, [TransferRow(i, g, o, a, (0.5, 0.5), (0.5, 0.5)) for i, g, o, a in rows]
        )
        store.set_transfer_status(record.id, "finished")
        report = build_report(store)
    text = to_markdown(report, {})
    assert "-100" not in text and "-100" not in " ".join(report.answers.values()), case
    if target == "self":
        assert report.transfers == () and "transfers_most" not in report.answers
    else:
        assert report.answers["transfers_most"].startswith("nothing to compare: "), report.answers


def test_the_store_writer_refuses_ratings_with_nothing_rated(workspace: Path, tmp_path: Path) -> None:
    """The library path too (not only the sheets' reader): all-empty ratings are never stored."""
    from textrobust.errors import DataError
    from textrobust.runs.jobs import record_human_evaluation
    from textrobust.store import Store

    path = tmp_path / "runs.sqlite"
    shutil.copy(workspace / "runs.sqlite", path)
    empty = {"grammar_a": None, "grammar_b": None, "meaning": None, "label_a": None, "label_b": None}
    ratings = [{"rater": f"rater-{k}", "item": "item-001", **empty} for k in (1, 2)]
    with Store(path) as store:
        before = len(store.human_evaluations())
        with pytest.raises(DataError, match="no rating of run 1 is filled in"):
            record_human_evaluation(store, 1, {"raters": 2, "items": 1}, ratings)
        assert len(store.human_evaluations()) == before
