"""How far adversarial texts transfer: scores of a source run's examples replayed on a target victim.

- **transfer success rate**: among the examples the target classifies correctly on the original (gold
  labels), the share whose adversarial text it misclassifies;
- **agreement** (the seed paper's measure, no gold labels): the share whose prediction on the adversarial
  text differs from the prediction on the original;
- **probability drop**: the mean fall of the true class's probability from original to adversarial;
- **unchanged**: the share whose prediction stays the same.

Every score is a mean over examples with a bootstrap 95 % interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textrobust.statistics import Interval, bootstrap_mean
from textrobust.store import TransferRow


@dataclass(frozen=True)
class TransferScores:
    """Scores of one source run on one target."""

    replayed: int  # successful adversarial examples of the source
    correct_on_original: int  # of which the target classifies the original correctly
    success_rate: Interval
    agreement: Interval
    probability_drop: Interval
    unchanged: Interval


def transfer_scores(rows: Sequence[TransferRow], seed: int = 0) -> TransferScores:
    """The scores of a transfer's rows (in any order)."""
    correct = [r for r in rows if r.original_prediction == r.label]
    return TransferScores(
        replayed=len(rows),
        correct_on_original=len(correct),
        success_rate=bootstrap_mean([float(r.adversarial_prediction != r.label) for r in correct], seed),
        agreement=bootstrap_mean(
            [float(r.adversarial_prediction != r.original_prediction) for r in rows], seed
        ),
        probability_drop=bootstrap_mean(
            [r.original_proba[r.label] - r.adversarial_proba[r.label] for r in rows], seed
        ),
        unchanged=bootstrap_mean(
            [float(r.adversarial_prediction == r.original_prediction) for r in rows], seed
        ),
    )
