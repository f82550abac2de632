"""The store: every run and every per-example result, in one SQLite file.

``records`` holds what identifies a run (victim, examples, parameters), ``schema`` the versioned
tables and their migrations, ``sqlite`` the ``Store`` itself. ``textrobust.runs`` writes it;
``textrobust.leaderboard`` only reads it.
"""

from pathlib import Path

from textrobust.store.records import (
    DatasetInfo,
    DefenseInfo,
    DefenseRecord,
    HumanEvaluation,
    RunParameters,
    RunRecord,
    RunStatus,
    TransferRecord,
    TransferRow,
    VictimInfo,
    fingerprint_directory,
    fingerprint_examples,
)
from textrobust.store.schema import SCHEMA_VERSION
from textrobust.store.sqlite import Store, StoreError

# Where commands keep their runs unless told otherwise (``--store``).
DEFAULT_STORE = Path("runs") / "textrobust.sqlite"

__all__ = [
    "DEFAULT_STORE",
    "SCHEMA_VERSION",
    "DatasetInfo",
    "DefenseInfo",
    "DefenseRecord",
    "HumanEvaluation",
    "RunParameters",
    "RunRecord",
    "RunStatus",
    "Store",
    "StoreError",
    "TransferRecord",
    "TransferRow",
    "VictimInfo",
    "fingerprint_directory",
    "fingerprint_examples",
]
