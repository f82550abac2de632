"""The leaderboard's store: one SQLite file of runs and their per-example attack results.

Tables: ``victims``, ``datasets``, ``recipes``, ``runs`` and ``results`` (one row per attacked
example). Every result is committed as soon as it is added, in WAL mode, so a run killed at any
moment keeps every example it finished; reports and summaries are pure functions of these rows.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from textrobust.attacks.result import AttackResult
from textrobust.errors import TextrobustError

RunStatus = Literal["running", "interrupted", "finished"]
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS victims (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,      -- sha256 of the saved files: the same victim anywhere is one row
    type TEXT NOT NULL,
    path TEXT NOT NULL                     -- where it was last seen
);
CREATE TABLE IF NOT EXISTS datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    split TEXT NOT NULL,
    language TEXT NOT NULL,
    label_names TEXT NOT NULL,             -- JSON list
    fingerprint TEXT NOT NULL,             -- sha256 of the attacked examples (texts and labels)
    size INTEGER NOT NULL,
    UNIQUE (name, split, fingerprint)
);
CREATE TABLE IF NOT EXISTS recipes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,                     -- hash of the parameters below (not times or status)
    recipe_id INTEGER NOT NULL REFERENCES recipes (id),
    victim_id INTEGER NOT NULL REFERENCES victims (id),
    dataset_id INTEGER NOT NULL REFERENCES datasets (id),
    n INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    budget INTEGER,
    parameters TEXT NOT NULL,              -- JSON object of recipe options
    version TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'interrupted', 'finished'))
);
CREATE INDEX IF NOT EXISTS runs_by_key ON runs (key);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    example_index INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('success', 'failed', 'skipped')),
    label INTEGER NOT NULL,
    original_text TEXT NOT NULL,
    adversarial_text TEXT,
    original_prediction INTEGER NOT NULL,
    adversarial_prediction INTEGER,
    original_proba TEXT NOT NULL,          -- JSON list
    adversarial_proba TEXT,                -- JSON list
    queries INTEGER NOT NULL,
    words_changed INTEGER NOT NULL,
    num_words INTEGER NOT NULL,
    similarity REAL,
    seconds REAL NOT NULL,
    changes TEXT NOT NULL,                 -- JSON list of {index, original, replacement}
    failure_reason TEXT,
    PRIMARY KEY (run_id, example_index)    -- an example is stored once per run: never repeated
);
"""

_JSON_RESULT_FIELDS = ("original_proba", "adversarial_proba", "changes")


class StoreError(TextrobustError):
    """The store file cannot be opened or does not hold what was asked for."""


@dataclass(frozen=True)
class VictimInfo:
    """Which victim: its type, where it lives, and a content fingerprint that recognises it anywhere."""

    type: str
    path: str
    fingerprint: str

    @classmethod
    def from_directory(cls, directory: str | Path, victim_type: str) -> VictimInfo:
        return cls(
            type=victim_type,
            path=str(Path(directory).resolve()),
            fingerprint=fingerprint_directory(directory),
        )


@dataclass(frozen=True)
class DatasetInfo:
    """Which examples: dataset name and split, and a fingerprint of the attacked texts and labels."""

    name: str
    split: str
    language: str
    label_names: tuple[str, ...]
    fingerprint: str
    size: int

    @classmethod
    def from_examples(
        cls,
        name: str,
        split: str,
        language: str,
        label_names: Sequence[str],
        texts: Sequence[str],
        labels: Sequence[int],
    ) -> DatasetInfo:
        return cls(name, split, language, tuple(label_names), fingerprint_examples(texts, labels), len(texts))


@dataclass(frozen=True)
class RunParameters:
    """Everything that decides a run's results; two runs with equal parameters have the same ``key``."""

    recipe: str
    victim: VictimInfo
    dataset: DatasetInfo
    seed: int
    budget: int | None
    options: dict[str, Any] = field(default_factory=dict)
    version: str = ""

    @property
    def n(self) -> int:
        return self.dataset.size

    def key(self) -> str:
        """A hash of the parameters; the victim's path is left out (its fingerprint identifies it)."""
        identity = {
            "recipe": self.recipe,
            "victim": [self.victim.type, self.victim.fingerprint],
            "dataset": [self.dataset.name, self.dataset.split, self.dataset.fingerprint, self.dataset.size],
            "seed": self.seed,
            "budget": self.budget,
            "options": self.options,
            "version": self.version,
        }
        return hashlib.sha256(_canonical_json(identity).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RunRecord:
    """A run as the store holds it."""

    id: int
    key: str
    parameters: RunParameters
    started: str
    finished: str | None
    status: RunStatus


def fingerprint_directory(directory: str | Path) -> str:
    """sha256 over every file under ``directory`` (relative paths and contents, in sorted order)."""
    root = Path(directory)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def fingerprint_examples(texts: Sequence[str], labels: Sequence[int]) -> str:
    """sha256 of the examples in order, so that a changed dataset is never mistaken for the old one."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{int(label)}\t{text}\0".encode())
    return digest.hexdigest()


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


class Store:
    """A SQLite store of attack runs; open one per process, the process that writes results."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise StoreError(
                f"store path is a directory: {self.path}; pass a file such as runs/textrobust.sqlite"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30.0)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a committed result survives a killed process (not a power cut).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} was written by a newer textrobust (schema {version}); upgrade textrobust"
                )
            with self._db:
                self._db.executescript(_SCHEMA)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}; pass another --store path") from None

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
            victim = parameters.victim
            victim_id = self._upsert(
                "victims",
                {"fingerprint": victim.fingerprint, "type": victim.type, "path": victim.path},
                ("fingerprint",),
                update=("path",),
            )
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
                    "budget": parameters.budget, "parameters": _canonical_json(parameters.options),
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
        where = " AND ".join(f"{column} = ?" for column in unique)
        row = self._db.execute(
            f"SELECT id FROM {table} WHERE {where}", [values[c] for c in unique]
        ).fetchone()
        if row is not None:
            if update:
                assignments = ", ".join(f"{column} = ?" for column in update)
                self._db.execute(
                    f"UPDATE {table} SET {assignments} WHERE id = ?", [*(values[c] for c in update), row[0]]
                )
            return int(row[0])
        return self._insert(table, values)

    _RUN_QUERY = """
        SELECT runs.id, runs.key, recipes.name AS recipe, victims.type AS victim_type,
               victims.path AS victim_path, victims.fingerprint AS victim_fingerprint,
               datasets.name AS dataset, datasets.split, datasets.language, datasets.label_names,
               datasets.fingerprint AS dataset_fingerprint, datasets.size, runs.seed, runs.budget,
               runs.parameters, runs.version, runs.started, runs.finished, runs.status
        FROM runs
        JOIN recipes ON recipes.id = runs.recipe_id
        JOIN victims ON victims.id = runs.victim_id
        JOIN datasets ON datasets.id = runs.dataset_id
    """

    @staticmethod
    def _run_record(row: sqlite3.Row) -> RunRecord:
        parameters = RunParameters(
            recipe=row["recipe"],
            victim=VictimInfo(row["victim_type"], row["victim_path"], row["victim_fingerprint"]),
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
        return RunRecord(row["id"], row["key"], parameters, row["started"], row["finished"], row["status"])

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

    def add_results(self, run_id: int, results: Iterable[tuple[int, AttackResult]]) -> None:
        """Store results of ``run_id`` in one transaction; an example already stored is an error."""
        rows = [self._result_row(run_id, index, result) for index, result in results]
        try:
            with self._db:
                for row in rows:
                    self._insert("results", row)
        except sqlite3.IntegrityError as exc:
            raise StoreError(
                f"run {run_id}: result not stored ({exc}); an example is stored at most once"
            ) from None

    def add_result(self, run_id: int, index: int, result: AttackResult) -> None:
        self.add_results(run_id, [(index, result)])

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
