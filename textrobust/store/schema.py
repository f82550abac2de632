"""The store's schema, by version, and the migrations between versions.

``MIGRATIONS[v]`` takes a store at schema version ``v`` to ``v + 1``; a store opens at any older version
and is upgraded in place, one transaction per step, before anything else reads it. Version 0 is an empty
file. Add a table or a column by appending a migration; never edit a released one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

# Version 1: runs of attacks and their per-example results.
_V1 = """
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


# Version 2: defenses — a defended victim, how it was made and what it cost, linked to the evaluation runs
# of it and of its undefended base.
_V2 = """
CREATE TABLE defenses (
    id INTEGER PRIMARY KEY,
    method TEXT NOT NULL,                  -- co-tune, augment, embedding, smooth
    parameters TEXT NOT NULL,              -- JSON object of the method's settings
    base_victim_id INTEGER NOT NULL REFERENCES victims (id),
    defended_victim_id INTEGER NOT NULL REFERENCES victims (id),
    dataset TEXT NOT NULL,                 -- the dataset it was trained on
    train_seconds REAL NOT NULL,           -- the whole defense training (0 for a wrapper)
    generation_seconds REAL NOT NULL,      -- of which generating adversarial examples
    clean_train_seconds REAL,              -- reference: clean training on the same data, same settings
    forward_passes INTEGER NOT NULL,       -- model forward passes per prediction (M for smoothing)
    version TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE defense_runs (
    defense_id INTEGER NOT NULL REFERENCES defenses (id) ON DELETE CASCADE,
    run_id INTEGER NOT NULL REFERENCES runs (id),
    role TEXT NOT NULL CHECK (role IN ('base', 'defended')),
    PRIMARY KEY (defense_id, run_id)
);
"""


# Version 3: transfer runs (a run's adversarial texts replayed on other victims, a row per example and
# target) and human evaluations of a run's adversarial examples.
_V3 = """
CREATE TABLE transfers (
    id INTEGER PRIMARY KEY,
    source_run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    target_victim_id INTEGER NOT NULL REFERENCES victims (id),
    version TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'interrupted', 'finished')),
    UNIQUE (source_run_id, target_victim_id)
);
CREATE TABLE transfer_results (
    transfer_id INTEGER NOT NULL REFERENCES transfers (id) ON DELETE CASCADE,
    example_index INTEGER NOT NULL,
    label INTEGER NOT NULL,                -- the gold label, in the target's label ids
    original_prediction INTEGER NOT NULL,  -- the target's prediction on the original text
    adversarial_prediction INTEGER NOT NULL,
    original_proba TEXT NOT NULL,          -- JSON list, the target's probabilities
    adversarial_proba TEXT NOT NULL,
    PRIMARY KEY (transfer_id, example_index)
);
CREATE TABLE human_evaluations (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    raters INTEGER NOT NULL,
    items INTEGER NOT NULL,
    summary TEXT NOT NULL,                 -- JSON: means, validated success rate, Fleiss' kappa
    ratings TEXT NOT NULL,                 -- JSON list of every rating, for re-analysis
    created TEXT NOT NULL
);
"""


def _run_sql(script: str) -> Callable[[sqlite3.Connection], None]:
    """A migration that executes the statements of ``script`` (inside the caller's transaction)."""

    def migration(db: sqlite3.Connection) -> None:
        for statement in script.split(";"):
            if statement.strip():
                db.execute(statement)

    return migration


# Version 4: what each victim is (JSON: family, parameters, trainable parameters, precision, fine-tuning),
# for the leaderboard's robustness-vs-size/precision/fine-tuning table; NULL for victims stored before.
_V4 = """
ALTER TABLE victims ADD COLUMN details TEXT
"""

# Version 5: what a run's attack cost where its victim counts it (HTTP endpoints, LLMs): JSON of the
# ``victims.usage.Usage`` counters (requests, cache hits, tokens in and out, seconds waiting), summed over
# every call that attacked the run (resumes add theirs); NULL for runs of victims that count nothing.
_V5 = """
ALTER TABLE runs ADD COLUMN usage TEXT
"""

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _run_sql(_V1), _run_sql(_V2), _run_sql(_V3), _run_sql(_V4), _run_sql(_V5),
]  # fmt: skip
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, target: int = SCHEMA_VERSION) -> list[int]:
    """Upgrade ``db`` to ``target``; returns the versions it passed through (empty when already there)."""
    passed = []
    while (version := schema_version(db)) < target:
        db.execute("BEGIN IMMEDIATE")  # one writer migrates; a concurrent opener waits, then sees it done
        try:
            if schema_version(db) == version:  # nobody migrated meanwhile
                MIGRATIONS[version](db)
                db.execute(f"PRAGMA user_version={version + 1}")
                passed.append(version + 1)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return passed
