"""The report: a pure function of the store, the same bytes every time, every number with its interval."""

from __future__ import annotations

import json

import pytest

from tests.stand_ins import make_result
from textrobust.leaderboard.publish import render
from textrobust.leaderboard.render import CSV_COLUMNS, to_records
from textrobust.leaderboard.report import CURVE_THRESHOLDS, accuracy_curve, build_report
from textrobust.store import Store


@pytest.fixture(scope="module")
def report(report_store: dict):
    with Store(report_store["store"]) as store:
        return build_report(store)


def test_entries_are_the_finished_runs_with_intervals_and_settings_hashes(report, report_store) -> None:
    with Store(report_store["store"]) as store:
        finished = {r.id for r in store.runs() if r.status == "finished"}
    assert {e.run_id for e in report.entries} == finished
    for entry in report.entries:
        assert len(entry.key) == 32 and entry.version
        for interval in (entry.clean_accuracy, entry.accuracy_under_attack):
            assert interval.low <= interval.mean <= interval.high and interval.n == entry.n
        assert entry.accuracy_under_attack.mean <= entry.clean_accuracy.mean
        assert entry.curve[0] == (0.0, pytest.approx(entry.clean_accuracy.mean))
        assert entry.curve[-1][1] >= entry.accuracy_under_attack.mean


def test_the_ranking_orders_victims_by_their_worst_accuracy_under_attack(report) -> None:
    worst = [r.worst_accuracy.mean for r in report.rankings]
    assert worst == sorted(worst, reverse=True)
    assert {r.victim.name for r in report.rankings} == {"cnn-a", "cnn-b", "cnn-a-embedding"}
    defended = next(r for r in report.rankings if r.victim.name == "cnn-a-embedding")
    assert defended.victim.defense == "embedding"


def test_a_defense_pairs_before_and_after_on_the_same_examples(report) -> None:
    (defense,) = report.defenses
    assert defense.method == "embedding" and defense.base.name == "cnn-a"
    names = [m.name for m in defense.measures]
    assert names == ["clean", "under textfooler"]
    for measure in defense.measures:
        assert measure.difference.mean == pytest.approx(measure.defended - measure.base)
        assert measure.difference.low <= measure.difference.mean <= measure.difference.high
    assert defense.cost_ratio is not None and defense.cost_ratio > 0


def test_transfers_and_answers_come_with_numbers_and_intervals(report) -> None:
    pairs = {(c.source.name, c.target.name) for c in report.transfers}
    assert pairs == {("cnn-a", "cnn-b"), ("cnn-b", "cnn-a")}
    for cell in report.transfers:
        assert cell.scores.replayed > 0
        assert cell.scores.agreement.mean + cell.scores.unchanged.mean == pytest.approx(1.0)
    assert set(report.answers) == {"most_susceptible", "transfers_most", "receives_most", "defense_regains"}
    assert "%" in report.answers["most_susceptible"] and "[" in report.answers["transfers_most"]
    assert "points [" in report.answers["defense_regains"]
    (human,) = report.human
    assert human.raters == 3 and human.items == 8 and "fleiss_kappa" in human.summary


@pytest.mark.parametrize("fmt", ["md", "html", "json", "csv"])
def test_the_report_of_a_fixed_store_is_byte_identical_across_two_runs(report_store, fmt: str) -> None:
    outputs = []
    for _ in range(2):
        with Store(report_store["store"]) as store:
            text, files = render(build_report(store), fmt)
        outputs.append((text.encode("utf-8"), files))
    assert outputs[0] == outputs[1]
    if fmt == "md":
        assert len(outputs[0][1]) >= 3  # the plots beside the markdown
    if fmt == "html":
        page = outputs[0][0].decode("utf-8")
        assert page.count("data:image/png;base64,") >= 3 and "http" not in page.split("<body>")[1]


def test_json_has_one_record_per_entry_with_documented_fields(report) -> None:
    records = json.loads(render(report, "json")[0])
    assert records["format"] == "textrobust-leaderboard" and records["format_version"] == 1
    assert len(records["entries"]) == len(report.entries)
    entry = records["entries"][0]
    for name in ("run_id", "key", "version", "victim", "recipe", "dataset", "split", "n", "seed", "options",
                 "clean_accuracy", "accuracy_under_attack", "success_rate", "perturbed_words", "queries",
                 "similarity", "seconds_per_example"):  # fmt: skip
        assert name in entry
    assert set(entry["accuracy_under_attack"]) == {"mean", "low", "high", "n"}
    assert set(records) >= {"rankings", "defenses", "transfers", "human_evaluations", "answers"}
    assert records == to_records(report)


def test_csv_has_a_row_per_entry(report) -> None:
    lines = render(report, "csv")[0].splitlines()
    assert lines[0].split(",") == list(CSV_COLUMNS) and len(lines) == 1 + len(report.entries)


def test_the_accuracy_curve_falls_from_clean_accuracy_to_accuracy_under_attack() -> None:
    results = [
        make_result("success", 10, changes=1),  # 10 % of the words
        make_result("success", 10, changes=3),  # 30 %
        make_result("failed", 10),
        make_result("skipped", 10),
    ]
    curve = dict(accuracy_curve(results))
    assert curve[0.0] == 0.75 and curve[0.1] == 0.5 and curve[0.3] == 0.25 and curve[0.5] == 0.25
    assert list(curve) == list(CURVE_THRESHOLDS)


def test_a_dataset_filter_keeps_only_its_runs(report_store) -> None:
    with Store(report_store["store"]) as store:
        assert build_report(store, dataset="elsewhere").entries == ()
        assert build_report(store, dataset="keywords").entries


def test_a_runs_settings_profile_and_order_name_its_recipe_row() -> None:
    from textrobust.leaderboard.report import recipe_label

    assert recipe_label("textfooler", {}) == "textfooler"
    assert recipe_label("textfooler", {"profile": "paper"}) == "textfooler"
    assert recipe_label("textfooler", {"profile": "textattack"}) == "textfooler (textattack profile)"
    assert recipe_label("bae", {"profile": "textattack", "order": "victim-first"}) == (
        "bae (textattack profile; victim-first)"
    )


def test_victims_carry_family_size_precision_and_fine_tuning_into_the_ranking_and_a_plot(
    report, report_store
) -> None:
    from textrobust.leaderboard.plots import robustness_by_size
    from textrobust.leaderboard.render import ranking_rows
    from textrobust.victims import load_victim

    for ranking, row in zip(report.rankings, ranking_rows(report), strict=True):
        module = load_victim(ranking.victim.path).module
        count = sum(p.numel() for p in module.parameters())
        assert ranking.victim.details["parameters"] == count
        assert row["family"] == "wordcnn" and row["precision"] == "float32" and row["fine-tuning"] == "full"
        assert row["parameters"] == f"{count / 1e6:.2f} M" and float(row["tokens / text"]) > 1
    png = robustness_by_size(report)
    assert png is not None and png.startswith(b"\x89PNG")
    text, files = render(report, "md")
    assert "robustness-by-size.png" in files and "robustness-by-size.png" in text
    import re

    assert re.search(
        r"\|\s*family\s*\|\s*parameters\s*\|\s*trainable\s*\|\s*precision\s*\|\s*fine-tuning\s*\|", text
    )
