"""Records an attack produces, and the one method the runner needs from an attack.

This module is the contract between the attack engine (recipes, search, constraints) and whoever runs
attacks over a dataset (``textrobust.runs``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from textrobust.victims.protocols import Classifier
from textrobust.victims.usage import Usage

Status = Literal["success", "failed", "skipped"]


@dataclass
class WordChange:
    """One substituted word: its index among the text's words, the original and the replacement."""

    index: int
    original: str
    replacement: str


@dataclass
class AttackResult:
    """The outcome of attacking one example.

    ``skipped``: the victim already misclassified the original (no attack run).
    ``failed``: no adversarial example within the constraints and budget.
    """

    original_text: str
    label: int  # ground truth
    original_prediction: int
    original_proba: list[float]
    status: Status
    adversarial_text: str | None = None
    adversarial_prediction: int | None = None
    adversarial_proba: list[float] | None = None
    queries: int = 0
    num_words: int = 0
    changes: list[WordChange] = field(default_factory=list)
    similarity: float | None = None  # sentence-encoder cosine between original and adversarial text
    seconds: float = 0.0
    failure_reason: str | None = None  # e.g. "budget exhausted", "no candidates"
    # What the victim counted while this example was attacked (requests, tokens…; None for victims that
    # count nothing), set by the runner's worker: summed into the run's usage, not stored per example.
    usage: Usage | None = field(default=None, compare=False, repr=False)

    @property
    def words_changed(self) -> int:
        return len(self.changes)

    @property
    def correct_before(self) -> bool:
        """The victim classified the original correctly (the example was attacked, not skipped)."""
        return self.status != "skipped"

    @property
    def correct_after(self) -> bool:
        """The victim still classifies the example correctly after the attack (attacked, not flipped)."""
        return self.status == "failed"

    @property
    def perturbed_fraction(self) -> float:
        return self.words_changed / self.num_words if self.num_words else 0.0

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        del record["usage"]  # the run's, not the example's record
        record["words_changed"] = self.words_changed
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> AttackResult:
        record = {k: v for k, v in record.items() if k != "words_changed"}
        record["changes"] = [WordChange(**change) for change in record.get("changes") or []]
        return cls(**record)


class Attack(Protocol):
    """An attack decides what to try for one example; whoever runs it does everything around it."""

    name: str

    def attack(self, text: str, label: int, victim: Classifier) -> AttackResult:
        """Attack one example; ``queries`` in the result is what the attack spent on ``victim``."""
        ...

    def describe(self) -> dict[str, Any]:
        """The attack's settings as plain data (stored with a run)."""
        ...
