"""The query oracle: the one cache and query counter of an example, the budget, and the skip decision."""

from __future__ import annotations

import numpy as np
import pytest

from tests.stand_ins import KeywordModel, LinearGradientModel
from textrobust.attacks.goals import UntargetedLabelFlip
from textrobust.attacks.oracle import QueryOracle
from textrobust.errors import AttackError

WEIGHTS = {"good": 2.0, "bad": -2.0, "film": 0.3}


def test_texts_already_scored_are_not_queried_or_counted_again() -> None:
    model = KeywordModel(dict(WEIGHTS))
    oracle = QueryOracle(model, UntargetedLabelFlip(), label=1)
    first = oracle.observe(["good film", "bad film", "good film"])
    assert model.calls == [2] and oracle.queries == 2
    again = oracle.observe(["bad film", "good film"])
    assert model.calls == [2] and oracle.queries == 2
    np.testing.assert_allclose(again, first[[1, 0]])


def test_a_budget_cut_batch_returns_the_affordable_prefix() -> None:
    oracle = QueryOracle(KeywordModel(dict(WEIGHTS)), UntargetedLabelFlip(), label=1, max_queries=3)
    oracle.observe(["a"])
    rows = oracle.observe(["a", "b", "c", "d"])
    assert len(rows) == 3 and oracle.queries == 3 and oracle.exhausted


def test_the_original_is_skipped_when_the_victim_already_gets_it_wrong() -> None:
    oracle = QueryOracle(KeywordModel(dict(WEIGHTS)), UntargetedLabelFlip(), label=1)
    result = oracle.original_result("a bad film", num_words=3)
    assert result.status == "skipped" and result.queries == 1 and result.original_prediction == 0
    assert "misclassifies" in (result.failure_reason or "")
    assert result.original_proba == pytest.approx(oracle.probabilities("a bad film").tolist())


def test_a_correctly_classified_original_starts_as_failed_until_a_search_succeeds() -> None:
    oracle = QueryOracle(KeywordModel(dict(WEIGHTS)), UntargetedLabelFlip(), label=1)
    result = oracle.original_result("a good film", num_words=3)
    assert result.status == "failed" and result.failure_reason is None and result.num_words == 3
    oracle.observe(["a good film"])  # cached: the original is counted once
    assert oracle.queries == 1


def test_hard_label_observations_are_one_hot_but_stored_probabilities_are_not() -> None:
    oracle = QueryOracle(KeywordModel(dict(WEIGHTS)), UntargetedLabelFlip(hard_label=True), label=1)
    observed = oracle.observe(["a good film"])
    assert observed.tolist() == [[0.0, 1.0]]
    assert 0.5 < oracle.probabilities("a good film")[1] < 1.0


def test_gradients_count_as_queries_and_need_a_white_box_victim() -> None:
    white = QueryOracle(LinearGradientModel(dict(WEIGHTS)), UntargetedLabelFlip(), label=1, max_queries=1)
    norms = white.word_gradient_norms("good film", [(0, 4), (5, 9)])
    assert norms is not None and norms.tolist() == [2.0, 0.3] and white.queries == 1
    assert white.word_gradient_norms("good film", [(0, 4)]) is None and white.exhausted
    black = QueryOracle(KeywordModel(dict(WEIGHTS)), UntargetedLabelFlip(), label=1)
    with pytest.raises(AttackError, match="white-box"):
        black.word_gradient_norms("good film", [(0, 4)])
