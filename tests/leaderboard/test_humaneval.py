"""The human-evaluation kit: blinded sheets, checked ratings, Fleiss' kappa against a published example."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from textrobust.errors import DataError
from textrobust.leaderboard.humaneval import export_kit, read_ratings, summarize_ratings
from textrobust.statistics import fleiss_kappa
from textrobust.store import Store

# Fleiss (1971) as worked on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14 raters, 5 categories,
# κ = 0.210.
WIKIPEDIA_TABLE = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]  # fmt: skip


def test_fleiss_kappa_matches_the_published_example() -> None:
    assert fleiss_kappa(WIKIPEDIA_TABLE) == pytest.approx(0.210, abs=5e-4)
    assert fleiss_kappa([[3, 0], [0, 3], [3, 0]]) == pytest.approx(1.0)  # perfect agreement
    with pytest.raises(ValueError):
        fleiss_kappa([[2, 0], [1, 0]])  # unequal numbers of raters


def test_sheets_are_blinded_shuffled_per_rater_and_the_key_says_which_text_is_which(
    report_store: dict, tmp_path: Path
) -> None:
    with Store(report_store["store"]) as store:
        kit = export_kit(store, report_store["run"], tmp_path / "kit", n=6, raters=4, seed=3)
        successes = {r.adversarial_text for r in store.results(report_store["run"]) if r.status == "success"}
    assert kit.items == 6 and len(kit.sheets) == 4
    orders = []
    for sheet in kit.sheets:
        rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
        orders.append([r["item"] for r in rows])
        header = sheet.read_text(encoding="utf-8").splitlines()[0]
        assert "original" not in header and "adversarial" not in header
        page = sheet.with_suffix(".html").read_text(encoding="utf-8")
        assert "adversarial" not in page.lower() and "<table>" in page
    assert len({tuple(o) for o in orders}) > 1 and all(sorted(o) == sorted(orders[0]) for o in orders)
    key = json.loads((kit.directory / "key.json").read_text(encoding="utf-8"))
    for item in key["items"]:
        adversarial = item["text_a"] if item["adversarial"] == "a" else item["text_b"]
        assert adversarial in successes
    assert {item["adversarial"] for item in key["items"]} == {"a", "b"} or len(key["items"]) < 4


def test_ratings_add_up_to_means_a_validated_success_rate_and_kappa(
    report_store: dict, tmp_path: Path
) -> None:
    with Store(report_store["store"]) as store:
        kit = export_kit(store, report_store["run"], tmp_path / "kit", n=4, raters=2)
    key = json.loads((kit.directory / "key.json").read_text(encoding="utf-8"))
    items = {i["item"]: i for i in key["items"]}
    for sheet in kit.sheets:  # both raters: the adversarial text keeps the gold label, grammar 2 vs 5
        rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
        for row in rows:
            item = items[row["item"]]
            adversarial = item["adversarial"]
            original = "b" if adversarial == "a" else "a"
            row[f"grammar_{adversarial}"], row[f"grammar_{original}"], row["meaning"] = "2", "5", "4"
            row[f"label_{adversarial}"] = row[f"label_{original}"] = item["gold"]
        with sheet.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    summary = summarize_ratings(read_ratings(kit.sheets, key), key)
    assert (
        summary["grammar_adversarial"] == 2 and summary["grammar_original"] == 5 and summary["meaning"] == 4
    )
    assert summary["validated_success_rate"] == 1.0 and summary["items"] == 4 and summary["raters"] == 2
    assert len(summary["per_rater"]) == 2 and summary["kappa_items"] == 4


def test_a_rating_out_of_range_is_a_one_line_data_error(report_store: dict, tmp_path: Path) -> None:
    with Store(report_store["store"]) as store:
        kit = export_kit(store, report_store["run"], tmp_path / "kit", n=3, raters=2)
    key = json.loads((kit.directory / "key.json").read_text(encoding="utf-8"))
    text = kit.sheets[0].read_text(encoding="utf-8").splitlines()
    text[1] = text[1].rstrip(",") + ",7,,,,"
    kit.sheets[0].write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="must be 1 to 5"):
        read_ratings(kit.sheets, key)


def test_english_sheets_have_no_bom_and_a_sheet_saved_with_one_or_with_semicolons_still_reads(
    report_store: dict, tmp_path: Path
) -> None:
    with Store(report_store["store"]) as store:
        kit = export_kit(store, report_store["run"], tmp_path / "kit", n=3, raters=2)
    assert kit.language == "en"
    assert all(not sheet.read_bytes().startswith(b"\xef\xbb\xbf") for sheet in kit.sheets)
    page = kit.sheets[0].with_suffix(".html").read_text(encoding="utf-8")
    assert page.startswith('<!DOCTYPE html><html lang="en"><head>')  # no dir: left to right, as before
    key = json.loads((kit.directory / "key.json").read_text(encoding="utf-8"))
    for sheet in kit.sheets:  # a blank sheet is refused: each rater judges meaning
        rows = list(csv.reader(sheet.open(encoding="utf-8", newline="")))
        rows[1:] = [[*row[:5], "3", *row[6:]] for row in rows[1:]]
        with sheet.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
    unchanged = read_ratings(kit.sheets, key)
    assert {r["meaning"] for r in unchanged} == {3}
    # What a spreadsheet program may save: a byte-order mark, and semicolons in comma-decimal locales.
    first = kit.sheets[0].read_text(encoding="utf-8")
    kit.sheets[0].write_text(first, encoding="utf-8-sig")
    rows = list(csv.reader(kit.sheets[1].open(encoding="utf-8", newline="")))
    with kit.sheets[1].open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    assert kit.sheets[0].read_bytes().startswith(b"\xef\xbb\xbf") and ";" in kit.sheets[1].read_text("utf-8")
    assert read_ratings(kit.sheets, key) == unchanged
