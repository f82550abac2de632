"""Arabic end to end in the leaderboard: right-to-left examples with whole-word highlights in the HTML
report (checked in headless Chromium), an Arabic human-evaluation kit, and the new answers (who receives the
most transferred attacks, BERT-type against word victims, what a defense regains) checked by hand."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path

import pytest

from textrobust.attacks.result import AttackResult, WordChange
from textrobust.data.arabic import is_arabic_word
from textrobust.data.text import segment_text
from textrobust.leaderboard.humaneval import (
    CAPTIONS_AR,
    INSTRUCTIONS_AR,
    export_kit,
    read_ratings,
    summarize_ratings,
)
from textrobust.leaderboard.publish import render
from textrobust.leaderboard.render import ANSWER_TITLES, _diff_html
from textrobust.leaderboard.report import Report, build_report
from textrobust.store import DatasetInfo, DefenseInfo, RunParameters, Store, TransferRow, VictimInfo

LABELS = ("سلبي", "إيجابي")  # negative, positive
# (original, adversarial, index of the replaced word, label): one synonym swapped per sentence; the first
# two carry short vowels and tanwin, which word_diff alone would cut out of the highlighted word.
PAIRS = (
    ("الفيلم جميلٌ جدا", "الفيلم حسنٌ جدا", 1, 1),
    ("كَتَبَ الناقدُ مقالًا سيئًا عن العرض", "كَتَبَ الناقدُ مقالًا رديئًا عن العرض", 3, 0),
    ("المطعم رائع والطعام لذيذ", "المطعم مدهش والطعام لذيذ", 1, 1),
    ("الكتاب ممل ولا أنصح به", "الكتاب سخيف ولا أنصح به", 1, 0),
    ("التطبيق ممتاز وسهل الاستخدام", "التطبيق رائع وسهل الاستخدام", 1, 1),
    ("الفندق قذر والغرف ضيقة", "الفندق وسخ والغرف ضيقة", 1, 0),
    ("أحببت هذه الرواية كثيرا", "عشقت هذه الرواية كثيرا", 0, 1),
    ("المنتج رديء ولا يستحق ثمنه", "المنتج سيئ ولا يستحق ثمنه", 1, 0),
    ("الممثلون أبدعوا في أدوارهم", "الممثلون تألقوا في أدوارهم", 1, 1),
    ("الانتظار طويل والموظفون غير متعاونين", "الانتظار مديد والموظفون غير متعاونين", 1, 0),
)
BERT = VictimInfo("bert", "/victims/bert-ar", "f-bert")
CNN = VictimInfo("wordcnn", "/victims/cnn-ar", "f-cnn")
LSTM = VictimInfo("wordlstm", "/victims/lstm-ar", "f-lstm")
# Examples each victim still classifies correctly after the attack, per recipe (all are right before it).
SURVIVED = {
    # accuracy under attack 0 / 60 / 80 %; per example, BERT minus the mean of the word victims:
    # 0-5: 0 - 1 = -1, 6-7: 0 - 0.5 = -0.5, 8-9: 0 - 0 = 0; mean (-6 - 1) / 10 = -0.7
    "textfooler": {BERT: set(), CNN: set(range(6)), LSTM: set(range(8))},
    # 4: 1 - 0.5 = +0.5, 5: 0 - 0.5 = -0.5, the others 0: mean 0
    "pwws": {BERT: {0, 1, 2, 3, 4}, CNN: {0, 1, 2, 3, 5}, LSTM: {0, 1, 2, 3, 4}},
    # 5-9: 1 - 0 = +1, the others 0: mean +0.5
    "bae": {BERT: set(range(10)), CNN: set(range(5)), LSTM: set(range(5))},
}
# textfooler's transfers, (source, target): {example: (target right on the original, fooled)}; the
# examples are the source's successes. Columns, pooled over sources (only the examples the target had right):
# bert-ar 4 of 6 fooled, cnn-ar 2 of 8, lstm-ar 2 of 12.
TRANSFERS = {
    (CNN, BERT): {6: (True, True), 7: (True, True), 8: (True, True), 9: (True, False)},
    (LSTM, BERT): {8: (True, True), 9: (True, False)},
    (BERT, CNN): {
        0: (False, False),
        1: (False, True),
        2: (True, True),
        **{i: (True, False) for i in range(3, 8)},
    },
    (LSTM, CNN): {8: (True, True), 9: (True, False)},
    (BERT, LSTM): {i: (True, i < 2) for i in range(8)},
    (CNN, LSTM): {i: (True, False) for i in range(6, 10)},
}


def dataset_info(n: int = len(PAIRS)) -> DatasetInfo:
    texts = [PAIRS[i % len(PAIRS)][0] for i in range(n)]
    labels = [PAIRS[i % len(PAIRS)][3] for i in range(n)]
    return DatasetInfo.from_examples("arsent", "test", "ar", LABELS, texts, labels)


def result(index: int, survived: bool) -> AttackResult:
    """Example ``index`` (of PAIRS, cycled), right before the attack; flipped unless ``survived``."""
    original, adversarial, word, label = PAIRS[index % len(PAIRS)]
    words = segment_text(original).words
    flipped = 1 - label
    return AttackResult(
        original_text=original, label=label, original_prediction=label, original_proba=[0.5, 0.5],
        status="failed" if survived else "success",
        adversarial_text=None if survived else adversarial,
        adversarial_prediction=None if survived else flipped,
        adversarial_proba=None if survived else [0.5, 0.5], queries=5, num_words=len(words),
        changes=[] if survived else [WordChange(word, words[word], segment_text(adversarial).words[word])],
    )  # fmt: skip


def add_run(
    store: Store, victim: VictimInfo, recipe: str, survived: Iterable[int], n: int = len(PAIRS)
) -> int:
    kept = set(survived)
    run = store.start_run(RunParameters(recipe, victim, dataset_info(n), seed=0, budget=None))
    store.add_results(run.id, [(i, result(i, i in kept)) for i in range(n)])
    store.set_status(run.id, "finished")
    return run.id


def add_transfer(
    store: Store, source_run: int, target: VictimInfo, rows: dict[int, tuple[bool, bool]]
) -> None:
    transfer = store.start_transfer(source_run, target, "test")
    replayed = []
    for index, (right, fooled) in rows.items():
        label = PAIRS[index][3]
        before = label if right else 1 - label
        after = 1 - label if fooled else label
        replayed.append(TransferRow(index, label, before, after, (0.5, 0.5), (0.5, 0.5)))
    store.add_transfer_rows(transfer.id, replayed)
    store.set_transfer_status(transfer.id, "finished")


@pytest.fixture
def arabic_store(tmp_path: Path) -> Path:
    path = tmp_path / "arabic.sqlite"
    with Store(path) as store:
        runs = {}
        for recipe, victims in SURVIVED.items():
            for victim, survived in victims.items():
                runs[(recipe, victim)] = add_run(store, victim, recipe, survived)
        for (source, target), rows in TRANSFERS.items():
            add_transfer(store, runs[("textfooler", source)], target, rows)
    return path


@pytest.fixture
def arabic_report(arabic_store: Path) -> Report:
    with Store(arabic_store) as store:
        return build_report(store)


def answer_for(report: Report, key: str, recipe: str) -> str:
    (part,) = [p for p in report.answers[key].split("; ") if p.startswith(f"{recipe} on ")]
    return part


# -- highlighting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("original", "adversarial", "word", "_label"), PAIRS)
def test_the_highlight_is_the_whole_arabic_word_that_changed(
    original: str, adversarial: str, word: int, _label: int
) -> None:
    before, after = _diff_html(original, adversarial)
    old, new = segment_text(original).words[word], segment_text(adversarial).words[word]
    assert is_arabic_word(old) and is_arabic_word(new)
    assert before.count("<del>") == 1 and f"<del>{old}</del>" in before
    assert after.count("<ins>") == 1 and f"<ins>{new}</ins>" in after


def test_a_changed_short_vowel_highlights_its_whole_word() -> None:
    before, after = _diff_html("كَتَبَ الطالبُ", "كُتِبَ الطالبُ")  # he wrote → it was written
    assert before == "<del>كَتَبَ</del> الطالبُ" and after == "<ins>كُتِبَ</ins> الطالبُ"


def test_english_highlights_are_still_words() -> None:
    before, after = _diff_html("a good & <new> film", "a fine & <new> film")
    assert before == "a <del>good</del> &amp; &lt;new&gt; film"
    assert after == "a <ins>fine</ins> &amp; &lt;new&gt; film"


# -- the HTML report in a browser -------------------------------------------------------------------


def test_the_html_report_shows_arabic_examples_right_to_left(
    arabic_report: Report, tmp_path: Path, browser
) -> None:
    from selenium.webdriver.common.by import By

    text, _files = render(arabic_report, "html", plots=False)
    assert 'dir="rtl" lang="ar"' in text and '<html lang="en">' in text
    page = tmp_path / "report.html"
    page.write_text(text, encoding="utf-8")
    browser.get(page.resolve().as_uri())

    def direction(element) -> str:  # noqa: ANN001 - a selenium WebElement
        return browser.execute_script("return getComputedStyle(arguments[0]).direction", element)

    assert direction(browser.find_element(By.TAG_NAME, "body")) == "ltr"  # the page chrome stays LTR
    assert direction(browser.find_element(By.CSS_SELECTOR, "section#answers")) == "ltr"
    texts = browser.find_elements(By.CSS_SELECTOR, "section#examples .example .text")
    assert texts and len(texts) % 2 == 0
    for element in texts:
        assert direction(element) == "rtl" and element.get_attribute("lang") == "ar"
    # Only bert-ar's textfooler run flips example 0: جميلٌ → حسنٌ, tanwin included in the highlight.
    examples = browser.find_elements(By.CSS_SELECTOR, "section#examples .example")
    (first,) = [
        x for x in examples if x.find_element(By.TAG_NAME, "div").get_attribute("textContent")[:3] == "#0 "
    ]
    (deleted,) = first.find_elements(By.CSS_SELECTOR, ".text.original del")
    (inserted,) = first.find_elements(By.CSS_SELECTOR, ".text.adversarial ins")
    assert deleted.get_attribute("textContent") == "جميلٌ"
    assert inserted.get_attribute("textContent") == "حسنٌ"
    label = first.find_element(By.TAG_NAME, "bdi").get_attribute("textContent")
    assert label == "إيجابي"
    browser.execute_script("arguments[0].scrollIntoView()", first)  # the screenshot shows the examples
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    shot = tmp_path / "arabic-report.png"
    browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


# -- the Arabic human-evaluation kit --------------------------------------------------------------


def test_the_arabic_rating_sheet_is_right_to_left_with_arabic_instructions(
    arabic_store: Path, tmp_path: Path, browser
) -> None:
    from selenium.webdriver.common.by import By

    with Store(arabic_store) as store:
        run = next(
            r.id for r in store.runs() if r.parameters.victim == BERT and r.parameters.recipe == "textfooler"
        )
        kit = export_kit(store, run, tmp_path / "kit", n=5, raters=2)
    assert kit.language == "ar"
    sheet = kit.sheets[0].with_suffix(".html")
    assert sheet.read_text(encoding="utf-8").startswith('<!DOCTYPE html><html lang="ar" dir="rtl">')
    browser.get(sheet.resolve().as_uri())
    root = browser.find_element(By.TAG_NAME, "html")
    assert browser.execute_script("return getComputedStyle(document.documentElement).direction") == "rtl"
    assert root.get_attribute("lang") == "ar"
    body = browser.find_element(By.TAG_NAME, "body").get_attribute("textContent")
    assert "يعرض كل سطر نصّين قصيرين" in body and "إيجابي" in body
    assert INSTRUCTIONS_AR.split(":")[0] in body and "adversarial" not in body.lower()
    headers = [th.get_attribute("textContent") for th in browser.find_elements(By.CSS_SELECTOR, "thead th")]
    assert headers == [f"{caption}{key}" for key, caption in CAPTIONS_AR.items()]  # caption, then its key
    cells = browser.find_elements(By.CSS_SELECTOR, "tbody td:nth-child(2)")
    assert len(cells) == 5
    assert all(
        browser.execute_script("return getComputedStyle(arguments[0]).direction", c) == "rtl" for c in cells
    )
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    shot = tmp_path / "arabic-sheet.png"
    browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    readme = (kit.directory / "README.txt").read_text(encoding="utf-8")
    assert "Each row shows two short texts" in readme and "يعرض كل سطر" in readme


def test_arabic_csv_sheets_have_a_bom_and_come_back_with_or_without_it(
    arabic_store: Path, tmp_path: Path
) -> None:
    with Store(arabic_store) as store:
        run = next(
            r.id for r in store.runs() if r.parameters.victim == BERT and r.parameters.recipe == "textfooler"
        )
        kit = export_kit(store, run, tmp_path / "kit", n=4, raters=2)
    key = json.loads((kit.directory / "key.json").read_text(encoding="utf-8"))
    items = {item["item"]: item for item in key["items"]}
    assert all(any(is_arabic_word(w) for w in segment_text(i["text_a"]).words) for i in key["items"])
    # The first rater saves as "CSV UTF-8" (byte-order mark kept); the second in a locale whose list
    # separator is a semicolon, without the mark.
    for sheet, encoding, delimiter in zip(kit.sheets, ("utf-8-sig", "utf-8"), (",", ";"), strict=True):
        raw = sheet.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and not raw.startswith(b"\xef\xbb\xbf" * 2)
        rows = list(csv.DictReader(sheet.open(encoding="utf-8-sig", newline="")))
        assert list(rows[0]) == ["item", "text_a", "text_b", "grammar_a", "grammar_b", "meaning", "label_a",
                                 "label_b"]  # fmt: skip
        for row in rows:  # the adversarial text keeps the gold label; grammar 3 against 5
            item = items[row["item"]]
            adversarial, original = item["adversarial"], "b" if item["adversarial"] == "a" else "a"
            row[f"grammar_{adversarial}"], row[f"grammar_{original}"], row["meaning"] = "3", "5", "4"
            row[f"label_{adversarial}"] = row[f"label_{original}"] = item["gold"]
        with sheet.open("w", encoding=encoding, newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
            writer.writeheader()
            writer.writerows(rows)
    assert kit.sheets[0].read_bytes().startswith(b"\xef\xbb\xbf")
    assert not kit.sheets[1].read_bytes().startswith(b"\xef\xbb\xbf")
    ratings = read_ratings(kit.sheets, key)
    assert len(ratings) == 8 and {r["label_a"] for r in ratings} <= set(LABELS)
    summary = summarize_ratings(ratings, key)
    assert (
        summary["grammar_adversarial"] == 3 and summary["grammar_original"] == 5 and summary["meaning"] == 4
    )
    assert summary["validated_success_rate"] == 1.0 and summary["items"] == 4 and summary["raters"] == 2


# -- the new answers, by hand ---------------------------------------------------------------------


def test_the_victim_receiving_most_transferred_attacks_pools_its_column(arabic_report: Report) -> None:
    answer = answer_for(arabic_report, "receives_most", "textfooler")
    # bert-ar's column: 3 of 4 from cnn-ar and 1 of 2 from lstm-ar; cnn-ar's 2 of 8; lstm-ar's 2 of 12.
    assert answer.startswith("textfooler on arsent: bert-ar, fooled by 66.7 % [")
    assert "of the 6 transferred examples it had right (made against cnn-ar, lstm-ar)" in answer
    low, high = (float(x) for x in answer.split("[")[1].split("]")[0].split(", "))
    assert low < 66.7 < high
    assert "pwws" not in arabic_report.answers["receives_most"]  # no transfer of pwws


def test_bert_against_word_victims_yes_no_and_not_distinguishable(arabic_report: Report) -> None:
    yes = answer_for(arabic_report, "transformer_vs_word", "textfooler")
    assert yes.startswith("textfooler on arsent/test (first 10): yes: accuracy under attack of")
    assert "accuracy under attack of bert-ar minus that of cnn-ar, lstm-ar, -70.0 points [" in yes
    high = float(yes.split("[")[1].split("]")[0].split(", ")[1])
    assert high < 0 and "over 10 paired examples" in yes
    no = answer_for(arabic_report, "transformer_vs_word", "bae")
    assert (
        no.startswith("bae on arsent/test (first 10): no, the word victims are more susceptible:")
        and "+50.0 points [" in no
    )
    unclear = answer_for(arabic_report, "transformer_vs_word", "pwws")
    assert "not distinguishable (interval includes 0)" in unclear and "+0.0 points [" in unclear
    low, high = (float(x) for x in unclear.split("[")[1].split("]")[0].split(", "))
    assert low < 0 < high


def test_no_bert_against_word_answer_without_both_kinds(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        add_run(store, CNN, "textfooler", {0})
        add_run(store, LSTM, "textfooler", {1})
        assert "transformer_vs_word" not in build_report(store).answers


def test_the_defense_answer_says_whether_it_regains_two_points_and_its_interval_is_above_zero(
    tmp_path: Path,
) -> None:
    n = 50
    with Store(tmp_path / "s.sqlite") as store:
        base_run = add_run(store, CNN, "textfooler", range(30), n=n)
        for name, survived in (("one-more", range(31)), ("twenty-more", range(50)), ("same", range(30))):
            defended = VictimInfo("wordcnn", f"/victims/{name}", f"f-{name}")
            defended_run = add_run(store, defended, "textfooler", survived, n=n)
            info = DefenseInfo(name, {}, CNN, defended, "arsent", train_seconds=1.0)
            store.add_defense(info, [(base_run, "base"), (defended_run, "defended")])
        answer = build_report(store).answers["defense_regains"]
    parts = dict(part.split(" on cnn-ar: ") for part in answer.split("; "))
    assert parts["one-more"].startswith("clean +0.0 points [+0.0, +0.0], under textfooler +2.0 points [")
    assert parts["one-more"].endswith("(regains ≥ 2 points: yes, interval above 0: no)")  # 1 of 50 examples
    assert "under textfooler +40.0 points [" in parts["twenty-more"]
    assert parts["twenty-more"].endswith("(regains ≥ 2 points: yes, interval above 0: yes)")
    same = "under textfooler +0.0 points [+0.0, +0.0] (regains ≥ 2 points: no, interval above 0: no)"
    assert parts["same"].endswith(same)


# -- the new answers in every format --------------------------------------------------------------


def test_the_new_answers_are_rendered_in_every_format(
    arabic_store: Path, arabic_report: Report, capsys
) -> None:
    from textrobust.cli import main

    new = ("receives_most", "transformer_vs_word")
    markdown, _ = render(arabic_report, "md", plots=False)
    page, _ = render(arabic_report, "html", plots=False)
    records = json.loads(render(arabic_report, "json")[0])
    assert main(["leaderboard", "--store", str(arabic_store)]) == 0
    terminal = capsys.readouterr().out
    for key in new:
        title, answer = ANSWER_TITLES[key], arabic_report.answers[key]
        assert f"- **{title}** {answer}" in markdown
        assert f"<li><b>{title}</b> {answer}</li>" in page
        assert records["answers"][key] == answer
        assert f"{title} {answer}" in terminal
