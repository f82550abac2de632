"""Transfer runs: one stored row per (example, target), resumable, never repeated, labels matched by name."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from textrobust.errors import ParameterError, VictimError
from textrobust.runs.transfer import transfer_run
from textrobust.store import Store, StoreError


@pytest.fixture
def store_copy(report_store: dict, tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite"
    shutil.copy(report_store["store"], path)
    return path


def test_every_successful_example_is_replayed_once_per_target(report_store: dict, store_copy: Path) -> None:
    run, target = report_store["run"], report_store["victims"][1]
    with Store(store_copy) as store:
        successes = {i for i, r in store.iter_results(run) if r.status == "success"}
        (record,) = [t for t in store.transfers(run) if Path(t.target.path) == target]
        rows = store.transfer_rows(record.id)
        assert {r.example_index for r in rows} == successes and record.status == "finished"
        again = transfer_run(store, run, [target], progress=False)
        assert again[0].id == record.id and store.transfer_rows(record.id) == rows  # nothing repeated


def test_an_interrupted_transfer_resumes_with_the_missing_examples_only(
    report_store: dict, store_copy: Path
) -> None:
    run, target = report_store["run"], report_store["victims"][1]
    with Store(store_copy) as store:
        (record,) = [t for t in store.transfers(run) if Path(t.target.path) == target]
        complete = store.transfer_rows(record.id)
    kept = [r.example_index for r in complete[: len(complete) // 2]]
    with sqlite3.connect(store_copy) as db:  # as a kill mid-transfer leaves it
        marks = ",".join("?" * len(kept))
        db.execute(
            f"DELETE FROM transfer_results WHERE transfer_id = ? AND example_index NOT IN ({marks})",
            (record.id, *kept),
        )
        db.execute("UPDATE transfers SET status = 'interrupted' WHERE id = ?", (record.id,))
    with Store(store_copy) as store:
        (resumed,) = transfer_run(store, run, [target], progress=False)
        assert resumed.id == record.id and resumed.status == "finished"
        assert store.transfer_rows(record.id) == complete


def test_gold_labels_are_matched_to_the_target_by_name(
    report_store: dict, store_copy: Path, tmp_path: Path
) -> None:
    swapped = tmp_path / "swapped"
    shutil.copytree(report_store["victims"][1], swapped)
    config = json.loads((swapped / "config.json").read_text(encoding="utf-8"))
    config["labels"] = list(reversed(config["labels"]))  # same weights, label names in the other order
    (swapped / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with Store(store_copy) as store:
        run = report_store["run"]
        (record,) = transfer_run(store, run, [swapped], progress=False)
        gold = {i: r.label for i, r in store.iter_results(run)}
        rows = store.transfer_rows(record.id)
    assert rows and all(row.label == 1 - gold[row.example_index] for row in rows)


def test_bad_targets_fail_before_any_work(report_store: dict, store_copy: Path, tmp_path: Path) -> None:
    arabic = tmp_path / "arabic"
    shutil.copytree(report_store["victims"][1], arabic)
    config = json.loads((arabic / "config.json").read_text(encoding="utf-8"))
    config["language"] = "ar"
    (arabic / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with Store(store_copy) as store:
        before = len(store.transfers())
        with pytest.raises(ParameterError, match="'ar' victim"):
            transfer_run(store, report_store["run"], [report_store["victims"][1], arabic], progress=False)
        with pytest.raises(VictimError):
            transfer_run(store, report_store["run"], [tmp_path / "nowhere"], progress=False)
        with pytest.raises(StoreError, match="no run 999"):
            transfer_run(store, 999, [report_store["victims"][1]], progress=False)
        assert len(store.transfers()) == before
