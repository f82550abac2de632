"""Runs of victims that cost (HTTP endpoints, LLMs): what each run spent is recorded and accumulated over
resumes, a spent budget stops a run cleanly and the resumed run loses and repeats nothing, labels-only
victims are attacked hard-label, and ``--dry-run`` estimates a run from a sample without storing anything.

The victim is ``tests/runs/costed.py``'s test double of the costed-victim protocol (a ``py:`` factory):
a real classifier whose requests, request cache and budget behave as an HTTP victim's do.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from tests.runs.costed import BUDGET_VARIABLE, FOLDER_VARIABLE, sent_texts, write_costed_victim
from tests.stand_ins import keyword_dataset, stand_in_resources, write_dataset
from textrobust.attacks.options import AttackOptions
from textrobust.cli import main
from textrobust.errors import AttackError, BudgetExhausted
from textrobust.runs.executor import ProcessPoolExecutor
from textrobust.runs.jobs import attack_victim, estimate_attack_cost
from textrobust.runs.runner import RunStopped
from textrobust.store import Store
from textrobust.victims import resolve_victim
from textrobust.victims.usage import Usage

N = 16


@pytest.fixture
def costed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The factory file; its request cache and request log live in ``tmp_path/requests``."""
    folder = tmp_path / "requests"
    folder.mkdir()
    monkeypatch.setenv(FOLDER_VARIABLE, str(folder))
    monkeypatch.delenv(BUDGET_VARIABLE, raising=False)
    return write_costed_victim(tmp_path)


def _fresh_cache(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Path:
    folder.mkdir()
    monkeypatch.setenv(FOLDER_VARIABLE, str(folder))
    return folder


def _attack(victim: str, store: Path, **kwargs: object):
    return attack_victim(
        victim, "textfooler", dataset=keyword_dataset(), n=N, resources=stand_in_resources(), store=store,
        progress=False, **kwargs,
    )  # fmt: skip


def _rows(store: Path) -> list[tuple[object, ...]]:
    with Store(store) as opened:
        return opened.comparable_result_rows()


def test_a_run_records_what_its_victim_spent(costed: Path, tmp_path: Path) -> None:
    outcome = _attack(f"py:{costed}:make", tmp_path / "s.sqlite")
    sent = sent_texts(tmp_path / "requests")
    usage = outcome.run.usage
    assert outcome.run.status == "finished" and usage is not None
    assert usage.requests == len(sent) == len(set(sent)) > N  # every request, each once
    assert usage.tokens_in == sum(len(text.split()) for text in sent) and usage.tokens_out == len(sent)
    assert outcome.spent == usage
    with Store(tmp_path / "s.sqlite") as store:  # read back as stored
        assert store.run(outcome.run.id).usage == usage
        assert store.runs()[0].usage == usage
    # A victim that counts nothing records nothing.
    free = _attack(f"py:{costed}:free", tmp_path / "free.sqlite")
    assert free.run.usage is None and free.spent is None


@pytest.mark.parametrize("batch_examples", [1, 4])
def test_a_spent_budget_stops_the_run_and_the_resumed_run_loses_and_repeats_nothing(
    costed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_examples: int
) -> None:
    victim = f"py:{costed}:make"
    whole = _attack(victim, tmp_path / "whole.sqlite", batch_examples=batch_examples)
    needed = sent_texts(tmp_path / "requests")
    budget = len(needed) // 3

    stopped_folder = _fresh_cache(monkeypatch, tmp_path / "stopped")
    monkeypatch.setenv(BUDGET_VARIABLE, str(budget))
    store = tmp_path / "stopped.sqlite"
    with pytest.raises(RunStopped) as stop:
        _attack(victim, store, batch_examples=batch_examples)
    assert isinstance(stop.value, BudgetExhausted) and stop.value.total == N
    assert 0 < stop.value.stored < N and stop.value.run is not None
    with Store(store) as opened:
        run = opened.run(stop.value.run.id)
        assert run.status == "interrupted"
        assert opened.count_results(run.id) == stop.value.stored
        # Every request sent is recorded, the example in progress included.
        assert run.usage is not None and run.usage.requests == budget == len(sent_texts(stopped_folder))
        assert stop.value.spent == run.usage

    monkeypatch.setenv(BUDGET_VARIABLE, str(10 * len(needed)))  # a larger budget, the same run
    resumed = _attack(victim, store, batch_examples=batch_examples, resume=True)
    assert resumed.resumed and resumed.run.id == run.id and resumed.run.status == "finished"
    assert resumed.attacked == N - stop.value.stored
    assert _rows(store) == _rows(tmp_path / "whole.sqlite")  # as if never stopped
    sent = sent_texts(stopped_folder)
    assert len(sent) == len(set(sent)) and sorted(sent) == sorted(needed)  # nothing sent twice or extra
    assert resumed.run.usage is not None and whole.run.usage is not None
    assert resumed.run.usage.requests == whole.run.usage.requests == len(needed)  # accumulated over resumes
    assert resumed.spent is not None and resumed.spent.requests == len(needed) - budget
    assert resumed.run.usage.cache_hits > 0  # the interrupted example's answers came from the cache


def test_a_budget_spent_on_the_first_example_keeps_the_run_that_paid(
    costed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BUDGET_VARIABLE, "2")
    with pytest.raises(RunStopped) as stop:
        _attack(f"py:{costed}:make", tmp_path / "s.sqlite")
    assert stop.value.stored == 0 and stop.value.run is not None
    with Store(tmp_path / "s.sqlite") as store:
        run = store.run(stop.value.run.id)
    assert run.status == "interrupted" and run.usage is not None and run.usage.requests == 2


@pytest.mark.slow  # two process pools start (about 30 s on 2 cores)
def test_workers_in_other_processes_send_their_usage_back(
    costed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two pool processes, a budget each: every result that finished anywhere is stored, every request
    recorded, and the resumed run ends as an uninterrupted one."""
    victim = f"py:{costed}:make"
    options = {"dataset": keyword_dataset(), "n": 8, "store": tmp_path / "whole.sqlite", "progress": False}
    whole = attack_victim(victim, "pwws", **options)  # type: ignore[arg-type]
    needed = sent_texts(tmp_path / "requests")
    folder = _fresh_cache(monkeypatch, tmp_path / "pool")
    monkeypatch.setenv(BUDGET_VARIABLE, str(len(needed) // 4))  # per process: two of them
    options["store"] = tmp_path / "pool.sqlite"
    with pytest.raises(RunStopped) as stop:
        attack_victim(victim, "pwws", executor=ProcessPoolExecutor(2, threads_per_worker=1), **options)  # type: ignore[arg-type]
    with Store(tmp_path / "pool.sqlite") as store:
        run = store.run(stop.value.run.id)  # type: ignore[union-attr]
        assert run.usage is not None and run.usage.requests == len(sent_texts(folder)) > 0
    monkeypatch.delenv(BUDGET_VARIABLE)
    resumed = attack_victim(victim, "pwws", resume=True, **options)  # type: ignore[arg-type]
    assert _rows(tmp_path / "pool.sqlite") == _rows(tmp_path / "whole.sqlite")
    sent = sent_texts(folder)
    assert len(sent) == len(set(sent)) and sorted(sent) == sorted(needed)
    assert resumed.run.usage is not None and whole.run.usage is not None
    assert resumed.run.usage.requests == whole.run.usage.requests


def test_the_command_line_stops_with_one_line_and_exit_3_then_resumes(
    costed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    data = write_dataset(keyword_dataset(), tmp_path / "keywords.csv")
    argv = ["attack", "--victim", f"py:{costed}:make", "--recipe", "pwws", "--dataset", str(data),
            "--n", "10", "--store", "runs.sqlite", "--no-progress"]  # fmt: skip
    monkeypatch.setenv(BUDGET_VARIABLE, "25")  # what --max-requests sets for an HTTP victim
    assert main([*argv, "--max-requests", "25"]) == 3
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    assert err[0].startswith("stopped: the request budget (--max-requests 25) is spent after ")
    assert err[0].endswith(
        " of 10 examples; run the same command with --resume (and a larger budget) to continue"
    )
    with Store(tmp_path / "runs.sqlite") as store:
        (run,) = store.runs()
        stored = store.count_results(run.id)
    assert f"after {stored} of 10" in err[0] and run.status == "interrupted"

    monkeypatch.setenv(BUDGET_VARIABLE, "1000")
    assert main([*argv, "--max-requests", "1000", "--resume"]) == 0
    out = capsys.readouterr().out
    with Store(tmp_path / "runs.sqlite") as store:
        (finished,) = store.runs()  # the same run, continued
        assert finished.id == run.id and finished.status == "finished" and store.count_results(run.id) == 10
    assert (
        finished.usage is not None and f"cost (resumes included): {finished.usage.requests:,} requests" in out
    )


def test_a_labels_only_victim_is_attacked_hard_label_and_the_run_says_so(
    costed: Path, tmp_path: Path
) -> None:
    ref = dataclasses.replace(resolve_victim(f"py:{costed}:free"), hard_label_only=True)
    notes: list[str] = []
    outcome = _attack(ref, tmp_path / "s.sqlite", notify=notes.append)  # type: ignore[arg-type]
    assert outcome.run.parameters.options["hard_label"] is True
    assert [note for note in notes if "hard-label" in note] == [notes[0]]  # said once
    # The same as asking for a hard-label attack; another run than the one with probabilities.
    explicit = _attack(
        f"py:{costed}:free", tmp_path / "explicit.sqlite", options=AttackOptions(hard_label=True)
    )
    assert _rows(tmp_path / "s.sqlite") == _rows(tmp_path / "explicit.sqlite")
    assert explicit.run.key == outcome.run.key
    plain = _attack(f"py:{costed}:free", tmp_path / "s.sqlite")
    assert plain.run.id != outcome.run.id and "hard_label" not in plain.run.parameters.options
    with pytest.raises(AttackError, match="labels only"):
        attack_victim(
            ref, "textattack:textfooler", dataset=keyword_dataset(), n=2, store=tmp_path / "t.sqlite"
        )
    assert not (tmp_path / "t.sqlite").exists()


def test_a_dry_run_estimates_from_a_sample_stores_nothing_and_its_answers_are_reused(
    costed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = f"py:{costed}:make"
    estimate = estimate_attack_cost(
        victim, "textfooler", sample=10, dataset=keyword_dataset(), n=40, resources=stand_in_resources()
    )
    dry_sent = sent_texts(tmp_path / "requests")
    assert estimate.examples == 40 and estimate.sampled == 10
    assert estimate.sample_usage is not None and estimate.requests is not None
    assert estimate.requests.low <= estimate.requests.value <= estimate.requests.high
    # The real run, on the same cache, pays only for what the dry run did not ask.
    outcome = attack_victim(
        victim, "textfooler", dataset=keyword_dataset(), n=40, resources=stand_in_resources(),
        store=tmp_path / "s.sqlite", progress=False,
    )  # fmt: skip
    sent = sent_texts(tmp_path / "requests")
    assert len(sent) == len(set(sent))
    assert outcome.run.usage is not None and outcome.run.usage.requests == len(sent) - len(dry_sent)
    with Store(tmp_path / "s.sqlite") as store:
        queries = sum(result.queries for result in store.results(outcome.run.id))
    assert abs(estimate.queries.value - queries) <= 0.25 * queries, (estimate.queries, queries)
    # Each query of this victim is a request or a cache hit: requests with an empty cache are queries.
    assert estimate.requests == estimate.queries
    assert estimate.requests_to_send is not None and estimate.requests_to_send < estimate.requests.value


def test_a_dry_run_writes_no_store(costed: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    data = write_dataset(keyword_dataset(), tmp_path / "keywords.csv")
    code = main(["attack", "--victim", f"py:{costed}:make", "--recipe", "pwws", "--dataset", str(data), "--n",
                 "20", "--store", "runs.sqlite", "--dry-run", "--dry-run-sample", "3"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and not (tmp_path / "runs.sqlite").exists()
    assert "dry run: attacked the first 3 of 20 examples" in out and "estimate for 20 examples" in out
    assert "requests (" in out


def test_usage_survives_an_upgrade_of_a_store_written_before_it(tmp_path: Path, costed: Path) -> None:
    """A store of schema 4 (before usage was recorded) opens, keeps its runs (no usage) and records the
    usage of a run resumed in it."""
    from textrobust.store import schema

    path = tmp_path / "old.sqlite"
    first = _attack(f"py:{costed}:make", tmp_path / "new.sqlite")
    db = sqlite3.connect(path, isolation_level=None)
    schema.migrate(db, target=4)
    new = sqlite3.connect(tmp_path / "new.sqlite")
    for table in ("recipes", "victims", "datasets"):
        rows = new.execute(f"SELECT * FROM {table}").fetchall()
        db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    columns = [c[1] for c in db.execute("PRAGMA table_info(runs)")]
    assert "usage" not in columns
    rows = new.execute(f"SELECT {', '.join(columns)} FROM runs").fetchall()
    db.executemany(f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
    db.execute("UPDATE runs SET status = 'interrupted'")
    results = new.execute("SELECT * FROM results WHERE example_index < 5").fetchall()
    db.executemany(f"INSERT INTO results VALUES ({', '.join('?' * len(results[0]))})", results)
    db.close()
    new.close()
    with Store(path) as store:  # upgraded here
        (old,) = store.runs()
        assert old.usage is None and store.count_results(old.id) == 5
    resumed = _attack(f"py:{costed}:make", path, resume=True)
    assert resumed.run.id == old.id and resumed.run.status == "finished"
    assert resumed.run.usage is not None and resumed.run.usage == resumed.spent
    assert first.run.usage is not None and resumed.run.usage.cache_hits > 0  # the first run's cached answers
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert Usage.from_dict(None) == Usage()


def test_a_partly_stored_pooling_group_is_attacked_again_whole() -> None:
    from textrobust.runs.runner import _to_attack

    assert _to_attack(10, {0, 1, 5}, 1, 1) == [2, 3, 4, 6, 7, 8, 9]
    assert _to_attack(10, {0, 1, 2, 3, 5}, 4, 4) == [4, 5, 6, 7, 8, 9]  # group 0-3 done, 4-7 partly
    assert _to_attack(10, {8, 9}, 4, 8) == [0, 1, 2, 3, 4, 5, 6, 7]
    assert _to_attack(10, {0, 5}, 4, 6) == [1, 2, 3, 4, 6, 7, 8, 9]  # shards that split groups: as stored
