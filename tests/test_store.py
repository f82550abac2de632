"""The leaderboard store (SQLite) and the run summary computed from it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from textrobust.attacks.result import AttackResult, WordChange
from textrobust.leaderboard.store import (
    DatasetInfo,
    RunParameters,
    Store,
    StoreError,
    VictimInfo,
    fingerprint_directory,
)
from textrobust.leaderboard.summary import format_comparison, format_summary, summarize


def _parameters(
    seed: int = 0, fingerprint: str = "abc", texts: tuple[str, ...] = ("a b", "c d e")
) -> RunParameters:
    return RunParameters(
        recipe="textfooler",
        victim=VictimInfo(type="wordcnn", path="/victims/cnn", fingerprint=fingerprint),
        dataset=DatasetInfo.from_examples(
            "mr", "test", "en", ["negative", "positive"], texts, [0, 1][: len(texts)]
        ),
        seed=seed,
        budget=None,
        options={"language": "en", "mlm": None},
        version="0.1.0",
    )


def _result(status: str, num_words: int, changes: int = 0, queries: int = 0, similarity: float | None = None,
            seconds: float = 0.0) -> AttackResult:  # fmt: skip
    words = [f"w{i}" for i in range(num_words)]
    return AttackResult(
        original_text=" ".join(words),
        label=1,
        original_prediction=1 if status != "skipped" else 0,
        original_proba=[0.2, 0.8] if status != "skipped" else [0.7, 0.3],
        status=status,  # type: ignore[arg-type]
        adversarial_text=" ".join(["x"] * changes + words[changes:]) if status == "success" else None,
        adversarial_prediction=0 if status == "success" else None,
        adversarial_proba=[0.6, 0.4] if status == "success" else None,
        queries=queries,
        num_words=num_words,
        changes=[WordChange(i, words[i], "x") for i in range(changes)],
        similarity=similarity,
        seconds=seconds,
        failure_reason="budget exhausted" if status == "failed" else None,
    )


def test_results_round_trip_through_the_store(tmp_path: Path) -> None:
    with Store(tmp_path / "store.sqlite") as store:
        run = store.start_run(_parameters())
        success = _result("success", 5, changes=2, queries=31, similarity=0.91, seconds=1.5)
        failed = _result("failed", 3, queries=40, seconds=2.0)
        store.add_results(run.id, [(1, failed), (0, success)])
        assert store.results(run.id) == [success, failed]  # example order, every field equal
        assert store.finished_indices(run.id) == {0, 1}
    with Store(tmp_path / "store.sqlite") as reopened:  # committed: a new connection sees everything
        assert reopened.results(run.id) == [success, failed]
        record = reopened.run(run.id)
        assert record.parameters == _parameters()
        assert record.status == "running" and record.finished is None


def test_numpy_values_from_attacks_are_stored_as_plain_numbers(tmp_path: Path) -> None:
    result = _result("success", 4, changes=1, queries=3, similarity=0.8)
    result.label = np.int64(1)
    result.original_proba = list(np.array([0.25, 0.75], dtype=np.float32))
    result.similarity = np.float32(0.5)
    result.changes = [WordChange(np.int64(0), "w0", "x")]
    with Store(tmp_path / "s.sqlite") as store:
        run = store.start_run(_parameters())
        store.add_result(run.id, 0, result)
        (stored,) = store.results(run.id)
    assert stored.label == 1 and stored.original_proba == [0.25, 0.75] and stored.similarity == 0.5
    assert stored.changes == [WordChange(0, "w0", "x")]


def test_an_example_is_stored_at_most_once_per_run(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        run = store.start_run(_parameters())
        store.add_result(run.id, 0, _result("failed", 3))
        with pytest.raises(StoreError, match="at most once"):
            store.add_results(run.id, [(1, _result("failed", 3)), (0, _result("failed", 3))])
        assert store.finished_indices(run.id) == {0}  # the failed batch left nothing behind


def test_same_parameters_find_the_same_runs_and_others_do_not(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        first = store.start_run(_parameters())
        second = store.start_run(_parameters())
        store.start_run(_parameters(seed=1))
        assert [run.id for run in store.find_runs(_parameters())] == [second.id, first.id]
        assert len(store.find_runs(_parameters(seed=1))) == 1
        assert store.find_runs(_parameters(fingerprint="other")) == []
        assert store.find_runs(_parameters(texts=("a b", "changed"))) == []
        moved = _parameters()
        moved = RunParameters(**{**moved.__dict__, "victim": VictimInfo("wordcnn", "/elsewhere", "abc")})
        assert moved.key() == _parameters().key()  # the same victim files elsewhere are the same victim


def test_victims_datasets_and_recipes_are_rows_of_their_own(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        for seed in range(3):
            store.start_run(_parameters(seed=seed))
        store.start_run(_parameters(fingerprint="other-victim"))
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM victims").fetchone()[0] == 2
    assert db.execute("SELECT COUNT(*) FROM datasets").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM recipes").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 4
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_finished_status_records_the_time(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        run = store.start_run(_parameters())
        store.set_status(run.id, "finished")
        record = store.run(run.id)
        assert record.status == "finished" and record.finished is not None
        with pytest.raises(StoreError, match="no run 99"):
            store.run(99)


def test_export_writes_one_json_line_per_result(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        run = store.start_run(_parameters())
        store.add_results(run.id, [(0, _result("success", 4, changes=1)), (1, _result("skipped", 2))])
        count = store.export_jsonl(run.id, tmp_path / "out" / "results.jsonl")
    lines = (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert count == 2 and len(lines) == 2
    records = [json.loads(line) for line in lines]
    assert [r["example_index"] for r in records] == [0, 1]
    assert records[0]["status"] == "success" and records[0]["words_changed"] == 1
    assert AttackResult.from_dict(
        {k: v for k, v in records[1].items() if k not in ("run_id", "example_index")}
    ) == (_result("skipped", 2))


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_text("not a database " * 100)
    with pytest.raises(StoreError, match="cannot open store"):
        Store(bogus)
    with pytest.raises(StoreError, match="directory"):
        Store(tmp_path)


def test_victim_fingerprint_follows_content_not_location(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text('{"x": 1}')
        (tmp_path / name / "model.safetensors").write_bytes(b"\x00\x01")
    assert fingerprint_directory(tmp_path / "a") == fingerprint_directory(tmp_path / "b")
    (tmp_path / "b" / "model.safetensors").write_bytes(b"\x00\x02")
    assert fingerprint_directory(tmp_path / "a") != fingerprint_directory(tmp_path / "b")


HAND_CHECKED = [
    _result("success", 10, changes=2, queries=30, similarity=0.9, seconds=1.0),  # 20% perturbed
    _result("success", 4, changes=1, queries=10, similarity=0.8, seconds=3.0),  # 25% perturbed
    _result("failed", 6, queries=50, seconds=2.0),
    _result("skipped", 8, queries=1, seconds=0.01),
    _result("skipped", 2, queries=1, seconds=0.01),
]


def test_summary_has_textattacks_numbers_for_a_hand_checked_run(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        run = store.start_run(_parameters())
        store.add_results(run.id, list(enumerate(HAND_CHECKED)))
        summary = summarize(store.results(run.id))
    assert (summary.total, summary.successful, summary.failed, summary.skipped) == (5, 2, 1, 2)
    assert summary.original_accuracy == pytest.approx(3 / 5)
    assert summary.accuracy_under_attack == pytest.approx(1 / 5)
    assert summary.attack_success_rate == pytest.approx(2 / 3)
    assert summary.avg_perturbed_word_fraction == pytest.approx((0.2 + 0.25) / 2)  # successful only
    assert summary.avg_words_per_input == pytest.approx((10 + 4 + 6 + 8 + 2) / 5)  # every example
    assert summary.avg_queries == pytest.approx((30 + 10 + 50) / 3)  # attacked examples only
    assert summary.avg_similarity == pytest.approx(0.85)
    assert summary.avg_seconds == pytest.approx(2.0)
    table = format_summary(summary)
    for expected in ("Number of skipped attacks", "60.00%", "20.00%", "66.67%", "22.50%", "6.00", "30.00"):
        assert expected in table


def test_summary_of_nothing_is_undefined_not_zero() -> None:
    summary = summarize([])
    assert summary.total == 0 and summary.original_accuracy is None and summary.avg_queries is None
    assert "n/a" in format_summary(summary)
    only_skipped = summarize([_result("skipped", 3)])
    assert only_skipped.original_accuracy == 0.0 and only_skipped.attack_success_rate is None


def test_comparison_table_has_a_row_per_run() -> None:
    table = format_comparison([(["wordcnn", "textfooler"], summarize(HAND_CHECKED)),
                               (["bert", "pwws"], summarize(HAND_CHECKED[:1]))])  # fmt: skip
    lines = table.splitlines()
    assert len(lines) == 4 and "wordcnn" in lines[2] and "pwws" in lines[3] and "acc under attack" in lines[0]
