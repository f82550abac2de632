"""The store's records: which victim, which examples, which parameters make a run, and a run as stored.

Two runs with equal ``RunParameters`` have the same ``key()``; resuming and de-duplication go by it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from textrobust.files import directory_digest
from textrobust.victims.usage import Usage

if TYPE_CHECKING:
    from textrobust.victims.resolve import VictimRef

RunStatus = Literal["running", "interrupted", "finished"]


def _by_type(value: Any) -> str:
    return f"<{type(value).__name__}>"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values give equal strings (and hashes). An object that
    JSON cannot hold (a resource passed as an object instead of by name) is recorded by its type."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_by_type)


def plain_data(value: Any) -> Any:
    """``value`` as JSON-able data (objects recorded by their type, as ``canonical_json`` does)."""
    return json.loads(canonical_json(value))


@dataclass(frozen=True)
class VictimInfo:
    """Which victim: its type, where it lives, and a content fingerprint that recognises it anywhere."""

    type: str
    path: str
    fingerprint: str
    # What the victim is (family, parameters, trainable parameters, precision, fine-tuning; see
    # ``victims.details``): shown by the leaderboard, never part of a run's identity.
    details: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    @classmethod
    def from_ref(cls, victim: VictimRef) -> VictimInfo:
        """The record of a resolved victim (nothing is read again: its kind, place, digest and config)."""
        from textrobust.errors import TextrobustError
        from textrobust.victims.details import describe_saved_victim, victim_identity

        details: dict[str, Any] | None
        try:
            details = {
                **describe_saved_victim(victim.location, victim.config),
                "architecture": victim.architecture,
            }
        except (TextrobustError, OSError, ValueError, KeyError):  # unusual files: the run is kept, not them
            details = None
        if not victim.trainable and not victim.wraps_base:  # from elsewhere: what identifies it exactly
            details = {
                **(details or {"family": victim.family, "architecture": victim.architecture}),
                "identity": victim_identity(victim.location, victim.digest, victim.config),
            }
        return cls(type=victim.kind, path=victim.location, fingerprint=victim.digest, details=details)

    @classmethod
    def from_directory(cls, directory: str | Path) -> VictimInfo:
        """The record of the victim saved in ``directory`` (resolved here)."""
        from textrobust.victims.resolve import resolve_victim

        return cls.from_ref(resolve_victim(directory))


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
    """A run as the store holds it. ``usage``: what its attack cost, where the victim counts it (an HTTP
    endpoint, an LLM: requests, cache hits, tokens in and out, seconds waiting), summed over the run and its
    resumes, the requests of an example redone after a stop included; None for victims that count
    nothing."""

    id: int
    key: str
    parameters: RunParameters
    started: str
    finished: str | None
    status: RunStatus
    usage: Usage | None = None


def fingerprint_directory(directory: str | Path) -> str:
    """A victim folder's content fingerprint (see ``textrobust.files.directory_digest``)."""
    return directory_digest(directory)


def fingerprint_examples(texts: Sequence[str], labels: Sequence[int]) -> str:
    """sha256 of the examples in order, so that a changed dataset is never mistaken for the old one."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{int(label)}\t{text}\0".encode())
    return digest.hexdigest()


DefenseRole = Literal["base", "defended"]


@dataclass(frozen=True)
class DefenseInfo:
    """A defended victim: how it was made (method, settings, base victim, training data) and its cost."""

    method: str
    parameters: dict[str, Any]
    base: VictimInfo
    defended: VictimInfo
    dataset: str
    train_seconds: float
    generation_seconds: float = 0.0
    clean_train_seconds: float | None = None
    forward_passes: int = 1
    version: str = ""


@dataclass(frozen=True)
class DefenseRecord:
    """A defense as the store holds it, with the evaluation runs linked to it as ``(run id, role)``."""

    id: int
    info: DefenseInfo
    created: str
    runs: tuple[tuple[int, DefenseRole], ...]


@dataclass(frozen=True)
class TransferRow:
    """One adversarial text of a source run replayed on a target: the target's answers on both texts."""

    example_index: int
    label: int  # gold, in the target's label ids
    original_prediction: int
    adversarial_prediction: int
    original_proba: tuple[float, ...]
    adversarial_proba: tuple[float, ...]


@dataclass(frozen=True)
class TransferRecord:
    """A transfer as the store holds it: a source run replayed on a target victim."""

    id: int
    source_run_id: int
    target: VictimInfo
    version: str
    started: str
    finished: str | None
    status: RunStatus


@dataclass(frozen=True)
class HumanEvaluation:
    """Ratings of a run's adversarial examples and what they add up to (``summary``)."""

    id: int
    run_id: int
    raters: int
    items: int
    summary: dict[str, Any]
    ratings: list[dict[str, Any]]
    created: str
