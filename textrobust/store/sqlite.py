"""The store: one SQLite file of runs and their per-example attack results (``schema`` has its versions).

Tables: ``victims``, ``datasets``, ``recipes``, ``runs`` and ``results`` (one row per attacked
example). Every result is committed as soon as it is added, in WAL mode, so a run killed at any
moment keeps every example it finished; reports and summaries are pure functions of these rows.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textrobust.attacks.result import AttackResult
from textrobust.errors import StoreError
from textrobust.store.records import (
    DatasetInfo,
    DefenseInfo,
    DefenseRecord,
    DefenseRole,
    HumanEvaluation,
    RunParameters,
    RunRecord,
    RunStatus,
    TransferRecord,
    TransferRow,
    VictimInfo,
    canonical_json,
)
from textrobust.store.schema import SCHEMA_VERSION, migrate, schema_version
from textrobust.victims.usage import Usage

_JSON_RESULT_FIELDS = ("original_proba", "adversarial_proba", "changes")


def _details(value: str | None) -> dict[str, Any] | None:
    return None if value is None else json.loads(value)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _retry_while_locked(operation: Callable[[], Any], seconds: float = 30.0) -> Any:
    """Run ``operation``, retrying while another process holds the lock it needs: switching a fresh file
    to WAL takes an exclusive lock that SQLite's busy timeout does not wait for."""
    deadline = time.monotonic() + seconds
    delay = 0.01
    while True:
        try:
            return operation()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


class Store:
    """A SQLite store of attack runs; open one per process, the process that writes results."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        """Open (and, unless ``read_only``, create) the store at ``path``. A read-only store is never
        written: a missing file is an error rather than a new store, and every write is refused by SQLite
        (the leaderboard opens stores this way)."""
        self.path = Path(path)
        self.read_only = read_only
        if self.path.exists() and self.path.is_dir():
            raise StoreError(
                f"store path is a directory: {self.path}; pass a file such as runs/textrobust.sqlite"
            )
        if read_only and not self.path.is_file():
            raise StoreError(f"no store at {self.path}; run an attack first or pass --store")
        try:
            if read_only:
                self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
                self._db.row_factory = sqlite3.Row
                self._check_version(schema_version(self._db), upgrade=False)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30.0)
            self._db.row_factory = sqlite3.Row
            _retry_while_locked(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
            # NORMAL in WAL mode: a committed result survives a killed process (not a power cut).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._check_version(schema_version(self._db), upgrade=True)
            self._db.isolation_level = None  # explicit transactions for the migration
            migrate(self._db)
            # Every write transaction takes the write lock when it begins (BEGIN IMMEDIATE): concurrent
            # writers then wait for each other (up to the timeout) instead of failing to upgrade a lock.
            self._db.isolation_level = "IMMEDIATE"
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}; choose another store file") from None

    def _check_version(self, version: int, upgrade: bool) -> None:
        """A store of a newer schema is refused; an older one is upgraded (``upgrade``) or refused."""
        where = f"{self.path} was written by"
        if version > SCHEMA_VERSION:
            raise StoreError(f"{where} a newer textrobust (schema {version}); upgrade textrobust")
        if version < SCHEMA_VERSION and not upgrade:
            raise StoreError(
                f"{where} an older textrobust (schema {version}); run a command that writes to it "
                "(attack, transfer, defend) once to upgrade it"
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- runs ---------------------------------------------------------------------------------

    def start_run(self, parameters: RunParameters) -> RunRecord:
        """Record a new run (status ``running``) and return it."""
        with self._db:
            recipe_id = self._upsert("recipes", {"name": parameters.recipe}, ("name",))
            victim_id = self._victim_id(parameters.victim)
            dataset = parameters.dataset
            dataset_id = self._upsert(
                "datasets",
                {
                    "name": dataset.name, "split": dataset.split, "language": dataset.language,
                    "label_names": json.dumps(list(dataset.label_names), ensure_ascii=False),
                    "fingerprint": dataset.fingerprint, "size": dataset.size,
                },
                ("name", "split", "fingerprint"),
            )  # fmt: skip
            run_id = self._insert(
                "runs",
                {
                    "key": parameters.key(), "recipe_id": recipe_id, "victim_id": victim_id,
                    "dataset_id": dataset_id, "n": parameters.n, "seed": parameters.seed,
                    "budget": parameters.budget, "parameters": canonical_json(parameters.options),
                    "version": parameters.version, "started": _now(), "status": "running",
                },
            )  # fmt: skip
        return self.run(run_id)

    def _insert(self, table: str, values: dict[str, Any]) -> int:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cursor = self._db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values.values()))
        return int(cursor.lastrowid)

    def _upsert(
        self, table: str, values: dict[str, Any], unique: Sequence[str], update: Sequence[str] = ()
    ) -> int:
        """The id of the row with these ``unique`` values, inserted when missing; safe when another
        process inserts the same row at the same moment (the insert is a no-op on conflict)."""
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        self._db.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING", list(values.values())
        )
        where = " AND ".join(f"{column} = ?" for column in unique)
        row = self._db.execute(
            f"SELECT id FROM {table} WHERE {where}", [values[c] for c in unique]
        ).fetchone()
        if update:
            assignments = ", ".join(f"{column} = ?" for column in update)
            self._db.execute(
                f"UPDATE {table} SET {assignments} WHERE id = ?", [*(values[c] for c in update), row[0]]
            )
        return int(row[0])

    _RUN_QUERY = """
        SELECT runs.id, runs.key, recipes.name AS recipe, victims.type AS victim_type,
               victims.path AS victim_path, victims.fingerprint AS victim_fingerprint,
               victims.details AS victim_details, datasets.name AS dataset, datasets.split,
               datasets.language, datasets.label_names,
               datasets.fingerprint AS dataset_fingerprint, datasets.size, runs.seed, runs.budget,
               runs.parameters, runs.version, runs.started, runs.finished, runs.status, runs.usage
        FROM runs
        JOIN recipes ON recipes.id = runs.recipe_id
        JOIN victims ON victims.id = runs.victim_id
        JOIN datasets ON datasets.id = runs.dataset_id
    """

    @staticmethod
    def _run_record(row: sqlite3.Row) -> RunRecord:
        parameters = RunParameters(
            recipe=row["recipe"],
            victim=VictimInfo(
                row["victim_type"],
                row["victim_path"],
                row["victim_fingerprint"],
                _details(row["victim_details"]),
            ),
            dataset=DatasetInfo(
                name=row["dataset"],
                split=row["split"],
                language=row["language"],
                label_names=tuple(json.loads(row["label_names"])),
                fingerprint=row["dataset_fingerprint"],
                size=row["size"],
            ),
            seed=row["seed"],
            budget=row["budget"],
            options=json.loads(row["parameters"]),
            version=row["version"],
        )
        usage = None if row["usage"] is None else Usage.from_dict(json.loads(row["usage"]))
        return RunRecord(
            row["id"], row["key"], parameters, row["started"], row["finished"], row["status"], usage
        )

    def run(self, run_id: int) -> RunRecord:
        row = self._db.execute(self._RUN_QUERY + " WHERE runs.id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path} has no run {run_id}; list runs with Store.runs()")
        return self._run_record(row)

    def runs(self) -> list[RunRecord]:
        """Every run, oldest first."""
        return [self._run_record(row) for row in self._db.execute(self._RUN_QUERY + " ORDER BY runs.id")]

    def find_runs(self, parameters: RunParameters) -> list[RunRecord]:
        """Runs with exactly these parameters, newest first."""
        rows = self._db.execute(
            self._RUN_QUERY + " WHERE runs.key = ? ORDER BY runs.id DESC", (parameters.key(),)
        )
        return [self._run_record(row) for row in rows]

    def set_status(self, run_id: int, status: RunStatus) -> None:
        with self._db:
            self._db.execute(
                "UPDATE runs SET status = ?, finished = ? WHERE id = ?",
                (status, _now() if status == "finished" else None, run_id),
            )

    # --- results ------------------------------------------------------------------------------

    def add_results(
        self, run_id: int, results: Iterable[tuple[int, AttackResult]], usage: Usage | None = None
    ) -> None:
        """Store results of ``run_id`` in one transaction; an example already stored is an error.
        ``usage``: what attacking them cost, added to the run's in the same transaction (a killed run never
        records a cost without its results, nor results without their cost)."""
        rows = [self._result_row(run_id, index, result) for index, result in results]
        try:
            with self._db:
                for row in rows:
                    self._insert("results", row)
                if usage is not None:
                    self._add_usage(run_id, usage)
        except sqlite3.IntegrityError as exc:
            raise StoreError(
                f"run {run_id}: result not stored ({exc}); an example is stored at most once"
            ) from None

    def add_result(self, run_id: int, index: int, result: AttackResult, usage: Usage | None = None) -> None:
        self.add_results(run_id, [(index, result)], usage)

    def add_usage(self, run_id: int, usage: Usage) -> None:
        """Add to a run's cost what its victim spent without a stored result (the example a stopped run was
        attacking: its answers are in the victim's request cache, but the requests were paid for)."""
        with self._db:
            self._add_usage(run_id, usage)

    def _add_usage(self, run_id: int, usage: Usage) -> None:
        row = self._db.execute("SELECT usage FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path} has no run {run_id}")
        total = usage if row[0] is None else Usage.from_dict(json.loads(row[0])) + usage
        self._db.execute("UPDATE runs SET usage = ? WHERE id = ?", (canonical_json(total.as_dict()), run_id))

    @staticmethod
    def _result_row(run_id: int, index: int, result: AttackResult) -> dict[str, Any]:
        row = result.to_dict()
        for name in ("label", "original_prediction", "adversarial_prediction", "queries", "num_words"):
            row[name] = None if row[name] is None else int(row[name])  # numpy integers do not bind
        for name in ("similarity", "seconds"):
            row[name] = None if row[name] is None else float(row[name])
        for name in ("original_proba", "adversarial_proba"):
            row[name] = None if row[name] is None else [float(p) for p in row[name]]
        for change in row["changes"]:
            change["index"] = int(change["index"])
        for name in _JSON_RESULT_FIELDS:
            row[name] = _json_or_none(row[name])
        return {"run_id": run_id, "example_index": int(index), **row}

    def finished_indices(self, run_id: int) -> set[int]:
        rows = self._db.execute("SELECT example_index FROM results WHERE run_id = ?", (run_id,))
        return {int(row[0]) for row in rows}

    def count_results(self, run_id: int) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM results WHERE run_id = ?", (run_id,)).fetchone()[0])

    def iter_results(self, run_id: int) -> Iterator[tuple[int, AttackResult]]:
        """``(example index, result)`` of a run in example order."""
        rows = self._db.execute("SELECT * FROM results WHERE run_id = ? ORDER BY example_index", (run_id,))
        for row in rows:
            record = {key: row[key] for key in row.keys() if key not in ("run_id", "example_index")}
            for name in _JSON_RESULT_FIELDS:
                record[name] = None if record[name] is None else json.loads(record[name])
            yield row["example_index"], AttackResult.from_dict(record)

    def comparable_result_rows(self) -> list[tuple[Any, ...]]:
        """Every stored column of every result, as SQLite holds it, except the run id and the timing, in
        example order: what two runs of one job (on any executor) must agree on, byte for byte."""
        cursor = self._db.execute("SELECT * FROM results ORDER BY example_index")
        names = [column[0] for column in cursor.description]
        keep = [i for i, name in enumerate(names) if name not in ("run_id", "seconds")]
        return [tuple(row[i] for i in keep) for row in cursor]

    def results(self, run_id: int) -> list[AttackResult]:
        """The results of a run in example order."""
        return [result for _index, result in self.iter_results(run_id)]

    def export_jsonl(self, run_id: int, path: str | Path) -> int:
        """Write a run's results as JSON lines (run id and example index first); returns the count."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with path.open("w", encoding="utf-8") as handle:
            for index, result in self.iter_results(run_id):
                record = {"run_id": run_id, "example_index": index, **result.to_dict()}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        return count

    # --- defenses -----------------------------------------------------------------------------

    def _victim_id(self, victim: VictimInfo) -> int:
        values = {"fingerprint": victim.fingerprint, "type": victim.type, "path": victim.path}
        if victim.details is not None:
            values["details"] = canonical_json(victim.details)
        return self._upsert(
            "victims",
            values,
            ("fingerprint",),
            update=tuple(k for k in values if k != "fingerprint" and k != "type"),
        )

    def add_defense(self, info: DefenseInfo, runs: Sequence[tuple[int, DefenseRole]] = ()) -> DefenseRecord:
        """Record a defended victim and link the evaluation runs of it and of its base."""
        with self._db:
            defense_id = self._insert(
                "defenses",
                {
                    "method": info.method, "parameters": canonical_json(info.parameters),
                    "base_victim_id": self._victim_id(info.base),
                    "defended_victim_id": self._victim_id(info.defended), "dataset": info.dataset,
                    "train_seconds": float(info.train_seconds),
                    "generation_seconds": float(info.generation_seconds),
                    "clean_train_seconds": None if info.clean_train_seconds is None
                    else float(info.clean_train_seconds),
                    "forward_passes": int(info.forward_passes), "version": info.version, "created": _now(),
                },
            )  # fmt: skip
            for run_id, role in runs:
                self._insert("defense_runs", {"defense_id": defense_id, "run_id": int(run_id), "role": role})
        return self.defense(defense_id)

    _DEFENSE_QUERY = """
        SELECT defenses.*, base.type AS base_type, base.path AS base_path,
               base.fingerprint AS base_fingerprint, base.details AS base_details,
               defended.type AS defended_type, defended.path AS defended_path,
               defended.fingerprint AS defended_fingerprint, defended.details AS defended_details
        FROM defenses
        JOIN victims AS base ON base.id = defenses.base_victim_id
        JOIN victims AS defended ON defended.id = defenses.defended_victim_id
    """

    def _defense_record(self, row: sqlite3.Row) -> DefenseRecord:
        info = DefenseInfo(
            method=row["method"],
            parameters=json.loads(row["parameters"]),
            base=VictimInfo(
                row["base_type"], row["base_path"], row["base_fingerprint"], _details(row["base_details"])
            ),
            defended=VictimInfo(
                row["defended_type"],
                row["defended_path"],
                row["defended_fingerprint"],
                _details(row["defended_details"]),
            ),  # fmt: skip
            dataset=row["dataset"],
            train_seconds=row["train_seconds"],
            generation_seconds=row["generation_seconds"],
            clean_train_seconds=row["clean_train_seconds"],
            forward_passes=row["forward_passes"],
            version=row["version"],
        )
        links = self._db.execute(
            "SELECT run_id, role FROM defense_runs WHERE defense_id = ? ORDER BY run_id", (row["id"],)
        )
        return DefenseRecord(row["id"], info, row["created"], tuple((r[0], r[1]) for r in links))

    def defense(self, defense_id: int) -> DefenseRecord:
        row = self._db.execute(self._DEFENSE_QUERY + " WHERE defenses.id = ?", (defense_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path} has no defense {defense_id}")
        return self._defense_record(row)

    def defenses(self) -> list[DefenseRecord]:
        """Every defense, oldest first."""
        rows = self._db.execute(self._DEFENSE_QUERY + " ORDER BY defenses.id").fetchall()
        return [self._defense_record(row) for row in rows]

    # --- transfers ----------------------------------------------------------------------------

    def start_transfer(self, source_run_id: int, target: VictimInfo, version: str) -> TransferRecord:
        """The transfer of a run to a target victim: the stored one when it exists, else a new one."""
        self.run(source_run_id)  # a StoreError for a run that does not exist
        with self._db:
            target_id = self._victim_id(target)
            self._db.execute(
                "INSERT INTO transfers (source_run_id, target_victim_id, version, started, status) "
                "VALUES (?, ?, ?, ?, 'running') ON CONFLICT DO NOTHING",
                (source_run_id, target_id, version, _now()),
            )
            row = self._db.execute(
                "SELECT id FROM transfers WHERE source_run_id = ? AND target_victim_id = ?",
                (source_run_id, target_id),
            ).fetchone()
        return self.transfer(int(row[0]))

    _TRANSFER_QUERY = """
        SELECT transfers.*, victims.type AS target_type, victims.path AS target_path,
               victims.fingerprint AS target_fingerprint, victims.details AS target_details
        FROM transfers JOIN victims ON victims.id = transfers.target_victim_id
    """

    @staticmethod
    def _transfer_record(row: sqlite3.Row) -> TransferRecord:
        return TransferRecord(
            id=row["id"],
            source_run_id=row["source_run_id"],
            target=VictimInfo(
                row["target_type"],
                row["target_path"],
                row["target_fingerprint"],
                _details(row["target_details"]),
            ),
            version=row["version"],
            started=row["started"],
            finished=row["finished"],
            status=row["status"],
        )

    def transfer(self, transfer_id: int) -> TransferRecord:
        row = self._db.execute(self._TRANSFER_QUERY + " WHERE transfers.id = ?", (transfer_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path} has no transfer {transfer_id}")
        return self._transfer_record(row)

    def transfers(self, source_run_id: int | None = None) -> list[TransferRecord]:
        """Every transfer (of one source run when given), oldest first."""
        where, values = ("", ()) if source_run_id is None else (" WHERE source_run_id = ?", (source_run_id,))
        rows = self._db.execute(self._TRANSFER_QUERY + where + " ORDER BY transfers.id", values).fetchall()
        return [self._transfer_record(row) for row in rows]

    def add_transfer_rows(self, transfer_id: int, rows: Iterable[TransferRow]) -> None:
        """Store replayed examples in one transaction; an example already stored is skipped."""
        values = [
            (
                transfer_id, int(r.example_index), int(r.label), int(r.original_prediction),
                int(r.adversarial_prediction), json.dumps([float(p) for p in r.original_proba]),
                json.dumps([float(p) for p in r.adversarial_proba]),
            )
            for r in rows
        ]  # fmt: skip
        with self._db:
            self._db.executemany(
                "INSERT INTO transfer_results (transfer_id, example_index, label, original_prediction, "
                "adversarial_prediction, original_proba, adversarial_proba) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                values,
            )

    def set_transfer_status(self, transfer_id: int, status: RunStatus) -> None:
        with self._db:
            self._db.execute(
                "UPDATE transfers SET status = ?, finished = ? WHERE id = ?",
                (status, _now() if status == "finished" else None, transfer_id),
            )

    def transfer_rows(self, transfer_id: int) -> list[TransferRow]:
        """The replayed examples of a transfer, in example order."""
        rows = self._db.execute(
            "SELECT * FROM transfer_results WHERE transfer_id = ? ORDER BY example_index", (transfer_id,)
        )
        return [
            TransferRow(
                example_index=row["example_index"],
                label=row["label"],
                original_prediction=row["original_prediction"],
                adversarial_prediction=row["adversarial_prediction"],
                original_proba=tuple(json.loads(row["original_proba"])),
                adversarial_proba=tuple(json.loads(row["adversarial_proba"])),
            )
            for row in rows
        ]

    # --- human evaluations --------------------------------------------------------------------

    def add_human_evaluation(
        self, run_id: int, raters: int, items: int, summary: dict[str, Any], ratings: list[dict[str, Any]]
    ) -> HumanEvaluation:
        self.run(run_id)
        with self._db:
            evaluation_id = self._insert(
                "human_evaluations",
                {
                    "run_id": run_id, "raters": raters, "items": items, "summary": canonical_json(summary),
                    "ratings": canonical_json(ratings), "created": _now(),
                },
            )  # fmt: skip
        return self.human_evaluations(evaluation_id=evaluation_id)[0]

    def human_evaluations(
        self, run_id: int | None = None, *, evaluation_id: int | None = None
    ) -> list[HumanEvaluation]:
        """Human evaluations (of one run, or one by id), oldest first."""
        query, values = "SELECT * FROM human_evaluations", ()
        if evaluation_id is not None:
            query, values = query + " WHERE id = ?", (evaluation_id,)
        elif run_id is not None:
            query, values = query + " WHERE run_id = ?", (run_id,)
        rows = self._db.execute(query + " ORDER BY id", values).fetchall()
        return [
            HumanEvaluation(
                row["id"], row["run_id"], row["raters"], row["items"], json.loads(row["summary"]),
                json.loads(row["ratings"]), row["created"],
            )
            for row in rows
        ]  # fmt: skip

    # --- deleting and exporting ---------------------------------------------------------------

    def delete_run(self, run_id: int) -> None:
        """Remove a run with its results, transfers and human evaluations (a defense keeps its row but
        loses the link to this run)."""
        self.run(run_id)
        with self._db:
            self._db.execute("DELETE FROM defense_runs WHERE run_id = ?", (run_id,))
            self._db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def export_csv(self, run_id: int, path: str | Path) -> int:
        """Write a run's results as CSV (JSON in the list-valued columns); returns the count."""
        import csv

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = None
            for index, result in self.iter_results(run_id):
                record = {"run_id": run_id, "example_index": index, **result.to_dict()}
                for key in ("original_proba", "adversarial_proba", "changes"):
                    record[key] = json.dumps(record[key], ensure_ascii=False)
                if writer is None:
                    writer = csv.DictWriter(handle, fieldnames=list(record))
                    writer.writeheader()
                writer.writerow(record)
                count += 1
        return count
