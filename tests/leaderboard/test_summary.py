"""Run summaries with TextAttack's numbers, computed from stored results, and their markdown tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stand_ins import make_result
from textrobust.leaderboard.summary import comparison_markdown, summarize, summary_markdown
from textrobust.store import DatasetInfo, RunParameters, Store, VictimInfo


def _parameters() -> RunParameters:
    return RunParameters(
        recipe="textfooler",
        victim=VictimInfo(type="wordcnn", path="/victims/cnn", fingerprint="abc"),
        dataset=DatasetInfo.from_examples("mr", "test", "en", ["negative", "positive"], ["a b"], [1]),
        seed=0,
        budget=None,
    )


HAND_CHECKED = [
    make_result("success", 10, changes=2, queries=30, similarity=0.9, seconds=1.0),  # 20% perturbed
    make_result("success", 4, changes=1, queries=10, similarity=0.8, seconds=3.0),  # 25% perturbed
    make_result("failed", 6, queries=50, seconds=2.0),
    make_result("skipped", 8, queries=1, seconds=0.01),
    make_result("skipped", 2, queries=1, seconds=0.01),
]


def test_summary_has_textattacks_numbers_for_a_hand_checked_run(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        run = store.start_run(_parameters())
        store.add_results(run.id, list(enumerate(HAND_CHECKED)))
        summary = summarize(store.results(run.id))
    assert (summary.total, summary.successful, summary.failed, summary.skipped) == (5, 2, 1, 2)
    assert summary.original_accuracy == pytest.approx(3 / 5)
    assert summary.accuracy_under_attack == pytest.approx(1 / 5)
    assert summary.attack_success_rate == pytest.approx(2 / 3)
    assert summary.avg_perturbed_word_fraction == pytest.approx((0.2 + 0.25) / 2)  # successful only
    assert summary.avg_words_per_input == pytest.approx((10 + 4 + 6 + 8 + 2) / 5)  # every example
    assert summary.avg_queries == pytest.approx((30 + 10 + 50) / 3)  # attacked examples only
    assert summary.avg_similarity == pytest.approx(0.85)
    assert summary.avg_seconds == pytest.approx(2.0)
    table = summary_markdown(summary)
    for expected in ("Number of skipped attacks", "60.00%", "20.00%", "66.67%", "22.50%", "6.00", "30.00"):
        assert expected in table


def test_summary_of_nothing_is_undefined_not_zero() -> None:
    summary = summarize([])
    assert summary.total == 0 and summary.original_accuracy is None and summary.avg_queries is None
    assert "n/a" in summary_markdown(summary)
    only_skipped = summarize([make_result("skipped", 3)])
    assert only_skipped.original_accuracy == 0.0 and only_skipped.attack_success_rate is None


def test_comparison_table_has_a_row_per_run() -> None:
    table = comparison_markdown([(["wordcnn", "textfooler"], summarize(HAND_CHECKED)),
                               (["bert", "pwws"], summarize(HAND_CHECKED[:1]))])  # fmt: skip
    lines = table.splitlines()
    assert len(lines) == 4 and "wordcnn" in lines[2] and "pwws" in lines[3] and "acc under attack" in lines[0]
