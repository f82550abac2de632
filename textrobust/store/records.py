"""The store's records: which victim, which examples, which parameters make a run, and a run as stored.

Two runs with equal ``RunParameters`` have the same ``key()``; resuming and de-duplication go by it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

RunStatus = Literal["running", "interrupted", "finished"]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values give equal strings (and hashes)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


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
        return hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:32]


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
