"""Transfer scores from replayed rows, checked by hand."""

from __future__ import annotations

import pytest

from textrobust.leaderboard.transfer import transfer_scores
from textrobust.store import TransferRow


def row(index: int, label: int, before: int, after: int, p_before: float, p_after: float) -> TransferRow:
    """A replayed example; ``p_*`` is the target's probability of class 1."""
    return TransferRow(index, label, before, after, (1 - p_before, p_before), (1 - p_after, p_after))


def test_success_rate_counts_only_examples_the_target_had_right_and_agreement_needs_no_label() -> None:
    rows = [
        row(0, 1, 1, 0, 0.9, 0.2),  # right, then fooled
        row(1, 1, 1, 1, 0.8, 0.7),  # right, not fooled
        row(2, 1, 0, 0, 0.4, 0.3),  # wrong already: not in the success rate, prediction unchanged
        row(3, 0, 0, 1, 0.1, 0.6),  # right, then fooled
    ]
    scores = transfer_scores(rows)
    assert scores.replayed == 4 and scores.correct_on_original == 3
    assert scores.success_rate.mean == pytest.approx(2 / 3)
    assert scores.agreement.mean == pytest.approx(2 / 4)  # predictions changed on rows 0 and 3
    assert scores.unchanged.mean == pytest.approx(2 / 4)
    drops = [0.9 - 0.2, 0.8 - 0.7, 0.4 - 0.3, 0.9 - 0.4]  # of the true class's probability
    assert scores.probability_drop.mean == pytest.approx(sum(drops) / 4)
    assert scores.success_rate.low <= scores.success_rate.mean <= scores.success_rate.high


def test_no_rows_give_undefined_scores_not_zeros() -> None:
    scores = transfer_scores([])
    assert scores.success_rate.mean is None and scores.agreement.n == 0
