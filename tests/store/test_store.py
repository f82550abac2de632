"""The store (SQLite): runs, results, fingerprints, errors, and schema migrations."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tests.stand_ins import make_result
from textrobust.attacks.result import AttackResult, WordChange
from textrobust.store import (
    SCHEMA_VERSION,
    DatasetInfo,
    RunParameters,
    Store,
    StoreError,
    VictimInfo,
    fingerprint_directory,
    schema,
)


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


def test_results_round_trip_through_the_store(tmp_path: Path) -> None:
    with Store(tmp_path / "store.sqlite") as store:
        run = store.start_run(_parameters())
        success = make_result("success", 5, changes=2, queries=31, similarity=0.91, seconds=1.5)
        failed = make_result("failed", 3, queries=40, seconds=2.0)
        store.add_results(run.id, [(1, failed), (0, success)])
        assert store.results(run.id) == [success, failed]  # example order, every field equal
        assert store.finished_indices(run.id) == {0, 1}
    with Store(tmp_path / "store.sqlite") as reopened:  # committed: a new connection sees everything
        assert reopened.results(run.id) == [success, failed]
        record = reopened.run(run.id)
        assert record.parameters == _parameters()
        assert record.status == "running" and record.finished is None


def test_comparable_rows_are_equal_for_equal_results_whatever_the_run_and_timing(tmp_path: Path) -> None:
    success = make_result("success", 5, changes=2, queries=31, similarity=0.91, seconds=1.5)
    failed = make_result("failed", 3, queries=40, seconds=2.0)
    slower = make_result("failed", 3, queries=40, seconds=9.0)
    with Store(tmp_path / "a.sqlite") as a, Store(tmp_path / "b.sqlite") as b:
        a.add_results(a.start_run(_parameters()).id, [(0, success), (1, failed)])
        b.start_run(_parameters(seed=1))  # the results land in run 2 here
        b.add_results(b.start_run(_parameters()).id, [(1, slower), (0, success)])
        assert a.comparable_result_rows() == b.comparable_result_rows()
        assert len(a.comparable_result_rows()) == 2
        b.add_results(b.start_run(_parameters(seed=2)).id, [(0, failed)])
        assert a.comparable_result_rows() != b.comparable_result_rows()


def test_numpy_values_from_attacks_are_stored_as_plain_numbers(tmp_path: Path) -> None:
    result = make_result("success", 4, changes=1, queries=3, similarity=0.8)
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
        store.add_result(run.id, 0, make_result("failed", 3))
        with pytest.raises(StoreError, match="at most once"):
            store.add_results(run.id, [(1, make_result("failed", 3)), (0, make_result("failed", 3))])
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


def test_export_writes_one_json_line_permake_result(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        run = store.start_run(_parameters())
        store.add_results(run.id, [(0, make_result("success", 4, changes=1)), (1, make_result("skipped", 2))])
        count = store.export_jsonl(run.id, tmp_path / "out" / "results.jsonl")
    lines = (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert count == 2 and len(lines) == 2
    records = [json.loads(line) for line in lines]
    assert [r["example_index"] for r in records] == [0, 1]
    assert records[0]["status"] == "success" and records[0]["words_changed"] == 1
    assert AttackResult.from_dict(
        {k: v for k, v in records[1].items() if k not in ("run_id", "example_index")}
    ) == (make_result("skipped", 2))


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


# -- schema versions and migrations ----------------------------------------------------------------


def _version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


def test_a_new_store_is_created_at_the_current_schema_version(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite"):
        pass
    assert _version(tmp_path / "s.sqlite") == SCHEMA_VERSION


def test_a_store_written_by_the_first_release_opens_with_its_runs(tmp_path: Path) -> None:
    """The 0.1.0 store (schema 1, written before the store had migrations) opens and keeps its rows."""
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(V1_SCHEMA_AS_RELEASED)
        db.execute("INSERT INTO recipes (name) VALUES ('textfooler')")
        db.execute("INSERT INTO victims (fingerprint, type, path) VALUES ('f', 'wordcnn', '/v')")
        db.execute(
            "INSERT INTO datasets (name, split, language, label_names, fingerprint, size) "
            "VALUES ('mr', 'test', 'en', '[\"negative\", \"positive\"]', 'd', 1)"
        )
        db.execute(
            "INSERT INTO runs (key, recipe_id, victim_id, dataset_id, n, seed, budget, parameters, version, "
            "started, status) VALUES ('k', 1, 1, 1, 1, 0, NULL, '{}', '0.1.0', '2026-11-26', 'finished')"
        )
        db.execute("PRAGMA user_version=1")
    with Store(path) as store:
        (run,) = store.runs()
        assert run.parameters.recipe == "textfooler" and run.status == "finished"
        assert run.parameters.dataset.label_names == ("negative", "positive")
    assert _version(path) == SCHEMA_VERSION


def test_an_old_store_is_upgraded_through_every_migration_keeping_its_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        run = store.start_run(_parameters())
        store.add_results(run.id, [(0, make_result("success", 3, changes=1))])
    calls: list[int] = []

    def add_notes(db: sqlite3.Connection) -> None:  # a next version: a column and a table
        calls.append(1)
        db.execute("ALTER TABLE runs ADD COLUMN note TEXT")
        db.execute("CREATE TABLE run_notes (id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs (id))")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, add_notes])
    assert schema.migrate(sqlite3.connect(path, isolation_level=None), len(schema.MIGRATIONS)) == [
        SCHEMA_VERSION + 1
    ]
    assert schema.migrate(sqlite3.connect(path, isolation_level=None), len(schema.MIGRATIONS)) == []
    assert calls == [1]  # each migration runs once
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert "note" in [row[1] for row in db.execute("PRAGMA table_info(runs)")]
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 1


def test_a_failed_migration_leaves_the_store_at_its_old_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path):
        pass

    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (id INTEGER)")
        raise sqlite3.OperationalError("disk full")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, broken])
    with pytest.raises(sqlite3.OperationalError):
        schema.migrate(sqlite3.connect(path, isolation_level=None), len(schema.MIGRATIONS))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None


def test_a_store_from_a_newer_textrobust_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer textrobust"):
        Store(path)


def _register_and_fill(path: str, seed: int, barrier, results: int) -> None:  # type: ignore[no-untyped-def]
    """One process's run: the same recipe, victim and dataset as the other's, then its results one
    transaction at a time (so the two processes' writes interleave)."""
    with Store(path) as store:
        barrier.wait()  # both processes register at the same instant, on a store they both opened
        run = store.start_run(_parameters(seed=seed))
        for index in range(results):
            store.add_result(
                run.id, index, make_result("success", 10, changes=1, queries=index + seed * 1000)
            )
        store.set_status(run.id, "finished")


def test_two_processes_registering_the_same_recipe_at_once_both_get_its_row(tmp_path: Path) -> None:
    """Two OS processes (spawned: nothing shared but the file) start runs of the same new recipe, victim
    and dataset at once and write results side by side: no unique-constraint or lock error, one row each
    for the recipe, victim and dataset, two finished runs, every result stored exactly once."""
    import multiprocessing

    path = tmp_path / "s.sqlite"
    Store(path).close()  # the schema exists: the race is over the recipe, victim and dataset rows
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    processes = [
        context.Process(target=_register_and_fill, args=(str(path), seed, barrier, 40)) for seed in (1, 2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0, 0]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM recipes").fetchone()[0] == 1
        assert db.execute("SELECT COUNT(*) FROM victims").fetchone()[0] == 1
        assert db.execute("SELECT COUNT(*) FROM datasets").fetchone()[0] == 1
        runs = db.execute("SELECT id, seed, status FROM runs ORDER BY seed").fetchall()
        assert [(seed, status) for _id, seed, status in runs] == [(1, "finished"), (2, "finished")]
        for run_id, seed, _status in runs:
            rows = db.execute(
                "SELECT example_index, queries FROM results WHERE run_id = ? ORDER BY example_index",
                (run_id,),
            ).fetchall()
            assert rows == [(index, index + seed * 1000) for index in range(40)]  # none lost, none doubled
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 80


# The version 1 schema exactly as textrobust 0.1.0 wrote it (kept here so the upgrade test never drifts).
V1_SCHEMA_AS_RELEASED = """
CREATE TABLE victims (id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
    path TEXT NOT NULL);
CREATE TABLE datasets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, split TEXT NOT NULL, language
    TEXT NOT NULL,
    label_names TEXT NOT NULL, fingerprint TEXT NOT NULL, size INTEGER NOT NULL,
    UNIQUE (name, split, fingerprint));
CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE runs (id INTEGER PRIMARY KEY, key TEXT NOT NULL, recipe_id INTEGER NOT NULL REFERENCES
    recipes (id),
    victim_id INTEGER NOT NULL REFERENCES victims (id), dataset_id INTEGER NOT NULL REFERENCES datasets
    (id),
    n INTEGER NOT NULL, seed INTEGER NOT NULL, budget INTEGER, parameters TEXT NOT NULL, version TEXT
    NOT NULL,
    started TEXT NOT NULL, finished TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'interrupted', 'finished')));
CREATE INDEX runs_by_key ON runs (key);
CREATE TABLE results (run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    example_index INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('success', 'failed', 'skipped')),
    label INTEGER NOT NULL, original_text TEXT NOT NULL, adversarial_text TEXT,
    original_prediction INTEGER NOT NULL, adversarial_prediction INTEGER, original_proba TEXT NOT NULL,
    adversarial_proba TEXT, queries INTEGER NOT NULL, words_changed INTEGER NOT NULL, num_words INTEGER
    NOT NULL,
    similarity REAL, seconds REAL NOT NULL, changes TEXT NOT NULL, failure_reason TEXT,
    PRIMARY KEY (run_id, example_index));
"""


def test_a_store_of_the_previous_schema_upgrades_and_keeps_its_defenses(tmp_path: Path) -> None:
    """A store written at schema 2 (defenses, no transfers yet) opens at the current schema with its rows."""
    from textrobust.store import DefenseInfo, VictimInfo

    path = tmp_path / "v2.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    assert schema.migrate(db, target=2) == [1, 2]
    db.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'transfers'").fetchone() is None
    with Store(path) as store:  # the upgrade happens here
        run = store.start_run(_parameters())
        base, defended = VictimInfo("wordcnn", "/b", "f1"), VictimInfo("wordcnn", "/d", "f2")
        info = DefenseInfo("embedding", {"steps": 2}, base, defended, "mr", 3.0)
        store.add_defense(info, [(run.id, "base")])
    assert _version(path) == SCHEMA_VERSION == 5
    with Store(path) as store:
        (defense,) = store.defenses()
        assert defense.info.parameters == {"steps": 2} and defense.runs == ((run.id, "base"),)
        assert store.transfers() == [] and store.human_evaluations() == []


def _start_and_fill(path: str, seed: int, barrier, results: int) -> None:  # type: ignore[no-untyped-def]
    barrier.wait()  # every process opens the fresh store at the same instant
    with Store(path) as store:
        run = store.start_run(_parameters(seed=seed))
        for index in range(results):
            store.add_result(run.id, index, make_result("success", 10, changes=1, queries=index))
        store.set_status(run.id, "finished")


def test_four_attacks_started_at_the_same_instant_on_a_fresh_store_are_all_recorded(tmp_path: Path) -> None:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    for attempt in range(3):
        path = tmp_path / f"fresh-{attempt}.sqlite"
        barrier = context.Barrier(4)
        processes = [
            context.Process(target=_start_and_fill, args=(str(path), seed, barrier, 20)) for seed in range(4)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(60)
        assert [p.exitcode for p in processes] == [0, 0, 0, 0]
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT COUNT(*) FROM runs WHERE status = 'finished'").fetchone()[0] == 4
            assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 80
            assert db.execute("SELECT COUNT(*) FROM recipes").fetchone()[0] == 1


def test_victim_details_are_kept_outside_the_run_identity_and_filled_in_later(tmp_path: Path) -> None:
    import dataclasses

    path = tmp_path / "v3.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    assert schema.migrate(db, target=3) == [1, 2, 3]
    db.close()
    with Store(path) as store:  # upgraded to v4: a victim stored without details reads back with None
        old = store.start_run(_parameters())
        assert store.run(old.id).parameters.victim.details is None
        details = {"family": "wordcnn", "parameters": 970102, "trainable_parameters": 970102,
                   "precision": "float32", "fine_tuning": "full"}  # fmt: skip
        known = dataclasses.replace(
            _parameters(), victim=dataclasses.replace(_parameters().victim, details=details)
        )
        assert known.key() == old.parameters.key() and known == old.parameters  # the same run either way
        again = store.start_run(known)
        assert store.run(old.id).parameters.victim.details == details  # the victim's row learnt them
        assert store.run(again.id).parameters.victim.details == details


def test_details_of_saved_victims_come_from_their_files(tiny_wordcnn_dir: Path, small_mr) -> None:
    from textrobust.victims import load_victim
    from textrobust.victims.details import describe_saved_victim
    from textrobust.victims.vocab import word_tokenize

    details = describe_saved_victim(tiny_wordcnn_dir)
    module = load_victim(tiny_wordcnn_dir).module
    words = [len(word_tokenize(text)) for text in small_mr.split("test").texts]  # the test split it saw
    assert details == {
        "family": "wordcnn", "parameters": sum(p.numel() for p in module.parameters()),
        "trainable_parameters": sum(p.numel() for p in module.parameters()), "precision": "float32",
        "fine_tuning": "full", "tokens_per_text": round(sum(words) / len(words), 3),
    }  # fmt: skip
    assert VictimInfo.from_directory(tiny_wordcnn_dir).details == {**details, "architecture": "word"}
